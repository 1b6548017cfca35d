"""The sandbox: a plain HTTP test network (served locally by ``local/networks.py``) so every part of
Greenlight — publishing, retries, charts, pilot verdicts — runs without a real account.

API: ``POST {base}/posts`` with ``{key, text, channel, request_id, scheduled_at, images}`` (each
image ``{alt, content_type, data}``, the bytes in base64) answers 201 with
``{id, url, published_at}``, or 200 with the same post when the key was seen before (idempotent);
``GET {base}/posts/by-key/{key}`` (404 when unknown); ``GET {base}/posts/{id}/metrics``;
``GET {base}/posts?id=a&id=b`` (at most 50 ids: ``{"posts": [{id, ..., metrics}]}``, leaving out
posts it does not have, as the real networks' batch reads do); ``DELETE {base}/posts/{id}``;
``GET {base}/account`` (``{followers, posts}``). A 429 may carry ``Retry-After``.
"""

import base64
from typing import Any
from urllib.parse import quote, urlencode

from greenlight import clock
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
from greenlight.channels.http import DEFAULT_TIMEOUT, expect_fields, rate_budget, request_json
from greenlight.errors import ChannelUnavailable, PublishRejected

BATCH = 50  # ids per GET /posts
GONE_FROM_BATCH = "deleted on the sandbox: the batch answer left it out"


class SandboxChannel:
    name = "sandbox"

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.budget: RateBudget | None = None  # the sandbox sends no rate-limit headers (today)

    def publish(self, post: Post) -> Receipt:
        refuse_images(self.name, post)
        answer = request_json(
            self.name,
            "POST",
            f"{self.base_url}/posts",
            body={
                "key": post.key,
                "text": post.text,
                "channel": post.channel,
                "request_id": post.request_id,
                "scheduled_at": post.scheduled_at,
                "images": [
                    {
                        "alt": image.alt,
                        "content_type": image.content_type,
                        "data": base64.b64encode(image.data).decode(),
                    }
                    for image in post.images
                ],
            },
            timeout=self.timeout,
        )
        return self._receipt(answer.body)

    def find(self, post: Post) -> Receipt | None:
        answer = request_json(
            self.name,
            "GET",
            f"{self.base_url}/posts/by-key/{quote(post.key, safe='')}",
            timeout=self.timeout,
            accept=(404,),
        )
        return None if answer.status == 404 else self._receipt(answer.body)

    def metrics(self, receipt: Receipt) -> Metrics:
        found = self.metrics_many([receipt])[receipt.post_id]
        if isinstance(found, Gone):
            raise PublishRejected(f"sandbox: post {receipt.post_id} is gone ({found.note})")
        return found

    def metrics_many(self, receipts: list[Receipt]) -> dict[str, Metrics | Gone]:
        ids = list(dict.fromkeys(receipt.post_id for receipt in receipts))
        results: dict[str, Metrics | Gone] = {}
        try:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                body = self._get(f"/posts?{urlencode([('id', post_id) for post_id in chunk])}")
                posts = expect_fields(self.name, body, ("posts",))["posts"]
                if not isinstance(posts, list):
                    raise ChannelUnavailable("sandbox: unexpected answer to GET /posts (posts is not a list)")
                by_id = {str(p.get("id")): p for p in posts if isinstance(p, dict)}
                for post_id in chunk:
                    post = by_id.get(post_id)
                    results[post_id] = (
                        Gone(post_id, GONE_FROM_BATCH) if post is None else _metrics(post.get("metrics"))
                    )
        except RateLimited as limited:
            limited.partial.update(results)
            raise
        return results

    def followers(self) -> AccountStats:
        account = expect_fields(self.name, self._get("/account"), ("followers", "posts"))
        return AccountStats(
            followers=int(account["followers"]),
            posts=int(account["posts"]),
            taken_at=clock.iso(clock.now()),
        )

    def _get(self, path: str) -> Any:
        answer = request_json(
            self.name, "GET", f"{self.base_url}{path}", timeout=self.timeout, rate_limited=True
        )
        self.budget = rate_budget(answer.headers, clock.now()) or self.budget
        return answer.body

    def _receipt(self, body: Any) -> Receipt:
        fields = expect_fields(self.name, body, ("id", "url", "published_at"))
        return Receipt(
            channel=self.name,
            post_id=str(fields["id"]),
            url=str(fields["url"]),
            published_at=str(fields["published_at"]),
        )


def _metrics(counts: Any) -> Metrics:
    counts = expect_fields("sandbox", counts, ("likes", "reposts", "replies"))
    return Metrics(
        # The sandbox says when it counted; the adapter's clock when it does not.
        taken_at=str(counts.get("taken_at") or clock.iso(clock.now())),
        likes=int(counts["likes"]),
        reposts=int(counts["reposts"]),
        replies=int(counts["replies"]),
        quotes=int(counts.get("quotes") or 0),
        impressions=_optional_int(counts.get("impressions")),
        clicks=_optional_int(counts.get("clicks")),
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
