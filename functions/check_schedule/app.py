"""Lifecycle step "Check schedule": wait, publish now, or end because the team cancelled."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import check_schedule
from greenlight.service import store
from greenlight.steps import CheckScheduleInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = CheckScheduleInput.model_validate(event)
    return check_schedule(step.request_id, store()).model_dump(mode="json")
