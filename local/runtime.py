"""The whole of Greenlight in one process, with no AWS account and no Docker.

moto's AWS in mock mode (its Step Functions interpreter executing the real ASL files), every
resource created from template.yaml, every function's real handler run in-process, the HTTP API
on a local port, a business clock, a pump for the template's schedules, and the outbox.
"""

import io
import json
import logging
import os
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.responses import DynamoHandler
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend, stepfunctions_parser_backends

from local import speed
from local.clock import LocalClock, patch_moto
from local.faults import Faults
from local.iam import Iam
from local.lambdas import Functions, load_handler
from local.template import ROOT, Stack, create_table, load

SHARED = ROOT / "shared"
TEAM = Path(__file__).with_name("team.json")
CHANNELS = Path(__file__).with_name("channels.json")
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
THROTTLED = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded (injected)",
    }
)

Undo = Callable[[], None]


def _replace(owner: Any, name: str, new: Any) -> Undo:
    """Put `new` in place of `owner.name`; returns the undo."""
    original = vars(owner)[name]
    setattr(owner, name, new)
    return lambda: setattr(owner, name, original)


def _serialise_dynamodb(faults: Faults) -> list[Undo]:
    """moto takes no lock around operations: concurrent version-checked updates lose writes
    (98 of 373 in a measurement, docs/local-runtime.md). One re-entrant lock around
    every DynamoDB call makes conditional writes as safe as on AWS. An injected throttle
    (`/_local/faults`) answers a call as DynamoDB does when a partition is over its limit."""
    original = DynamoHandler.call_action
    lock = threading.RLock()

    def call_action(self: DynamoHandler) -> Any:
        if faults.dynamodb_throttles():
            return 400, {"Content-Type": "application/x-amz-json-1.0"}, THROTTLED
        with lock:
            return original(self)

    return [_replace(DynamoHandler, "call_action", call_action)]


def _name_unnamed_executions() -> list[Undo]:
    """moto's Step Functions interpreter names an execution started without a name "None", so
    every unnamed execution of a state machine shares one ARN (AWS generates a UUID)."""
    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: StepFunctionsParserBackend, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    return [_replace(StepFunctionsParserBackend, "start_execution", start_execution)]


