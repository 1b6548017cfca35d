"""The social team's dashboard: sign-in by emailed link, the queue, each request's history, triage,
and the decision after a pilot's verdict."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.web.app import pages
from greenlight.web.forms import MAX_MULTIPART
from greenlight.web.routes import team

app = pages(team.router, max_multipart=MAX_MULTIPART)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
