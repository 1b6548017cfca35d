"""Small summaries of timings: nearest-rank percentiles, no interpolation."""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    n: int
    min: float
    p50: float
    p95: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Summary":
        return cls(
            n=len(values),
            min=min(values),
            p50=percentile(values, 50),
            p95=percentile(values, 95),
            max=max(values),
            mean=statistics.fmean(values),
        )
