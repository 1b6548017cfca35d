"""Lifecycle step "Check schedule": wait, publish now, or end because the team cancelled."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import check_schedule
from greenlight.service import store
from greenlight.steps import CheckScheduleInput


@logger.inject_lambda_context
@event_parser(model=CheckScheduleInput)
def lambda_handler(event: CheckScheduleInput, context: LambdaContext) -> dict:
    return check_schedule(event.request_id, store()).model_dump(mode="json")
