"""GET /requests/new shows the request form; POST /requests creates a request from it (a web form,
or multipart with its images)."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.web.app import pages
from greenlight.web.forms import MAX_MULTIPART
from greenlight.web.routes import requests

app = pages(requests.form, max_multipart=MAX_MULTIPART)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
