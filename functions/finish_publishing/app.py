"""Lifecycle step "Finish publishing": the outcome on every channel and the mail with the live links."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import finish_publishing
from greenlight.service import mailer, store
from greenlight.steps import FinishPublishingInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = FinishPublishingInput.model_validate(event)
    return finish_publishing(step.request_id, store(), mailer()).model_dump(mode="json")
