"""The channel adapters against the fake networks over real HTTP (local/networks.py on a free port).

Business time is frozen (``greenlight.clock.now`` patched) so engagement, rate-limit windows and token
expiry are deterministic; tests move it with ``clock_at.advance``.
"""

import io
import json
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import PIL.Image
import pytest
from greenlight import clock
from greenlight.channels import (
    AccountStats,
    BlueskyChannel,
    Gone,
    MastodonChannel,
    Metrics,
    Post,
    PostImage,
    RateLimited,
    Receipt,
    SandboxChannel,
    channel_for,
)
from greenlight.channels.bluesky import TID_ALPHABET, facets, is_tid, post_record, record_key
from greenlight.channels.http import rate_limit_reset, retry_at
from greenlight.errors import ChannelUnavailable, PublishRejected

from local.networks import FakeNetworks, channel_config, engagement, serve
from local.networks import followers as fake_followers

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
        created_at=SCHEDULED,
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


def test_mastodon_post_goes_out_with_its_visibility_language_and_content_warning(fake: Fake) -> None:
    post = make_post("mastodon", visibility="unlisted", language="de", content_warning="Spoilers: finale")
    receipt = fake.mastodon().publish(post)
    status = fake.networks._state.statuses[receipt.post_id]
    assert (status.visibility, status.language, status.spoiler_text) == ("unlisted", "de", "Spoilers: finale")
    plain = fake.mastodon().publish(make_post("mastodon", key="plain:v1:mastodon"))
    assert fake.networks._state.statuses[plain.post_id].spoiler_text == "", "no warning unless asked"
    with pytest.raises(PublishRejected, match="Visibility is not included"):
        fake.mastodon().publish(make_post("mastodon", key="odd:v1:mastodon", visibility="everyone"))
    with pytest.raises(PublishRejected, match="character limit of 500"):
        # Mastodon counts the content warning with the text.
        fake.mastodon().publish(
            make_post("mastodon", key="cw:v1:mastodon", text="x" * 480, content_warning="y" * 21)
        )


def test_bluesky_post_carries_its_languages(fake: Fake) -> None:
    post = make_post("bluesky", langs=("en", "pt-BR"))
    fake.bluesky().publish(post)
    assert fake.networks._state.records[record_key(post)].value["langs"] == ["en", "pt-BR"]
    assert "langs" not in post_record(make_post("bluesky")), "none set: the account's default"


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


def link_facets(text: str) -> list[dict[str, Any]]:
    return facets(text, lambda handle: None)[0]


def test_bluesky_link_facets_use_utf8_byte_offsets() -> None:
    text = "Café ☕ opens: https://example.org/menu."
    [facet] = link_facets(text)
    start = len("Café ☕ opens: ".encode())
    assert facet["index"] == {"byteStart": start, "byteEnd": start + len(b"https://example.org/menu")}
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/menu"}]
    assert link_facets("(see https://en.wikipedia.org/wiki/Bee_(disambiguation))")[0]["features"][0][
        "uri"
    ] == ("https://en.wikipedia.org/wiki/Bee_(disambiguation)")


def test_bluesky_tags_and_mentions_are_facets_at_their_utf8_byte_offsets() -> None:
    text = "👨\u200d👩\u200d👧 Grüße #Frühling2026! with @ana.bsky.social and @nobody.example, #2026 #日本"
    did = "did:plc:anaaaaaaaaaaaaaaaaaaaaaa"
    found, notes = facets(text, lambda handle: did if handle == "ana.bsky.social" else None)
    raw = text.encode()
    spans = [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in found]
    assert spans == ["#Frühling2026", "@ana.bsky.social", "#日本"], "#2026 (digits only) is no tag"
    features = [f["features"][0] for f in found]
    assert features[0] == {"$type": "app.bsky.richtext.facet#tag", "tag": "Frühling2026"}
    assert features[1] == {"$type": "app.bsky.richtext.facet#mention", "did": did}
    assert features[2] == {"$type": "app.bsky.richtext.facet#tag", "tag": "日本"}
    assert notes == ["@nobody.example is no Bluesky account: the mention went out as plain text"]


def test_a_hash_inside_a_link_is_part_of_the_link_not_a_tag() -> None:
    [facet] = link_facets("Read https://example.org/page#section now")
    assert facet["features"][0]["uri"] == "https://example.org/page#section"


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


