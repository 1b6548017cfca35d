"""Lifecycle step "Publish post": one channel, exactly once (ChannelUnavailable is retried by the ASL)."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.publishing import publish_post
from greenlight.service import channels_config, mailer, store
from greenlight.steps import PublishPostInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    step = PublishPostInput.model_validate(event)
    return publish_post(step.request_id, step.channel, store(), channels_config(), mailer()).model_dump(
        mode="json"
    )
