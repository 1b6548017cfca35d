"""Bluesky over XRPC: an app password opens a session (``com.atproto.server.createSession``), posts
are written with ``com.atproto.repo.putRecord`` under a record key derived from the post, counts come
from ``app.bsky.feed.getPosts`` (25 URIs a call), followers from ``app.bsky.actor.getProfile``.
See docs/reference.md, "Social networks".

Bluesky has no idempotency key. What makes a retry harmless is the record key: the same post always
gets the same key (a valid TID), ``putRecord`` with identical content is a no-op answered with the
same URI and CID, and ``"swapRecord": null`` makes the write create-only, so a *different* record
under that key is refused (``InvalidSwap``) instead of overwritten. A post's facets and link card
are looked up at publish time (a mention's DID, the link's page), so a retry may build a record that
differs from the first attempt's in them: a refused write is then checked with ``getRecord``, and a
record with the post's own text is the earlier attempt's, already out.
"""

import hashlib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from greenlight import clock, richtext
from greenlight.channels.base import (
    AccountStats,
    Gone,
    Metrics,
    Post,
    RateBudget,
    RateLimited,
    Receipt,
    refuse_images,
)
from greenlight.channels.cards import read_card
from greenlight.channels.http import (
    DEFAULT_TIMEOUT,
    Response,
    error_for,
    error_text,
    expect_fields,
    fetch,
    may_fetch,
    rate_budget,
    request_json,
)
from greenlight.errors import ChannelUnavailable, PublishRejected

COLLECTION = "app.bsky.feed.post"
BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable: string order is number order
# 13 characters of 5 bits hold 65 bits; a TID is 64 with the top bit zero, so the first
# character is one of the first 16 letters.
TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
# Answers meaning "the access token is no good any more": the reference PDS says 400 ExpiredToken
# (or InvalidToken); some servers and proxies say 401. Either way: open a new session, once.
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
CARD_TIMEOUT = 5.0  # seconds for the link's page and its picture: a card is not worth a slow publish
MAX_THUMB = 1_000_000  # bytes: app.bsky.embed.external's thumb maxSize


def make_tid(micros: int, clock_id: int) -> str:
    """A TID: 53 bits of microseconds since the Unix epoch, then a 10-bit clock id, top bit zero."""
    if not 0 <= micros < 1 << 53 or not 0 <= clock_id < 1 << 10:
        raise ValueError(f"cannot make a TID from {micros} µs and clock id {clock_id}")
    value = micros << 10 | clock_id
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def is_tid(value: str) -> bool:
    return bool(TID_PATTERN.fullmatch(value))


def record_key(post: Post) -> str:
    """The post's record key: a TID at ``post.scheduled_at``, so the same post always gets the same
    key. Two posts planned for the same moment must still differ: ``scheduled_at`` carries
    milliseconds, so the microseconds below them and the clock id (20 bits in all) come from a hash
    of ``post.key``. Should two keys still collide, the second is refused (InvalidSwap), never
    overwritten."""
    moment = _moment(post.scheduled_at)
    millis = (moment - _EPOCH) // _MILLISECOND
    digest = hashlib.sha256(post.key.encode()).digest()
    sub_millis = int.from_bytes(digest[:2], "big") % 1000
    clock_id = int.from_bytes(digest[2:4], "big") & 0x3FF
    try:
        return make_tid(millis * 1000 + sub_millis, clock_id)
    except ValueError as error:
        raise PublishRejected(f"bluesky: cannot derive a record key from {post.scheduled_at!r}") from error


def facets(text: str, resolve: Callable[[str], str | None]) -> tuple[list[dict[str, Any]], list[str]]:
    """Links, hashtags and mentions as rich-text facets (indexed in UTF-8 bytes), so they are
    clickable, searchable and notify the people mentioned; and notes for the history. ``resolve``
    gives a handle's DID, or None when no account has that handle: the mention then stays plain
    text, and a note says so."""
    found: list[dict[str, Any]] = []
    notes: list[str] = []
    for span in richtext.spans(text):
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        else:
            did = resolve(span.value)
            if did is None:
                notes.append(f"@{span.value} is no Bluesky account: the mention went out as plain text")
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        found.append(
            {"index": {"byteStart": span.byte_start, "byteEnd": span.byte_end}, "features": [feature]}
        )
    return found, notes


