"""Lifecycle step "Assess risk": score the accepted plan and choose the review lane."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.review import assess_risk
from greenlight.risk import policy
from greenlight.service import store
from greenlight.steps import AssessRiskInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = AssessRiskInput.model_validate(event)
    return assess_risk(step.request_id, store(), policy()).model_dump(mode="json")
