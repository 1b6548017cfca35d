"""Fake social networks for the local runtime and the tests: Mastodon, Bluesky and the sandbox,
answering like the real APIs do (docs/reference.md, "Social networks") so the channel
adapters run unchanged against them.

``FakeNetworks.handle(method, target, headers, body)`` serves every path under ``/_local/networks/``
and ``/_local/channels/``:

- ``/_local/networks/mastodon/api/v1/statuses`` (POST, Idempotency-Key remembered per account for
  an hour; GET ``?id[]=…``: the batch read, at most 20 distinct ids or 422, leaving out statuses that
  do not exist), ``/api/v1/statuses/:id`` (GET; DELETE, as Mastodon's own),
  ``/api/v1/accounts/verify_credentials`` (GET: the account with ``followers_count`` and
  ``statuses_count``), and ``/@greenlight/:id`` (a page for people). Every call with a token spends
  the account's 300 / 5 min; a 429 carries ``X-RateLimit-*`` (Reset as ISO 8601);
- ``/_local/networks/bluesky/xrpc/<method>``: ``com.atproto.server.createSession``,
  ``com.atproto.repo.putRecord`` / ``createRecord`` / ``deleteRecord`` / ``getRecord``,
  ``app.bsky.feed.getPosts`` (at most 25 ``uris`` or 400 InvalidRequest; leaves out posts it does not
  have), ``app.bsky.actor.getProfile`` (``followersCount``, ``postsCount``),
  ``com.atproto.identity.resolveHandle`` (the handles in ``BLUESKY_ACCOUNTS``) and
  ``com.atproto.repo.uploadBlob``; a record's facets and link card are checked as the lexicon
  says. Writes spend 5,000 points / h (create 3, update 2, delete 1); queries spend 3,000 calls /
  5 min; a 429 carries ``RateLimit-*`` (Reset in epoch seconds);
- ``/_local/channels/sandbox``: ``POST /posts``, ``GET /posts?id=…&id=…`` (the batch read, at most 50
  ids or 400, leaving out posts it does not have), ``GET /posts/by-key/:key``, ``GET /posts/:id``,
  ``DELETE /posts/:id``, ``GET /posts/:id/metrics``, ``GET /account`` (followers and posts),
  ``GET /posts.json`` (every post with its metrics), ``/p/:id`` (a page);
- ``/_local/networks/web/<page>``: pages with Open Graph tags and their pictures, for link cards;
  ``GET /posts.json`` (every post with its metrics), ``/p/:id`` (a page), ``POST /effects``
  ``{"contains": "…", "factor": 3.0}`` (a known true effect for simulated pilots: the engagement of
  every post whose text contains that string is multiplied by the factor, capped at its impressions);
- ``/_local/networks/faults`` (POST to queue failures for a network's publish endpoint, or with
  ``"on": "read"`` for its metrics reads (the batch reads and a post's counts), GET to list,
  DELETE to clear) and ``/_local/networks/stats`` (publish calls received, posts held).

Engagement is deterministic: seeded from the post id and growing with the post's age in business
time (``greenlight.clock.now()``), so the same post at the same age always shows the same numbers.
Followers grow with business time (``followers``), the same for everyone who asks at that moment.
Everything is in memory, behind one lock; sleeps (faults) happen outside it.
"""

import base64
import contextlib
import hashlib
import html
import json
import math
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from greenlight import clock
from greenlight.media import IMAGE_LIMITS, inspect, problems
from greenlight.networks import NETWORKS, graphemes

Answer = tuple[int, dict[str, str], bytes]

PREFIXES = ("/_local/networks/", "/_local/channels/")
MASTODON = "/_local/networks/mastodon"
BLUESKY = "/_local/networks/bluesky"
SANDBOX = "/_local/channels/sandbox"
NETWORK_NAMES = ("mastodon", "bluesky", "sandbox")

# Credentials the fakes accept (local/channels.json holds the same).
MASTODON_TOKEN = "local-mastodon-token"
MASTODON_ACCOUNT = "greenlight"
BLUESKY_HANDLE = "greenlight.local"
BLUESKY_PASSWORD = "local-app-password"
BLUESKY_DID = "did:plc:greenlightlocalaaaaaaaaa"  # a did:plc is 24 base32 characters
# Accounts a post may mention: their handles resolve (com.atproto.identity.resolveHandle); others do not.
BLUESKY_ACCOUNTS = {
    BLUESKY_HANDLE: BLUESKY_DID,
    "ana.bsky.social": "did:plc:anaaaaaaaaaaaaaaaaaaaaaa",
    "events.example.org": "did:plc:eventsaaaaaaaaaaaaaaaaaa",
}
MAX_BLOB = 5_000_000  # the PDS's upload limit (bytes)
MAX_THUMB = 1_000_000  # app.bsky.embed.external: thumb maxSize
WEB = "/_local/networks/web"  # pages of "the open web" for link cards
MEDIA = "/_local/networks/media"  # the images the fakes received, as people see them

IDEMPOTENCY_WINDOW = timedelta(hours=1)  # Mastodon keeps an Idempotency-Key this long
ACCESS_TOKEN_LIFETIME = timedelta(hours=2)  # a Bluesky access JWT
MAX_DELAY = 12.0  # real seconds a fault may hold a request: longer than the 10 s client time-out
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
MASTODON_BATCH = 20  # Mastodon's DEFAULT_STATUSES_LIMIT for GET /api/v1/statuses?id[]=
BLUESKY_BATCH = 25  # app.bsky.feed.getPosts: uris maxLength
SANDBOX_BATCH = 50
# Followers: where each account stood at FOLLOWERS_SINCE, and how many it gains a day after that.
FOLLOWERS_SINCE = datetime(2026, 1, 1, tzinfo=UTC)
FOLLOWERS_BASE = {"mastodon": 1180, "bluesky": 640, "sandbox": 2400}
FOLLOWERS_PER_DAY = {"mastodon": 2.5, "bluesky": 4.0, "sandbox": 6.0}


def channel_config(base_url: str) -> dict[str, dict[str, str]]:
    """The channel credentials pointing at FakeNetworks served at ``base_url`` (as channels.json)."""
    return {
        "sandbox": {"base_url": f"{base_url}{SANDBOX}"},
        "mastodon": {"base_url": f"{base_url}{MASTODON}", "access_token": MASTODON_TOKEN},
        "bluesky": {
            "service": f"{base_url}{BLUESKY}",
            "identifier": BLUESKY_HANDLE,
            "app_password": BLUESKY_PASSWORD,
        },
    }


# ---- engagement ----


def engagement(network: str, post_id: str, age: timedelta) -> dict[str, int]:
    """Plausible counts for a post of this age: impressions rise along a saturating curve to a reach
    of 800–5,000 (mostly reached within 48 h), 1–6 % of impressions engage (likes most, then
    reposts, replies, quotes) and 0.5–3 % click. Seeded from the post id: deterministic, and every
    count only grows with age."""
    rng = random.Random(hashlib.sha256(f"{network}:{post_id}".encode()).digest())
    reach = rng.randint(800, 5000)
    half_life_hours = rng.uniform(2.0, 9.0)
    engagement_rate = rng.uniform(0.01, 0.06)
    click_rate = rng.uniform(0.005, 0.03)
    likes_share = rng.uniform(0.55, 0.75)
    reposts_share = rng.uniform(0.12, 0.25)
    quotes_share = rng.uniform(0.01, 0.04)
    replies_share = max(0.0, 1.0 - likes_share - reposts_share - quotes_share)
    hours = max(0.0, age.total_seconds() / 3600)
    impressions = reach * (1 - math.exp(-hours * math.log(2) / half_life_hours))
    engaged = impressions * engagement_rate
    return {
        "impressions": int(impressions),
        "likes": int(engaged * likes_share),
        "reposts": int(engaged * reposts_share),
        "replies": int(engaged * replies_share),
        "quotes": int(engaged * quotes_share),
        "clicks": int(impressions * click_rate),
    }


