"""Cost of one request on AWS, from the work it does on the local runtime: state transitions from
the execution history, Lambda invocations and their handler time, DynamoDB request units from every
call the application's clients make (item sizes read from moto's tables), mails sent, requests to
the HTTP API and Secrets Manager reads. Either up to the first wait for a person, or through a
whole lifecycle (a Scenario with steps: what people do next), phase by phase."""

import dataclasses
import json
import math
import statistics
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from benchmarks.driver import Driver, Invocation, Settled, Submission


@dataclass(frozen=True)
class Prices:
    """us-east-1, from docs/reference.md ("Prices (us-east-1; verify)"): verify before quoting."""

    sfn_transition: float = 0.025 / 1_000
    lambda_request: float = 0.20 / 1_000_000
    lambda_gb_second_arm64: float = 0.0000133334
    dynamodb_write_unit: float = 0.625 / 1_000_000
    dynamodb_read_unit: float = 0.125 / 1_000_000
    ses_mail: float = 0.10 / 1_000
    # Not in reference.md: API Gateway HTTP API (first 300M requests a month, per request up to
    # 512 KB) and Secrets Manager API calls. Verify both on the AWS price pages.
    http_api_request: float = 1.00 / 1_000_000
    secrets_manager_call: float = 0.05 / 10_000


# ---- DynamoDB request units ----

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
INDEX_ENTRY_OVERHEAD = 100  # bytes DynamoDB adds to each index entry
READS = {"GetItem", "Query", "Scan"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


@dataclass(frozen=True)
class _IndexEntry:
    key: tuple[Any, ...]
    size: int
    fingerprint: str


@dataclass(frozen=True)
class _ItemState:
    """One item as the table holds it (size 0: absent) and its entry in each GSI."""

    size: int
    indexes: dict[str, _IndexEntry]


_ABSENT = _ItemState(0, {})


@dataclass(frozen=True)
class _Target:
    action: str  # Put, Update, Delete, ConditionCheck
    table: str
    key: dict[str, Any]
    sent_size: int  # the size of the item sent (Put), else 0
    transactional: bool


@dataclass(frozen=True)
class DynamoCall:
    operation: str
    table: str
    ok: bool
    write_units: int  # table writes (transactional: 2 per KB)
    index_write_units: int  # GSI entries written or deleted
    read_units: float
    detail: str


def _size(typed_item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + DynamoType(value).size() for name, value in typed_item.items())


class DynamoLedger:
    """Counts request units for every call of one boto3 DynamoDB client (botocore events)."""

    def __init__(self, client: Any, region: str = "us-east-1") -> None:
        self.calls: list[DynamoCall] = []
        self.errors: list[str] = []
        self.enabled = False  # reading moto's tables slows the calls down: on only while counting
        self._lock = threading.Lock()
        self._backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> list[DynamoCall]:
        with self._lock:
            return self.calls[mark:]

    # ---- item states straight from moto's tables (no API call, so nothing is counted twice) ----

    def _state(self, table_name: str, key: dict[str, Any]) -> _ItemState:
        table = self._backend.get_table(table_name)
        stored: Item | None = self._backend.get_item(table_name, key)
        if stored is None:
            return _ABSENT
        indexes = {}
        for index in table.global_indexes:
            if all(name in stored.attrs for name in index.schema_key_attrs):
                projected = index.project(stored)
                indexes[index.name] = _IndexEntry(
                    key=tuple(stored.attrs[name].value for name in index.schema_key_attrs),
                    size=projected.size() + INDEX_ENTRY_OVERHEAD,
                    fingerprint=json.dumps(projected.to_json(), sort_keys=True, default=str),
                )
        return _ItemState(stored.size(), indexes)

    def _key(self, table_name: str, item: dict[str, Any]) -> dict[str, Any]:
        table = self._backend.get_table(table_name)
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return {name: item[name] for name in names}

    def _targets(self, operation: str, params: dict[str, Any]) -> list[_Target]:
        if operation == "TransactWriteItems":
            found = []
            for action in params["TransactItems"]:
                kind, body = next(iter(action.items()))
                found.append(self._target(kind, body, transactional=True))
            return found
        kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation]
        return [self._target(kind, params, transactional=False)]

    def _target(self, kind: str, body: dict[str, Any], transactional: bool) -> _Target:
        table = body["TableName"]
        if kind == "Put":
            return _Target(kind, table, self._key(table, body["Item"]), _size(body["Item"]), transactional)
        return _Target(kind, table, body["Key"], 0, transactional)

    # ---- botocore events ----

    # Never let counting break the call it counts: a failure is kept and reported instead.

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.enabled:
            return
        try:
            self._snapshot(params, model, context)
        except Exception as error:
            self.errors.append(f"{model.name}: {error!r}")

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if "greenlight_bench" not in context:
            return  # not counted (the ledger was off when the call began)
        try:
            self._record(parsed, model, context)
        except Exception as error:
            self.errors.append(f"{model.name}: {error!r}")

    def _snapshot(self, params: dict[str, Any], model: Any, context: dict[str, Any]) -> None:
        if model.name in WRITES:
            targets = self._targets(model.name, params)
            context["greenlight_bench"] = [(t, self._state(t.table, t.key)) for t in targets]
        else:
            context["greenlight_bench"] = params

    def _record(self, parsed: dict[str, Any], model: Any, context: dict[str, Any]) -> None:
        ok = "Error" not in parsed
        before = context.get("greenlight_bench")
        if model.name in WRITES and isinstance(before, list):
            call = self._write_call(model.name, before, ok)
        elif model.name in READS and isinstance(before, dict):
            call = self._read_call(model.name, before, parsed, ok)
        else:
            call = DynamoCall(model.name, "?", ok, 0, 0, 0.0, "not priced by this benchmark")
        with self._lock:
            self.calls.append(call)

    def _write_call(self, operation: str, before: list[tuple[_Target, _ItemState]], ok: bool) -> DynamoCall:
        table_units = index_units = 0
        details = []
        for target, old in before:
            new = self._state(target.table, target.key)
            size = max(old.size, new.size, target.sent_size)
            units = _units(size, WRITE_UNIT_BYTES) * (2 if target.transactional else 1)
            index = _index_write_units(old, new)
            table_units += units
            index_units += index
            details.append(
                f"{target.action} {_label(target.key)} {size} B" + (f", GSI +{index}" if index else "")
            )
        return DynamoCall(
            operation, before[0][0].table, ok, table_units, index_units, 0.0, "; ".join(details)
        )

    def _read_call(
        self, operation: str, params: dict[str, Any], parsed: dict[str, Any], ok: bool
    ) -> DynamoCall:
        items = [parsed["Item"]] if "Item" in parsed else list(parsed.get("Items", []))
        size = sum(_size(item) for item in items)
        consistent = bool(params.get("ConsistentRead"))
        units = _units(size, READ_UNIT_BYTES) * (1.0 if consistent else 0.5)
        where = f" index {params['IndexName']}" if params.get("IndexName") else ""
        detail = (
            f"{len(items)} item(s){where}, {size} B, {'strongly' if consistent else 'eventually'} consistent"
        )
        return DynamoCall(operation, params["TableName"], ok, 0, 0, units, detail)


