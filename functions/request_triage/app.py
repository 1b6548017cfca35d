"""Lifecycle step "Request triage" (waits on its task token): mail the social team decision links."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.service import mailer, sfn, store
from greenlight.steps import RequestTriageInput
from greenlight.triage import request_triage


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = RequestTriageInput.model_validate(event)
    return request_triage(
        step.request_id,
        step.round,
        step.task_token,
        store(),
        mailer(),
        sfn(),
        settings().decision_link_days,
    ).model_dump(mode="json")
