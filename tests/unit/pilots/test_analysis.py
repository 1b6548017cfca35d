"""The comparison within blocks: the numbers against scipy, numpy and closed forms."""

import math
import random

import numpy as np
import pytest
from greenlight.pilots.analysis import NotComparable, Slot, analyse, transform
from greenlight.pilots.distributions import t_cdf
from scipy import stats


def _slots(table: list[list[float | None]]) -> list[Slot]:
    """Rows are blocks, columns variants; values are y (the log scale), None a missing slot."""
    return [
        Slot(
            block=b, variant=v, value=None if y is None else math.expm1(y) / 1000, note="" if y else "deleted"
        )
        for b, row in enumerate(table)
        for v, y in enumerate(row)
    ]


def _random_table(seed: int, blocks: int, variants: int) -> list[list[float | None]]:
    rng = random.Random(seed)
    table: list[list[float | None]] = []
    for b in range(blocks):
        table.append([2.0 + 0.4 * b + 0.3 * v + rng.gauss(0, 0.5) for v in range(variants)])
    return table


def test_the_metric_is_taken_per_thousand_on_the_log_scale() -> None:
    assert transform(0.0) == 0.0
    assert transform(0.019) == pytest.approx(math.log(20))
    with pytest.raises(ValueError, match="share"):
        transform(-0.1)


def test_two_variants_in_complete_blocks_give_the_paired_t_test() -> None:
    table = _random_table(1, blocks=5, variants=2)
    result = analyse(_slots(table), 2)
    control = [row[0] for row in table]
    challenger = [row[1] for row in table]
    paired = stats.ttest_rel(challenger, control)
    assert result.p_value == pytest.approx(paired.pvalue, rel=1e-9)
    assert math.sqrt(result.f_statistic) == pytest.approx(abs(paired.statistic), rel=1e-9)
    assert result.df == 4 and result.complete_blocks == 5


def test_credible_interval_and_probability_to_be_best_match_the_closed_form() -> None:
    """With the Jeffreys prior the uplift's posterior is a Student t around the paired mean
    difference: its 95 % interval is the t interval, and P(challenger best) = T_df(mean / se)."""
    table = _random_table(3, blocks=6, variants=2)
    differences = [row[1] - row[0] for row in table if row[0] is not None and row[1] is not None]
    mean, se = np.mean(differences), stats.sem(differences)
    low, high = stats.t.interval(0.95, len(differences) - 1, loc=mean, scale=se)
    result = analyse(_slots(table), 2)
    challenger = result.variants[1]
    assert challenger.uplift == pytest.approx(math.expm1(mean), rel=1e-9)
    assert (challenger.low, challenger.high) == pytest.approx((math.expm1(low), math.expm1(high)), rel=1e-9)
    exact = stats.t.cdf(mean / se, len(differences) - 1)
    assert t_cdf(mean / se, len(differences) - 1) == pytest.approx(exact, abs=1e-12)
    # Monte Carlo with 20,000 draws: within 4 standard errors of the exact probability.
    assert challenger.p_best == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20_000))
    assert result.variants[0].p_best + challenger.p_best == pytest.approx(1.0)


def test_expected_loss_matches_the_closed_form_of_the_t_posterior() -> None:
    """For two variants the loss of the control is E[max(d, 0)] for d ~ mean + se·T_df."""
    table = _random_table(4, blocks=5, variants=2)
    differences = [row[1] - row[0] for row in table if row[0] is not None and row[1] is not None]
    mean, se, df = np.mean(differences), stats.sem(differences), len(differences) - 1
    posterior = stats.t(df, loc=mean, scale=se)
    control_loss = posterior.expect(lambda d: max(d, 0.0))
    challenger_loss = posterior.expect(lambda d: max(-d, 0.0))
    result = analyse(_slots(table), 2, draws=100_000)
    assert result.variants[0].expected_loss == pytest.approx(control_loss, abs=0.01)
    assert result.variants[1].expected_loss == pytest.approx(challenger_loss, abs=0.01)


@pytest.mark.parametrize("variants", [3, 4])
def test_block_anova_with_missing_slots_matches_least_squares_in_numpy(variants: int) -> None:
    table = _random_table(variants, blocks=5, variants=variants)
    table[1][2] = None  # a deleted post: left out, never filled in
    table[3][0] = None
    slots = _slots(table)
    result = analyse(slots, variants)

    rows = [(b, v, y) for b, row in enumerate(table) for v, y in enumerate(row) if y is not None]
    y = np.array([r[2] for r in rows])
    blocks = np.array([[1.0 if r[0] == b else 0.0 for b in range(5)] for r in rows])
    treatment = np.array([[1.0 if r[1] == v else 0.0 for v in range(1, variants)] for r in rows])
    full = np.hstack([blocks, treatment])
    beta, *_ = np.linalg.lstsq(full, y, rcond=None)
    sse_full = float(np.sum((y - full @ beta) ** 2))
    reduced, *_ = np.linalg.lstsq(blocks, y, rcond=None)
    sse_reduced = float(np.sum((y - blocks @ reduced) ** 2))
    df = len(rows) - full.shape[1]
    f = ((sse_reduced - sse_full) / (variants - 1)) / (sse_full / df)
    assert result.df == df
    assert result.f_statistic == pytest.approx(f, rel=1e-9)
    assert result.p_value == pytest.approx(stats.f.sf(f, variants - 1, df), rel=1e-9)
    for v in range(1, variants):
        assert result.variants[v].uplift == pytest.approx(math.expm1(beta[5 + v - 1]), rel=1e-9)
    assert result.complete_blocks == 3
    assert [(v.measured, v.missing) for v in result.variants][:3] == [(4, 1), (5, 0), (4, 1)]
    assert sum(v.p_best for v in result.variants) == pytest.approx(1.0)


def test_the_same_data_always_give_the_same_probabilities() -> None:
    slots = _slots(_random_table(9, blocks=4, variants=3))
    assert analyse(slots, 3) == analyse(slots, 3)


def test_a_pilot_without_enough_measured_slots_is_not_comparable() -> None:
    with pytest.raises(NotComparable, match="too few"):
        analyse(_slots([[1.0, 2.0], [1.5, 1.7]])[:3], 2)
    with pytest.raises(NotComparable, match="control"):
        analyse(_slots([[None, 2.0, 1.0], [None, 1.5, 1.1], [None, 1.2, 0.9]]), 3)
    with pytest.raises(NotComparable, match="connect"):
        apart = [[1.0, 2.0, None, None], [None, None, 1.5, 1.7]] * 3  # {0, 1} never meets {2, 3}
        analyse(_slots(apart), 4)