def _label(key: dict[str, Any]) -> str:
    """What kind of item a key names: the sort key's prefix (REQUEST, VERSION, EVENT, ONCE, LINK)."""
    if "sk" in key:
        return str(next(iter(key["sk"].values()))).split("#")[0]
    return "record"  # the idempotency table: one item per key


def _index_write_units(old: _ItemState, new: _ItemState) -> int:
    """GSI writes: an entry added, removed, moved (key changed: delete + put) or rewritten."""
    units = 0
    for name in set(old.indexes) | set(new.indexes):
        was, now = old.indexes.get(name), new.indexes.get(name)
        if was and now and was.key != now.key:
            units += _units(was.size, WRITE_UNIT_BYTES) + _units(now.size, WRITE_UNIT_BYTES)
        elif was and now:
            units += _units(now.size, WRITE_UNIT_BYTES) if was.fingerprint != now.fingerprint else 0
        elif was or now:
            entry = was or now
            assert entry is not None
            units += _units(entry.size, WRITE_UNIT_BYTES)
    return units


# ---- every AWS call the application makes ----


class ApiCounter:
    """(service, operation) of every call made through the given boto3 clients."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        for service, client in clients.items():
            client.meta.events.register("before-call", self._recorder(service))

    def _recorder(self, service: str) -> Callable[..., None]:
        def record(model: Any, **_: Any) -> None:
            with self._lock:
                self.calls.append((service, model.name))

        return record

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self.calls[mark:])


class HttpCounter:
    """Every request the local HTTP server hands to a route of the template's HTTP API (what API
    Gateway would bill), as "METHOD /route/{template}"; /_local/ pages are not the API's."""

    def __init__(self, server: Any) -> None:
        self.requests: list[str] = []
        self._lock = threading.Lock()
        original: Callable[[str, str], Any] = server.find

        def find(method: str, path: str) -> Any:
            found = original(method, path)
            with self._lock:
                self.requests.append(f"{method} {found[0].template if found else path + ' (no route)'}")
            return found

        server.find = find

    def mark(self) -> int:
        with self._lock:
            return len(self.requests)

    def since(self, mark: int) -> Counter[str]:
        with self._lock:
            return Counter(self.requests[mark:])


