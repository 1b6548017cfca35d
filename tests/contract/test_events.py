"""Sample events (events/<function folder>/*.json) are the functions' inputs as AWS sends them.

Each one must parse into the model its function parses (API Gateway HTTP API payload 2.0 for HTTP
functions, the @event_parser model for state machine steps and schedules), every function has at
least one, and the samples stay realistic enough to invoke with `sam local invoke -e`.

Bodies of the create-request routes are checked against greenlight.models.RequestInput at the moment
the event says it was sent (requestContext.timeEpoch), so they never go stale. A sample whose file
name contains "invalid" or "error" must be rejected; every other one must be accepted."""

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.parser import parse
from greenlight import clock
from greenlight.ids import is_request_id
from greenlight.links import looks_like_token
from greenlight.models import RequestInput
from greenlight.web import forms
from pydantic import ValidationError

from tests.contract import project

EVENT_FILES = project.event_files()
FOLDERS = project.function_folders()
# The routes whose body is a RequestInput, and how the body is encoded.
CREATE_ROUTES = {"POST /api/requests": "json", "POST /requests": "form"}
# What a path parameter holds: {id} a request id, {link} an emailed link's token.
PATH_PARAMETER_KINDS = {"id": "request id", "link": "token"}


def _id(path: Path) -> str:
    return path.relative_to(project.EVENTS).as_posix()


def _http_samples() -> list[Path]:
    return [
        path
        for path in EVENT_FILES
        if isinstance(event := project.read_event(path), dict)
        and event.get("version") == "2.0"
        and "routeKey" in event
    ]


def _expected_invalid(path: Path) -> bool:
    return "invalid" in path.stem or "error" in path.stem


