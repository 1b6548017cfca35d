"""RESULTS.md: every figure with the way it was obtained."""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.cold_start import PAGE_BUDGET_MS, RATIO_BUDGET, ColdStart, Excess, Floor, NotMeasured
from benchmarks.cost import CostLine, RequestWork, Scenario
from benchmarks.intake import IntakeResult
from benchmarks.stats import Summary


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
class PhaseCost:
    name: str
    work: RequestWork
    lines: list[CostLine]

    @property
    def total(self) -> float:
        return sum(line.per_thousand for line in self.lines)


@dataclass(frozen=True)
class ScenarioCost:
    scenario: Scenario
    lines: list[CostLine]
    cold_extra_per_thousand: float
    phases: list[PhaseCost] = field(default_factory=list)  # a whole lifecycle, step by step

    @property
    def total(self) -> float:
        return sum(line.per_thousand for line in self.lines)


@dataclass(frozen=True)
class LifecycleCosts:
    """Section 3's last part: whole lifecycles per lane, or why they were not measured."""

    lanes: list[ScenarioCost]
    stopped: int  # executions still waiting from the earlier sections, stopped first
    mails: dict[str, list[tuple[str, list[str]]]]  # per lane: (subject, recipients)
    error: str = ""


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def dollars(value: float) -> str:
    if not value:
        return "$0"
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
        "nothing else runs; the tests' raised rate limits, one requester sending them all). One warm-up "
        f"request, not counted, then {n} requests one after another: `POST /api/requests` with "
        "`tests.support.sample_request()` through the HTTP server (no Idempotency-Key), confirmed by "
        "following the link in the confirmation mail as the requester would (`tests.support.Http.post_json` "
        "does both). *201*: until the answer arrived and the confirmation was posted. *Mail*: until the "
        "mail to the requester naming the request id is in moto's SES outbox (polled in-process every "
        "2 ms). *Settled*: until the execution named by the request id has ended or waits for a person "
        "(RUNNING with its last history event `TaskSubmitted`, a `.waitForTaskToken` task whose Lambda "
        "returned, or `WaitStateEntered`), polled every 2 ms after the mail on moto's Step Functions "
        "backend directly, its history read in place (through boto3 each poll cost ~17 ms of GIL-holding "
        "work, and moto's own history output deep-copies every event: either slowed the system under "
        f"test down). Each wait has a {deadline:g} s deadline; the next request is sent "
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


def _budget(result: ColdStart) -> str:
    ratio = f"≤ {RATIO_BUDGET:g}x"
    return f"{ratio}, < {PAGE_BUDGET_MS:.0f} ms" if result.page else ratio


def _verdict(result: ColdStart) -> str:
    return "pass" if result.passes else "**FAIL**"


