"""Scheduled, Monday from 09:00 team time every 15 minutes: the lead's draft link, then the weekly
digest to the distribution list, with the lead's note or at the note window's end without one."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import mailer, store
from greenlight.steps import ScheduledEvent


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    ScheduledEvent.model_validate(event)
    # The figures, charts (Pillow) and mail come with the first run, not at import.
    from greenlight.reports.digest import configured, run_weekly_digest

    return run_weekly_digest(store=store(), mailer=mailer(), settings=configured()).model_dump(mode="json")
