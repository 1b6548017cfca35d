"""Lifecycle step "Wait for publish time" (waits on its task token): a reschedule or a cancel wakes it."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import wait_for_publish_time
from greenlight.service import sfn, store
from greenlight.steps import WaitForPublishTimeInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = WaitForPublishTimeInput.model_validate(event)
    return wait_for_publish_time(
        step.request_id, step.publish_at, step.task_token, store(), sfn()
    ).model_dump(mode="json")
