"""A table for storage tests: template.yaml's own table definition, created on moto in memory."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import boto3
import pytest
from greenlight import clock
from greenlight.storage import Store
from moto import mock_aws

from local.template import REGION, Stack, load


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A Store over an empty table with template.yaml's keys and GSIs (no sockets, no AWS), on a
    clock that moves a millisecond each time it is read, so the audit trail's order is certain."""
    start, reads = clock.now(), iter(range(10**9))

    def ticking() -> datetime:
        return start + timedelta(milliseconds=next(reads))

    monkeypatch.setattr(clock, "now", ticking)
    properties = Stack(load()).of_type("AWS::DynamoDB::Table")["Table"]["Properties"]
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="storage-test",
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
            BillingMode=properties["BillingMode"],
        )
        yield Store(client, "storage-test")
