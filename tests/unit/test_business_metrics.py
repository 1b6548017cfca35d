"""Business events become CloudWatch metrics (embedded metric format lines in the log) that the
template's alarms read: a refused post counts as a publish failure, once."""

import json

import pytest
from greenlight import publishing
from greenlight.models import PostState, PublishingPlan, RequestStatus
from greenlight.observability import NAMESPACE, PUBLISH_FAILURES, record_metric
from greenlight.storage import Store

from tests.unit.fakes import FakeMailer, stored_request


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local runtime turns them off for the process (tests that ran one before these)."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


def emitted(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and "_aws" in line]


def test_a_metric_is_one_emf_line_in_the_greenlight_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    record_metric("TimeToDecision", 42, seconds=True)
    (line,) = emitted(capsys.readouterr().out)
    (directive,) = line["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
    assert directive["Namespace"] == NAMESPACE
    assert directive["Metrics"] == [{"Name": "TimeToDecision", "Unit": "Seconds"}]
    assert line["TimeToDecision"] in (42.0, [42.0]) and "service" in line


def test_a_refused_post_counts_one_publish_failure(
    store: Store, mailer: FakeMailer, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = stored_request(store)
    plan = PublishingPlan(
        channels=["sandbox"], copy={"sandbox": "hi"}, publish_at="2026-12-01T09:00:00+00:00"
    )
    stored = store.change_status(
        stored, RequestStatus.publishing, kind="status_changed", summary="t", plan=plan
    )
    assert store.start_post(stored.id, "sandbox", 1, f"{stored.id}-v1-sandbox")
    publishing.refuse(store, mailer, stored, "sandbox", "too long")
    publishing.refuse(store, mailer, stored, "sandbox", "too long")  # a retried step
    lines = emitted(capsys.readouterr().out)
    assert [line[PUBLISH_FAILURES] for line in lines if PUBLISH_FAILURES in line] in ([1.0], [[1.0]])
    assert store.get_post(stored.id, "sandbox").state == PostState.rejected  # type: ignore[union-attr]


def test_powertools_switch_turns_the_metrics_off(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    record_metric(PUBLISH_FAILURES)
    assert emitted(capsys.readouterr().out) == []
