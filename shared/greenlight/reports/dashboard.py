"""What the dashboard shows of what worked: a calendar of scheduled and published posts (a week or a
month, in the team's time zone), each published request's result, and where the charts of the last
weeks are (PNG, drawn and served by the weekly report's function: no JavaScript, no CDN).

No figure is computed here: the charts are ``week_figures`` drawn by the report function, and a
result is the stored ``RESULT`` (``metrics.results.goal_result``)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from greenlight.models import RequestStatus, StoredRequest
from greenlight.reports.weeks import IsoWeek

SCHEDULED = (RequestStatus.approved, RequestStatus.publishing)
PUBLISHED = (RequestStatus.published, RequestStatus.partially_published)
CHART_ALT = {
    "posts": "Bar chart: posts published per week, the last six weeks (numbers in the weekly report).",
    "engagements": "Bar chart: engagements per week, the last six weeks (numbers in the weekly report).",
    "clicks": "Bar chart: tracked-link clicks per week, the last six weeks (numbers in the weekly report).",
}


@dataclass(frozen=True)
class Entry:
    request_id: str
    title: str
    channels: str
    at: datetime  # local time
    published: bool
    result: str  # "goal met", "goal missed", "not measurable", "result pending", or "" if scheduled


@dataclass
class Day:
    day: date
    in_range: bool  # False for the days of a month view's first and last week outside the month
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Calendar:
    view: str  # week or month
    title: str
    weeks: list[list[Day]]
    previous: str  # the ?calendar=…&at=… of the period before and after
    following: str


def _entries(requests: Sequence[StoredRequest], results: dict[str, str], zone: ZoneInfo) -> list[Entry]:
    found = []
    for stored in requests:
        if stored.plan is None or stored.status not in (*SCHEDULED, *PUBLISHED):
            continue
        published = stored.status in PUBLISHED
        found.append(
            Entry(
                request_id=stored.id,
                title=stored.request.title,
                channels=", ".join(stored.plan.channels),
                at=stored.plan.publish_time.astimezone(zone),
                published=published,
                result=results.get(stored.id, "result pending") if published else "",
            )
        )
    return sorted(found, key=lambda e: e.at)


def calendar(
    requests: Sequence[StoredRequest],
    results: dict[str, str],
    *,
    view: str,
    around: date,
    zone: ZoneInfo,
) -> Calendar:
    """The week (Monday to Sunday) or the month (its weeks, Monday first) around a local day."""
    entries = _entries(requests, results, zone)
    if view == "week":
        week = IsoWeek(*around.isocalendar()[:2])
        days = [Day(d, True) for d in week.days()]
        title = f"Week {week.label}"
        before, after = week.monday - timedelta(days=7), week.monday + timedelta(days=7)
    else:
        view = "month"
        first = around.replace(day=1)
        following_month = (first + timedelta(days=32)).replace(day=1)
        start = first - timedelta(days=first.weekday())
        days = []
        day = start
        while day < following_month or day.weekday() != 0:
            days.append(Day(day, first <= day < following_month))
            day += timedelta(days=1)
        title = f"{first:%B %Y}"
        before, after = (first - timedelta(days=1)).replace(day=1), following_month
    by_day = {d.day: d for d in days}
    for entry in entries:
        if entry.at.date() in by_day:
            by_day[entry.at.date()].entries.append(entry)
    return Calendar(
        view=view,
        title=title,
        weeks=[days[i : i + 7] for i in range(0, len(days), 7)],
        previous=f"calendar={view}&at={before.isoformat()}",
        following=f"calendar={view}&at={after.isoformat()}",
    )


def last_week(now: datetime, zone: ZoneInfo) -> str:
    """The latest complete week, whose charts the dashboard shows."""
    return IsoWeek.of(now, zone).previous().label
