"""Fires the template's schedules on the business clock (moto stores EventBridge Scheduler
schedules but never fires them). After a clock jump, missed runs of a schedule collapse into one
run, as a sweeper would want."""

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from croniter import croniter

if TYPE_CHECKING:
    from local.runtime import LocalRuntime

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def next_run(expression: str, after: datetime, zone: str = "UTC") -> datetime:
    """The first run strictly after `after` for rate(...) or AWS cron(...) expressions; a cron's
    fields are read in `zone` (ScheduleExpressionTimezone), the answer is UTC."""
    rate = re.fullmatch(r"rate\((\d+) (minutes?|hours?|days?)\)", expression)
    if rate:
        return after + timedelta(seconds=int(rate[1]) * UNITS[rate[2]])
    cron = re.fullmatch(r"cron\((.+)\)", expression)
    if cron:
        fields = cron[1].split()
        if len(fields) != 6:
            raise ValueError(f"AWS cron has six fields: {expression}")
        minute, hour, day, month, weekday, _year = fields
        standard = " ".join(f.replace("?", "*") for f in (minute, hour, day, month, weekday))
        result: datetime = croniter(standard, after.astimezone(ZoneInfo(zone))).get_next(datetime)
        return result.astimezone(UTC)
    raise ValueError(f"unsupported schedule expression: {expression}")


class SchedulePump:
    def __init__(self, runtime: "LocalRuntime"):
        self.runtime = runtime
        start = runtime.clock.now()
        self.schedules = [
            (name, expression, runtime.function_name(fn), zone, next_run(expression, start, zone))
            for name, expression, fn, zone in runtime.stack.schedules()
        ]
        self.fired: dict[str, int] = {name: 0 for name, *_ in self.schedules}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-schedules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        clock = self.runtime.clock
        while not self._stop.is_set():
            now = clock.now()
            due = min((when for *_, when in self.schedules), default=None)
            if due is None:
                return
            if due > now:
                clock.wait(self._stop, (due - now).total_seconds())
                continue
            for index, (name, expression, function, zone, when) in enumerate(self.schedules):
                if when <= now:
                    self.fire(name, function)
                    self.schedules[index] = (
                        name,
                        expression,
                        function,
                        zone,
                        next_run(expression, now, zone),
                    )

    def fire(self, name: str, function: str) -> None:
        """Invoke the target as EventBridge Scheduler does: asynchronously, with no input."""
        self.fired[name] += 1
        self.runtime.client("lambda").invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps({})
        )
