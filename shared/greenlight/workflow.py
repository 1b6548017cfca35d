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
# The ASLs' last states for a failure every step catches (lifecycle, pilot), and the lifecycle's error.
FAILED_STATES, FAILED_STATE_ERROR = ("Workflow failed", "Pilot failed"), "WorkflowFailed"


# Where an execution begins ("Start where?" in the ASL): a new request at the beginning; a retry
# at the last safe point before its failure (see greenlight.recovery).
START, TRIAGE, REVIEW, SCHEDULE = "start", "triage", "review", "schedule"


def execution_name(request_id: str, attempt: int = 0) -> str:
    """The first execution is named by the request id; the n-th retry `<id>-retry-<n>`: names are
    never reused, so starting the same attempt twice is refused instead of run twice."""
    return request_id if attempt == 0 else f"{request_id}-retry-{attempt}"


def attempt_of(name: str) -> int:
    _, _, attempt = name.partition("-retry-")
    return int(attempt) if attempt.isdigit() else 0


class Workflow:
    """One state machine's executions for requests: the lifecycle's, or the pilot's (which reads
    only `request_id` from the input and ignores `resume`)."""

    def __init__(self, sfn: Any, state_machine_arn: str):
        self.sfn = sfn
        self.arn = state_machine_arn

    def start(self, request_id: str, resume: str = START, attempt: int = 0) -> bool:
        """Start the lifecycle of a request; False when this attempt was started before."""
        try:
            self.sfn.start_execution(
                stateMachineArn=self.arn,
                name=execution_name(request_id, attempt),
                input=json.dumps({"request_id": request_id, "resume": resume}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def execution_arn(self, name: str) -> str:
        return self.arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def status(self, name: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED; None when it never started."""
        try:
            return str(self.sfn.describe_execution(executionArn=self.execution_arn(name))["status"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise

    def stop(self, name: str, cause: str) -> None:
        self.sfn.stop_execution(executionArn=self.execution_arn(name), error="NoProgress", cause=cause)

    def where_it_failed(self, name: str) -> tuple[str, str, str]:
        """(state, error, cause) of the failure that ended an execution, from its history: the
        last state entered before it ended, and the last error reported."""
        step, error, cause = "", "", ""
        if self.status(name) is None:
            return step, error, cause
        pages = self.sfn.get_paginator("get_execution_history").paginate(
            executionArn=self.execution_arn(name), reverseOrder=True
        )
        for page in pages:
            # Newest first: sorted again because moto ignores reverseOrder (ids grow with time).
            for event in sorted(page["events"], key=lambda e: -int(e["id"])):
                details = next(
                    (v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {}
                )
                if not error and details.get("error") and details.get("error") != FAILED_STATE_ERROR:
                    error, cause = str(details["error"]), str(details.get("cause") or "")
                if not step and "stateEnteredEventDetails" in event:
                    entered = event["stateEnteredEventDetails"]["name"]
                    step = "" if entered in FAILED_STATES else entered
                if step and error:
                    return step, error, cause
        return step, error, cause


def start_pending_workflows(store: Store, workflow: Workflow) -> StartPendingWorkflowsOutput:
    """Start the lifecycle of every request stored but never started (greenlight.recovery.sweep
    does the sweeper's other job)."""
    stalled = store.request_ids_with_status(RequestStatus.submitted, clock.now() - STALL_AFTER)
    started = [request_id for request_id in stalled if workflow.start(request_id)]
    for request_id in started:
        store.append_event(
            request_id, "workflow_restarted", "greenlight", "The workflow had not started; started it again"
        )
    return StartPendingWorkflowsOutput(started=started)
