"""The slot plan (blocks, Latin squares) and the plan's statement of what it can detect."""

import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from greenlight.pilots.design import latin_square, plan_slots
from greenlight.pilots.power import DEFAULT_SIGMA, MIN_HISTORY, detectable, detectable_ratio, with_more_blocks

MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("size", [2, 3, 4])
def test_a_latin_square_has_every_variant_once_per_row_and_column(size: int) -> None:
    for seed in range(20):
        square = latin_square(size, random.Random(seed))
        assert all(sorted(row) == list(range(size)) for row in square)
        assert all(sorted(col) == list(range(size)) for col in zip(*square, strict=True))


def test_blocks_are_weekdays_at_adjacent_hours_with_every_variant_once() -> None:
    slots = plan_slots(variants=3, blocks=6, first_slot=MONDAY_9 + timedelta(days=3), rng=random.Random(1))
    by_block: dict[int, list] = {}
    for slot in slots:
        by_block.setdefault(slot.block, []).append(slot)
    assert len(by_block) == 6
    for block in by_block.values():
        assert sorted(s.variant for s in block) == [0, 1, 2]
        assert len({s.at.date() for s in block}) == 1 and block[0].at.weekday() < 5
        assert [s.at.hour for s in block] == [9, 10, 11]
    days = [by_block[b][0].at.date().isoformat() for b in range(6)]
    assert days == ["2026-12-10", "2026-12-11", "2026-12-14", "2026-12-15", "2026-12-16", "2026-12-17"]
    # Each run of 3 days is a Latin square: every variant once at every hour.
    for first in (0, 3):
        hours = Counter((s.variant, s.hour) for b in range(first, first + 3) for s in by_block[b])
        assert set(hours.values()) == {1} and len(hours) == 9


def test_the_order_is_random_but_reproducible_from_the_seed() -> None:
    plans = {
        tuple(
            s.variant for s in plan_slots(variants=4, blocks=4, first_slot=MONDAY_9, rng=random.Random(seed))
        )
        for seed in range(30)
    }
    assert len(plans) > 10
    assert plan_slots(variants=2, blocks=3, first_slot=MONDAY_9, rng=random.Random(5)) == plan_slots(
        variants=2, blocks=3, first_slot=MONDAY_9, rng=random.Random(5)
    )


def test_a_plan_outside_the_rules_is_refused() -> None:
    with pytest.raises(ValueError, match="2 to 4 variants"):
        plan_slots(variants=5, blocks=3, first_slot=MONDAY_9, rng=random.Random(1))
    with pytest.raises(ValueError, match="at least 3 blocks"):
        plan_slots(variants=2, blocks=2, first_slot=MONDAY_9, rng=random.Random(1))


def test_more_blocks_detect_smaller_differences() -> None:
    ratios = [detectable_ratio(b, 2) for b in (3, 4, 6, 10, 30)]
    assert ratios == sorted(ratios, reverse=True)
    assert ratios[-1] < 1.6 < 2.0 < ratios[1]


def test_the_statement_uses_the_default_without_history_and_says_so() -> None:
    plan = detectable(4, 2, [[0.02] * (MIN_HISTORY - 1)])
    assert plan.sigma == DEFAULT_SIGMA and plan.sigma_source == "default"
    assert plan.statement.startswith(
        "With 4 blocks of 2 variants, this pilot can tell apart a difference of about"
    )
    assert "not 20 %" in plan.statement and "fewer than 8 measured posts" in plan.statement


def test_the_statement_uses_the_spread_of_the_teams_posts() -> None:
    steady = [0.020, 0.022, 0.019, 0.021, 0.020, 0.018, 0.023, 0.021, 0.020]
    plan = detectable(4, 2, [steady])
    assert plan.sigma_source == "history" and plan.sigma < 0.1
    assert plan.ratio < 1.3 and "the spread of its last 9 measured posts" in plan.statement
    assert "about 1" in plan.statement and "%" in plan.statement


