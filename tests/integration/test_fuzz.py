"""Generated bad input (hypothesis) against the running local Greenlight over HTTP: the JSON API,
the request form, the emailed-link pages, the team's sign-in and dashboard forms, and the status
pages. Whatever arrives, the answer is never a 5xx. Each run sends at least 1,000 cases and prints
how many (FUZZ_CASES scales it)."""

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Http, sample_form, sample_request

SCALE = float(os.environ.get("FUZZ_CASES", "1"))
SETTINGS = settings(
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SENT: Counter[str] = Counter()
SERVER_ERRORS: list[str] = []

# Text an attacker reaches for: controls, line breaks, bidi overrides, surrogates-free odd planes.
hostile_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\n",
            "\r\n",
            "\x00",
            "²",
            "1e400",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "0x10",
            "-1",
            "9" * 400,
            "<script>",
            "{{7*7}}",
            "'; DROP TABLE",
            "\u202e",
            "a" * 70_000,
            "%00",
            "../../etc/passwd",
            "é" * 5000,
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | hostile_text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(hostile_text, inner, max_size=5),
    max_leaves=20,
)
REQUEST_FIELDS = [
    "title",
    "requester",
    "purpose",
    "audience",
    "key_message",
    "call_to_action",
    "goal",
    "channels",
    "publish_window",
    "time_sensitivity",
    "draft",
    "risk_flags",
    "pilot_requested",
    "unknown",
]
FORM_NAMES = [name for name, _ in sample_form()] + [
    "goal.target",
    "draft.link",
    "csrf",
    "version",
    "x.y.z",
    "",
]


def post(http: Http, what: str, path: str, body: bytes, content_type: str, **headers: str) -> None:
    answer = http.request("POST", path, body, {"content-type": content_type, **headers})
    SENT[what] += 1
    if answer.status >= 500:
        SERVER_ERRORS.append(f"{answer.status} POST {path} {body[:2000]!r}")


def get(http: Http, what: str, path: str) -> None:
    answer = http.get(path)
    SENT[what] += 1
    if answer.status >= 500:
        SERVER_ERRORS.append(f"{answer.status} GET {path}")


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    total = sum(SENT.values())
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    line = f"fuzz: {total} cases ({dict(SENT)}), {len(SERVER_ERRORS)} answered 5xx"
    terminal.write_line(line) if terminal else print(line)
    assert total >= 1000 * SCALE, f"only {total} cases ran"
    assert not SERVER_ERRORS, SERVER_ERRORS[:5]


def cases(n: int) -> settings:
    return settings(SETTINGS, max_examples=int(n * SCALE))


@cases(250)
@given(field=st.sampled_from(REQUEST_FIELDS), value=json_values)
def test_api_with_one_field_replaced(http: Http, field: str, value: Any) -> None:
    payload = sample_request(title="Fuzzed") | {field: value}
    # Mostly invalid by design; a valid one would start a workflow, so keep the valid ones rare.
    payload.pop("title") if field != "title" else None
    post(http, "api", "/api/requests", json.dumps(payload).encode(), "application/json")


@cases(150)
@given(body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=300)))
def test_api_with_any_body(http: Http, body: bytes) -> None:
    post(http, "api", "/api/requests", body, "application/json")


@cases(100)
@given(
    body=st.binary(max_size=200),
    content_type=st.sampled_from(["application/json", "text/plain", "application/octet-stream", "x/y", ""]),
    key=st.one_of(st.none(), st.text(max_size=300).filter(lambda k: "\n" not in k and "\r" not in k)),
)
def test_api_with_odd_content_types_and_keys(
    http: Http, body: bytes, content_type: str, key: str | None
) -> None:
    headers = {"idempotency-key": quote(key)} if key is not None else {}
    post(http, "api", "/api/requests", body, content_type, **headers)


@cases(250)
@given(changes=st.lists(st.tuples(st.sampled_from(FORM_NAMES), hostile_text), min_size=1, max_size=4))
def test_request_form_with_fields_changed(http: Http, changes: list[tuple[str, str]]) -> None:
    fields = dict(sample_form(title="x"))  # a title too short: never stored
    fields.update(changes)
    post(
        http,
        "form",
        "/requests",
        urlencode(list(fields.items())).encode(),
        "application/x-www-form-urlencoded",
    )


@cases(100)
@given(body=st.binary(max_size=300))
def test_request_form_with_any_bytes(http: Http, body: bytes) -> None:
    post(http, "form", "/requests", body, "application/x-www-form-urlencoded")


@cases(150)
@given(
    token=hostile_text.filter(lambda t: t and "/" not in t and len(t) < 2000), body=st.binary(max_size=200)
)
def test_link_pages_with_any_token(http: Http, token: str, body: bytes) -> None:
    get(http, "links", "/l/" + quote(token, safe=""))
    post(http, "links", "/l/" + quote(token, safe=""), body, "application/x-www-form-urlencoded")


@cases(100)
@given(
    request_id=hostile_text.filter(lambda t: t and len(t) < 2000),
    token=hostile_text.filter(lambda t: len(t) < 2000),
)
def test_status_pages_with_any_id_and_token(http: Http, request_id: str, token: str) -> None:
    query = urlencode([("token", token)])
    get(http, "status", f"/requests/{quote(request_id, safe='')}?{query}")
    get(http, "status", f"/api/requests/{quote(request_id, safe='')}?{query}")


@cases(100)
@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from(["email", "csrf", "reason", "publish_at", "decision", "version"]), hostile_text
        ),
        max_size=4,
    )
)
def test_team_forms_with_any_fields(http: Http, fields: list[tuple[str, str]]) -> None:
    body = urlencode(fields).encode()
    form = "application/x-www-form-urlencoded"
    post(http, "team", "/team/sign-in", body, form)
    post(http, "team", "/team/requests/20261201-abcdefgh/triage", body, form, cookie="gl_session=" + "a" * 43)
