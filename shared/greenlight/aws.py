"""boto3 clients, created on first use (never at import) and reused across invocations. Low-level
clients only: boto3's resource layer (boto3.resource, boto3.dynamodb.table) costs cold-start time and
Greenlight's storage speaks the client API."""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]