def followers(network: str, now: datetime) -> int:
    """The account's followers at business time ``now``: deterministic, and never fewer later."""
    days = max(0.0, (now - FOLLOWERS_SINCE).total_seconds() / 86400)
    return FOLLOWERS_BASE[network] + int(days * FOLLOWERS_PER_DAY[network])


# ---- rate limits ----


@dataclass
class _Budget:
    """A fixed-window rate limit in business time, windows aligned to the epoch like the networks'."""

    limit: int
    period: timedelta
    window: datetime | None = None
    used: int = 0

    def spend(self, now: datetime, cost: int = 1) -> bool:
        self._roll(now)
        if self.used + cost > self.limit:
            return False
        self.used += cost
        return True

    def remaining(self, now: datetime) -> int:
        self._roll(now)
        return max(0, self.limit - self.used)

    def reset(self, now: datetime) -> datetime:
        self._roll(now)
        assert self.window is not None
        return self.window + self.period

    def exhaust(self, now: datetime) -> None:
        self._roll(now)
        self.used = self.limit

    def _roll(self, now: datetime) -> None:
        seconds = self.period.total_seconds()
        start = datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)
        if start != self.window:
            self.window, self.used = start, 0


# ---- faults ----


@dataclass
class Fault:
    """What the next publish call to a network meets: a delay (real seconds), then a failure status,
    a time-out (no answer before the client gives up), a 422 rejection, or nothing (it then goes
    through, late)."""

    status: int | None = None
    timeout: bool = False
    reject: str | None = None
    delay: float = 0.0
    on: str = "publish"  # or "read": the metrics reads

    def describe(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "fail": "timeout" if self.timeout else self.status,
            "reject": self.reject,
            "delay_seconds": self.delay,
        }


def parse_faults(document: Any) -> tuple[str, list[Fault]]:
    """The faults a POST /_local/networks/faults asks for. Raises ValueError with the reason."""
    if not isinstance(document, dict):
        raise ValueError('send {"network": ..., "fail": [...], "delay_seconds": N, "reject": "..."}')
    network = document.get("network")
    if network not in NETWORK_NAMES:
        raise ValueError(f"network must be one of {', '.join(NETWORK_NAMES)}")
    fail = document.get("fail") or []
    delay = document.get("delay_seconds") or 0
    reject = document.get("reject")
    on = document.get("on") or "publish"
    if on not in ("publish", "read"):
        raise ValueError('on must be "publish" (the default) or "read" (the metrics reads)')
    if on == "read" and reject:
        raise ValueError("a read is not rejected: use fail")
    if not isinstance(fail, list):
        raise ValueError('fail must be a list of HTTP statuses (400–599) or "timeout"')
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY:
        raise ValueError(f"delay_seconds must be a number from 0 to {MAX_DELAY:g}")
    if reject is not None and (not isinstance(reject, str) or not reject.strip()):
        raise ValueError("reject must be the network's reason, a non-empty string")
    faults = []
    for item in fail:
        if item == "timeout":
            faults.append(Fault(timeout=True, delay=float(delay)))
        elif isinstance(item, int) and not isinstance(item, bool) and 400 <= item <= 599:
            faults.append(Fault(status=item, delay=float(delay)))
        else:
            raise ValueError(f'fail holds HTTP statuses (400–599) or "timeout", not {item!r}')
    if reject:
        faults.append(Fault(reject=reject.strip(), delay=float(delay)))
    if not faults and delay:
        faults.append(Fault(delay=float(delay)))  # only slow: the call then succeeds, late
    if not faults:
        raise ValueError("nothing to inject: give fail, reject or delay_seconds")
    for fault in faults:
        fault.on = on
    return network, faults


# ---- the fake networks ----


@dataclass
class _Status:
    id: str
    text: str
    created_at: datetime
    visibility: str = "public"  # the account's default
    language: str | None = None
    spoiler_text: str = ""
    media: list[dict[str, Any]] = field(default_factory=list)  # the media attachments' JSON


@dataclass
class _Record:
    rkey: str
    value: dict[str, Any]
    cid: str
    indexed_at: datetime


@dataclass
class _SandboxPost:
    id: str
    key: str
    text: str
    channel: str
    request_id: str
    scheduled_at: str
    published_at: datetime
    images: list[dict[str, str]] = field(default_factory=list)  # alt, content_type, url


@dataclass
class _State:
    statuses: dict[str, _Status] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    records: dict[str, _Record] = field(default_factory=dict)
    blobs: dict[str, tuple[str, int]] = field(default_factory=dict)  # cid -> (mime type, size)
    sessions: dict[str, datetime] = field(default_factory=dict)  # access token -> expiry
    sandbox: dict[str, _SandboxPost] = field(default_factory=dict)
    sandbox_keys: dict[str, str] = field(default_factory=dict)
    mastodon_media: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> attachment JSON
    images: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (type, bytes), served
    sandbox_effects: dict[str, float] = field(default_factory=dict)  # text it contains -> factor
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: {n: deque() for n in NETWORK_NAMES})
    publish_calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NETWORK_NAMES, 0))
    read_calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NETWORK_NAMES, 0))
    # Mastodon: 300 requests / 5 min per account. Bluesky: 5,000 points / hour (create 3, update 2,
    # delete 1), createSession 30 / 5 min.
    mastodon_budget: _Budget = field(default_factory=lambda: _Budget(300, timedelta(minutes=5)))
    bluesky_points: _Budget = field(default_factory=lambda: _Budget(5000, timedelta(hours=1)))
    bluesky_sessions: _Budget = field(default_factory=lambda: _Budget(30, timedelta(minutes=5)))
    # Queries (getPosts, getProfile, getRecord): the PDS's 3,000 calls / 5 min per IP.
    bluesky_reads: _Budget = field(default_factory=lambda: _Budget(3000, timedelta(minutes=5)))
    status_sequence: int = 0


