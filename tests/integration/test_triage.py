"""Triage end to end on the local runtime: decision links mailed to the team, a GET that never
decides, a POST that decides once, the revise loop, decline, reminders, escalation and closing."""

from typing import Any
from urllib.parse import urlencode

import pytest

from local.runtime import LocalRuntime
from tests.support import Answer, Http, hidden, link_in, mails_to, sample_request, stampede, wait_until


def execution(runtime: LocalRuntime, request_id: str) -> dict[str, Any]:
    arn = runtime.state_machine_arn().replace(":stateMachine:", ":execution:") + f":{request_id}"
    found: dict[str, Any] = runtime.client("stepfunctions").describe_execution(executionArn=arn)
    return found


def ended(runtime: LocalRuntime, request_id: str) -> dict[str, Any]:
    return wait_until(
        lambda: (e := execution(runtime, request_id))["status"] != "RUNNING" and e,
        message=f"the lifecycle of {request_id} to end",
    )


def reaches(http: Http, request_id: str, *statuses: str) -> dict[str, Any]:
    """Wait until the request shows one of these statuses (accepted requests go on to review)."""
    return wait_until(
        lambda: (view := status_of(http, request_id))["status"] in statuses and view,
        message=f"{request_id} to reach {' or '.join(statuses)}",
    )


def submit(http: Http, title: str, **overrides: Any) -> str:
    answer = http.post_json("/api/requests", sample_request(title=title, **overrides))
    assert answer.status == 201, answer.text
    request_id: str = answer.json()["id"]
    return request_id


def triage_link(
    http: Http, request_id: str, person: str = "sam@example.org", subject: str = "Triage:"
) -> str:
    mail = wait_until(
        lambda: mails_to(http, person, subject, request_id), message=f"{subject} mail to {person}"
    )
    return link_in(mail[-1])


def post_decision(http: Http, link: str, decision: str, comment: str = "", **fields: str) -> Answer:
    page = http.get(link)
    form = [
        ("csrf", hidden(page.text, "csrf")),
        ("version", hidden(page.text, "version")),
        ("decision", decision),
        ("comment", comment),
        ("channels", "sandbox"),
        *fields.items(),
    ]
    return http.request(
        "POST", link, urlencode(form).encode(), {"content-type": "application/x-www-form-urlencoded"}
    )


def status_of(http: Http, request_id: str) -> dict[str, Any]:
    mail = http.mail_about(request_id)
    link = link_in(mail, f"/requests/{request_id}?token=").replace("/requests/", "/api/requests/")
    view: dict[str, Any] = http.get(link).json()
    return view


def test_scanner_get_never_decides(runtime: LocalRuntime, http: Http) -> None:
    request_id = submit(http, "Scanned")
    link = triage_link(http, request_id)
    for _ in range(3):  # Safe Links, Slack unfurl, the person: all GET
        page = http.get(link)
        assert page.status == 200
        assert 'name="decision" value="accept"' in page.text
        assert (
            page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        )
    assert execution(runtime, request_id)["status"] == "RUNNING"
    assert status_of(http, request_id)["status"] == "awaiting_triage"


