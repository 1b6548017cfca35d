"""Lifecycle step "Assess risk": score the accepted plan and choose the review lane."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.review import assess_risk
from greenlight.risk import policy
from greenlight.service import store
from greenlight.steps import AssessRiskInput


@logger.inject_lambda_context
@event_parser(model=AssessRiskInput)
def lambda_handler(event: AssessRiskInput, context: LambdaContext) -> dict:
    return assess_risk(event.request_id, store(), policy()).model_dump(mode="json")
