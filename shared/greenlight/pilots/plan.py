"""The pilot's plan, fixed before anything goes out: the variants, the hypothesis, the primary
metric at one post age, the slot plan and the stopping rule, with what it can detect.

Each slot is published as a request of its own, a *slot request* under the pilot's request
(`<request id>-s<block><variant letter>`), so the exactly-once publishing and the measuring
sweep work on it unchanged: one post per channel, its snapshots, its figures."""

import random
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import Field

from greenlight.base import Model
from greenlight.pilots.design import MAX_VARIANTS, MIN_BLOCKS, PlannedSlot, plan_slots
from greenlight.pilots.power import Detectable, detectable
from greenlight.pilots.verdict import Thresholds

LETTERS = "abcd"  # variant 0 (the control) is "a"
AGE_HOURS = 24
# Two variants in 3 blocks can only find a 22× difference (docs/pilots.md): six blocks by default.
DEFAULT_BLOCKS = {2: 6, 3: 6, 4: 4}
METRIC = (
    "engagement rate at {age} h: engagements per impression where the network counts impressions, "
    "otherwise engagements per 1,000 followers"
)


class PilotPlan(Model):
    variants: list[str] = Field(min_length=2, max_length=MAX_VARIANTS)  # variant 0 "" is the planned copy
    hypothesis: str
    metric: str
    age_hours: int = AGE_HOURS
    blocks: int = Field(ge=MIN_BLOCKS)
    slots: list[PlannedSlot]
    stopping_rule: str
    thresholds: Thresholds = Field(default_factory=Thresholds)
    detectable: Detectable
    time_zone: str = "UTC"  # the team's zone when planned: a block's slots are on one local day

    def text(self, variant: int, planned_copy: str) -> str:
        return self.variants[variant] or planned_copy

    @property
    def first_slot(self) -> datetime:
        return min(s.at for s in self.slots)


def pilot_summary(pilot: PilotPlan) -> str:
    return (
        f"The pilot: {len(pilot.variants)} variants in {pilot.blocks} blocks from "
        f"{pilot.first_slot:%Y-%m-%d %H:%M %Z}. {pilot.detectable.statement}"
    )


def variant_name(variant: int) -> str:
    return "control (A)" if variant == 0 else f"variant {LETTERS[variant].upper()}"


def slot_request_id(request_id: str, slot: PlannedSlot) -> str:
    return f"{request_id}-s{slot.block:02d}{LETTERS[slot.variant]}"


class PilotChoice(StrEnum):
    """What the team decides after a round's verdict (greenlight.pilot_decision)."""

    rollout = "rollout"  # the winner's copy goes out on the plan's channels, once
    more = "more"  # 1–6 more blocks after the last slot, then a new verdict over every block
    stop = "stop"  # nothing more goes out; the team's learning is recorded on the request


MORE_BLOCKS = range(1, 7)  # what the team may add in one round


def more_request_name(request_id: str, round_: int) -> str:
    """The pilot's execution for the blocks added for round `round_` (a retried start finds it)."""
    return f"{request_id}-more-{round_}"


def decision_stage(round_: int) -> str:
    """The stage of a decision link: which round's verdict it decides."""
    return "pilot" if round_ == 1 else f"pilot-{round_}"


def stage_round(stage: str | None) -> int:
    _, _, number = (stage or "pilot").partition("-")
    return int(number) if number.isdigit() else 1


def with_slots(pilot: PilotPlan, more: list[PlannedSlot]) -> PilotPlan:
    """The pilot with the blocks added after it: what the next slot and the verdict go over."""
    if not more:
        return pilot
    return pilot.model_copy(update={"slots": [*pilot.slots, *more], "blocks": max(s.block for s in more) + 1})


def more_slots(pilot: PilotPlan, *, blocks: int, after: datetime, rng: random.Random) -> list[PlannedSlot]:
    """`blocks` more blocks for a pilot (with the blocks added before): on the weekdays in a row
    from the first local day after its last block that starts after `after` (in the plan's time),
    at the local hours of its blocks, each variant once per block, in Latin squares of their own."""
    zone = ZoneInfo(pilot.time_zone)
    last = max(pilot.slots, key=lambda s: (s.block, s.hour))
    begins = next(s.at for s in pilot.slots if s.block == last.block and s.hour == 0).astimezone(zone)
    day = begins.date() + timedelta(days=1)
    while datetime.combine(day, begins.time(), tzinfo=zone) <= after:
        day += timedelta(days=1)
    return plan_slots(
        variants=len(pilot.variants),
        blocks=blocks,
        first_slot=datetime.combine(day, begins.time(), tzinfo=zone).astimezone(last.at.tzinfo),
        rng=rng,
        gap=timedelta(hours=1),
        first_block=last.block + 1,
        zone=zone,
    )


def rollout_request_id(request_id: str) -> str:
    """The winner's copy rolled out after the pilot: a request of its own, like a slot."""
    return f"{request_id}-rollout"


def is_slot_request(request_id: str) -> bool:
    """A pilot's slot or its rollout: measured like every post, never reported on its own."""
    return re.fullmatch(r".+-(s\d{2}[abcd]|rollout)", request_id) is not None


def make_plan(
    *,
    challengers: list[str],
    hypothesis: str,
    first_slot: datetime,
    blocks: int | None = None,
    rng: random.Random | None = None,
    history: Sequence[Sequence[float]] = (),
    time_zone: str = "UTC",
) -> PilotPlan:
    """The control is the planned copy; `challengers` are the other variants' copy; `history` is
    the team's past posts' primary metric at `AGE_HOURS`, per channel (`power.detectable`); the
    blocks' days are local days in `time_zone`, the team's."""
    variants = 1 + len(challengers)
    count = blocks or DEFAULT_BLOCKS.get(variants, MIN_BLOCKS)
    slots = plan_slots(
        variants=variants,
        blocks=count,
        first_slot=first_slot,
        rng=rng or random.Random(),
        gap=timedelta(hours=1),
        zone=ZoneInfo(time_zone),
    )
    rules = Thresholds()
    stopping = (
        f"Stop after the {count} planned blocks, when every slot's {AGE_HOURS} h figure is in. "
        f"A winner needs at least {rules.p_best:.0%} probability to be best, an expected loss under "
        f"{rules.max_loss:.2f}, at least {rules.min_blocks} complete blocks and the analysis of variance "
        f"to agree (p < {rules.alpha:.2f}); no peeking before that."
    )
    return PilotPlan(
        variants=["", *challengers],
        hypothesis=hypothesis,
        metric=METRIC.format(age=AGE_HOURS),
        blocks=count,
        slots=slots,
        stopping_rule=stopping,
        thresholds=rules,
        detectable=detectable(count, variants, history),
        time_zone=time_zone,
    )
