"""Cold start per function against a floor measured in the same run.

*Init* of a function: a fresh interpreter (cwd the function folder, as /var/task on Lambda, the
template's Globals environment) imports its app.py and then creates the boto3 clients the function
uses, through the function's own client factory (`greenlight.aws.client`), so boto3 is counted even
where the function defers importing it. *Floor*: a fresh interpreter that imports boto3 and creates
the same clients with `boto3.client`: the least any function using those clients can pay. Clients are
created, never called: no request leaves the process. The two are run interleaved (each function's
init right before a floor run, the order shuffled every round); the ratio is the median of the
paired ratios."""

import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template import ROOT, Stack

SHARED = ROOT / "shared"
SUBPROCESS_TIMEOUT = 60.0  # seconds, per interpreter started
RATIO_BUDGET = 1.3  # issue 8, part 6: every function's init at most 1.3x its floor
PAGE_BUDGET_MS = 250.0  # ... and the page and link functions' init under 250 ms

# Runs in the fresh interpreter. `time` is imported before the clock starts, everything else after.
# {imports}: the function's module (or boto3 for the floor); {clients}: creating its clients.
_PROBE = """\
import time
started = time.perf_counter()
{imports}
imported = time.perf_counter()
{clients}
ended = time.perf_counter()
import json, resource, sys
try:  # this process's own high-water mark; ru_maxrss inherits the parent's through fork + exec
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"import_ms": (imported - started) * 1000, "clients_ms": (ended - imported) * 1000,
                  "max_rss_kb": peak, "modules": len(sys.modules)}}))
"""

# The function's own factory; a plain boto3 client where the tree has none (it may be mid-change).
_FUNCTION_CLIENTS = """\
try:
    from greenlight.aws import client as _client
except ImportError:
    import boto3
    _client = boto3.client
for _service in {services!r}:
    _client(_service)
"""

_FLOOR_CLIENTS = """\
for _service in {services!r}:
    boto3.client(_service)
"""

# The stack floor: the floor plus what every function on this stack must load before any code of
# its own, pydantic with one validated model (the steps' Input/Output models, issue 8 part 3) and
# Powertools' Logger (every handler logs through it). Nothing first-party.
_STACK_IMPORTS = """\
import boto3
import pydantic
from aws_lambda_powertools import Logger


class _Step(pydantic.BaseModel):
    request_id: str
    round: int = 1


_Step.model_validate({"request_id": "r-1"})
Logger(service="benchmark")
"""

# IAM policies of the template's functions -> the boto3 service the code calls them through.
_POLICY_TEMPLATES = {
    "DynamoDBCrudPolicy": "dynamodb",
    "DynamoDBReadPolicy": "dynamodb",
    "DynamoDBWritePolicy": "dynamodb",
    "StepFunctionsExecutionPolicy": "stepfunctions",
    "AWSSecretsManagerGetSecretValuePolicy": "secretsmanager",
    "SESCrudPolicy": "sesv2",
    "SESBulkTemplatedCrudPolicy": "sesv2",
}
_ACTION_PREFIXES = {
    "dynamodb": "dynamodb",
    "states": "stepfunctions",
    "ses": "sesv2",  # greenlight.mail sends through SESv2
    "secretsmanager": "secretsmanager",
}


@dataclass(frozen=True)
class Probe:
    import_ms: float
    clients_ms: float
    max_rss_kb: int
    modules: int
    process_ms: float  # the whole interpreter, start to exit, seen from the parent

    @property
    def init_ms(self) -> float:
        return self.import_ms + self.clients_ms


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Floor:
    """`import boto3` and these clients, in fresh interpreters."""

    services: tuple[str, ...]
    runs: list[Probe] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "boto3 + " + ", ".join(self.services) if self.services else "boto3"

    @property
    def init_ms(self) -> float:
        return _median([p.init_ms for p in self.runs])

    @property
    def import_ms(self) -> float:
        return _median([p.import_ms for p in self.runs])


