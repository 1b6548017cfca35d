"""EventBridge: a lifecycle or pilot execution failed, timed out or was stopped; mark its request
failed and tell the team leads, once however often the event is delivered."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.recovery.failures import record_failure
from greenlight.service import mailer, pilot_workflow, store, workflow
from greenlight.steps import RecordFailureInput, RecordFailureOutput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    change = RecordFailureInput.model_validate(event).detail
    pilot = change.state_machine_arn == settings().pilot_state_machine_arn
    recorded = record_failure(
        store(),
        mailer(),
        pilot_workflow() if pilot else workflow(),
        change.request_id,
        change.name,
        change.status,
        pilot=pilot,
    )
    return RecordFailureOutput(recorded=recorded).model_dump(mode="json")
