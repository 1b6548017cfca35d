"""The pilot's report for sceptics: the hypothesis, what ran and when, each variant's numbers, a
chart per channel, the verdict in plain words with its uncertainty, and the recommendation. Mailed
once per person (text and HTML, the chart inline by cid:) to the requester, the triager who
accepted the request and the team leads; the leads' and admins' mail carries their link to decide
(greenlight.pilot_decision)."""

import base64
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from greenlight.metrics.figures import RateKind, channel_label, rate_kind
from greenlight.models import StoredRequest
from greenlight.pilots.plan import LETTERS, PilotPlan, decision_stage, variant_name
from greenlight.storage import Store

if TYPE_CHECKING:
    from greenlight.mail import Mailer
    from greenlight.metrics.mime import InlineImage
    from greenlight.pilots.outcome import PilotOutcome


LINK_LIFETIME = timedelta(days=30)  # the decision link in the report mail


@dataclass(frozen=True)
class VariantRow:
    name: str
    text: str
    measured: int
    missing: int
    uplift: str
    interval: str
    p_best: str
    expected_loss: str


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:+.0%}"


def variant_rows(stored: StoredRequest, pilot: PilotPlan, found: "PilotOutcome") -> list[VariantRow]:
    plan = stored.plan
    control = plan.copy_text.get(plan.channels[0], "") if plan and plan.channels else ""
    rows = []
    for index, text in enumerate(pilot.variants):
        result = found.analysis.variants[index] if found.analysis else None
        measured = sum(1 for f in found.figures if f.variant == index and f.value is not None)
        missing = sum(1 for f in found.figures if f.variant == index and f.value is None)
        rows.append(
            VariantRow(
                name=variant_name(index),
                text=text or control,
                measured=measured,
                missing=missing,
                uplift="control" if index == 0 else _percent(result.uplift if result else None),
                interval=""
                if index == 0 or result is None or result.low is None
                else f"{_percent(result.low)} to {_percent(result.high)}",
                p_best=f"{result.p_best:.0%}" if result else "",
                expected_loss=f"{result.expected_loss:.3f}"
                if result and result.expected_loss is not None
                else "",
            )
        )
    return rows


def charts_for(pilot: PilotPlan, found: "PilotOutcome", channels: list[str]) -> list["InlineImage"]:
    """One bar chart per channel: each variant's median figure at the plan's post age."""
    from greenlight.metrics import charts
    from greenlight.metrics.mime import InlineImage

    images = []
    for channel in channels:
        fmt = charts.percent if rate_kind(channel) is RateKind.per_impression else charts.per_thousand
        bars = []
        for index in range(len(pilot.variants)):
            values = [f.value for f in found.figures if f.channel == channel and f.variant == index]
            measured = [v for v in values if v is not None]
            bars.append((LETTERS[index].upper(), statistics.median(measured) if measured else 0.0))
        label = rate_kind(channel).label
        title = f"{channel_label(channel)}: median {label} at {pilot.age_hours} h, by variant"
        png = charts.bar_chart(bars, title=title, y_label=label, x_label="variant", fmt=fmt)
        alt = f"{title}: " + ", ".join(f"{name} {fmt(value)}" for name, value in bars) + "."
        images.append(InlineImage(png=png, alt=alt, name=f"pilot-{channel}"))
    return images


def round_line(pilot: PilotPlan, found: "PilotOutcome", round_: int) -> str:
    """What a later round's report says first: which round, over which blocks."""
    if round_ == 1:
        return ""
    added = len({f.block for f in found.figures}) - pilot.blocks
    return (
        f"Round {round_} of this pilot: {pilot.blocks} + {added} blocks (the planned ones and those the "
        f"team added after the earlier verdicts); this verdict covers them all. The earlier verdicts "
        f"stay recorded."
    )


def context(stored: StoredRequest, found: "PilotOutcome", round_: int = 1) -> dict[str, Any]:
    plan = stored.plan
    assert plan is not None and plan.pilot_plan is not None
    pilot = plan.pilot_plan
    figures = sorted(found.figures, key=lambda f: (f.block, f.published_at, f.channel))
    return {
        "pilot": pilot,
        "found": found,
        "round": round_,
        "round_line": round_line(pilot, found, round_),
        "variants": variant_rows(stored, pilot, found),
        "figures": [
            {
                "block": f.block + 1,
                "variant": variant_name(f.variant),
                "channel": channel_label(f.channel),
                "published_at": f.published_at[:16].replace("T", " "),
                "figure": f.shown or f.note,
            }
            for f in figures
        ],
    }


def page_context(store: Store, stored: StoredRequest) -> dict[str, Any] | None:
    """What the status page and the team's request page show of a pilot: the plan while it runs,
    then the report with its charts (as data: URIs; mail uses cid:) and the team's decision after
    it. None for a request without one."""
    plan = stored.plan
    if plan is None or plan.pilot_plan is None:
        return None
    record = store.pilot_record(stored.id)
    latest = record.latest
    if latest is None:
        return {"pilot": plan.pilot_plan, "found": None}
    from greenlight.pilots.outcome import PilotOutcome

    round_, recorded = latest
    found = PilotOutcome.model_validate(recorded)
    charts = [
        {"src": "data:image/png;base64," + base64.b64encode(image.png).decode(), "alt": image.alt}
        for image in charts_for(plan.pilot_plan, found, plan.channels)
    ]
    earlier = [
        {
            "round": number,
            "headline": record.verdicts[number].get("headline", ""),
            "decision": record.decisions.get(number),
        }
        for number in sorted(record.verdicts)
        if number < round_
    ]
    running = record.round > round_  # more blocks decided: the next round runs
    return {
        **context(stored, found, round_),
        "charts": charts,
        "decision": record.decisions.get(round_),
        "earlier": earlier,
        "running": running,
    }


def decision_link(store: Store, stored: StoredRequest, person: str, round_: int = 1) -> str:
    """A lead's or an admin's link to decide this pilot after a round's verdict
    (greenlight.pilot_decision)."""
    from greenlight import links
    from greenlight.models import LinkKind

    return links.issue(
        store,
        LinkKind.pilot,
        LINK_LIFETIME,
        stored.id,
        stored.content_version,
        person,
        decision_stage(round_),
    )


def _decides_pilots(store: Store, email: str) -> bool:
    from greenlight import access

    member = store.get_member(email)
    return member is not None and access.may(member, access.Action.decide_pilot)


def mail_report(
    store: Store, mailer: "Mailer", stored: StoredRequest, found: "PilotOutcome", round_: int = 1
) -> int:
    """The round's report, once per person (a later round's mail is a mail of its own)."""
    from greenlight.result_report import mail_each_once

    plan = stored.plan
    assert plan is not None and plan.pilot_plan is not None
    images = charts_for(plan.pilot_plan, found, plan.channels)
    word = found.verdict.word.label if found.verdict else "No clear difference"
    which = "" if round_ == 1 else f", round {round_}"
    subject = f"Pilot result{which} ({word}): {stored.request.title}"
    once = "mail:pilot:" if round_ == 1 else f"mail:pilot:r{round_}:"
    shared = context(stored, found, round_)

    def for_person(email: str) -> dict[str, Any]:
        decide = ""
        if _decides_pilots(store, email):
            decide = f"{stored.base_url}/l/{decision_link(store, stored, email, round_)}"
        return {"decide": decide, **shared}

    return mail_each_once(store, mailer, stored, "pilot", subject, once, images, for_person)
