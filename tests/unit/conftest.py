"""Fixtures for unit tests of the workflow's logic: a Store on moto's DynamoDB (the table built from
template.yaml's own definition, so it cannot drift), on a clock that moves a millisecond each time it
is read (so the audit trail's order is certain), and a mailer and a Step Functions client that only
remember what they were asked (tests/unit/fakes.py)."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import boto3
import pytest
from greenlight import clock
from greenlight.storage import Store
from moto import mock_aws

from local.template import REGION, create_table
from tests.unit.fakes import FakeMailer, FakeSfn


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A Store over an empty table with template.yaml's keys and GSIs (no sockets, no AWS)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    start, reads = clock.now(), iter(range(10**9))

    def ticking() -> datetime:
        return start + timedelta(milliseconds=next(reads))

    monkeypatch.setattr(clock, "now", ticking)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, "unit-table")
        yield Store(client, "unit-table")


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def sfn() -> FakeSfn:
    return FakeSfn()
