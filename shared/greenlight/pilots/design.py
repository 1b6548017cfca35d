"""The slot plan of a pilot: randomised complete blocks, a Latin square over days and hours.

"Block what you can, randomise what you cannot" (NIST/SEMATECH e-Handbook of Statistical Methods,
5.3.3.2). A block is one day's run of matched slots, at adjacent hours, in which every variant
appears once; the order inside a block is random. Over each run of `variants` days the orders
form a Latin square (every variant once in every block and once at every hour), so neither the
hour nor the day favours a variant; the square is randomised by shuffling its rows, columns and
symbols (Fisher & Yates' randomisation of a Latin square). With more blocks than variants, each
further run of days gets a square of its own."""

import random
from datetime import datetime, timedelta

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


def block_days(first: datetime, blocks: int, *, weekdays_only: bool = True) -> list[datetime]:
    """One day per block from `first` on, keeping its time of day; Saturdays and Sundays skipped."""
    days: list[datetime] = []
    day = first
    while len(days) < blocks:
        if not weekdays_only or day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def plan_slots(
    *,
    variants: int,
    blocks: int,
    first_slot: datetime,
    rng: random.Random,
    gap: timedelta = timedelta(hours=1),
    weekdays_only: bool = True,
    first_block: int = 0,
) -> list[PlannedSlot]:
    """`blocks` blocks from `first_slot` on; `first_block` > 0 adds blocks to a pilot that ran
    (numbered on from it, by the same rules, with squares of their own; any number of them)."""
    if not 2 <= variants <= MAX_VARIANTS:
        raise ValueError(f"a pilot has 2 to {MAX_VARIANTS} variants, the first being the control")
    if blocks < (MIN_BLOCKS if first_block == 0 else 1):
        raise ValueError(f"a pilot needs at least {MIN_BLOCKS} blocks")
    slots: list[PlannedSlot] = []
    square: list[list[int]] = []
    for index, day in enumerate(block_days(first_slot, blocks, weekdays_only=weekdays_only)):
        if index % variants == 0:
            square = latin_square(variants, rng)
        order = square[index % variants]
        slots.extend(
            PlannedSlot(block=first_block + index, hour=hour, variant=variant, at=day + hour * gap)
            for hour, variant in enumerate(order)
        )
    return slots
