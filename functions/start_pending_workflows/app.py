"""Scheduled: start the lifecycle of any request that was stored but never started, and record as
failed any open request whose workflow ended without a word or stopped making progress."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.recovery.sweep import sweep_stalled
from greenlight.service import mailer, pilot_workflow, store, workflow
from greenlight.steps import ScheduledEvent
from greenlight.workflow import start_pending_workflows


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    ScheduledEvent.model_validate(event)
    started = start_pending_workflows(store(), workflow())
    started.failed = sweep_stalled(store(), mailer(), workflow(), pilot_workflow())
    return started.model_dump(mode="json")
