"""A request's goal, channel by channel, in words for the requester and the team: what each chosen
channel can measure (``metrics.figures.measurable``, where the rule lives), what an engagement rate
means there, and what to do when a channel cannot measure the goal.

The decision (docs/measurement.md, "Goals a channel cannot measure"):
- no chosen channel can measure the goal metric: the request is refused (422 naming
  ``goal.metric``), because its result could never be known;
- some cannot: the request is accepted, and the requester (status page, acknowledgement) and the
  team (triage page, dashboard) see a notice saying which channels will not count, before anything
  is published.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from greenlight.metrics.figures import RateKind, channel_label, measurable
from greenlight.models import GoalMetric
from greenlight.networks import NETWORKS

# What a goal is worth switching to, in order, when the chosen one cannot be measured.
ALTERNATIVES = (GoalMetric.engagement_rate, GoalMetric.engagements, GoalMetric.clicks)
WORDS = {
    GoalMetric.engagement_rate: "engagement rate",
    GoalMetric.engagements: "engagements",
    GoalMetric.clicks: "clicks",
    GoalMetric.impressions: "impressions",
    GoalMetric.followers: "new followers",
}
# What a network that cannot measure a metric does not count.
NOT_COUNTED = {GoalMetric.impressions: "impressions", GoalMetric.clicks: "clicks without a tracked link"}
RATE_WORDS = {
    RateKind.per_impression: "% of impressions",
    RateKind.per_1000_followers: "engagements per 1,000 followers",
}


@dataclass(frozen=True)
class ChannelGoal:
    """The goal on one channel: whether it can be measured there, and the target in its words."""

    channel: str
    label: str
    ok: bool
    explanation: str
    target: str  # "2.00% of impressions", "20.0 engagements per 1,000 followers", "300 clicks"


def rate_words(kind: RateKind) -> str:
    return RATE_WORDS[kind]


def rate_target(kind: RateKind, value: float) -> str:
    """A rate target (a share, 0.02) in a channel's words."""
    if kind is RateKind.per_impression:
        return f"{value * 100:.2f}% of impressions"
    return f"{value * 1000:.1f} engagements per 1,000 followers"


def by_channel(
    metric: GoalMetric | str, target: float, channels: Iterable[str], *, clicks_tracked: bool = True
) -> list[ChannelGoal]:
    goal = GoalMetric(metric)
    found = []
    for channel in channels:
        check = measurable(goal, channel, clicks_tracked=clicks_tracked)
        if check.rate_kind is not None:
            words = rate_target(check.rate_kind, target)
        else:
            words = f"{target:,.0f} {WORDS[goal]}"
        found.append(
            ChannelGoal(
                channel=channel,
                label=channel_label(channel),
                ok=check.ok,
                explanation=check.explanation,
                target=words if check.ok else "cannot be measured here",
            )
        )
    return found


def _and(words: list[str], conjunction: str = "and") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _cannot(goal: GoalMetric, labels: list[str]) -> str:
    verb = "does" if len(labels) == 1 else "do"
    return f"{_and(labels)} {verb} not count {NOT_COUNTED.get(goal, WORDS[goal])}"


def _instead(goal: GoalMetric, channels: list[str], clicks_tracked: bool) -> str:
    usable = [
        WORDS[m]
        for m in ALTERNATIVES
        if m is not goal and all(measurable(m, c, clicks_tracked=clicks_tracked) for c in channels)
    ]
    return _and(usable, "or")


def refusal(metric: Any, channels: Any, *, clicks_tracked: bool = True) -> str | None:
    """Why the goal metric cannot be measured on any chosen channel, or None. Takes raw input (the
    form's or the API's): anything not a known metric and a list of known channels is left to the
    model's own messages."""
    try:
        goal = GoalMetric(metric)
    except (ValueError, TypeError):  # TypeError: a list or an object, which cannot be a metric
        return None
    if (
        not isinstance(channels, list)
        or not channels
        or any(not isinstance(c, str) or c not in NETWORKS for c in channels)
    ):
        return None
    if any(measurable(goal, c, clicks_tracked=clicks_tracked) for c in channels):
        return None
    labels = [channel_label(c) for c in dict.fromkeys(channels)]
    return f"{_cannot(goal, labels)}: choose {_instead(goal, channels, clicks_tracked)}."


def goal_error(nested: Mapping[str, Any], *, clicks_tracked: bool = True) -> list[dict[str, str]]:
    """The 422 entry for a request (as the API or the form sends it) whose goal no channel can measure."""
    goal = nested.get("goal")
    metric = goal.get("metric") if isinstance(goal, Mapping) else None
    message = refusal(metric, nested.get("channels"), clicks_tracked=clicks_tracked)
    return [{"field": "goal.metric", "message": message}] if message else []


def notice(metric: GoalMetric | str, channels: list[str], *, clicks_tracked: bool = True) -> str | None:
    """The plain notice for a goal some chosen channels cannot measure (None when all can)."""
    goal = GoalMetric(metric)
    missing = [c for c in channels if not measurable(goal, c, clicks_tracked=clicks_tracked)]
    counted = [channel_label(c) for c in channels if c not in missing]
    if not missing or not counted:
        return None
    labels = [channel_label(c) for c in missing]
    there = "there" if len(missing) == 1 else "on those"
    return (
        f"{_cannot(goal, labels)}, so your {WORDS[goal]} goal cannot be measured {there}: the result "
        f"will count {_and(counted)} only. To measure every channel, choose "
        f"{_instead(goal, channels, clicks_tracked)} instead."
    )


def rate_help() -> str:
    """The form's words for an engagement rate on each network, before any channel is chosen."""
    kinds: dict[RateKind, list[str]] = {}
    for channel in NETWORKS:
        check = measurable(GoalMetric.engagement_rate, channel)
        assert check.rate_kind is not None
        kinds.setdefault(check.rate_kind, []).append(channel_label(channel))
    words = {
        RateKind.per_impression: "a percentage of impressions",
        RateKind.per_1000_followers: "engagements per 1,000 followers",
    }
    parts = [f"{words[kind]} on {_and(labels)}" for kind, labels in kinds.items()]
    return (
        f"An engagement rate is {_and(parts)}: a target of 0.02 reads as 2% of impressions, "
        "or as 20 engagements per 1,000 followers."
    )


@dataclass(frozen=True)
class GoalView:
    """What a page shows about a request's goal: each channel's target in its own words, and the
    notice when some channels cannot measure it."""

    channels: list[ChannelGoal]
    notice: str | None


def view(request: Any) -> GoalView:
    """For a ``RequestInput`` (pages and mail call it as ``goal_view(request)``)."""
    goal, channels = request.goal, list(request.channels)
    return GoalView(
        channels=by_channel(goal.metric, goal.target, channels),
        notice=notice(goal.metric, channels),
    )


def impressions_help() -> str:
    """The form's words for where impressions can be measured."""
    counted = [channel_label(c) for c in NETWORKS if measurable(GoalMetric.impressions, c)]
    if not counted:
        return "No network counts impressions."
    return f"Impressions are counted on {_and(counted)} only."
