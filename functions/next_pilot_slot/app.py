"""Pilot step "Next pilot slot": wait for the next slot, publish it, stop (cancelled), or measure."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.piloting import Offered, next_slot
from greenlight.service import store
from greenlight.steps import NextPilotSlotInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = NextPilotSlotInput.model_validate(event)
    last = Offered(action=step.last_action, slot=step.last_slot, tries=step.tries)
    return next_slot(step.request_id, store(), last).model_dump(mode="json")
