"""No relay (issue 12, part 1): a request's workflow, and every mail with text the requester wrote,
starts only once the requester confirmed their address through a one-time link (GET shows, POST
confirms); the confirmation mail carries nothing they wrote. A deployment may allow only some
requester domains (422 otherwise). Rate limits per address and per client on the form, the API
and sign-in answer 429 with Retry-After.

These tests send with `Http.request`, which (unlike `post_json` and `post_form`) confirms nothing."""

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from greenlight.config import settings

from local.runtime import LocalRuntime
from tests.integration.test_intake import execution
from tests.support import CONFIRM_SUBJECT, Http, hidden, link_in, sample_form, sample_request, wait_until

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}


def send(http: Http, payload: dict[str, Any]) -> Any:
    return http.request("POST", "/api/requests", json.dumps(payload).encode(), JSON)


def send_form(http: Http, **fields: str) -> Any:
    return http.request("POST", "/requests", urlencode(sample_form(**fields)).encode(), FORM)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def mails_to(http: Http, address: str) -> list[dict[str, Any]]:
    return [m for m in http.outbox() if address in m["to"]]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set a deployment parameter's variable for one test (every function runs in this process)."""

    def set_variable(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        settings.cache_clear()

    yield set_variable
    monkeypatch.undo()
    settings.cache_clear()


def test_nothing_the_requester_wrote_is_mailed_before_they_confirm(runtime: LocalRuntime, http: Http) -> None:
    address = unique("victim")
    payload = sample_request(
        title="Click here to claim your prize",
        requester={"name": "Your Bank", "email": address, "team": "Security desk"},
        purpose="Please log in at https://phish.example.net to keep your account open today.",
    )
    created = send(http, payload)
    assert created.status == 201
    request_id = created.json()["id"]
    assert created.json()["status"] == "unconfirmed"

    mails = wait_until(lambda: mails_to(http, address), message="the confirmation mail")
    assert len(mails) == 1 and mails[0]["subject"] == CONFIRM_SUBJECT
    mail = mails[0]
    for written in ("prize", "Your Bank", "Security desk", "phish", "claim", request_id):
        assert written not in mail["text"] and written not in mail["html"], written
    assert [link for link in mail["links"] if "/l/" in link], "one confirmation link"

    status = http.get(created.json()["status_url"])
    assert status.status == 200 and "Waiting for you to confirm your email address" in status.text
    with pytest.raises(Exception, match="ExecutionDoesNotExist"):
        execution(runtime, request_id)
    assert not [m for m in http.outbox() if request_id in m["text"]], "no mail about it to anyone"


def test_get_shows_and_post_confirms_once_then_the_workflow_starts(runtime: LocalRuntime, http: Http) -> None:
    address = unique("ana")
    created = send(
        http,
        sample_request(title="Confirm me", requester={"name": "Ana", "email": address, "team": "Events"}),
    )
    request_id = created.json()["id"]
    link = link_in(wait_until(lambda: mails_to(http, address), message="the confirmation mail")[0])

    for _ in range(3):  # a mail scanner opens every link
        page = http.get(link)
        assert page.status == 200 and "Confirm my request" in page.text and "Confirm me" not in page.text
    with pytest.raises(Exception, match="ExecutionDoesNotExist"):
        execution(runtime, request_id)

    assert http.request("POST", link, b"csrf=forged", FORM).status == 403
    confirmed = http.request("POST", link, urlencode([("csrf", hidden(page.text, "csrf"))]).encode(), FORM)
    assert confirmed.status == 200 and "with the social team" in confirmed.text
    again = http.request("POST", link, urlencode([("csrf", hidden(page.text, "csrf"))]).encode(), FORM)
    assert again.status == 409
    assert "Already confirmed" in http.get(link).text

    ack = wait_until(lambda: [m for m in mails_to(http, address) if request_id in m["text"]], message="ack")
    assert ack[0]["subject"] == "We have your request: Confirm me"
    assert execution(runtime, request_id)["status"] == "RUNNING"


def ttls(runtime: LocalRuntime, request_id: str) -> dict[str, int | None]:
    """Each item of the request's partition and its TTL (`expires_at`), as stored."""
    items = runtime.client("dynamodb").query(
        TableName=runtime.stack.physical_name("Table"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"REQ#{request_id}"}},
    )["Items"]
    return {item["sk"]["S"]: int(item["expires_at"]["N"]) if "expires_at" in item else None for item in items}


