"""Scheduled: settle unconfirmed posts, asking each network before anything is published again."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import reconcile_posts
from greenlight.service import channels_config, mailer, store
from greenlight.steps import ScheduledEvent


@logger.inject_lambda_context
@event_parser(model=ScheduledEvent)
def lambda_handler(event: ScheduledEvent, context: LambdaContext) -> dict:
    return reconcile_posts(store(), channels_config(), mailer()).model_dump(mode="json")
