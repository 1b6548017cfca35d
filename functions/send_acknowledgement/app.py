"""Lifecycle step "Send acknowledgement": mail the requester their status link."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.acknowledgement import send_acknowledgement
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.service import mailer, store
from greenlight.steps import SendAcknowledgementInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = SendAcknowledgementInput.model_validate(event)
    result = send_acknowledgement(step.request_id, store(), mailer(), settings().status_link_days)
    return result.model_dump(mode="json")
