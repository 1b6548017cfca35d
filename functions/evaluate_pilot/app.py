"""Pilot step "Evaluate pilot": the verdict once every slot's figure is in, and the report mail."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.piloting import evaluate_pilot
from greenlight.service import mailer, store
from greenlight.steps import EvaluatePilotInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = EvaluatePilotInput.model_validate(event)
    return evaluate_pilot(step.request_id, store(), mailer()).model_dump(mode="json")
