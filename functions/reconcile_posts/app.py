"""Scheduled: settle unconfirmed posts, asking each network before anything is published again."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import reconcile_posts
from greenlight.service import channels_config, mailer, store
from greenlight.steps import ScheduledEvent


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    ScheduledEvent.model_validate(event)
    return reconcile_posts(store(), channels_config(), mailer()).model_dump(mode="json")
