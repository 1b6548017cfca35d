"""The JSON API: POST /api/requests creates a request, GET /api/requests/{id}?token=… reads one,
GET /api/openapi.json describes both."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.web.routes import api

app = api.resolver()


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
