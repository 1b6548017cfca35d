"""boto3 clients, created on first use (never at import) and reused across invocations. Low-level
clients only: boto3's resource layer (boto3.resource, boto3.dynamodb.table) costs cold-start time and
Greenlight's storage speaks the client API."""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Every AWS call is over well before the function's 15 s timeout, so a slow call fails the step (to
# be retried, or caught and told) instead of the Lambda dying in the middle of a side effect and its
# record: 3 attempts x (1 s to connect + 2 s to answer) + at most 1 s + 2 s of backoff = 12 s.
# tests/unit/test_aws.py holds the sum below the template's Globals timeout.
CONNECT_SECONDS, READ_SECONDS, ATTEMPTS = 1, 2, 3
_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": ATTEMPTS},  # the first call included
    connect_timeout=CONNECT_SECONDS,
    read_timeout=READ_SECONDS,
)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]
