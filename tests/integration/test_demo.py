"""`make demo` keeps working: its scripted scenario runs against the local runtime."""

from local.demo import scenario
from local.runtime import LocalRuntime


def test_the_demo_scenario_runs_end_to_end(runtime: LocalRuntime) -> None:
    scenario(runtime.base_url)