# ---- one request, counted ----


@dataclass(frozen=True)
class RequestWork:
    request_id: str
    outcome: str  # SUCCEEDED, or where the execution waits for a person
    states_entered: list[str]
    invocations: list[Invocation]
    invocation_counts: dict[str, int]  # from Functions.invocations, to cross-check the timer
    dynamo: list[DynamoCall]
    api_calls: Counter[tuple[str, str]]
    http_requests: Counter[str] = field(default_factory=Counter)  # "METHOD /route" served by the HTTP API
    phases: list["Phase"] = field(default_factory=list)  # a whole lifecycle: the work of each step

    @property
    def mails(self) -> int:
        return self.api_calls[("sesv2", "SendEmail")] + self.api_calls[("ses", "SendRawEmail")]

    @property
    def secret_reads(self) -> int:
        return sum(n for (service, _), n in self.api_calls.items() if service == "secretsmanager")

    @property
    def requests_served(self) -> int:
        return sum(self.http_requests.values())

    @property
    def write_units(self) -> int:
        return sum(c.write_units + c.index_write_units for c in self.dynamo)

    @property
    def read_units(self) -> float:
        return sum(c.read_units for c in self.dynamo)

    def shape(self) -> tuple[Any, ...]:
        """Everything counted except timings: equal for every request of a scenario if deterministic."""
        return (
            self.outcome,
            tuple(self.states_entered),
            tuple(sorted(self.invocation_counts.items())),
            self.write_units,
            self.read_units,
            tuple(sorted(self.api_calls.items())),
            tuple(sorted(self.http_requests.items())),
            tuple(phase.work.shape() for phase in self.phases),
        )


@dataclass(frozen=True)
class Phase:
    name: str
    work: RequestWork  # the request's work from the end of the previous phase to the end of this one


@dataclass(frozen=True)
class Step:
    """What people do after intake, e.g. accept through the emailed link: `run(submitted, settled)`
    acts, then waits (with a deadline) until the execution has settled again, and returns that."""

    name: str
    run: Callable[[Submission, Settled], Settled]


@dataclass
class Scenario:
    name: str
    entry: str
    submit: Callable[[], Submission]
    steps: list[Step] = field(default_factory=list)  # empty: up to the first wait for a person only
    first_phase: str = "intake"  # the name of the phase from the submission to the first wait
    works: list[RequestWork] = field(default_factory=list)  # counted requests
    timed: list[list[Invocation]] = field(default_factory=list)  # uncounted requests, for handler times

    @property
    def deterministic(self) -> bool:
        return len({w.shape() for w in self.works}) == 1

    @property
    def typical(self) -> RequestWork:
        return self.works[-1]

    def handler_ms(self, cpu: bool = False) -> dict[str, float]:
        """Median handler wall time (or thread CPU time) per function over the uncounted requests."""
        per_function: dict[str, list[float]] = {}
        for invocations in self.timed:
            for invocation in invocations:
                value = invocation.cpu_ms if cpu else invocation.ms
                per_function.setdefault(invocation.function, []).append(value)
        return {name: statistics.median(values) for name, values in sorted(per_function.items())}


