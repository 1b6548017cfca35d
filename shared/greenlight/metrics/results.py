"""The result against the request's own goal, per channel and together, and the 24-hour pace.

The goal is the requester's (``Goal``: one metric, one target), read at the last snapshot age.
Each channel gets a verdict: met (actual ≥ target), not met, or not measurable, with the actual
value, the target and by how much. "Together" adds counts across channels; a rate is recomputed
from the summed numerators and denominators, and only when every channel's rate is of the same
kind (engagements ÷ impressions and engagements per 1,000 followers are different figures).
docs/measurement.md ("Results" and "On track") has the rules and the reasons.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import median

from pydantic import BaseModel, ConfigDict, Field

from greenlight.metrics.ages import Age
from greenlight.metrics.figures import (
    Rate,
    RateKind,
    Snapshot,
    SnapshotStatus,
    channel_label,
    format_rate,
    measurable,
)
from greenlight.models import Goal, GoalMetric

TOGETHER = "together"
DAY = 86400
# Share of a post's final count typically reached by 24 h, used when the team has too little history.
# Social posts get most of their engagement in the first day; 0.75 is deliberately cautious (a post
# needs three quarters of its target by 24 h to be called on track).
DEFAULT_SHARE_BY_24H = 0.75
MIN_HISTORY = 5  # posts with a 24 h and a final reading before the team's own share is used

METRIC_NAMES = {
    GoalMetric.engagements: "engagements",
    GoalMetric.clicks: "clicks",
    GoalMetric.impressions: "impressions",
    GoalMetric.followers: "followers gained",
    GoalMetric.engagement_rate: "engagement rate",
}
# Counts that never go down: a sum over some channels is a lower bound of the sum over all.
NEVER_NEGATIVE = (GoalMetric.engagements, GoalMetric.clicks, GoalMetric.impressions)


class FollowerCounts(BaseModel):
    """An account's followers at publish time and at the last snapshot age (account snapshots)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    at_publish: int = Field(ge=0)
    at_end: int = Field(ge=0)

    @property
    def gained(self) -> int:
        return self.at_end - self.at_publish


class Verdict(StrEnum):
    met = "met"
    not_met = "not_met"
    not_measurable = "not_measurable"


class Outcome(BaseModel):
    """The goal on one channel (``scope`` is its id) or on all of them (``scope == "together"``)."""

    model_config = ConfigDict(frozen=True)

    scope: str
    metric: GoalMetric
    verdict: Verdict
    target: float
    actual: float | None = None
    difference: float | None = None  # actual − target
    relative: float | None = None  # difference ÷ target: +0.2 is 20 % above the target
    rate_kind: RateKind | None = None  # engagement_rate only: what the numbers mean
    partial: bool = False  # together, over some channels only (still a sure "met": see reason)
    reason: str = ""

    def format_value(self, value: float) -> str:
        if self.metric is GoalMetric.engagement_rate:
            return format_rate(self.rate_kind or RateKind.per_impression, value)
        return f"{value:,.0f} {METRIC_NAMES[self.metric]}"

    def format_difference(self) -> str:
        if self.difference is None or self.relative is None:
            return ""
        sign = "+" if self.difference >= 0 else "−"
        size = abs(self.difference)
        if self.metric is GoalMetric.engagement_rate:
            if self.rate_kind is RateKind.per_1000_followers:
                amount = f"{sign}{size * 1000:.1f} per 1,000 followers"
            else:
                amount = f"{sign}{size * 100:.2f} percentage points"
        else:
            amount = f"{sign}{size:,.0f}"
        return f"{amount}, {sign}{abs(self.relative) * 100:.0f}%"

    def summary(self) -> str:
        """One sentence: "Met: 1,200 engagements against a target of 1,000 engagements (+200, +20%)." """
        if self.verdict is Verdict.not_measurable or self.actual is None:
            return f"Not measurable: {self.reason}"
        word = "Met" if self.verdict is Verdict.met else "Not met"
        at_least = "at least " if self.partial else ""
        text = (
            f"{word}: {at_least}{self.format_value(self.actual)} against a target of "
            f"{self.format_value(self.target)} ({self.format_difference()})."
        )
        return f"{text} {self.reason}" if self.reason else text


class GoalResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    goal: Goal
    age_label: str
    channels: list[Outcome]
    together: Outcome


