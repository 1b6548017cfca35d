"""Scheduled: start the lifecycle of any request that was stored but never started."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import store, workflow
from greenlight.steps import ScheduledEvent
from greenlight.workflow import start_pending_workflows


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    ScheduledEvent.model_validate(event)
    return start_pending_workflows(store(), workflow()).model_dump(mode="json")
