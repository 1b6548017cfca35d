"""ISO weeks in the team's time zone (template parameter ``TeamTimeZone``, default Europe/Berlin).

A week runs from Monday 00:00 to the next Monday 00:00 *local* time, so a post published on Sunday
at 23:30 in Berlin belongs to that week even though it is already Monday in UTC... and a post at
Monday 00:30 Berlin (Sunday 23:30 UTC) belongs to the new one. Daylight saving makes some weeks
167 or 169 hours long; the bounds are computed from local midnights, never by adding 7 × 24 h."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Europe/Berlin"
_LABEL = re.compile(r"(\d{4})-W(\d{2})")


@cache
def team_zone(name: str = DEFAULT_TIME_ZONE) -> ZoneInfo:
    """The IANA zone by name; a ValueError naming it when it does not exist."""
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"{name!r} is not a time zone name such as Europe/Berlin.") from error


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError as error:
            raise ValueError(f"{self.year} has no ISO week {self.week}.") from error

    @classmethod
    def parse(cls, label: str) -> "IsoWeek":
        """ "2026-W48" → IsoWeek(2026, 48); a ValueError saying what is wrong otherwise."""
        match = _LABEL.fullmatch(label.strip())
        if not match:
            raise ValueError(f"{label!r} is not an ISO week: write it as yyyy-Www, for example 2026-W48.")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, moment: datetime, zone: ZoneInfo) -> "IsoWeek":
        """The week a moment falls in, by the team's local calendar."""
        year, week, _ = moment.astimezone(zone).isocalendar()
        return cls(year, week)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(7)]

    def start(self, zone: ZoneInfo) -> datetime:
        """Monday 00:00 local, as UTC."""
        return datetime.combine(self.monday, time(0), zone).astimezone(UTC)

    def end(self, zone: ZoneInfo) -> datetime:
        """The next Monday 00:00 local, as UTC (exclusive)."""
        return self.next().start(zone)

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        return self.start(zone) <= moment < self.end(zone)

    def previous(self) -> "IsoWeek":
        year, week, _ = (self.monday - timedelta(days=7)).isocalendar()
        return IsoWeek(year, week)

    def next(self) -> "IsoWeek":
        year, week, _ = (self.monday + timedelta(days=7)).isocalendar()
        return IsoWeek(year, week)

    def back(self, count: int) -> list["IsoWeek"]:
        """This week and the ``count - 1`` before it, oldest first."""
        weeks = [self]
        while len(weeks) < count:
            weeks.insert(0, weeks[0].previous())
        return weeks

    def local_time(self, day: int, at: time, zone: ZoneInfo) -> datetime:
        """A local time on day ``day`` (1 = Monday) of this week, as UTC: the digest's Monday 09:00."""
        return datetime.combine(self.monday + timedelta(days=day - 1), at, zone).astimezone(UTC)
