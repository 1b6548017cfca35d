"""Mastodon over its REST API (``POST /api/v1/statuses``, ``GET /api/v1/statuses/:id``), with an
account's bearer token. See docs/reference.md, "Social networks"."""

from urllib.parse import quote

from greenlight import clock
from greenlight.channels.base import Metrics, Post, Receipt
from greenlight.channels.http import DEFAULT_TIMEOUT, expect_fields, request_json
from greenlight.errors import PublishRejected


class MastodonChannel:
    """Publishes with ``Idempotency-Key: post.key``: Mastodon remembers the key per account for one
    hour and answers a repeated POST with the status it already created, so a retry cannot post twice
    within that hour."""

    name = "mastodon"

    def __init__(self, base_url: str, access_token: str, *, timeout: float = DEFAULT_TIMEOUT):
        if not access_token:
            raise PublishRejected("mastodon: not authorised: no access token configured")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {access_token}"}

    def publish(self, post: Post) -> Receipt:
        answer = request_json(
            self.name,
            "POST",
            f"{self.base_url}/api/v1/statuses",
            body={"status": post.text},
            headers=self._headers | {"Idempotency-Key": post.key},
            timeout=self.timeout,
        )
        status = expect_fields(self.name, answer.body, ("id", "created_at"))
        return Receipt(
            channel=self.name,
            post_id=str(status["id"]),
            # ``url`` is the page people open; ``uri`` (the ActivityPub id) when an instance leaves it out.
            url=str(status.get("url") or status.get("uri") or f"{self.base_url}/statuses/{status['id']}"),
            published_at=str(status["created_at"]),
        )

    def find(self, post: Post) -> Receipt | None:
        """Mastodon cannot look a status up by idempotency key, so this re-POSTs with the same
        ``Idempotency-Key``: within the key's one-hour window Mastodon answers with the status it
        already created (or creates it now, if the first attempt never arrived). It never returns None.

        Limitation: the window counts from the first POST. Reconciling a post more than an hour after
        its first attempt would publish it a second time; callers should only ``find`` a Mastodon
        post within about 50 minutes of ``post.scheduled_at`` and otherwise ask a person to check
        the account.
        """
        return self.publish(post)

    def metrics(self, receipt: Receipt) -> Metrics:
        answer = request_json(
            self.name,
            "GET",
            f"{self.base_url}/api/v1/statuses/{quote(receipt.post_id, safe='')}",
            headers=self._headers,
            timeout=self.timeout,
        )
        status = expect_fields(self.name, answer.body, ("replies_count", "reblogs_count", "favourites_count"))
        return Metrics(
            taken_at=clock.iso(clock.now()),
            likes=int(status["favourites_count"]),
            reposts=int(status["reblogs_count"]),
            replies=int(status["replies_count"]),
            quotes=int(status.get("quotes_count") or 0),  # only newer servers (4.5+) count quotes
            impressions=None,  # Mastodon does not report impressions or clicks
            clicks=None,
        )
