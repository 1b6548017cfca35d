"""Loss windows, each closed and shown by killing the step at that point on the local runtime
(docs/RELIABILITY.md): a revision stored but not told to the workflow, a channel with no
credentials, a publish that failed everywhere, a post reconciliation cannot settle, and times
beyond a workflow's one-year life. A "kill" is the function dying there: its invocation fails with
nothing after that point done, as when Lambda's process is killed."""

import time
from datetime import timedelta
from typing import Any

import pytest
from greenlight import clock, decisions, service
from greenlight.storage import Store

from local.runtime import LocalRuntime
from tests.integration.test_publishing import DAY, approved
from tests.integration.test_team import sign_in
from tests.integration.test_triage import _form_fields, post_decision, reaches, status_of, submit, triage_link
from tests.support import Http, hidden, link_in, mails_to, sample_request, wait_until


class Killed(RuntimeError):
    """The function's process dies here."""


def kinds(http: Http, request_id: str) -> list[str]:
    return [e["kind"] for e in status_of(http, request_id)["history"]]


def waiting_in(http: Http, request_id: str, state: str) -> None:
    def there() -> bool:
        where = http.get(f"/_local/executions/{request_id}").json()
        return bool(where["state"] == state and where["waiting"])

    wait_until(there, message=f"{request_id} to wait in {state}")


def test_a_revision_stored_but_never_told_goes_back_to_triage_not_abandoned(
    runtime: LocalRuntime, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = submit(http, "Revised, then killed")
    assert post_decision(http, triage_link(http, request_id), "revise", "Add the date").status == 200
    mail = wait_until(
        lambda: mails_to(http, "ana@example.org", "Not like this yet", request_id), message="revise"
    )
    waiting_in(http, request_id, "Request revision")
    revise = link_in(mail[0])
    fields = [("csrf", hidden(http.get(revise).text, "csrf")), *_form_fields(title="Revised, with the date")]
    real = decisions.deliver

    def killed(sfn: Any, store: Store, decision: Any) -> None:
        if decision.request_id == request_id:
            raise Killed("killed between storing the revision and answering the wait")
        real(sfn, store, decision)

    with monkeypatch.context() as patch:
        patch.setattr(decisions, "deliver", killed)
        assert http.post_form(revise, fields).status == 500, "the function died"
    assert status_of(http, request_id)["status"] == "awaiting_triage", "the new version was stored"
    assert runtime.where_is(request_id)["state"] == "Request revision", "the workflow was never told"

    http.post_json("/_local/clock/advance", {"seconds": 7 * DAY + 60})  # the revision window ends
    triage_link(http, request_id, subject="Triage: Revised, with the date")
    assert status_of(http, request_id)["status"] == "awaiting_triage"
    assert "Closed:" not in " ".join(m["subject"] for m in mails_to(http, "ana@example.org", "", request_id))


def test_a_channel_without_credentials_is_refused_recorded_and_told(
    runtime: LocalRuntime, http: Http
) -> None:
    request_id = approved(http, "No Mastodon account", ("mastodon",))
    service.channels_config()  # read the secret now, then lose Mastodon's entry from it
    without = {k: v for k, v in service._channels["config"].items() if k != "mastodon"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(service._channels, "config", without)
        patch.setitem(service._channels, "read_at", time.monotonic() + DAY)
        runtime.clock.advance(2 * DAY + 60)
        reaches(http, request_id, "publish_failed")
    assert "post_refused" in kinds(http, request_id)
    refused = wait_until(
        lambda: mails_to(http, "lee@example.org", "Refused by Mastodon", request_id), message="x"
    )
    assert "not configured" in refused[0]["text"]
    told = wait_until(lambda: mails_to(http, "ana@example.org", "Not published:", request_id), message="y")
    assert len(told) == 1 and "not configured" in told[0]["text"]


def test_reconciliation_that_keeps_failing_hands_the_post_to_a_person_once(
    runtime: LocalRuntime, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = approved(http, "Never confirmed")
    real = Store.settle_post

    def killed(self: Store, request_id_: str, channel: str, state: str, **facts: Any) -> bool:
        if request_id_ == request_id and state == "published":
            raise Killed("killed after the network call, before the receipt is stored")
        return real(self, request_id_, channel, state, **facts)

    with monkeypatch.context() as patch:
        patch.setattr(Store, "settle_post", killed)
        runtime.clock.advance(2 * DAY + 60)
        reaches(http, request_id, "partially_published")
        runtime.clock.advance(20 * 60)
        wait_until(lambda: "reconcile_failed" in kinds(http, request_id), message="a failed reconciliation")
        runtime.clock.advance(DAY)
        check = wait_until(
            lambda: mails_to(http, "lee@example.org", "Check Sandbox", request_id), message="the check mail"
        )
        failed = kinds(http, request_id).count("reconcile_failed")
        runtime.clock.advance(3 * 3600)
    time.sleep(1)
    assert "post_needs_check" in kinds(http, request_id)
    assert kinds(http, request_id).count("reconcile_failed") == failed, "it stopped trying"
    assert len(mails_to(http, "lee@example.org", "Check Sandbox", request_id)) == len(check) == 1


def test_times_beyond_a_workflows_year_are_refused_with_422(runtime: LocalRuntime, http: Http) -> None:
    now = clock.now()
    window = {
        "earliest": (now + timedelta(days=300)).isoformat(),
        "latest": (now + timedelta(days=365)).isoformat(),
    }
    answer = http.post_json("/api/requests", sample_request(publish_window=window))
    assert answer.status == 422
    assert any("364 days" in e["message"] for e in answer.json()["errors"]), answer.text

    request_id = approved(http, "Pushed too far")
    lee = sign_in(http, "lee@example.org")
    csrf = hidden(lee.get(f"/team/requests/{request_id}").text, "csrf")
    too_far = (now + timedelta(days=366)).strftime("%Y-%m-%dT%H:%M")
    refused = lee.post(
        f"/team/requests/{request_id}/schedule",
        [("csrf", csrf), ("publish_at", too_far), ("timezone", "UTC")],
    )
    assert refused.status == 422 and "at most a year" in refused.text
    assert status_of(http, request_id)["status"] == "approved"
