"""Decisions and waits on a moto table: a decision is recorded once, whoever comes second."""

from greenlight.models import Decision
from greenlight.storage import Store


def _decided(decision: Decision, outcome: str, person: str) -> Decision:
    return decision.model_copy(
        update={"outcome": outcome, "decided_by": person, "decided_via": "emailed link", "decided_at": "now"}
    )


def test_a_decision_is_recorded_once_and_the_second_gets_none(store: Store) -> None:
    opened = store.open_decision("r-1", "triage", 1, "token-1", 0)
    assert (opened.state, opened.task_token, opened.round) == ("open", "token-1", 0)
    first = store.record_decision(_decided(opened, "accept", "ana@example.org"))
    assert first is not None and (first.state, first.outcome) == ("decided", "accept")
    assert store.record_decision(_decided(opened, "decline", "bo@example.org")) is None
    kept = store.get_decision("r-1", "triage", 1)
    assert kept is not None and (kept.outcome, kept.decided_by) == ("accept", "ana@example.org")


def test_a_new_round_keeps_the_decision_and_carries_the_new_token(store: Store) -> None:
    opened = store.open_decision("r-1", "triage", 1, "token-1", 0)
    store.record_decision(_decided(opened, "accept", "ana@example.org"))
    again = store.open_decision("r-1", "triage", 1, "token-2", 1)
    assert (again.state, again.outcome, again.task_token, again.round) == ("decided", "accept", "token-2", 1)


def test_a_closed_decision_cannot_be_made_and_a_made_one_cannot_be_closed(store: Store) -> None:
    expired = store.open_decision("r-1", "revision", 1, "token", 0)
    assert store.close_decision(expired, "expired")
    assert store.record_decision(_decided(expired, "resubmitted", "ana@example.org")) is None
    decided = store.open_decision("r-1", "triage", 1, "token", 0)
    store.record_decision(_decided(decided, "accept", "ana@example.org"))
    assert not store.close_decision(decided, "superseded")


def test_decisions_are_per_version_and_found_by_stage_prefix(store: Store) -> None:
    store.open_decision("r-1", "review-legal", 1, "t", 0)
    store.open_decision("r-1", "review-brand", 1, "t", 0)
    store.open_decision("r-1", "review-legal", 2, "t", 0)
    store.open_decision("r-1", "triage", 1, "t", 0)
    assert sorted(d.stage for d in store.decisions("r-1", 1, "review-")) == ["review-brand", "review-legal"]
    assert [d.version for d in store.decisions("r-1", 2, "review-")] == [2]
    assert store.get_decision("r-1", "review-legal", 3) is None


def test_a_delivered_decision_says_so(store: Store) -> None:
    opened = store.open_decision("r-1", "triage", 1, "t", 0)
    store.mark_delivered(opened)
    marked = store.get_decision("r-1", "triage", 1)
    assert marked is not None and marked.delivered


def test_a_waiter_round_trips_and_is_replaced(store: Store) -> None:
    assert store.get_waiter("r-1", "publish") is None
    store.put_waiter("r-1", "publish", "token-1", "2026-12-01T10:00")
    store.put_waiter("r-1", "publish", "token-2", "2026-12-02T10:00")
    waiter = store.get_waiter("r-1", "publish")
    assert waiter is not None and (waiter["task_token"], waiter["expected"]) == (
        "token-2",
        "2026-12-02T10:00",
    )
