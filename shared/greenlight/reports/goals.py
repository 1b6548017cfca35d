"""Team goals: a metric, a target, a month or a quarter (in the team's time zone), all channels or
one; their progress (done so far, expected by now, projected at the period's end: on track or
behind) and when one is reached. "Done" is ``weekly.period_figures`` over the period so far, the
same figures the weekly digest shows (docs/reports.md, "Team goals")."""

from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field

from greenlight.base import Model
from greenlight.metrics.figures import RateKind, channel_label, format_rate, rate_kind
from greenlight.networks import NETWORKS
from greenlight.reports.weekly import WeekFigures


class TeamMetric(StrEnum):
    engagements = "engagements"
    engagement_rate = "engagement_rate"
    clicks = "clicks"
    followers = "followers"  # followers gained in the period
    posts_met = "posts_met"  # posts whose request met its own goal


METRIC_WORDS = {
    TeamMetric.engagements: "engagements",
    TeamMetric.engagement_rate: "engagement rate",
    TeamMetric.clicks: "clicks",
    TeamMetric.followers: "followers gained",
    TeamMetric.posts_met: "posts that met their own goal",
}


class Period(StrEnum):
    month = "month"
    quarter = "quarter"


def period_start(period: Period, day: date) -> date:
    """The first day of the month or quarter ``day`` is in."""
    if period is Period.month:
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_end(period: Period, first: date) -> date:
    """The first day after the period that starts on ``first``."""
    months = 1 if period is Period.month else 3
    month = first.month - 1 + months
    return date(first.year + month // 12, month % 12 + 1, 1)


class TeamGoal(Model):
    id: str
    metric: TeamMetric
    target: float = Field(gt=0)
    period: Period
    starts: date  # the first day of its month or quarter
    channel: str | None = None  # None: all channels together
    set_by: str
    set_at: AwareDatetime
    changed_by: str | None = None  # the last change of its target (all of them: `changes` in the item)
    changed_at: AwareDatetime | None = None
    removed_by: str | None = None  # removed: kept for the record, shown and celebrated no more
    removed_at: AwareDatetime | None = None

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as UTC: local midnights of the period's first day and the day after it."""
        start = datetime.combine(self.starts, time(0), zone)
        end = datetime.combine(period_end(self.period, self.starts), time(0), zone)
        return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))

    def over(self, zone: ZoneInfo, now: datetime) -> bool:
        return now >= self.bounds(zone)[1]

    @property
    def period_label(self) -> str:
        if self.period is Period.month:
            return f"{self.starts:%B %Y}"
        return f"{self.starts.year} Q{(self.starts.month - 1) // 3 + 1}"

    @property
    def scope(self) -> str:
        return "all channels" if self.channel is None else channel_label(self.channel)

    def format(self, value: float) -> str:
        if self.metric is TeamMetric.engagement_rate and self.channel is not None:
            return format_rate(rate_kind(self.channel), value)
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"

    @property
    def summary(self) -> str:
        return f"{self.format(self.target)} {METRIC_WORDS[self.metric]}, {self.scope}, {self.period_label}"


def check(metric: str, target: str, period: str, channel: str) -> dict[str, str]:
    """What is wrong with a goal as typed on the dashboard: field → message (empty when fine)."""
    errors: dict[str, str] = {}
    if metric not in {m.value for m in TeamMetric}:
        errors["metric"] = (
            "Choose a metric: engagements, engagement rate, clicks, followers or posts that met their goal."
        )
    if period not in {p.value for p in Period}:
        errors["period"] = "Choose a month or a quarter."
    if channel and channel not in NETWORKS:
        errors["channel"] = "Choose a channel, or all channels."
    try:
        value = float(target)
        if not 0 < value <= 1e12:  # also NaN and infinity, which the table cannot store
            raise ValueError
    except ValueError:
        errors["target"] = (
            "Enter a target above zero and at most 10^12, such as 5000 (or 0.02 for a 2% rate)."
        )
    else:
        if metric == TeamMetric.engagement_rate and value >= 1:
            errors["target"] = "A rate target is a share below 1: 0.02 for 2%."
    if metric == TeamMetric.engagement_rate and not channel:
        errors["channel"] = (
            "An engagement-rate goal needs one channel: a rate by impressions and one per 1,000 "
            "followers are different figures and are never added up."
        )
    return errors


class Progress(Model):
    goal: TeamGoal
    done: float | None  # None: not known yet (no account snapshot, no rate)
    expected: float  # by now, at an even pace (a rate: the target itself)
    projected: float | None  # at the period's end at the pace so far (a rate: the rate so far)
    elapsed: float  # share of the period gone, 0..1
    over: bool  # the period has ended

    @property
    def on_track(self) -> bool | None:
        if self.projected is None:
            return None
        return self.projected >= self.goal.target

    @property
    def reached(self) -> bool:
        """Counts: as soon as done ≥ target. A rate: only once the period is over (one good post
        early in the month is not a month's rate)."""
        if self.done is None or self.done < self.goal.target:
            return False
        return self.over or self.goal.metric is not TeamMetric.engagement_rate

    @property
    def status(self) -> str:
        if self.reached:
            return "reached"
        if self.on_track is None:
            return "not known yet"
        return "on track" if self.on_track else "behind"


def done_value(goal: TeamGoal, figures: WeekFigures) -> float | None:
    """The goal's metric from the period's figures (computed for its channel, or all)."""
    if goal.metric is TeamMetric.engagements:
        return float(figures.engagements)
    if goal.metric is TeamMetric.clicks:
        return float(figures.clicks)
    if goal.metric is TeamMetric.posts_met:
        return float(figures.goals_met)
    if goal.metric is TeamMetric.followers:
        gained = figures.followers_gained
        return None if gained is None else float(gained)
    kind = rate_kind(goal.channel) if goal.channel else RateKind.per_impression
    rate = figures.rate(kind)
    return rate.value if rate else None


def progress(goal: TeamGoal, figures: WeekFigures, now: datetime, zone: ZoneInfo) -> Progress:
    """``figures`` are ``period_figures`` from the period's start to ``now`` (or its end)."""
    start, end = goal.bounds(zone)
    elapsed = min(max((now - start) / (end - start), 0.0), 1.0)
    done = done_value(goal, figures)
    if goal.metric is TeamMetric.engagement_rate:
        expected, projected = goal.target, done
    else:
        expected = goal.target * elapsed
        projected = None if done is None or elapsed <= 0 else done / elapsed
    return Progress(
        goal=goal, done=done, expected=expected, projected=projected, elapsed=elapsed, over=now >= end
    )
