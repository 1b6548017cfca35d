"""The sandbox: a plain HTTP test network (served locally by ``local/networks.py``) so every part of
Greenlight — publishing, retries, charts, pilot verdicts — runs without a real account.

API: ``POST {base}/posts`` with ``{key, text, channel, request_id, scheduled_at}`` answers 201 with
``{id, url, published_at}``, or 200 with the same post when the key was seen before (idempotent);
``GET {base}/posts/by-key/{key}`` (404 when unknown); ``GET {base}/posts/{id}/metrics``.
"""

from typing import Any
from urllib.parse import quote

from greenlight import clock
from greenlight.channels.base import Metrics, Post, Receipt
from greenlight.channels.http import DEFAULT_TIMEOUT, expect_fields, request_json


class SandboxChannel:
    name = "sandbox"

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def publish(self, post: Post) -> Receipt:
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
        answer = request_json(
            self.name,
            "GET",
            f"{self.base_url}/posts/{quote(receipt.post_id, safe='')}/metrics",
            timeout=self.timeout,
        )
        counts = expect_fields(self.name, answer.body, ("likes", "reposts", "replies"))
        return Metrics(
            taken_at=clock.iso(clock.now()),
            likes=int(counts["likes"]),
            reposts=int(counts["reposts"]),
            replies=int(counts["replies"]),
            quotes=int(counts.get("quotes") or 0),
            impressions=_optional_int(counts.get("impressions")),
            clicks=_optional_int(counts.get("clicks")),
        )

    def _receipt(self, body: Any) -> Receipt:
        fields = expect_fields(self.name, body, ("id", "url", "published_at"))
        return Receipt(
            channel=self.name,
            post_id=str(fields["id"]),
            url=str(fields["url"]),
            published_at=str(fields["published_at"]),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
