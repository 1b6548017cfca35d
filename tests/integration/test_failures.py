"""Failures are seen, told and retried (docs/RELIABILITY.md): a step that keeps failing marks its
request `failed` with the step and the error, mails the team lead once, tells the requester on
the status page, and the dashboard's retry resumes it from the last safe point, once. A fault that
passes within the state machine's retries leaves the same outcome as none. Faults are injected
through the local runtime's `/_local/faults`."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from greenlight.aws import ATTEMPTS

from local.runtime import LocalRuntime
from tests.integration.test_team import sign_in
from tests.integration.test_triage import post_decision, triage_link
from tests.support import Http, hidden, mails_to, sample_request, wait_until

LEAD = "lee@example.org"
REQUESTER = "ana@example.org"


@pytest.fixture
def faults(http: Http) -> Iterator[Http]:
    assert http.request("DELETE", "/_local/faults").status == 200
    yield http
    http.request("DELETE", "/_local/faults")


def inject(http: Http, **fault: Any) -> dict[str, Any]:
    answer = http.post_json("/_local/faults", fault)
    assert answer.status == 200, answer.text
    listing: dict[str, Any] = answer.json()
    return listing


def submit(http: Http, title: str) -> tuple[str, str]:
    """(request id, the JSON view's address) from the API's answer: with the acknowledgement
    failing, no mail carries the status link."""
    answer = http.post_json("/api/requests", sample_request(title=title))
    assert answer.status == 201, answer.text
    created = answer.json()
    return created["id"], created["status_url"].replace("/requests/", "/api/requests/")


def view(http: Http, api_url: str) -> dict[str, Any]:
    answer: dict[str, Any] = http.get(api_url).json()
    return answer


def reaches(http: Http, api_url: str, status: str, seconds: float = 90) -> dict[str, Any]:
    return wait_until(
        lambda: (seen := view(http, api_url))["status"] == status and seen,
        seconds,
        f"{api_url} to reach {status} (now {view(http, api_url)['status']})",
    )


def failure_mails(http: Http, request_id: str) -> list[dict[str, Any]]:
    return [m for m in http.outbox() if "Workflow failed" in m["subject"] and request_id in m["text"]]


def test_bad_fault_requests_are_refused_with_the_reason(faults: Http) -> None:
    for bad in (
        {},
        {"function": "NoSuchFunction", "times": 1},
        {"function": "PublishPostFunction"},
        {"function": "PublishPostFunction", "times": 0},
        {"dynamodb": "throttle", "always": True},
    ):
        answer = faults.post_json("/_local/faults", bad)
        assert answer.status == 400 and answer.json()["error"], f"{bad} was accepted"
    assert faults.request("POST", "/_local/faults", b"not json").status == 400
    assert faults.get("/_local/faults").json()["functions"] == []


def test_a_permanent_fault_fails_the_request_tells_the_team_once_and_a_retry_resumes_it(
    runtime: LocalRuntime, faults: Http
) -> None:
    inject(faults, function="SendAcknowledgementFunction", always=True)
    request_id, api_url = submit(faults, "Fails at the start")
    failed = reaches(faults, api_url, "failed")
    event = next(e for e in failed["history"] if e["kind"] == "workflow_failed")
    assert "Send acknowledgement" in event["summary"] and "InjectedFault" in event["summary"], event
    attempts = faults.get("/_local/faults").json()["functions"][0]["injected"]
    assert attempts == 4, f"the ASL retries a failed task three times: {attempts} attempts"
    faults.request("DELETE", "/_local/faults")

    status_page = faults.get(api_url.replace("/api/requests/", "/requests/")).text
    assert "the social team has been told" in status_page
    mails = wait_until(lambda: failure_mails(faults, request_id), message="the team's failure mail")
    time.sleep(1)  # a second delivery of the event, or the sweeper, would mail now
    mails = failure_mails(faults, request_id)
    assert [m["to"] for m in mails] == [[LEAD]], "one mail, to the lead"
    assert "Send acknowledgement" in mails[0]["text"]

    lee = sign_in(faults, LEAD)
    assert "Fails at the start" in lee.get("/team").text
    page = lee.get(f"/team/requests/{request_id}")
    assert "The workflow failed" in page.text and "InjectedFault" in page.text
    csrf = hidden(page.text, "csrf")
    assert lee.post(f"/team/requests/{request_id}/retry", [("csrf", "forged")]).status == 403
    assert lee.post(f"/team/requests/{request_id}/retry", [("csrf", csrf)]).status == 303
    again = lee.post(f"/team/requests/{request_id}/retry", [("csrf", csrf)])
    assert again.status == 409 and "Not retried" in again.text, "a second click starts nothing"

    reaches(faults, api_url, "awaiting_triage")
    triage_link(faults, request_id)
    time.sleep(1)
    assert len(mails_to(faults, REQUESTER, "", request_id)) == 1, "one acknowledgement"
    assert len(mails_to(faults, "sam@example.org", "Triage:", request_id)) == 1
    assert len(failure_mails(faults, request_id)) == 1
    assert runtime.where_is(request_id)["status"] == "RUNNING"


def test_a_failed_step_after_a_decision_resumes_without_asking_again(faults: Http) -> None:
    request_id, api_url = submit(faults, "Fails after triage")
    link = triage_link(faults, request_id)
    inject(faults, function="AcceptRequestFunction", always=True)
    assert post_decision(faults, link, "accept").status == 200
    failed = reaches(faults, api_url, "failed")
    assert any("Accept request" in e["summary"] for e in failed["history"] if e["kind"] == "workflow_failed")
    faults.request("DELETE", "/_local/faults")

    lee = sign_in(faults, LEAD)
    page = lee.get(f"/team/requests/{request_id}")
    assert lee.post(f"/team/requests/{request_id}/retry", [("csrf", hidden(page.text, "csrf"))]).status == 303
    reaches(faults, api_url, "in_review")
    assert len(mails_to(faults, "sam@example.org", "Triage:", request_id)) == 1, "the decision was kept"
    assert len(failure_mails(faults, request_id)) == 1


@pytest.mark.parametrize("function", ["SendAcknowledgementFunction", "RequestTriageFunction"])
def test_a_transient_fault_leaves_the_same_outcome(faults: Http, function: str) -> None:
    inject(faults, function=function, times=2)
    request_id, api_url = submit(faults, f"Survives a flaky {function}")
    reaches(faults, api_url, "awaiting_triage")
    triage_link(faults, request_id)
    assert faults.get("/_local/faults").json()["functions"] == [], "both failures were used"
    time.sleep(1)
    assert len(mails_to(faults, REQUESTER, "", request_id)) == 1
    assert len(mails_to(faults, "sam@example.org", "Triage:", request_id)) == 1
    assert failure_mails(faults, request_id) == []


def test_dynamodb_throttling_is_retried_by_the_sdk(faults: Http) -> None:
    # One throttle fewer than the SDK's attempts, so even a single call meeting them all succeeds.
    inject(faults, dynamodb="throttle", times=ATTEMPTS - 1)
    _, api_url = submit(faults, "Throttled")
    reaches(faults, api_url, "awaiting_triage")
    assert faults.get("/_local/faults").json()["dynamodb"]["throttled"] == ATTEMPTS - 1


def test_the_sweeper_records_a_workflow_that_ended_without_a_word(
    runtime: LocalRuntime, faults: Http
) -> None:
    request_id, api_url = submit(faults, "Stopped silently")
    triage_link(faults, request_id)
    runtime.events.delivering = False  # the status-change event is lost
    try:
        sfn = runtime.client("stepfunctions")
        arn = runtime.state_machine_arn().replace(":stateMachine:", ":execution:") + f":{request_id}"
        sfn.stop_execution(executionArn=arn, cause="lost in a test")
        wait_until(lambda: runtime.where_is(request_id)["status"] == "ABORTED", message="the stop")
    finally:
        runtime.events.delivering = True
    assert view(faults, api_url)["status"] == "awaiting_triage", "nothing told it yet"
    faults.post_json("/_local/clock/advance", {"seconds": 16 * 60})
    runtime.client("lambda").invoke(
        FunctionName=runtime.function_name("StartPendingWorkflowsFunction"), Payload=b"{}"
    )
    failed = reaches(faults, api_url, "failed", 15)
    assert any("stopped" in e["summary"] for e in failed["history"] if e["kind"] == "workflow_failed")
    assert len(failure_mails(faults, request_id)) == 1


LIFECYCLE_STEPS = [
    "SendAcknowledgementFunction",
    "RequestTriageFunction",
    "AcceptRequestFunction",
    "AssessRiskFunction",
    "RequestReviewFunction",
    "FinishReviewFunction",
    "CheckScheduleFunction",
    "WaitForPublishTimeFunction",
    "PublishPostFunction",
    "FinishPublishingFunction",
]


def test_two_failures_of_every_step_on_the_way_to_publication_change_nothing(
    runtime: LocalRuntime, faults: Http
) -> None:
    from tests.integration.test_publishing import DAY, approved, posts_on

    for function in LIFECYCLE_STEPS:
        inject(faults, function=function, times=2)
    request_id = approved(faults, "Through every fault")
    runtime.clock.advance(2 * DAY + 60)
    wait_until(
        lambda: mails_to(faults, REQUESTER, "Live:", request_id), 60, "the live mail despite the faults"
    )
    left = faults.get("/_local/faults").json()["functions"]
    assert left == [], f"faults not reached: {left}"
    assert len(posts_on(faults, "sandbox", request_id)) == 1, "one post"
    time.sleep(1)
    for subject in ("We have your request", "Triage:", "Live:"):
        assert (
            len(
                mails_to(
                    faults, REQUESTER if subject != "Triage:" else "sam@example.org", subject, request_id
                )
            )
            == 1
        )
    assert failure_mails(faults, request_id) == []
