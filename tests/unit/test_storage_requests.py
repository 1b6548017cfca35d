"""The request aggregate on a moto table: a status change and its audit event are one write."""

from datetime import timedelta

import pytest
from greenlight import clock
from greenlight.errors import Conflict, NotFound
from greenlight.links import new_link
from greenlight.models import Decision, LinkKind, PublishingPlan, RequestInput, RequestStatus, StoredRequest
from greenlight.storage import Store

from tests.support import sample_request

PLAN = PublishingPlan(channels=["sandbox"], copy={"sandbox": "hello"}, publish_at="2026-12-01T09:00:00+00:00")
LATER = PLAN.model_copy(update={"publish_at": "2026-12-02T09:00:00+00:00"})


def _submitted(store: Store, request_id: str = "r-1") -> StoredRequest:
    _, link = new_link(LinkKind.status, timedelta(days=30), request_id)
    return store.create_request(request_id, RequestInput.model_validate(sample_request()), "https://x", link)


def test_a_new_request_is_stored_with_its_first_event_and_status_link(store: Store) -> None:
    _, link = new_link(LinkKind.status, timedelta(days=30), "r-1")
    created = store.create_request("r-1", RequestInput.model_validate(sample_request()), "https://x", link)
    read = store.get_request("r-1")
    assert (read.status, read.content_version, read.lock) == (RequestStatus.submitted, 1, 1)
    assert read.request == created.request
    assert [e.kind for e in store.history("r-1")] == ["submitted"]
    assert store.get_link(link.hash) is not None, "the status link is written with the request"
    assert [r.id for r in store.requests_with_status(RequestStatus.submitted)] == ["r-1"]


def test_the_same_request_id_twice_is_a_conflict_and_changes_nothing(store: Store) -> None:
    _submitted(store)
    with pytest.raises(Conflict):
        _submitted(store)
    assert len(store.history("r-1")) == 1


def test_an_unknown_request_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.get_request("nobody")


def test_change_status_writes_the_status_its_facts_and_its_event_together(store: Store) -> None:
    stored = _submitted(store)
    changed = store.change_status(
        stored, RequestStatus.accepted, kind="status_changed", summary="Accepted", plan=PLAN
    )
    read = store.get_request("r-1")
    assert (read.status, read.lock, read.plan) == (RequestStatus.accepted, 2, PLAN)
    assert (changed.status, changed.lock, changed.plan) == (read.status, read.lock, read.plan)
    last = store.history("r-1")[-1]
    assert (last.kind, last.actor, last.summary, last.version) == (
        "status_changed",
        "greenlight",
        "Accepted",
        1,
    )
    assert last.at == read.updated_at, "the event is stamped with the change it records"
    assert [r.id for r in store.requests_with_status(RequestStatus.accepted)] == ["r-1"]
    assert store.requests_with_status(RequestStatus.submitted) == [], "the queue by status moved"


def test_change_status_on_a_stale_copy_writes_neither_status_nor_event(store: Store) -> None:
    stale = _submitted(store)
    store.change_status(stale, RequestStatus.awaiting_triage, kind="status_changed", summary="Waiting")
    with pytest.raises(Conflict, match="changed since it was read"):
        store.change_status(
            stale, RequestStatus.cancelled, kind="cancelled", summary="Cancelled", actor="ana"
        )
    assert store.get_request("r-1").status == RequestStatus.awaiting_triage
    assert [e.kind for e in store.history("r-1")] == ["submitted", "status_changed"], (
        "the losing change left an audit event behind"
    )


def test_change_status_may_keep_the_status_and_record_a_fact(store: Store) -> None:
    stored = _submitted(store)
    store.change_status(stored, stored.status, kind="rescheduled", summary="Later", actor="ana", plan=LATER)
    read = store.get_request("r-1")
    assert (read.status, read.plan, read.lock) == (RequestStatus.submitted, LATER, 2)
    assert store.history("r-1")[-1].actor == "ana"


def test_change_status_refuses_a_fact_a_request_does_not_record(store: Store) -> None:
    stored = _submitted(store)
    with pytest.raises(ValueError, match="colour"):
        store.change_status(stored, RequestStatus.accepted, kind="status_changed", summary="x", colour="red")
    assert store.get_request("r-1").status == RequestStatus.submitted
    assert len(store.history("r-1")) == 1


def _answer(store: Store, version: int = 1) -> Decision:
    return store.open_decision("r-1", "revision", version, "token", 0).model_copy(
        update={"outcome": "resubmitted", "decided_by": "ana@example.org", "decided_via": "emailed link"}
    )


def test_a_new_version_is_stored_with_the_answer_to_the_wait_for_it(store: Store) -> None:
    stored = _submitted(store)
    revised = RequestInput.model_validate(sample_request(title="Second thoughts"))
    updated = store.add_version(
        stored, revised, "ana@example.org", RequestStatus.awaiting_triage, _answer(store)
    )
    read = store.get_request("r-1")
    assert (read.content_version, read.request.title, read.status) == (2, "Second thoughts", updated.status)
    assert store.history("r-1")[-1].kind == "version_submitted"
    answered = store.get_decision("r-1", "revision", 1)
    assert answered is not None and (answered.state, answered.outcome) == ("decided", "resubmitted"), (
        "the new version was stored but the wait for it still looks open"
    )


