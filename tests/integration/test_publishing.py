"""Scheduled publishing on the local runtime with its clock: on time, rescheduled, cancelled,
a network that fails then succeeds, a refusal, and a crash between the network call and the
receipt. Across all of them, each network holds exactly one post per request and channel."""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from greenlight import clock
from greenlight.storage import Store

from local.runtime import LocalRuntime
from tests.integration.test_review import review, review_link
from tests.integration.test_team import sign_in
from tests.integration.test_triage import (
    ended,
    hidden,
    reaches,
    status_of,
    submit,
    triage_link,
)
from tests.support import Http, mails_to, wait_until

DAY = 86400


def approved(http: Http, title: str, channels: tuple[str, ...] = ("sandbox",), **overrides: Any) -> str:
    """A low-risk request, accepted for the given channels and approved on the fast track; it
    goes out at the start of its window, two days from now."""
    request_id = submit(http, title, channels=list(channels), **overrides)
    link = triage_link(http, request_id)
    page = http.get(link)
    form = [("csrf", hidden(page.text, "csrf")), ("version", "1"), ("decision", "accept"), ("comment", "")]
    form += [("channels", c) for c in channels]
    assert (
        http.request(
            "POST", link, urlencode(form).encode(), {"content-type": "application/x-www-form-urlencoded"}
        ).status
        == 200
    )
    assert review(http, review_link(http, request_id, "kim@example.org"), "approve").status == 200
    reaches(http, request_id, "approved")
    waits_for_publish_time(http, request_id)
    return request_id


def waits_for_publish_time(http: Http, request_id: str, times: int = 1) -> None:
    """Move the clock only once the wait has begun (the `times`-th wait, after a reschedule): a
    wait that begins after a jump counts its time from the new now and misses its publish time."""

    def waiting() -> bool:
        where = http.get(f"/_local/executions/{request_id}").json()
        return where["state"] == "Wait for publish time" and where["waiting"] and where["visits"] >= times

    wait_until(waiting, message=f"{request_id} to wait for its publish time ({times})")


def posts_on(http: Http, network: str, request_id: str) -> list[dict[str, Any]]:
    if network == "sandbox":
        found: list[dict[str, Any]] = http.get("/_local/channels/sandbox/posts.json").json()
        return [p for p in found if p.get("request_id") == request_id]
    raise ValueError(network)


def fault(http: Http, **spec: Any) -> None:
    assert http.post_json("/_local/networks/faults", spec).status in (200, 201, 204)


@pytest.fixture(autouse=True)
def no_faults_left(http: Http) -> Any:
    yield
    http.request("DELETE", "/_local/networks/faults")


def test_publishes_at_the_publish_time_exactly_once(runtime: LocalRuntime, http: Http) -> None:
    request_id = approved(http, "On time")
    runtime.clock.advance(DAY)
    assert status_of(http, request_id)["status"] == "approved", "not before its time"
    assert not posts_on(http, "sandbox", request_id)
    runtime.clock.advance(DAY + 60)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "published"
    posts = posts_on(http, "sandbox", request_id)
    assert len(posts) == 1
    live = wait_until(lambda: mails_to(http, "ana@example.org", "Live:", request_id), message="the live mail")
    assert posts[0]["url"] in live[0]["text"]
    record = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table")).get_post(
        request_id, "sandbox"
    )
    assert record is not None and record.state == "published"
    assert record.delay_seconds is not None and 0 <= record.delay_seconds < 120, (
        "the delay between the publish time and the post is recorded"
    )


def test_every_channel_gets_one_post(runtime: LocalRuntime, http: Http) -> None:
    request_id = approved(http, "Everywhere", ("sandbox", "mastodon", "bluesky"))
    runtime.clock.advance(2 * DAY + 60)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "published"
    store = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))
    urls = {p.channel: p.receipt.url for p in store.posts(request_id) if p.receipt}
    assert set(urls) == {"sandbox", "mastodon", "bluesky"}
    assert "bsky.app/profile/" in urls["bluesky"]
    stats = http.get("/_local/networks/stats").json()
    assert stats, "the fakes count the publish calls they get"
    # Issue 14, part 5: the options from local/channels.json's defaults, fixed in the plan.
    posts = {p.channel: p for p in store.posts(request_id)}
    status = runtime.networks._state.statuses[posts["mastodon"].receipt.post_id]
    assert (status.visibility, status.language) == ("public", "en")
    record = runtime.networks._state.records[posts["bluesky"].receipt.extra["rkey"]]
    assert record.value["langs"] == ["en"]


