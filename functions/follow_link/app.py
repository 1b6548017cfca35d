"""Tracked links: GET /r/{code} and HEAD /r/{code} answer 302 to the post's target (UTM added);
a person's GET is counted once a day, previews and HEAD are not. No templates: a 404 is static."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.web.app import redirects
from greenlight.web.routes import clicks

app = redirects(clicks.router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
