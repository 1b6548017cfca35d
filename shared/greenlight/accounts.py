"""The social accounts Greenlight publishes to, day by day: followers and posts, and the follower
milestones worth celebrating (docs/measurement.md, "Accounts and milestones").

Pure models and rules; the scheduled step that reads the networks and writes the table is
``greenlight.snapshot_accounts``."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, ConfigDict, Field

from greenlight.base import Model

DEFAULT_FOLLOWER_MILESTONES = "100,500,1000,5000,10000"


class AccountSnapshot(Model):
    """One account on one day, as its network reported it at ``taken_at``. Never changed once stored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel: str
    day: date  # the UTC day the snapshot belongs to
    followers: int = Field(ge=0)
    posts: int = Field(ge=0)
    taken_at: AwareDatetime


class MilestoneState(StrEnum):
    mailed = "mailed"  # the team was told
    sending = "sending"  # claimed; the mail is on its way (or the run died: it is not sent again)
    already_passed = "already_passed"  # passed before Greenlight's first snapshot of the account: no mail


class Milestone(Model):
    """A follower threshold an account reached, recorded once, before its mail goes out."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel: str
    threshold: int = Field(gt=0)
    state: MilestoneState
    day: date
    followers: int = Field(ge=0)
    mailed_to: list[str] = Field(default_factory=list)


def parse_milestones(value: str) -> tuple[int, ...]:
    """``"100,500,1000"`` → (100, 500, 1000): whole numbers above zero, sorted, each once. Empty: none."""
    parts = [part.strip().replace("_", "") for part in value.split(",") if part.strip()]
    try:
        numbers = [int(part) for part in parts]
    except ValueError as error:
        raise ValueError(
            f"follower milestones are whole numbers separated by commas, not {value!r}"
        ) from error
    if any(number <= 0 for number in numbers):
        raise ValueError(f"follower milestones are above zero: {value!r}")
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"a follower milestone is written twice: {value!r}")
    return tuple(sorted(numbers))


def crossed(previous: int | None, current: int, thresholds: tuple[int, ...]) -> tuple[int, ...]:
    """The thresholds passed between two snapshots: above ``previous``, at or below ``current``.
    A count that fell back and rose again crosses again here; the stored milestone record is what
    keeps the mail to once. Without a previous snapshot nothing is *crossed*: the account simply
    has that many followers (see ``already_passed``)."""
    if previous is None:
        return ()
    return tuple(t for t in thresholds if previous < t <= current)


def already_passed(current: int, thresholds: tuple[int, ...]) -> tuple[int, ...]:
    """At an account's first snapshot: the thresholds it had passed before Greenlight watched.
    Recorded without a mail, so the first deployment does not celebrate 100 followers on an
    account that has 5,000."""
    return tuple(t for t in thresholds if t <= current)