def _body(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    return base64.b64decode(body).decode() if event.get("isBase64Encoded") else body


def _sent_at(event: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(event["requestContext"]["timeEpoch"] / 1000, UTC)


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_function_has_a_sample_event(folder: str) -> None:
    samples = [p for p in EVENT_FILES if project.event_folder(p) == folder]
    assert samples, (
        f"functions/{folder} has no sample event: add events/{folder}/<name>.json with an event as AWS "
        "sends it to this function"
    )


def test_every_sample_event_belongs_to_a_function() -> None:
    orphans = [
        _id(p)
        for p in EVENT_FILES
        if len(p.relative_to(project.EVENTS).parts) != 2 or project.event_folder(p) not in FOLDERS
    ]
    assert not orphans, (
        f"sample events outside events/<function folder>/, or for a function that does not exist: {orphans}"
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_function_declares_what_its_events_parse_into(folder: str) -> None:
    try:
        contract = project.event_contract(folder)
    except LookupError as error:
        pytest.fail(str(error))
    assert isinstance(contract.model, type), f"functions/{folder}: event_parser's model is not a class"


@pytest.mark.parametrize("path", EVENT_FILES, ids=_id)
def test_sample_event_parses_into_its_function_model(path: Path) -> None:
    folder = project.event_folder(path)
    if folder not in FOLDERS:
        pytest.fail(f"events/{_id(path)}: there is no functions/{folder} to parse it for")
    try:
        contract = project.event_contract(folder)
    except LookupError as error:
        pytest.fail(f"events/{_id(path)}: {error}")
    event = project.read_event(path)
    try:
        parse(event=event, model=contract.model, envelope=contract.envelope)
    except Exception as error:  # the parser wraps ValidationError in its own exception
        pytest.fail(
            f"events/{_id(path)} does not parse into {contract.model.__name__}, which "
            f"functions/{folder} expects:\n{error}"
        )


@pytest.mark.parametrize(
    "folder",
    [
        f
        for f in FOLDERS
        if project.function_for_folder().get(f) and project.http_events(project.function_for_folder()[f])
    ],
)
def test_http_functions_resolve_api_gateway_payload_format_2(folder: str) -> None:
    logical_id = project.function_for_folder()[folder]
    module = project.app_module(folder)
    resolvers = [v for v in vars(module).values() if isinstance(v, APIGatewayHttpResolver)]
    assert resolvers, (
        f"functions/{folder}/app.py serves HttpApi routes but has no APIGatewayHttpResolver: HTTP API "
        "events are payload format 2.0"
    )
    for name, event in project.http_events(logical_id).items():
        version = str(event.get("Properties", {}).get("PayloadFormatVersion", "2.0"))
        assert version == "2.0", f"{logical_id} event {name} asks for payload format {version}, not 2.0"


@pytest.mark.parametrize("path", _http_samples(), ids=_id)
def test_http_sample_is_a_consistent_payload_2_request_for_its_route(path: Path) -> None:
    event = project.read_event(path)
    name = f"events/{_id(path)}"
    logical_id = project.function_for_folder().get(project.event_folder(path))
    routes = {key for key, owners in project.http_routes().items() if logical_id in owners}
    assert event["routeKey"] in routes, (
        f"{name}: routeKey {event['routeKey']!r} is not a route of {logical_id}; "
        f"its routes are {sorted(routes)}"
    )
    context, http = event["requestContext"], event["requestContext"]["http"]
    method, template_path = event["routeKey"].split(" ", 1)
    problems = []
    if context.get("routeKey") != event["routeKey"]:
        problems.append("requestContext.routeKey differs from routeKey")
    if http.get("method") != method:
        problems.append(f"requestContext.http.method is {http.get('method')}, the route's method is {method}")
    if http.get("path") != event["rawPath"]:
        problems.append("requestContext.http.path differs from rawPath")
    match = _route_pattern(template_path).match(event["rawPath"])
    if match is None:
        problems.append(f"rawPath {event['rawPath']!r} does not match the route {template_path!r}")
    elif (event.get("pathParameters") or {}) != match.groupdict():
        problems.append(f"pathParameters {event.get('pathParameters')} should be {match.groupdict() or None}")
    if context.get("stage") != "$default":
        problems.append("an HttpApi without stages calls its functions with stage '$default'")
    upper = [h for h in event["headers"] if h != h.lower()]
    if upper:
        problems.append(f"HTTP APIs lower-case header names: {upper}")
    if "cookie" in event["headers"]:
        problems.append("payload 2.0 moves Cookie headers into the cookies list")
    if context.get("domainName") != event["headers"].get("host"):
        problems.append("requestContext.domainName differs from the host header")
    query = dict(parse_qsl(event["rawQueryString"], keep_blank_values=True))
    if (event.get("queryStringParameters") or {}) != query:
        problems.append(f"queryStringParameters should be {query or None}, as rawQueryString says")
    time_text = _sent_at(event).strftime("%d/%b/%Y:%H:%M:%S +0000")
    if context.get("time") != time_text:
        problems.append(f"requestContext.time should be {time_text!r} to match timeEpoch")
    raw_body = event.get("body")
    if raw_body is not None:
        if "content-type" not in event["headers"]:
            problems.append("a body without a content-type header")
        length = event["headers"].get("content-length")
        if length is not None and int(length) != len(_body(event).encode()):
            problems.append(f"content-length {length} but the body has {len(_body(event).encode())} bytes")
        content_type = event["headers"].get("content-type", "")
        if content_type.startswith(("text/", "application/json")) and event.get("isBase64Encoded"):
            problems.append(
                f"API Gateway passes {content_type} bodies as text: isBase64Encoded should be false"
            )
    assert not problems, f"{name} is not what API Gateway would send:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("key", sorted(project.http_routes()))
def test_every_http_route_has_a_sample_event(key: str) -> None:
    samples = [_id(p) for p in _http_samples() if project.read_event(p)["routeKey"] == key]
    assert samples, f"no sample event for the route {key}: add one under events/<function folder>/"


def _identifiers(value: Any, where: str = "") -> list[tuple[str, str, str]]:
    """(where, kind, value) for every request id and token in an event."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "request_id" and isinstance(item, str):
                found.append((f"{where}{key}", "request id", item))
            else:
                found += _identifiers(item, f"{where}{key}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _identifiers(item, f"{where}{index}.")
    return found


@pytest.mark.parametrize("path", EVENT_FILES, ids=_id)
def test_sample_ids_and_tokens_have_the_shapes_the_code_accepts(path: Path) -> None:
    """A sample with a malformed id or token only ever reaches the 'not found' branch."""
    event = project.read_event(path)
    found = _identifiers(event)
    if isinstance(event, dict) and event.get("version") == "2.0" and "routeKey" in event:
        found = []  # HTTP samples: ids and links are path parameters, the status token a query parameter
        for name, value in (event.get("pathParameters") or {}).items():
            if name in PATH_PARAMETER_KINDS:
                found.append((f"pathParameters.{name}", PATH_PARAMETER_KINDS[name], value))
        if "token" in (event.get("queryStringParameters") or {}):
            found.append(("queryStringParameters.token", "token", event["queryStringParameters"]["token"]))
    wrong = [
        f"{where} = {value!r} is not a {kind}"
        for where, kind, value in found
        if not (is_request_id(value) if kind == "request id" else looks_like_token(value))
    ]
    assert not wrong, (
        f"events/{_id(path)}: "
        + "; ".join(wrong)
        + (" (request ids: yyyymmdd-<8 of abcdefghjkmnpqrstuvwxyz23456789>; tokens: 43 URL-safe characters)")
    )


def _create_samples() -> list[Path]:
    return [p for p in _http_samples() if project.read_event(p)["routeKey"] in CREATE_ROUTES]


@pytest.mark.parametrize("key", sorted(CREATE_ROUTES))
def test_create_request_routes_have_a_valid_and_an_invalid_sample(key: str) -> None:
    samples = [p for p in _create_samples() if project.read_event(p)["routeKey"] == key]
    assert any(not _expected_invalid(p) for p in samples), f"no sample for {key} with a valid request"
    assert any(_expected_invalid(p) for p in samples), (
        f"no sample for {key} with an invalid request (name it *invalid* or *with_errors*)"
    )


@pytest.mark.parametrize("path", _create_samples(), ids=_id)
def test_create_request_sample_body_is_accepted_or_rejected_as_its_name_says(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = project.read_event(path)
    sent_at = _sent_at(event)
    monkeypatch.setattr(clock, "now", lambda: sent_at)  # validate as of when the sample was sent
    if CREATE_ROUTES[event["routeKey"]] == "json":
        try:
            payload = json.loads(_body(event))
        except json.JSONDecodeError as error:
            pytest.fail(
                f"events/{_id(path)}: the body is not JSON ({error}); the API would answer 400, not 422"
            )
    else:
        _typed, payload = forms.read_form(_body(event))
    try:
        RequestInput.model_validate(payload)
    except ValidationError as error:
        if not _expected_invalid(path):
            pytest.fail(
                f"events/{_id(path)}: the body is not a valid RequestInput as of {sent_at:%Y-%m-%d %H:%M}Z: "
                f"{forms.field_errors(error)}"
            )
    else:
        assert not _expected_invalid(path), (
            f"events/{_id(path)} is named as an invalid request, but RequestInput accepts its body"
        )
