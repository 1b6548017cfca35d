"""`make run` ends on the first SIGTERM or Ctrl-C however many signals follow it: make forwards a
process-group SIGTERM to its child, so two can arrive at once, and a handler that took a lock
(`Event.set()`) once hung the process until SIGKILL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _started_runtime() -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "run", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if "Press Ctrl-C to stop." in line:
            return process
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"the local runtime did not start: {''.join(seen)}")


@pytest.mark.parametrize("signals", [[signal.SIGTERM] * 2, [signal.SIGINT, signal.SIGTERM] * 25])
def test_signals_in_quick_succession_end_the_runtime(signals: list[int]) -> None:
    process = _started_runtime()
    try:
        for signum in signals:
            os.kill(process.pid, signum)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"hung in shutdown: running 30 s after {len(signals)} signals") from None
        assert code == 0, f"exit code {code}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
