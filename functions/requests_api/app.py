"""The JSON API: POST /api/requests creates a request, GET /api/requests/{id}?token=… reads one."""

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight import web
from greenlight.errors import NotFound
from greenlight.labels import STEP_LABELS
from greenlight.models import RequestInput
from greenlight.observability import logger
from greenlight.service import store, submit_idempotent
from greenlight.status import request_for_token
from pydantic import ValidationError

app = APIGatewayHttpResolver()


def _error(status: int, field: str, message: str) -> Response:
    return web.json_response({"errors": [{"field": field, "message": message}]}, status)


@app.post("/api/requests")
def create_request() -> Response:
    event = app.current_event
    body = event.decoded_body or ""
    if len(body) > web.MAX_BODY:
        return _error(413, "body", "The request is larger than 64 KiB.")
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as error:
        return _error(400, "body", f"The body is not JSON: {error.msg} at character {error.pos}.")
    try:
        request = RequestInput.model_validate(payload)
    except ValidationError as error:
        return web.json_response({"errors": web.field_errors(error)}, 422)
    key = event.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 255:
        return _error(400, "Idempotency-Key", "Use a key of 1 to 255 characters, such as a UUID.")
    try:
        created = submit_idempotent(request, web.base_url(event), key, app.lambda_context)
    except IdempotencyValidationError:
        return _error(422, "Idempotency-Key", "This key was already used for a different request.")
    return web.json_response(created, 201, {"Location": created["status_url"]})


@app.get("/api/requests/<request_id>")
def read_request(request_id: str) -> Response:
    try:
        stored, history = request_for_token(
            store(), request_id, app.current_event.get_query_string_value("token")
        )
    except NotFound:
        return _error(404, "id", "No request with this id and token.")
    return web.json_response(
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


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
