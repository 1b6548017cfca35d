"""RESULTS.md: every figure with the way it was obtained."""

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.cold_start import ColdStart, ImportProfile, NotMeasured
from benchmarks.cost import CostLine, Scenario
from benchmarks.intake import IntakeResult
from benchmarks.stats import Summary

# ../shared/notes/reference.md, "Cold start": fresh process, .pyc present, medians, 2-core x86, Python 3.11.
REFERENCE_BOTO3_MS = 160
REFERENCE_BOTO3_DYNAMODB_CLIENT_MS = 246
REFERENCE_ALL_CLIENTS_MS = 294
REFERENCE_NO_PYC_MS = 550


@dataclass(frozen=True)
class Machine:
    date: str
    nproc: int
    platform: str
    python: str
    moto: str
    boto3: str
    load_average: tuple[float, float, float]
    load_average_end: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class ScenarioCost:
    scenario: Scenario
    lines: list[CostLine]
    cold_extra_per_thousand: float

    @property
    def total(self) -> float:
        return sum(line.per_thousand for line in self.lines)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def dollars(value: float) -> str:
    return f"${value:.4f}" if value >= 0.0001 else f"${value:.6f}"


def _summary_row(name: str, summary: Summary) -> list[object]:
    return [name, ms(summary.min), ms(summary.p50), ms(summary.p95), ms(summary.max), ms(summary.mean)]


def intake_section(result: IntakeResult, deadline: float) -> list[str]:
    n = len(result.samples)
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in result.outcomes.most_common())
    out = [
        "## 1. Intake latency on the local runtime",
        "",
        "How: `local.runtime.LocalRuntime(port=0, schedules=False)` in the benchmark's own process (moto's "
        "mock AWS, the real handlers, the local HTTP server on a free port; the schedule pump is off so "
        "nothing else runs). One warm-up request, not counted, then "
        f"{n} requests one after another: `POST /api/requests` with `tests.support.sample_request()` "
        "through the HTTP server (no Idempotency-Key). *201*: until the answer arrived. *Mail*: until the "
        "mail to the requester naming the request id is in moto's SES outbox (polled in-process every "
        "2 ms). *Settled*: until the execution named by the request id has ended or waits for a person "
        "(RUNNING with its last history event `TaskSubmitted`, a `.waitForTaskToken` task whose Lambda "
        "returned, or `WaitStateEntered`), polled every 2 ms after the mail on moto's Step Functions "
        "backend directly (through boto3 each poll cost ~17 ms of GIL-holding work and slowed the "
        f"system under test down). Each wait has a {deadline:g} s deadline; the next request is sent "
        "only when the previous one has settled. Times are from just before the POST. "
        f"How the executions settled: {outcomes}.",
        "",
        *table(
            ["From POST to", "min", "p50", "p95", "max", "mean"],
            [
                _summary_row("201 Created", result.summary("to_201_ms")),
                _summary_row("acknowledgement mail in the outbox", result.summary("to_mail_ms")),
                _summary_row("execution settled", result.summary("to_settled_ms")),
            ],
        ),
        "",
        f"Warm-up request (first clients, first template render, first execution): 201 in "
        f"{ms(result.warmup.to_201_ms)}, mail in {ms(result.warmup.to_mail_ms)}, settled in "
        f"{ms(result.warmup.to_settled_ms)}.",
        "",
        f"**Sequential throughput**: {n} requests, each from POST until settled, in "
        f"{result.wall_seconds:.2f} s = **{result.throughput:.1f} requests per second** end to end "
        "(one client, no overlap).",
        "",
        "Handler time per invocation (wrapping `runtime.functions.invoke`; the measured requests only). "
        "Wall time includes whatever else held the CPU meanwhile (the GIL is shared with moto and with "
        "the execution started by the API call, and the machine with other work); the CPU time of the "
        "handler's thread (`time.thread_time()`, moto's work for the handler included) does not:",
        "",
        *table(
            ["Function", "invocations", "wall min", "wall p50", "wall p95", "wall max", "CPU p50", "CPU p95"],
            [
                [
                    name,
                    s.n,
                    ms(s.min),
                    ms(s.p50),
                    ms(s.p95),
                    ms(s.max),
                    ms(result.handler_cpu_ms[name].p50),
                    ms(result.handler_cpu_ms[name].p95),
                ]
                for name, s in sorted(result.handler_ms.items())
            ],
        ),
        "",
        f"Handler errors (each retried by the state machine, adding its retry interval): "
        f"{'; '.join(result.handler_errors) if result.handler_errors else 'none'}.",
        "",
        gc_sentence(result),
    ]
    return out


