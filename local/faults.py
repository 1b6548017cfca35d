"""Faults injected into the local runtime's own services (`/_local/faults`): a function's next
invocations fail, or DynamoDB answers its next calls with a throttle, so a test can show what a
failing step or a throttled table does to a request. The networks' faults live with the fake
networks (`/_local/networks/faults`, local/networks.py), time-outs included.

POST {"function": "<logical id>", "times": N} or {"function": "<logical id>", "always": true}
POST {"dynamodb": "throttle", "times": N}
GET lists what is pending; DELETE clears everything."""

import threading
from dataclasses import dataclass
from typing import Any

# The Lambda errorType of an injected failure: not a domain error, so the ASL treats it like any
# unhandled exception (States.TaskFailed: retried, then caught).
INJECTED = "InjectedFault"


class FaultRequestError(ValueError):
    """The body of a POST /_local/faults is not one of the documented shapes."""


@dataclass
class Pending:
    times: int | None  # None: always
    injected: int = 0


class Faults:
    def __init__(self, function_ids: dict[str, str]):
        """`function_ids`: logical id → the function's name as invoked."""
        self.function_ids = function_ids
        self._lock = threading.Lock()
        self._functions: dict[str, Pending] = {}  # by logical id
        self._throttles = 0
        self.throttled = 0

    def add(self, document: Any) -> dict[str, Any]:
        if not isinstance(document, dict):
            raise FaultRequestError("send a JSON object")
        always = document.get("always", False)
        times = document.get("times")
        if always is not True and always is not False:
            raise FaultRequestError('"always" is true or false')
        if always == (times is not None):
            raise FaultRequestError('send either "times": N (N >= 1) or "always": true')
        if times is not None and (type(times) is not int or times < 1):
            raise FaultRequestError('"times" is a whole number of at least 1')
        if "dynamodb" in document:
            if document["dynamodb"] != "throttle" or times is None or "function" in document:
                raise FaultRequestError('DynamoDB faults are {"dynamodb": "throttle", "times": N}')
            with self._lock:
                self._throttles += times
            return self.listing()
        function = document.get("function")
        if function not in self.function_ids:
            raise FaultRequestError(
                f"no function {function!r}; one of {', '.join(sorted(self.function_ids))}"
            )
        with self._lock:
            self._functions[function] = Pending(None if always else times)
        return self.listing()

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._functions.clear()
            self._throttles = 0
        return self.listing()

    def listing(self) -> dict[str, Any]:
        with self._lock:
            return {
                "functions": [
                    {"function": name, "always": p.times is None, "times": p.times, "injected": p.injected}
                    for name, p in sorted(self._functions.items())
                ],
                "dynamodb": {"throttles_pending": self._throttles, "throttled": self.throttled},
            }

    def function_fails(self, function_name: str) -> bool:
        """True when this invocation of the function (by its invoked name) must fail."""
        logical = next((k for k, v in self.function_ids.items() if v == function_name), None)
        with self._lock:
            pending = self._functions.get(logical or "")
            if pending is None:
                return False
            pending.injected += 1
            if pending.times is not None:
                pending.times -= 1
                if pending.times == 0:
                    del self._functions[logical or ""]
            return True

    def dynamodb_throttles(self) -> bool:
        """True when this DynamoDB call must be answered with a throttle."""
        with self._lock:
            if self._throttles <= 0:
                return False
            self._throttles -= 1
            self.throttled += 1
            return True
