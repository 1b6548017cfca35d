"""A request flowing end to end: HTTP API → DynamoDB → the real lifecycle ASL on moto →
the acknowledgement handler → SES → the status link."""

import threading
from datetime import date, datetime, timedelta
from email import message_from_string, policy
from typing import Any
from zoneinfo import ZoneInfo

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from local.runtime import LocalRuntime
from tests.support import Http, sample_form, sample_request


def execution(runtime: LocalRuntime, request_id: str) -> dict[str, Any]:
    arn = runtime.state_machine_arn().replace(":stateMachine:", ":execution:") + f":{request_id}"
    description: dict[str, Any] = runtime.client("stepfunctions").describe_execution(executionArn=arn)
    return description


def test_api_request_runs_the_lifecycle_and_mails_a_working_status_link(
    runtime: LocalRuntime, http: Http
) -> None:
    created = http.post_json("/api/requests", sample_request(title="End to end"))
    assert created.status == 201, created.text
    body = created.json()
    assert body["status"] == "unconfirmed", "it starts once the requester confirms (the helper does)"
    assert created.headers["location"] == body["status_url"]

    mail = http.mail_about(body["id"])
    assert mail["to"] == ["ana@example.org"]
    assert mail["subject"] == "We have your request: End to end"
    link = next(link for link in mail["links"] if "?token=" in link)
    assert link != body["status_url"], "the mailed link is a second, separate secret"
    page = http.get(link)
    assert page.status == 200
    assert "End to end" in page.text and "Waiting for the social team to triage" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"

    view = http.get(link.replace("/requests/", "/api/requests/")).json()
    kinds = [event["kind"] for event in view["history"]][:5]
    assert kinds == ["submitted", "mail_sent", "confirmed", "mail_sent", "status_changed"]
    assert view["status"] == "awaiting_triage"
    assert execution(runtime, body["id"])["status"] == "RUNNING", "waiting for triage"


