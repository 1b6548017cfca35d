"""The standard-library t, F and chi-square against scipy's."""

import random

import pytest
from greenlight.pilots.distributions import betainc, chi2_draw, f_sf, t_cdf, t_ppf
from scipy import special, stats


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 12, 30, 200])
def test_t_cdf_and_quantiles_match_scipy(df: int) -> None:
    for t in (-12.0, -3.1, -0.4, 0.0, 0.7, 2.5, 9.0):
        assert t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), abs=1e-12), f"t={t}, df={df}"
    for p in (0.001, 0.025, 0.2, 0.8, 0.95, 0.975, 0.999):
        assert t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9), f"p={p}, df={df}"


@pytest.mark.parametrize(("df1", "df2"), [(1, 2), (1, 4), (2, 6), (3, 9), (3, 30)])
def test_f_tail_matches_scipy(df1: int, df2: int) -> None:
    for f in (0.0, 0.2, 1.0, 3.3, 8.1, 60.0):
        assert f_sf(f, df1, df2) == pytest.approx(stats.f.sf(f, df1, df2), abs=1e-12), f"F={f}"


def test_incomplete_beta_matches_scipy_on_both_sides_of_the_switch() -> None:
    for a, b in ((0.5, 0.5), (1.5, 4.0), (10.0, 0.5), (30.0, 30.0)):
        for x in (0.0, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0):
            assert betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), abs=1e-12)


def test_chi_square_draws_have_the_right_mean_and_variance() -> None:
    rng = random.Random(7)
    draws = [chi2_draw(rng, 3) for _ in range(40_000)]
    mean = sum(draws) / len(draws)
    variance = sum((d - mean) ** 2 for d in draws) / len(draws)
    assert mean == pytest.approx(3, rel=0.03) and variance == pytest.approx(6, rel=0.06)


def test_out_of_range_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        t_ppf(1.0, 3)
    with pytest.raises(ValueError, match="between 0 and 1"):
        betainc(1, 1, 1.5)