def test_more_blocks_say_what_the_pilot_could_then_tell_apart() -> None:
    plan = detectable(6, 2)
    lines = with_more_blocks(plan, 6, (1, 3, 6))
    assert lines == [
        f"{n} more (then {6 + n} blocks): about {detectable_ratio(6 + n, 2):.1f}×" for n in (1, 3, 6)
    ]
    assert detectable_ratio(12, 2) < detectable_ratio(7, 2) < plan.ratio


BERLIN = ZoneInfo("Europe/Berlin")


def _blocks(slots: list) -> dict[int, list]:
    by_block: dict[int, list] = {}
    for slot in sorted(slots, key=lambda s: s.at):
        by_block.setdefault(slot.block, []).append(slot)
    return by_block


@pytest.mark.parametrize(
    ("variants", "publish", "first_hours"),
    [
        (2, time(22, 30), ["22:30", "23:30"]),  # fits: kept
        (3, time(22, 30), ["21:30", "22:30", "23:30"]),  # 00:30 would be the next day
        (2, time(23, 30), ["22:30", "23:30"]),
        (4, time(23, 30), ["20:30", "21:30", "22:30", "23:30"]),
    ],
)
def test_every_slot_of_a_block_is_on_the_same_local_day(
    variants: int, publish: time, first_hours: list
) -> None:
    """A late publish time: each block starts early enough for its last slot to be on its day,
    in the team's zone; no slot goes out before the publish time (the first block moves a day)."""
    publish_at = datetime.combine(datetime(2026, 12, 7).date(), publish, tzinfo=BERLIN).astimezone(
        UTC
    )  # Monday
    slots = plan_slots(variants=variants, blocks=6, first_slot=publish_at, rng=random.Random(3), zone=BERLIN)
    assert min(s.at for s in slots) >= publish_at
    for block in _blocks(slots).values():
        local = [s.at.astimezone(BERLIN) for s in block]
        assert len({t.date() for t in local}) == 1, f"one local day per block: {local}"
        assert local[0].weekday() < 5
        assert [f"{t:%H:%M}" for t in local] == first_hours
    kept = first_hours[0] == f"{publish:%H:%M}"
    first_day = _blocks(slots)[0][0].at.astimezone(BERLIN).date().isoformat()
    assert first_day == ("2026-12-07" if kept else "2026-12-08")


def test_blocks_keep_their_local_hours_and_days_across_a_change_of_the_clocks() -> None:
    """Berlin goes to summer time on Sunday 28 March 2027: the blocks after it are at the same
    local hours (an hour earlier in UTC), each on one local day."""
    publish_at = datetime(2027, 3, 24, 22, 30, tzinfo=BERLIN)  # Wednesday, 21:30 UTC
    slots = plan_slots(variants=2, blocks=6, first_slot=publish_at, rng=random.Random(4), zone=BERLIN)
    blocks = _blocks(slots)
    days = [b[0].at.astimezone(BERLIN).date().isoformat() for b in blocks.values()]
    assert days == ["2027-03-24", "2027-03-25", "2027-03-26", "2027-03-29", "2027-03-30", "2027-03-31"]
    for block in blocks.values():
        assert [f"{s.at.astimezone(BERLIN):%Y-%m-%d %H:%M}" for s in block] == [
            f"{block[0].at.astimezone(BERLIN):%Y-%m-%d} 22:30",
            f"{block[0].at.astimezone(BERLIN):%Y-%m-%d} 23:30",
        ]
    assert {b[0].at.astimezone(UTC).hour for b in blocks.values()} == {21, 20}


def test_weekdays_are_the_teams() -> None:
    """Friday 20:00 in New York is Saturday in UTC: it is a weekday for the team."""
    new_york = ZoneInfo("America/New_York")
    publish_at = datetime(2026, 12, 11, 20, 0, tzinfo=new_york)
    slots = plan_slots(variants=2, blocks=3, first_slot=publish_at, rng=random.Random(5), zone=new_york)
    days = [b[0].at.astimezone(new_york).date().isoformat() for b in _blocks(slots).values()]
    assert days == ["2026-12-11", "2026-12-14", "2026-12-15"]
