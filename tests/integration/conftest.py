from collections.abc import Iterator

import pytest

from local.runtime import LocalRuntime
from tests.support import Http, denied, local_runtime


# One runtime per test file: business time only moves forward, and every request an earlier test
# left waiting (reminders, snapshots, pilots) wakes on each later advance of the clock. Shared by
# the whole package, that backlog grew with every file and later files slowed down and timed out.
@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with local_runtime() as running:
        yield running


@pytest.fixture
def http(runtime: LocalRuntime) -> Http:
    return Http(runtime.base_url)


@pytest.fixture(autouse=True)
def within_policies(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every call the functions made during the test was allowed by their policies (local/iam.py)."""
    if "runtime" not in request.fixturenames:
        yield
        return
    runtime: LocalRuntime = request.getfixturevalue("runtime")
    before = len(runtime.iam.denials)
    yield
    assert not runtime.iam.denials[before:], denied(runtime.iam.denials[before:])