def gc_sentence(result: IntakeResult) -> str:
    full = result.gc.of_generation(2)
    longest = f", the longest {ms(max(full))}" if full else ""
    return (
        f"Garbage collection in this process during the measured requests (`gc.callbacks`): "
        f"{len(result.gc.pauses)} collections, {ms(result.gc.total_ms)} in all, i.e. "
        f"{result.gc.total_ms / 10 / result.wall_seconds:.0f}% of the wall time; {len(full)} of them "
        f"full (generation 2) collections totalling {ms(sum(full))}{longest}. moto keeps every execution "
        "(its parsed definition and history) in memory, so each full collection walks a larger heap: "
        "these pauses stop every thread and make most of the tail above (local only, not AWS)."
    )


def comparison_sentence(results: list[ColdStart], baseline: ColdStart) -> str:
    low = min(r.import_ms for r in results)
    high = max(r.import_ms for r in results)
    fast_low = min(r.fastest_import_ms for r in results)
    fast_high = max(r.fastest_import_ms for r in results)
    return (
        f"Module load takes {low:.0f}-{high:.0f} ms (medians; fastest runs {fast_low:.0f}-{fast_high:.0f} "
        f"ms) plus ~{baseline.process_ms:.0f} ms of bare interpreter; comparing the fastest runs with "
        "the reference (measured on a quiet machine), that is "
        f"{fast_low / REFERENCE_BOTO3_MS:.1f}-{fast_high / REFERENCE_BOTO3_MS:.1f}x its "
        f"{REFERENCE_BOTO3_MS} ms for `import boto3` and "
        f"{fast_low / REFERENCE_ALL_CLIENTS_MS:.1f}-{fast_high / REFERENCE_ALL_CLIENTS_MS:.1f}x its "
        f"{REFERENCE_ALL_CLIENTS_MS} ms for boto3 with the DynamoDB, Step Functions and SESv2 clients, "
        "although no client is created at import here (they are made on the first invocation, which "
        f"adds roughly the reference's {REFERENCE_BOTO3_DYNAMODB_CLIENT_MS - REFERENCE_BOTO3_MS} ms per "
        "client); all with .pyc present, so a layer shipped without compiled .pyc would be slower still "
        f"(the reference saw boto3 + a client go from ~214 to ~{REFERENCE_NO_PYC_MS} ms)."
    )


