"""Team goals: periods in the team's time zone, progress (done, expected, projected), and what
counts as reached; the figures themselves are period_figures (tested with the weekly ones)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from greenlight.reports.goals import Period, TeamGoal, TeamMetric, check, period_end, period_start, progress
from greenlight.reports.weekly import period_figures

BERLIN = ZoneInfo("Europe/Berlin")


def goal(
    metric: TeamMetric = TeamMetric.engagements, target: float = 1000, channel: str | None = None
) -> TeamGoal:
    return TeamGoal(
        id="g1",
        metric=metric,
        target=target,
        period=Period.month,
        starts=date(2026, 11, 1),
        channel=channel,
        set_by="lee@example.org",
        set_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def test_periods_are_months_and_quarters_from_local_midnight() -> None:
    assert period_start(Period.quarter, date(2026, 11, 29)) == date(2026, 10, 1)
    assert period_end(Period.quarter, date(2026, 10, 1)) == date(2027, 1, 1)
    assert period_end(Period.month, date(2026, 12, 1)) == date(2027, 1, 1)
    start, end = goal().bounds(BERLIN)
    assert start == datetime(2026, 10, 31, 23, tzinfo=UTC) and end == datetime(2026, 11, 30, 23, tzinfo=UTC)
    assert goal().period_label == "November 2026"


def test_progress_is_done_expected_by_now_and_projected_at_an_even_pace() -> None:
    g = goal()
    start, end = g.bounds(BERLIN)
    halfway = start + (end - start) / 2
    figures = period_figures("m", start, halfway, requests=[], accounts={}, age_seconds=86400)
    figures = figures.model_copy(update={"engagements": 400})
    found = progress(g, figures, halfway, BERLIN)
    assert (found.done, found.expected, found.projected) == (400, 500, 800)
    assert found.on_track is False and found.status == "behind" and not found.reached
    ahead = progress(g, figures.model_copy(update={"engagements": 1000}), halfway, BERLIN)
    assert ahead.reached and ahead.status == "reached"


def test_a_rate_goal_is_reached_only_when_its_period_is_over() -> None:
    g = goal(TeamMetric.engagement_rate, 0.02, "sandbox")
    start, end = g.bounds(BERLIN)
    figures = period_figures("m", start, end, requests=[], accounts={}, age_seconds=86400)
    assert progress(g, figures, end, BERLIN).status == "not known yet", "no posts: no rate, no guess"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (("likes", "10", "month", ""), "metric"),
        (("engagements", "-3", "month", ""), "target"),
        (("engagements", "ten", "month", ""), "target"),
        (("engagements", "10", "year", ""), "period"),
        (("engagements", "10", "month", "myspace"), "channel"),
        (("engagement_rate", "0.02", "month", ""), "channel"),
        (("engagement_rate", "2", "month", "sandbox"), "target"),
    ],
)
def test_a_bad_goal_is_refused_naming_its_field(fields: tuple[str, str, str, str], field: str) -> None:
    assert field in check(*fields)


def test_a_good_goal_passes() -> None:
    assert check("engagement_rate", "0.02", "quarter", "mastodon") == {}
    assert check("posts_met", "5", "month", "") == {}


def test_the_digest_due_is_last_weeks_from_monday_nine_team_time() -> None:
    from greenlight.reports.digest import due_week
    from greenlight.reports.weeks import IsoWeek

    before = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)  # Monday 08:59 in Berlin
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    assert due_week(at, BERLIN) == (IsoWeek(2026, 48), at)
    week, opened = due_week(before, BERLIN)
    assert week == IsoWeek(2026, 47) and opened == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
