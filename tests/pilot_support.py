"""Driving a pilot on the local runtime through business time, for its integration test and the
pilot path's benchmark: the pilot's execution and the sweep's due snapshots, watched with one
client each (a new boto3 client per poll would take the CPU the runtime's threads need)."""

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from greenlight.pilots.design import PlannedSlot
from greenlight.pilots.plan import PilotPlan
from greenlight.storage import Store

from local.runtime import LocalRuntime

STEP = timedelta(hours=4)  # within the 6 h grace of a 24 h snapshot


class Watch:
    """The pilot's execution and the sweep's due snapshots, read with one client each (a new boto3
    client per poll would take the CPU the runtime's threads need)."""

    def __init__(self, runtime: LocalRuntime, request_id: str, execution: str = ""):
        """`execution`: the pilot's execution to watch, by name (default: the first, named by the
        request; a later round's is `<request id>-more-<round>`)."""
        self.runtime, self.request_id = runtime, request_id
        self.sfn = runtime.client("stepfunctions")
        self.store = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table"))
        machine = runtime.state_machine_arn("PilotStateMachine")
        self.last = ""
        self.arn = machine.replace(":stateMachine:", ":execution:") + f":{execution or request_id}"

    def pilot(self) -> dict[str, Any] | None:
        try:
            status = self.sfn.describe_execution(executionArn=self.arn)["status"]
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return None
        events = self.sfn.get_execution_history(executionArn=self.arn)["events"]
        waiting = bool(events) and max(events, key=lambda e: e["id"])["type"] in (
            "TaskSubmitted",
            "WaitStateEntered",
        )
        return {"status": status, "waiting": waiting}

    def settled(self) -> bool:
        """The pilot waits (or is over) and the sweep has taken every snapshot due 10 minutes ago
        (the sweep runs every 5 minutes: one due since then is taken after the next jump)."""
        where = self.pilot()
        due = list(self.store.due_snapshots(self.runtime.clock.now() - timedelta(minutes=10), 10))
        self.last = f"pilot {where}, due {[(d.request_id, d.age_seconds, d.due_at) for d in due]}"
        if where is None or (where["status"] == "RUNNING" and not where["waiting"]):
            return False
        return not due

    def until(self, check: Callable[[], Any], seconds: float, message: str) -> Any:
        deadline = time.monotonic() + seconds
        while not (result := check()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {seconds}s waiting for {message} ({self.last})")
            time.sleep(0.5)
        return result

    def run_to_the_verdict(self, pilot: PilotPlan, slots: Sequence[PlannedSlot] = ()) -> None:
        """Move the clock to each slot (the plan's, or the `slots` of a later round), past each 24 h
        figure, at most 4 hours at a time, letting the pilot and the sweep settle after each move,
        until the pilot's execution has ended."""
        self.run_to_the_figures(pilot, slots, timedelta(hours=8))
        self.until(lambda: (self.pilot() or {}).get("status") == "SUCCEEDED", 120, "the pilot to finish")

    def run_to_the_figures(
        self, pilot: PilotPlan, slots: Sequence[PlannedSlot] = (), after: timedelta = timedelta(hours=1)
    ) -> None:
        """The same moves until `after` past the last slot's 24 h figure: by default every figure is
        taken and the pilot still waits for them ("Wait for figures", 7 h past the last)."""
        times = [s.at for s in slots or pilot.slots]
        end = max(times) + timedelta(hours=pilot.age_hours) + after
        marks = sorted(set(times) | {at + timedelta(hours=24, minutes=5) for at in times})
        now: datetime = self.runtime.clock.now()
        while now < end:
            upcoming = [m for m in marks if m > now]
            target = min([now + STEP, end, *upcoming[:1]])
            self.runtime.clock.advance((target - now).total_seconds() + 1)
            now = self.runtime.clock.now()
            self.until(self.settled, 120, f"the pilot and the sweep at {now}")
