"""What a pilot found, in numbers and in plain words: each slot's figure, the comparison, the
verdict, the recommendation, and the slots that are missing (reported, never filled in)."""

from greenlight.base import Model
from greenlight.metrics.figures import channel_label
from greenlight.pilots.analysis import Analysis, NotComparable, Slot, analyse
from greenlight.pilots.plan import PilotPlan, variant_name
from greenlight.pilots.verdict import Verdict, VerdictWord, decide


class SlotFigure(Model):
    """One slot on one channel as the verdict saw it."""

    block: int
    variant: int
    channel: str
    published_at: str = ""
    value: float | None = None  # the primary metric (a share) at the plan's post age
    shown: str = ""  # the value in its words ("2.34%", "23.4 per 1,000 followers")
    note: str = ""  # why there is no value: never filled in


class PilotOutcome(Model):
    """What the pilot found, stored once on the request (`PILOT`) and shown in the report."""

    verdict: Verdict | None  # None when the slots could not be compared at all
    analysis: Analysis | None
    headline: str
    recommendation: str
    frequentist: str
    not_comparable: str = ""
    figures: list[SlotFigure]
    missing: list[str]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0%}"


def outcome(pilot: PilotPlan, figures: list[SlotFigure], channels: list[str]) -> PilotOutcome:
    missing = [
        f"Block {f.block + 1}, {variant_name(f.variant)} on {channel_label(f.channel)}: {f.note}"
        for f in figures
        if f.value is None
    ]
    # A block is one day's slots on one channel: the channels' different rates stay apart.
    slots = [
        Slot(
            block=f.block * len(channels) + channels.index(f.channel),
            variant=f.variant,
            value=f.value,
            note=f.note,
        )
        for f in figures
    ]
    try:
        analysis = analyse(slots, len(pilot.variants))
    except NotComparable as why:
        return PilotOutcome(
            verdict=None,
            analysis=None,
            headline=f"No clear difference: the slots that were measured cannot be compared ({why}).",
            recommendation="Keep the control (A). Run more blocks if the question still matters.",
            frequentist="",
            not_comparable=str(why),
            figures=figures,
            missing=missing,
        )
    verdict = decide(analysis, pilot.thresholds)
    best = analysis.variants[verdict.variant]
    name = variant_name(verdict.variant)
    interval = f"{_percent(best.low)} to {_percent(best.high)}"
    if verdict.word is VerdictWord.winner and verdict.variant != 0:
        headline = (
            f"Winner: {name}, with {verdict.p_best:.0%} probability to be the best. Against the control it "
            f"did {_percent(best.uplift)} (95 % credible interval {interval})."
        )
        recommendation = f"Roll out {name}."
    elif verdict.word is VerdictWord.winner:
        headline = f"Winner: the control (A), with {verdict.p_best:.0%} probability to be the best."
        recommendation = "Keep the control (A): no variant beat it."
    elif verdict.word is VerdictWord.leaning:
        headline = (
            f"Leaning towards {name} ({verdict.p_best:.0%} probability to be the best), short of a winner: "
            + "; ".join(verdict.reasons)
            + "."
        )
        recommendation = "Keep the control (A) for now, or run more blocks to settle it."
    else:
        headline = (
            "No clear difference: what was measured is within what noise produces at this size. "
            f"{pilot.detectable.statement.split('. ')[0]}."
        )
        recommendation = "Keep the control (A). A smaller difference would need many more blocks."
    frequentist = (
        f"Analysis of variance within blocks: F = {analysis.f_statistic:.2f} on "
        f"{len([v for v in analysis.variants if v.expected_loss is not None]) - 1} and {analysis.df} "
        f"degrees of freedom, p = {analysis.p_value:.3f}."
    )
    return PilotOutcome(
        verdict=verdict,
        analysis=analysis,
        headline=headline,
        recommendation=recommendation,
        frequentist=frequentist,
        figures=figures,
        missing=missing,
    )
