"""EventBridge: a lifecycle execution failed, timed out or was stopped; mark its request failed and
tell the team leads, once however often the event is delivered."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.recovery.failures import record_failure
from greenlight.service import mailer, store, workflow
from greenlight.steps import RecordFailureInput, RecordFailureOutput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    change = RecordFailureInput.model_validate(event).detail
    recorded = record_failure(store(), mailer(), workflow(), change.request_id, change.name, change.status)
    return RecordFailureOutput(recorded=recorded).model_dump(mode="json")
