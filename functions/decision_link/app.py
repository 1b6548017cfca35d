"""Emailed links: GET /l/{link} shows what would be decided (changes nothing), POST decides once."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.web.app import pages
from greenlight.web.forms import MAX_MULTIPART
from greenlight.web.routes import links

app = pages(links.router, max_multipart=MAX_MULTIPART)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
