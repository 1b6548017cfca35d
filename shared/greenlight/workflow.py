"""Starting the request lifecycle: one execution per request, named by the request id, so a
second start of the same request is recognised by Step Functions instead of running twice."""

import json
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from greenlight import clock
from greenlight.models import RequestStatus
from greenlight.steps import StartPendingWorkflowsOutput
from greenlight.storage import Store

# A request still "submitted" this long after it was stored lost its start (a crash or a
# throttled StartExecution between the write and the start): the sweeper starts it.
STALL_AFTER = timedelta(minutes=5)


class Workflow:
    def __init__(self, sfn: Any, state_machine_arn: str):
        self.sfn = sfn
        self.arn = state_machine_arn

    def start(self, request_id: str) -> bool:
        """Start the lifecycle of a request; False when it was started before."""
        try:
            self.sfn.start_execution(
                stateMachineArn=self.arn, name=request_id, input=json.dumps({"request_id": request_id})
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        return True


def start_pending_workflows(store: Store, workflow: Workflow) -> StartPendingWorkflowsOutput:
    """Start the lifecycle of every request stored but never started."""
    stalled = store.request_ids_with_status(RequestStatus.submitted, clock.now() - STALL_AFTER)
    started = [request_id for request_id in stalled if workflow.start(request_id)]
    for request_id in started:
        store.append_event(
            request_id, "workflow_restarted", "greenlight", "The workflow had not started; started it again"
        )
    return StartPendingWorkflowsOutput(started=started)
