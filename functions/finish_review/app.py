"""Lifecycle step "Finish review": tally the decisions of this version and tell the people involved."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.review import finish_review
from greenlight.service import mailer, store
from greenlight.steps import FinishReviewInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = FinishReviewInput.model_validate(event)
    return finish_review(step.request_id, store(), mailer()).model_dump(mode="json")