def _stop_ends_callback_waits() -> list[Undo]:
    """StopExecution on AWS ends an execution at once, even one waiting on a task token, as
    ABORTED. moto's interpreter marks it stopped but leaves the `.waitForTaskToken` wait blocked
    until its timeout (a day, here), and the late timeout then turns the stopped execution into a
    failed one. Interrupt the execution's callback waits on stop, and keep a stopped execution
    stopped."""
    original_stop, original_error = Environment.set_stop, Environment.set_error

    def set_stop(self: Environment, *args: Any, **kwargs: Any) -> None:
        original_stop(self, *args, **kwargs)
        for endpoint in list(self.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()

    def set_error(self: Environment, *args: Any, **kwargs: Any) -> None:
        if isinstance(self._program_state, ProgramStopped):
            return  # the interrupted wait reports an error; the execution was stopped first
        original_error(self, *args, **kwargs)

    return [_replace(Environment, "set_stop", set_stop), _replace(Environment, "set_error", set_error)]


def _stop_before_the_first_state() -> list[Undo]:
    """moto's worker makes an execution's environment on the execution's own thread, a moment after
    StartExecution answered (it parses the definition first), and the environment only takes a
    stop once its program runs. A StopExecution before then failed inside moto ("'NoneType' object
    has no attribute 'set_stop'"), so the runtime stopping right after an execution started
    crashed with its mock still on; a moment later it was lost (the execution ran on). A stop waits
    until the program runs (milliseconds), then stops it: the execution ends ABORTED."""
    original = ExecutionWorker.stop

    def stop(self: ExecutionWorker, stop_date: Any, error: str | None, cause: str | None) -> None:
        deadline = time.monotonic() + 10
        while (self.env is None or self.env.program_state() is None) and time.monotonic() < deadline:
            time.sleep(0.002)
        original(self, stop_date=stop_date, error=error, cause=cause)

    return [_replace(ExecutionWorker, "stop", stop)]


class LocalRuntime(AbstractContextManager["LocalRuntime"]):
    def __init__(
        self,
        port: int = 3000,
        host: str = "127.0.0.1",
        clock_scale: float = 1.0,
        schedules: bool = True,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = LocalClock(scale=clock_scale)
        # Template parameters other than their defaults (as `sam deploy --parameter-overrides`).
        self.stack = Stack(load(), parameters=dict(parameters or {}))
        self.faults = Faults(
            {
                logical_id: self.stack.physical_name(logical_id)
                for logical_id in self.stack.of_type("AWS::Serverless::Function")
            }
        )
        self.functions = Functions(self.faults)
        self.iam = Iam(self.stack)  # each function's policies, enforced while it runs (local/iam.py)
        self.run_schedules = schedules
        self._undo: list[Any] = []
        self._mock: Any = None
        self.http: Any = None
        self.pump: Any = None
        self.networks: Any = None
        self.events: Any = None
        self.buckets: set[str] = set()
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ---- lifecycle ----

    def start(self) -> "LocalRuntime":
        # moto logs every caught error (a callback's States.Timeout, a Catch) at ERROR with the
        # whole state's repr, several KB a line; the execution history has what matters.
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(logging.CRITICAL)
        os.environ.update(FAKE_CREDENTIALS)  # before any client exists: else NoCredentialsError
        # No CloudWatch here: business metrics (EMF lines) would only crowd the terminal.
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ.pop("AWS_PROFILE", None)
        if str(SHARED) not in sys.path:
            sys.path.insert(0, str(SHARED))  # what the layer is on AWS: /opt/python
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._undo.append(self._mock.stop)
        self.functions.install()
        self._undo.append(self.functions.uninstall)
        self._undo.append(self.iam.install())
        self._undo += (
            _serialise_dynamodb(self.faults)
            + _name_unnamed_executions()
            + _stop_ends_callback_waits()
            + _stop_before_the_first_state()
        )
        self._undo += speed.install()
        self._undo.append(patch_moto(self.clock))
        self._use_business_clock()

        from local.events import ExecutionEvents

        self.events = ExecutionEvents(self)
        self._undo.append(self.events.install())

        from local.http import LocalHttpServer  # the server needs the runtime's resources
        from local.networks import FakeNetworks

        self.networks = FakeNetworks()
        self.http = LocalHttpServer(self, self.host, self.port)
        self.port = self.http.port  # port 0 asks for any free port
        self._create_resources()
        self._undo.append(speed.keep_what_start_up_made())
        self.http.start()
        if self.run_schedules:
            from local.pump import SchedulePump

            self.pump = SchedulePump(self)
            self.pump.start()
        return self

    def _use_business_clock(self) -> None:
        import greenlight.clock

        self._undo.append(_replace(greenlight.clock, "now", self.clock.now))

    def stop(self) -> None:
        if self.pump:
            self.pump.stop()
        if self.http:
            self.http.stop()
        if self.events:
            self.events.stop()  # the executions stopped next did not fail: nobody is told
        if self._mock is not None:
            self.stop_executions()
        while self._undo:
            self._undo.pop()()
        self._mock = None

    def __enter__(self) -> "LocalRuntime":
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def stop_executions(self, seconds: float = 5) -> int:
        """Stop every running execution and wait until they have ended: they outlive the mock
        otherwise, and their calls go to real endpoints. moto ends a stopped execution on its
        own thread a moment later, hence the wait."""
        sfn = self.client("stepfunctions")
        stopped = []
        for machine in sfn.list_state_machines()["stateMachines"]:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
            )
            for page in pages:
                for execution in page["executions"]:
                    if self.events:  # housekeeping, not a failure: nobody is told
                        self.events.quiet.add(execution["executionArn"])
                    sfn.stop_execution(
                        executionArn=execution["executionArn"], cause="local runtime shutting down"
                    )
                    stopped.append(execution["executionArn"])
        deadline = time.monotonic() + seconds
        for arn in stopped:
            while (
                sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
        return len(stopped)

    # ---- resources from template.yaml ----

    def client(self, service: str) -> Any:
        """One client per service for the life of the runtime (a new one costs about 9 ms; clients
        are safe to share between threads, creating them is not)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]
            return self._clients[service]

    def _create_resources(self) -> None:
        stack = self.stack
        for logical_id in stack.of_type("AWS::SecretsManager::Secret"):
            self._create_secret(logical_id)
        environment = stack.global_environment()
        environment["PUBLIC_BASE_URL"] = environment.get("PUBLIC_BASE_URL") or self.base_url
        # S3 at this runtime's address: moto answers the functions' calls there, and the presigned
        # URLs the pages and the form hand to browsers are served by the local HTTP server.
        environment["AWS_ENDPOINT_URL_S3"] = environment["MOTO_S3_CUSTOM_ENDPOINTS"] = self.base_url
        os.environ.update(environment)  # one process: Globals are the functions' environment
        import greenlight.aws
        import greenlight.config
        import greenlight.service

        greenlight.config.settings.cache_clear()
        greenlight.config.snapshot_ages.cache_clear()
        # A warm Lambda keeps the channel credentials for five minutes; a second runtime in the same
        # process (a test module with its own) has a new address in its secret: read it afresh.
        greenlight.service._channels.clear()
        greenlight.aws.client.cache_clear()  # an S3 client made for another runtime's address

        for logical_id in stack.of_type("AWS::S3::Bucket"):
            self.client("s3").create_bucket(Bucket=stack.physical_name(logical_id))
            self.buckets.add(stack.physical_name(logical_id))

        for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
            create_table(self.client("dynamodb"), stack.physical_name(logical_id), resource["Properties"])

        role = self.client("iam").create_role(
            RoleName="greenlight-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lambda_client = self.client("lambda")
        globals_ = stack.template.get("Globals", {}).get("Function", {})
        http_functions = {logical_id for _method, _path, logical_id in stack.http_routes()}
        for logical_id, resource in stack.of_type("AWS::Serverless::Function").items():
            name = stack.physical_name(logical_id)
            folder, handler = stack.function_code(logical_id)
            timeout = int(resource["Properties"].get("Timeout", globals_.get("Timeout", 3)))
            lambda_client.create_function(
                FunctionName=name,
                Runtime=globals_.get("Runtime", "python3.12"),
                Role=role,
                Handler=handler,
                Code={"ZipFile": _placeholder_zip()},
                Timeout=timeout,
                MemorySize=int(resource["Properties"].get("MemorySize", globals_.get("MemorySize", 128))),
            )
            self.functions.register(
                name,
                self.iam.guard(logical_id, load_handler(folder, handler, logical_id)),
                timeout,
                serial=logical_id in http_functions,
            )

        sfn = self.client("stepfunctions")
        for logical_id, resource in stack.of_type("AWS::Serverless::StateMachine").items():
            sfn.create_state_machine(
                name=stack.physical_name(logical_id),
                definition=stack.state_machine_definition(logical_id),
                roleArn=role,
                type=resource["Properties"].get("Type", "STANDARD"),
            )

        self._seed_team()
        sender = environment["SENDER_EMAIL"]
        self.client("sesv2").create_email_identity(EmailIdentity=sender.partition("@")[2])

    def _create_secret(self, logical_id: str) -> None:
        """The channel credentials secret, holding local/channels.json with this runtime's address."""
        secret = CHANNELS.read_text().replace("{base_url}", self.base_url)
        values = {k: v for k, v in json.loads(secret).items() if not k.startswith("_")}
        arn = self.client("secretsmanager").create_secret(
            Name=self.stack.physical_name(logical_id), SecretString=json.dumps(values)
        )["ARN"]
        self.stack.created[logical_id] = arn

    def _seed_team(self) -> None:
        """The roster from local/team.json, loaded the way a deployment loads its own."""
        from greenlight.roster import load_members, seed
        from greenlight.storage import Store

        seed(Store(self.client("dynamodb"), self.stack.physical_name("Table")), load_members(TEAM))

    # ---- conveniences for the HTTP server, the CLI and tests ----

    def where_is(self, request_id: str) -> dict[str, Any]:
        """Where a request's lifecycle (its latest execution) is: its status, the state it is in
        (and how often it entered it), and whether that state is now waiting (a task whose Lambda
        returned and which waits for its token or its timeout).
        Moving the business clock before a wait has begun would push that wait's deadline along."""
        sfn = self.client("stepfunctions")
        arn = self.state_machine_arn().replace(":stateMachine:", ":execution:") + f":{request_id}"
        status = sfn.describe_execution(executionArn=arn)["status"]
        first, retry = arn, 1  # a retried request's latest execution is <id>-retry-<n> (greenlight.workflow)
        while True:
            try:
                status = sfn.describe_execution(executionArn=f"{first}-retry-{retry}")["status"]
            except sfn.exceptions.ExecutionDoesNotExist:
                break
            arn, retry = f"{first}-retry-{retry}", retry + 1
        # Read from the interpreter itself: the API would serialize the whole history, every
        # state's input and output, on each look (most of a look's cost).
        history = stepfunctions_parser_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_execution_history(arn)
        events: list[dict[str, Any]] = [dict(event) for event in history["events"]][::-1]  # newest first
        state = next(
            (e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e), ""
        )
        waiting = bool(events) and events[0]["type"] in ("TaskSubmitted", "WaitStateEntered")
        visits = sum(e.get("stateEnteredEventDetails", {}).get("name") == state for e in events)
        return {
            "status": status,
            "state": state,
            "waiting": status == "RUNNING" and waiting,
            "visits": visits,
        }

    def state_machine_arn(self, logical_id: str = "RequestLifecycleStateMachine") -> str:
        return self.stack.arn(logical_id)

    def function_name(self, logical_id: str) -> str:
        return self.stack.physical_name(logical_id)


def _placeholder_zip() -> bytes:
    """moto needs some code to create a function; the real handler runs from the source tree."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# the local runtime runs functions/<step>/app.py in-process\n")
    return buffer.getvalue()
