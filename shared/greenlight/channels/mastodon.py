"""Mastodon over its REST API with an account's bearer token: ``POST /api/v1/statuses`` publishes,
``GET /api/v1/statuses?id[]=…`` (Mastodon 4.3+, at most 20 ids a call) reads counts,
``GET /api/v1/accounts/verify_credentials`` the account's followers. See docs/reference.md,
"Social networks"."""

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from greenlight import clock
from greenlight.channels.base import (
    AccountStats,
    Gone,
    Metrics,
    Post,
    PostImage,
    RateBudget,
    RateLimited,
    Receipt,
    refuse_images,
)
from greenlight.channels.http import (
    DEFAULT_TIMEOUT,
    Response,
    error_text,
    expect_fields,
    multipart,
    rate_budget,
    request_json,
)
from greenlight.errors import ChannelUnavailable, PublishRejected

BATCH = 20  # Mastodon's DEFAULT_STATUSES_LIMIT: more ids in one call is a 422 validation error
GONE_FROM_BATCH = "deleted on mastodon: the statuses batch answer left it out"
GONE_404 = "deleted on mastodon: 404 Record not found"


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
        # 300 calls / 5 min per account: what the last answer said is left of it.
        self.budget: RateBudget | None = None

    def publish(self, post: Post) -> Receipt:
        refuse_images(self.name, post)
        media_ids = [self._upload(image) for image in post.images]
        body: dict[str, Any] = {"status": post.text}
        if media_ids:
            body["media_ids"] = media_ids
        if post.visibility:
            body["visibility"] = post.visibility
        if post.language:
            body["language"] = post.language
        if post.content_warning:
            body["spoiler_text"] = post.content_warning  # hides the text behind it, as people expect
        answer = request_json(
            self.name,
            "POST",
            f"{self.base_url}/api/v1/statuses",
            body=body,
            headers=self._headers | {"Idempotency-Key": post.key},
            timeout=self.timeout,
            accept=(422,),
        )
        self._note_budget(answer)
        if answer.status == 422:
            reason = error_text(answer.body)
            if "not finished processing" in reason:  # a large image still being processed: retry
                raise ChannelUnavailable(f"mastodon: {reason}")
            raise PublishRejected(f"mastodon: {reason or 'HTTP 422'}")
        status = expect_fields(self.name, answer.body, ("id", "created_at"))
        return Receipt(
            channel=self.name,
            post_id=str(status["id"]),
            # ``url`` is the page people open; ``uri`` (the ActivityPub id) when an instance leaves it out.
            url=str(status.get("url") or status.get("uri") or f"{self.base_url}/statuses/{status['id']}"),
            published_at=str(status["created_at"]),
        )

    def _upload(self, image: PostImage) -> str:
        """``POST /api/v2/media`` with the image and its alt text (``description``): the id a
        status attaches. A retry uploads again; Mastodon removes attachments no status uses."""
        extension = image.content_type.removeprefix("image/").replace("jpeg", "jpg")
        data, content_type = multipart(
            {"description": image.alt}, ("file", f"image.{extension}", image.content_type, image.data)
        )
        answer = request_json(
            self.name,
            "POST",
            f"{self.base_url}/api/v2/media",
            headers=self._headers,
            timeout=self.timeout,
            upload=(data, content_type),
        )
        self._note_budget(answer)
        return str(expect_fields(self.name, answer.body, ("id",))["id"])

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
        found = self.metrics_many([receipt])[receipt.post_id]
        if isinstance(found, Gone):
            raise PublishRejected(f"mastodon: status {receipt.post_id} is gone ({found.note})")
        return found

    def metrics_many(self, receipts: list[Receipt]) -> dict[str, Metrics | Gone]:
        """One ``GET /api/v1/statuses?id[]=…`` per 20 statuses. A status left out of the answer was
        deleted (the batch omits what no longer exists, where a single GET says 404). A server older
        than 4.3 has no batch endpoint (404 for the whole call): then one GET per status."""
        ids = list(dict.fromkeys(receipt.post_id for receipt in receipts))
        results: dict[str, Metrics | Gone] = {}
        try:
            for chunk in _chunks(ids, BATCH):
                query = urlencode([("id[]", status_id) for status_id in chunk])
                answer = self._get(f"/api/v1/statuses?{query}", accept=(404,))
                if answer.status == 404:
                    results |= self._one_by_one(chunk)
                    continue
                if not isinstance(answer.body, list):
                    raise ChannelUnavailable(
                        "mastodon: unexpected answer to GET /api/v1/statuses (not a list)"
                    )
                taken_at = clock.iso(clock.now())
                by_id = {str(s.get("id")): s for s in answer.body if isinstance(s, dict)}
                for status_id in chunk:
                    status = by_id.get(status_id)
                    results[status_id] = (
                        Gone(status_id, GONE_FROM_BATCH) if status is None else _metrics(status, taken_at)
                    )
        except RateLimited as limited:
            limited.partial.update(results)
            raise
        return results

    def followers(self) -> AccountStats:
        account = expect_fields(
            self.name,
            self._get("/api/v1/accounts/verify_credentials").body,
            ("followers_count", "statuses_count"),
        )
        return AccountStats(
            followers=int(account["followers_count"]),
            posts=int(account["statuses_count"]),
            taken_at=clock.iso(clock.now()),
        )

    def _one_by_one(self, ids: Sequence[str]) -> dict[str, Metrics | Gone]:
        results: dict[str, Metrics | Gone] = {}
        for status_id in ids:
            answer = self._get(f"/api/v1/statuses/{quote(status_id, safe='')}", accept=(404,))
            if answer.status == 404:
                results[status_id] = Gone(status_id, GONE_404)
            else:
                results[status_id] = _metrics(answer.body, clock.iso(clock.now()))
        return results

    def _get(self, path: str, accept: tuple[int, ...] = ()) -> Response:
        try:
            answer = request_json(
                self.name,
                "GET",
                f"{self.base_url}{path}",
                headers=self._headers,
                timeout=self.timeout,
                accept=accept,
                rate_limited=True,
            )
        except RateLimited as limited:
            self.budget = RateBudget(
                0, self.budget.limit if self.budget else None, limited.retry_at, clock.now()
            )
            raise
        self._note_budget(answer)
        return answer

    def _note_budget(self, answer: Response) -> None:
        self.budget = rate_budget(answer.headers, clock.now()) or self.budget


def _metrics(status: Any, taken_at: str) -> Metrics:
    status = expect_fields("mastodon", status, ("replies_count", "reblogs_count", "favourites_count"))
    return Metrics(
        taken_at=taken_at,
        likes=int(status["favourites_count"]),
        reposts=int(status["reblogs_count"]),
        replies=int(status["replies_count"]),
        quotes=int(status.get("quotes_count") or 0),  # only newer servers (4.5+) count quotes
        impressions=None,  # Mastodon does not report impressions or clicks
        clicks=None,
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