@dataclass
class ColdStart:
    logical_id: str
    folder: str
    services: tuple[str, ...]
    page: bool  # served through the HTTP API: a person waits for its cold start
    runs: list[Probe]
    floor: Floor  # every floor run of these clients in this run
    paired: list[Probe]  # the floor run made right after each of this function's runs
    stack: list[Probe]  # the stack floor run made right after each floor run

    @property
    def init_ms(self) -> float:
        return _median([p.init_ms for p in self.runs])

    @property
    def import_ms(self) -> float:
        return _median([p.import_ms for p in self.runs])

    @property
    def clients_ms(self) -> float:
        return _median([p.clients_ms for p in self.runs])

    @property
    def floor_ms(self) -> float:
        """The median of this function's own floor runs (those interleaved with its runs)."""
        return _median([p.init_ms for p in self.paired])

    @property
    def fastest_ms(self) -> float:
        return min(p.init_ms for p in self.runs)

    @property
    def fastest_floor_ms(self) -> float:
        return min(p.init_ms for p in self.paired)

    @property
    def process_ms(self) -> float:
        return _median([p.process_ms for p in self.runs])

    @property
    def max_rss_mb(self) -> float:
        return max(p.max_rss_kb for p in self.runs) / 1024

    @property
    def modules(self) -> int:
        return self.runs[-1].modules

    @property
    def ratio(self) -> float:
        """The median of the paired ratios (each run over the floor run right after it): a burst
        of other work that slows a pair slows both, so it cancels out of their ratio."""
        return _median(
            [run.init_ms / floor.init_ms for run, floor in zip(self.runs, self.paired, strict=True)]
        )

    @property
    def stack_ratio(self) -> float:
        """The stack floor over the floor, paired as `ratio`: what pydantic and Powertools alone cost
        before a line of Greenlight runs, the least ratio any function on this stack can reach."""
        return _median([s.init_ms / f.init_ms for s, f in zip(self.stack, self.paired, strict=True)])

    @property
    def beyond_stack(self) -> float:
        """The init over the stack floor run of the same round: what Greenlight's own code adds."""
        return _median([run.init_ms / s.init_ms for run, s in zip(self.runs, self.stack, strict=True)])

    @property
    def passes(self) -> bool:
        return self.ratio <= RATIO_BUDGET and (not self.page or self.init_ms < PAGE_BUDGET_MS)


@dataclass(frozen=True)
class NotMeasured:
    logical_id: str
    folder: str
    reason: str


def function_environment(stack: Stack) -> dict[str, str]:
    """What a function sees on Lambda, with dummies: the template's Globals and a region."""
    environment = {k: v or "unset" for k, v in stack.global_environment().items()}
    environment.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    # As on Lambda: credentials in the environment (dummies here: nothing is called), so creating a
    # client never looks for a profile or the instance metadata service.
    environment.update(AWS_ACCESS_KEY_ID="benchmark", AWS_SECRET_ACCESS_KEY="benchmark")
    environment.update(AWS_SESSION_TOKEN="benchmark", AWS_EC2_METADATA_DISABLED="true")
    environment.update(AWS_LAMBDA_FUNCTION_NAME="benchmark", AWS_EXECUTION_ENV="AWS_Lambda_python3.12")
    return environment


def function_services(stack: Stack, logical_id: str) -> tuple[str, ...]:
    """The boto3 clients a function uses: one per AWS service its IAM policies allow (SAM policy
    templates by name, managed and inline policies by their actions' prefixes), sorted."""
    services: set[str] = set()
    for policy in stack.resources[logical_id]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Ref" in policy:
            policy = stack.resources[policy["Ref"]]["Properties"]
        if isinstance(policy, dict):
            for name in policy:
                if name in _POLICY_TEMPLATES:
                    services.add(_POLICY_TEMPLATES[name])
            for statement in policy.get("PolicyDocument", {}).get("Statement", []):
                actions = statement.get("Action", [])
                for action in [actions] if isinstance(actions, str) else actions:
                    prefix = action.split(":", 1)[0]
                    if prefix in _ACTION_PREFIXES:
                        services.add(_ACTION_PREFIXES[prefix])
    return tuple(sorted(services))


def is_page(stack: Stack, logical_id: str) -> bool:
    events = stack.resources[logical_id]["Properties"].get("Events", {})
    return any(event.get("Type") in ("HttpApi", "Api") for event in events.values())


def function_probe(module: str, services: tuple[str, ...]) -> tuple[str, str]:
    return f"import {module}", _FUNCTION_CLIENTS.format(services=list(services))


def floor_probe(services: tuple[str, ...]) -> tuple[str, str]:
    return "import boto3", _FLOOR_CLIENTS.format(services=list(services))


def stack_floor_probe(services: tuple[str, ...]) -> tuple[str, str]:
    return _STACK_IMPORTS, _FLOOR_CLIENTS.format(services=list(services))


