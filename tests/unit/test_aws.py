"""The AWS SDK's time is bounded below the functions' timeout: a slow AWS call fails the step
(retried or caught, then told) rather than the Lambda being killed between a side effect and its
record."""

import pytest
from greenlight import aws

from local.template import Stack, load

# botocore's standard retry mode waits at most 2^(attempt - 1) seconds (full jitter) before a retry.
MAX_BACKOFF = sum(2 ** (attempt - 1) for attempt in range(1, aws.ATTEMPTS))


def test_every_sdk_call_ends_before_the_default_function_timeout() -> None:
    timeout = int(Stack(load()).template["Globals"]["Function"]["Timeout"])
    worst = aws.ATTEMPTS * (aws.CONNECT_SECONDS + aws.READ_SECONDS) + MAX_BACKOFF
    assert worst < timeout, f"an AWS call may take {worst} s, the functions have {timeout} s"


def test_the_clients_use_the_bounded_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = aws.client.__wrapped__("dynamodb").meta.config  # not cached: no client outlives the test
    assert (config.connect_timeout, config.read_timeout) == (aws.CONNECT_SECONDS, aws.READ_SECONDS)
    assert config.retries["total_max_attempts"] == aws.ATTEMPTS
