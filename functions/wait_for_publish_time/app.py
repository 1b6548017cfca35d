"""Lifecycle step "Wait for publish time" (waits on its task token): a reschedule or a cancel wakes it."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import wait_for_publish_time
from greenlight.service import sfn, store
from greenlight.steps import WaitForPublishTimeInput


@logger.inject_lambda_context
@event_parser(model=WaitForPublishTimeInput)
def lambda_handler(event: WaitForPublishTimeInput, context: LambdaContext) -> dict:
    return wait_for_publish_time(
        event.request_id, event.publish_at, event.task_token, store(), sfn()
    ).model_dump(mode="json")
