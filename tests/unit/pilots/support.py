"""Simulated pilots with known true effects, for the verdict and power tests."""

import math
import random

from greenlight.pilots.analysis import Slot, analyse
from greenlight.pilots.verdict import Verdict, decide

BASE = 3.0  # y = log(1 + 1,000 × metric) of a typical post: about 19 engagements per 1,000


def simulated_slots(
    seed: int, *, variants: int, blocks: int, ratio: float, sigma: float = 0.8, rho: float = 0.5
) -> list[Slot]:
    """The last variant's true metric is `ratio` × the others'; the rest of y is a block effect
    shared by a block's slots and independent noise per post, with total σ `sigma`."""
    rng = random.Random(seed)
    slots = []
    for block in range(blocks):
        shared = rng.gauss(0.0, sigma * math.sqrt(rho))
        for variant in range(variants):
            effect = math.log(ratio) if variant == variants - 1 else 0.0
            y = BASE + shared + effect + rng.gauss(0.0, sigma * math.sqrt(1.0 - rho))
            # y below 0 would be a negative metric: such a post had no engagement (y = 0).
            slots.append(Slot(block=block, variant=variant, value=math.expm1(max(y, 0.0)) / 1000.0))
    return slots


def simulated_verdict(seed: int, *, variants: int, blocks: int, ratio: float) -> Verdict:
    slots = simulated_slots(seed, variants=variants, blocks=blocks, ratio=ratio)
    return decide(analyse(slots, variants, draws=1000, seed=seed))
