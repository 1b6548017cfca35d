"""Lifecycle step "Review" (waits on its task token): mail one role's reviewers a decision link."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.review import request_review
from greenlight.service import mailer, sfn, store
from greenlight.steps import RequestReviewInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = RequestReviewInput.model_validate(event)
    return request_review(
        step.request_id,
        step.role,
        step.lane,
        step.round,
        step.task_token,
        store(),
        mailer(),
        sfn(),
        settings().decision_link_days,
    ).model_dump(mode="json")
