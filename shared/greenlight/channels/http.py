"""JSON over HTTP for the channel adapters, on the standard library (the Lambda layer stays lean).

Every failure comes out as one of the two errors the state machine knows:
``ChannelUnavailable`` (transient: no connection, a time-out, 5xx, 429 — retried with backoff) or
``PublishRejected`` (the network said no: 401/403 and other 4xx — retrying cannot help). Callers that
expect a particular error answer (a 404 meaning "not there yet") list its status in ``accept`` and
read the answer themselves.
"""

import http.client
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from greenlight import clock
from greenlight.channels.base import RateBudget, RateLimited
from greenlight.errors import ChannelUnavailable, GreenlightError, PublishRejected

DEFAULT_TIMEOUT = 10.0  # seconds per socket operation: well inside a publish Lambda's time-out
MAX_ANSWER = 4 * 1024 * 1024  # a JSON answer larger than this is not one we asked for
MAX_REASON = 300  # the network's text goes into a mail: keep it readable
USER_AGENT = "Greenlight/0.1 (social media request workflow)"
# 408 and 425 are "try again" answers like 429; every other 4xx is the network refusing.
TRANSIENT_4XX = frozenset({408, 425, 429})
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
# A 429 that says nothing about when to come back: wait this long (one Mastodon window is 5 minutes).
DEFAULT_RETRY = timedelta(minutes=1)

# The fake networks run on loopback: a proxy set in the environment (HTTP_PROXY) must not take those
# calls, whatever NO_PROXY says. Real networks keep the environment's proxy settings.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_default = urllib.request.build_opener()


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: Any  # the parsed JSON; None for an empty body; {"text": ...} when an error page was not JSON


def request_json(
    network: str,
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    accept: Collection[int] = (),
    rate_limited: bool = False,
    upload: tuple[bytes, str] | None = None,
) -> Response:
    """Send ``body`` (if not None) as JSON, or ``upload`` (bytes and their content type) as they are,
    and return the answer when it is 2xx or in ``accept``.

    Raises ``ChannelUnavailable`` or ``PublishRejected`` (see ``error_for``) otherwise. ``network``
    names the network in error messages, which the team reads. With ``rate_limited`` a 429 raises
    ``RateLimited`` (a ChannelUnavailable carrying when to retry) instead: for the reads, whose
    callers can wait; publishing keeps the plain ChannelUnavailable the state machine retries.
    """
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    content_type = "application/json; charset=utf-8"
    if upload is not None:
        data, content_type = upload
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    request.add_header("User-Agent", USER_AGENT)
    if data is not None:
        request.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    opener = _direct if urlsplit(url).hostname in LOOPBACK else _default
    where = f"{method} {_without_query(url)}"
    try:
        try:
            with opener.open(request, timeout=timeout) as answer:
                status, names, raw = answer.status, answer.headers, answer.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as error:
            # An error answer is still an answer: read it for the network's reason.
            status, names = error.code, error.headers
            raw = error.read(MAX_ANSWER + 1) if error.fp is not None else b""
    except TimeoutError as error:
        raise ChannelUnavailable(f"{network}: no answer within {timeout:g} s ({where})") from error
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise ChannelUnavailable(f"{network}: no answer within {timeout:g} s ({where})") from error
        raise ChannelUnavailable(f"{network}: cannot connect ({reason}; {where})") from error
    except (OSError, http.client.HTTPException) as error:
        # Connection reset, remote closed mid-answer, a broken status line: all worth a retry.
        raise ChannelUnavailable(f"{network}: the connection failed ({error!r}; {where})") from error
    lowered = {name.lower(): value for name, value in (names.items() if names is not None else [])}
    ok = 200 <= status < 300
    if len(raw) > MAX_ANSWER:
        raise ChannelUnavailable(f"{network}: the answer to {where} is larger than {MAX_ANSWER} bytes")
    try:
        parsed = json.loads(raw) if raw.strip() else None
    except ValueError as error:
        if ok:
            # A 200 we cannot read (a captive portal, a proxy's page): the call may have worked, and
            # every publish is idempotent, so a retry is the safe answer.
            raise ChannelUnavailable(f"{network}: the answer to {where} is not JSON") from error
        parsed = {"text": raw.decode("utf-8", "replace")}
    response = Response(status, lowered, parsed)
    if ok or status in accept:
        return response
    if rate_limited and status == 429:
        raise rate_limited_error(network, response)
    raise error_for(network, response)


