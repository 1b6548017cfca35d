"""Lifecycle step "Request revision" (waits on its task token): "not like this", with a revise link."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import mailer, store
from greenlight.steps import RequestRevisionInput
from greenlight.triage import request_revision


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = RequestRevisionInput.model_validate(event)
    return request_revision(
        step.request_id, step.task_token, step.window_seconds, store(), mailer()
    ).model_dump(mode="json")