def cold_start_section(
    results: list[ColdStart],
    skipped: list[NotMeasured],
    baseline: ColdStart,
    runs: int,
    profile: ImportProfile | None,
) -> list[str]:
    rows: list[list[object]] = [
        [
            r.logical_id,
            f"`{r.folder}/app.py`",
            ms(r.import_ms),
            ms(r.fastest_import_ms),
            ms(r.process_ms),
            f"{r.max_rss_mb:.1f} MB",
            r.modules,
        ]
        for r in sorted(results, key=lambda r: -r.import_ms)
    ]
    rows.append(
        [
            baseline.logical_id,
            "`pass`",
            "-",
            "-",
            ms(baseline.process_ms),
            f"{baseline.max_rss_mb:.1f} MB",
            baseline.modules,
        ]
    )
    out = [
        "## 2. Cold start per function",
        "",
        "How: for each `AWS::Serverless::Function` in template.yaml (via `local.template.Stack(load())`), "
        f"{runs} fresh interpreters, in {runs} rounds over all functions (`sys.executable -c ...`, cwd "
        "the function folder, "
        "`PYTHONPATH=shared:<function folder>`, the template's Globals environment with dummy values, "
        "`AWS_DEFAULT_REGION=us-east-1`, `PYTHONDONTWRITEBYTECODE=1` with the existing .pyc files). "
        "*Import*: `time.perf_counter()` around `import app` only, module load, no AWS call; median of "
        f"{runs}. *Process*: the whole interpreter from start to exit as seen by the parent, median. "
        "*Peak RSS*: the child's own high-water mark (`VmHWM` in /proc/self/status) at the end of the "
        "import, largest of the runs. Not `resource.getrusage(RUSAGE_SELF).ru_maxrss`: on Linux that "
        "carries the parent's high-water mark through fork + exec (a first version reported the "
        "benchmark's own ~190 MB for every child, `pass` included); it is only the fallback where /proc "
        "is missing. Measured on this "
        "machine's CPU (x86), not on Graviton; other work on the machine inflates the medians (see the "
        "load average above), the fastest run is the least disturbed. Lambda allots CPU in proportion "
        "to memory (one vCPU at 1,769 MB, per AWS's documentation), so at 512 MB a CPU-bound import may "
        "take longer than on this machine's full core: check `Init Duration` in the REPORT log lines on "
        "AWS before relying on these figures.",
        "",
        *table(
            [
                "Function",
                "code",
                "import (median)",
                "import (fastest)",
                "process (median)",
                "peak RSS",
                "modules",
            ],
            rows,
        ),
    ]
    if skipped:
        out += ["", "Not measured:", ""]
        out += [f"- {s.logical_id} (`{s.folder}`): {s.reason}" for s in skipped]
    if results:
        out += ["", comparison_sentence(results, baseline)]
    if profile is None:
        return out
    out += [
        "",
        f"`python -X importtime` of the slowest (by fastest run), {profile.logical_id}: the least "
        "disturbed of 3 runs (smallest total); importtime adds its own overhead. "
        "Slowest imports by cumulative time (nested: each includes what it imports; depth 1 = imported "
        "by app.py itself):",
        "",
        *table(
            ["Module", "depth", "cumulative", "self"],
            [[f"`{c.module}`", c.depth, ms(c.cumulative_ms), ms(c.self_ms)] for c in profile.top_cumulative],
        ),
        "",
        "What app.py imports itself, slowest first:",
        "",
        *table(
            ["Module", "cumulative", "self"],
            [[f"`{c.module}`", ms(c.cumulative_ms), ms(c.self_ms)] for c in profile.direct],
        ),
        "",
        "Self time summed per top-level package (who the time really belongs to):",
        "",
        *table(["Package", "self time"], [[f"`{name}`", ms(value)] for name, value in profile.by_package]),
    ]
    return out


def cost_section(costs: list[ScenarioCost], memory_mb: int, requests_per_scenario: int) -> list[str]:
    out = [
        "## 3. Cost per request on AWS",
        "",
        "How: on the same local runtime, after section 1, each entry point below is exercised "
        f"{requests_per_scenario} times, one request at a time, each followed until it settled (as in "
        "section 1: the execution ended or waits for a person), and the work of each request up to that "
        "point is counted:",
        "",
        "- *State transitions*: the execution's `get_execution_history` events of type `*StateEntered`.",
        "- *Lambda invocations*: the increase of `Functions.invocations`; *duration*: handler wall time "
        "per invocation from wrapping `runtime.functions.invoke`, median per function over "
        f"{requests_per_scenario} further requests of the same entry point sent with the DynamoDB "
        "accounting switched off (it slows the calls it counts), rounded up to 1 ms as Lambda bills. "
        "Local wall time under a GIL shared with moto, on x86: an upper-bound proxy, not a Graviton "
        "measurement; the handler threads' CPU time is shown next to it as the tighter estimate.",
        "- *DynamoDB request units*: botocore events (`before-parameter-build.dynamodb` / "
        "`after-call.dynamodb`) on the application's own cached client (`greenlight.aws.client`); item "
        "sizes read from moto's tables before and after each write. Writes: 1 WRU per started KB of the "
        "larger of the old and new item, 2 per KB inside TransactWriteItems; GSI entries written, "
        "deleted or moved (key change = delete + put) at 1 WRU per KB including 100 bytes of index "
        "overhead. Reads: 1 RRU per started 4 KB read, half for eventually consistent reads.",
        "- *Mails*: SESv2 `SendEmail` calls made by the application's client.",
        "",
        f"Prices: ../shared/notes/reference.md (us-east-1). **They must be verified against the AWS price "
        f"pages before quoting.** Lambda arm64 at {memory_mb} MB (template Globals). Free tiers are ignored. "
        "Not counted: API Gateway HTTP API requests, CloudWatch Logs ingestion, data transfer, storage "
        "and point-in-time recovery of the tables, and the 5-minute sweeper "
        "(StartPendingWorkflowsFunction: a fixed ~8,640 invocations a month, not per request).",
    ]
    if any(c.scenario.typical.outcome != "SUCCEEDED" for c in costs):
        out += [
            "",
            "The lifecycle now waits for a person after intake: the figures below are the automatic part "
            "of a request, up to that wait. Each later decision (triage, revision, acceptance, closing) "
            "adds its own transitions, invocations, DynamoDB writes and mails, not counted here.",
        ]
    for cost in costs:
        out += ["", *scenario_block(cost)]
    out += ["", "### Summary", ""]
    out += table(
        ["Entry point", "$ per 1,000 requests", "$ per 1M requests", "+ if every invocation were cold"],
        [
            [
                c.scenario.name,
                dollars(c.total),
                f"${c.total * 1000:.2f}",
                dollars(c.cold_extra_per_thousand) + " per 1,000",
            ]
            for c in costs
        ],
    )
    out += [
        "",
        "*If every invocation were cold*: the module load times of section 2 billed as init duration at "
        f"{memory_mb} MB for each invocation of the request (Lambda bills the init phase; verify the "
        "current terms).",
    ]
    return out


