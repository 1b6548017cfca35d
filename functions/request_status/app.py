"""GET /requests/{id}?token=… the requester's status page."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight import pages, web
from greenlight.errors import NotFound
from greenlight.observability import logger
from greenlight.service import store
from greenlight.status import request_for_token

app = APIGatewayHttpResolver()


@app.get("/requests/<request_id>")
def request_status(request_id: str) -> Response:
    token = app.current_event.get_query_string_value("token")
    try:
        stored, history = request_for_token(store(), request_id, token)
    except NotFound:
        text = "This link does not open a request. Use the newest link from your Greenlight mail."
        return web.html(pages.message("Request not found", text), status=404)
    return web.html(pages.request_status(stored, history))


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