def _run(
    probe: tuple[str, str], folder: Path, environment: dict[str, str], extra: list[str] | None = None
) -> tuple[Probe, str]:
    """One fresh interpreter running the probe: its figures, and its stderr."""
    imports, clients = probe
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(SHARED), str(folder)]),
        # Measure with the .pyc files already there (compile_bytecode writes them first), and write
        # none meanwhile.
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment,
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *(extra or []), "-c", _PROBE.format(imports=imports, clients=clients)],
        cwd=folder,  # /var/task on Lambda
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    process_ms = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"init in {folder} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    probe_result = Probe(
        result["import_ms"],
        result["clients_ms"],
        int(result["max_rss_kb"]),
        int(result["modules"]),
        process_ms,
    )
    return probe_result, done.stderr


def compile_bytecode() -> None:
    """Every .pyc the measured interpreters need, as the layer ships them: without them the first
    run of each module would compile it (and, with PYTHONDONTWRITEBYTECODE, every run would)."""
    import compileall

    for folder in (SHARED, ROOT / "functions"):
        compileall.compile_dir(folder, quiet=1)


@dataclass(frozen=True)
class _Candidate:
    logical_id: str
    folder: Path
    module: str
    services: tuple[str, ...]
    page: bool


def _candidates(stack: Stack) -> tuple[list[_Candidate], list[NotMeasured]]:
    candidates, skipped = [], []
    for logical_id in sorted(stack.of_type("AWS::Serverless::Function")):
        folder, handler = stack.function_code(logical_id)
        module = handler.rsplit(".", 1)[0]
        where = str(folder.relative_to(ROOT))
        if (folder / f"{module}.py").is_file():
            services = function_services(stack, logical_id)
            candidates.append(_Candidate(logical_id, folder, module, services, is_page(stack, logical_id)))
        else:
            skipped.append(NotMeasured(logical_id, where, f"no {module}.py in {where}"))
    return candidates, skipped


def measure_functions(
    stack: Stack, runs: int, seed: int = 0
) -> tuple[list[ColdStart], list[NotMeasured], list[Floor]]:
    """Every function of the template, `runs` rounds. Each round runs, in a shuffled order, every
    function's init immediately followed by its floor (a fresh `import boto3` + the same clients),
    so a burst of other work on the machine hits a function and its floor alike. A function whose
    code is missing or does not import is reported, not measured: the tree may be mid-change."""
    compile_bytecode()
    environment = function_environment(stack)
    candidates, skipped = _candidates(stack)
    floors = {c.services: Floor(c.services) for c in candidates}
    probes: dict[str, list[Probe]] = {c.logical_id: [] for c in candidates}
    paired: dict[str, list[Probe]] = {c.logical_id: [] for c in candidates}
    stacked: dict[str, list[Probe]] = {c.logical_id: [] for c in candidates}
    order = random.Random(seed)
    functions_folder = ROOT / "functions"
    for _ in range(runs):
        order.shuffle(candidates)
        for candidate in list(candidates):
            try:
                probe = function_probe(candidate.module, candidate.services)
                probes[candidate.logical_id].append(_run(probe, candidate.folder, environment)[0])
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                where = str(candidate.folder.relative_to(ROOT))
                reason = str(error).strip().splitlines()[-1][:200]
                skipped.append(NotMeasured(candidate.logical_id, where, reason))
                candidates.remove(candidate)
                del probes[candidate.logical_id], paired[candidate.logical_id], stacked[candidate.logical_id]
                continue
            floor = _run(floor_probe(candidate.services), functions_folder, environment)[0]
            floors[candidate.services].runs.append(floor)
            paired[candidate.logical_id].append(floor)
            stack_run = _run(stack_floor_probe(candidate.services), functions_folder, environment)[0]
            stacked[candidate.logical_id].append(stack_run)
    measured = [
        ColdStart(
            c.logical_id,
            str(c.folder.relative_to(ROOT)),
            c.services,
            c.page,
            probes[c.logical_id],
            floors[c.services],
            paired[c.logical_id],
            stacked[c.logical_id],
        )
        for c in sorted(candidates, key=lambda c: c.logical_id)
    ]
    used = {c.services for c in candidates}
    return measured, skipped, [f for services, f in sorted(floors.items()) if services in used]


# --- What makes a function's init exceed its floor: `python -X importtime` of both. ---


@dataclass(frozen=True)
class ImportCost:
    module: str
    self_ms: float
    cumulative_ms: float
    depth: int  # 0: imported by the probe itself, 1: by one of those, ...
    parent: int | None = None  # index of the importing module in the parsed list


@dataclass(frozen=True)
class Culprit:
    group: str  # a package, or one Powertools utility, or one first-party module
    self_ms: float  # summed self time of its modules that the floor does not import
    modules: int
    pulled_in_by: str  # the chain of first-party imports that brought it in, outermost first


@dataclass(frozen=True)
class Excess:
    logical_id: str
    extra_ms: float  # self time of every module the floor does not import
    culprits: list[Culprit]


