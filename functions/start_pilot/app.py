"""Lifecycle step "Start pilot": the pilot's slot requests, then its own state machine."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.piloting import start_pilot
from greenlight.service import sfn, store
from greenlight.steps import StartPilotInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = StartPilotInput.model_validate(event)
    return start_pilot(step.request_id, store(), sfn(), settings().pilot_state_machine_arn).model_dump(
        mode="json"
    )