def cold_start_section(
    results: list[ColdStart],
    skipped: list[NotMeasured],
    floors: list[Floor],
    runs: int,
    excesses: list[Excess] | None,
) -> list[str]:
    rows: list[list[object]] = [
        [
            r.logical_id,
            "page" if r.page else "step",
            ", ".join(r.services),
            f"**{ms(r.init_ms)}**",
            ms(r.import_ms),
            ms(r.clients_ms),
            f"**{ms(r.floor_ms)}**",
            f"**{r.ratio:.2f}x**",
            f"{r.stack_ratio:.2f}x",
            f"{r.beyond_stack:.2f}x",
            f"{ms(r.fastest_ms)} / {ms(r.fastest_floor_ms)}",
            _budget(r),
            _verdict(r),
            f"{r.max_rss_mb:.1f} MB",
            r.modules,
        ]
        for r in sorted(results, key=lambda r: -r.ratio)
    ]
    out = [
        "## 2. Cold start per function",
        "",
        "How (`benchmarks/cold_start.py`): for each `AWS::Serverless::Function` in template.yaml, "
        "*init* is a fresh interpreter (`sys.executable -c ...`, cwd the function folder as /var/task "
        "on Lambda, `PYTHONPATH=shared:<function folder>`, the template's Globals environment with dummy "
        "values, `AWS_REGION=us-east-1`, dummy credentials in the environment as on Lambda, "
        "`PYTHONDONTWRITEBYTECODE=1`, every .pyc compiled first with `compileall` as the layer ships "
        "them) that imports the function's app.py and then creates the boto3 clients the function uses "
        "through its own factory `greenlight.aws.client(service)`: boto3 is counted even where the "
        "function defers it, and the clients the handler would make on its first invocations are "
        "counted here. *Clients*: one per AWS service the function's IAM policies allow (SAM policy "
        "templates by name, managed policies by their actions: DynamoDB → `dynamodb`, Step Functions "
        "→ `stepfunctions`, SES → `sesv2`, Secrets Manager → `secretsmanager`); created, never called "
        "(no request leaves the process). *Floor*: a fresh interpreter, same environment, that runs "
        "`import boto3` and `boto3.client(service)` for the same services: the least any function "
        "using those clients can pay. "
        f"{runs} rounds; each round runs every function's init immediately followed by its floor, the "
        "functions in a shuffled order, so a burst of other work on the machine (2 shared cores) hits "
        "a function and its floor alike. Figures are medians of the function's runs and of the floor runs "
        "paired with them (`time.perf_counter()` inside the child, interpreter start-up excluded). "
        "*Ratio*: the median of the paired ratios (each init over the floor run made right after it), "
        "which cancels the slow drift of the machine's load; the fastest runs, the least disturbed, "
        "are shown beside it. *Stack floor*: a third fresh interpreter in each pair, the floor plus what "
        "every function on this stack loads before any code of its own: `import pydantic` with one "
        "model validated (the steps' Input/Output models) and Powertools' `Logger`; *stack floor / floor* "
        "is the least ratio any function validating its input with pydantic can reach, *init / stack "
        "floor* what Greenlight's own code adds on top. "
        f"**Budgets** (issue 8, part 6): init at most {RATIO_BUDGET:g}x the floor; page and link "
        f"functions (served through the HTTP API: a person waits) also under {PAGE_BUDGET_MS:.0f} ms. "
        "*Peak RSS*: the child's own `VmHWM` after init, largest of the runs. Measured on this machine's "
        "CPU (x86), not on Graviton: check `Init Duration` in the REPORT log lines on AWS.",
        "",
        *table(
            [
                "Function",
                "kind",
                "clients",
                "init (median)",
                "of which imports",
                "of which clients",
                "floor (median)",
                "ratio",
                "stack floor / floor",
                "init / stack floor",
                "fastest init / floor",
                "budget",
                "result",
                "peak RSS",
                "modules",
            ],
            rows,
        ),
        "",
        "Floors in this run:",
        "",
        *table(
            ["Floor", "runs", "median", "of which `import boto3`", "fastest"],
            [
                [
                    f.label,
                    len(f.runs),
                    ms(f.init_ms),
                    ms(f.import_ms),
                    ms(min(p.init_ms for p in f.runs)) if f.runs else "-",
                ]
                for f in floors
            ],
        ),
    ]
    if skipped:
        out += ["", "Not measured:", ""]
        out += [f"- {s.logical_id} (`{s.folder}`): {s.reason}" for s in skipped]
    if results:
        failing = [r for r in results if not r.passes]
        out += [
            "",
            f"**{len(results) - len(failing)} of {len(results)} functions within budget**"
            + (f"; over: {', '.join(r.logical_id for r in failing)}." if failing else "."),
        ]
        stack = sorted(r.stack_ratio for r in results)
        beyond = sorted(r.beyond_stack for r in results)
        typical = statistics.median(stack)
        out += [
            "",
            f"**The stack floor alone is {typical:.2f}x the floor** (median over the functions; "
            f"{stack[0]:.2f}x to {stack[-1]:.2f}x): "
            + (
                f"above the {RATIO_BUDGET:g}x budget before a line of Greenlight runs, so a function "
                "that validates its input with pydantic cannot be expected to meet it. "
                if typical > RATIO_BUDGET
                else f"within the {RATIO_BUDGET:g}x budget. "
            )
            + f"Greenlight's own code adds {statistics.median(beyond):.2f}x on top of the stack floor "
            f"(median; {beyond[0]:.2f}x to {beyond[-1]:.2f}x).",
        ]
    if not excesses:
        return out
    out += [
        "",
        "### What a function imports beyond its floor",
        "",
        "How: `python -X importtime` of each function's init and of its floor (the least disturbed of 3 "
        "runs each, by total self time; importtime adds its own overhead, so these times are larger "
        "than the medians above). Every module the function's process imports and its floor's does not, "
        "its self time summed per group (a package; one Powertools utility; one first-party module), "
        "the slowest groups first; *pulled in by*: the chain of first-party imports (app.py and "
        "greenlight modules) that brought the group's slowest import in.",
        "",
        *table(
            ["Function", "beyond the floor", "slowest groups (self time, modules) ← pulled in by"],
            [
                [
                    e.logical_id,
                    ms(e.extra_ms),
                    "<br>".join(
                        f"`{c.group}` {ms(c.self_ms)} ({c.modules}) ← {c.pulled_in_by}" for c in e.culprits
                    ),
                ]
                for e in sorted(excesses, key=lambda e: -e.extra_ms)
            ],
        ),
    ]
    return out


