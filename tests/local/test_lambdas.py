"""local/lambdas.py: a run is counted as invoked when it starts and as completed only when it has
answered, so a test can wait for a scheduled run to be over instead of sleeping a while."""

import threading
from typing import Any

from local.faults import Faults
from local.lambdas import Functions


def test_a_run_is_completed_only_when_it_has_answered() -> None:
    functions = Functions(Faults({}))
    release, started = threading.Event(), threading.Event()

    def slow(event: dict[str, Any], context: Any) -> str:
        started.set()
        release.wait(10)
        return "done"

    def broken(event: dict[str, Any], context: Any) -> str:
        raise RuntimeError("no")

    functions.register("slow", slow, 30)
    functions.register("broken", broken, 30)
    answers: list[tuple[bool, Any]] = []
    run = threading.Thread(target=lambda: answers.append(functions.invoke("slow", {})))
    run.start()
    assert started.wait(10)
    assert functions.invocations == {"slow": 1} and functions.completed == {}, "still running"
    release.set()
    run.join(10)
    assert answers == [(True, "done")] and functions.completed == {"slow": 1}
    ok, _ = functions.invoke("broken", {})
    assert not ok and functions.completed["broken"] == functions.invocations["broken"] == 1
