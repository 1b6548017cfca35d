"""python -m benchmarks: measure intake latency, cold starts and the cost per request (up to the
first wait for a person, and through a whole lifecycle per review lane), and write
benchmarks/RESULTS.md. Bounded: every wait has a deadline. The cold starts (15 rounds of 19 functions,
each beside its floor, then `-X importtime` of each) take about four minutes on a quiet 2-core
machine, the rest about a minute and a half; `--only cold` (make bench-cold) measures only them."""

import argparse
import dataclasses
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# As in benchmarks.report, which is imported late (see main).
INTAKE_TITLE = "## 1. Intake latency on the local runtime"
COLD_TITLE = "## 2. Cold start per function"
COST_TITLE = "## 3. Cost per request on AWS"
MEASUREMENT_TITLE = "## 4. Measuring at scale"
LOAD_TITLE = "## 5. Load"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--requests", type=int, default=40, help="measured intake requests (default 40)")
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=15,
        help="rounds of fresh interpreters: each function's init, its floor and its stack floor (default 15)",
    )
    parser.add_argument(
        "--only",
        choices=["cold", "intake", "measurement", "load"],
        help="cold: measure only the cold starts and replace section 2 of the output file; "
        "intake: only the sequential intakes (--requests), section 1; "
        "measurement: only the measuring sweep at scale (10,000 posts due at once), section 4; "
        "load: only --load-requests requests driven to publication at once, section 5",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a function's cold start is over its budget",
    )
    parser.add_argument(
        "--cost-requests",
        type=int,
        default=3,
        help="timed and then counted requests per entry point, and lifecycles per lane (default 3 + 3)",
    )
    parser.add_argument(
        "--deadline", type=float, default=15.0, help="seconds to wait for any one mail or execution"
    )
    parser.add_argument(
        "--load-requests", type=int, default=200, help="requests driven to publication at once (default 200)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.cold_runs < 1 or args.cost_requests < 1 or args.deadline <= 0:
        parser.error("counts must be at least 1 and the deadline positive")
    return args


def step(message: str) -> None:
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


def failed(title: str, error: BaseException) -> list[str]:
    """A section that could not be measured, with the reason, instead of no file at all."""
    return [title, "", f"**Not measured in this run**: {type(error).__name__}: {error}"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Measure against the .pyc files that exist, and write none into the source tree (the modules
    # below are imported after this for that reason).
    sys.dont_write_bytecode = True

    if args.only == "measurement":
        return measurement_only(args, argv)
    if args.only == "load":
        return load_only(args, argv)
    if args.only == "intake":
        return intake_only(args, argv)

    # Cold starts first, before moto is even imported: a quiet machine and a small parent process.
    from benchmarks import cold_start, report
    from local.template import Stack, load

    started = time.perf_counter()
    machine = report.Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        nproc=os.cpu_count() or 0,
        platform=f"{platform.system()} {platform.machine()}",
        python=platform.python_version(),
        moto=version("moto"),
        boto3=version("boto3"),
        load_average=os.getloadavg(),
    )
    stack = Stack(load())
    globals_ = stack.template["Globals"]["Function"]
    memory_mb = int(globals_.get("MemorySize", 128))
    if globals_.get("Architectures") != ["arm64"]:
        step(f"note: template Architectures is {globals_.get('Architectures')}, priced as arm64 anyway")

    step(f"cold start: {args.cold_runs} rounds of every function's init beside its floor")
    colds, skipped, floors = cold_start.measure_functions(stack, args.cold_runs)
    for one in skipped:
        step(f"cold start: not measured {one.logical_id}: {one.reason}")
    excesses = None
    if colds:
        step("cold start: python -X importtime of every function and floor")
        excesses = cold_start.profile_excess(stack, colds)
    cold_lines = report.cold_start_section(colds, skipped, floors, args.cold_runs, excesses)
    cold_ok = bool(colds) and all(c.passes for c in colds)
    for c in colds:
        verdict = "pass" if c.passes else "FAIL"
        step(
            f"  {c.logical_id}: init {c.init_ms:.0f} ms, floor {c.floor_ms:.0f} ms, {c.ratio:.2f}x {verdict}"
        )
    init_ms = {stack.physical_name(c.logical_id): c.init_ms for c in colds}

    if args.only == "cold":
        command = (
            "python -m benchmarks" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
        )
        args.output.write_text(replace_section(args.output, cold_lines, command))
        print("\n".join(cold_lines))
        step(f"wrote section 2 of {args.output} in {time.perf_counter() - started:.1f} s")
        return 0 if cold_ok or not args.strict else 1

    try:
        intake_lines, cost_lines, ok = measure_locally(args, init_ms, memory_mb)
    except Exception as error:  # the runtime did not start (the tree may be mid-change)
        ok = False
        step(f"local runtime: {type(error).__name__}: {error}")
        intake_lines, cost_lines = failed(INTAKE_TITLE, error), failed(COST_TITLE, error)

    machine = dataclasses.replace(machine, load_average_end=os.getloadavg())
    command = "python -m benchmarks" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    text = report.render(
        machine, command, time.perf_counter() - started, intake_lines, cold_lines, cost_lines
    )
    args.output.write_text(text)
    print(text)
    step(f"wrote {args.output} in {time.perf_counter() - started:.1f} s")
    return 0 if ok and (cold_ok or not args.strict) else 1


def write_section(args: argparse.Namespace, argv: list[str] | None, title: str, lines: list[str]) -> None:
    """Replace the section that starts with `title` in the output file (appended if it has none)."""
    number = title.removeprefix("## ").split(".")[0]
    command = "python -m benchmarks" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    note = (
        f"*Section {number} regenerated by `{command}` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} "
        f"(load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}).*"
    )
    text = args.output.read_text() if args.output.is_file() else ""
    start = text.find(title)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + "\n".join([*lines, "", note, ""])
    else:
        end = text.find("\n## ", start + len(title))
        tail = text[end + 1 :] if end >= 0 else ""
        text = text[:start] + "\n".join([*lines, "", note, "", ""]) + tail
    args.output.write_text(text)
    print("\n".join(lines))


def measurement_only(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Section 4 alone (it needs no local runtime: the sweep on a moto table and fake networks)."""
    from benchmarks import measurement

    started = time.perf_counter()
    step(f"measurement: {measurement.POSTS:,} posts due at once (about three minutes on 2 cores)")
    write_section(args, argv, MEASUREMENT_TITLE, measurement.run())
    step(f"wrote section 4 of {args.output} in {time.perf_counter() - started:.1f} s")
    return 0


def load_only(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Section 5 alone: requests driven to publication at once on a local runtime of its own."""
    from benchmarks import load

    started = time.perf_counter()
    step(f"load: {args.load_requests} requests to publication at once")
    write_section(args, argv, LOAD_TITLE, load.run(args.load_requests))
    step(f"wrote section 5 of {args.output} in {time.perf_counter() - started:.1f} s")
    return 0


def intake_only(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Section 1 alone: sequential intakes on a local runtime of its own."""
    from benchmarks import intake, report
    from benchmarks.driver import Driver, HandlerTimer
    from local.runtime import LocalRuntime
    from tests.support import TEST_PARAMETERS

    started = time.perf_counter()
    step(f"intake: 1 warm-up + {args.requests} sequential requests")
    with LocalRuntime(port=0, schedules=False, parameters=TEST_PARAMETERS) as runtime:
        driver = Driver(runtime, HandlerTimer(runtime), args.deadline)
        lines = report.intake_section(intake.measure(driver, args.requests), args.deadline)
    write_section(args, argv, INTAKE_TITLE, lines)
    step(f"wrote section 1 of {args.output} in {time.perf_counter() - started:.1f} s")
    return 0


def replace_section(path: Path, section: list[str], command: str) -> str:
    """The file with its section 2 replaced (a whole run's file otherwise: nothing to replace)."""
    text = path.read_text() if path.is_file() else ""
    start, end = text.find(COLD_TITLE), text.find(COST_TITLE)
    note = (
        f"*Section 2 regenerated by `{command}` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} "
        f"(load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}); the other sections are from "
        "the run named above.*"
    )
    if start < 0 or end < start:
        return "\n".join([*section, "", note, ""])
    return text[:start] + "\n".join([*section, "", note, "", ""]) + text[end:]


def attempt(title: str, produce: Callable[[], list[str]]) -> tuple[list[str], bool]:
    """A section, or the reason it could not be measured (the tree may be mid-change)."""
    try:
        return produce(), True
    except Exception as error:
        step(f"{title.removeprefix('## ')}: {type(error).__name__}: {error}")
        return failed(title, error), False


def measure_locally(
    args: argparse.Namespace, init_ms: dict[str, float], memory_mb: int
) -> tuple[list[str], list[str], bool]:
    """Sections 1 and 3, on one local runtime (one per process: a single moto mock)."""
    step("starting the local runtime")
    from benchmarks import cost, intake, report
    from benchmarks.driver import Driver, HandlerTimer
    from local.runtime import LocalRuntime
    from tests.support import TEST_PARAMETERS

    def intake_lines() -> list[str]:
        step(f"intake: 1 warm-up + {args.requests} sequential requests")
        return report.intake_section(intake.measure(driver, args.requests), args.deadline)

    lifecycle_ok = True

    def cost_lines() -> list[str]:
        nonlocal lifecycle_ok
        step(f"cost: {args.cost_requests} timed + {args.cost_requests} counted requests per entry point")
        accounting = cost.Accounting(driver)
        scenarios = [
            cost.Scenario("JSON API", "POST /api/requests", driver.submit_json),
            cost.Scenario(
                "JSON API with Idempotency-Key",
                "POST /api/requests",
                lambda: driver.submit_json(idempotency_key=True),
            ),
            cost.Scenario("Request form", "POST /requests (with submission_id)", driver.submit_form),
        ]
        for scenario in scenarios:
            accounting.run(scenario, args.cost_requests)
        if accounting.dynamo.errors:
            raise RuntimeError(f"DynamoDB accounting failed: {accounting.dynamo.errors[:3]}")
        prices = cost.Prices()
        costs = [
            report.ScenarioCost(
                s,
                cost.cost_lines(s, memory_mb, prices),
                cost.cold_init_per_thousand(s.typical, init_ms, memory_mb, prices),
            )
            for s in scenarios
        ]
        try:
            lifecycles = whole_lifecycles(accounting, prices)
        except Exception as error:  # keep the entry points' figures; say why the rest is missing
            lifecycle_ok = False
            step(f"cost of a whole lifecycle: {type(error).__name__}: {error}")
            lifecycles = report.LifecycleCosts([], 0, {}, f"{type(error).__name__}: {error}")
        return report.cost_section(costs, memory_mb, args.cost_requests, lifecycles)

    def whole_lifecycles(accounting: cost.Accounting, prices: cost.Prices) -> report.LifecycleCosts:
        from benchmarks.lifecycle import FAST, FULL, Lifecycles

        lifecycles = Lifecycles(driver)
        # moto logs every stopped callback task as a failed state, with a multi-KB repr of the state.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        stopped = lifecycles.isolate()
        step(
            f"cost: stopped {stopped} waiting executions; {args.cost_requests} timed + "
            f"{args.cost_requests} counted whole lifecycles per lane"
        )
        lanes = [lifecycles.scenario(lane) for lane in (FAST, FULL)]
        for scenario in lanes:
            accounting.run(scenario, args.cost_requests)
        if accounting.dynamo.errors:
            raise RuntimeError(f"DynamoDB accounting failed: {accounting.dynamo.errors[:3]}")
        return report.LifecycleCosts(
            [
                report.ScenarioCost(
                    s,
                    cost.cost_lines(s, memory_mb, prices),
                    cost.cold_init_per_thousand(s.typical, init_ms, memory_mb, prices),
                    [
                        report.PhaseCost(p.name, p.work, cost.cost_lines(s, memory_mb, prices, p.work))
                        for p in s.typical.phases
                    ],
                )
                for s in lanes
            ],
            stopped,
            lifecycles.mails,
        )

    # One requester sends every request: the rate limits raised as the tests raise them (with the
    # template's limits the intake answers 429 after a few requests, and nothing is measured).
    with LocalRuntime(port=0, schedules=False, parameters=TEST_PARAMETERS) as runtime:
        driver = Driver(runtime, HandlerTimer(runtime), args.deadline)
        intake_section, intake_ok = attempt(INTAKE_TITLE, intake_lines)
        cost_section, cost_ok = attempt(COST_TITLE, cost_lines)
        step("stopping the local runtime (executions still waiting are stopped)")
        # moto logs every stopped callback task as a failed state, with a multi-KB repr of the state.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    return intake_section, cost_section, intake_ok and cost_ok and lifecycle_ok


if __name__ == "__main__":
    sys.exit(main())