class FakeNetworks:
    """Mastodon, Bluesky and the sandbox in memory. Thread-safe: the local HTTP server calls
    ``handle`` from one thread per request."""

    PREFIXES = PREFIXES

    def __init__(self, *, timeout_seconds: float = 11.0, sleep: Callable[[float], None] = time.sleep):
        # A "timeout" fault holds the request this long (real seconds): past the adapters' 10 s.
        self.timeout_seconds = min(timeout_seconds, MAX_DELAY)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._state = _State()

    @classmethod
    def serves(cls, path: str) -> bool:
        return path.startswith(PREFIXES)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """Answer one request. ``target`` is the request target (path and query string)."""
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/") or "/", parse_qs(parts.query)
        lowered = {name.lower(): value for name, value in headers.items()}
        host = lowered.get("host") or "127.0.0.1"
        network, on = _publish_endpoint(method, path), "publish"
        if not network:
            network, on = _read_endpoint(method, path), "read"
        if network:
            fault = self._take_fault(network, on)
            if fault is not None:
                answer = self._apply(network, fault)
                if answer is not None:
                    return answer
        with self._lock:
            now = clock.now()
            try:
                if path.startswith(MASTODON + "/") or path == MASTODON:
                    return self._mastodon(method, path[len(MASTODON) :], query, lowered, body, host, now)
                if path.startswith(BLUESKY + "/xrpc/"):
                    return self._bluesky(method, path[len(BLUESKY + "/xrpc/") :], query, lowered, body, now)
                if path.startswith(SANDBOX + "/") or path == SANDBOX:
                    return self._sandbox(method, path[len(SANDBOX) :], query, body, host, now)
                if path.startswith(WEB + "/") and method == "GET":
                    return _web(path[len(WEB) + 1 :], f"http://{host}{WEB}")
                if path.startswith(MEDIA + "/") and method == "GET":
                    found = self._state.images.get(path[len(MEDIA) + 1 :])
                    if found is None:
                        return _json(404, {"error": "no such image"})
                    return 200, {"content-type": found[0], "cache-control": "no-store"}, found[1]
                if path == "/_local/networks/faults":
                    return self._faults(method, body)
                if path == "/_local/networks/stats" and method == "GET":
                    return _json(200, self._stats())
            except _BadBody as error:
                return error.answer
        return _json(404, {"error": f"no fake network endpoint {method} {path}"})

    # ---- faults and stats ----

    def _take_fault(self, network: str, on: str = "publish") -> Fault | None:
        with self._lock:
            if on == "publish":
                self._state.publish_calls[network] += 1
            else:
                self._state.read_calls[network] += 1
            pending = self._state.faults[network]
            for fault in pending:
                if fault.on == on:
                    pending.remove(fault)
                    return fault
            return None

    def _apply(self, network: str, fault: Fault) -> Answer | None:
        """Sleep (outside the lock: other requests go on), then answer as the fault says; None lets
        the call through."""
        if fault.delay:
            self._sleep(fault.delay)
        if fault.timeout:
            self._sleep(self.timeout_seconds)
            return _json(504, {"error": "Gateway Timeout"})  # the client has given up by now
        if fault.reject is not None:
            if network == "bluesky":
                return _json(422, {"error": "InvalidRequest", "message": fault.reject})
            return _json(422, {"error": fault.reject})
        if fault.status is not None:
            with self._lock:
                return self._failure(network, fault.status, clock.now())
        return None

    def _failure(self, network: str, status: int, now: datetime) -> Answer:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"  # a status with no name (e.g. 599) still fails the call
        if network == "bluesky":
            state = self._state.bluesky_points
            if status == 429:
                state.exhaust(now)
                return _json(
                    429,
                    {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                    self._bluesky_limits(now),
                )
            name = "InternalServerError" if status >= 500 else "InvalidRequest"
            return _json(status, {"error": name, "message": phrase})
        if status == 429:
            budget = self._state.mastodon_budget
            budget.exhaust(now)
            limits = self._mastodon_limits(now)
            limits["retry-after"] = str(max(1, int((budget.reset(now) - now).total_seconds())))
            return _json(429, {"error": "Too many requests"}, limits)
        if status >= 500 and network == "mastodon":
            # Mastodon's nginx answers gateway errors with a page, not JSON.
            page = f"<html><head><title>{status} {phrase}</title></head><body><h1>{phrase}</h1></body></html>"
            return status, {"content-type": "text/html"}, page.encode()
        return _json(status, {"error": phrase})

    def _faults(self, method: str, body: bytes) -> Answer:
        faults = self._state.faults
        if method == "POST":
            try:
                network, new = parse_faults(_parse_json(body))
            except ValueError as error:
                return _json(400, {"error": str(error)})
            faults[network].extend(new)
        elif method == "DELETE":
            for pending in faults.values():
                pending.clear()
        elif method != "GET":
            return _json(405, {"error": "use GET, POST or DELETE"})
        return _json(200, {name: [f.describe() for f in pending] for name, pending in faults.items()})

    def _stats(self) -> dict[str, Any]:
        state = self._state
        held = {"mastodon": len(state.statuses), "bluesky": len(state.records), "sandbox": len(state.sandbox)}
        return {n: {"publish_calls": state.publish_calls[n], "posts": held[n]} for n in NETWORK_NAMES}

    # ---- Mastodon ----

    def _mastodon(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        host: str,
        now: datetime,
    ) -> Answer:
        base = f"http://{host}{MASTODON}"
        if method == "GET" and (page := re.fullmatch(rf"/@{MASTODON_ACCOUNT}/(\d+)", path)):
            status = self._state.statuses.get(page.group(1))
            if status is None:
                return _page(404, "Not found", "<p>This status does not exist.</p>")
            counts = engagement("mastodon", status.id, now - status.created_at)
            return _page(200, f"@{MASTODON_ACCOUNT}", _post_html(status.text, status.created_at, counts))
        if not path.startswith(("/api/v1/", "/api/v2/")):
            return _json(404, {"error": "Not Found"})
        authorization = headers.get("authorization")
        if method in ("POST", "DELETE") or path == "/api/v1/accounts/verify_credentials" or authorization:
            if authorization != f"Bearer {MASTODON_TOKEN}":
                return _json(401, {"error": "The access token is invalid"})
            budget = self._state.mastodon_budget
            if not budget.spend(now):
                return _json(429, {"error": "Too many requests"}, self._mastodon_limits(now))
        limits = self._mastodon_limits(now) if authorization is not None else {}
        if path == "/api/v1/statuses" and method == "POST":
            return self._mastodon_post(headers, body, base, now, limits)
        if path == "/api/v2/media" and method == "POST":
            return self._mastodon_media(headers, body, base, limits)
        if path == "/api/v1/statuses" and method == "GET":
            return self._mastodon_batch(query, base, now, limits)
        if path == "/api/v1/accounts/verify_credentials" and method == "GET":
            return _json(200, self._account_json(base, now), limits)
        if (found := re.fullmatch(r"/api/v1/statuses/(\d+)", path)) and method in ("GET", "DELETE"):
            status = self._state.statuses.get(found.group(1))
            if status is None:
                return _json(404, {"error": "Record not found"}, limits)
            if method == "DELETE":
                # Mastodon answers a delete with the status, its source text included (to redraft).
                del self._state.statuses[status.id]
                return _json(200, self._status_json(status, base, now) | {"text": status.text}, limits)
            return _json(200, self._status_json(status, base, now), limits)
        return _json(404, {"error": "Not Found"}, limits)

    def _mastodon_media(
        self, headers: dict[str, str], body: bytes, base: str, limits: dict[str, str]
    ) -> Answer:
        """``POST /api/v2/media`` (multipart: ``file``, ``description``): an image attachment a status
        can then take by id. Refused as Mastodon does: no file, a type or size it does not take, a
        description over 1,500 characters."""
        form = _multipart(headers.get("content-type", ""), body)
        upload = form.get("file")
        if not isinstance(upload, tuple):
            return _json(422, {"error": "Validation failed: File can't be blank"}, limits)
        data = upload[1]  # Mastodon reads the type from the bytes, not from what the client says
        description = form.get("description") if isinstance(form.get("description"), str) else ""
        rules = IMAGE_LIMITS["mastodon"]
        try:
            facts = inspect(data)
        except ValueError:
            return _json(422, {"error": "Validation failed: File content type is invalid"}, limits)
        if facts.content_type not in rules.formats or facts.size > rules.max_bytes:
            return _json(422, {"error": "Validation failed: File is invalid"}, limits)
        if len(str(description)) > rules.max_alt:
            return _json(
                422,
                {
                    "error": "Validation failed: Description is too long "
                    f"(maximum is {rules.max_alt} characters)"
                },
                limits,
            )
        self._state.status_sequence += 1
        media_id = str(100_000 + self._state.status_sequence)
        self._state.images[f"mastodon/{media_id}"] = (facts.content_type, data)
        url = f"{base.rsplit('/mastodon', 1)[0]}/media/mastodon/{media_id}"
        attachment = {
            "id": media_id,
            "type": "image",
            "url": url,
            "preview_url": url,
            "description": description,
            "meta": {"original": {"width": facts.width, "height": facts.height}},
        }
        self._state.mastodon_media[media_id] = attachment
        return _json(200, attachment, limits)

    def _mastodon_batch(
        self, query: dict[str, list[str]], base: str, now: datetime, limits: dict[str, str]
    ) -> Answer:
        """``GET /api/v1/statuses?id[]=…`` as Mastodon 4.3+: distinct ids, at most 20 (more is a
        Mastodon::ValidationError, 422); ids that do not exist (deleted) are left out."""
        ids = list(dict.fromkeys(query.get("id[]", [])))
        if len(ids) > MASTODON_BATCH:
            return _json(422, {"error": "Mastodon::ValidationError"}, limits)
        found = [self._state.statuses.get(status_id) for status_id in ids]
        return _json(200, [self._status_json(s, base, now) for s in found if s is not None], limits)

    def _account_json(self, base: str, now: datetime) -> dict[str, Any]:
        return {
            "id": "1",
            "username": MASTODON_ACCOUNT,
            "acct": MASTODON_ACCOUNT,
            "display_name": "Greenlight (local)",
            "url": f"{base}/@{MASTODON_ACCOUNT}",
            "created_at": clock.iso(FOLLOWERS_SINCE),
            "followers_count": followers("mastodon", now),
            "following_count": 12,
            "statuses_count": len(self._state.statuses),
        }

    def _mastodon_post(
        self, headers: dict[str, str], body: bytes, base: str, now: datetime, limits: dict[str, str]
    ) -> Answer:
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode("utf-8", "replace"))
            document: Any = {name: values[-1] for name, values in form.items()}
        else:
            document = _parse_json(body, {"error": "Validation failed: unreadable JSON body"})
        text = document.get("status") if isinstance(document, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _json(422, {"error": "Validation failed: Text can't be blank"}, limits)
        visibility = document.get("visibility") or "public"
        if visibility not in ("public", "unlisted", "private", "direct"):
            return _json(422, {"error": "Validation failed: Visibility is not included in the list"}, limits)
        language = document.get("language") or None
        if language is not None and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)*", str(language)):
            return _json(422, {"error": "Validation failed: Language is not a valid ISO 639 code"}, limits)
        spoiler = str(document.get("spoiler_text") or "")
        media_ids = document.get("media_ids") or document.get("media_ids[]") or []
        media_ids = [media_ids] if isinstance(media_ids, str) else media_ids
        if len(media_ids) > IMAGE_LIMITS["mastodon"].count:
            return _json(
                422, {"error": "Validation failed: Media attachments are too many (at most 4)"}, limits
            )
        if any(str(m) not in self._state.mastodon_media for m in media_ids):
            return _json(422, {"error": "Validation failed: Media attachments are not valid"}, limits)
        network = NETWORKS["mastodon"]
        # Mastodon counts the content warning and the text together.
        if network.length(spoiler + text, None) > network.max_length:
            return _json(
                422,
                {"error": f"Validation failed: Text character limit of {network.max_length} exceeded"},
                limits,
            )
        state = self._state
        key = headers.get("idempotency-key")
        if key:
            remembered = state.idempotency.get((MASTODON_ACCOUNT, key))
            # A deleted status is not a duplicate any more: Mastodon then posts anew.
            if remembered and now - remembered[1] < IDEMPOTENCY_WINDOW and remembered[0] in state.statuses:
                # Mastodon answers a repeated key with the status it created the first time.
                return _json(200, self._status_json(state.statuses[remembered[0]], base, now), limits)
        state.status_sequence += 1
        # Snowflake-like ids, as Mastodon's: milliseconds, then a sequence.
        status_id = str(int(now.timestamp() * 1000) << 16 | state.status_sequence & 0xFFFF)
        attached = [state.mastodon_media[str(m)] for m in media_ids]
        status = state.statuses[status_id] = _Status(
            status_id, text, now, visibility, language, spoiler, attached
        )
        if key:
            state.idempotency[(MASTODON_ACCOUNT, key)] = (status_id, now)
        return _json(200, self._status_json(status, base, now), limits)

    def _status_json(self, status: _Status, base: str, now: datetime) -> dict[str, Any]:
        counts = engagement("mastodon", status.id, now - status.created_at)
        return {
            "id": status.id,
            "created_at": clock.iso(status.created_at),
            "in_reply_to_id": None,
            "sensitive": bool(status.spoiler_text),
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{base}/users/{MASTODON_ACCOUNT}/statuses/{status.id}",
            "url": f"{base}/@{MASTODON_ACCOUNT}/{status.id}",
            "replies_count": counts["replies"],
            "reblogs_count": counts["reposts"],
            "favourites_count": counts["likes"],
            "quotes_count": counts["quotes"],
            "content": "<p>" + html.escape(status.text).replace("\n", "<br>") + "</p>",
            "media_attachments": status.media,
            "account": {
                "id": "1",
                "username": MASTODON_ACCOUNT,
                "acct": MASTODON_ACCOUNT,
                "display_name": "Greenlight (local)",
                "url": f"{base}/@{MASTODON_ACCOUNT}",
            },
        }

    def _mastodon_limits(self, now: datetime) -> dict[str, str]:
        budget = self._state.mastodon_budget
        return {
            "x-ratelimit-limit": str(budget.limit),
            "x-ratelimit-remaining": str(budget.remaining(now)),
            "x-ratelimit-reset": clock.iso(budget.reset(now)),
        }

    # ---- Bluesky ----

    def _bluesky(
        self,
        method: str,
        nsid: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        now: datetime,
    ) -> Answer:
        procedures = {
            "com.atproto.server.createSession",
            "com.atproto.repo.putRecord",
            "com.atproto.repo.createRecord",
            "com.atproto.repo.deleteRecord",
            "com.atproto.repo.uploadBlob",
        }
        queries = {
            "com.atproto.repo.getRecord",
            "app.bsky.feed.getPosts",
            "app.bsky.actor.getProfile",
            "com.atproto.identity.resolveHandle",
        }
        if nsid not in procedures | queries:
            return _json(501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"})
        if (method == "POST") != (nsid in procedures):
            return _json(400, {"error": "InvalidRequest", "message": "Incorrect HTTP method"})
        if nsid == "com.atproto.server.createSession":
            return self._create_session(body, now)
        if nsid in queries:
            reads = self._state.bluesky_reads
            if not reads.spend(now):
                return _json(
                    429,
                    {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                    self._read_limits(now),
                )
        if nsid == "com.atproto.repo.getRecord":
            return self._get_record(query, now)
        if nsid == "com.atproto.identity.resolveHandle":
            handle = (query.get("handle") or [""])[-1].lower()
            if handle not in BLUESKY_ACCOUNTS:
                message = "Unable to resolve handle" if handle else 'Params must have the property "handle"'
                return _json(400, {"error": "InvalidRequest", "message": message}, self._read_limits(now))
            return _json(200, {"did": BLUESKY_ACCOUNTS[handle]}, self._read_limits(now))
        refused = self._bluesky_auth(headers, now)
        if refused:
            return refused
        if nsid == "com.atproto.repo.uploadBlob":
            return self._upload_blob(headers, body)
        if nsid == "app.bsky.feed.getPosts":
            return self._get_posts(query, now)
        if nsid == "app.bsky.actor.getProfile":
            return self._get_profile(query, now)
        document = _parse_json(body, {"error": "InvalidRequest", "message": "Request body is not JSON"})
        if nsid == "com.atproto.repo.deleteRecord":
            return self._delete_record(document, now)
        return self._write_record(nsid, document, now)

    def _create_session(self, body: bytes, now: datetime) -> Answer:
        state = self._state
        if not state.bluesky_sessions.spend(now):
            limits = _bluesky_headers(state.bluesky_sessions, now)
            return _json(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, limits)
        document = _parse_json(body, {"error": "InvalidRequest", "message": "Request body is not JSON"})
        if not isinstance(document, dict):
            return _json(400, {"error": "InvalidRequest", "message": "Input must be an object"})
        identifier, password = document.get("identifier"), document.get("password")
        if identifier not in (BLUESKY_HANDLE, BLUESKY_DID) or password != BLUESKY_PASSWORD:
            return _json(
                401,
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                _bluesky_headers(state.bluesky_sessions, now),
            )
        token = "local-access-" + secrets.token_urlsafe(18)
        state.sessions[token] = now + ACCESS_TOKEN_LIFETIME
        return _json(
            200,
            {
                "did": BLUESKY_DID,
                "handle": BLUESKY_HANDLE,
                "accessJwt": token,
                "refreshJwt": "local-refresh-" + secrets.token_urlsafe(18),
                "active": True,
            },
            _bluesky_headers(state.bluesky_sessions, now),
        )

    def _bluesky_auth(self, headers: dict[str, str], now: datetime) -> Answer | None:
        """The reference PDS's answers: 401 without a token, 400 InvalidToken / ExpiredToken."""
        authorization = headers.get("authorization", "")
        if not authorization.startswith("Bearer "):
            return _json(401, {"error": "AuthenticationRequired", "message": "Authentication Required"})
        expires = self._state.sessions.get(authorization.removeprefix("Bearer "))
        if expires is None:
            return _json(400, {"error": "InvalidToken", "message": "Token could not be verified"})
        if now >= expires:
            return _json(400, {"error": "ExpiredToken", "message": "Token has expired"})
        return None

    def _write_record(self, nsid: str, document: Any, now: datetime) -> Answer:
        state = self._state
        if not isinstance(document, dict):
            return _json(400, {"error": "InvalidRequest", "message": "Input must be an object"})
        repo, collection = document.get("repo"), document.get("collection")
        record, rkey = document.get("record"), document.get("rkey")
        if repo not in (BLUESKY_DID, BLUESKY_HANDLE):
            return _json(400, {"error": "InvalidRequest", "message": f"Could not find repo: {repo}"})
        if collection != "app.bsky.feed.post":
            return _json(400, {"error": "InvalidRequest", "message": f"Unsupported collection: {collection}"})
        if nsid == "com.atproto.repo.createRecord" and rkey is None:
            rkey = _now_tid(now)
        if not isinstance(rkey, str) or not TID.fullmatch(rkey):
            return _json(400, {"error": "InvalidRequest", "message": "Invalid TID string"})
        invalid = _invalid_post(record, state.blobs)
        if invalid:
            return _json(
                400, {"error": "InvalidRequest", "message": f"Invalid app.bsky.feed.post record: {invalid}"}
            )
        assert isinstance(record, dict)
        existing = state.records.get(rkey)
        cid = _cid(record)
        if existing is not None and nsid == "com.atproto.repo.createRecord":
            # What the reference PDS does when createRecord meets an existing key.
            return _json(500, {"error": "InternalServerError", "message": "Internal Server Error"})
        cost = 3 if existing is None else 2
        if not state.bluesky_points.spend(now, cost):
            limits = self._bluesky_limits(now)
            return _json(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, limits)
        limits = self._bluesky_limits(now)
        uri = f"at://{BLUESKY_DID}/app.bsky.feed.post/{rkey}"
        if existing is not None and existing.cid == cid:
            # Identical content under the same key: a no-op, answered with the same URI and CID.
            return _json(200, {"uri": uri, "cid": cid, "validationStatus": "valid"}, limits)
        if "swapRecord" in document:
            swap = document["swapRecord"]
            current = existing.cid if existing is not None else None
            if swap != current:
                return _json(400, {"error": "InvalidSwap", "message": f"Record was at {current}"}, limits)
        # A new key is published now; an update keeps the post's original indexing time.
        indexed_at = existing.indexed_at if existing is not None else now
        state.records[rkey] = _Record(rkey, record, cid, indexed_at)
        commit = {"cid": _cid({"commit": cid, "rkey": rkey}), "rev": _now_tid(now)}
        return _json(200, {"uri": uri, "cid": cid, "commit": commit, "validationStatus": "valid"}, limits)

    def _upload_blob(self, headers: dict[str, str], body: bytes) -> Answer:
        """``com.atproto.repo.uploadBlob``: the bytes as they are; the answer is the reference a
        record embeds. A record may only embed a blob uploaded before."""
        if not body:
            return _json(400, {"error": "InvalidRequest", "message": "Request body is empty"})
        if len(body) > MAX_BLOB:
            return _json(400, {"error": "BlobTooLarge", "message": "This file is too large"})
        mime = headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        cid = _cid({"blob": hashlib.sha256(body).hexdigest()}, codec=0x55)
        self._state.blobs[cid] = (mime, len(body))
        self._state.images[f"bluesky/{cid}"] = (mime, body)
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(body)}
        return _json(200, {"blob": blob})

    def _delete_record(self, document: Any, now: datetime) -> Answer:
        """``com.atproto.repo.deleteRecord``: 1 point; deleting a record that is not there is a no-op."""
        state = self._state
        if not isinstance(document, dict):
            return _json(400, {"error": "InvalidRequest", "message": "Input must be an object"})
        repo, collection, rkey = document.get("repo"), document.get("collection"), document.get("rkey")
        if repo not in (BLUESKY_DID, BLUESKY_HANDLE):
            return _json(400, {"error": "InvalidRequest", "message": f"Could not find repo: {repo}"})
        if not isinstance(collection, str) or not isinstance(rkey, str):
            return _json(400, {"error": "InvalidRequest", "message": "collection and rkey are required"})
        if not state.bluesky_points.spend(now, 1):
            limits = self._bluesky_limits(now)
            return _json(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, limits)
        limits = self._bluesky_limits(now)
        if collection != "app.bsky.feed.post" or state.records.pop(rkey, None) is None:
            return _json(200, {}, limits)
        commit = {"cid": _cid({"delete": rkey}), "rev": _now_tid(now)}
        return _json(200, {"commit": commit}, limits)

    def _get_profile(self, query: dict[str, list[str]], now: datetime) -> Answer:
        actor = (query.get("actor") or [""])[-1]
        limits = self._read_limits(now)
        if not actor:
            return _json(
                400, {"error": "InvalidRequest", "message": 'Error: Params must have the property "actor"'}
            )
        if actor not in (BLUESKY_DID, BLUESKY_HANDLE):
            return _json(400, {"error": "InvalidRequest", "message": "Profile not found"}, limits)
        profile = {
            "did": BLUESKY_DID,
            "handle": BLUESKY_HANDLE,
            "displayName": "Greenlight (local)",
            "createdAt": clock.iso(FOLLOWERS_SINCE),
            "indexedAt": clock.iso(FOLLOWERS_SINCE),
            "followersCount": followers("bluesky", now),
            "followsCount": 12,
            "postsCount": len(self._state.records),
        }
        return _json(200, profile, limits)

    def _get_record(self, query: dict[str, list[str]], now: datetime) -> Answer:
        repo = (query.get("repo") or [""])[-1]
        collection = (query.get("collection") or [""])[-1]
        rkey = (query.get("rkey") or [""])[-1]
        uri = f"at://{repo}/{collection}/{rkey}"
        if not repo or not collection or not rkey:
            return _json(
                400, {"error": "InvalidRequest", "message": "repo, collection and rkey are required"}
            )
        found = self._state.records.get(rkey)
        if repo not in (BLUESKY_DID, BLUESKY_HANDLE) or collection != "app.bsky.feed.post" or found is None:
            return _json(400, {"error": "RecordNotFound", "message": f"Could not locate record: {uri}"})
        own_uri = f"at://{BLUESKY_DID}/app.bsky.feed.post/{rkey}"
        return _json(200, {"uri": own_uri, "cid": found.cid, "value": found.value}, self._read_limits(now))

    def _get_posts(self, query: dict[str, list[str]], now: datetime) -> Answer:
        uris = [uri for value in query.get("uris", []) for uri in value.split(",") if uri]
        limits = self._read_limits(now)
        if len(uris) > BLUESKY_BATCH:
            return _json(
                400,
                {
                    "error": "InvalidRequest",
                    "message": f"uris must not have more than {BLUESKY_BATCH} elements",
                },
                limits,
            )
        posts = []
        for uri in uris:
            repo, _, rest = uri.removeprefix("at://").partition("/")
            collection, _, rkey = rest.partition("/")
            record = self._state.records.get(rkey)
            if (
                repo not in (BLUESKY_DID, BLUESKY_HANDLE)
                or collection != "app.bsky.feed.post"
                or record is None
            ):
                continue  # the AppView leaves out what it does not know
            counts = engagement("bluesky", rkey, now - record.indexed_at)
            posts.append(
                {
                    "uri": f"at://{BLUESKY_DID}/app.bsky.feed.post/{rkey}",
                    "cid": record.cid,
                    "author": {
                        "did": BLUESKY_DID,
                        "handle": BLUESKY_HANDLE,
                        "displayName": "Greenlight (local)",
                    },
                    "record": record.value,
                    "indexedAt": clock.iso(record.indexed_at),
                    "likeCount": counts["likes"],
                    "repostCount": counts["reposts"],
                    "replyCount": counts["replies"],
                    "quoteCount": counts["quotes"],
                    "bookmarkCount": counts["likes"] // 8,  # about one bookmark per eight likes
                }
            )
        return _json(200, {"posts": posts}, limits)

    def _bluesky_limits(self, now: datetime) -> dict[str, str]:
        return _bluesky_headers(self._state.bluesky_points, now)

    def _read_limits(self, now: datetime) -> dict[str, str]:
        return _bluesky_headers(self._state.bluesky_reads, now)

    # ---- sandbox ----

    def _sandbox(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, host: str, now: datetime
    ) -> Answer:
        state = self._state
        base = f"http://{host}{SANDBOX}"
        if method == "POST" and path == "/posts":
            return self._sandbox_post(body, base, now)
        if method == "POST" and path == "/effects":
            document = _parse_json(body, {"error": "the body must be JSON"})
            contains = document.get("contains") if isinstance(document, dict) else None
            factor = document.get("factor") if isinstance(document, dict) else None
            if (
                not isinstance(contains, str)
                or not contains
                or not isinstance(factor, int | float)
                or factor <= 0
            ):
                return _json(400, {"error": "contains (text) and factor (> 0) are required"})
            state.sandbox_effects[contains] = float(factor)
            return _json(200, {"effects": state.sandbox_effects})
        if method == "DELETE" and (found := re.fullmatch(r"/posts/([\w-]+)", path)):
            post = state.sandbox.pop(found.group(1), None)
            if post is None:
                return _json(404, {"error": "no such post"})
            state.sandbox_keys.pop(post.key, None)
            return _json(200, {"deleted": post.id})
        if method != "GET":
            return _json(405, {"error": f"{method} is not allowed here"})
        if path == "/posts":
            ids = list(dict.fromkeys(query.get("id", [])))
            if len(ids) > SANDBOX_BATCH:
                return _json(400, {"error": f"at most {SANDBOX_BATCH} ids per call"})
            found_posts = [state.sandbox[i] for i in ids if i in state.sandbox]
            return _json(
                200, {"posts": [self._sandbox_json(p, base, now, with_metrics=True) for p in found_posts]}
            )
        if path == "/account":
            return _json(
                200,
                {
                    "followers": followers("sandbox", now),
                    "posts": len(state.sandbox),
                    "taken_at": clock.iso(now),
                },
            )
        if path == "/posts.json":
            posts = sorted(state.sandbox.values(), key=lambda p: (p.published_at, p.id))
            return _json(200, [self._sandbox_json(p, base, now, with_metrics=True) for p in posts])
        if found := re.fullmatch(r"/posts/by-key/(.+)", path):
            post_id = state.sandbox_keys.get(unquote(found.group(1)))
            if post_id is None:
                return _json(404, {"error": "no post with that key"})
            return _json(200, self._sandbox_json(state.sandbox[post_id], base, now))
        if found := re.fullmatch(r"/(posts|p)/([\w-]+)(/metrics)?", path):
            kind, post_id, metrics = found.groups()
            post = state.sandbox.get(post_id)
            if post is None:
                return _json(404, {"error": "no such post"})
            if kind == "p" and not metrics:
                counts = engagement("sandbox", post.id, now - post.published_at)
                pictures = "".join(
                    f'<img src="{html.escape(i["url"])}" alt="{html.escape(i["alt"])}">' for i in post.images
                )
                return _page(200, "Sandbox post", _post_html(post.text, post.published_at, counts) + pictures)
            if metrics:
                return _json(200, self._sandbox_metrics(post, now))
            return _json(200, self._sandbox_json(post, base, now, with_metrics=True))
        return _json(404, {"error": "Not Found"})

    def _sandbox_post(self, body: bytes, base: str, now: datetime) -> Answer:
        state = self._state
        document = _parse_json(body, {"error": "the body must be JSON"})
        if not isinstance(document, dict):
            return _json(400, {"error": "the body must be a JSON object"})
        key, text = document.get("key"), document.get("text")
        if not isinstance(key, str) or not key or not isinstance(text, str) or not text.strip():
            return _json(400, {"error": "key and text are required"})
        network = NETWORKS["sandbox"]
        if network.length(text, None) > network.max_length:
            return _json(422, {"error": f"Text character limit of {network.max_length} exceeded"})
        if key in state.sandbox_keys:
            return _json(200, self._sandbox_json(state.sandbox[state.sandbox_keys[key]], base, now))
        # The id comes from the key: the same demo gives the same ids, and so the same engagement.
        post_id = "sbx-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        images = _sandbox_images(document.get("images") or [])
        if isinstance(images, str):
            return _json(422, {"error": images})
        shown = []
        for number, (alt, content_type, data) in enumerate(images):
            state.images[f"sandbox/{post_id}/{number}"] = (content_type, data)
            url = f"{base.rsplit('/_local/', 1)[0]}{MEDIA}/sandbox/{post_id}/{number}"
            shown.append({"alt": alt, "content_type": content_type, "url": url})
        post = _SandboxPost(
            id=post_id,
            key=key,
            text=text,
            channel=str(document.get("channel") or "sandbox"),
            request_id=str(document.get("request_id") or ""),
            scheduled_at=str(document.get("scheduled_at") or ""),
            published_at=now,
            images=shown,
        )
        state.sandbox[post_id] = post
        state.sandbox_keys[key] = post_id
        return _json(201, self._sandbox_json(post, base, now))

    def _sandbox_json(
        self, post: _SandboxPost, base: str, now: datetime, *, with_metrics: bool = False
    ) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": post.id,
            "url": f"{base}/p/{post.id}",
            "published_at": clock.iso(post.published_at),
            "key": post.key,
            "text": post.text,
            "channel": post.channel,
            "request_id": post.request_id,
            "scheduled_at": post.scheduled_at,
            "images": post.images,
        }
        if with_metrics:
            document["metrics"] = self._sandbox_metrics(post, now)
        return document

    def _sandbox_metrics(self, post: _SandboxPost, now: datetime) -> dict[str, Any]:
        counts = engagement("sandbox", post.id, now - post.published_at)
        factor = math.prod(f for text, f in self._state.sandbox_effects.items() if text in post.text)
        if factor != 1:
            engaged = ("likes", "reposts", "replies", "quotes")
            total = sum(counts[k] for k in engaged)
            scale = min(factor, counts["impressions"] / total) if total else 1.0
            counts |= {k: int(counts[k] * scale) for k in engaged}
        return {"taken_at": clock.iso(now)} | counts