def test_bluesky_created_at_is_when_the_post_went_out_not_the_planned_time(fake: Fake) -> None:
    late = "2026-11-21T12:03:04.567Z"  # three hours after SCHEDULED
    post = make_post("bluesky", created_at=late)
    assert post_record(post)["createdAt"] == late
    receipt = fake.bluesky().publish(post)
    assert receipt.published_at == late
    assert fake.bluesky().publish(post) == receipt, "a retry sends the same moment: a no-op"
    assert record_key(post) == record_key(make_post("bluesky")), "the record key stays the planned time's"


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
    with pytest.raises(PublishRejected, match="already holds a different post"):
        channel.publish(replace(post, text="Something else entirely"))
    with pytest.raises(PublishRejected, match="different post"):
        channel.find(replace(post, text="Something else entirely"))
    assert fake.networks._state.records[record_key(post)].value["text"] == post.text, "not overwritten"


def test_bluesky_a_retry_whose_card_differs_finds_the_first_attempts_post(fake: Fake) -> None:
    """The link's page answered the first attempt and not the retry: the records differ (the card),
    the write is refused, and the post already out under the key is the answer."""
    channel = fake.bluesky()
    page = f"{fake.base}/_local/networks/web/webinar"
    post = make_post("bluesky", text=f"Join us {page}", link=page, link_page=page)
    first = channel.publish(post)
    again = channel.publish(replace(post, link_page=f"{fake.base}/_local/networks/web/missing"))
    assert again.post_id == first.post_id and again.extra["cid"] == first.extra["cid"]
    assert len(fake.networks._state.records) == 1


def test_bluesky_post_with_a_link_carries_its_card_with_the_picture_as_a_blob(fake: Fake) -> None:
    page = f"{fake.base}/_local/networks/web/webinar"
    tracked = "https://greenlight.example.org/r/abc123"
    post = make_post(
        "bluesky", text=f"Spring #webinar with @ana.bsky.social: {tracked}", link=tracked, link_page=page
    )
    receipt = fake.bluesky().publish(post)
    assert receipt.notes == ()
    record = fake.networks._state.records[record_key(post)].value
    external = record["embed"]["external"]
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    assert external["uri"] == tracked, "the card opens the tracked link, so its clicks count"
    assert external["title"] == "Spring webinar: planning posts that work"
    assert external["description"].startswith("One hour on requests")
    thumb = external["thumb"]
    assert thumb["$type"] == "blob" and thumb["mimeType"] == "image/png" and thumb["size"] > 0
    assert thumb["ref"]["$link"] in fake.networks._state.blobs
    kinds = [f["features"][0]["$type"].rsplit("#", 1)[1] for f in record["facets"]]
    assert kinds == ["tag", "mention", "link"]


def test_bluesky_post_goes_out_without_a_card_when_the_page_cannot_be_read(fake: Fake) -> None:
    page = f"{fake.base}/_local/networks/web/missing"
    post = make_post("bluesky", text=f"See {page} and @nobody.example", link=page, link_page=page)
    receipt = fake.bluesky().publish(post)
    assert "embed" not in fake.networks._state.records[record_key(post)].value
    assert receipt.notes == (
        "@nobody.example is no Bluesky account: the mention went out as plain text",
        f"no link card: {page} answered HTTP 404",
    )


@pytest.mark.parametrize(
    ("facet", "reason"),
    [
        (
            {
                "index": {"byteStart": 0, "byteEnd": 99},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}],
            },
            "not inside",
        ),
        (
            {
                "index": {"byteStart": 1, "byteEnd": 3},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}],
            },
            "cuts a character",
        ),
        (
            {
                "index": {"byteStart": 0, "byteEnd": 2},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "ana"}],
            },
            "valid did",
        ),
        (
            {
                "index": {"byteStart": 0, "byteEnd": 2},
                "features": [{"$type": "app.bsky.richtext.facet#bold"}],
            },
            "unknown type",
        ),
    ],
)
def test_bluesky_fake_refuses_facets_the_network_would_not_take(
    fake: Fake, facet: dict[str, Any], reason: str
) -> None:
    channel = fake.bluesky()
    session = channel._current_session()
    record = post_record(make_post("bluesky", text="é and more")) | {"facets": [facet]}
    body = {
        "repo": session["did"],
        "collection": "app.bsky.feed.post",
        "rkey": record_key(make_post("bluesky")),
        "record": record,
    }
    with pytest.raises(PublishRejected, match=reason):
        channel._call("POST", "com.atproto.repo.putRecord", body=body)