def test_a_new_version_of_a_stale_copy_writes_nothing(store: Store) -> None:
    stored = _submitted(store)
    answer = _answer(store)
    store.change_status(stored, RequestStatus.cancelled, kind="cancelled", summary="Cancelled")
    revised = RequestInput.model_validate(sample_request(title="Second thoughts"))
    with pytest.raises(Conflict):
        store.add_version(stored, revised, "ana@example.org", RequestStatus.awaiting_triage, answer)
    assert store.get_request("r-1").content_version == 1
    still = store.get_decision("r-1", "revision", 1)
    assert still is not None and still.state == "open"


def test_a_new_version_after_the_wait_ended_writes_nothing(store: Store) -> None:
    stored = _submitted(store)
    answer = _answer(store)
    store.close_decision(answer, "expired")
    revised = RequestInput.model_validate(sample_request(title="Too late"))
    with pytest.raises(Conflict):
        store.add_version(stored, revised, "ana@example.org", RequestStatus.awaiting_triage, answer)
    read = store.get_request("r-1")
    assert (read.content_version, read.request.title) == (1, stored.request.title)
    assert [e.kind for e in store.history("r-1")] == ["submitted"]


def test_requests_stalled_before_a_time_are_found_by_status(store: Store) -> None:
    _submitted(store, "r-1")
    assert store.request_ids_with_status(RequestStatus.submitted, clock.now() + timedelta(seconds=1)) == [
        "r-1"
    ]
    assert store.request_ids_with_status(RequestStatus.submitted, clock.now() - timedelta(hours=1)) == []


def test_a_key_is_claimed_once_until_given_back(store: Store) -> None:
    assert store.claim_once("r-1", "mail:ack")
    assert not store.claim_once("r-1", "mail:ack")
    assert store.claim_once("r-2", "mail:ack"), "claims are per request"
    store.release_once("r-1", "mail:ack")
    assert store.claim_once("r-1", "mail:ack")


def test_events_are_appended_in_order(store: Store) -> None:
    store.append_event("r-1", "mail_sent", "greenlight", "one", 1)
    store.append_event("r-1", "mail_sent", "greenlight", "two")
    assert [(e.summary, e.version) for e in store.history("r-1")] == [("one", 1), ("two", None)]


def test_a_lease_is_held_until_settled_or_given_back_and_runs_out_after_a_crash(store: Store) -> None:
    lease = timedelta(seconds=30)
    assert store.lease_once("r-1", "mail:ack", lease) is True
    assert store.lease_once("r-1", "mail:ack", lease) is False, "held by the first attempt"
    store.release_once("r-1", "mail:ack")
    assert store.lease_once("r-1", "mail:ack", lease) is True, "given back after a failed send"
    store.settle_once("r-1", "mail:ack")
    assert store.lease_once("r-1", "mail:ack", lease) is None, "done for good"
    assert store.claim_once("r-1", "claimed") and store.lease_once("r-1", "claimed", lease) is None


def test_a_lease_whose_holder_crashed_runs_out(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store.lease_once("r-1", "mail:ack", timedelta(seconds=30)) is True
    later = clock.now() + timedelta(seconds=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert store.lease_once("r-1", "mail:ack", timedelta(seconds=30)) is True


def _ttls(store: Store, request_id: str) -> dict[str, int | None]:
    items = store.client.query(
        TableName=store.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"REQ#{request_id}"}},
    )["Items"]
    return {item["sk"]["S"]: int(item["expires_at"]["N"]) if "expires_at" in item else None for item in items}


def test_an_unconfirmed_request_expires_unless_confirmed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    week = clock.now() + timedelta(days=7)
    for request_id in ("kept", "dropped"):
        _, link = new_link(LinkKind.status, timedelta(days=30), request_id)
        request = RequestInput.model_validate(sample_request())
        store.create_request(request_id, request, "https://x", link, RequestStatus.unconfirmed, week)
        store.append_event(request_id, "mail_sent", "greenlight", "confirmation mailed", 1, week)
        assert set(_ttls(store, request_id).values()) == {int(week.timestamp())}, "every item expires"
    assert len(_ttls(store, "kept")) == 4  # the request, its version, two events

    store.keep_request("kept")
    store.change_status(store.get_request("kept"), RequestStatus.submitted, kind="confirmed", summary="ok")
    assert set(_ttls(store, "kept").values()) == {None}, "a confirmed request stays"

    later = week + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(NotFound):
        store.get_request("dropped")  # DynamoDB removes it within days; until then it reads as gone
    assert store.get_request("kept").status == RequestStatus.submitted


def test_a_query_is_read_page_after_page_to_its_end(store: Store) -> None:
    """TableAccess.query_all, which every paging read goes through, follows LastEvaluatedKey."""
    from greenlight.storage.items import TableAccess, to_item

    access = TableAccess(store.client, store.table)
    for n in range(7):
        access.put_new({"pk": "PAGED", "sk": f"ITEM#{n}"})
    query = {
        "TableName": store.table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": "PAGED"}),
        "Limit": 2,  # four pages
    }
    assert len(store.client.query(**query)["Items"]) == 2
    assert [item["sk"]["S"] for item in access.query_all(**query)] == [f"ITEM#{n}" for n in range(7)]
