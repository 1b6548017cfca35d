"""The slot plan (blocks, Latin squares) and the plan's statement of what it can detect."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

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
