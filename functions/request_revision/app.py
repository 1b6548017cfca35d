"""Lifecycle step "Request revision" (waits on its task token): "not like this", with a revise link."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import mailer, store
from greenlight.steps import RequestRevisionInput
from greenlight.triage import request_revision


@logger.inject_lambda_context
@event_parser(model=RequestRevisionInput)
def lambda_handler(event: RequestRevisionInput, context: LambdaContext) -> dict:
    return request_revision(
        event.request_id, event.task_token, event.window_seconds, store(), mailer()
    ).model_dump(mode="json")
