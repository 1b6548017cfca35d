"""The social team's dashboard: sign-in by emailed link, the queue, each request's history, triage."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight import team_pages, web
from greenlight.observability import logger
from greenlight.service import mailer, sfn, store

app = APIGatewayHttpResolver()


@app.get("/team")
def dashboard() -> Response:
    return team_pages.dashboard(store(), app.current_event.cookies or [])


@app.post("/team/sign-in")
def sign_in() -> Response:
    event = app.current_event
    return team_pages.sign_in(store(), mailer(), event.decoded_body or "", web.base_url(event))


@app.post("/team/sign-out")
def sign_out() -> Response:
    event = app.current_event
    return team_pages.sign_out(store(), event.cookies or [], event.decoded_body or "")


@app.get("/team/requests/<request_id>")
def request_detail(request_id: str) -> Response:
    return team_pages.request_detail(store(), app.current_event.cookies or [], request_id)


@app.post("/team/requests/<request_id>/triage")
def triage(request_id: str) -> Response:
    event = app.current_event
    return team_pages.triage(store(), sfn(), event.cookies or [], request_id, event.decoded_body or "")


@app.post("/team/requests/<request_id>/schedule")
def reschedule(request_id: str) -> Response:
    event = app.current_event
    return team_pages.reschedule(store(), sfn(), event.cookies or [], request_id, event.decoded_body or "")


@app.post("/team/requests/<request_id>/cancel")
def cancel(request_id: str) -> Response:
    event = app.current_event
    return team_pages.cancel(store(), sfn(), event.cookies or [], request_id, event.decoded_body or "")


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
