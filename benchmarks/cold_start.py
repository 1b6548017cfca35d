"""Cold start per function: import the function's app.py in a fresh interpreter, as Lambda's init
phase does, and time only that import (no AWS call is made: clients are created on first use)."""

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from local.template import ROOT, Stack

SHARED = ROOT / "shared"
SUBPROCESS_TIMEOUT = 60.0  # seconds, per interpreter started

# Runs in the fresh interpreter. `time` is imported before the clock starts, everything else after.
_PROBE = """\
import time
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
import json, resource, sys
try:  # this process's own high-water mark; ru_maxrss inherits the parent's through fork + exec
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"import_ms": elapsed * 1000, "max_rss_kb": peak, "modules": len(sys.modules)}}))
"""


@dataclass(frozen=True)
class Probe:
    import_ms: float
    max_rss_kb: int
    modules: int
    process_ms: float  # the whole interpreter, start to exit, seen from the parent


@dataclass(frozen=True)
class ColdStart:
    logical_id: str
    folder: str
    runs: list[Probe]

    @property
    def import_ms(self) -> float:
        return statistics.median(p.import_ms for p in self.runs)

    @property
    def fastest_import_ms(self) -> float:
        return min(p.import_ms for p in self.runs)

    @property
    def process_ms(self) -> float:
        return statistics.median(p.process_ms for p in self.runs)

    @property
    def max_rss_mb(self) -> float:
        return max(p.max_rss_kb for p in self.runs) / 1024

    @property
    def modules(self) -> int:
        return self.runs[-1].modules


@dataclass(frozen=True)
class ImportCost:
    module: str
    self_ms: float
    cumulative_ms: float
    depth: int  # 1: imported by app.py itself, 2: by one of those, ...


@dataclass(frozen=True)
class ImportProfile:
    logical_id: str
    top_cumulative: list[ImportCost]  # the slowest imports, the function's own module left out
    direct: list[ImportCost]  # what app.py imports itself, slowest first
    by_package: list[tuple[str, float]]  # self time summed per top-level package, slowest first


def function_environment(stack: Stack) -> dict[str, str]:
    """What a function sees on Lambda, with dummies: the template's Globals and a region."""
    environment = {k: v or "unset" for k, v in stack.global_environment().items()}
    environment.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    return environment


def _run(
    statement: str, folder: Path, environment: dict[str, str], extra: list[str] | None = None
) -> tuple[Probe, str]:
    """One fresh interpreter running the probe: its figures, and its stderr."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(SHARED), str(folder)]),
        # Measure with the .pyc files already there, and write none into the source tree.
        "PYTHONDONTWRITEBYTECODE": "1",
        **environment,
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *(extra or []), "-c", _PROBE.format(statement=statement)],
        cwd=folder,  # /var/task on Lambda
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    process_ms = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"importing in {folder} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    probe = Probe(result["import_ms"], int(result["max_rss_kb"]), int(result["modules"]), process_ms)
    return probe, done.stderr


def measure_baseline(runs: int) -> ColdStart:
    """An interpreter that imports nothing: what every function pays before its own code."""
    folder = ROOT / "functions"
    return ColdStart("(interpreter only)", "-", [_run("pass", folder, {})[0] for _ in range(runs)])


@dataclass(frozen=True)
class NotMeasured:
    logical_id: str
    folder: str
    reason: str


def measure_functions(stack: Stack, runs: int) -> tuple[list[ColdStart], list[NotMeasured]]:
    """Every function of the template, in rounds (each round imports every function once, so a
    burst of other work on the machine hits all functions alike). A function whose code is missing
    or does not import is reported, not measured: the tree may be mid-change."""
    environment = function_environment(stack)
    candidates: dict[str, tuple[Path, str]] = {}
    skipped: list[NotMeasured] = []
    for logical_id in sorted(stack.of_type("AWS::Serverless::Function")):
        folder, handler = stack.function_code(logical_id)
        module = handler.rsplit(".", 1)[0]
        if (folder / f"{module}.py").is_file():
            candidates[logical_id] = (folder, module)
        else:
            where = str(folder.relative_to(ROOT))
            skipped.append(NotMeasured(logical_id, where, f"no {module}.py in {where}"))
    probes: dict[str, list[Probe]] = {logical_id: [] for logical_id in candidates}
    for _ in range(runs):
        for logical_id, (folder, module) in list(candidates.items()):
            try:
                probes[logical_id].append(_run(f"import {module}", folder, environment)[0])
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                where = str(folder.relative_to(ROOT))
                skipped.append(NotMeasured(logical_id, where, str(error).strip().splitlines()[-1][:200]))
                del candidates[logical_id], probes[logical_id]
    measured = [
        ColdStart(logical_id, str(folder.relative_to(ROOT)), probes[logical_id])
        for logical_id, (folder, _) in candidates.items()
    ]
    return measured, skipped


def profile_imports(stack: Stack, logical_id: str, runs: int = 3, top: int = 5) -> ImportProfile:
    """`python -X importtime` of one function's module, the least disturbed of `runs` (the smallest
    total): the slowest imports by cumulative time, app.py's own imports, self time per package."""
    folder, handler = stack.function_code(logical_id)
    module = handler.rsplit(".", 1)[0]
    profiles = []
    for _ in range(runs):
        _, stderr = _run(f"import {module}", folder, function_environment(stack), ["-X", "importtime"])
        profiles.append(_parse_importtime(stderr))
    costs = min(profiles, key=lambda c: sum(cost.self_ms for cost in c))
    nested = sorted((c for c in costs if c.module != module), key=lambda c: -c.cumulative_ms)
    direct = [c for c in nested if c.depth == 1]
    packages: dict[str, float] = {}
    for cost in costs:
        package = cost.module.split(".")[0]
        packages[package] = packages.get(package, 0.0) + cost.self_ms
    by_package = sorted(packages.items(), key=lambda kv: -kv[1])
    return ImportProfile(logical_id, nested[:top], direct[:top], by_package[:top])


def _parse_importtime(stderr: str) -> list[ImportCost]:
    """Lines like `import time:       544 |      99366 |   greenlight.service` (microseconds)."""
    costs = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # one space, then two per level
        costs.append(ImportCost(name.strip(), int(own) / 1000, int(cumulative) / 1000, depth))
    return costs
