"""GET /requests/new shows the request form; POST /requests creates a request from it."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight import pages, web
from greenlight.observability import logger
from greenlight.service import submit_idempotent

app = APIGatewayHttpResolver()


@app.get("/")
def home() -> Response:
    return web.redirect("/requests/new")


@app.get("/requests/new")
def new_request() -> Response:
    return web.html(pages.request_form())


@app.post("/requests")
def create_request() -> Response:
    event = app.current_event
    if "application/x-www-form-urlencoded" not in (event.headers.get("content-type") or ""):
        return web.html(pages.message("Unsupported form", "Send the form as a web form."), status=415)
    body = event.decoded_body or ""
    if len(body) > web.MAX_BODY:
        return web.html(pages.message("Too long", "This request is too large to accept."), status=413)
    typed, request, errors = web.request_from_form(body)
    if request is None:
        return web.html(pages.request_form(typed, errors, typed.get("submission_id")), status=422)
    created = submit_idempotent(request, web.base_url(event), typed.get("submission_id"), app.lambda_context)
    return web.redirect(created["status_url"])


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