@dataclass(frozen=True)
class _Reading:
    """One channel's figure for the goal metric, or why there is none."""

    channel: str
    value: float | None = None
    rate: Rate | None = None
    why_not: str = ""


def _reading(
    metric: GoalMetric,
    channel: str,
    snapshot: Snapshot | None,
    followers: FollowerCounts | None,
    age_label: str,
    clicks_tracked: bool,
) -> _Reading:
    name = channel_label(channel)
    can = measurable(metric, channel, clicks_tracked=clicks_tracked)
    if not can.ok:
        return _Reading(channel, why_not=can.explanation)
    if metric is GoalMetric.followers:
        if followers is None:
            return _Reading(
                channel, why_not=f"No follower counts for {name} at publish time and at {age_label}."
            )
        return _Reading(channel, value=followers.gained)
    if snapshot is None:
        return _Reading(channel, why_not=f"There is no {age_label} snapshot for {name}.")
    if snapshot.status is SnapshotStatus.missed:
        note = f" ({snapshot.note})" if snapshot.note else ""
        return _Reading(channel, why_not=f"The {age_label} snapshot on {name} was missed{note}.")
    if snapshot.status is SnapshotStatus.deleted:
        return _Reading(channel, why_not=f"The post on {name} was deleted before {age_label}.")
    if metric is GoalMetric.engagement_rate:
        rate = snapshot.rate
        if rate is None:
            return _Reading(
                channel, why_not=f"{name} has no impressions or follower count at publish time to divide by."
            )
        return _Reading(channel, value=rate.value, rate=rate)
    count = {
        GoalMetric.engagements: snapshot.engagements,
        GoalMetric.clicks: snapshot.clicks,
        GoalMetric.impressions: snapshot.impressions,
    }[metric]
    if count is None:
        return _Reading(channel, why_not=f"No {METRIC_NAMES[metric]} were recorded for {name}.")
    return _Reading(channel, value=count)


def _outcome(
    scope: str,
    metric: GoalMetric,
    target: float,
    actual: float | None,
    *,
    threshold: float | None = None,
    rate_kind: RateKind | None = None,
    partial: bool = False,
    reason: str = "",
) -> Outcome:
    if actual is None:
        return Outcome(
            scope=scope, metric=metric, verdict=Verdict.not_measurable, target=target, reason=reason
        )
    difference = actual - target
    bar = target if threshold is None else threshold
    # A rate of exactly the target (2/100 against 0.02) meets it, whatever floating point says.
    met = actual >= bar or math.isclose(actual, bar, rel_tol=1e-9)
    return Outcome(
        scope=scope,
        metric=metric,
        verdict=Verdict.met if met else Verdict.not_met,
        target=target,
        actual=actual,
        difference=difference,
        relative=difference / target,
        rate_kind=rate_kind,
        partial=partial,
        reason=reason,
    )


def _names(readings: Sequence[_Reading]) -> str:
    return ", ".join(channel_label(r.channel) for r in readings)


def _together(metric: GoalMetric, target: float, readings: Sequence[_Reading]) -> Outcome:
    measured = [r for r in readings if r.value is not None]
    missing = [r for r in readings if r.value is None]
    if not measured:
        return _outcome(TOGETHER, metric, target, None, reason="It could not be measured on any channel.")
    if metric is GoalMetric.engagement_rate:
        if missing:
            return _outcome(
                TOGETHER,
                metric,
                target,
                None,
                reason=f"No rate for {_names(missing)}, "
                "and a rate over some channels says nothing about all of them.",
            )
        rates = [r.rate for r in measured if r.rate is not None]
        kinds = {rate.kind for rate in rates}
        if len(kinds) > 1:
            by_kind = "; ".join(f"{channel_label(r.channel)}: {r.rate.label}" for r in measured if r.rate)
            return _outcome(
                TOGETHER,
                metric,
                target,
                None,
                reason=f"The channels' rates mean different things ({by_kind}), "
                "so they are shown per channel only.",
            )
        summed = Rate(
            kind=rates[0].kind,
            engagements=sum(rate.engagements for rate in rates),
            denominator=sum(rate.denominator for rate in rates),
        )
        return _outcome(TOGETHER, metric, target, summed.value, rate_kind=summed.kind)
    total = sum(r.value for r in measured if r.value is not None)
    if not missing:
        return _outcome(TOGETHER, metric, target, total)
    if metric in NEVER_NEGATIVE and total >= target:
        return _outcome(
            TOGETHER,
            metric,
            target,
            total,
            partial=True,
            reason=f"{_names(missing)} could not be counted; the others already reach the target.",
        )
    return _outcome(
        TOGETHER,
        metric,
        target,
        None,
        reason=f"{_names(missing)} could not be counted, and {_names(measured)} alone "
        f"({total:,.0f}) do not show whether the target was reached.",
    )


