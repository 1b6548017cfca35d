"""Lifecycle step "Publish post": one channel, exactly once (ChannelUnavailable is retried by the ASL)."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import publish_post
from greenlight.service import channels_config, mailer, store
from greenlight.steps import PublishPostInput


@logger.inject_lambda_context
@event_parser(model=PublishPostInput)
def lambda_handler(event: PublishPostInput, context: LambdaContext) -> dict:
    return publish_post(event.request_id, event.channel, store(), channels_config(), mailer()).model_dump(
        mode="json"
    )