def test_bluesky_fake_refuses_a_card_whose_picture_was_never_uploaded(fake: Fake) -> None:
    channel = fake.bluesky()
    blob = {"$type": "blob", "ref": {"$link": "bafkreinever"}, "mimeType": "image/png", "size": 10}
    embed = {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://x.org", "title": "t", "description": "", "thumb": blob},
    }
    body = {
        "repo": channel._current_session()["did"],
        "collection": "app.bsky.feed.post",
        "rkey": record_key(make_post("bluesky")),
        "record": post_record(make_post("bluesky"), embed=embed),
    }
    with pytest.raises(PublishRejected, match="Could not find blob"):
        channel._call("POST", "com.atproto.repo.putRecord", body=body)


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


# ---- measuring every post: batched reads, deleted posts, followers, rate limits ----

MASTODON_AUTH = {"authorization": "Bearer local-mastodon-token"}


@dataclass
class Seen:
    """Every request the fake networks answered (method, target, status), in order."""

    calls: list[tuple[str, str, int]]

    def to(self, method: str, path: str) -> list[str]:
        return [target for m, target, _ in self.calls if m == method and target.split("?")[0].endswith(path)]


@pytest.fixture
def seen(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> Seen:
    record = Seen([])
    original = fake.networks.handle

    def handle(
        method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        answer = original(method, target, headers, body)
        record.calls.append((method, target, answer[0]))
        return answer

    monkeypatch.setattr(fake.networks, "handle", handle)
    return record


def publish_many(fake: Fake, name: str, count: int, channel: Adapter | None = None) -> list[Receipt]:
    channel = channel or any_channel(fake, name)
    return [
        channel.publish(
            make_post(
                name,
                text=f"Post {n} of the autumn campaign",
                key=f"20261121-abcdefgh:v{n}:{name}",
                scheduled_at=f"2026-11-21T09:{n // 60:02d}:{n % 60:02d}.000Z",
            )
        )
        for n in range(count)
    ]


def engagement_of(receipt: Receipt, age: timedelta) -> dict[str, int]:
    """What the fake reports for this post at this age (Bluesky seeds by record key)."""
    seed = receipt.extra["rkey"] if receipt.channel == "bluesky" else receipt.post_id
    return engagement(receipt.channel, seed, age)


def counts(metrics: Metrics) -> tuple[int, int, int, int]:
    return metrics.likes, metrics.reposts, metrics.replies, metrics.quotes


def query_values(target: str, name: str) -> list[str]:
    return parse_qs(urlsplit(target).query)[name]


def test_mastodon_metrics_many_reads_45_statuses_in_3_calls_of_at_most_20(
    fake: Fake, seen: Seen, clock_at: FrozenClock
) -> None:
    channel = fake.mastodon()
    receipts = publish_many(fake, "mastodon", 45)
    clock_at.advance(hours=24)
    seen.calls.clear()
    results = channel.metrics_many(receipts)
    batches = seen.to("GET", "/api/v1/statuses")
    assert [len(query_values(t, "id[]")) for t in batches] == [20, 20, 5]
    assert len(seen.calls) == 3  # no single-status reads besides
    assert list(results) == [r.post_id for r in receipts]
    for receipt in receipts:
        metrics = results[receipt.post_id]
        assert isinstance(metrics, Metrics), receipt.post_id
        expected = engagement_of(receipt, timedelta(hours=24))
        assert counts(metrics) == (
            expected["likes"],
            expected["reposts"],
            expected["replies"],
            expected["quotes"],
        )
        assert metrics.taken_at == clock.iso(clock_at.moment) and metrics.impressions is None
    # 45 publishes and 3 reads of the account's 300 calls per 5 minutes (the window rolled since).
    assert channel.budget is not None and channel.budget.remaining == 300 - 3
    assert channel.budget.reset_at == clock_at.moment + timedelta(minutes=5)


def test_bluesky_metrics_many_reads_60_posts_in_3_calls_of_at_most_25(
    fake: Fake, seen: Seen, clock_at: FrozenClock
) -> None:
    channel = fake.bluesky()
    receipts = publish_many(fake, "bluesky", 60, channel)
    clock_at.advance(minutes=90)  # within the session's two hours: no renewal call
    seen.calls.clear()
    results = channel.metrics_many(receipts)
    batches = seen.to("GET", "/xrpc/app.bsky.feed.getPosts")
    assert [query_values(t, "uris") for t in batches] == [
        [r.post_id for r in receipts[0:25]],
        [r.post_id for r in receipts[25:50]],
        [r.post_id for r in receipts[50:60]],
    ]
    assert len(seen.calls) == 3
    for receipt in receipts:
        metrics = results[receipt.post_id]
        assert isinstance(metrics, Metrics)
        expected = engagement_of(receipt, timedelta(minutes=90))
        assert counts(metrics) == (
            expected["likes"],
            expected["reposts"],
            expected["replies"],
            expected["quotes"],
        )
        assert metrics.bookmarks == expected["likes"] // 8
    assert channel.budget is not None and channel.budget.remaining == 3000 - 3


def test_sandbox_metrics_many_reads_impressions_and_clicks_in_one_call(
    fake: Fake, seen: Seen, clock_at: FrozenClock
) -> None:
    receipts = publish_many(fake, "sandbox", 7)
    clock_at.advance(hours=6)
    seen.calls.clear()
    results = fake.sandbox().metrics_many(receipts)
    assert [len(query_values(t, "id")) for t in seen.to("GET", "/channels/sandbox/posts")] == [7]
    for receipt in receipts:
        metrics = results[receipt.post_id]
        expected = engagement_of(receipt, timedelta(hours=6))
        assert isinstance(metrics, Metrics)
        assert (metrics.impressions, metrics.clicks) == (expected["impressions"], expected["clicks"])
        assert counts(metrics) == (
            expected["likes"],
            expected["reposts"],
            expected["replies"],
            expected["quotes"],
        )


@pytest.mark.parametrize("name", NAMES)
def test_counts_at_two_business_times_grow_and_match_the_network(
    fake: Fake, clock_at: FrozenClock, name: str
) -> None:
    channel = any_channel(fake, name)
    receipts = publish_many(fake, name, 3)
    snapshots = []
    for hours in (3, 30):
        clock_at.moment = START + timedelta(hours=hours)
        results = channel.metrics_many(receipts)
        for receipt in receipts:
            metrics = results[receipt.post_id]
            assert isinstance(metrics, Metrics)
            # Each post's own age (they went out seconds apart), as the network counts it.
            age = clock_at.moment - datetime.fromisoformat(receipt.published_at.replace("Z", "+00:00"))
            if name == "bluesky":
                age = timedelta(hours=hours)  # the fake indexed every record at START (frozen clock)
            expected = engagement_of(receipt, age)
            assert counts(metrics) == (
                expected["likes"],
                expected["reposts"],
                expected["replies"],
                expected["quotes"],
            )
        snapshots.append(results)
    early, late = snapshots
    for receipt in receipts:
        before, after = early[receipt.post_id], late[receipt.post_id]
        assert isinstance(before, Metrics) and isinstance(after, Metrics)
        assert all(b <= a for b, a in zip(counts(before), counts(after), strict=True))
        assert before.likes < after.likes  # they did grow: the comparison above is not vacuous


def delete_on_network(fake: Fake, receipt: Receipt) -> None:
    """Delete a post the way each network's own API does."""
    if receipt.channel == "mastodon":
        status, _, body = fake.networks.handle(
            "DELETE", f"/_local/networks/mastodon/api/v1/statuses/{receipt.post_id}", MASTODON_AUTH, b""
        )
        assert status == 200 and json.loads(body)["id"] == receipt.post_id
    elif receipt.channel == "bluesky":
        token = fake.bluesky()._current_session()["accessJwt"]
        document = {
            "repo": "greenlight.local",
            "collection": "app.bsky.feed.post",
            "rkey": receipt.extra["rkey"],
        }
        status, _, body = fake.networks.handle(
            "POST",
            "/_local/networks/bluesky/xrpc/com.atproto.repo.deleteRecord",
            {"authorization": f"Bearer {token}"},
            json.dumps(document).encode(),
        )
        assert status == 200 and "commit" in json.loads(body)
    else:
        status, _, _ = fake.networks.handle(
            "DELETE", f"/_local/channels/sandbox/posts/{receipt.post_id}", {}, b""
        )
        assert status == 200


@pytest.mark.parametrize("name", NAMES)
def test_deleted_post_is_gone_not_zero(fake: Fake, clock_at: FrozenClock, name: str) -> None:
    channel = any_channel(fake, name)
    kept, deleted = publish_many(fake, name, 2)
    clock_at.advance(hours=8)
    delete_on_network(fake, deleted)
    results = channel.metrics_many([kept, deleted])
    assert isinstance(results[kept.post_id], Metrics)
    gone = results[deleted.post_id]
    assert isinstance(gone, Gone) and gone.post_id == deleted.post_id and "deleted" in gone.note
    with pytest.raises(PublishRejected, match="is gone"):
        channel.metrics(deleted)
    assert channel.metrics(kept) == results[kept.post_id]


def test_mastodon_fake_answers_a_deleted_status_404_and_reposts_its_key_anew(fake: Fake) -> None:
    channel, post = fake.mastodon(), make_post("mastodon")
    first = channel.publish(post)
    delete_on_network(fake, first)
    status, body = http("GET", f"{fake.base}/_local/networks/mastodon/api/v1/statuses/{first.post_id}")
    assert (status, body) == (404, {"error": "Record not found"})
    # Mastodon's idempotency cache points at a status that no longer exists: it posts again.
    assert channel.publish(post).post_id != first.post_id


def test_mastodon_without_the_batch_endpoint_reads_one_status_at_a_time(
    fake: Fake, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server older than 4.3 answers GET /api/v1/statuses with 404: one GET per status then, and
    a status that answers 404 "Record not found" is Gone."""
    kept, deleted = publish_many(fake, "mastodon", 2)
    delete_on_network(fake, deleted)
    recording = fake.networks.handle

    def old_server(
        method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if method == "GET" and urlsplit(target).path.endswith("/api/v1/statuses"):
            return 404, {"content-type": "application/json"}, b'{"error": "Not Found"}'
        return recording(method, target, headers, body)

    monkeypatch.setattr(fake.networks, "handle", old_server)
    seen.calls.clear()
    results = fake.mastodon().metrics_many([kept, deleted])
    assert isinstance(results[kept.post_id], Metrics)
    assert results[deleted.post_id] == Gone(deleted.post_id, "deleted on mastodon: 404 Record not found")
    assert len(seen.to("GET", f"/api/v1/statuses/{kept.post_id}")) == 1


def test_bluesky_post_not_yet_indexed_is_left_out_not_gone(
    fake: Fake, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getPosts leaves out a post the AppView has not indexed yet; the PDS still has its record."""
    shown, lagging = publish_many(fake, "bluesky", 2)
    recording = fake.networks.handle

    def lagging_appview(
        method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        status, answer_headers, payload = recording(method, target, headers, body)
        if "getPosts" in target and status == 200:
            document = json.loads(payload)
            document["posts"] = [p for p in document["posts"] if p["uri"] != lagging.post_id]
            payload = json.dumps(document).encode()
        return status, answer_headers, payload

    monkeypatch.setattr(fake.networks, "handle", lagging_appview)
    channel = fake.bluesky()
    results = channel.metrics_many([shown, lagging])
    assert set(results) == {shown.post_id} and isinstance(results[shown.post_id], Metrics)
    assert len(seen.to("GET", "/xrpc/com.atproto.repo.getRecord")) == 1  # asked the PDS once
    with pytest.raises(ChannelUnavailable, match=r"does not show .* yet"):
        channel.metrics(lagging)


def spend(fake: Fake, method: str, target: str, headers: dict[str, str], until: int) -> None:
    """Call the fake in-process until the call numbered ``until`` answers 429."""
    for n in range(1, until + 1):
        status, _, _ = fake.networks.handle(method, target, headers, b"")
        assert (status == 429) == (n == until), (n, status)


def test_mastodon_429_on_a_read_is_rate_limited_until_the_iso_reset_keeping_what_was_read(
    fake: Fake, clock_at: FrozenClock
) -> None:
    channel = fake.mastodon()
    receipts = publish_many(fake, "mastodon", 25)
    clock_at.moment = START + timedelta(minutes=7)  # a new window: 09:05–09:10
    target = f"/_local/networks/mastodon/api/v1/statuses?id[]={receipts[0].post_id}"
    spend(fake, "GET", target, MASTODON_AUTH, until=301)  # the 300 calls of this window, then a 429
    clock_at.advance(minutes=1)
    with pytest.raises(RateLimited) as limited:
        channel.metrics_many(receipts)
    assert limited.value.retry_at == datetime(2026, 11, 21, 9, 10, tzinfo=UTC)
    assert isinstance(limited.value, ChannelUnavailable)  # anything that retries those still does
    assert "retry at 2026-11-21T09:10:00.000Z" in str(limited.value)
    assert limited.value.partial == {}
    assert channel.budget is not None and channel.budget.remaining == 0
    assert channel.budget.reset_at == limited.value.retry_at
    with pytest.raises(RateLimited):
        channel.followers()
    clock_at.moment = limited.value.retry_at  # the window has reset: it reads again
    assert len(channel.metrics_many(receipts)) == 25


def test_mastodon_limit_hit_mid_sweep_keeps_the_first_batch(fake: Fake, clock_at: FrozenClock) -> None:
    channel = fake.mastodon()
    receipts = publish_many(fake, "mastodon", 25)
    clock_at.moment = START + timedelta(minutes=5, seconds=30)
    target = f"/_local/networks/mastodon/api/v1/statuses?id[]={receipts[0].post_id}"
    for _ in range(299):  # leave one call in the window
        assert fake.networks.handle("GET", target, MASTODON_AUTH, b"")[0] == 200
    with pytest.raises(RateLimited) as limited:
        channel.metrics_many(receipts)
    assert list(limited.value.partial) == [r.post_id for r in receipts[:20]]
    assert all(isinstance(m, Metrics) for m in limited.value.partial.values())
    assert limited.value.retry_at == datetime(2026, 11, 21, 9, 10, tzinfo=UTC)


def test_bluesky_429_on_a_read_is_rate_limited_until_the_epoch_reset(
    fake: Fake, clock_at: FrozenClock
) -> None:
    channel = fake.bluesky()
    receipts = publish_many(fake, "bluesky", 3)
    clock_at.moment = START + timedelta(minutes=12)  # the window 09:10–09:15
    target = (
        "/_local/networks/bluesky/xrpc/com.atproto.repo.getRecord"
        f"?repo=greenlight.local&collection=app.bsky.feed.post&rkey={receipts[0].extra['rkey']}"
    )
    spend(fake, "GET", target, {}, until=3001)
    status, headers, _ = fake.networks.handle("GET", target, {}, b"")
    reset = datetime(2026, 11, 21, 9, 15, tzinfo=UTC)
    assert status == 429 and headers["ratelimit-reset"] == str(int(reset.timestamp()))
    assert headers["ratelimit-remaining"] == "0"
    with pytest.raises(RateLimited) as limited:
        channel.metrics_many(receipts)
    assert limited.value.retry_at == reset
    with pytest.raises(RateLimited) as limited_again:
        channel.followers()
    assert limited_again.value.retry_at == reset
    assert channel.budget is not None and channel.budget.remaining == 0
    clock_at.moment = reset
    assert len(channel.metrics_many(receipts)) == 3


@pytest.mark.parametrize("name", ["mastodon", "bluesky"])
def test_429_on_publish_stays_the_channel_unavailable_the_state_machine_retries(
    fake: Fake, name: str
) -> None:
    fake.inject(network=name, fail=[429])
    with pytest.raises(ChannelUnavailable) as refused:
        any_channel(fake, name).publish(make_post(name))
    assert type(refused.value) is ChannelUnavailable  # the ASL's Retry names this class exactly


def test_retry_at_reads_each_networks_reset_and_retry_after() -> None:
    now = datetime(2026, 11, 21, 9, 2, tzinfo=UTC)
    assert retry_at({"x-ratelimit-reset": "2026-11-21T09:05:00.000Z"}, now) == datetime(
        2026, 11, 21, 9, 5, tzinfo=UTC
    )
    assert retry_at(
        {"ratelimit-reset": str(int(datetime(2026, 11, 21, 10, tzinfo=UTC).timestamp()))}, now
    ) == (datetime(2026, 11, 21, 10, tzinfo=UTC))
    assert retry_at({"retry-after": "30"}, now) == now + timedelta(seconds=30)
    assert retry_at({"retry-after": "Sat, 21 Nov 2026 09:04:00 GMT"}, now) == datetime(
        2026, 11, 21, 9, 4, tzinfo=UTC
    )
    # The later of two answers wins; a reset already past is "now"; nothing readable is a minute.
    assert retry_at(
        {"x-ratelimit-reset": "2026-11-21T09:05:00Z", "retry-after": "600"}, now
    ) == now + timedelta(minutes=10)
    assert retry_at({"x-ratelimit-reset": "2026-11-21T09:00:00Z"}, now) == now
    assert retry_at({"retry-after": "soon"}, now) == now + timedelta(minutes=1)
    assert retry_at({}, now) == now + timedelta(minutes=1)


@pytest.mark.parametrize("name", NAMES)
def test_followers_grow_with_business_time_and_count_the_accounts_posts(
    fake: Fake, clock_at: FrozenClock, name: str
) -> None:
    channel = any_channel(fake, name)
    publish_many(fake, name, 4)
    first = channel.followers()
    assert first == AccountStats(followers=fake_followers(name, START), posts=4, taken_at=clock.iso(START))
    clock_at.advance(days=30)
    later = channel.followers()
    assert later.followers == fake_followers(name, clock_at.moment) and later.followers > first.followers
    assert later.taken_at == clock.iso(clock_at.moment)


def test_fakes_refuse_more_ids_than_the_networks_take(fake: Fake) -> None:
    mastodon = "/_local/networks/mastodon/api/v1/statuses?"
    ids = [str(1000 + n) for n in range(21)]
    status, _, body = fake.networks.handle(
        "GET", mastodon + urlencode([("id[]", i) for i in ids]), MASTODON_AUTH, b""
    )
    assert (status, json.loads(body)) == (422, {"error": "Mastodon::ValidationError"})
    # Mastodon counts distinct ids: 20 of them, one repeated, is fine (and unknown ids are left out).
    twenty = ids[:20] + ids[:1]
    status, _, body = fake.networks.handle(
        "GET", mastodon + urlencode([("id[]", i) for i in twenty]), MASTODON_AUTH, b""
    )
    assert (status, json.loads(body)) == (200, [])

    token = fake.bluesky()._current_session()["accessJwt"]
    uris = [f"at://did:plc:greenlightlocalaaaaaaaaa/app.bsky.feed.post/{n}" for n in range(26)]
    get_posts = "/_local/networks/bluesky/xrpc/app.bsky.feed.getPosts?"
    auth = {"authorization": f"Bearer {token}"}
    status, _, body = fake.networks.handle(
        "GET", get_posts + urlencode([("uris", u) for u in uris]), auth, b""
    )
    assert status == 400 and json.loads(body)["error"] == "InvalidRequest"
    status, _, body = fake.networks.handle(
        "GET", get_posts + urlencode([("uris", u) for u in uris[:25]]), auth, b""
    )
    assert (status, json.loads(body)) == (200, {"posts": []})

    sandbox = "/_local/channels/sandbox/posts?"
    status, _, _ = fake.networks.handle(
        "GET", sandbox + urlencode([("id", str(n)) for n in range(51)]), {}, b""
    )
    assert status == 400
    assert (
        fake.networks.handle("GET", sandbox + urlencode([("id", str(n)) for n in range(50)]), {}, b"")[0]
        == 200
    )


def test_fake_reads_spend_the_budget_and_answer_its_headers(fake: Fake, clock_at: FrozenClock) -> None:
    status, headers, _ = fake.networks.handle(
        "GET", "/_local/networks/mastodon/api/v1/statuses?id[]=1", MASTODON_AUTH, b""
    )
    assert status == 200 and headers["x-ratelimit-remaining"] == "299"
    assert headers["x-ratelimit-reset"] == "2026-11-21T09:05:00.000Z"
    status, headers, _ = fake.networks.handle(
        "GET", "/_local/networks/mastodon/api/v1/accounts/verify_credentials", MASTODON_AUTH, b""
    )
    assert status == 200 and headers["x-ratelimit-remaining"] == "298"
    status, _, _ = fake.networks.handle(
        "GET", "/_local/networks/mastodon/api/v1/accounts/verify_credentials", {}, b""
    )
    assert status == 401


# ---- images (issue 14, part 1: the networks' side) ----


def png(width: int = 64, height: int = 48) -> PostImage:
    out = io.BytesIO()
    PIL.Image.new("RGB", (width, height), (200, 80, 40)).save(out, format="PNG")
    return PostImage(out.getvalue(), "An orange square, our logo's colour", "image/png", width, height)


def test_mastodon_uploads_each_image_with_its_alt_text_and_attaches_it(fake: Fake) -> None:
    post = make_post("mastodon", images=(png(), png(30, 90)))
    receipt = fake.mastodon().publish(post)
    status = fake.networks._state.statuses[receipt.post_id]
    assert [m["description"] for m in status.media] == ["An orange square, our logo's colour"] * 2
    assert [m["meta"]["original"] for m in status.media] == [
        {"width": 64, "height": 48},
        {"width": 30, "height": 90},
    ]
    code, served = 0, b""
    with urllib.request.urlopen(status.media[0]["url"], timeout=5) as answer:
        code, served = answer.status, answer.read()
    assert code == 200 and served == post.images[0].data, "the fake serves what it received"


def test_bluesky_embeds_images_with_alt_and_aspect_ratio_and_no_link_card(fake: Fake) -> None:
    page = f"{fake.base}/_local/networks/web/webinar"
    post = make_post("bluesky", text=f"Our logo {page}", link=page, link_page=page, images=(png(120, 63),))
    fake.bluesky().publish(post)
    embed = fake.networks._state.records[record_key(post)].value["embed"]
    assert embed["$type"] == "app.bsky.embed.images", "images, not the link card"
    [image] = embed["images"]
    assert image["alt"] == "An orange square, our logo's colour"
    assert image["aspectRatio"] == {"width": 120, "height": 63}
    assert (
        image["image"]["mimeType"] == "image/png"
        and image["image"]["ref"]["$link"] in fake.networks._state.blobs
    )


def test_sandbox_takes_images_and_shows_them(fake: Fake) -> None:
    receipt = fake.sandbox().publish(make_post("sandbox", images=(png(),)))
    _, found = http("GET", f"{fake.base}/_local/channels/sandbox/posts/{receipt.post_id}")
    [image] = found["images"]
    assert image["alt"] == "An orange square, our logo's colour" and image["content_type"] == "image/png"
    with urllib.request.urlopen(receipt.url, timeout=5) as answer:
        assert 'alt="An orange square, our logo&#x27;s colour"' in answer.read().decode()


@pytest.mark.parametrize("network", ["mastodon", "bluesky", "sandbox"])
def test_images_that_break_a_networks_limits_are_refused_before_any_upload(fake: Fake, network: str) -> None:
    channel = {"mastodon": fake.mastodon, "bluesky": fake.bluesky, "sandbox": fake.sandbox}[network]()
    no_alt = replace(png(), alt=" ")
    with pytest.raises(PublishRejected, match="image 1 needs alt text"):
        channel.publish(make_post(network, images=(no_alt,)))
    with pytest.raises(PublishRejected, match="at most 4 images, this post has 5"):
        channel.publish(make_post(network, images=(png(),) * 5))
    assert fake.stats(network)["posts"] == 0


def test_bluesky_refuses_an_image_over_a_million_bytes_that_mastodon_takes(fake: Fake) -> None:
    out = io.BytesIO()
    noise = PIL.Image.frombytes("RGB", (800, 600), random.Random(7).randbytes(800 * 600 * 3))
    noise.save(out, format="PNG")
    big = PostImage(out.getvalue(), "Static", "image/png", 800, 600)
    assert len(big.data) > 1_000_000
    with pytest.raises(PublishRejected, match="Bluesky takes images of at most 1,000,000 bytes"):
        fake.bluesky().publish(make_post("bluesky", images=(big,)))
    assert fake.mastodon().publish(make_post("mastodon", images=(big,))).post_id


def test_a_card_never_follows_https_to_plain_http() -> None:
    """A page of the open web must not send the publishing function to a plain-http address only it
    can reach (in Lambda, the runtime API on 127.0.0.1:9001)."""
    from greenlight.channels.http import NoDowngrade, may_fetch

    handler = NoDowngrade()
    secure = urllib.request.Request("https://example.org/page")
    with pytest.raises(urllib.error.HTTPError, match="from https to http"):
        handler.redirect_request(secure, None, 302, "Found", {}, "http://127.0.0.1:9001/2018-06-01/runtime")
    assert handler.redirect_request(secure, None, 302, "Found", {}, "https://example.org/moved") is not None
    assert not may_fetch("http://127.0.0.1:9001/x.png", found_on="https://example.org/page")
    assert may_fetch("https://cdn.example.org/x.png", found_on="https://example.org/page")