def _by_channel(snapshots: Sequence[Snapshot], age: Age) -> dict[str, Snapshot]:
    found: dict[str, Snapshot] = {}
    for snapshot in snapshots:
        if snapshot.age_seconds == age.seconds:
            if snapshot.channel in found:
                raise ValueError(f"Two {age.label} snapshots for {snapshot.channel}.")
            found[snapshot.channel] = snapshot
    return found


def goal_result(
    *,
    goal: Goal,
    age: Age,
    channels: Sequence[str],
    snapshots: Sequence[Snapshot],
    followers: Sequence[FollowerCounts] = (),
    clicks_tracked: bool | Mapping[str, bool] = True,
) -> GoalResult:
    """The goal at the last snapshot ``age`` on each channel the post went out on, and together.

    ``snapshots`` may hold every age; only those at ``age`` are read. ``followers`` (account
    snapshots) are only needed for a followers goal. ``clicks_tracked`` is one answer for every
    channel, or one per channel (a channel missing from the mapping had no tracked link)."""
    at_age = _by_channel(snapshots, age)
    follower_counts = {f.channel: f for f in followers}
    readings = [
        _reading(
            goal.metric,
            c,
            at_age.get(c),
            follower_counts.get(c),
            age.label,
            clicks_tracked if isinstance(clicks_tracked, bool) else clicks_tracked.get(c, False),
        )
        for c in dict.fromkeys(channels)
    ]
    outcomes = [
        _outcome(
            r.channel,
            goal.metric,
            goal.target,
            r.value,
            rate_kind=r.rate.kind if r.rate else None,
            reason=r.why_not,
        )
        for r in readings
    ]
    return GoalResult(
        goal=goal,
        age_label=age.label,
        channels=outcomes,
        together=_together(goal.metric, goal.target, readings),
    )


def curve(
    *,
    metric: GoalMetric,
    channel: str,
    ages: Sequence[Age],
    snapshots: Sequence[Snapshot],
    followers: Sequence[tuple[Age, FollowerCounts]] = (),
    clicks_tracked: bool = True,
) -> list[tuple[str, float | None]]:
    """One channel's goal metric at each planned age, for ``charts.line_chart``: (age label, value),
    None where the snapshot is missing, missed or deleted or the metric cannot be measured. Read by
    the same rules as the result, so the chart and the verdict never disagree."""
    mine = [s for s in snapshots if s.channel == channel]
    counts = {a.seconds: f for a, f in followers if f.channel == channel}
    points: list[tuple[str, float | None]] = []
    for age in sorted(ages):
        at_age = _by_channel(mine, age).get(channel)
        reading = _reading(metric, channel, at_age, counts.get(age.seconds), age.label, clicks_tracked)
        points.append((age.label, reading.value))
    return points


# ---- the 24-hour status -------------------------------------------------------------------------


class PaceStatus(StrEnum):
    on_track = "on_track"
    behind = "behind"
    too_early = "too_early"
    not_measurable = "not_measurable"


class Pace(BaseModel):
    model_config = ConfigDict(frozen=True)

    scope: str
    status: PaceStatus
    value: float | None = None  # the goal metric at 24 h
    expected: float | None = None  # what an on-track post has by 24 h
    share: float  # share of the final value expected by 24 h (not applied to rates by impressions)
    share_from_history: bool
    reason: str = ""


class PaceReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    goal: Goal
    channels: list[Pace]
    together: Pace


def typical_share_by_24h(
    history: Sequence[tuple[float, float]], *, minimum: int = MIN_HISTORY
) -> float | None:
    """From the team's past posts, (value at 24 h, value at the last age) pairs for one metric: the
    median share reached by 24 h, or None with fewer than ``minimum`` usable posts (final > 0).
    The median, because one post that kept spreading for a week must not set the bar for all."""
    shares = [min(max(day / final, 0.0), 1.0) for day, final in history if final > 0]
    if len(shares) < minimum:
        return None
    share = median(shares)
    return share if share > 0 else None