def post_record(
    post: Post, *, facets: list[dict[str, Any]] | None = None, embed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record for a post. ``createdAt`` is when it went out, fixed in the publish intent before
    the first attempt, so a retry writes the same moment."""
    record: dict[str, Any] = {
        "$type": COLLECTION,
        "text": post.text,
        "createdAt": clock.iso(_moment(post.created_at)),
    }
    if facets:
        record["facets"] = facets
    if post.langs:
        record["langs"] = list(post.langs)
    if embed:
        record["embed"] = embed
    return record


class BlueskyChannel:
    name = "bluesky"

    def __init__(self, service: str, identifier: str, app_password: str, *, timeout: float = DEFAULT_TIMEOUT):
        if not identifier or not app_password:
            raise PublishRejected("bluesky: not authorised: no identifier or app password configured")
        self.service = service.rstrip("/")
        self.identifier = identifier
        self.timeout = timeout
        self._password = app_password
        # createSession is limited to 30 per 5 minutes: keep the session for the instance's life
        # (a warm Lambda reuses it) and open a new one only when the PDS says it expired.
        self._lock = threading.Lock()
        self._session: dict[str, Any] | None = None
        # What the last answer's RateLimit-* headers said is left (the PDS's per-IP read limit,
        # or the write points on a write).
        self.budget: RateBudget | None = None

    # ---- Channel ----

    def publish(self, post: Post) -> Receipt:
        session = self._current_session()
        rkey = record_key(post)
        refuse_images(self.name, post)
        rich, notes = facets(post.text, self._resolve)
        embed, card_note = self._images(post) if post.images else self._link_card(post)
        record = post_record(post, facets=rich, embed=embed)
        answer = self._call(
            "POST",
            "com.atproto.repo.putRecord",
            body={
                "repo": session["did"],
                "collection": COLLECTION,
                "rkey": rkey,
                "record": record,
                "swapRecord": None,  # create-only: never overwrite a different record
            },
            accept_errors={"InvalidSwap"},
        )
        if answer.status == 400:
            earlier = self.find(post)  # raises PublishRejected when the key holds another text
            if earlier is not None:
                return earlier
            raise PublishRejected(
                f"bluesky: record key {rkey} already holds a different post ({error_text(answer.body)})"
            )
        written = expect_fields(self.name, answer.body, ("uri", "cid"))
        receipt = self._receipt(session, str(written["uri"]), str(written["cid"]), rkey, record["createdAt"])
        return replace(receipt, notes=tuple(notes + ([card_note] if card_note else [])))

    def _resolve(self, handle: str) -> str | None:
        """The DID of ``handle`` (``com.atproto.identity.resolveHandle``), or None when no account
        has it. A network that cannot answer raises ChannelUnavailable: retried, never guessed."""
        answer = self._call(
            "GET",
            "com.atproto.identity.resolveHandle",
            params={"handle": handle},
            accept_errors={"InvalidRequest", "HandleNotFound"},
        )
        if answer.status == 400:
            return None
        return str(expect_fields(self.name, answer.body, ("did",))["did"])

    def _link_card(self, post: Post) -> tuple[dict[str, Any] | None, str | None]:
        """``app.bsky.embed.external`` from the link's page (its Open Graph tags), the picture
        uploaded as a blob; None and the reason when the page cannot make one (the post goes out
        without a card: a card is worth a try, not a refused post)."""
        if not post.link or not post.link_page:
            return None, None
        timeout = min(self.timeout, CARD_TIMEOUT)
        try:
            card = read_card(post.link_page, timeout=timeout)
        except ValueError as reason:
            return None, f"no link card: {reason}"
        external: dict[str, Any] = {"uri": post.link, "title": card.title, "description": card.description}
        note = None
        if card.image and not may_fetch(card.image, found_on=post.link_page):
            note = f"link card without its picture: {card.image} is not https"
        elif card.image:
            try:
                image = fetch(card.image, timeout=timeout, max_bytes=MAX_THUMB, accept="image/")
            except ValueError as reason:
                note = f"link card without its picture: {reason}"
            else:
                external["thumb"] = self._upload(image.body, image.content_type)
        return {"$type": "app.bsky.embed.external", "external": external}, note

    def _images(self, post: Post) -> tuple[dict[str, Any], None]:
        """``app.bsky.embed.images``: each image uploaded as a blob, with its alt text and aspect
        ratio (so the app lays it out before loading it). A post with images carries no link card."""
        images = [
            {
                "image": self._upload(image.data, image.content_type),
                "alt": image.alt,
                "aspectRatio": {"width": image.width, "height": image.height},
            }
            for image in post.images
        ]
        return {"$type": "app.bsky.embed.images", "images": images}, None

    def _upload(self, data: bytes, content_type: str) -> dict[str, Any]:
        """``com.atproto.repo.uploadBlob``: the blob reference a record embeds."""
        answer = self._call("POST", "com.atproto.repo.uploadBlob", upload=(data, content_type))
        return dict(expect_fields(self.name, answer.body, ("blob",))["blob"])

    def find(self, post: Post) -> Receipt | None:
        session = self._current_session()
        rkey = record_key(post)
        answer = self._call(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": session["did"], "collection": COLLECTION, "rkey": rkey},
            accept_errors={"RecordNotFound"},
        )
        if answer.status == 400:
            return None
        found = expect_fields(self.name, answer.body, ("uri", "cid", "value"))
        value = found["value"]
        if not isinstance(value, dict) or value.get("text") != post.text:
            # Not our post: reporting it as published would hide that ours never went out.
            raise PublishRejected(f"bluesky: record key {rkey} already holds a different post")
        created_at = str(value.get("createdAt") or post_record(post)["createdAt"])
        return self._receipt(session, str(found["uri"]), str(found["cid"]), rkey, created_at)

    def metrics(self, receipt: Receipt) -> Metrics:
        found = self.metrics_many([receipt]).get(receipt.post_id)
        if found is None:
            # The AppView indexes writes about a second later.
            raise ChannelUnavailable(f"bluesky: the AppView does not show {receipt.post_id} yet")
        if isinstance(found, Gone):
            raise PublishRejected(f"bluesky: {receipt.post_id} is gone ({found.note})")
        return found

    def metrics_many(self, receipts: list[Receipt]) -> dict[str, Metrics | Gone]:
        """One ``app.bsky.feed.getPosts`` per 25 URIs. getPosts leaves out what the AppView does not
        show: a deleted post, or one written a moment ago that it has not indexed yet. The PDS tells
        them apart (``com.atproto.repo.getRecord``, one call per missing post of our own repository):
        no record there is ``Gone``; a record there is left out of the answer, to be asked again."""
        uris = list(dict.fromkeys(receipt.post_id for receipt in receipts))
        results: dict[str, Metrics | Gone] = {}
        try:
            for start in range(0, len(uris), BATCH):
                chunk = uris[start : start + BATCH]
                answer = self._call(
                    "GET",
                    "app.bsky.feed.getPosts",
                    params=[("uris", uri) for uri in chunk],
                    rate_limited=True,
                )
                posts = expect_fields(self.name, answer.body, ("posts",))["posts"]
                if not isinstance(posts, list):
                    raise ChannelUnavailable("bluesky: unexpected answer to getPosts (posts is not a list)")
                taken_at = clock.iso(clock.now())
                views = {p.get("uri"): p for p in posts if isinstance(p, dict)}
                for uri in chunk:
                    view = views.get(uri)
                    if view is not None:
                        results[uri] = _metrics(view, taken_at)
                    elif (gone := self._gone(uri)) is not None:
                        results[uri] = gone
        except RateLimited as limited:
            limited.partial.update(results)
            raise
        return results

    def followers(self) -> AccountStats:
        session = self._current_session()
        answer = self._call(
            "GET", "app.bsky.actor.getProfile", params={"actor": session["did"]}, rate_limited=True
        )
        # Counts left out are a broken answer, not zero followers.
        profile = expect_fields(self.name, answer.body, ("did", "followersCount", "postsCount"))
        return AccountStats(
            followers=int(profile["followersCount"]),
            posts=int(profile["postsCount"]),
            taken_at=clock.iso(clock.now()),
        )

    def _gone(self, uri: str) -> Gone | None:
        """Gone when the PDS has no record at ``uri``; None when it has (the AppView is behind)."""
        repo, _, rest = uri.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        if not uri.startswith("at://") or not collection or not rkey:
            return Gone(uri, "not a post URI bluesky knows: getPosts left it out")
        if repo != self._current_session()["did"]:
            return Gone(uri, "deleted on bluesky: getPosts left it out (another account's post)")
        answer = self._call(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
            accept_errors={"RecordNotFound"},
            rate_limited=True,
        )
        if answer.status == 400:
            return Gone(uri, "deleted on bluesky: getPosts left it out and the PDS has no record")
        return None

    # ---- XRPC ----

    def _receipt(self, session: dict[str, Any], uri: str, cid: str, rkey: str, created_at: str) -> Receipt:
        handle = session.get("handle")
        # An account whose handle no longer verifies reports "handle.invalid": its DID still works.
        profile = (
            handle if isinstance(handle, str) and handle and handle != "handle.invalid" else session["did"]
        )
        return Receipt(
            channel=self.name,
            post_id=uri,
            url=f"https://bsky.app/profile/{profile}/post/{rkey}",
            # putRecord returns no time: the record's createdAt is what Bluesky shows, and the same
            # for every retry, so a repeated publish returns an identical receipt.
            published_at=created_at,
            extra={"cid": cid, "rkey": rkey},
        )

    def _current_session(self, stale_token: str | None = None) -> dict[str, Any]:
        """The cached session; a new one when there is none or when ``stale_token`` is still the
        cached one (another thread may have renewed it already)."""
        with self._lock:
            if self._session is None or (stale_token and self._session["accessJwt"] == stale_token):
                answer = request_json(
                    self.name,
                    "POST",
                    f"{self.service}/xrpc/com.atproto.server.createSession",
                    body={"identifier": self.identifier, "password": self._password},
                    timeout=self.timeout,
                )
                self._session = expect_fields(self.name, answer.body, ("accessJwt", "did"))
            return self._session

    def _call(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        accept_errors: frozenset[str] | set[str] = frozenset(),
        rate_limited: bool = False,
        upload: tuple[bytes, str] | None = None,
    ) -> Response:
        """An authenticated XRPC call. Returns 2xx answers and 400s whose ``error`` is in
        ``accept_errors``; raises the domain error for anything else (RateLimited on a 429 when
        ``rate_limited``). Array parameters repeat their name (``uris=a&uris=b``), as XRPC wants."""
        url = f"{self.service}/xrpc/{nsid}" + (f"?{urlencode(params)}" if params else "")
        token: str | None = None
        for attempt in range(2):
            token = str(self._current_session(stale_token=token)["accessJwt"])
            try:
                answer = request_json(
                    self.name,
                    method,
                    url,
                    body=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                    accept=(400, 401),
                    rate_limited=rate_limited,
                    upload=upload,
                )
            except RateLimited as limited:
                limit = self.budget.limit if self.budget else None
                self.budget = RateBudget(0, limit, limited.retry_at, clock.now())
                raise
            self.budget = rate_budget(answer.headers, clock.now()) or self.budget
            error = answer.body.get("error") if isinstance(answer.body, dict) else None
            session_failed = answer.status == 401 or (answer.status == 400 and error in SESSION_ERRORS)
            if session_failed and attempt == 0:
                continue
            if 200 <= answer.status < 300 or (answer.status == 400 and error in accept_errors):
                return answer
            raise error_for(self.name, answer)
        raise AssertionError("unreachable: the second attempt returns or raises")


def _metrics(view: dict[str, Any], taken_at: str) -> Metrics:
    return Metrics(
        taken_at=taken_at,
        likes=int(view.get("likeCount") or 0),
        reposts=int(view.get("repostCount") or 0),
        replies=int(view.get("replyCount") or 0),
        quotes=int(view.get("quoteCount") or 0),
        impressions=None,  # Bluesky does not report impressions or clicks
        clicks=None,
        bookmarks=_optional_int(view.get("bookmarkCount")),  # newer AppViews only
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as error:
        raise PublishRejected(f"bluesky: {value!r} is not an ISO 8601 time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
