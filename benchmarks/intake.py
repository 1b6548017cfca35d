"""Intake latency on the local runtime: sequential POST /api/requests, each followed to its
acknowledgement mail and until its execution has ended or waits for a person, before the next."""

import gc
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from benchmarks.driver import Driver
from benchmarks.stats import Summary


@dataclass(frozen=True)
class Sample:
    to_201_ms: float
    to_mail_ms: float
    to_settled_ms: float
    outcome: str  # SUCCEEDED, or where the execution waits


@dataclass
class GcPauses:
    """Garbage collections while measuring (gc.callbacks): (generation, milliseconds) each."""

    pauses: list[tuple[int, float]] = field(default_factory=list)
    _started: float = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((int(info["generation"]), (time.perf_counter() - self._started) * 1000))

    def __enter__(self) -> "GcPauses":
        gc.callbacks.append(self._callback)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        gc.callbacks.remove(self._callback)

    def of_generation(self, generation: int) -> list[float]:
        return [ms for g, ms in self.pauses if g == generation]

    @property
    def total_ms(self) -> float:
        return sum(ms for _, ms in self.pauses)


@dataclass(frozen=True)
class IntakeResult:
    warmup: Sample  # the first request: lazy clients, first template render, first execution
    samples: list[Sample]
    wall_seconds: float  # first POST to last settled execution of the measured requests
    handler_ms: dict[str, Summary]  # per function, measured requests only: wall time
    handler_cpu_ms: dict[str, Summary]  # the same, CPU time of the handler's thread
    handler_errors: list[str]  # "function: ErrorType: message" of every failed (and retried) invocation
    gc: GcPauses  # during the measured requests

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.wall_seconds

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(s.outcome for s in self.samples)

    def summary(self, field: str) -> Summary:
        return Summary.of([getattr(s, field) for s in self.samples])


def _one(driver: Driver) -> Sample:
    submitted = driver.submit_json()
    mailed, settled = driver.follow(submitted)
    return Sample(
        to_201_ms=(submitted.answered - submitted.started) * 1000,
        to_mail_ms=(mailed - submitted.started) * 1000,
        to_settled_ms=(settled.at - submitted.started) * 1000,
        outcome=settled.outcome,
    )


def measure(driver: Driver, requests: int) -> IntakeResult:
    timer = driver.timer
    warmup = _one(driver)
    mark = timer.mark()
    with GcPauses() as pauses:
        started = time.perf_counter()
        samples = [_one(driver) for _ in range(requests)]
        wall = time.perf_counter() - started
    wall_ms: dict[str, list[float]] = {}
    cpu_ms: dict[str, list[float]] = {}
    invocations = timer.since(mark)
    for invocation in invocations:
        wall_ms.setdefault(invocation.function, []).append(invocation.ms)
        cpu_ms.setdefault(invocation.function, []).append(invocation.cpu_ms)
    return IntakeResult(
        warmup,
        samples,
        wall,
        {name: Summary.of(values) for name, values in sorted(wall_ms.items())},
        {name: Summary.of(values) for name, values in sorted(cpu_ms.items())},
        [f"{i.function}: {i.error}" for i in invocations if not i.ok],
        pauses,
    )