class Accounting:
    """The counters on a running local runtime: handler timer, DynamoDB ledger, API counter."""

    def __init__(self, driver: Driver) -> None:
        from greenlight.aws import client  # the cached clients every handler uses

        self.driver = driver
        self.timer = driver.timer
        self.dynamo = DynamoLedger(client("dynamodb"))
        services = ("dynamodb", "stepfunctions", "sesv2", "secretsmanager")
        self.api = ApiCounter({s: client(s) for s in services})
        self.http = HttpCounter(driver.runtime.http)

    def _follow(
        self, scenario: Scenario, checkpoint: Callable[[str, str, Settled], None] | None = None
    ) -> tuple[str, str]:
        """Submit, wait until settled, then each step in turn; `checkpoint(phase, request id,
        settled)` at the end of each phase, while nothing runs."""
        submitted = scenario.submit()
        _, settled = self.driver.follow(submitted)
        if checkpoint:
            checkpoint(scenario.first_phase, submitted.request_id, settled)
        for step in scenario.steps:
            settled = step.run(submitted, settled)
            if checkpoint:
                checkpoint(step.name, submitted.request_id, settled)
        return submitted.request_id, settled.outcome

    def time(self, scenario: Scenario) -> list[Invocation]:
        """One request with the DynamoDB ledger off: its handlers' wall times."""
        mark = self.timer.mark()
        self._follow(scenario)
        return self.timer.since(mark)

    def _marks(self) -> tuple[dict[str, int], int, int, int, int]:
        return (
            dict(self.driver.runtime.functions.invocations),
            self.timer.mark(),
            self.dynamo.mark(),
            self.api.mark(),
            self.http.mark(),
        )

    def _work(
        self,
        request_id: str,
        outcome: str,
        marks: tuple[dict[str, int], int, int, int, int],
        states_entered: list[str],
    ) -> RequestWork:
        before_counts, timer, dynamo, api, http = marks
        counts = {
            name: n - before_counts.get(name, 0)
            for name, n in self.driver.runtime.functions.invocations.items()
            if n != before_counts.get(name, 0)
        }
        return RequestWork(
            request_id=request_id,
            outcome=outcome,
            states_entered=states_entered,
            invocations=self.timer.since(timer),
            invocation_counts=counts,
            dynamo=self.dynamo.since(dynamo),
            api_calls=self.api.since(api),
            http_requests=self.http.since(http),
        )

    def count(self, scenario: Scenario) -> RequestWork:
        """One request with the DynamoDB ledger on: all the work it does, and with steps the work of
        each phase (counted from one settled point to the next, when nothing else runs)."""
        start = self._marks()
        phase_marks = [start]
        phases: list[Phase] = []

        def checkpoint(name: str, request_id: str, settled: Settled) -> None:
            entered = self.driver.states_entered(request_id)
            done = sum(len(p.work.states_entered) for p in phases)
            phases.append(
                Phase(name, self._work(request_id, settled.outcome, phase_marks[-1], entered[done:]))
            )
            phase_marks.append(self._marks())

        self.dynamo.enabled = True
        try:
            request_id, outcome = self._follow(scenario, checkpoint if scenario.steps else None)
        finally:
            self.dynamo.enabled = False
        work = self._work(request_id, outcome, start, self.driver.states_entered(request_id))
        return dataclasses.replace(work, phases=phases)

    def run(self, scenario: Scenario, requests: int) -> Scenario:
        scenario.timed = [self.time(scenario) for _ in range(requests)]
        scenario.works = [self.count(scenario) for _ in range(requests)]
        return scenario


# ---- dollars ----


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: str
    price: str
    per_thousand: float  # $ per 1,000 requests


def cost_lines(
    scenario: Scenario, memory_mb: int, prices: Prices, work: RequestWork | None = None
) -> list[CostLine]:
    """The cost of the scenario's typical request, or of `work` (one phase of it), per 1,000."""
    work = work or scenario.typical
    medians, cpu_medians = scenario.handler_ms(), scenario.handler_ms(cpu=True)
    invocations = len(work.invocations)
    billed_ms = sum(math.ceil(medians[i.function]) for i in work.invocations)  # billed per 1 ms
    cpu_ms = sum(math.ceil(cpu_medians[i.function]) for i in work.invocations)
    gb_seconds = memory_mb / 1024 * billed_ms / 1000
    transitions = len(work.states_entered)
    return [
        CostLine(
            "Step Functions state transitions",
            str(transitions),
            "$0.025 per 1,000",
            transitions * prices.sfn_transition * 1000,
        ),
        CostLine(
            "Lambda requests", str(invocations), "$0.20 per 1M", invocations * prices.lambda_request * 1000
        ),
        CostLine(
            f"Lambda duration (arm64, {memory_mb} MB)",
            f"{billed_ms} ms wall = {gb_seconds:.4f} GB-s (thread CPU: {cpu_ms} ms)",
            "$0.0000133334 per GB-s",
            gb_seconds * prices.lambda_gb_second_arm64 * 1000,
        ),
        CostLine(
            "DynamoDB write request units",
            str(work.write_units),
            "$0.625 per 1M",
            work.write_units * prices.dynamodb_write_unit * 1000,
        ),
        CostLine(
            "DynamoDB read request units",
            f"{work.read_units:g}",
            "$0.125 per 1M",
            work.read_units * prices.dynamodb_read_unit * 1000,
        ),
        CostLine("SES mails", str(work.mails), "$0.10 per 1,000", work.mails * prices.ses_mail * 1000),
        CostLine(
            "API Gateway HTTP API requests",
            str(work.requests_served),
            "$1.00 per 1M (not in reference.md: verify)",
            work.requests_served * prices.http_api_request * 1000,
        ),
        CostLine(
            "Secrets Manager API calls",
            str(work.secret_reads),
            "$0.05 per 10,000 (not in reference.md: verify)",
            work.secret_reads * prices.secrets_manager_call * 1000,
        ),
    ]


def cold_init_per_thousand(
    work: RequestWork, init_ms: dict[str, float], memory_mb: int, prices: Prices
) -> float:
    """$ per 1,000 requests if every invocation of the request were a cold start billed for its init."""
    total_ms = sum(init_ms.get(i.function, 0.0) for i in work.invocations)
    return memory_mb / 1024 * total_ms / 1000 * prices.lambda_gb_second_arm64 * 1000
