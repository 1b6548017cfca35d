"""The pilot's plan, fixed before anything goes out: the variants, the hypothesis, the primary
metric at one post age, the slot plan and the stopping rule, with what it can detect.

Each slot is published as a request of its own, a *slot request* under the pilot's request
(`<request id>-s<block><variant letter>`), so the exactly-once publishing and the measuring
sweep work on it unchanged: one post per channel, its snapshots, its figures."""

import random
import re
from datetime import datetime, timedelta
from enum import StrEnum

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
    """What the team decides after the verdict (greenlight.pilot_decision)."""

    rollout = "rollout"  # the winner's copy goes out on the plan's channels, once
    stop = "stop"  # nothing more goes out; the team's learning is recorded on the request


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
    past_metrics: list[float] | None = None,
) -> PilotPlan:
    """The control is the planned copy; `challengers` are the other variants' copy."""
    variants = 1 + len(challengers)
    count = blocks or DEFAULT_BLOCKS.get(variants, MIN_BLOCKS)
    slots = plan_slots(
        variants=variants,
        blocks=count,
        first_slot=first_slot,
        rng=rng or random.Random(),
        gap=timedelta(hours=1),
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
        detectable=detectable(count, variants, past_metrics or []),
    )