def test_acknowledgement_is_mime_with_text_and_html_parts_carrying_the_link(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = http.post_json("/api/requests", sample_request(title="MIME check")).json()["id"]
    http.mail_about(request_id)
    raws = [
        m.raw_data
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if request_id in getattr(m, "raw_data", "") and "Subject: We have your request" in m.raw_data
    ]
    assert len(raws) == 1, "exactly one acknowledgement per request"
    message = message_from_string(raws[0], policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"/requests/{request_id}?token=" in text
    assert f'href="{runtime.base_url}/requests/{request_id}?token=' in html
    assert message["From"] == "Greenlight <greenlight@example.org>"
    assert message["Date"]


def test_bad_api_request_gets_422_naming_each_bad_field(http: Http) -> None:
    bad = sample_request(
        purpose="because",
        goal={"metric": "engagement_rate", "target": 2},
        channels=[],
        requester={"name": "Ana", "email": "not-an-address", "team": "Events"},
    )
    answer = http.post_json("/api/requests", bad)
    assert answer.status == 422
    fields = {error["field"]: error["message"] for error in answer.json()["errors"]}
    assert set(fields) == {"purpose", "goal.target", "channels", "requester.email"}, fields
    assert "at least 20" in fields["purpose"]
    assert "between 0 and 1" in fields["goal.target"]


def test_a_bluesky_draft_over_3000_bytes_is_refused_at_intake_naming_the_network(http: Http) -> None:
    families = "👨\u200d👩\u200d👧\u200d👦" * 150  # 150 graphemes (fits 300) but 3,750 bytes
    answer = http.post_json("/api/requests", sample_request(channels=["bluesky"], draft={"text": families}))
    assert answer.status == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == "draft"
    assert "Bluesky allows 3,000 bytes, this post is 3,750 bytes" in error["message"]


def test_post_that_is_not_json_gets_400_not_500(http: Http) -> None:
    answer = http.request("POST", "/api/requests", b"{nope", {"content-type": "application/json"})
    assert answer.status == 400
    assert answer.json()["errors"][0]["field"] == "body"


def test_wrong_shapes_get_422_not_500(http: Http) -> None:
    for payload in ([], "text", {"goal": "clicks"}, {"requester": []}):
        answer = http.post_json("/api/requests", payload)
        assert answer.status == 422, (payload, answer.text)


def test_unknown_route_gets_404(http: Http) -> None:
    assert http.get("/nowhere").status == 404


def test_idempotency_key_retry_returns_the_same_request_and_one_execution(
    runtime: LocalRuntime, http: Http
) -> None:
    payload = sample_request(title="Retried call")
    first = http.post_json("/api/requests", payload, {"Idempotency-Key": "retry-1"})
    second = http.post_json("/api/requests", payload, {"Idempotency-Key": "retry-1"})
    assert first.status == second.status == 201
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status_url"] != second.json()["status_url"], "a replay issues a fresh status link"
    assert http.get(second.json()["status_url"]).status == 200
    assert http.get(first.json()["status_url"]).status == 200
    http.mail_about(first.json()["id"])
    titles = [m["subject"] for m in http.outbox()]
    assert titles.count("We have your request: Retried call") == 1
    # The idempotency record keeps the request id, never a link's secret.
    table = runtime.stack.physical_name("IdempotencyTable")
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    assert any(first.json()["id"] in str(item) for item in items)
    assert not any("token=" in str(item) or "status_url" in str(item) for item in items)


def test_idempotency_key_reused_for_a_different_request_gets_422(http: Http) -> None:
    assert (
        http.post_json("/api/requests", sample_request(title="First"), {"Idempotency-Key": "reuse-1"}).status
        == 201
    )
    answer = http.post_json("/api/requests", sample_request(title="Other"), {"Idempotency-Key": "reuse-1"})
    assert answer.status == 422
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"


def test_simultaneous_double_submission_creates_one_request(runtime: LocalRuntime, http: Http) -> None:
    payload = sample_request(title="Double click")
    answers: list[Any] = []

    def submit() -> None:
        answers.append(http.post_json("/api/requests", payload, {"Idempotency-Key": "double-1"}))

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [a.status for a in answers] == [201] * 5, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1


def test_form_with_mistakes_is_shown_again_with_messages_and_typed_values(http: Http) -> None:
    answer = http.post_form("/requests", sample_form(purpose="because", **{"goal.target": "lots"}))
    assert answer.status == 422
    page = answer.text
    assert 'id="purpose-error"' in page and "Write at least 20 characters." in page
    assert 'id="goal.target-error"' in page and "Enter a number" in page
    assert "Event planners in the Nordics who follow us" in page, "what the person typed is kept"
    assert 'value="lots"' in page


def test_form_submission_redirects_to_the_status_page(runtime: LocalRuntime, http: Http) -> None:
    answer = http.post_form("/requests", sample_form(title="Form path"))
    assert answer.status == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{runtime.base_url}/requests/") and "?token=" in location
    page = http.get(location)
    assert page.status == 200 and "Form path" in page.text


def test_form_times_are_read_in_the_chosen_timezone(http: Http) -> None:
    day = date.today() + timedelta(days=60)
    fields = sample_form(
        title="Berlin time",
        timezone="Europe/Berlin",
        **{"publish_window.earliest": f"{day}T09:00", "publish_window.latest": f"{day}T17:00"},
    )
    location = http.post_form("/requests", fields).headers["location"]
    view = http.get(location.replace("/requests/", "/api/requests/")).json()
    berlin = datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert view["request"]["publish_window"]["earliest"] == berlin.isoformat()


def test_form_that_is_not_a_form_gets_415(http: Http) -> None:
    answer = http.request("POST", "/requests", b"{}", {"content-type": "application/json"})
    assert answer.status == 415


def test_status_link_with_a_wrong_or_foreign_token_is_404(http: Http) -> None:
    one = http.post_json("/api/requests", sample_request(title="Mine")).json()
    other = http.post_json("/api/requests", sample_request(title="Theirs")).json()
    token_of_other = other["status_url"].split("token=")[1]
    assert http.get(f"/requests/{one['id']}?token={token_of_other}").status == 404
    assert http.get(f"/requests/{one['id']}?token={'A' * 43}").status == 404
    assert http.get(f"/requests/{one['id']}").status == 404
    assert http.get(f"/api/requests/{one['id']}?token=short").status == 404
    assert http.get(one["status_url"]).status == 200
