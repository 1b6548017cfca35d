"""Business-time clock for the local Step Functions runtime.

Moto's ASL interpreter waits in real time: a one-week ``Wait`` state or a one-day callback
``TimeoutSeconds`` would block a test for a week or a day. ``LocalClock`` is a clock whose time can
run faster than real time (``scale``) and be jumped forward (``advance``); ``patch_moto`` makes the
interpreter's waits, timeouts and retry intervals follow it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any


class _Waiter:
    """One thread blocked in ``LocalClock.wait`` on the condition ``cond``."""

    __slots__ = ("cond", "kicked")

    def __init__(self, cond: threading.Condition) -> None:
        self.cond = cond
        self.kicked = False  # set (under ``cond``) when the clock, not the event, woke the thread


class LocalClock:
    """A thread-safe clock whose business time runs ``scale`` times faster than real time.

    ``scale=0`` freezes the clock: business time then moves only through ``advance()``, which makes
    tests deterministic.
    """

    def __init__(self, scale: float = 1.0, start: datetime | None = None) -> None:
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        if start is None:
            start = datetime.now(UTC)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=UTC)  # a naive start is taken as UTC
        self._lock = threading.Lock()
        self._scale = float(scale)
        # Business time is _base + (monotonic() - _base_real) * _scale; rebased on every change.
        self._base = start.astimezone(UTC)
        self._base_real = time.monotonic()
        self._waiters: set[_Waiter] = set()

    # -- time ---------------------------------------------------------------------------------

    def _now_locked(self) -> datetime:
        return self._base + timedelta(seconds=(time.monotonic() - self._base_real) * self._scale)

    def now(self) -> datetime:
        """Current business time, timezone-aware UTC."""
        with self._lock:
            return self._now_locked()

    @property
    def scale(self) -> float:
        return self._scale

    def set_scale(self, scale: float) -> None:
        """Change the speed of business time from now on; waiters re-check their deadlines."""
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        with self._lock:
            self._base, self._base_real = self._now_locked(), time.monotonic()
            self._scale = float(scale)
        self._kick_waiters()

    def advance(self, seconds: float) -> datetime:
        """Jump business time forward and wake every waiter so it re-checks its deadline."""
        if seconds < 0:
            raise ValueError(f"cannot move the clock backwards ({seconds} s)")
        with self._lock:
            self._base, self._base_real = self._now_locked() + timedelta(seconds=seconds), time.monotonic()
            new_now = self._base
        self._kick_waiters()
        return new_now

    def waiting(self) -> int:
        """How many threads are blocked in ``wait``/``sleep`` right now (their deadlines are fixed)."""
        with self._lock:
            return len(self._waiters)

    # -- waiting ------------------------------------------------------------------------------

    def _kick_waiters(self) -> None:
        # Lock order is always "event condition, then self._lock" (a waiter holds its condition while
        # it reads now()), so collect the conditions first and take each one without self._lock held.
        with self._lock:
            conds = {w.cond for w in self._waiters}
        for cond in conds:
            with cond, self._lock:
                for w in self._waiters:
                    if w.cond is cond:
                        w.kicked = True
                cond.notify_all()

    def wait(
        self,
        event: threading.Event,
        timeout: float | None,
        *,
        until: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait until ``event`` is set, or ``timeout`` business seconds have passed on this clock.

        Returns True if the event was set while waiting -- including a ``set()`` immediately followed by
        ``clear()``, as moto's ``Environment`` pulses ``program_state_event`` -- or if ``until()`` is
        true; False on timeout. ``until`` is evaluated while holding the event's lock, so a state change
        made before the event is pulsed can never be missed.
        """
        # threading.Event offers no way to wait for "set OR clock advanced", so wait on its private
        # condition (_cond) and read its private flag (_flag), both long stable across CPython 3 releases.
        # advance() notifies the same condition; any other plain Event.wait() on the same event may then
        # return True early, which moto's Events patched here never have.
        cond: threading.Condition = event._cond  # type: ignore[attr-defined]
        waiter = _Waiter(cond)
        with self._lock:
            deadline = None if timeout is None else self._now_locked() + timedelta(seconds=timeout)
            self._waiters.add(waiter)
        try:
            with cond:
                while True:
                    if event._flag or (until is not None and until()):  # type: ignore[attr-defined]
                        return True
                    real_timeout: float | None = None  # frozen clock or no timeout: until notified
                    if deadline is not None:
                        with self._lock:
                            remaining = (deadline - self._now_locked()).total_seconds()
                            if remaining <= 0:
                                return False
                            if self._scale > 0:
                                real_timeout = min(remaining / self._scale, threading.TIMEOUT_MAX)
                    waiter.kicked = False
                    if cond.wait(real_timeout) and not waiter.kicked:
                        return True  # notified by event.set(), even if clear() followed
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` business seconds (cut short by advance())."""
        self.wait(threading.Event(), seconds)


# -- moto ---------------------------------------------------------------------------------------

# ASL requires RFC 3339 timestamps: uppercase T, and Z or a numeric offset.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_timestamp(timestamp: object) -> datetime | None:
    """Parse an ASL Wait timestamp into an aware datetime, keeping fractions; None if invalid."""
    if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
        return None
    try:
        return datetime.fromisoformat(timestamp)  # 3.11+: accepts Z and any number of fraction digits
    except ValueError:  # e.g. month 13
        return None


class _ModuleProxy:
    """Stands in for a module global (``time``, ``threading``) inside ONE moto module: delegates
    everything to the real module except the attributes given as overrides."""

    def __init__(self, real: ModuleType, **overrides: Any) -> None:
        self._real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def patch_moto(clock: LocalClock) -> Callable[[], None]:
    """Make moto 5.2.5's Step Functions interpreter wait on ``clock``. Returns ``undo()``."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, CallbackOutcome
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    originals: list[tuple[Any, str, Any]] = []

    def replace(owner: Any, name: str, new: Any) -> None:
        originals.append((owner, name, vars(owner)[name]))  # vars(): keeps staticmethod wrappers
        setattr(owner, name, new)

    # wait_function.py: WaitFunction._wait_interval waits on env.program_state_event in real seconds,
    # measured with time.time() and int(); it drops fractions and would spin on a fractional wait.
    # Covers Seconds, SecondsPath, Timestamp, TimestampPath (and SecondsJSONata). A StopExecution
    # pulses program_state_event after changing the program state, which `until` catches.
    def _wait_interval(self: WaitFunction, env: Environment, wait_seconds: float) -> None:
        if wait_seconds > 0:
            clock.wait(env.program_state_event, wait_seconds, until=lambda: not env.is_running())

    replace(WaitFunction, "_wait_interval", _wait_interval)

    # timestamp.py: only accepts "...Z", truncates fractions, and subtracts naive local
    # datetime.now() from a naive UTC time. Accept Z or numeric offsets, keep fractions, use the clock.
    def _get_wait_seconds(self: Timestamp, env: Environment) -> float:
        self.string.eval(env=env)
        timestamp_str = env.stack.pop()
        timestamp = parse_timestamp(timestamp_str)
        if timestamp is None:
            raise FailureEventException(self._create_failure_event(env, timestamp_str))
        return (timestamp - clock.now()).total_seconds()

    replace(Timestamp, "_from_timestamp_string", staticmethod(parse_timestamp))  # literal check at parse
    replace(Timestamp, "_get_wait_seconds", _get_wait_seconds)

    # execute_state.py: ExecutionState._evaluate_with_timeout bounds a Task by TimeoutSeconds with
    # `threading.Event().wait(timeout_seconds)` in real seconds. Give that module an Event whose
    # wait() counts business seconds; every other threading name there stays the real one.
    class _ClockEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            return clock.wait(self, timeout)

    replace(execute_state, "threading", _ModuleProxy(threading, Event=_ClockEvent))

    # callback.py: CallbackEndpoint.wait (used by .waitForTaskToken's _wait_for_task_token_timeout in
    # state_task_service_callback.py, and by activity tasks) waits for SendTask* in real seconds.
    def _callback_wait(self: CallbackEndpoint, timeout: float | None = None) -> CallbackOutcome | None:
        clock.wait(self._notify_event, timeout)
        return self._outcome

    replace(CallbackEndpoint, "wait", _callback_wait)

    # retrier_decl.py: RetrierDecl._eval_body sleeps the retry interval with time.sleep (real seconds).
    replace(retrier_decl, "time", _ModuleProxy(time, sleep=clock.sleep))

    def undo() -> None:
        while originals:
            owner, name, original = originals.pop()
            setattr(owner, name, original)

    return undo