def test_accept_through_the_link_records_the_plan_and_ends_accepted(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = submit(http, "Accept me", channels=["sandbox", "mastodon"])
    link = triage_link(http, request_id)
    answer = post_decision(
        http,
        link,
        "accept",
        "Good one",
        **{
            "copy.sandbox": "Final words https://example.org/x",
            "pilot": "on",
            "pilot_variant": "Other words https://example.org/x",
            "pilot_hypothesis": "Other words get more engagement",
        },
    )
    assert answer.status == 200, answer.text
    assert "accepted" in answer.text
    view = reaches(http, request_id, "in_review")
    kinds = [event["kind"] for event in view["history"]]
    assert "triage_decided" in kinds
    decided = next(e for e in view["history"] if e["kind"] == "triage_decided")
    assert (
        decided["actor"] == "Sam Rivera (social team)"  # the requester sees names, not addresses
        and decided["version"] == 1
        and "emailed link" in decided["summary"]
    )
    accepted = wait_until(
        lambda: mails_to(http, "ana@example.org", "Accepted:", request_id), message="accepted mail"
    )
    assert "pilot" in accepted[0]["text"]

    again = post_decision_without_reading(http, link)
    assert again.status == 409 and "Already decided" in again.text
    other = http.get(triage_link(http, request_id, "kim@example.org"))
    assert other.status == 200 and "already accepted by sam@example.org" in other.text
    assert 'name="decision"' not in other.text


def post_decision_without_reading(http: Http, link: str) -> Answer:
    """A replay of a POST (the page is no longer a form, so reuse a derived CSRF value)."""
    import hashlib

    token = link.rsplit("/", 1)[1]
    csrf = hashlib.sha256(f"form:{token}".encode()).hexdigest()[:32]
    body = urlencode([("csrf", csrf), ("version", "1"), ("decision", "decline"), ("comment", "late")])
    return http.request("POST", link, body.encode(), {"content-type": "application/x-www-form-urlencoded"})


def test_post_without_the_pages_csrf_value_is_refused(http: Http) -> None:
    request_id = submit(http, "Forged")
    link = triage_link(http, request_id)
    answer = http.request(
        "POST",
        link,
        b"decision=accept&channels=sandbox",
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 403


def test_revise_needs_feedback_then_the_requester_revises_and_triage_runs_again(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = submit(http, "Rework me")
    link = triage_link(http, request_id)
    missing = post_decision(http, link, "revise", "")
    assert missing.status == 422 and "Say what should change" in missing.text

    assert post_decision(http, link, "revise", "Lead with the date, please").status == 200
    mail = wait_until(
        lambda: mails_to(http, "ana@example.org", "Not like this yet", request_id), message="the revise mail"
    )[0]
    assert "Lead with the date, please" in mail["text"]
    revise = link_in(mail)
    form = http.get(revise)
    assert form.status == 200
    assert 'value="Rework me"' in form.text and "Lead with the date, please" in form.text
    assert status_of(http, request_id)["status"] == "revision_requested"

    csrf = hidden(form.text, "csrf")
    bad = http.post_form(revise, [("csrf", csrf), ("title", "x")])
    assert bad.status == 422 and "Write at least 3 characters." in bad.text

    fields = [("csrf", csrf), *_form_fields(title="Rework me, dated")]
    done = http.post_form(revise, fields)
    assert done.status == 200, done.text
    assert "Version 2" in done.text
    assert http.post_form(revise, fields).status == 409, "the revise link works once"

    second = triage_link(http, request_id, subject="Triage: Rework me, dated")
    assert http.get(link).status == 409, "the version-1 link is superseded"
    assert "Superseded" in http.get(link).text
    assert post_decision(http, second, "accept").status == 200
    view = reaches(http, request_id, "in_review")
    assert view["content_version"] == 2 and view["request"]["title"] == "Rework me, dated"
    assert [e["version"] for e in view["history"] if e["kind"] == "triage_decided"] == [1, 2]


def _form_fields(**overrides: str) -> list[tuple[str, str]]:
    from tests.support import sample_form

    return [(k, v) for k, v in sample_form(**overrides) if k != "submission_id"]


def test_decline_needs_a_reason_and_tells_the_requester(runtime: LocalRuntime, http: Http) -> None:
    request_id = submit(http, "Decline me")
    link = triage_link(http, request_id)
    assert post_decision(http, link, "decline", "").status == 422
    assert post_decision(http, link, "decline", "We do not post about this topic").status == 200
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    mail = wait_until(
        lambda: mails_to(http, "ana@example.org", "Closed:", request_id), message="decline mail"
    )
    assert "We do not post about this topic" in mail[0]["text"]
    assert status_of(http, request_id)["status"] == "declined"


def test_twenty_simultaneous_posts_on_one_link_record_one_decision(runtime: LocalRuntime, http: Http) -> None:
    request_id = submit(http, "Stampede")
    link = triage_link(http, request_id)
    page = http.get(link).text
    body = urlencode(
        [("csrf", hidden(page, "csrf")), ("version", "1"), ("decision", "accept"), ("channels", "sandbox")]
    ).encode()
    answers = stampede(http, link, body)
    assert answers == [200] + [409] * 19, answers
    reaches(http, request_id, "in_review")
    decided = [e for e in status_of(http, request_id)["history"] if e["kind"] == "triage_decided"]
    assert len(decided) == 1


def test_the_requester_never_triages_their_own_request(http: Http) -> None:
    request_id = submit(
        http, "My own", requester={"name": "Sam", "email": "sam@example.org", "team": "Social"}
    )
    triage_link(http, request_id, "kim@example.org")
    assert not mails_to(http, "sam@example.org", "Triage:", request_id)


def test_crash_between_decision_and_delivery_is_delivered_by_the_next_round(
    runtime: LocalRuntime, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    from greenlight import decisions

    request_id = submit(http, "Crash")
    link = triage_link(http, request_id)
    with monkeypatch.context() as patch:
        patch.setattr(decisions, "deliver", lambda *args: False)  # the process died after the write
        assert post_decision(http, link, "accept").status == 200
    assert execution(runtime, request_id)["status"] == "RUNNING"
    runtime.clock.advance(86400)  # the round ends; the next round finds the decision and delivers it
    reaches(http, request_id, "in_review")
    assert not mails_to(http, "sam@example.org", "Reminder", request_id), (
        "nobody is reminded of a decided request"
    )
