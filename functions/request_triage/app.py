"""Lifecycle step "Request triage" (waits on its task token): mail the social team decision links."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.service import mailer, sfn, store
from greenlight.steps import RequestTriageInput
from greenlight.triage import request_triage


@logger.inject_lambda_context
@event_parser(model=RequestTriageInput)
def lambda_handler(event: RequestTriageInput, context: LambdaContext) -> dict:
    return request_triage(
        event.request_id,
        event.round,
        event.task_token,
        store(),
        mailer(),
        sfn(),
        settings().decision_link_days,
    ).model_dump(mode="json")
