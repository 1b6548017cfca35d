"""The verdict of a pilot in words a sceptic can check: winner, leaning, or no clear difference.

- **winner**: one variant's probability to be best is at least `p_best` (95 %), its expected loss
  is under `max_loss`, at least `min_blocks` complete blocks were measured, and the block analysis
  of variance beside it agrees (p < `alpha`). The last condition is ours, not a convention: with two
  variants, "95 % probability to be best" is a one-sided test at 5 % *in either direction*, so
  without it two equal variants would give a winner in about 10 % of pilots. With it, equal
  variants give a winner in at most `alpha` of pilots, whatever the number of variants (the
  F test's guarantee), and the unit tests check that by simulation. `alpha` is 3 %, not 5 %: the
  promise is "a winner in at most 5 % of pilots of equal variants", and a rule at exactly 5 % would
  break it in half of all simulations by chance alone.
- **leaning**: the evidence points one way (the leading variant's probability to be best is at
  least `leaning_p_best`, 80 %) but falls short of a winner.
- **no clear difference** otherwise.

Ties go to the control: a challenger must be ahead of the control to lead (draws tied with the
control count for the control), and when no variant wins the control stays."""

from enum import StrEnum

from greenlight.base import Model
from greenlight.pilots.analysis import Analysis

ALPHA = 0.03


class VerdictWord(StrEnum):
    winner = "winner"
    leaning = "leaning"
    no_clear_difference = "no_clear_difference"

    @property
    def label(self) -> str:
        return {"winner": "Winner", "leaning": "Leaning", "no_clear_difference": "No clear difference"}[
            self.value
        ]


class Thresholds(Model):
    p_best: float = 0.95
    max_loss: float = 0.05  # expected loss on the log scale: about 5 % of the metric
    min_blocks: int = 3
    alpha: float = ALPHA
    leaning_p_best: float = 0.80


class Verdict(Model):
    word: VerdictWord
    variant: int  # the winner or the leading variant; the control (0) when there is none
    p_best: float
    expected_loss: float
    reasons: list[str]  # why it is not a winner, when it is not; empty for a winner


def decide(analysis: Analysis, thresholds: Thresholds | None = None) -> Verdict:
    rules = thresholds or Thresholds()
    compared = [v for v in analysis.variants if v.expected_loss is not None]
    # max() keeps the first of equals, and the control is first: ties go to the control.
    best = max(compared, key=lambda v: v.p_best)
    loss = best.expected_loss if best.expected_loss is not None else 0.0
    reasons = []
    if best.p_best < rules.p_best:
        reasons.append(
            f"no variant is best with at least {rules.p_best:.0%} probability"
            f" (the leader has {best.p_best:.0%})"
        )
    if loss >= rules.max_loss:
        reasons.append(f"the leader's expected loss ({loss:.3f}) is not under {rules.max_loss}")
    if analysis.complete_blocks < rules.min_blocks:
        reasons.append(
            f"{analysis.complete_blocks} complete blocks were measured;"
            f" at least {rules.min_blocks} are needed"
        )
    if analysis.p_value >= rules.alpha:
        reasons.append(f"the analysis of variance does not agree (p = {analysis.p_value:.3f})")
    if not reasons:
        word = VerdictWord.winner
    elif best.p_best >= rules.leaning_p_best:
        word = VerdictWord.leaning
    else:
        word = VerdictWord.no_clear_difference
    variant = best.variant if word is not VerdictWord.no_clear_difference else 0
    return Verdict(word=word, variant=variant, p_best=best.p_best, expected_loss=loss, reasons=reasons)