def test_a_request_never_confirmed_is_removed_after_a_week(runtime: LocalRuntime, http: Http) -> None:
    """DynamoDB's TTL removes every item of a request never confirmed a week after it was sent
    (moto keeps them: reads treat them as gone); confirming clears it."""
    sent = {}
    for name in ("kept", "dropped"):
        address = unique(name)
        answer = send(http, sample_request(requester={"name": name, "email": address, "team": "Events"}))
        assert answer.status == 201
        sent[name] = (answer.json(), address)
    week = runtime.clock.now().timestamp() + 7 * 24 * 3600
    for created, _ in sent.values():
        stored = ttls(runtime, created["id"])
        assert {"REQUEST", "VERSION#0001"} <= set(stored) and len(stored) >= 4, stored
        assert all(ttl is not None and abs(ttl - week) < 120 for ttl in stored.values()), stored

    kept, address = sent["kept"]
    link = link_in(wait_until(lambda: mails_to(http, address), message="the confirmation mail")[0])
    page = http.get(link)
    confirmed = http.request("POST", link, urlencode([("csrf", hidden(page.text, "csrf"))]).encode(), FORM)
    assert confirmed.status == 200

    assert set(ttls(runtime, kept["id"]).values()) == {None}, "a confirmed request stays"
    dropped = ttls(runtime, sent["dropped"][0]["id"])
    assert all(ttl is not None for ttl in dropped.values()), "the other still goes"
    assert http.get(sent["dropped"][0]["status_url"]).status == 200, "until then its page is there"


def test_allowed_requester_domains_refuse_others_with_a_422(http: Http, configure: Any) -> None:
    configure("ALLOWED_REQUESTER_DOMAINS", "example.org, example.com")
    outside = sample_request(requester={"name": "Eve", "email": "eve@elsewhere.net", "team": "X"})
    answer = send(http, outside)
    assert answer.status == 422
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert errors == {
        "requester.email": "Greenlight takes requests from @example.org, @example.com addresses only."
    }
    page = send_form(http, **{"requester.email": "eve@elsewhere.net"})
    assert page.status == 422 and "@example.org, @example.com addresses only" in page.text
    assert not mails_to(http, "eve@elsewhere.net")
    assert (
        send(http, sample_request(requester={"name": "Ana", "email": unique("in"), "team": "X"})).status
        == 201
    )


def test_too_many_requests_from_one_address_get_429_with_retry_after(http: Http, configure: Any) -> None:
    configure("REQUESTS_PER_ADDRESS_PER_HOUR", "2")
    address = unique("busy")
    spellings = [address, address.upper(), address.replace("@", "+x@")]
    answers = [
        send(http, sample_request(requester={"name": "B", "email": e, "team": "T"})) for e in spellings
    ]
    assert [a.status for a in answers] == [201, 201, 429], "case and +tag are the same person"
    assert 0 < int(answers[2].headers["retry-after"]) <= 3600
    assert "Try again in" in answers[2].json()["errors"][0]["message"]
    page = send_form(http, **{"requester.email": address})
    assert page.status == 429 and "retry-after" in page.headers and "Too many" in page.text
    assert len(mails_to(http, address)) == 2


def test_too_many_requests_from_one_client_get_429(runtime: LocalRuntime, http: Http, configure: Any) -> None:
    runtime.clock.advance(3600)  # a fresh hourly window: earlier tests sent many from this client
    configure("REQUESTS_PER_CLIENT_PER_HOUR", "3")
    answers = [
        send(http, sample_request(requester={"name": "C", "email": unique("c"), "team": "T"}))
        for _ in range(4)
    ]
    assert [a.status for a in answers] == [201, 201, 201, 429]
    assert int(answers[3].headers["retry-after"]) > 0


def test_too_many_sign_in_mails_get_429(http: Http, configure: Any) -> None:
    configure("SIGN_INS_PER_HOUR", "2")
    before = len([m for m in mails_to(http, "cy@example.org") if "sign-in" in m["subject"]])
    answers = [http.request("POST", "/team/sign-in", b"email=Cy%40example.org", FORM) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 429]
    assert "retry-after" in answers[2].headers
    after = len([m for m in mails_to(http, "cy@example.org") if "sign-in" in m["subject"]])
    assert after - before == 2
