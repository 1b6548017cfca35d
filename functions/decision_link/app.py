"""Emailed links: GET /l/{link} shows what would be decided (changes nothing), POST decides once."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight import link_pages, web
from greenlight.observability import logger
from greenlight.service import sfn, store

app = APIGatewayHttpResolver()


@app.get("/l/<token>")
def show_link(token: str) -> Response:
    return link_pages.show(store(), token)


@app.post("/l/<token>")
def use_link(token: str) -> Response:
    event = app.current_event
    return link_pages.use(store(), sfn(), token, event.decoded_body or "", web.base_url(event))


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
