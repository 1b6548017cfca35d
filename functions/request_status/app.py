"""GET /requests/{id}?token=… the requester's status page."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.web.app import pages
from greenlight.web.routes import requests

app = pages(requests.status)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
