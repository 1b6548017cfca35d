"""Scheduled, daily: each configured channel account's followers and posts, and the team's
celebration mail when the followers pass a milestone."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.accounts import parse_milestones
from greenlight.config import settings
from greenlight.observability import logger
from greenlight.service import channels_config, mailer, store
from greenlight.snapshot_accounts import snapshot_accounts
from greenlight.steps import ScheduledEvent


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    ScheduledEvent.model_validate(event)
    return snapshot_accounts(
        store=store(),
        config=channels_config(),
        mailer=mailer(),
        milestones=parse_milestones(settings().follower_milestones),
    ).model_dump(mode="json")
