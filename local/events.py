"""EventBridge on the local runtime, for the one kind of event the template subscribes to: a
"Step Functions Execution Status Change" (moto's interpreter emits none). When an execution
ends, an event shaped like AWS's goes to every function whose `EventBridgeRule` pattern matches
it, invoked asynchronously as EventBridge does."""

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

if TYPE_CHECKING:
    from local.runtime import LocalRuntime, Undo


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge's matching for the patterns the template uses: nested objects and lists of
    allowed values."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(matches(v, event.get(k)) for k, v in pattern.items())
    if isinstance(pattern, list):
        return event in pattern
    raise ValueError(f"unsupported pattern {pattern!r}")


def status_change(execution: Any) -> dict[str, Any]:
    """The event AWS sends when an execution ends (detail as documented for Step Functions)."""

    def millis(moment: datetime | None) -> int | None:
        return int(moment.timestamp() * 1000) if moment else None

    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": execution.account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": execution.region_name,
        "resources": [execution.exec_arn],
        "detail": {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": getattr(execution.exec_status, "value", execution.exec_status),
            "startDate": millis(execution.start_date),
            "stopDate": millis(execution.stop_date),
            "input": json.dumps(execution.input_data),
            "output": json.dumps(execution.output) if execution.output is not None else None,
            "error": execution.error,
            "cause": execution.cause,
        },
    }


class ExecutionEvents:
    def __init__(self, runtime: "LocalRuntime"):
        self.runtime = runtime
        self.rules = [(pattern, runtime.function_name(fn)) for _, pattern, fn in runtime.stack.event_rules()]
        self.delivering = True  # off once the runtime is on its way out
        self.quiet: set[str] = set()  # executions the runtime stopped itself (stop_executions)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def install(self) -> "Undo":
        original = BaseExecutionWorkerCommunication.terminated
        events = self

        def terminated(self: BaseExecutionWorkerCommunication) -> None:
            original(self)
            events.ended(self.execution)

        BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]

        def undo() -> None:
            BaseExecutionWorkerCommunication.terminated = original  # type: ignore[method-assign]

        return undo

    def ended(self, execution: Any) -> None:
        if execution.exec_arn in self.quiet:
            return
        event = status_change(execution)
        for pattern, function in self.rules:
            if matches(pattern, event):
                # Not on the execution's own thread, which is ending: EventBridge delivers later.
                thread = threading.Thread(
                    target=self._deliver, args=(function, event), name="local-events", daemon=True
                )
                # Started under the lock stop() takes: stop() sees every delivery started (a
                # thread listed before it started could not be joined) and none starts after it.
                with self._lock:
                    if not self.delivering:
                        return
                    self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                    thread.start()

    def _deliver(self, function: str, event: dict[str, Any]) -> None:
        self.runtime.client("lambda").invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(event)
        )

    def stop(self, seconds: float = 10) -> None:
        """No more deliveries; wait for those under way."""
        with self._lock:
            self.delivering = False
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=seconds)
