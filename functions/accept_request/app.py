"""Lifecycle step "Accept request": record the triager's plan (with each channel's options from the
channel credentials' defaults) and tell the requester."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import channels_config, mailer, store
from greenlight.steps import AcceptRequestInput
from greenlight.triage import accept_request


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = AcceptRequestInput.model_validate(event)
    return accept_request(step.request_id, store(), mailer(), channels_config()).model_dump(mode="json")
