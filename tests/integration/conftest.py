from collections.abc import Iterator

import pytest

from local.runtime import LocalRuntime
from tests.support import Http, local_runtime


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    with local_runtime() as running:
        yield running


@pytest.fixture
def http(runtime: LocalRuntime) -> Http:
    return Http(runtime.base_url)
