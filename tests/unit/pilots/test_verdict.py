"""Verdict words by their rules, and simulated pilots with known true effects over many seeds."""

import pytest
from greenlight.pilots.analysis import Analysis, VariantResult
from greenlight.pilots.power import detectable_ratio
from greenlight.pilots.verdict import Thresholds, VerdictWord, decide

from tests.unit.pilots.support import simulated_verdict


def _analysis(
    p_best: list[float], loss: list[float], *, complete: int = 4, p_value: float = 0.01
) -> Analysis:
    return Analysis(
        variants=[
            VariantResult(
                variant=v, measured=4, missing=0, mean_log=1.0, uplift=0.0, low=0.0, high=0.0,
                p_best=p, expected_loss=loss[v],
            )
            for v, p in enumerate(p_best)
        ],
        blocks_used=complete, complete_blocks=complete, df=3, sigma=0.5, f_statistic=9.0, p_value=p_value,
    )  # fmt: skip


def test_winner_needs_every_condition() -> None:
    verdict = decide(_analysis([0.02, 0.98], [0.4, 0.004]))
    assert (verdict.word, verdict.variant, verdict.reasons) == (VerdictWord.winner, 1, [])


@pytest.mark.parametrize(
    ("analysis", "reason"),
    [
        (_analysis([0.07, 0.93], [0.4, 0.02]), "no variant is best with at least 95% probability"),
        (_analysis([0.03, 0.97], [0.4, 0.06]), "expected loss (0.060) is not under 0.05"),
        (_analysis([0.02, 0.98], [0.4, 0.004], complete=2), "2 complete blocks were measured"),
        (_analysis([0.02, 0.98], [0.4, 0.004], p_value=0.06), "analysis of variance does not agree"),
    ],
)
def test_short_of_a_winner_it_is_leaning_with_the_reason(analysis: Analysis, reason: str) -> None:
    verdict = decide(analysis)
    assert verdict.word is VerdictWord.leaning and verdict.variant == 1
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_weak_evidence_is_no_clear_difference_and_the_control_stays() -> None:
    verdict = decide(_analysis([0.3, 0.45, 0.25], [0.2, 0.1, 0.3]))
    assert (verdict.word, verdict.variant) == (VerdictWord.no_clear_difference, 0)


def test_ties_go_to_the_control() -> None:
    verdict = decide(_analysis([0.5, 0.5], [0.1, 0.1]), Thresholds(leaning_p_best=0.5))
    assert (verdict.word, verdict.variant) == (VerdictWord.leaning, 0)


def test_thresholds_are_configurable() -> None:
    analysis = _analysis([0.08, 0.92], [0.4, 0.02])
    assert decide(analysis).word is VerdictWord.leaning
    assert decide(analysis, Thresholds(p_best=0.9)).word is VerdictWord.winner


def test_a_large_real_difference_is_found_as_the_winner() -> None:
    verdicts = [simulated_verdict(seed, variants=2, blocks=4, ratio=20.0) for seed in range(100)]
    found = sum(v.word is VerdictWord.winner and v.variant == 1 for v in verdicts)
    assert found >= 95, f"a 20× difference was the winner in only {found} of 100 pilots"


@pytest.mark.parametrize(("variants", "blocks", "seeds"), [(2, 4, 400), (3, 3, 200), (4, 4, 120)])
def test_equal_variants_give_a_winner_in_at_most_5_percent_of_seeds(
    variants: int, blocks: int, seeds: int
) -> None:
    verdicts = [simulated_verdict(s, variants=variants, blocks=blocks, ratio=1.0) for s in range(seeds)]
    winners = sum(v.word is VerdictWord.winner for v in verdicts)
    assert winners <= 0.05 * seeds, f"equal variants gave a winner in {winners} of {seeds} pilots"


@pytest.mark.parametrize(("variants", "blocks"), [(2, 4), (2, 6), (3, 3), (4, 4)])
def test_the_stated_detectable_difference_is_found_about_80_percent_of_the_time(
    variants: int, blocks: int
) -> None:
    ratio = detectable_ratio(blocks, variants)
    seeds = 150
    verdicts = [
        simulated_verdict(1000 + s, variants=variants, blocks=blocks, ratio=ratio) for s in range(seeds)
    ]
    found = sum(v.word is VerdictWord.winner and v.variant == variants - 1 for v in verdicts) / seeds
    # 150 pilots: the binomial standard error at 80 % is 3.3 points; 4 of them either side.
    assert 0.67 <= found <= 0.93, (
        f"the stated {ratio:.2f}× was found in {found:.0%} of pilots, not about 80 %"
    )
