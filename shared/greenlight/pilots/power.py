"""What a pilot can detect, stated before it starts.

A pilot of a few blocks can only tell apart large differences (docs/pilots.md). The plan says how
large, from the spread of the team's own past posts on the same scale as the verdict
(y = log(1 + 1,000 × metric)), or from a stated default when there are too few. The spread is
taken within each channel and pooled: the pilot compares variants within a channel (its blocks are
per channel), so the difference between channels' rates is not noise it has to beat.

The detectable difference is the true ratio between one variant and the others that the pilot
calls a winner with probability `power` (80 %): on the log scale,
(t[1 − α′/2] + t[power]) × σ_within × √(2 / blocks), with t on the design's (blocks − 1) ×
(variants − 1) residual degrees of freedom, α the verdict's (3 %) and α′ = α / (variants − 1) (the
winner has to stand out from each of the others). σ_within is the noise left inside a block:
σ × √(1 − ρ), where ρ is the share of the spread that a block's slots have in common. The unit
tests check the statement against simulated pilots run through the verdict itself."""

import math
import statistics
from collections.abc import Sequence

from greenlight.base import Model
from greenlight.pilots.analysis import transform
from greenlight.pilots.distributions import t_ppf
from greenlight.pilots.verdict import ALPHA

# σ of the per-post log engagement is about 0.8 on social networks, and the slots of one block
# share about half of that variance (docs/pilots.md).
DEFAULT_SIGMA = 0.8
DEFAULT_RHO = 0.5
MIN_HISTORY = 8  # past posts needed before their spread replaces the default
POWER = 0.8


class Detectable(Model):
    blocks: int
    variants: int
    ratio: float  # the true ratio found as a winner with probability `power`
    sigma: float  # per-post σ of y used
    sigma_source: str  # "history" or "default"
    history: int  # past posts the σ came from
    power: float
    statement: str


def sigma_from_history(history: Sequence[Sequence[float]]) -> tuple[float, str, int]:
    """The pooled within-channel σ of y, its source and the number of posts it came from. Each
    inner sequence is one channel's past metrics; a channel with a single post says nothing about
    the spread and is left out."""
    groups = [[transform(m) for m in metrics] for metrics in history if len(metrics) >= 2]
    posts = sum(len(g) for g in groups)
    if posts < MIN_HISTORY:
        return DEFAULT_SIGMA, "default", 0
    squares = sum((y - statistics.fmean(g)) ** 2 for g in groups for y in g)
    return math.sqrt(squares / (posts - len(groups))), "history", posts


def detectable_ratio(
    blocks: int,
    variants: int,
    *,
    sigma: float = DEFAULT_SIGMA,
    rho: float = DEFAULT_RHO,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float:
    if blocks < 2 or not 2 <= variants <= 4:
        raise ValueError("a pilot has 2 to 4 variants and at least 2 blocks")
    df = (blocks - 1) * (variants - 1)
    within = sigma * math.sqrt(1.0 - rho)
    alpha_each = alpha / (variants - 1)
    return math.exp((t_ppf(1 - alpha_each / 2, df) + t_ppf(power, df)) * within * math.sqrt(2.0 / blocks))


def ratio_words(ratio: float) -> str:
    if ratio >= 1.95:
        return f"about {ratio:.1f}×"
    return f"about {ratio - 1:.0%}"


def detectable(
    blocks: int, variants: int, history: Sequence[Sequence[float]] = (), *, rho: float = DEFAULT_RHO
) -> Detectable:
    """The plan's honest statement of what it can tell apart; `history` is the team's past posts'
    primary metric at the plan's post age, one sequence per channel."""
    sigma, source, posts = sigma_from_history(history)
    ratio = detectable_ratio(blocks, variants, sigma=sigma, rho=rho)
    basis = (
        f"the team's history: the spread of its last {posts} measured posts "
        f"(σ = {sigma:.2f} on the log scale)"
        if source == "history"
        else f"a default spread (σ = {DEFAULT_SIGMA} on the log scale): the team has fewer than "
        f"{MIN_HISTORY} measured posts"
    )
    statement = (
        f"With {blocks} blocks of {variants} variants, this pilot can tell apart a difference of "
        f"{ratio_words(ratio)} (found {POWER:.0%} of the time), not 20 %. Smaller real differences will "
        f"most likely end as “no clear difference”. Based on {basis}."
    )
    return Detectable(
        blocks=blocks,
        variants=variants,
        ratio=ratio,
        sigma=sigma,
        sigma_source=source,
        history=posts,
        power=POWER,
        statement=statement,
    )


def with_more_blocks(detect: Detectable, blocks_so_far: int, more: Sequence[int]) -> list[str]:
    """What the pilot could tell apart with `more` blocks added, on the plan's spread: for the
    team's choice to run more blocks."""
    return [
        f"{n} more (then {blocks_so_far + n} blocks): "
        f"{ratio_words(detectable_ratio(blocks_so_far + n, detect.variants, sigma=detect.sigma))}"
        for n in more
    ]
