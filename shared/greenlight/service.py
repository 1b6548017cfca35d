"""Wiring: the real collaborators, built from settings on first use. Handlers call these; logic
takes the collaborators as arguments, so tests can hand it others."""

import json
import time
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from greenlight.aws import client
from greenlight.config import settings
from greenlight.errors import Conflict, KeyReused
from greenlight.models import RequestInput
from greenlight.storage import Store
from greenlight.workflow import Workflow

# Every function imports this module; each collaborator's own imports (Powertools idempotency, the
# mail rendering) come with the accessor that builds it, so a function pays only for what it uses.
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    from greenlight.mail import Mailer


@cache
def store() -> Store:
    return Store(client("dynamodb"), settings().table_name)


@cache
def workflow() -> Workflow:
    return Workflow(sfn(), settings().lifecycle_state_machine_arn)


@cache
def pilot_workflow() -> Workflow:
    return Workflow(sfn(), settings().pilot_state_machine_arn)


@cache
def sfn() -> Any:
    return client("stepfunctions")


_channels: dict[str, Any] = {}


def channels_config() -> dict[str, Any]:
    """The networks' credentials from Secrets Manager, re-read every five minutes so a rotated
    token is picked up without a deployment."""
    if not _channels or time.monotonic() - _channels["read_at"] > 300:
        arn = settings().channels_secret_arn
        secret = client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"] if arn else "{}"
        _channels.update(config=json.loads(secret), read_at=time.monotonic())
    config: dict[str, Any] = _channels["config"]
    return config


@cache
def mailer() -> "Mailer":
    from greenlight.mail import Mailer

    return Mailer(client("sesv2"), settings().sender_email)


def submit(request: RequestInput, base_url: str) -> dict[str, Any]:
    from greenlight.intake import submit_request

    config = settings()
    return submit_request(
        request, base_url, store(), mailer(), config.status_link_days, config.confirm_link_days
    ).as_json()


def limit_requests(email: str, client: str) -> None:
    """Count a new request against its requester's and its client's hourly limits (RateLimited)."""
    from greenlight import clock, limits

    config = settings()
    now = clock.now()
    limits.check(store(), "requests-client", client, config.requests_per_client_per_hour, now)
    limits.check_address(store(), "requests", email, config.requests_per_address_per_hour, now)


@cache
def _idempotency() -> tuple["IdempotencyConfig", Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        event_key_jmespath="key",
        # The same key with a different request is a client error, not a replay.
        payload_validation_jmespath="request",
        expires_after_seconds=24 * 3600,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=settings().idempotency_table_name, boto3_client=client("dynamodb")
    )

    @idempotent_function(data_keyword_argument="submission", persistence_store=persistence, config=config)
    def submit_once(submission: dict[str, Any]) -> dict[str, Any]:
        created = submit(RequestInput.model_validate(submission["request"]), submission["base_url"])
        # What the idempotency table keeps for 24 hours: never the status link's secret.
        return {"id": created["id"], "status": created["status"]}

    return config, submit_once


def fresh_status_url(request_id: str, base_url: str) -> str:
    from greenlight.intake import status_url
    from greenlight.links import issue
    from greenlight.models import LinkKind

    lifetime = timedelta(days=settings().status_link_days)
    return status_url(base_url, request_id, issue(store(), LinkKind.status, lifetime, request_id))


def submit_idempotent(
    request: RequestInput, base_url: str, key: str | None, lambda_context: Any, client: str
) -> dict[str, Any]:
    """Submit once per idempotency key: a retry or a double click gets the first answer back, with
    a fresh status link (the idempotency record keeps only the request id); the same key with a
    different request raises KeyReused. Every try counts against the rate limits (RateLimited)."""
    limit_requests(request.requester.email, client)
    if not key:
        return submit(request, base_url)
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config, submit_once = _idempotency()
    config.register_lambda_context(lambda_context)
    submission = {"key": key, "request": request.model_dump(mode="json"), "base_url": base_url}
    # A double click arrives while the first is still running: wait for its answer.
    for _ in range(20):
        try:
            result: dict[str, Any] = submit_once(submission=submission)
            return {**result, "status_url": fresh_status_url(result["id"], base_url)}
        except IdempotencyAlreadyInProgressError:
            time.sleep(0.25)
        except IdempotencyValidationError:
            raise KeyReused(
                "This form was sent before with different content. Your first request stands "
                "(its status link is in your mail); to send another one, open a new form."
            ) from None
    raise Conflict("The first sending of this form is still being stored. Wait a moment, then reload.")


def channel(name: str) -> Any:
    """The adapter for one network, from the current credentials (greenlight.channels.channel_for)."""
    from greenlight.channels import channel_for

    return channel_for(name, channels_config())
