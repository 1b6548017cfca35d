"""Lifecycle steps "Close as declined / abandoned / unanswered"."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import mailer, store
from greenlight.steps import CloseRequestInput
from greenlight.triage import close_request


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = CloseRequestInput.model_validate(event)
    return close_request(step.request_id, step.reason, store(), mailer()).model_dump(mode="json")
