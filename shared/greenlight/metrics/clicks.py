"""Tracked links: Greenlight's own short links count clicks, because neither Mastodon nor Bluesky does.

Counting people, not fetchers: every Mastodon server that sees a post fetches its link card within
about a minute (HEAD and GET, ``http.rb/5.x (Mastodon/4.x; +https://server/)``), hundreds of times
for a popular account; Bluesky's card service, chat apps, search engines and mail security gateways
(Safe Links, Mimecast, Proofpoint) fetch links too (docs/measurement.md, "Clicks"). A fetcher still
gets its redirect (a preview must work), it is just not counted. People are counted once per day:
``visitor_key`` is a keyed hash, so no IP address is ever stored.
"""

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Mapping
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CODE_LENGTH = 10  # 10 letters and digits: 59 bits, far beyond guessing or enumerating
# Letters and digits only: a code ending in "-" or "_" is cut off by some mail clients' and
# networks' link detection (trailing punctuation), and the link then points nowhere.
_ALPHABET = string.ascii_letters + string.digits
VISITOR_KEY_LENGTH = 32  # hex characters of the HMAC kept (128 bits)
_CODE = re.compile(rf"^[A-Za-z0-9_-]{{{CODE_LENGTH}}}$")


def new_code() -> str:
    """A short link code for ``/r/{code}``: random letters and digits (codes made before may hold - _)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def is_code(value: str) -> bool:
    """Whether ``value`` could be a code: checked before any lookup, so junk paths cost nothing."""
    return bool(_CODE.match(value))


def campaign_for(request_id: str) -> str:
    """The utm_campaign of a request's links: stable, so analytics group a request's posts."""
    return f"greenlight-{request_id}"


def with_utm(url: str, *, source: str, medium: str = "social", campaign: str) -> str:
    """``url`` with utm_source, utm_medium and utm_campaign added. Its own query (order kept) and
    fragment stay as they are, and a utm_ parameter it already has is never overwritten: the
    requester's campaign tagging wins."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name.lower() for name, _ in query}
    added = [
        (name, value)
        for name, value in (("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign))
        if name not in present
    ]
    if not added:
        return url
    extra = urlencode(added)
    joined = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))


# User agents of link-preview fetchers, scanners and crawlers, matched case-insensitively anywhere in
# the header. Specific names first (documentation); the generic words at the end catch the rest.
FETCHER_AGENTS: tuple[str, ...] = (
    r"mastodon/",  # http.rb/5.x (Mastodon/4.x; +https://server/)
    r"\bhttp\.rb/",
    r"cardyb",  # Bluesky's card service ("Bluesky Cardyb/1.1")
    r"slackbot",  # Slackbot-LinkExpanding 1.0, Slack-ImgProxy
    r"slack-imgproxy",
    r"twitterbot",
    r"facebookexternalhit",
    r"facebookcatalog",
    r"meta-externalagent",
    r"discordbot",
    r"linkedinbot",
    r"whatsapp",
    r"telegrambot",
    r"skypeuripreview",
    r"googlebot",
    r"google-inspectiontool",
    r"googleother",
    r"bingbot",
    r"bingpreview",
    r"yandex",
    r"applebot",
    r"duckduckbot",
    r"ms office",  # Office link previews
    r"microsoft office",
    r"ms-office",
    r"safelinks",
    r"microsoft.*preview",
    r"mimecast",
    r"proofpoint",
    r"urldefense",
    r"barracuda",
    r"iframely",
    r"embedly",
    r"\bcurl/",
    r"\bwget/",
    r"python-requests",
    r"python-urllib",
    r"go-http-client",
    r"okhttp",
    r"headlesschrome",
    r"bot\b",
    r"bot/",
    r"crawler",
    r"spider",
    r"preview",
    r"scanner",
    r"fetcher",
)
_FETCHER = re.compile("|".join(FETCHER_AGENTS), re.IGNORECASE)
_PREFETCH = re.compile(r"\bprefetch\b|\bprerender\b|\bpreview\b", re.IGNORECASE)


def is_fetcher(method: str, user_agent: str | None, headers: Mapping[str, str] | None = None) -> bool:
    """True when a request to a tracked link is not a person following it: a HEAD, no user agent, a
    known preview/scanner/crawler agent, or a browser prefetch (``Sec-Purpose: prefetch``,
    ``Purpose: prefetch``, ``X-Purpose: preview``, ``X-Moz: prefetch``). Header names are matched
    case-insensitively."""
    if method.upper() != "GET":
        return True  # HEAD (Mastodon checks the card first), OPTIONS, anything but a person's GET
    agent = (user_agent or "").strip()
    if not agent or _FETCHER.search(agent):
        return True
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    return any(
        _PREFETCH.search(lowered.get(name, "")) for name in ("sec-purpose", "purpose", "x-purpose", "x-moz")
    )


def visitor_key(ip: str, user_agent: str, day: date, secret: bytes) -> str:
    """Who clicked, pseudonymously: HMAC-SHA256 over (day, ip, user agent) with a secret, truncated.
    The same person on the same day gives the same key (counted once); the next day gives another, so
    keys cannot follow anyone across days, and without the secret a key cannot be traced to an IP."""
    if not secret:
        raise ValueError("visitor_key needs a secret: without one a key could be recomputed from an IP.")
    message = "\n".join((day.isoformat(), ip.strip(), user_agent.strip())).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:VISITOR_KEY_LENGTH]


def tracked_url(base_url: str, code: str) -> str:
    """The link that goes out in a post: ``<base>/r/<code>``."""
    return f"{base_url.rstrip('/')}/r/{code}"


_URL = re.compile(r"https?://\S+")
_TRAILING = ".,;:!?)]}'\"”’»"


def swap_link(text: str, link: str, replacement: str) -> str | None:
    """``text`` with each occurrence of ``link`` (with or without its trailing slash, punctuation
    after it kept) replaced by ``replacement``; None when the text does not carry the link (the team
    took it out of the copy: nothing to track)."""
    wanted = {link, link.rstrip("/")}
    found = False

    def swap(match: re.Match[str]) -> str:
        nonlocal found
        url = match.group(0)
        core = url.rstrip(_TRAILING)
        if core in wanted:
            found = True
            return replacement + url[len(core) :]
        return url

    swapped = _URL.sub(swap, text)
    return swapped if found else None
