"""Schemathesis against the JSON API of the running local Greenlight, as its OpenAPI document
(GET /api/openapi.json) describes it: cases generated from the document, valid and invalid
(negative mode), sent over HTTP; at least 1,000 a run (FUZZ_CASES scales it), the count printed,
and no answer is a 5xx. tests/integration/test_fuzz.py covers the pages and forms."""

import os
from collections import Counter
from functools import cache
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from local.runtime import LocalRuntime
from tests.support import Answer, Http

SCALE = float(os.environ.get("FUZZ_CASES", "1"))
CASES, MINIMUM = int(1100 * SCALE), int(1000 * SCALE)
SENT: Counter[str] = Counter()
SERVER_ERRORS: list[str] = []


@cache
def operations(base_url: str) -> list[Any]:
    """The document's operations as the running API serves them."""
    schema = schemathesis.openapi.from_dict(Http(base_url).get("/api/openapi.json").json())
    found = [result.ok() for result in schema.get_all_operations()]
    assert found, "the OpenAPI document lists no operations"
    return found


@settings(
    max_examples=CASES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_cases_from_the_openapi_document_never_get_a_5xx(runtime: LocalRuntime, data: Any) -> None:
    operation = data.draw(st.sampled_from(operations(runtime.base_url)), label="operation")
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]), label="mode")
    case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
    answer = send(runtime.base_url, case)
    SENT[operation.label] += 1
    if answer.status >= 500:
        SERVER_ERRORS.append(f"{operation.label} ({mode.value}): {answer.status} {answer.body[:200]!r}")
    assert answer.status < 500, SERVER_ERRORS[-1]


def send(base_url: str, case: Any) -> Answer:
    """The case as schemathesis would send it, over urllib: moto intercepts `requests` to this
    runtime's address (it serves S3 there, docs/local-runtime.md)."""
    prepared = requests.Request(**case.as_transport_kwargs(base_url=base_url)).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    return Http(base_url).request(prepared.method or "GET", prepared.url or "", body, dict(prepared.headers))


def test_the_run_sent_at_least_a_thousand_cases() -> None:
    """Runs after the test above (file order): the count of a real run, printed."""
    total = sum(SENT.values())
    print(f"schemathesis: {total} cases, {dict(SENT)}, {len(SERVER_ERRORS)} 5xx")
    assert total >= MINIMUM, f"only {total} cases were sent"
    assert not SERVER_ERRORS