def _pace(
    scope: str, outcome: Outcome, share: float, from_history: bool, scaled: bool, expected: float
) -> Pace:
    if outcome.verdict is Verdict.not_measurable:
        return Pace(
            scope=scope,
            status=PaceStatus.not_measurable,
            share=share,
            share_from_history=from_history,
            reason=outcome.reason,
        )
    return Pace(
        scope=scope,
        status=PaceStatus.on_track if outcome.verdict is Verdict.met else PaceStatus.behind,
        value=outcome.actual,
        expected=expected,
        share=share,
        share_from_history=from_history,
        reason="" if scaled else "A rate by impressions settles early: compared with the target itself.",
    )


def on_track(
    *,
    goal: Goal,
    channels: Sequence[str],
    snapshots_at_24h: Sequence[Snapshot],
    followers_at_24h: Sequence[FollowerCounts] = (),
    share_by_24h: float | None = None,
    clicks_tracked: bool = True,
) -> PaceReport:
    """Is the post on its way to its goal, 24 hours after publishing?

    Rule: counts (engagements, clicks, impressions, followers gained) and engagements per 1,000
    followers grow with time, so a post is on track when its 24 h value is at least ``target ×
    share``, where ``share`` is the part of the final value a post typically has by 24 h: the team's
    own (``typical_share_by_24h``) when given, else DEFAULT_SHARE_BY_24H. A rate by impressions grows
    in numerator and denominator together, so it is compared with the target itself. Before a 24 h
    snapshot exists (none given, or only younger ones) the answer is "too early"."""
    share = DEFAULT_SHARE_BY_24H if share_by_24h is None else share_by_24h
    if not 0 < share <= 1:
        raise ValueError(f"A share by 24 h is between 0 and 1, not {share}.")
    from_history = share_by_24h is not None
    day = Age(DAY)
    young = [s for s in snapshots_at_24h if s.age_seconds < DAY]
    if (
        goal.metric is not GoalMetric.followers and not any(s.age_seconds == DAY for s in snapshots_at_24h)
    ) or (goal.metric is GoalMetric.followers and not followers_at_24h):
        why = "The 24 h snapshot has not been taken yet." + (" Only younger ones exist." if young else "")
        early = [
            Pace(
                scope=c, status=PaceStatus.too_early, share=share, share_from_history=from_history, reason=why
            )
            for c in dict.fromkeys(channels)
        ]
        together = Pace(
            scope=TOGETHER,
            status=PaceStatus.too_early,
            share=share,
            share_from_history=from_history,
            reason=why,
        )
        return PaceReport(goal=goal, channels=early, together=together)

    at_day = _by_channel(snapshots_at_24h, day)
    follower_counts = {f.channel: f for f in followers_at_24h}
    readings = [
        _reading(goal.metric, c, at_day.get(c), follower_counts.get(c), day.label, clicks_tracked)
        for c in dict.fromkeys(channels)
    ]

    def scaled(kind: RateKind | None) -> bool:
        return not (goal.metric is GoalMetric.engagement_rate and kind is RateKind.per_impression)

    paces = []
    for r in readings:
        kind = r.rate.kind if r.rate else None
        expected = goal.target * share if scaled(kind) else goal.target
        outcome = _outcome(
            r.channel, goal.metric, goal.target, r.value, threshold=expected, rate_kind=kind, reason=r.why_not
        )
        paces.append(_pace(r.channel, outcome, share, from_history, scaled(kind), expected))
    # Together: the same sums as the final result, against what an on-track post has by 24 h. (A
    # partial sum of counts is a lower bound, so it can still show "on track"; rates are never partial.)
    if goal.metric is GoalMetric.engagement_rate:
        summed = _together(goal.metric, goal.target, readings)
        expected = goal.target * share if scaled(summed.rate_kind) else goal.target
    else:
        expected = goal.target * share
        summed = _together(goal.metric, expected, readings)
    if summed.actual is not None:
        summed = _outcome(
            TOGETHER,
            goal.metric,
            goal.target,
            summed.actual,
            threshold=expected,
            rate_kind=summed.rate_kind,
            partial=summed.partial,
            reason=summed.reason,
        )
    return PaceReport(
        goal=goal,
        channels=paces,
        together=_pace(TOGETHER, summed, share, from_history, scaled(summed.rate_kind), expected),
    )
