"""Fixtures for unit tests of the workflow's logic: a Store on moto's DynamoDB (the table built from
template.yaml's own definition, so it cannot drift), a mailer and a Step Functions client that only
remember what they were asked (tests/unit/fakes.py)."""

from collections.abc import Iterator

import boto3
import pytest
from greenlight.storage import Store
from moto import mock_aws

from local.template import Stack, load
from tests.unit.fakes import FakeMailer, FakeSfn


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """An empty Greenlight table on moto, shaped as template.yaml's Table resource."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    props = Stack(load()).resources["Table"]["Properties"]
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="unit-table",
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
            BillingMode=props["BillingMode"],
        )
        yield Store(client, "unit-table")


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def sfn() -> FakeSfn:
    return FakeSfn()
