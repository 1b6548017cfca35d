"""The JSON API's OpenAPI document: generated from the routes, committed as docs/openapi.json,
and describing what integrations rely on (the request body, the answers, the error shape)."""

import json
from typing import Any

from greenlight.web.routes.api import document

from tests.contract import project

COPY = project.ROOT / "docs" / "openapi.json"


def _generated() -> dict[str, Any]:
    generated: dict[str, Any] = json.loads(document())
    return generated


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        resolved: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return resolved
    return schema


def _json_schema(spec: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return _resolve(spec, answer["content"]["application/json"]["schema"])


def test_docs_openapi_json_is_the_generated_document() -> None:
    assert COPY.is_file(), "docs/openapi.json is missing: run `make openapi`"
    assert json.loads(COPY.read_text()) == _generated(), (
        "docs/openapi.json is stale: the API's routes changed. Run `make openapi` and commit the result"
    )


def test_document_describes_creating_a_request() -> None:
    spec = _generated()
    create = spec["paths"]["/api/requests"]["post"]
    body = _resolve(spec, create["requestBody"]["content"]["application/json"]["schema"])
    assert body["title"] == "RequestInput" and {"title", "requester", "goal", "channels"} <= set(
        body["properties"]
    ), "the request body is not the RequestInput schema"
    created = _json_schema(spec, create["responses"]["201"])
    assert set(created["properties"]) == {"id", "status", "status_url"}, created
    for status in ("400", "413", "422"):
        errors = _json_schema(spec, create["responses"][status])
        item = _resolve(spec, errors["properties"]["errors"]["items"])
        assert set(item["properties"]) == {"field", "message"}, f"{status} does not have the errors shape"
    headers = {p["name"].lower() for p in create.get("parameters", []) if p["in"] == "header"}
    assert "idempotency-key" in headers, "the Idempotency-Key header is not described"


def test_document_describes_reading_a_request_with_its_token() -> None:
    spec = _generated()
    read = spec["paths"]["/api/requests/{request_id}"]["get"]
    where = {(p["in"], p["name"]) for p in read["parameters"]}
    assert {("path", "request_id"), ("query", "token")} <= where, where
    answer = _json_schema(spec, read["responses"]["200"])
    assert {"id", "status", "request", "history"} <= set(answer["properties"]), answer
    assert "404" in read["responses"]


def test_document_describes_only_the_json_api() -> None:
    assert set(_generated()["paths"]) == {"/api/requests", "/api/requests/{request_id}", "/api/uploads"}
