"""One interface for every social network: publish a post, find it again, read its metrics."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from greenlight.errors import ChannelUnavailable, PublishRejected


@dataclass(frozen=True)
class PostImage:
    """An image that goes out with a post: its bytes, its alt text (required), and what it is."""

    data: bytes
    alt: str
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Post:
    """What goes out on one channel. `key` is deterministic (request, version, channel), so a
    retry is recognised by the network (Mastodon's Idempotency-Key, Bluesky's record key)."""

    request_id: str
    version: int
    channel: str
    text: str  # the final copy, link included
    key: str
    scheduled_at: str  # ISO 8601: the planned publish time (Bluesky derives its record key from it)
    # ISO 8601: when the post goes out, fixed in the publish intent before the first attempt, so
    # every retry sends the same moment (Bluesky's createdAt).
    created_at: str
    # The request's link: the page whose Open Graph tags make a link card (``link_page``, as the
    # requester wrote it) and the address the card opens (``link``: the tracked link when the text
    # carries it, so a click on the card is counted too). None: no card.
    link: str | None = None
    link_page: str | None = None
    # How it goes out, from the plan (None / empty: the account's default). Mastodon: visibility,
    # language, content_warning (spoiler_text); Bluesky: langs.
    visibility: str | None = None
    language: str | None = None
    content_warning: str = ""
    langs: tuple[str, ...] = ()
    images: tuple[PostImage, ...] = ()  # with images, a Bluesky post carries them, not a link card


@dataclass(frozen=True)
class Receipt:
    channel: str
    post_id: str  # the network's id (a Mastodon status id, a Bluesky at:// URI, a sandbox id)
    url: str  # where people see it
    published_at: str  # ISO 8601, as the network says
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. Bluesky's cid
    # What went out differently from what was asked (a mention left plain, no link card), in words
    # for the request's history.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metrics:
    """Counts at one moment. None where a network does not report it (Mastodon has no impressions)."""

    taken_at: str
    likes: int
    reposts: int
    replies: int
    quotes: int = 0
    impressions: int | None = None
    clicks: int | None = None
    bookmarks: int | None = None  # Bluesky's bookmarkCount, where the AppView sends it


@dataclass(frozen=True)
class Gone:
    """A post the network no longer has (deleted there): not zero counts, and not worth asking again.
    ``note`` says how the network told us (a 404, left out of a batch answer)."""

    post_id: str
    note: str


@dataclass(frozen=True)
class AccountStats:
    """The publishing account at one moment: its followers (the denominator of a per-follower rate)
    and how many posts it has."""

    followers: int
    posts: int
    taken_at: str


@dataclass(frozen=True)
class RateBudget:
    """What the network's rate-limit headers said on the last answer: calls left in the current
    window and when the window resets (None where a network does not say)."""

    remaining: int
    limit: int | None
    reset_at: datetime | None
    seen_at: datetime


class RateLimited(ChannelUnavailable):
    """The network said 429: nothing more until ``retry_at`` (timezone-aware UTC, from its reset
    headers or Retry-After). A ChannelUnavailable, so code that retries those still retries; a
    caller that can wait (a metrics sweep) defers to ``retry_at`` instead and records the true age
    of the snapshot it takes then.

    Only the reads (``metrics_many``, ``metrics``, ``followers``) raise it: ``publish`` and ``find``
    keep raising plain ChannelUnavailable on a 429, because a Lambda error's type is its class name
    and the state machine's Retry names ChannelUnavailable."""

    def __init__(self, message: str, retry_at: datetime, partial: dict[str, "Metrics | Gone"] | None = None):
        super().__init__(message)
        self.retry_at = retry_at
        # What a batched read got before the limit hit (keyed like metrics_many's answer): keep it.
        self.partial: dict[str, Metrics | Gone] = dict(partial or {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.retry_at, self.partial))


class Channel(Protocol):
    name: str
    # The rate-limit budget the last answer reported (None before the first call, or when the network
    # sends no rate-limit headers): a sweep stops before spending the last of it.
    budget: RateBudget | None

    def publish(self, post: Post) -> Receipt:
        """Publish once. Raises ChannelUnavailable (retry) or PublishRejected (do not)."""
        ...

    def find(self, post: Post) -> Receipt | None:
        """Ask the network whether this post is already out (reconciliation after a crash)."""
        ...

    def metrics(self, receipt: Receipt) -> Metrics:
        """One post's counts now. Raises PublishRejected when the post is gone from the network,
        RateLimited on a 429, ChannelUnavailable when the network cannot answer."""
        ...

    def metrics_many(self, receipts: list[Receipt]) -> dict[str, Metrics | Gone]:
        """Counts now for many posts, in as few calls as the network allows, keyed by ``post_id``:
        ``Gone`` for a post the network no longer has. A post the network holds but cannot show yet
        (Bluesky's AppView lags a write by about a second) is left out: ask again later.
        Raises RateLimited on a 429, its ``partial`` holding what the earlier calls got."""
        ...

    def followers(self) -> AccountStats:
        """The publishing account's followers and post count now. Raises RateLimited on a 429."""
        ...


def refuse_images(network: str, post: Post) -> None:
    """Raise PublishRejected, naming every reason, when the post's images break the network's
    limits: refused before any upload, as the network itself would refuse them."""
    if not post.images:
        return
    from greenlight.media import ImageFacts, problems

    facts = [
        (ImageFacts(image.content_type, image.width, image.height, len(image.data)), image.alt)
        for image in post.images
    ]
    if found := problems(network, facts):
        raise PublishRejected(f"{network}: " + "; ".join(found))