def multipart(fields: Mapping[str, str], file: tuple[str, str, str, bytes]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with text ``fields`` and one ``file`` (field name, file name,
    content type, bytes), and its content type (with the boundary) for ``request_json(upload=…)``."""
    boundary = "greenlight-" + secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    ]
    name, filename, content_type, data = file
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class NoDowngrade(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but never from https to http: a page of the open web must not send the
    function to plain-http addresses it can reach and the world cannot (in Lambda, the runtime API
    on 127.0.0.1)."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if urlsplit(req.full_url).scheme == "https" and urlsplit(newurl).scheme != "https":
            raise urllib.error.HTTPError(newurl, code, "a redirect from https to http", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_fetch_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoDowngrade)
_fetch_default = urllib.request.build_opener(NoDowngrade)


def may_fetch(url: str, found_on: str) -> bool:
    """Whether an address named by a page (a card's picture) may be fetched: from an https page,
    only https, for the reason NoDowngrade gives."""
    return urlsplit(found_on).scheme != "https" or urlsplit(url).scheme == "https"


class Fetched(NamedTuple):
    content_type: str  # lower-cased, without parameters
    body: bytes


def fetch(url: str, *, timeout: float, max_bytes: int, accept: str, cut: bool = False) -> Fetched:
    """GET a page or an image of the open web (a link card's), reading at most ``max_bytes`` (with
    ``cut``, a longer answer is cut there: a page's head is all a card needs). Raises ValueError
    with the reason, in words for the post's history, when it cannot be had: not http(s), no answer
    in time, not 200, another content type than ``accept`` (a prefix such as ``"image/"``), or larger
    than ``max_bytes``."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url} is not an http(s) address")
    request = urllib.request.Request(url, method="GET")
    request.add_header("User-Agent", USER_AGENT)
    request.add_header("Accept", f"{accept}*" if accept.endswith("/") else accept)
    opener = _fetch_direct if urlsplit(url).hostname in LOOPBACK else _fetch_default
    try:
        with opener.open(request, timeout=timeout) as answer:
            status, content_type = answer.status, answer.headers.get_content_type()
            body = answer.read(max_bytes + 1)
    except urllib.error.HTTPError as error:
        if error.msg == "a redirect from https to http":
            raise ValueError(f"{url} redirects from https to http, which is not followed") from error
        raise ValueError(f"{url} answered HTTP {error.code}") from error
    except (OSError, http.client.HTTPException) as error:  # time-outs and refused connections too
        raise ValueError(f"{url} could not be read ({error})") from error
    if status != 200:
        raise ValueError(f"{url} answered HTTP {status}")
    if not content_type.startswith(accept):
        raise ValueError(f"{url} is {content_type}, not {accept}")
    if len(body) > max_bytes:
        if not cut:
            raise ValueError(f"{url} is larger than {max_bytes:,} bytes")
        body = body[:max_bytes]
    return Fetched(content_type, body)


def rate_limited_error(network: str, response: Response) -> RateLimited:
    """The RateLimited for a 429: retry at the reset time its headers give (see ``retry_at``)."""
    now = clock.now()
    when = retry_at(response.headers, now)
    said = rate_limit_reset(response.headers)
    message = f"{network}: rate limited (HTTP 429); retry at {clock.iso(when)}"
    if said is None:
        message += f" (no reset header: waiting {DEFAULT_RETRY.total_seconds():g} s)"
    return RateLimited(message, when)


def retry_at(headers: Mapping[str, str], now: datetime) -> datetime:
    """When a rate-limited caller may try again: the latest of Mastodon's ``X-RateLimit-Reset``
    (ISO 8601), Bluesky's ``RateLimit-Reset`` (epoch seconds) and ``Retry-After`` (seconds or an HTTP
    date), never before ``now``; ``now + DEFAULT_RETRY`` when none of them can be read. ``headers``
    has lower-cased names."""
    moments = [
        moment
        for moment in (
            _iso_moment(headers.get("x-ratelimit-reset", "")),
            _epoch_moment(headers.get("ratelimit-reset", "")),
            _retry_after(headers.get("retry-after", ""), now),
        )
        if moment is not None
    ]
    return max([now, *moments]) if moments else now + DEFAULT_RETRY


def rate_budget(headers: Mapping[str, str], now: datetime) -> RateBudget | None:
    """The budget an answer's rate-limit headers report (Mastodon's ``X-RateLimit-*``, Bluesky's
    ``RateLimit-*``), or None when it has none."""
    for prefix, reset in (("x-ratelimit-", _iso_moment), ("ratelimit-", _epoch_moment)):
        remaining = _int(headers.get(prefix + "remaining", ""))
        if remaining is not None:
            return RateBudget(
                remaining=remaining,
                limit=_int(headers.get(prefix + "limit", "")),
                reset_at=reset(headers.get(prefix + "reset", "")),
                seen_at=now,
            )
    return None


def _iso_moment(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _epoch_moment(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value.strip()), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _retry_after(value: str, now: datetime) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


def expect_fields(network: str, body: Any, required: Collection[str]) -> dict[str, Any]:
    """``body`` as a dict with every ``required`` field present. A 2xx without them is a broken
    answer, not a refusal: ChannelUnavailable, and a retry is safe because publishing is idempotent."""
    if not isinstance(body, dict) or any(body.get(name) is None for name in required):
        raise ChannelUnavailable(f"{network}: unexpected answer (missing one of {', '.join(required)})")
    return body


def error_for(network: str, response: Response) -> GreenlightError:
    """The domain error for an answer that is not a success."""
    status = response.status
    if status >= 500 or status in TRANSIENT_4XX:
        reset = rate_limit_reset(response.headers)
        detail = error_text(response.body)
        message = f"{network}: HTTP {status}" + (f" ({detail})" if detail else "")
        if status == 429:
            message = f"{network}: rate limited (HTTP 429)"
        if reset:
            message += f"; the limit resets {reset}"
        return ChannelUnavailable(message)
    if status in (401, 403):
        detail = error_text(response.body)
        return PublishRejected(
            f"{network}: not authorised (HTTP {status}): check the account's credentials"
            + (f" ({detail})" if detail else "")
        )
    if 400 <= status < 500:
        return PublishRejected(f"{network}: {error_text(response.body) or f'HTTP {status}'}")
    # 1xx/3xx that urllib did not follow: not a refusal, most likely something in between.
    return ChannelUnavailable(f"{network}: unexpected HTTP {status}")


def error_text(body: Any) -> str:
    """The network's own reason: Mastodon's ``{"error"}``, Bluesky's ``{"error", "message"}``."""
    if isinstance(body, dict):
        error, message = body.get("error"), body.get("message")
        if isinstance(error, str) and isinstance(message, str) and message:
            text = f"{error}: {message}"
        elif isinstance(error, str) and error:
            text = error
        elif isinstance(message, str) and message:
            text = message
        elif isinstance(body.get("text"), str):
            text = " ".join(body["text"].split())  # an HTML error page: at least its words
        else:
            text = ""
        return text[:MAX_REASON]
    return ""


def rate_limit_reset(headers: Mapping[str, str]) -> str | None:
    """When a rate limit resets ("at <ISO 8601 time>" or "in <n> s"), from Mastodon's
    ``X-RateLimit-Reset`` (ISO 8601), Bluesky's ``RateLimit-Reset`` (epoch seconds) or ``Retry-After``."""
    if value := headers.get("x-ratelimit-reset", "").strip():
        return f"at {value}"
    if value := headers.get("ratelimit-reset", "").strip():
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except (ValueError, OverflowError, OSError):
            return f"at {value}"
        return f"at {moment:%Y-%m-%dT%H:%M:%SZ} (epoch {value})"
    if value := headers.get("retry-after", "").strip():
        return f"in {value} s" if value.isdigit() else f"at {value}"
    return None


def _without_query(url: str) -> str:
    # Queries carry ids that bloat a message; the path says which call it was.
    return url.split("?", 1)[0]