def cost_section(
    costs: list[ScenarioCost],
    memory_mb: int,
    requests_per_scenario: int,
    lifecycles: LifecycleCosts | None = None,
) -> list[str]:
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
        "- *HTTP API requests*: every request the local HTTP server hands to a route of the template's "
        "HTTP API (what API Gateway bills; the local-only `/_local/` pages are not the API's).",
        "- *Secrets Manager API calls*: calls made by the application's cached `secretsmanager` client.",
        "",
        f"Prices: docs/reference.md (us-east-1). **They must be verified against the AWS price "
        f"pages before quoting.** Lambda arm64 at {memory_mb} MB (template Globals). API Gateway HTTP API "
        "($1.00 per million requests, the first 300 million a month, each request up to 512 KB) and "
        "Secrets Manager ($0.05 per 10,000 API calls) are not in reference.md: **verify both**. Free tiers "
        "are ignored. Not counted: CloudWatch Logs ingestion, data transfer, storage and point-in-time "
        "recovery of the tables, the secret itself ($0.40 a month, verify), and the 5-minute sweeper "
        "(StartPendingWorkflowsFunction: a fixed ~8,640 invocations a month, not per request).",
    ]
    if any(c.scenario.typical.outcome != "SUCCEEDED" for c in costs):
        out += [
            "",
            "The lifecycle waits for a person after intake: the figures for the entry points below are "
            "the automatic part of a request, up to that wait. A whole lifecycle, every decision and the "
            "publishing included, is counted in *Cost of a whole lifecycle* at the end of this section.",
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
    if lifecycles is not None:
        out += ["", *lifecycle_section(lifecycles, costs[0] if costs else None, requests_per_scenario)]
    return out


def _sameness(scenario: Scenario) -> str:
    return (
        "identical for all of them"
        if scenario.deterministic
        else "NOT identical across them (shown: the last)"
    )


def _calls(work: RequestWork) -> str:
    return ", ".join(f"{service}:{op} x{n}" for (service, op), n in sorted(work.api_calls.items()))


def _invocations(scenario: Scenario, work: RequestWork) -> list[str]:
    """Invocations per function with their median handler times (wall and thread CPU)."""
    medians, cpu_medians = scenario.handler_ms(), scenario.handler_ms(cpu=True)
    return table(
        ["Lambda function", "invocations", "median handler wall time", "median thread CPU time"],
        [
            [name, n, ms(medians[name]), ms(cpu_medians[name])]
            for name, n in sorted(work.invocation_counts.items())
        ],
    )


def scenario_block(cost: ScenarioCost) -> list[str]:
    scenario = cost.scenario
    work = scenario.typical
    same, calls = _sameness(scenario), _calls(work)
    out = [
        f"### {scenario.name}: `{scenario.entry}`",
        "",
        f"{len(scenario.works)} requests; counts {same}. Settled: {work.outcome}. States entered: "
        + " → ".join(work.states_entered)
        + f" ({len(work.states_entered)} transitions). AWS calls by the application: {calls}.",
        "",
        *_invocations(scenario, work),
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


def _ends(outcome: str) -> str:
    """ "waiting in 'X' (waiting for its task token)" -> "waiting in 'X'"."""
    return outcome.split(" (")[0]


def _person(address: str) -> str:
    return address.split("@")[0]


def _counts(work: RequestWork) -> list[object]:
    return [
        len(work.states_entered),
        len(work.invocations),
        work.write_units,
        f"{work.read_units:g}",
        work.mails,
        work.requests_served,
        work.secret_reads,
    ]


COUNT_HEADER = [
    "states entered",
    "Lambda invocations",
    "DynamoDB WRU",
    "RRU",
    "mails",
    "HTTP API requests",
    "Secrets Manager calls",
]


def lifecycle_section(lifecycles: LifecycleCosts, intake: ScenarioCost | None, runs: int) -> list[str]:
    out = ["### Cost of a whole lifecycle", ""]
    if lifecycles.error:
        return [*out, f"**Not measured in this run**: {lifecycles.error}"]
    out += [
        f"How: after the entry points above, the {lifecycles.stopped} executions still waiting for "
        "triage were stopped (`LocalRuntime.stop_executions`): moving the clock would wake their "
        "timeouts, and their reminders and escalations would be counted here; each lifecycle also "
        "checks that no other execution runs when it starts. Then, per lane, "
        f"{runs} lifecycles timed and {runs} counted, one at a time, with the counters above "
        "(`benchmarks/lifecycle.py`). One lifecycle: `POST /api/requests` "
        "(`tests.support.sample_request()`, channel sandbox) until triage waits → the link in "
        "sam@example.org's `Triage:` mail (found in moto's SES outbox): GET the page, POST *accept* "
        "with the page's hidden fields and channel sandbox, until the execution waits for review → "
        "each reviewer's link from their `Review:` mail: GET, POST *approve*, until it waits for the "
        "publish time → `runtime.clock.advance(2 days + 60 s)` (the window opens two business days "
        "after submission) until the execution has SUCCEEDED in *Published* with exactly one post on "
        "the sandbox network. Every wait has the deadline of section 1. A phase ends when the execution "
        "has settled again (ended, or its last event `TaskSubmitted`) with no handler running and, "
        "after triage, every review mail sent: each phase's work is counted between two quiet points. "
        "States entered include those of the Map iterations (one per role in the full review, one per "
        "channel when publishing). The channels' credentials are cached for 5 minutes per container "
        "(`greenlight.service.channels_config`); each lifecycle starts with that cache empty, i.e. one "
        "Secrets Manager read per publish: the worst case, and the usual one at a few publishes an hour "
        "(under steady load, at most one read per container per 5 minutes). Lambda duration as above: "
        "median per function over the timed lifecycles; DecisionLinkFunction serves both the GET "
        "pages and the POST decisions, so its median mixes the two.",
    ]
    for lane in lifecycles.lanes:
        out += ["", *lane_block(lane, lifecycles.mails.get(lane.scenario.name, []))]
    if not lifecycles.lanes:
        return out
    rows: list[list[object]] = []
    if intake is not None:
        rows.append(
            [
                f"Intake only ({intake.scenario.name}, above)",
                *_counts(intake.scenario.typical),
                dollars(intake.total),
                f"${intake.total * 1000:,.2f}",
                dollars(intake.cold_extra_per_thousand),
                "1.0x",
            ]
        )
    for lane in lifecycles.lanes:
        rows.append(
            [
                f"Whole lifecycle, {lane.scenario.name.lower()}",
                *_counts(lane.scenario.typical),
                f"**{dollars(lane.total)}**",
                f"${lane.total * 1000:,.2f}",
                dollars(lane.cold_extra_per_thousand),
                f"{lane.total / intake.total:.1f}x" if intake is not None and intake.total else "-",
            ]
        )
    out += [
        "",
        "#### Whole lifecycle against intake only",
        "",
        *table(
            [
                "Per request",
                *COUNT_HEADER,
                "$ per 1,000",
                "$ per 1M",
                "+ per 1,000 if every invocation were cold",
                "x intake only",
            ],
            rows,
        ),
        "",
        lifecycle_reading(lifecycles, intake),
    ]
    return out


def lane_block(cost: ScenarioCost, mails: list[tuple[str, list[str]]]) -> list[str]:
    scenario = cost.scenario
    work = scenario.typical
    same, calls = _sameness(scenario), _calls(work)
    served = ", ".join(f"`{route}` x{n}" for route, n in sorted(work.http_requests.items()))
    mailed = "; ".join(
        f"*{subject}* to {', '.join(_person(a) for a in recipients)}" for subject, recipients in mails
    )
    final = work.states_entered[-1] if work.states_entered else "-"
    dynamo: dict[tuple[str, str], list[float]] = {}
    for call in work.dynamo:
        row = dynamo.setdefault((call.operation, call.table), [0, 0, 0, 0.0])
        row[0] += 1
        row[1] += call.write_units
        row[2] += call.index_write_units
        row[3] += call.read_units
    phase_rows: list[list[object]] = [
        [phase.name, _ends(phase.work.outcome), *_counts(phase.work), dollars(phase.total)]
        for phase in cost.phases
    ]
    phase_rows.append(
        ["**Whole lifecycle**", _ends(work.outcome), *_counts(work), f"**{dollars(cost.total)}**"]
    )
    return [
        f"#### {scenario.name}: {scenario.entry}",
        "",
        f"{len(scenario.works)} lifecycles; counts {same}. Ended: {work.outcome} in '{final}'. "
        f"States entered ({len(work.states_entered)} transitions): " + " → ".join(work.states_entered) + ". "
        f"HTTP API requests ({work.requests_served}): {served}. Mails ({work.mails}, one SendEmail per "
        f"recipient, all @example.org): {mailed or 'not recorded'}. AWS calls by the application: {calls}.",
        "",
        *table(["Phase", "ends", *COUNT_HEADER, "$ per 1,000"], phase_rows),
        "",
        *_invocations(scenario, work),
        "",
        *table(
            ["DynamoDB call", "table", "calls", "WRU", "GSI WRU", "RRU"],
            [
                [operation, table_name, int(n), int(wru), int(gsi), f"{rru:g}"]
                for (operation, table_name), (n, wru, gsi, rru) in sorted(dynamo.items())
            ],
        ),
        "",
        *table(
            ["Per request", "quantity", "price (verify)", "$ per 1,000 requests", "share"],
            [
                [
                    line.item,
                    line.quantity,
                    line.price,
                    dollars(line.per_thousand),
                    _share(line.per_thousand, cost.total),
                ]
                for line in cost.lines
            ]
            + [["**Total**", "", "", f"**{dollars(cost.total)}**", "100%"]],
        ),
    ]


def _share(part: float, whole: float) -> str:
    if not whole:
        return "-"
    share = 100 * part / whole
    return f"{share:.0f}%" if share >= 1 else f"{share:.1f}%" if share >= 0.1 else "<0.1%"


def _line(cost: ScenarioCost, prefix: str) -> CostLine:
    return next(line for line in cost.lines if line.item.startswith(prefix))


def lifecycle_reading(lifecycles: LifecycleCosts, intake: ScenarioCost | None) -> str:
    """One paragraph from the figures: what dominates, the lanes compared, against intake only."""
    lanes = lifecycles.lanes
    first = lanes[0]
    ranked = sorted(first.lines, key=lambda line: -line.per_thousand)
    top, second = ranked[0], ranked[1]
    dynamo = sum(line.per_thousand for line in first.lines if line.item.startswith("DynamoDB"))
    small = [line for line in first.lines if line.item.startswith(("Lambda", "API Gateway", "Secrets"))]
    text = (
        f"**Reading.** In the {first.scenario.name.lower()} {top.item} ({top.quantity}) make "
        f"{_share(top.per_thousand, first.total)} of the {dollars(first.total)} per 1,000 requests and "
        f"{second.item} ({second.quantity}) {_share(second.per_thousand, first.total)}; DynamoDB "
        f"(reads and writes) adds {_share(dynamo, first.total)}, and Lambda, API Gateway and Secrets "
        f"Manager together {_share(sum(line.per_thousand for line in small), first.total)}."
    )
    groups = {lane.scenario.name: dict(lifecycles.mails.get(lane.scenario.name, [])) for lane in lanes}
    fanned = [
        f"*{subject}* to {len(recipients)}"
        for subject, recipients in groups[first.scenario.name].items()
        if len(recipients) > 1
    ]
    for lane in lanes[1:]:
        fanned += [
            f"in the {lane.scenario.name.lower()} *{subject}* to {len(recipients)} "
            f"({', '.join(_person(a) for a in recipients)})"
            for subject, recipients in groups[lane.scenario.name].items()
            if len(recipients) > 1 and len(recipients) != len(groups[first.scenario.name].get(subject, []))
        ]
    if fanned:
        text += (
            " SES charges per mail and Greenlight sends one per recipient, several to a whole group ("
            + ", ".join(fanned)
            + "): who is told, more than how many steps there are, sets the largest line."
        )
    for other in lanes[1:]:
        a, b = first.scenario.typical, other.scenario.typical
        deltas = [
            (b.mails - a.mails, "mails"),
            (len(b.states_entered) - len(a.states_entered), "transitions"),
            (len(b.invocations) - len(a.invocations), "Lambda invocations"),
            (b.write_units - a.write_units, "WRU"),
            (b.read_units - a.read_units, "RRU"),
            (b.requests_served - a.requests_served, "HTTP API requests"),
        ]
        listed = ", ".join(f"{d:+g} {what}" for d, what in deltas if d)
        text += (
            f" The {other.scenario.name.lower()} costs {dollars(other.total)} "
            f"({_signed_percent(other.total, first.total)} on the {first.scenario.name.lower()}): "
            f"{listed or 'the same counts'}."
        )
    if intake is not None and intake.total:
        work = intake.scenario.typical
        ratios = ", ".join(
            f"{lane.total / intake.total:.1f}x ({lane.scenario.name.lower()})" for lane in lanes
        )
        text += (
            f" Against intake only ({intake.scenario.name}: {dollars(intake.total)} per 1,000 for "
            f"{work.mails} mails and {len(work.states_entered)} transitions up to the triage wait), a whole "
            f"lifecycle costs {ratios}: the intake figures above are "
            f"{_share(intake.total, first.total)} of a {first.scenario.name.lower()} request"
        )
        biggest = [
            (lane, max(lane.phases[1:], key=lambda p: p.total)) for lane in lanes if len(lane.phases) > 1
        ]
        if biggest:
            text += "; the costliest step after intake is " + " and ".join(
                f"*{phase.name}* in the {lane.scenario.name.lower()} ({dollars(phase.total)}: "
                f"{phase.work.mails} mails, {len(phase.work.states_entered)} transitions)"
                for lane, phase in biggest
            )
        text += "."
    return text


def _signed_percent(value: float, base: float) -> str:
    return f"{100 * (value - base) / base:+.0f}%" if base else "-"


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