# ---- helpers ----


class _BadBody(Exception):
    def __init__(self, answer: Answer):
        super().__init__("unreadable body")
        self.answer = answer


def _sandbox_images(items: Any) -> list[tuple[str, str, bytes]] | str:
    """The images of a sandbox post (alt, content type, bytes), or why they are refused."""
    if not isinstance(items, list):
        return "images must be a list"
    found: list[tuple[str, str, bytes]] = []
    facts = []
    for item in items:
        try:
            data = base64.b64decode(item["data"], validate=True)
            alt = str(item["alt"])
            image = inspect(data)
        except (KeyError, TypeError, ValueError) as error:
            return f"each image needs alt and data (an image in base64): {error}"
        found.append((alt, image.content_type, data))
        facts.append((image, alt))
    if refused := problems("sandbox", facts):
        return "; ".join(refused)
    return found


def _multipart(content_type: str, body: bytes) -> dict[str, str | tuple[str, bytes]]:
    """A ``multipart/form-data`` body: text fields as strings, files as (content type, bytes)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    if not content_type.startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str | tuple[str, bytes]] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if not isinstance(name, str):
            continue
        if part.get_filename():
            fields[name] = (part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields


def _parse_json(body: bytes, error: dict[str, str] | None = None) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as problem:
        raise _BadBody(_json(400, error or {"error": "the body must be JSON"})) from problem


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"content-type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(payload, ensure_ascii=False).encode(),
    )


def _page(status: int, title: str, content: str) -> Answer:
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
        "p.post{white-space:pre-wrap;font-size:1.2rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{content}</body></html>"
    )
    return status, {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"}, page.encode()


def _post_html(text: str, published_at: datetime, counts: dict[str, int]) -> str:
    numbers = " · ".join(f"{value:,} {name}" for name, value in counts.items())
    return (
        f'<p class="post">{html.escape(text)}</p><p>Published {html.escape(clock.iso(published_at))}</p>'
        f"<p>{html.escape(numbers)}</p>"
    )


def _publish_endpoint(method: str, path: str) -> str | None:
    """The network whose publish endpoint this is (faults apply there), or None."""
    if method != "POST":
        return None
    if path == f"{MASTODON}/api/v1/statuses":
        return "mastodon"
    if path in (
        f"{BLUESKY}/xrpc/com.atproto.repo.putRecord",
        f"{BLUESKY}/xrpc/com.atproto.repo.createRecord",
    ):
        return "bluesky"
    if path == f"{SANDBOX}/posts":
        return "sandbox"
    return None


def _read_endpoint(method: str, path: str) -> str | None:
    """The network whose metrics read this is (``"on": "read"`` faults apply there), or None."""
    if method != "GET":
        return None
    if path == f"{MASTODON}/api/v1/statuses" or re.fullmatch(rf"{MASTODON}/api/v1/statuses/\w+", path):
        return "mastodon"
    if path == f"{BLUESKY}/xrpc/app.bsky.feed.getPosts":
        return "bluesky"
    if path == f"{SANDBOX}/posts" or re.fullmatch(rf"{SANDBOX}/posts/[\w-]+/metrics", path):
        return "sandbox"
    return None


def _invalid_post(record: Any, blobs: dict[str, tuple[str, int]]) -> str | None:
    """Why a record is not a valid app.bsky.feed.post, or None. Facets and embeds are checked as the
    lexicon says (app.bsky.richtext.facet, app.bsky.embed.external; a blob must have been uploaded);
    a facet's byte range must also lie inside the text on character boundaries, stricter than the
    PDS (whose AppView then drops the facet), so an offset bug cannot pass here."""
    if not isinstance(record, dict) or record.get("$type") != "app.bsky.feed.post":
        return "Record/$type must be app.bsky.feed.post"
    text, created_at = record.get("text"), record.get("createdAt")
    if not isinstance(text, str):
        return "Record/text must be a string"
    if graphemes(text) > 300:
        return "Record/text must not be longer than 300 graphemes"
    if len(text.encode()) > 3000:
        return "Record/text must not be longer than 3000 characters"
    try:
        datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
    except ValueError:
        return "Record/createdAt must be a valid atproto datetime (both RFC-3339 and ISO-8601)"
    facets = record.get("facets", [])
    if not isinstance(facets, list):
        return "Record/facets must be an array"
    for number, facet in enumerate(facets):
        if problem := _invalid_facet(facet, text.encode()):
            return f"Record/facets/{number}{problem}"
    langs = record.get("langs", [])
    if not isinstance(langs, list) or len(langs) > 3:
        return "Record/langs must be an array of at most 3 languages"
    if not all(
        isinstance(lang, str) and re.fullmatch(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]+)*", lang) for lang in langs
    ):
        return "Record/langs must hold valid language codes"
    if "embed" in record:
        return _invalid_embed(record["embed"], blobs)
    return None


FACET_FEATURES = {
    "app.bsky.richtext.facet#link": "uri",
    "app.bsky.richtext.facet#mention": "did",
    "app.bsky.richtext.facet#tag": "tag",
}


def _invalid_facet(facet: Any, text: bytes) -> str | None:
    if not isinstance(facet, dict) or not isinstance(facet.get("index"), dict):
        return "/index must be an object"
    start, end = facet["index"].get("byteStart"), facet["index"].get("byteEnd")
    if not isinstance(start, int) or not isinstance(end, int) or start < 0 or end < 0:
        return "/index/byteStart and byteEnd must be non-negative integers"
    if not start < end <= len(text):
        return f"/index [{start}, {end}) is not inside the text's {len(text)} bytes"
    try:
        text[start:end].decode()
    except UnicodeDecodeError:
        return f"/index [{start}, {end}) cuts a character in two"
    features = facet.get("features")
    if not isinstance(features, list) or not features:
        return "/features must be a non-empty array"
    for feature in features:
        kind = feature.get("$type") if isinstance(feature, dict) else None
        if kind not in FACET_FEATURES:
            return f"/features has an unknown type {kind!r}"
        value = feature.get(FACET_FEATURES[kind])
        if not isinstance(value, str) or not value:
            return f"/features/{FACET_FEATURES[kind]} must be a string"
        if kind.endswith("#mention") and not re.fullmatch(r"did:[a-z]+:[a-zA-Z0-9._:%-]+", value):
            return "/features/did must be a valid did"
        if kind.endswith("#link") and not re.fullmatch(r"[a-z][a-z0-9+.-]*:\S+", value):
            return "/features/uri must be a valid uri"
        if kind.endswith("#tag") and (len(value.encode()) > 640 or graphemes(value) > 64):
            return "/features/tag must not be longer than 64 graphemes"
    return None


def _invalid_embed(embed: Any, blobs: dict[str, tuple[str, int]]) -> str | None:
    if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.images":
        return _invalid_images(embed, blobs)
    if not isinstance(embed, dict) or embed.get("$type") != "app.bsky.embed.external":
        return "Record/embed must be one of the embeds this fake knows (app.bsky.embed.external, images)"
    external = embed.get("external")
    if not isinstance(external, dict):
        return "Record/embed/external must be an object"
    for name in ("uri", "title", "description"):
        if not isinstance(external.get(name), str):
            return f'Record/embed/external must have the property "{name}"'
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*:\S+", external["uri"]):
        return "Record/embed/external/uri must be a valid uri"
    if "thumb" in external:
        return _invalid_blob(external["thumb"], blobs, "Record/embed/external/thumb", MAX_THUMB)
    return None


def _invalid_images(embed: dict[str, Any], blobs: dict[str, tuple[str, int]]) -> str | None:
    """``app.bsky.embed.images``: 1 to 4 images, each a blob (image/*, at most 1,000,000 bytes) with
    ``alt`` (required, may be empty in the lexicon) and an optional ``aspectRatio`` of positive
    integers."""
    images = embed.get("images")
    if not isinstance(images, list) or not 1 <= len(images) <= 4:
        return "Record/embed/images must be an array of 1 to 4 images"
    for number, image in enumerate(images):
        where = f"Record/embed/images/{number}"
        if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
            return f'{where} must have the property "alt"'
        ratio = image.get("aspectRatio")
        if ratio is not None and not (
            isinstance(ratio, dict)
            and all(isinstance(ratio.get(k), int) and ratio[k] >= 1 for k in ("width", "height"))
        ):
            return f"{where}/aspectRatio must have positive integer width and height"
        if problem := _invalid_blob(
            image.get("image"), blobs, f"{where}/image", IMAGE_LIMITS["bluesky"].max_bytes
        ):
            return problem
    return None


def _invalid_blob(blob: Any, blobs: dict[str, tuple[str, int]], where: str, max_size: int) -> str | None:
    ref = blob.get("ref") if isinstance(blob, dict) else None
    cid = ref.get("$link") if isinstance(ref, dict) else None
    if not isinstance(blob, dict) or blob.get("$type") != "blob" or not isinstance(cid, str):
        return f"{where} should be a blob ref"
    if cid not in blobs:
        return f"{where}: Could not find blob: {cid}"
    mime, size = blobs[cid]
    if not mime.startswith("image/"):
        return f"{where} has the wrong mime type {mime}: image/* expected"
    if size > max_size:
        return f"{where} is too big: {size} bytes, at most {max_size}"
    return None


def _cid(value: Any, codec: int = 0x71) -> str:
    """A CIDv1 (dag-cbor, or raw 0x55 for a blob; sha-256) like the PDS's, over canonical JSON
    instead of DAG-CBOR: the same content always gives the same CID."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).digest()
    return "b" + base64.b32encode(bytes([0x01, codec, 0x12, 0x20]) + digest).decode().lower().rstrip("=")


# ---- pages of the open web, for link cards ----

WEB_PAGES = {
    "webinar": {
        "title": "Spring webinar: planning posts that work",
        "description": "One hour on requests with a purpose, reviews that fit the risk, and results.",
    },
}


def _web(name: str, base: str) -> Answer:
    """A page with Open Graph tags (``/_local/networks/web/<page>``) and its picture (``<page>.png``),
    so a link card can be built without the internet; any other name is a 404."""
    if name.endswith(".png") and name[:-4] in WEB_PAGES:
        return 200, {"content-type": "image/png", "cache-control": "no-store"}, _picture()
    page = WEB_PAGES.get(name)
    if page is None:
        return _page(404, "Not found", "<p>No such page.</p>")
    head = (
        f'<meta property="og:title" content="{html.escape(page["title"])}">'
        f'<meta property="og:description" content="{html.escape(page["description"])}">'
        f'<meta property="og:image" content="{base}/{name}.png">'
    )
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(page["title"])}'
        f"</title>{head}</head><body><h1>{html.escape(page['title'])}</h1></body></html>"
    )
    return 200, {"content-type": "text/html; charset=utf-8"}, document.encode()


def _picture() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (120, 63), (46, 125, 50)).save(out, format="PNG")
    return out.getvalue()


def _now_tid(now: datetime) -> str:
    value = int(now.timestamp() * 1_000_000) << 10 | secrets.randbelow(1024)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def _bluesky_headers(budget: _Budget, now: datetime) -> dict[str, str]:
    window = int(budget.period.total_seconds())
    return {
        "ratelimit-limit": str(budget.limit),
        "ratelimit-remaining": str(budget.remaining(now)),
        "ratelimit-reset": str(int(budget.reset(now).timestamp())),
        "ratelimit-policy": f"{budget.limit};w={window}",
    }


# ---- serving on its own port (tests, or a demo without the whole runtime) ----


class _Handler(BaseHTTPRequestHandler):
    networks: FakeNetworks
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if FakeNetworks.serves(urlsplit(self.path).path):
            status, headers, payload = self.networks.handle(
                method, self.path, dict(self.headers.items()), body
            )
        else:
            status, headers, payload = _json(404, {"error": "not a fake network path"})
        # A client that timed out has gone away: nothing to answer then.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request held by a "timeout" fault must not hold up shutdown
    request_queue_size = 64


@contextlib.contextmanager
def serve(networks: FakeNetworks | None = None, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``networks`` (new FakeNetworks by default) on their own port; yields the base URL."""
    handler = type("Handler", (_Handler,), {"networks": networks or FakeNetworks()})
    server = _Server((host, port), handler)
    # A short poll interval: shutdown() waits for it, and tests start and stop a server each.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-networks", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
