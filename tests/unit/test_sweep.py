"""The sweeper's stuck-workflow rule on a moto table: a request past its deadline is stopped only
when a second sweep, at least `SECOND_LOOK` later, still finds it unchanged, so a workflow that is
merely waking up (a long wait just ended, or the local clock jumped days ahead) is left to run. A
published pilot still waiting for its verdict is swept too: its execution stopped without a word
is recorded, a running one is left alone, and one with its verdict is not asked about."""

from datetime import timedelta
from typing import Any

import pytest
from greenlight import clock
from greenlight.models import Member, PublishingPlan, RequestStatus, Role
from greenlight.recovery.sweep import NO_WAIT, QUIET_FOR, SECOND_LOOK, sweep_stalled
from greenlight.storage import Store

from tests.unit.fakes import FakeMailer
from tests.unit.test_piloting import _approved_pilot
from tests.unit.test_storage_requests import _submitted


class FakeWorkflow:
    """One running execution per request, stopped when asked."""

    def __init__(self) -> None:
        self.stopped: list[str] = []

    def status(self, execution: str) -> str:
        return "ABORTED" if execution in self.stopped else "RUNNING"

    def stop(self, execution: str, cause: str) -> None:
        self.stopped.append(execution)

    def where_it_failed(self, execution: str) -> tuple[str, str, str]:
        return "Publish", "States.Aborted", "stopped by the sweeper"


@pytest.fixture
def approved(store: Store) -> Any:
    store.put_member(Member(email="lee@example.org", name="Lee", roles=[Role.lead]))
    plan = PublishingPlan(channels=["sandbox"], copy={"sandbox": "hi"}, publish_at=clock.iso(clock.now()))
    return store.change_status(
        _submitted(store), RequestStatus.approved, kind="status_changed", summary="Approved", plan=plan
    )


def _at(monkeypatch: pytest.MonkeyPatch, moment: Any) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_a_request_past_its_deadline_is_stopped_at_the_second_look_not_the_first(
    store: Store, approved: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow, mailer = FakeWorkflow(), FakeMailer()
    late = approved.updated_at + NO_WAIT + timedelta(minutes=1)
    _at(monkeypatch, late)
    assert sweep_stalled(store, mailer, workflow, FakeWorkflow()) == []
    assert workflow.stopped == [], "one look past the deadline stops nothing"
    _at(monkeypatch, late + SECOND_LOOK - timedelta(seconds=1))
    assert sweep_stalled(store, mailer, workflow, FakeWorkflow()) == []
    _at(monkeypatch, late + timedelta(minutes=5))
    assert sweep_stalled(store, mailer, workflow, FakeWorkflow()) == ["r-1"]
    assert workflow.stopped == ["r-1"]
    assert store.get_request("r-1").status == RequestStatus.failed
    assert len(mailer.sent) == 1, "the lead is told once"


def test_a_request_that_moved_on_between_two_looks_is_looked_at_afresh(
    store: Store, approved: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = FakeWorkflow()
    late = approved.updated_at + NO_WAIT + timedelta(minutes=1)
    _at(monkeypatch, late)
    sweep_stalled(store, FakeMailer(), workflow, FakeWorkflow())
    # The workflow woke after the first look: the request changed (it is stuck again later on).
    moved = store.change_status(approved, RequestStatus.approved, kind="status_changed", summary="Woke")
    _at(monkeypatch, moved.updated_at + NO_WAIT + timedelta(minutes=1))
    assert sweep_stalled(store, FakeMailer(), workflow, FakeWorkflow()) == []
    assert workflow.stopped == [], "the earlier look was of an older state"


class FakePilot(FakeWorkflow):
    """The pilot's machine: which executions were asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def status(self, execution: str) -> str:
        self.asked.append(execution)
        return super().status(execution)


def test_a_published_pilot_whose_execution_stopped_before_its_verdict_is_recorded_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every slot out, the request `published`, the pilot's execution waiting for the figures: it
    stops and its status-change event is lost. Without a look at published pilots the request
    stays `published` for ever, with no verdict and nobody told."""
    store.put_member(Member(email="lee@example.org", name="Lee", roles=[Role.lead]))
    stored = _approved_pilot(store)
    published = store.change_status(stored, RequestStatus.published, kind="status_changed", summary="out")
    workflow, pilot, mailer = FakeWorkflow(), FakePilot(), FakeMailer()
    _at(monkeypatch, published.updated_at + QUIET_FOR + timedelta(minutes=1))
    assert sweep_stalled(store, mailer, workflow, pilot) == [], "a running pilot is left alone"
    assert pilot.asked == [stored.id] and mailer.sent == []

    pilot.stopped.append(stored.id)  # stopped; the event that would have recorded it is lost
    assert sweep_stalled(store, mailer, workflow, pilot) == [stored.id]
    failed = store.get_request(stored.id)
    assert failed.status == RequestStatus.failed and failed.failure is not None
    assert failed.failure.pilot and failed.failure.status_before == RequestStatus.published
    assert sweep_stalled(store, mailer, workflow, pilot) == [], "recorded once"
    assert len(mailer.sent) == 1, "the lead is told once"


def test_a_published_pilot_with_its_verdict_is_not_asked_about(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _approved_pilot(store)
    published = store.change_status(stored, RequestStatus.published, kind="status_changed", summary="out")
    store.record_pilot_verdict(stored.id, {"word": "no_clear_difference"}, "Evaluated", 1, title="t")
    pilot = FakePilot()
    pilot.stopped.append(stored.id)  # its execution ended long ago, as a finished pilot's does
    _at(monkeypatch, published.updated_at + QUIET_FOR + timedelta(minutes=1))
    assert sweep_stalled(store, FakeMailer(), FakeWorkflow(), pilot) == []
    assert pilot.asked == [], "a finished pilot's execution is not looked up"
    assert store.get_request(stored.id).status == RequestStatus.published
