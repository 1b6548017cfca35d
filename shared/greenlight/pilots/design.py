"""The slot plan of a pilot: randomised complete blocks, a Latin square over days and hours.

"Block what you can, randomise what you cannot" (NIST/SEMATECH e-Handbook of Statistical Methods,
5.3.3.2). A block is one day's run of matched slots, at adjacent hours, in which every variant
appears once; the order inside a block is random. Over each run of `variants` days the orders
form a Latin square (every variant once in every block and once at every hour), so neither the
hour nor the day favours a variant; the square is randomised by shuffling its rows, columns and
symbols (Fisher & Yates' randomisation of a Latin square). With more blocks than variants, each
further run of days gets a square of its own.

Days are the team's local days (its time zone): every slot of a block falls on the same local
day, at the same local hours in every block (across a change of daylight saving time too)."""

import random
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from greenlight.base import Model

MIN_BLOCKS = 3
MAX_VARIANTS = 4


class PlannedSlot(Model):
    block: int
    hour: int  # the slot's place in its block: 0 is the block's first hour
    variant: int  # 0 is the control
    at: datetime


def latin_square(size: int, rng: random.Random) -> list[list[int]]:
    rows, cols, symbols = list(range(size)), list(range(size)), list(range(size))
    rng.shuffle(rows)
    rng.shuffle(cols)
    rng.shuffle(symbols)
    return [[symbols[(r + c) % size] for c in cols] for r in rows]


def block_time(first: datetime, slots: int, gap: timedelta, zone: tzinfo) -> time:
    """The local time of day at which every block starts: `first`'s, moved earlier by whole gaps,
    as little as needed, so that the block's last slot is on the same local day as its first."""
    local = first.astimezone(zone).replace(tzinfo=None)
    start = local
    while (start + (slots - 1) * gap).date() != start.date():
        start -= gap
    return start.time()


def block_days(
    first: datetime, blocks: int, at: time, zone: tzinfo, *, weekdays_only: bool = True
) -> list[datetime]:
    """One start per block at the local time `at`, on the local days from `first`'s on (from the
    next day if `at` is earlier than `first` on its day: no slot goes out before `first`);
    Saturdays and Sundays skipped."""
    day: date = first.astimezone(zone).date()
    if datetime.combine(day, at, tzinfo=zone) < first:
        day += timedelta(days=1)
    starts: list[datetime] = []
    while len(starts) < blocks:
        if not weekdays_only or day.weekday() < 5:
            starts.append(datetime.combine(day, at, tzinfo=zone))
        day += timedelta(days=1)
    return starts


def plan_slots(
    *,
    variants: int,
    blocks: int,
    first_slot: datetime,
    rng: random.Random,
    gap: timedelta = timedelta(hours=1),
    weekdays_only: bool = True,
    first_block: int = 0,
    zone: tzinfo = UTC,
) -> list[PlannedSlot]:
    """`blocks` blocks from `first_slot` on, days and hours in the team's `zone`; `first_block` > 0
    adds blocks to a pilot that ran (numbered on from it, by the same rules, with squares of their
    own; any number of them). The slots' times are in `first_slot`'s zone."""
    if not 2 <= variants <= MAX_VARIANTS:
        raise ValueError(f"a pilot has 2 to {MAX_VARIANTS} variants, the first being the control")
    if blocks < (MIN_BLOCKS if first_block == 0 else 1):
        raise ValueError(f"a pilot needs at least {MIN_BLOCKS} blocks")
    at = block_time(first_slot, variants, gap, zone)
    slots: list[PlannedSlot] = []
    square: list[list[int]] = []
    for index, start in enumerate(block_days(first_slot, blocks, at, zone, weekdays_only=weekdays_only)):
        if index % variants == 0:
            square = latin_square(variants, rng)
        order = square[index % variants]
        begin = start.astimezone(UTC)  # the gap is elapsed time, also across a change of the clocks
        slots.extend(
            PlannedSlot(
                block=first_block + index,
                hour=hour,
                variant=variant,
                at=(begin + hour * gap).astimezone(first_slot.tzinfo),
            )
            for hour, variant in enumerate(order)
        )
    return slots
