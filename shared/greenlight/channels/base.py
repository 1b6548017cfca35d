"""One interface for every social network: publish a post, find it again, read its metrics."""

from dataclasses import dataclass, field
from typing import Any, Protocol


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


@dataclass(frozen=True)
class Receipt:
    channel: str
    post_id: str  # the network's id (a Mastodon status id, a Bluesky at:// URI, a sandbox id)
    url: str  # where people see it
    published_at: str  # ISO 8601, as the network says
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. Bluesky's cid


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


class Channel(Protocol):
    name: str

    def publish(self, post: Post) -> Receipt:
        """Publish once. Raises ChannelUnavailable (retry) or PublishRejected (do not)."""
        ...

    def find(self, post: Post) -> Receipt | None:
        """Ask the network whether this post is already out (reconciliation after a crash)."""
        ...

    def metrics(self, receipt: Receipt) -> Metrics: ...
