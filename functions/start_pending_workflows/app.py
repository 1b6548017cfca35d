"""Scheduled: start the lifecycle of any request that was stored but never started."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import store, workflow
from greenlight.steps import ScheduledEvent
from greenlight.workflow import start_pending_workflows


@logger.inject_lambda_context
@event_parser(model=ScheduledEvent)
def lambda_handler(event: ScheduledEvent, context: LambdaContext) -> dict:
    return start_pending_workflows(store(), workflow()).model_dump(mode="json")
