"""Lifecycle steps "Close as declined / abandoned / unanswered"."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import mailer, store
from greenlight.steps import CloseRequestInput
from greenlight.triage import close_request


@logger.inject_lambda_context
@event_parser(model=CloseRequestInput)
def lambda_handler(event: CloseRequestInput, context: LambdaContext) -> dict:
    return close_request(event.request_id, event.reason, store(), mailer()).model_dump(mode="json")
