"""The rounds of a wait for a person, in one place: which round reminds, which escalates.

Each round is a new wait (a new task token) opened by the state machine; the ASL counts them
("Triage rounds left?", "Fast track rounds left?", "Review rounds left?") and these say what a
round means to the people asked. tests/contract/test_rounds.py holds them to the ASL's limits."""

from greenlight.models import Lane

# Triage: round 0 asks the triagers, round 1 reminds them, round 2 escalates to the team lead.
TRIAGE_ROUNDS = ("request", "reminder", "escalation")
TRIAGE_ESCALATION_ROUND = 2

# Review: the fast track asks the on-duty approver, then (round 1) the backup; the full review
# asks the role's reviewers, reminds them (round 1), then (round 2) asks the role's backups.
REVIEW_ESCALATION_ROUND = {Lane.fast: 1, Lane.full: 2}


def triage_round_kind(round_: int) -> str:
    return TRIAGE_ROUNDS[min(round_, len(TRIAGE_ROUNDS) - 1)]


def triage_escalates(round_: int) -> bool:
    """The round in which the team lead is asked instead of the triagers."""
    return round_ >= TRIAGE_ESCALATION_ROUND


def review_escalates(lane: Lane | str, round_: int) -> bool:
    """The round in which a role's backups are asked instead of its reviewers."""
    return round_ >= REVIEW_ESCALATION_ROUND[Lane(lane)]


def review_round_kind(lane: Lane | str, round_: int) -> str:
    if review_escalates(lane, round_):
        return "escalation"
    return "reminder" if round_ else "review"
