"""Deciding once, on a moto-backed store: the first decision is recorded and answers the waiting
workflow; a second one is refused; a decision made as the wait ended is kept for the next round."""

import pytest
from greenlight import decisions
from greenlight.models import DecisionState
from greenlight.storage import Store

from tests.unit.fakes import FakeSfn, stored_request

STAGE = "triage"


def _waiting(store: Store, token: str = "token-0") -> str:
    stored = stored_request(store)
    store.open_decision(stored.id, STAGE, 1, token, 0)
    return stored.id


def _decide(store: Store, sfn: FakeSfn, request_id: str, outcome: str, person: str, version: int = 1) -> None:
    decisions.decide(store, sfn, store.get_request(request_id), STAGE, version, outcome, person, "link")


def test_a_decision_is_recorded_once_and_answers_the_waiting_task(store: Store, sfn: FakeSfn) -> None:
    request_id = _waiting(store)
    _decide(store, sfn, request_id, "accept", "sam@example.org")
    decision = store.get_decision(request_id, STAGE, 1)
    assert decision is not None and decision.state == DecisionState.decided
    assert decision.outcome == "accept" and decision.decided_by == "sam@example.org" and decision.delivered
    assert sfn.answers == [("token-0", {"decision": "accept", "version": 1, "by": "sam@example.org"})]
    assert any(e.kind == "triage_decided" for e in store.history(request_id))


def test_a_second_decision_is_refused_and_changes_nothing(store: Store, sfn: FakeSfn) -> None:
    request_id = _waiting(store)
    _decide(store, sfn, request_id, "accept", "sam@example.org")
    with pytest.raises(decisions.AlreadyDecided) as refused:
        _decide(store, sfn, request_id, "decline", "kim@example.org")
    assert refused.value.decision.decided_by == "sam@example.org", "the refusal names who decided"
    decision = store.get_decision(request_id, STAGE, 1)
    assert decision is not None and decision.outcome == "accept"
    assert len(sfn.answers) == 1, "the workflow is answered once"


def test_the_conditional_write_refuses_a_racing_second_record(store: Store) -> None:
    request_id = _waiting(store)
    opened = store.get_decision(request_id, STAGE, 1)
    assert opened is not None
    first = store.record_decision(opened.model_copy(update={"outcome": "accept", "decided_by": "a"}))
    second = store.record_decision(opened.model_copy(update={"outcome": "decline", "decided_by": "b"}))
    assert first is not None and first.outcome == "accept"
    assert second is None, "a write that read the decision while it was open must not overwrite it"


@pytest.mark.parametrize("code", sorted(decisions.GONE))
def test_a_decision_made_as_the_wait_ended_is_kept_for_the_next_round(
    store: Store, sfn: FakeSfn, code: str
) -> None:
    request_id = _waiting(store)
    sfn.gone["token-0"] = code
    _decide(store, sfn, request_id, "accept", "sam@example.org")
    decision = store.get_decision(request_id, STAGE, 1)
    assert decision is not None and decision.state == DecisionState.decided and not decision.delivered
    reopened = store.open_decision(request_id, STAGE, 1, "token-1", 1)  # the next round's wait
    assert reopened.state == DecisionState.decided
    assert decisions.deliver(sfn, store, reopened)
    assert sfn.answers == [("token-1", {"decision": "accept", "version": 1, "by": "sam@example.org"})]


def test_a_decision_for_an_older_version_is_superseded(store: Store, sfn: FakeSfn) -> None:
    request_id = _waiting(store)
    with pytest.raises(decisions.Superseded):
        _decide(store, sfn, request_id, "accept", "sam@example.org", version=0)


def test_nothing_can_be_decided_once_the_wait_expired(store: Store, sfn: FakeSfn) -> None:
    request_id = _waiting(store)
    assert decisions.expire(store, request_id, STAGE, 1) is None
    with pytest.raises(decisions.NotWaiting):
        _decide(store, sfn, request_id, "accept", "sam@example.org")
    assert not sfn.answers


def test_expiring_after_a_decision_returns_the_decision_it_loses_to(store: Store, sfn: FakeSfn) -> None:
    request_id = _waiting(store)
    _decide(store, sfn, request_id, "accept", "sam@example.org")
    late = decisions.expire(store, request_id, STAGE, 1)
    assert late is not None and late.outcome == "accept", "the person decided in time: their decision wins"
