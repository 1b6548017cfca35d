"""The JSON API: POST /api/requests creates a request, GET /api/requests/{id}?token=… reads one,
GET /api/openapi.json describes both (generated from these routes; docs/openapi.json is a copy)."""

import json
import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import Field, ValidationError

from greenlight.base import Model
from greenlight.errors import KeyReused
from greenlight.labels import STEP_LABELS
from greenlight.models import AuditEvent, RequestInput, RequestStatus
from greenlight.service import store, submit_idempotent
from greenlight.status import request_for_token
from greenlight.web.app import json_api
from greenlight.web.forms import field_errors, with_goal_error
from greenlight.web.responses import base_url, client, json_errors, json_response

router = Router()

TITLE = "Greenlight requests API"
VERSION = "1"
DESCRIPTION = (
    "Create a social media request and read it back with its history. Every error answer names "
    'each bad field: {"errors": [{"field": "goal.target", "message": "…"}]}.'
)


class Created(Model):
    id: str
    status: RequestStatus
    status_url: str


class FieldError(Model):
    field: str
    message: str


class Errors(Model):
    errors: list[FieldError]


class RequestRead(Model):
    """What GET /api/requests/{id} answers (documented here; the route writes the same fields)."""

    id: str
    status: RequestStatus
    step: str
    content_version: int
    created_at: datetime
    request: RequestInput
    history: list[AuditEvent]


def _errors(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": Errors}}}


def _error(status: int, field: str, message: str) -> Response:
    return json_errors(status, [{"field": field, "message": message}])


def _mapping(payload: Any) -> dict[str, Any]:
    return payload if isinstance(payload, dict) else {}


class NotJsonNumber(ValueError):
    """NaN, Infinity and -Infinity are not JSON (Python's reader takes them unless told not to)."""


def _no_constant(name: str) -> float:
    raise NotJsonNumber(name)


MAX_DEPTH = 32  # a request is a few levels deep


def _too_deep(body: str) -> bool:
    """Whether JSON text nests arrays and objects deeper than MAX_DEPTH, found by one pass over it, so
    the parser never recurses into a hostile body (a RecursionError in CPython 3.11 can leave the
    interpreter's depth count wrong for later work in the same thread)."""
    depth, in_string, escaped = 0, False, False
    for char in body:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _image_facts(payload: Any) -> list[dict[str, str]]:
    """The API takes images as references to files already in the images bucket (POST /api/uploads):
    what each file is (type, pixels, bytes) is read from the bucket, never taken from the client,
    so the limits are checked against the real file. Errors name the image."""
    images = _mapping(_mapping(payload).get("draft")).get("images")
    if not isinstance(images, list) or not images:
        return []
    from greenlight.media import bucket

    errors = []
    for number, image in enumerate(images, start=1):
        key = image.get("key") if isinstance(image, dict) else None
        if not isinstance(key, str) or not re.fullmatch(bucket.KEY_PATTERN, key):
            message = f"Image {number}: give the key POST /api/uploads answered (images/<sha256>)."
            errors.append({"field": "draft.images", "message": message})
            continue
        try:
            facts = bucket.facts(key)
        except ValueError as error:
            errors.append({"field": "draft.images", "message": f"Image {number}: {error}."})
            continue
        image.update(content_type=facts.content_type, width=facts.width, height=facts.height, size=facts.size)
    return errors


def _json_body(body: str) -> Any:
    """The body read as JSON, or the API's 400 answer saying why it is not."""
    if _too_deep(body):
        return _error(400, "body", "The body is nested too deeply: a request is a few levels deep.")
    try:
        return json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        return _error(400, "body", f"The body is not JSON: {error.msg} at character {error.pos}.")
    except NotJsonNumber as error:
        return _error(400, "body", f"The body is not JSON: {error} is not a number; write a finite number.")


def read_request_input(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """Fill create_request's typed arguments from the body and headers, with the API's own
    answers: 400 for what is not JSON (whatever its content type), 422 naming each bad field.
    (Powertools' validation would answer these in its own shape; a body over 64 KiB or not UTF-8
    was refused before, by greenlight.web.app.checked_request.)"""
    event = app.current_event
    payload = _json_body(event.decoded_body or "")
    if isinstance(payload, Response):
        return payload
    if image_errors := _image_facts(payload):
        return json_errors(422, image_errors)
    try:
        request = RequestInput.model_validate(payload)
    except ValidationError as error:
        return json_errors(422, with_goal_error(field_errors(error), _mapping(payload)))
    if goal_refused := with_goal_error([], _mapping(payload)):
        return json_errors(422, goal_refused)
    key = event.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 255:
        return _error(400, "Idempotency-Key", "Use a key of 1 to 255 characters, such as a UUID.")
    # The arguments Powertools calls the route with (its validation middleware fills the same
    # dict when it is on; aws-lambda-powertools is pinned, and the API's tests cover this).
    app.context["_route_args"] = {
        **app.context.get("_route_args", {}),
        "request": request,
        "idempotency_key": key,
    }
    return next_middleware(app)


@router.post(
    "/api/requests",
    summary="Create a request",
    description=(
        "Stores the request as unconfirmed and mails its requester a link to confirm their address; "
        "the lifecycle starts once they do. The answer's Location is the status link."
    ),
    operation_id="createRequest",
    enable_validation=False,  # read_request_input parses, with the API's own error answers
    middlewares=[read_request_input],
    status_code=201,
    response_description="Created: the request's id, status and secret status link",
    responses={
        201: {
            "description": "Created: the request's id, status and secret status link (also in Location)",
            "content": {"application/json": {"model": Created}},
        },
        400: _errors("The body is not JSON, or the Idempotency-Key is not 1 to 255 characters"),
        413: _errors("The body is larger than 64 KiB"),
        429: _errors("Too many requests this hour from this address or client (Retry-After: seconds)"),
        422: _errors(
            "A field is missing or wrong (each is named), or the Idempotency-Key was used for another request"
        ),
    },
)
def create_request(
    request: Annotated[RequestInput, Body(description="The request, as the form posts it")],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Makes a retry (within 24 hours) return the same request; 1 to 255 characters",
        ),
    ] = None,
) -> Response[Any]:
    try:
        event = router.current_event
        created = submit_idempotent(
            request, base_url(event), idempotency_key, router.lambda_context, client(event)
        )
    except KeyReused:
        return _error(422, "Idempotency-Key", "This key was already used for a different request.")
    return json_response(created, 201, {"Location": created["status_url"]})


