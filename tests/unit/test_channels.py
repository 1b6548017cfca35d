"""The channel adapters against the fake networks over real HTTP (local/networks.py on a free port).

Business time is frozen (``greenlight.clock.now`` patched) so engagement, rate-limit windows and token
expiry are deterministic; tests move it with ``clock_at.advance``.
"""

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from greenlight import clock
from greenlight.channels import (
    BlueskyChannel,
    MastodonChannel,
    Post,
    Receipt,
    SandboxChannel,
    channel_for,
)
from greenlight.channels.bluesky import TID_ALPHABET, is_tid, link_facets, record_key
from greenlight.channels.http import rate_limit_reset
from greenlight.errors import ChannelUnavailable, PublishRejected

from local.networks import FakeNetworks, channel_config, engagement, serve

pytestmark = pytest.mark.timeout(30)

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SCHEDULED = "2026-11-21T09:00:00.000Z"
SHORT = 0.5  # client time-out in the time-out tests: the faults hold requests for 1 s


@dataclass
class FrozenClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture(autouse=True)
def clock_at(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock(START)
    monkeypatch.setattr(clock, "now", frozen.now)
    return frozen


@dataclass
class Fake:
    networks: FakeNetworks
    base: str

    @property
    def config(self) -> dict[str, dict[str, str]]:
        return channel_config(self.base)

    def inject(self, **faults: Any) -> None:
        status, _, body = self.networks.handle(
            "POST", "/_local/networks/faults", {}, json.dumps(faults).encode()
        )
        assert status == 200, body

    def stats(self, network: str) -> dict[str, int]:
        _, _, body = self.networks.handle("GET", "/_local/networks/stats", {}, b"")
        return dict(json.loads(body)[network])

    def sandbox(self, timeout: float = 5) -> SandboxChannel:
        return SandboxChannel(self.config["sandbox"]["base_url"], timeout=timeout)

    def mastodon(self, timeout: float = 5, token: str | None = None) -> MastodonChannel:
        settings = self.config["mastodon"]
        return MastodonChannel(settings["base_url"], token or settings["access_token"], timeout=timeout)

    def bluesky(self, timeout: float = 5, password: str | None = None) -> BlueskyChannel:
        settings = self.config["bluesky"]
        return BlueskyChannel(
            settings["service"], settings["identifier"], password or settings["app_password"], timeout=timeout
        )


@pytest.fixture
def fake() -> Iterator[Fake]:
    # "timeout" faults hold a request 1 s here (11 s in the runtime): past SHORT, and quick.
    networks = FakeNetworks(timeout_seconds=1.0)
    with serve(networks) as base:
        yield Fake(networks, base)


def make_post(
    channel: str, text: str = "Our autumn report is out: https://example.org/report", **changes: Any
) -> Post:
    post = Post(
        request_id="20261121-abcdefgh",
        version=1,
        channel=channel,
        text=text,
        key=f"20261121-abcdefgh:v1:{channel}",
        scheduled_at=SCHEDULED,
    )
    return replace(post, **changes)


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


Adapter = SandboxChannel | MastodonChannel | BlueskyChannel


def any_channel(fake: Fake, name: str, timeout: float = 5) -> Adapter:
    if name == "sandbox":
        return fake.sandbox(timeout)
    return fake.mastodon(timeout) if name == "mastodon" else fake.bluesky(timeout)


NAMES = ["sandbox", "mastodon", "bluesky"]


# ---- sandbox ----


def test_sandbox_publishes_finds_and_reports_metrics(fake: Fake, clock_at: FrozenClock) -> None:
    channel, post = fake.sandbox(), make_post("sandbox")
    receipt = channel.publish(post)
    assert receipt.channel == "sandbox" and receipt.post_id.startswith("sbx-")
    assert receipt.url.startswith(fake.base) and receipt.published_at == clock.iso(START)
    assert channel.find(post) == receipt
    clock_at.advance(hours=6)
    metrics = channel.metrics(receipt)
    assert metrics.taken_at == clock.iso(clock_at.moment)
    assert metrics.impressions and metrics.impressions > 100
    assert metrics.clicks is not None and metrics.likes >= 0 and metrics.reposts >= 0


def test_sandbox_republish_with_same_key_returns_same_post(fake: Fake) -> None:
    channel, post = fake.sandbox(), make_post("sandbox")
    assert channel.publish(post) == channel.publish(post)
    assert fake.stats("sandbox") == {"publish_calls": 2, "posts": 1}


def test_sandbox_find_returns_none_for_a_post_never_published(fake: Fake) -> None:
    assert fake.sandbox().find(make_post("sandbox", key="never/sent:v1:sandbox")) is None


def test_sandbox_over_long_text_is_rejected_with_the_network_reason(fake: Fake) -> None:
    with pytest.raises(PublishRejected, match="sandbox: Text character limit of 500 exceeded"):
        fake.sandbox().publish(make_post("sandbox", text="x" * 501))


def test_sandbox_posts_json_lists_every_post_with_current_metrics(fake: Fake, clock_at: FrozenClock) -> None:
    fake.sandbox().publish(make_post("sandbox"))
    fake.sandbox().publish(make_post("sandbox", key="other:v1:sandbox", text="Second"))
    clock_at.advance(hours=2)
    status, posts = http("GET", f"{fake.base}/_local/channels/sandbox/posts.json")
    assert status == 200 and [p["text"] for p in posts] == [make_post("sandbox").text, "Second"]
    assert all(p["metrics"]["impressions"] > 0 and p["metrics"]["taken_at"] for p in posts)


# ---- Mastodon ----


def test_mastodon_publish_returns_the_status_receipt(fake: Fake) -> None:
    receipt = fake.mastodon().publish(make_post("mastodon"))
    assert receipt.channel == "mastodon" and receipt.post_id.isdigit()
    assert receipt.url == f"{fake.base}/_local/networks/mastodon/@greenlight/{receipt.post_id}"
    assert receipt.published_at == clock.iso(START)


def test_mastodon_republish_with_same_idempotency_key_returns_same_status(fake: Fake) -> None:
    channel, post = fake.mastodon(), make_post("mastodon")
    first = channel.publish(post)
    assert channel.publish(post) == first
    assert channel.find(post) == first  # find re-posts with the key: the same status
    assert channel.publish(make_post("mastodon", key="another:v1:mastodon")) != first
    assert fake.stats("mastodon") == {"publish_calls": 4, "posts": 2}


def test_mastodon_forgets_idempotency_keys_after_an_hour(fake: Fake, clock_at: FrozenClock) -> None:
    # The documented limitation of MastodonChannel.find: past the window a re-POST posts again.
    channel, post = fake.mastodon(), make_post("mastodon")
    first = channel.publish(post)
    clock_at.advance(minutes=59)
    assert channel.publish(post) == first
    clock_at.advance(minutes=2)
    assert channel.publish(post).post_id != first.post_id


def test_mastodon_metrics_report_counts_without_impressions(fake: Fake, clock_at: FrozenClock) -> None:
    channel = fake.mastodon()
    receipt = channel.publish(make_post("mastodon"))
    clock_at.advance(hours=24)
    metrics = channel.metrics(receipt)
    expected = engagement("mastodon", receipt.post_id, timedelta(hours=24))
    assert (metrics.likes, metrics.reposts, metrics.replies, metrics.quotes) == (
        expected["likes"],
        expected["reposts"],
        expected["replies"],
        expected["quotes"],
    )
    assert metrics.impressions is None and metrics.clicks is None


def test_mastodon_wrong_token_is_rejected_as_not_authorised(fake: Fake) -> None:
    with pytest.raises(PublishRejected, match="mastodon: not authorised"):
        fake.mastodon(token="stolen").publish(make_post("mastodon"))


def test_mastodon_over_long_text_is_rejected_with_the_network_reason(fake: Fake) -> None:
    channel = fake.mastodon()
    # A link counts as 23 characters however long it is: this fits.
    channel.publish(make_post("mastodon", text="x" * 470 + " https://example.org/" + "a" * 200))
    with pytest.raises(PublishRejected, match="Validation failed: Text character limit of 500 exceeded"):
        channel.publish(make_post("mastodon", text="x" * 501, key="long:v1:mastodon"))


def test_mastodon_rate_limit_is_unavailable_and_names_the_reset_time(fake: Fake) -> None:
    fake.inject(network="mastodon", fail=[429])
    with pytest.raises(
        ChannelUnavailable, match=r"rate limited \(HTTP 429\); the limit resets at 2026-11-21T09:05:00"
    ):
        fake.mastodon().publish(make_post("mastodon"))


def test_mastodon_gateway_error_page_is_unavailable(fake: Fake) -> None:
    fake.inject(network="mastodon", fail=[502])
    with pytest.raises(ChannelUnavailable, match=r"mastodon: HTTP 502 .*Bad Gateway"):
        fake.mastodon().publish(make_post("mastodon"))


# ---- Bluesky ----


def tid_micros(tid: str) -> int:
    value = 0
    for char in tid:
        value = value * 32 + TID_ALPHABET.index(char)
    return value >> 10


def test_bluesky_record_key_is_a_valid_tid_derived_from_post() -> None:
    post = make_post("bluesky")
    key = record_key(post)
    assert is_tid(key) and len(key) == 13
    assert record_key(post) == key  # the same post: the same key, whatever process computes it
    assert record_key(replace(post, key="20261121-abcdefgh:v2:bluesky")) != key
    # The timestamp is the planned time (to the millisecond), so keys sort like publish times.
    micros = tid_micros(key)
    assert micros // 1000 == int(START.timestamp() * 1000)
    later = record_key(replace(post, scheduled_at="2026-11-21T09:00:01.000Z"))
    assert later > key
    assert not is_tid("self") and not is_tid("zzzzzzzzzzzzz")


def test_bluesky_link_facets_use_utf8_byte_offsets() -> None:
    text = "Café ☕ opens: https://example.org/menu."
    [facet] = link_facets(text)
    start = len("Café ☕ opens: ".encode())
    assert facet["index"] == {"byteStart": start, "byteEnd": start + len(b"https://example.org/menu")}
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/menu"}]
    assert link_facets("(see https://en.wikipedia.org/wiki/Bee_(disambiguation))")[0]["features"][0][
        "uri"
    ] == ("https://en.wikipedia.org/wiki/Bee_(disambiguation)")


def test_bluesky_publish_writes_the_post_under_its_record_key(fake: Fake) -> None:
    post = make_post("bluesky")
    receipt = fake.bluesky().publish(post)
    rkey = record_key(post)
    assert receipt.post_id == f"at://did:plc:greenlightlocalaaaaaaaaa/app.bsky.feed.post/{rkey}"
    assert receipt.url == f"https://bsky.app/profile/greenlight.local/post/{rkey}"
    assert receipt.extra["cid"].startswith("bafyrei") and receipt.published_at == SCHEDULED
    status, stored = http(
        "GET",
        f"{fake.base}/_local/networks/bluesky/xrpc/com.atproto.repo.getRecord"
        f"?repo=greenlight.local&collection=app.bsky.feed.post&rkey={rkey}",
    )
    assert status == 200 and stored["value"]["text"] == post.text
    assert stored["value"]["facets"][0]["features"][0]["uri"] == "https://example.org/report"


def test_bluesky_republish_is_a_no_op_with_the_same_uri_and_cid(fake: Fake) -> None:
    channel, post = fake.bluesky(), make_post("bluesky")
    first = channel.publish(post)
    assert channel.publish(post) == first
    assert fake.bluesky().publish(post) == first  # another process, another session: same record
    assert fake.stats("bluesky") == {"publish_calls": 3, "posts": 1}


def test_bluesky_find_returns_the_receipt_or_none(fake: Fake) -> None:
    channel, post = fake.bluesky(), make_post("bluesky")
    assert channel.find(post) is None
    receipt = channel.publish(post)
    assert channel.find(post) == receipt


def test_bluesky_different_post_under_a_taken_key_is_rejected_not_overwritten(fake: Fake) -> None:
    channel, post = fake.bluesky(), make_post("bluesky")
    channel.publish(post)
    with pytest.raises(PublishRejected, match="InvalidSwap"):
        channel.publish(replace(post, text="Something else entirely"))
    with pytest.raises(PublishRejected, match="different post"):
        channel.find(replace(post, text="Something else entirely"))


def test_bluesky_fake_refuses_a_record_key_that_is_not_a_tid(fake: Fake) -> None:
    session = fake.bluesky()._current_session()
    request = urllib.request.Request(
        f"{fake.base}/_local/networks/bluesky/xrpc/com.atproto.repo.putRecord",
        data=json.dumps(
            {
                "repo": session["did"],
                "collection": "app.bsky.feed.post",
                "rkey": "my-post-1",
                "record": {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": SCHEDULED},
            }
        ).encode(),
        headers={"Authorization": f"Bearer {session['accessJwt']}", "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    assert json.loads(refused.value.read()) == {"error": "InvalidRequest", "message": "Invalid TID string"}


def test_bluesky_metrics_come_from_get_posts(fake: Fake, clock_at: FrozenClock) -> None:
    channel = fake.bluesky()
    receipt = channel.publish(make_post("bluesky"))
    clock_at.advance(hours=12)
    metrics = channel.metrics(receipt)
    expected = engagement("bluesky", receipt.extra["rkey"], timedelta(hours=12))
    assert (metrics.likes, metrics.reposts, metrics.replies, metrics.quotes) == (
        expected["likes"],
        expected["reposts"],
        expected["replies"],
        expected["quotes"],
    )
    assert metrics.impressions is None and metrics.clicks is None


def test_bluesky_expired_session_is_renewed_once(fake: Fake, clock_at: FrozenClock) -> None:
    channel = fake.bluesky()
    receipt = channel.publish(make_post("bluesky"))
    first_token = channel._current_session()["accessJwt"]
    clock_at.advance(hours=3)  # access tokens live two hours
    channel.metrics(receipt)
    assert channel._current_session()["accessJwt"] != first_token


def test_bluesky_wrong_app_password_is_rejected_as_not_authorised(fake: Fake) -> None:
    with pytest.raises(PublishRejected, match=r"bluesky: not authorised .*Invalid identifier or password"):
        fake.bluesky(password="wrong").publish(make_post("bluesky"))


def test_bluesky_over_300_graphemes_is_rejected_with_the_network_reason(fake: Fake) -> None:
    channel = fake.bluesky()
    channel.publish(make_post("bluesky", text="👍🏽" * 300))  # 300 graphemes, 2,400 bytes: fits
    with pytest.raises(PublishRejected, match="must not be longer than 300 graphemes"):
        channel.publish(make_post("bluesky", text="é" * 301, key="long:v1:bluesky"))


def test_bluesky_rate_limit_is_unavailable_and_names_the_epoch_reset(fake: Fake) -> None:
    fake.inject(network="bluesky", fail=[429])
    reset = int((START + timedelta(hours=1)).timestamp())
    with pytest.raises(ChannelUnavailable, match=rf"resets at 2026-11-21T10:00:00Z \(epoch {reset}\)"):
        fake.bluesky().publish(make_post("bluesky"))


# ---- every network ----


@pytest.mark.parametrize("name", NAMES)
def test_server_error_is_unavailable_and_the_retry_publishes_once(fake: Fake, name: str) -> None:
    fake.inject(network=name, fail=[503, 500])
    channel, post = any_channel(fake, name), make_post(name)
    for _ in range(2):
        with pytest.raises(ChannelUnavailable, match=rf"{name}: HTTP 50[03]"):
            channel.publish(post)
    assert channel.publish(post) == channel.find(post)
    assert fake.stats(name) == {"publish_calls": 4 if name == "mastodon" else 3, "posts": 1}


@pytest.mark.parametrize("name", NAMES)
def test_slow_answer_times_out_as_unavailable_and_the_retry_does_not_double_post(
    fake: Fake, name: str
) -> None:
    fake.inject(network=name, delay_seconds=1.0)  # the post goes through, after the client gave up
    channel, post = any_channel(fake, name, timeout=SHORT), make_post(name)
    started = time.monotonic()
    with pytest.raises(ChannelUnavailable, match=rf"{name}: no answer within 0.5 s"):
        channel.publish(post)
    assert time.monotonic() - started < 1.0
    time.sleep(0.8)  # let the late call land: the retry must then find it, not post again
    channel.timeout = 5
    receipt = channel.publish(post)
    assert channel.find(post) == receipt
    assert fake.stats(name)["posts"] == 1


@pytest.mark.parametrize("name", NAMES)
def test_timeout_fault_is_unavailable_and_publishes_nothing(fake: Fake, name: str) -> None:
    fake.inject(network=name, fail=["timeout"])
    with pytest.raises(ChannelUnavailable, match="no answer within"):
        any_channel(fake, name, timeout=SHORT).publish(make_post(name))
    assert fake.stats(name)["posts"] == 0


@pytest.mark.parametrize("name", NAMES)
def test_reject_fault_is_publish_rejected_with_the_reason(fake: Fake, name: str) -> None:
    fake.inject(network=name, reject="Account suspended for review")
    with pytest.raises(PublishRejected, match=rf"{name}: .*Account suspended for review"):
        any_channel(fake, name).publish(make_post(name))


def test_unreachable_network_is_unavailable() -> None:
    with socket.socket() as holder:  # bound but not listening: connections are refused
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(ChannelUnavailable, match="sandbox: cannot connect"):
            SandboxChannel(f"http://127.0.0.1:{port}/_local/channels/sandbox", timeout=2).publish(
                make_post("sandbox")
            )


def test_faults_endpoint_lists_validates_and_clears_pending_faults(fake: Fake) -> None:
    url = f"{fake.base}/_local/networks/faults"
    status, pending = http("POST", url, {"network": "mastodon", "fail": [503, "timeout"], "reject": "no"})
    assert status == 200
    assert [f["fail"] for f in pending["mastodon"]] == [503, "timeout", None]
    assert pending["mastodon"][2]["reject"] == "no"
    assert http("POST", url, {"network": "myspace", "fail": [503]})[0] == 400
    assert http("POST", url, {"network": "sandbox", "fail": [200]})[0] == 400
    assert http("POST", url, {"network": "sandbox", "delay_seconds": 60})[0] == 400
    assert http("GET", url) == (200, pending)
    assert http("DELETE", url) == (200, {"mastodon": [], "bluesky": [], "sandbox": []})


def test_stats_count_publish_calls_per_network(fake: Fake) -> None:
    fake.sandbox().publish(make_post("sandbox"))
    status, stats = http("GET", f"{fake.base}/_local/networks/stats")
    assert status == 200
    assert stats["sandbox"] == {"publish_calls": 1, "posts": 1}
    assert stats["mastodon"] == {"publish_calls": 0, "posts": 0}


# ---- configuration, engagement, parsing ----


def test_channel_for_builds_configured_adapters_and_refuses_unconfigured(fake: Fake) -> None:
    config = fake.config
    assert isinstance(channel_for("sandbox", config), SandboxChannel)
    assert isinstance(channel_for("mastodon", config), MastodonChannel)
    bluesky = channel_for("bluesky", config)
    assert isinstance(bluesky, BlueskyChannel)
    assert channel_for("bluesky", config) is bluesky  # reused: its Bluesky session survives
    assert isinstance(bluesky.publish(make_post("bluesky")), Receipt)
    with pytest.raises(PublishRejected, match="linkedin is not configured"):
        channel_for("linkedin", config)
    with pytest.raises(PublishRejected, match="mastodon is not configured"):
        channel_for("mastodon", {"sandbox": config["sandbox"]})
    with pytest.raises(PublishRejected, match="bluesky is not configured: its credentials lack app_password"):
        channel_for("bluesky", {"bluesky": {"service": "https://bsky.social", "identifier": "me"}})


def test_engagement_is_deterministic_and_grows_with_age() -> None:
    ages = [timedelta(hours=h) for h in (0, 1, 3, 6, 12, 24, 48, 96)]
    series = [engagement("sandbox", "sbx-1", age) for age in ages]
    assert series == [engagement("sandbox", "sbx-1", age) for age in ages]
    assert series[0]["impressions"] == 0
    for name in series[0]:
        values = [point[name] for point in series]
        assert values == sorted(values), name
    at_48h = series[6]
    assert 700 <= at_48h["impressions"] <= 5000
    engaged = at_48h["likes"] + at_48h["reposts"] + at_48h["replies"] + at_48h["quotes"]
    assert 0.005 * at_48h["impressions"] <= engaged <= 0.06 * at_48h["impressions"]
    assert 0.003 * at_48h["impressions"] <= at_48h["clicks"] <= 0.03 * at_48h["impressions"]
    assert engagement("sandbox", "sbx-2", ages[6]) != at_48h  # another post, another curve


def test_sandbox_metrics_are_the_same_for_the_same_age(fake: Fake, clock_at: FrozenClock) -> None:
    channel = fake.sandbox()
    receipt = channel.publish(make_post("sandbox"))
    clock_at.advance(hours=5)
    first = channel.metrics(receipt)
    assert channel.metrics(receipt) == first
    clock_at.advance(hours=20)
    later = channel.metrics(receipt)
    assert later.impressions is not None and first.impressions is not None
    assert later.impressions > first.impressions and later.likes >= first.likes


def test_rate_limit_reset_reads_each_networks_header() -> None:
    assert (
        rate_limit_reset({"x-ratelimit-reset": "2026-11-21T09:05:00.000Z"}) == "at 2026-11-21T09:05:00.000Z"
    )
    assert rate_limit_reset({"ratelimit-reset": "1795251600"}) == "at 2026-11-21T09:00:00Z (epoch 1795251600)"
    assert rate_limit_reset({"retry-after": "30"}) == "in 30 s"
    assert rate_limit_reset({}) is None
