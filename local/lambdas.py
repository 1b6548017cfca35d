"""Every function's real handler, run in this process when moto invokes the function.

moto 5.2.5 invokes a function through `LambdaFunction.invoke(self, body, request_headers,
response_headers)` for every path (the `lambda:invoke` integration the ASL interpreter uses,
the Invoke API, async invokes). Replacing that one method runs our code instead of Docker.
"""

import contextlib
import importlib.util
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from moto.awslambda.models import LambdaFunction

from local.faults import INJECTED, Faults

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context`, with the attributes Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 15
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def load_handler(folder: Path, handler: str, unique_name: str) -> Handler:
    """Import `folder/<module>.py` under a unique module name: every function's file is app.py."""
    module_name, function = handler.rsplit(".", 1)
    spec = importlib.util.spec_from_file_location(
        f"greenlight_functions.{unique_name}", folder / f"{module_name}.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {folder / module_name}.py")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler_function: Handler = getattr(module, function)
    return handler_function


class Functions:
    """Function name → handler; installs itself as moto's invoke."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.handlers: dict[str, tuple[Handler, int]] = {}
        # One event at a time across the HTTP functions, as one Lambda container handles one:
        # Powertools' resolver keeps the current event in a class attribute
        # (`BaseRouter.current_event`, shared by every resolver and router in the process), which
        # concurrent threads overwrite (a form's CSRF field read from another request's body, seen
        # as 403 "Form expired" under load). AWS runs concurrent requests in separate containers.
        self.serial: dict[str, threading.Lock] = {}
        self._http = threading.Lock()
        # Started and finished runs per function: a test waits for a run to be over, not a while.
        self.invocations: dict[str, int] = {}
        self.completed: dict[str, int] = {}
        self._lock = threading.Lock()
        self._original: Any = None

    def register(
        self, function_name: str, handler: Handler, timeout_seconds: int, serial: bool = False
    ) -> None:
        self.handlers[function_name] = (handler, timeout_seconds)
        if serial:
            self.serial[function_name] = self._http

    def invoke(self, function_name: str, event: Any) -> tuple[bool, Any]:
        """Run a handler: (True, result) or (False, the Lambda error document); counted as
        invoked when it starts and as completed when it has answered, either way."""
        with self._lock:
            self.invocations[function_name] = self.invocations.get(function_name, 0) + 1
        try:
            return self._run(function_name, event)
        finally:
            with self._lock:
                self.completed[function_name] = self.completed.get(function_name, 0) + 1

    def _run(self, function_name: str, event: Any) -> tuple[bool, Any]:
        handler, timeout = self.handlers[function_name]
        if self.faults.function_fails(function_name):
            return False, {"errorType": INJECTED, "errorMessage": f"{function_name}: injected failure"}
        try:
            with self.serial.get(function_name) or contextlib.nullcontext():
                return True, handler(event, LambdaContext(function_name, timeout_seconds=timeout))
        except Exception as error:  # every exception becomes the Lambda error document
            return False, {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }

    def install(self) -> None:
        functions = self

        def invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> bytes:
            ok, result = functions.invoke(self.function_name, json.loads(body) if body else {})
            if not ok:
                # As on AWS: the error type names the exception class, so the ASL's
                # Retry/Catch on ["PublishRejected"] match.
                response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(result).encode()

        self._original = LambdaFunction.invoke
        LambdaFunction.invoke = invoke  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            LambdaFunction.invoke = self._original  # type: ignore[method-assign]
            self._original = None
