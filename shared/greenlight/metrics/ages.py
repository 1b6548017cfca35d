"""Post ages: when a post's metric snapshots are due, and whether one taken now is on time.

Networks report counts "now", never "as of": a snapshot only means something at a known post age
(time since publishing), and posts are only compared at the same age. A snapshot that could not be
taken near its age is recorded as missed; it is never filled in from a later or earlier reading.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_AGE = timedelta(days=90)  # networks stop being interesting long before; posts are compared earlier
DEFAULT_AGES = "1h,24h,72h,7d"

# A snapshot is "on time" within this of its due time: the sweep that takes snapshots runs every few
# minutes, so a few minutes of delay are not news. 5 % of the age, at least 5 min, at most 1 h.
ON_TIME_SHARE = 0.05
ON_TIME_MIN = timedelta(minutes=5)
ON_TIME_MAX = timedelta(hours=1)
# Beyond on time but within the grace window it is "late": taken, with its real age recorded. Beyond
# grace it is "missed": counts read then would belong to a different age. 25 % of the age, at least
# 1 h (a short outage must not lose the 1 h snapshot), at most 24 h (a 7 d snapshot taken on day 8
# is a different number).
GRACE_SHARE = 0.25
GRACE_MIN = timedelta(hours=1)
GRACE_MAX = timedelta(hours=24)

_PART = re.compile(r"^(\d+)\s*([a-z])$")


@dataclass(frozen=True, order=True)
class Age:
    """A planned post age. Ordered by length; ``label`` is canonical ("24h" and "1d" are both "24h")."""

    seconds: int

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError(f"A post age must be positive, not {self.seconds} seconds.")

    @property
    def label(self) -> str:
        return format_age(self.seconds)

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return self.label


def format_age(seconds: int) -> str:
    """The team's spelling: hours up to 3 days ("24h", "72h"), whole days beyond ("7d"), minutes
    below an hour or when not whole hours ("30m", "90m"). Labels are canonical: "1d" reads "24h"."""
    if seconds % UNITS["d"] == 0 and seconds > 3 * UNITS["d"]:
        return f"{seconds // UNITS['d']}d"
    if seconds % UNITS["h"] == 0:
        return f"{seconds // UNITS['h']}h"
    if seconds % UNITS["m"] == 0:
        return f"{seconds // UNITS['m']}m"
    return f"{seconds}s"


def format_span(seconds: int) -> str:
    """A real age or a delay as people say it: "25 h 30 min", "1 h", "4 min", "40 s"."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{int(seconds)} s"


def parse_age(text: str) -> Age:
    """One age such as "30m", "24h", "7d", "2w" (minutes, hours, days, weeks)."""
    part = text.strip().lower()
    match = _PART.match(part)
    if not match:
        raise ValueError(
            f"“{text.strip()}” is not a post age: "
            "write a whole number and a unit, such as 30m, 24h, 7d or 2w."
        )
    number, unit = int(match.group(1)), match.group(2)
    if unit not in UNITS:
        raise ValueError(f"“{text.strip()}” has an unknown unit “{unit}”: use m, h, d or w.")
    if number == 0:
        raise ValueError(f"“{text.strip()}” is zero: a snapshot at publish time measures nothing.")
    age = Age(number * UNITS[unit])
    if age.delta > MAX_AGE:
        raise ValueError(f"“{text.strip()}” is more than {format_age(int(MAX_AGE.total_seconds()))}.")
    return age


def parse_ages(spec: str) -> tuple[Age, ...]:
    """A comma-separated list of ages ("1h,24h,72h,7d"), returned shortest first.

    The same age written twice ("24h,1d") is an error rather than silently merged: it is most likely
    a typo for a different age."""
    parts = [part for part in spec.split(",")]
    if not spec.strip():
        raise ValueError("No snapshot ages given: write them like 1h,24h,72h,7d.")
    if any(not part.strip() for part in parts):
        raise ValueError(f"“{spec}” has an empty entry: separate ages with single commas.")
    ages: dict[int, str] = {}
    for part in parts:
        age = parse_age(part)
        if age.seconds in ages:
            raise ValueError(f"“{ages[age.seconds]}” and “{part.strip()}” are the same age ({age.label}).")
        ages[age.seconds] = part.strip()
    return tuple(sorted(Age(seconds) for seconds in ages))


def as_utc(moment: datetime | str) -> datetime:
    """An aware UTC datetime from a datetime or an ISO 8601 string ("…Z" accepted); naive is refused."""
    value = datetime.fromisoformat(moment.replace("Z", "+00:00")) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: post ages need aware times.")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Due:
    age: Age
    at: datetime


def due_times(published_at: datetime | str, ages: tuple[Age, ...] | list[Age]) -> list[Due]:
    """When each snapshot is due: publish time plus each age, earliest first."""
    start = as_utc(published_at)
    return [Due(age, start + age.delta) for age in sorted(ages)]


def on_time_window(age: Age) -> timedelta:
    return min(max(age.delta * ON_TIME_SHARE, ON_TIME_MIN), ON_TIME_MAX)


def grace(age: Age) -> timedelta:
    """How long after its due time a snapshot may still be taken (and recorded as late)."""
    return min(max(age.delta * GRACE_SHARE, GRACE_MIN), GRACE_MAX)


def post_age(taken_at: datetime | str, published_at: datetime | str) -> timedelta:
    """The real age of a reading: taken_at − published_at. Negative means the inputs are wrong."""
    age = as_utc(taken_at) - as_utc(published_at)
    if age < timedelta(0):
        raise ValueError(f"A snapshot taken at {taken_at} cannot be of a post published at {published_at}.")
    return age


class Timeliness(StrEnum):
    not_due = "not_due"  # too early: do not take it yet
    on_time = "on_time"
    late = "late"  # take it, and record its real age
    missed = "missed"  # record it as missed; never take counts for it


@dataclass(frozen=True)
class Timing:
    status: Timeliness
    due_at: datetime
    real_age_seconds: int  # what a reading taken now would be: now − published_at
    delay_seconds: int  # now − due_at (negative when not due)

    @property
    def should_take(self) -> bool:
        return self.status in (Timeliness.on_time, Timeliness.late)


def classify(age: Age, published_at: datetime | str, now: datetime | str) -> Timing:
    """Whether a snapshot for ``age`` taken at ``now`` is not due yet, on time, late or missed.

    Boundaries are inclusive on the kind side: exactly at the end of the on-time window is on time,
    exactly at the end of grace is late, a second later is missed."""
    start, moment = as_utc(published_at), as_utc(now)
    due_at = start + age.delta
    delay = moment - due_at
    if delay < timedelta(0):
        status = Timeliness.not_due
    elif delay <= on_time_window(age):
        status = Timeliness.on_time
    elif delay <= grace(age):
        status = Timeliness.late
    else:
        status = Timeliness.missed
    return Timing(
        status=status,
        due_at=due_at,
        real_age_seconds=int((moment - start).total_seconds()),
        delay_seconds=int(delay.total_seconds()),
    )