class UploadAsk(Model):
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="The SHA-256 of the image file, in lower-case hex"
    )


class UploadForm(Model):
    url: str = Field(description="Where the browser posts the form (the images bucket)")
    fields: dict[str, str] = Field(description="The form's fields, in this order, before the file")
    key: str = Field(description="The image's key: name it in draft.images[].key")


NOT_JSON = "Send the body as JSON, with the header Content-Type: application/json."


def read_upload_ask(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """Fill create_upload's typed argument from a JSON body, with the API's own answers: 415 for
    another content type (text/plain, a form), 400 for what is not JSON, 422 naming the bad field.
    (Powertools' validation would answer a 415 in its own shape, read a form as the body, and fail
    with a 500 on multipart/form-data without a boundary; it runs before any middleware.)"""
    event = app.current_event
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in ("", "application/json"):
        return _error(415, "Content-Type", NOT_JSON)
    payload = _json_body(event.decoded_body or "")
    if isinstance(payload, Response):
        return payload
    try:
        ask = UploadAsk.model_validate(payload)
    except ValidationError as error:
        return json_errors(422, field_errors(error))
    app.context["_route_args"] = {**app.context.get("_route_args", {}), "ask": ask}
    return next_middleware(app)


@router.post(
    "/api/uploads",
    summary="Upload an image straight to storage",
    description=(
        "Answers a presigned POST for one image: post `fields` and then the file (as `file`) as "
        "multipart/form-data to `url` within ten minutes, then name `key` with its alt text in "
        "draft.images of POST /api/requests. The file is checked against its hash and every chosen "
        "network's limits when the request is created."
    ),
    operation_id="createUpload",
    enable_validation=False,  # read_upload_ask parses, with the API's own error answers
    middlewares=[read_upload_ask],
    status_code=201,
    responses={
        201: {"description": "The upload form", "content": {"application/json": {"model": UploadForm}}},
        400: _errors("The body is not JSON (or not UTF-8)"),
        413: _errors("The body is larger than 64 KiB"),
        415: _errors("The body is not sent as application/json"),
        422: _errors("The sha256 is missing or not 64 lower-case hex digits"),
    },
)
def create_upload(ask: Annotated[UploadAsk, Body()]) -> Response[Any]:
    from greenlight.media import bucket

    return json_response(bucket.upload_form(ask.sha256), 201)


@router.get(
    "/api/requests/<request_id>",
    summary="Read a request and its history",
    operation_id="readRequest",
    responses={
        200: {
            "description": "The request and its history",
            "content": {"application/json": {"model": RequestRead}},
        },
        404: _errors("No request with this id and token (the two are indistinguishable on purpose)"),
        422: _errors("A parameter is malformed (each is named)"),
    },
)
def read_request(
    request_id: str,
    token: Annotated[str | None, Query(description="The secret from the request's status link")] = None,
) -> Response[Any]:
    stored, history = request_for_token(store(), request_id, token)
    return json_response(
        {
            "id": stored.id,
            "status": stored.status.value,
            "step": STEP_LABELS[stored.status],
            "content_version": stored.content_version,
            "created_at": stored.created_at.isoformat(),
            "request": stored.request.model_dump(mode="json"),
            "history": [event.model_dump(mode="json") for event in history],
        }
    )


@router.get("/api/openapi.json", include_in_schema=False)
def openapi() -> Response[Any]:
    return json_response(json.loads(document()))


@cache
def resolver() -> APIGatewayHttpResolver:
    """The RequestsApi function's resolver (one per process: the router serves a single resolver)."""
    return json_api(router)


def document() -> str:
    """The OpenAPI document of this API, as generated from the routes above."""
    return resolver().get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)