def test_reschedule_later_waits_again_and_earlier_wakes_the_wait(runtime: LocalRuntime, http: Http) -> None:
    later = approved(http, "Later")
    earlier = approved(http, "Earlier")
    lee = sign_in(http, "lee@example.org")
    csrf = hidden(lee.get(f"/team/requests/{later}").text, "csrf")
    new_time = (clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    answer = lee.post(
        f"/team/requests/{later}/schedule", [("csrf", csrf), ("publish_at", new_time), ("timezone", "UTC")]
    )
    assert answer.status == 303
    soon = (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert (
        lee.post(
            f"/team/requests/{earlier}/schedule", [("csrf", csrf), ("publish_at", soon), ("timezone", "UTC")]
        ).status
        == 303
    )
    past = (clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert (
        lee.post(
            f"/team/requests/{earlier}/schedule", [("csrf", csrf), ("publish_at", past), ("timezone", "UTC")]
        ).status
        == 422
    )

    waits_for_publish_time(http, later, times=2)
    waits_for_publish_time(http, earlier, times=2)
    runtime.clock.advance(2 * 3600)
    reaches(http, earlier, "published")
    runtime.clock.advance(2 * DAY)
    assert status_of(http, later)["status"] == "approved", "rescheduled to later: not yet"
    runtime.clock.advance(DAY)
    reaches(http, later, "published")
    assert len(posts_on(http, "sandbox", later)) == 1 and len(posts_on(http, "sandbox", earlier)) == 1
    assert any(e["kind"] == "rescheduled" for e in status_of(http, later)["history"])


def test_cancel_before_publishing_ends_without_a_post(runtime: LocalRuntime, http: Http) -> None:
    request_id = approved(http, "Cancel me")
    lee = sign_in(http, "lee@example.org")
    csrf = hidden(lee.get(f"/team/requests/{request_id}").text, "csrf")
    assert (
        lee.post(f"/team/requests/{request_id}/cancel", [("csrf", csrf), ("reason", "event moved")]).status
        == 303
    )
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "cancelled"
    assert lee.post(f"/team/requests/{request_id}/cancel", [("csrf", csrf)]).status == 409
    runtime.clock.advance(2 * DAY + 60)
    assert not posts_on(http, "sandbox", request_id)


def test_a_network_that_fails_twice_then_succeeds_gets_one_post(runtime: LocalRuntime, http: Http) -> None:
    request_id = approved(http, "Flaky network")
    fault(http, network="sandbox", fail=[503, 503])
    runtime.clock.advance(2 * DAY + 60)
    reaches(http, request_id, "published")
    assert len(posts_on(http, "sandbox", request_id)) == 1


def test_a_refusal_is_recorded_mailed_and_not_retried(runtime: LocalRuntime, http: Http) -> None:
    request_id = approved(http, "Refused")
    fault(http, network="sandbox", reject="Spam detected")
    runtime.clock.advance(2 * DAY + 60)
    assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "publish_failed"
    told = wait_until(
        lambda: mails_to(http, "lee@example.org", "Refused by", request_id), message="refusal mail"
    )
    assert "Spam detected" in told[0]["text"]
    assert not posts_on(http, "sandbox", request_id)


def test_a_crash_between_the_network_call_and_the_receipt_never_posts_twice(
    runtime: LocalRuntime, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = approved(http, "Crash after send")
    real = Store.settle_post
    crashes = []

    def crash_once(self: Store, request_id_: str, channel: str, state: str, **facts: Any) -> bool:
        if request_id_ == request_id and not crashes:
            crashes.append(1)
            raise RuntimeError("the process died after the network call")
        return real(self, request_id_, channel, state, **facts)

    monkeypatch.setattr(Store, "settle_post", crash_once)
    runtime.clock.advance(2 * DAY + 60)
    reaches(http, request_id, "published")
    assert crashes, "the crash happened"
    assert len(posts_on(http, "sandbox", request_id)) == 1
    kinds = [e["kind"] for e in status_of(http, request_id)["history"]]
    assert "post_unconfirmed" in kinds, "the retry asked the network first"


def test_reconciliation_settles_a_post_the_workflow_gave_up_on(
    runtime: LocalRuntime, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = approved(http, "Reconcile me")
    real = Store.settle_post

    def always_crash(self: Store, request_id_: str, channel: str, state: str, **facts: Any) -> bool:
        if request_id_ == request_id:
            raise RuntimeError("the process keeps dying after the network call")
        return real(self, request_id_, channel, state, **facts)

    with monkeypatch.context() as patch:
        patch.setattr(Store, "settle_post", always_crash)
        runtime.clock.advance(2 * DAY + 60)
        assert ended(runtime, request_id)["status"] == "SUCCEEDED"
    assert status_of(http, request_id)["status"] == "partially_published"
    runtime.clock.advance(20 * 60)  # the reconciliation schedule runs
    reaches(http, request_id, "published")
    assert len(posts_on(http, "sandbox", request_id)) == 1


def test_an_unknown_mastodon_outcome_past_its_idempotency_window_goes_to_a_person(
    runtime: LocalRuntime, http: Http, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = approved(http, "Mastodon lost track", ("mastodon",))
    real = Store.settle_post

    def always_crash(self: Store, request_id_: str, channel: str, state: str, **facts: Any) -> bool:
        if request_id_ == request_id and state == "published":
            raise RuntimeError("the process keeps dying after the network call")
        return real(self, request_id_, channel, state, **facts)

    with monkeypatch.context() as patch:
        patch.setattr(Store, "settle_post", always_crash)
        runtime.clock.advance(2 * DAY + 60)
        assert ended(runtime, request_id)["status"] == "SUCCEEDED"
        before = http.get("/_local/networks/stats").json()
        runtime.clock.advance(2 * 3600)  # past Mastodon's one-hour memory of the Idempotency-Key
        wait_until(
            lambda: mails_to(http, "lee@example.org", "Check Mastodon", request_id), message="check mail"
        )
    assert http.get("/_local/networks/stats").json() == before, "nothing was posted again"
    kinds = [e["kind"] for e in status_of(http, request_id)["history"]]
    assert "post_needs_check" in kinds


def test_a_late_bluesky_post_says_when_it_went_out(runtime: LocalRuntime, http: Http) -> None:
    """Issue 14, part 3: a post that goes out three hours late carries the real moment in its
    createdAt, and the recorded delay is the real one (it used to read 0 s)."""
    request_id = approved(http, "Late on Bluesky", ("bluesky",))
    store = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))
    plan = store.get_request(request_id).plan
    assert plan is not None
    runtime.clock.advance(2 * DAY + 3 * 3600)
    reaches(http, request_id, "published")
    record = store.get_post(request_id, "bluesky")
    assert record is not None and record.receipt is not None and record.started_at is not None
    assert record.delay_seconds is not None and 3 * 3600 - 60 <= record.delay_seconds <= 3 * 3600 + 600, (
        f"the recorded delay is the real one (about 3 h), not {record.delay_seconds} s"
    )
    rkey = record.receipt.extra["rkey"]
    query = urlencode({"repo": "greenlight.local", "collection": "app.bsky.feed.post", "rkey": rkey})
    found = http.get(f"/_local/networks/bluesky/xrpc/com.atproto.repo.getRecord?{query}").json()
    created = datetime.fromisoformat(found["value"]["createdAt"].replace("Z", "+00:00"))
    assert found["value"]["createdAt"] == record.started_at == record.receipt.published_at, (
        "createdAt is the moment fixed in the publish intent"
    )
    late = (created - plan.publish_time).total_seconds()
    assert 3 * 3600 - 60 <= late <= 3 * 3600 + 600, f"createdAt is {late} s after the planned time"


def test_a_bluesky_post_tags_and_mentions_and_reports_an_unknown_handle(
    runtime: LocalRuntime, http: Http
) -> None:
    """Issue 14, part 2: hashtags and mentions become facets at their UTF-8 byte offsets (after
    emoji and accents); a handle nobody has stays plain text and the history says so."""
    text = "Grüße 🌷 #Frühling mit @ana.bsky.social und @nobody.example"
    request_id = approved(http, "Rich text", ("bluesky",), draft={"text": text, "link": None})
    runtime.clock.advance(2 * DAY + 60)
    reaches(http, request_id, "published")
    store = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))
    record = store.get_post(request_id, "bluesky")
    assert record is not None and record.receipt is not None
    query = urlencode(
        {"repo": "greenlight.local", "collection": "app.bsky.feed.post", "rkey": record.receipt.extra["rkey"]}
    )
    value = http.get(f"/_local/networks/bluesky/xrpc/com.atproto.repo.getRecord?{query}").json()["value"]
    raw = value["text"].encode()
    spans = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in value["facets"]
    }
    assert spans == {
        "#Frühling": {"$type": "app.bsky.richtext.facet#tag", "tag": "Frühling"},
        "@ana.bsky.social": {
            "$type": "app.bsky.richtext.facet#mention",
            "did": "did:plc:anaaaaaaaaaaaaaaaaaaaaaa",
        },
    }
    history = [e["summary"] for e in status_of(http, request_id)["history"]]
    assert "Bluesky: @nobody.example is no Bluesky account: the mention went out as plain text" in history
