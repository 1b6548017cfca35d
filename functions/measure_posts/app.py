"""Scheduled: take every metric snapshot that has fallen due, a network batch at a time, and the
result against the goal when a request's last snapshot is in."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.observability import logger
from greenlight.service import channel, mailer, store
from greenlight.steps import MeasurePostsInput


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    parsed = MeasurePostsInput.model_validate(event)
    # The metrics models are built on the first run, not at import (every run uses them).
    from greenlight.measurement import MAX_PER_RUN, measure_posts

    return measure_posts(
        store(),
        channel,
        mailer(),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        limit=parsed.limit or MAX_PER_RUN,
    ).model_dump(mode="json")
