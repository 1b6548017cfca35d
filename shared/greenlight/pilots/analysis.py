"""The statistics of a pilot: variants compared within blocks on the log of the per-post metric.

The unit is the post, not the like: likes within one post are not independent (one boost brings
many), so a count model over pooled likes would be overconfident. Each measured slot gives one
number, y = log(1 + 1,000 × metric): the metric is a share (engagements ÷ impressions, or ÷
followers), so 1,000 × metric is engagements per 1,000 impressions or followers, and the 1 keeps a
post with no engagement in the comparison instead of at minus infinity. Differences of y are
ratios: exp(difference) − 1 is the uplift.

The model is the randomized block design's: y = block + variant + noise, the noise Normal with one
unknown variance. Blocks absorb what the slots' days and hours share. It is fitted by least
squares, so blocks with a missing or deleted slot still count with what they have (nothing is
filled in); a block with a single measured slot says nothing about the variants and is left out.

- Bayesian: flat priors on the block and variant effects and p(σ²) ∝ 1/σ² (Gelman et al., *Bayesian
  Data Analysis*, 3rd ed., §14.2). The posterior of the effects is then a multivariate Student t
  around the least-squares estimates; its 95 % credible interval of each uplift is closed form.
  The probability that each variant is best and its expected loss are Monte Carlo averages over
  draws (σ² from its scaled inverse chi-square, then the effects from their Normal), made with a
  seeded `random.Random`, so the same data always give the same verdict.
- Frequentist, beside it: the randomized block analysis of variance (F test of the variant effect
  after blocks; with two variants and complete blocks, the paired t test squared).
"""

import math
import random
from collections.abc import Sequence

from greenlight.base import Model
from greenlight.errors import GreenlightError
from greenlight.pilots.distributions import chi2_draw, f_sf, t_ppf

DRAWS = 20_000
SEED = 20_261_129


class NotComparable(GreenlightError):
    """The measured slots cannot compare the variants (too few, or no common block)."""


class Slot(Model):
    """One slot of a pilot as measured: its block, its variant, and the metric at the plan's post
    age, or nothing with the reason (missed, deleted, not published)."""

    block: int
    variant: int
    value: float | None = None
    note: str = ""


class VariantResult(Model):
    variant: int
    measured: int  # slots with a value
    missing: int  # slots without one (missed, deleted, not published): never filled in
    mean_log: float | None  # plain mean of y over its measured slots
    uplift: float | None  # vs the control, exp(effect) − 1; the control's is 0
    low: float | None  # 95 % credible interval of the uplift
    high: float | None
    p_best: float
    expected_loss: float | None  # E[max effect − this effect], on the log scale; None: not compared


class Analysis(Model):
    variants: list[VariantResult]
    blocks_used: int  # blocks with at least two measured slots
    complete_blocks: int  # blocks where every variant was measured
    df: int  # residual degrees of freedom
    sigma: float  # residual standard deviation of y within blocks
    f_statistic: float
    p_value: float  # of the block analysis of variance


def transform(metric: float) -> float:
    """y = log(1 + 1,000 × metric), for a metric that is a share (engagements ÷ denominator)."""
    if metric < 0 or not math.isfinite(metric):
        raise ValueError(f"a metric must be a share of at least 0, not {metric}")
    return math.log1p(1000.0 * metric)


def _invert(matrix: list[list[float]]) -> list[list[float]]:
    """Gauss–Jordan with partial pivoting; small symmetric matrices (blocks + variants)."""
    n = len(matrix)
    work = [[*row, *(1.0 if i == j else 0.0 for j in range(n))] for i, row in enumerate(matrix)]
    scale = max(abs(v) for row in matrix for v in row) or 1.0
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(work[r][col]))
        if abs(work[pivot][col]) < 1e-10 * scale:
            raise NotComparable("the measured slots do not connect the variants through common blocks")
        work[col], work[pivot] = work[pivot], work[col]
        head = work[col][col]
        work[col] = [v / head for v in work[col]]
        for r in range(n):
            if r != col and work[r][col] != 0.0:
                factor = work[r][col]
                work[r] = [a - factor * b for a, b in zip(work[r], work[col], strict=True)]
    return [row[n:] for row in work]


def _cholesky(matrix: list[list[float]]) -> list[list[float]]:
    n = len(matrix)
    lower = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            total = matrix[i][j] - sum(lower[i][k] * lower[j][k] for k in range(j))
            lower[i][j] = math.sqrt(max(total, 0.0)) if i == j else total / lower[j][j]
    return lower


