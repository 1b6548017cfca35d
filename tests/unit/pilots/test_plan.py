"""The pilot's plan in the team's time zone: the first round's blocks and the blocks added by
"run more blocks" (`more_slots`), each block on one local day, across a change of the clocks."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from greenlight.models import TriageOutcome
from greenlight.pilots.design import PlannedSlot
from greenlight.pilots.plan import make_plan, more_slots
from greenlight.triage import TriageChoice

from tests.unit.fakes import request_input

BERLIN = ZoneInfo("Europe/Berlin")


def _local(slots: list[PlannedSlot]) -> dict[int, list[str]]:
    blocks: dict[int, list[str]] = {}
    for slot in sorted(slots, key=lambda s: s.at):
        blocks.setdefault(slot.block, []).append(f"{slot.at.astimezone(BERLIN):%Y-%m-%d %a %H:%M}")
    return blocks


def test_more_blocks_are_on_local_days_at_the_local_hours_after_a_change_of_the_clocks() -> None:
    # Thursday 18 March 2027, 23:30 in Berlin: 3 variants start at 21:30 so the last is at 23:30.
    publish_at = datetime(2027, 3, 18, 23, 30, tzinfo=BERLIN).astimezone(UTC)
    pilot = make_plan(
        challengers=["B", "C"],
        hypothesis="h",
        first_slot=publish_at,
        blocks=3,
        rng=random.Random(1),
        time_zone="Europe/Berlin",
    )
    assert pilot.time_zone == "Europe/Berlin"
    first = _local(pilot.slots)
    assert [b[0] for b in first.values()] == [
        "2027-03-19 Fri 21:30",
        "2027-03-22 Mon 21:30",
        "2027-03-23 Tue 21:30",
    ]
    assert pilot.first_slot == datetime(2027, 3, 19, 21, 30, tzinfo=BERLIN), "never before the publish time"
    # Decided on Friday 26 March after 21:30: the next weekdays, past the change to summer time on the 28th.
    decided = datetime(2027, 3, 26, 22, 0, tzinfo=BERLIN)
    more = _local(more_slots(pilot, blocks=3, after=decided, rng=random.Random(2)))
    assert more == {
        3: ["2027-03-29 Mon 21:30", "2027-03-29 Mon 22:30", "2027-03-29 Mon 23:30"],
        4: ["2027-03-30 Tue 21:30", "2027-03-30 Tue 22:30", "2027-03-30 Tue 23:30"],
        5: ["2027-03-31 Wed 21:30", "2027-03-31 Wed 22:30", "2027-03-31 Wed 23:30"],
    }


def test_more_blocks_keep_the_plans_zone_for_a_late_block() -> None:
    """A pilot whose blocks end at 23:30 local: the added blocks start on the local day after the
    last one, never on its UTC date (here a block ending 23:30 in New York is 04:30 UTC next day)."""
    new_york = ZoneInfo("America/New_York")
    pilot = make_plan(
        challengers=["B"],
        hypothesis="h",
        first_slot=datetime(2026, 12, 7, 23, 30, tzinfo=new_york),
        blocks=3,
        rng=random.Random(1),
        time_zone="America/New_York",
    )
    last = max(s.at for s in pilot.slots)
    more = more_slots(pilot, blocks=2, after=last - timedelta(days=5), rng=random.Random(2))
    local = {s.block: [] for s in more}
    for slot in sorted(more, key=lambda s: s.at):
        local[slot.block].append(f"{slot.at.astimezone(new_york):%Y-%m-%d %H:%M}")
    # Blocks Tuesday to Thursday (22:30 on Monday would be before the publish time), then Friday and Monday.
    assert local == {3: ["2026-12-11 22:30", "2026-12-11 23:30"], 4: ["2026-12-14 22:30", "2026-12-14 23:30"]}


def test_triage_plans_the_pilot_in_the_teams_zone_and_publishes_from_its_first_slot() -> None:
    """Accepted for 23:30 in Berlin: two variants run 22:30 and 23:30, from the next day (not before
    the chosen time), and the plan's publish time is that first slot (slots move with it)."""
    chosen = datetime(2026, 12, 8, 23, 30, tzinfo=BERLIN)  # a Tuesday
    choice = TriageChoice(
        decision=TriageOutcome.accept,
        channels=["sandbox"],
        publish_at=chosen,
        pilot=True,
        pilot_variants=["Variant B"],
        pilot_hypothesis="B gets more replies",
        pilot_blocks=3,
    )
    plan = choice.plan(request_input(), time_zone="Europe/Berlin")
    assert plan.pilot_plan is not None and plan.pilot_plan.time_zone == "Europe/Berlin"
    assert plan.publish_time == plan.pilot_plan.first_slot == datetime(2026, 12, 9, 22, 30, tzinfo=BERLIN)
    assert {s.at.astimezone(BERLIN).strftime("%a %H:%M") for s in plan.pilot_plan.slots} == {
        f"{day} {hour}" for day in ("Wed", "Thu", "Fri") for hour in ("22:30", "23:30")
    }
