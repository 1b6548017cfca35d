"""Lifecycle step "Review" (waits on its task token): mail one role's reviewers a decision link."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.review import request_review
from greenlight.service import mailer, sfn, store
from greenlight.steps import RequestReviewInput


@logger.inject_lambda_context
@event_parser(model=RequestReviewInput)
def lambda_handler(event: RequestReviewInput, context: LambdaContext) -> dict:
    return request_review(
        event.request_id,
        event.role,
        event.lane,
        event.round,
        event.task_token,
        store(),
        mailer(),
        sfn(),
        settings().decision_link_days,
    ).model_dump(mode="json")