def scenario_block(cost: ScenarioCost) -> list[str]:
    scenario = cost.scenario
    work = scenario.typical
    medians, cpu_medians = scenario.handler_ms(), scenario.handler_ms(cpu=True)
    same = (
        "identical for all of them"
        if scenario.deterministic
        else "NOT identical across them (shown: the last)"
    )
    calls = ", ".join(f"{service}:{op} x{n}" for (service, op), n in sorted(work.api_calls.items()))
    out = [
        f"### {scenario.name}: `{scenario.entry}`",
        "",
        f"{len(scenario.works)} requests; counts {same}. Settled: {work.outcome}. States entered: "
        + " → ".join(work.states_entered)
        + f" ({len(work.states_entered)} transitions). AWS calls by the application: {calls}.",
        "",
        *table(
            ["Lambda function", "invocations", "median handler wall time", "median thread CPU time"],
            [
                [name, n, ms(medians[name]), ms(cpu_medians[name])]
                for name, n in sorted(work.invocation_counts.items())
            ],
        ),
        "",
        *table(
            ["DynamoDB call", "table", "WRU", "GSI WRU", "RRU", "items"],
            [
                [c.operation, c.table, c.write_units, c.index_write_units, f"{c.read_units:g}", c.detail]
                for c in work.dynamo
            ],
        ),
        "",
        *table(
            ["Per request", "quantity", "price (reference.md, verify)", "$ per 1,000 requests"],
            [[line.item, line.quantity, line.price, dollars(line.per_thousand)] for line in cost.lines]
            + [["**Total**", "", "", f"**{dollars(cost.total)}**"]],
        ),
    ]
    return out


def render(
    machine: Machine,
    command: str,
    elapsed_seconds: float,
    intake: list[str],
    cold: list[str],
    cost: list[str],
) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine.load_average)
    load_end = ", ".join(f"{x:.2f}" for x in machine.load_average_end)
    head = [
        "# Greenlight benchmarks",
        "",
        f"Generated by `{command}` (from the repository root; `make bench` runs the same) on "
        f"{machine.date}. This file is overwritten on every run.",
        "",
        f"Machine: nproc {machine.nproc}, {machine.platform}, Python {machine.python}, moto {machine.moto}, "
        f"boto3 {machine.boto3}; load average (1, 5, 15 min) {load} at the start and {load_end} at the end "
        f"(other work shares these cores). Whole run: {elapsed_seconds:.1f} s.",
        "",
    ]
    return "\n".join([*head, *intake, "", *cold, "", *cost, ""])