def _parse_importtime(stderr: str) -> list[ImportCost]:
    """Lines like `import time:       544 |      99366 |   greenlight.service` (microseconds). A module
    is listed after everything it imported, one indentation level deeper."""
    rows: list[tuple[str, float, float, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # one space, then two per level
        rows.append((name.strip(), int(own) / 1000, int(cumulative) / 1000, depth))
    parents: list[int | None] = [None] * len(rows)
    pending: list[int] = []  # listed, parent not yet seen
    for index, (_, _, _, depth) in enumerate(rows):
        for child in [i for i in pending if rows[i][3] == depth + 1]:
            parents[child] = index
        pending = [i for i in pending if rows[i][3] != depth + 1]
        pending.append(index)
    return [ImportCost(*row, parent) for row, parent in zip(rows, parents, strict=True)]


def _first_party(module: str, app: str) -> bool:
    return module == app or module.split(".")[0] == "greenlight"


def _group(module: str, app: str) -> str:
    parts = module.split(".")
    if _first_party(module, app):
        return module
    if parts[0] == "aws_lambda_powertools" and len(parts) > 2 and parts[1] == "utilities":
        return ".".join(parts[:3])
    if parts[0] == "aws_lambda_powertools" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def _chain(costs: list[ImportCost], index: int, app: str) -> str:
    """`app → greenlight.x → greenlight.y (via some.package)`: the first-party imports down to the
    group's import, and the third-party module in between when a first-party one did not import it."""
    chain: list[str] = []
    below, at = index, costs[index].parent
    while at is not None and not _first_party(costs[at].module, app):
        below, at = at, costs[at].parent
    via = costs[below].module if below != index else ""
    while at is not None:
        if _first_party(costs[at].module, app):
            chain.append(costs[at].module)
        at = costs[at].parent
    text = " → ".join(reversed(chain)) or "(the probe)"
    return f"{text} (via `{via}`)" if via else text


def excess(function: list[ImportCost], floor: list[ImportCost], app: str, top: int = 6) -> list[Culprit]:
    """The function's imports that its floor does not make, by group, slowest first."""
    in_floor = {c.module for c in floor}
    groups: dict[str, list[int]] = {}
    for index, cost in enumerate(function):
        if cost.module not in in_floor and cost.module != app:
            groups.setdefault(_group(cost.module, app), []).append(index)
    culprits = []
    for group, members in groups.items():
        member_set = set(members)
        # The group's outermost import (its parent is outside the group), the slowest one.
        roots = [i for i in members if function[i].parent not in member_set]
        root = max(roots, key=lambda i: function[i].cumulative_ms)
        self_ms = sum(function[i].self_ms for i in members)
        culprits.append(Culprit(group, self_ms, len(members), _chain(function, root, app)))
    culprits.sort(key=lambda c: -c.self_ms)
    return culprits[:top]


def _least_disturbed(
    probe: tuple[str, str], folder: Path, environment: dict[str, str], runs: int
) -> list[ImportCost]:
    profiles = [
        _parse_importtime(_run(probe, folder, environment, ["-X", "importtime"])[1]) for _ in range(runs)
    ]
    return min(profiles, key=lambda costs: sum(c.self_ms for c in costs))


def profile_excess(stack: Stack, results: list[ColdStart], runs: int = 3) -> list[Excess]:
    """Per function, `python -X importtime` of its init and of its floor (the least disturbed of
    `runs` each, by total self time): what the function imports beyond the floor, by group."""
    environment = function_environment(stack)
    floors: dict[tuple[str, ...], list[ImportCost]] = {}
    out = []
    for result in results:
        folder, handler = stack.function_code(result.logical_id)
        module = handler.rsplit(".", 1)[0]
        if result.services not in floors:
            floors[result.services] = _least_disturbed(
                floor_probe(result.services), ROOT / "functions", environment, runs
            )
        floor = floors[result.services]
        costs = _least_disturbed(function_probe(module, result.services), folder, environment, runs)
        in_floor = {c.module for c in floor}
        extra = sum(c.self_ms for c in costs if c.module not in in_floor)
        out.append(Excess(result.logical_id, extra, excess(costs, floor, module)))
    return out


def summary(results: list[ColdStart]) -> dict[str, Any]:
    """The figures a caller may assert on (e.g. in CI), by function."""
    return {
        r.logical_id: {
            "init_ms": r.init_ms,
            "floor_ms": r.floor_ms,
            "ratio": r.ratio,
            "stack_ratio": r.stack_ratio,
            "pass": r.passes,
        }
        for r in results
    }
