"""The weekly report page for the signed-in team (GET /reports/weekly/{week}), its CSV, its charts
as PNG (also shown on the dashboard) and the lead's note for the digest."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.web.app import pages
from greenlight.web.routes import reports

app = pages(reports.router)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