def analyse(slots: Sequence[Slot], variants: int, *, draws: int = DRAWS, seed: int = SEED) -> Analysis:
    """Compare `variants` (0 is the control) over the measured slots."""
    measured = [s for s in slots if s.value is not None]
    by_block: dict[int, list[Slot]] = {}
    for slot in measured:
        by_block.setdefault(slot.block, []).append(slot)
    used = {b: rows for b, rows in by_block.items() if len({s.variant for s in rows}) >= 2}
    rows = [s for b in sorted(used) for s in used[b]]
    seen = {s.variant for s in rows}
    if 0 not in seen:
        raise NotComparable("the control has no measured slot in a block with another variant")
    others = [v for v in range(1, variants) if v in seen]
    if not others:
        raise NotComparable("no variant has a measured slot in a block with the control")
    blocks = sorted(used)
    p = len(blocks) + len(others)
    df = len(rows) - p
    if df < 1:
        raise NotComparable("too few measured slots to estimate the noise: measure more blocks")

    # Columns: one per block (its level), then one per non-control variant (its effect).
    column = {("b", b): i for i, b in enumerate(blocks)} | {
        ("v", v): len(blocks) + i for i, v in enumerate(others)
    }
    xtx = [[0.0] * p for _ in range(p)]
    xty = [0.0] * p
    ys = [transform(s.value) for s in rows if s.value is not None]
    for slot, y in zip(rows, ys, strict=True):
        cols = [column[("b", slot.block)]] + ([column[("v", slot.variant)]] if slot.variant else [])
        for i in cols:
            xty[i] += y
            for j in cols:
                xtx[i][j] += 1.0
    inverse = _invert(xtx)
    beta = [sum(inverse[i][j] * xty[j] for j in range(p)) for i in range(p)]
    sse = 0.0
    for slot, y in zip(rows, ys, strict=True):
        fitted = beta[column[("b", slot.block)]] + (
            beta[column[("v", slot.variant)]] if slot.variant else 0.0
        )
        sse += (y - fitted) ** 2
    s2 = sse / df

    # Blocks only: what the variants explain beyond the blocks is the F test's numerator.
    sse_blocks = 0.0
    for b in blocks:
        values = [transform(s.value) for s in used[b] if s.value is not None]
        mean = sum(values) / len(values)
        sse_blocks += sum((v - mean) ** 2 for v in values)
    df1 = len(others)
    f_stat = ((sse_blocks - sse) / df1) / s2 if s2 > 0 else math.inf
    p_value = f_sf(f_stat, df1, df) if math.isfinite(f_stat) else 0.0

    # Posterior draws of the effects (control 0), σ² ~ SSE / χ²_df, effects ~ N(β̂, σ² C).
    idx = [column[("v", v)] for v in others]
    effect = [beta[i] for i in idx]
    cov = [[inverse[i][j] for j in idx] for i in idx]
    chol = _cholesky(cov)
    rng = random.Random(seed)
    order = [0, *others]
    wins = dict.fromkeys(order, 0)
    loss = dict.fromkeys(order, 0.0)
    k = len(others)
    for _ in range(draws):
        sigma = math.sqrt(sse / chi2_draw(rng, df)) if sse > 0 else 0.0
        z = [rng.gauss(0.0, 1.0) for _ in range(k)]
        values = [0.0] + [effect[i] + sigma * sum(chol[i][j] * z[j] for j in range(i + 1)) for i in range(k)]
        top = max(values)
        # The first variant with the top value wins the draw: on a tie, the control.
        wins[order[values.index(top)]] += 1
        for v, value in zip(order, values, strict=True):
            loss[v] += top - value

    quantile = t_ppf(0.975, df)
    results = []
    for v in range(variants):
        own = [s for s in slots if s.variant == v]
        ys_v = [transform(s.value) for s in own if s.value is not None]
        mean_log = sum(ys_v) / len(ys_v) if ys_v else None
        uplift: float | None
        low: float | None
        high: float | None
        if v == 0:
            uplift, low, high = 0.0, 0.0, 0.0
        elif v in others:
            i = others.index(v)
            half = quantile * math.sqrt(s2 * cov[i][i])
            uplift = math.expm1(effect[i])
            low, high = math.expm1(effect[i] - half), math.expm1(effect[i] + half)
        else:
            uplift = low = high = None
        results.append(
            VariantResult(
                variant=v,
                measured=len(ys_v),
                missing=len(own) - len(ys_v),
                mean_log=mean_log,
                uplift=uplift,
                low=low,
                high=high,
                p_best=wins.get(v, 0) / draws,
                expected_loss=loss[v] / draws if v in loss else None,
            )
        )
    complete = sum(1 for rows_b in by_block.values() if len({s.variant for s in rows_b}) == variants)
    return Analysis(
        variants=results,
        blocks_used=len(blocks),
        complete_blocks=complete,
        df=df,
        sigma=math.sqrt(s2),
        f_statistic=f_stat,
        p_value=p_value,
    )
