"""Scheduled: take every metric snapshot that has fallen due, a network batch at a time, and the
result against the goal when a request's last snapshot is in."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from greenlight.measurement import MAX_PER_RUN, measure_posts
from greenlight.observability import logger
from greenlight.service import channel, mailer, store
from greenlight.steps import MeasurePostsInput


@logger.inject_lambda_context
@event_parser(model=MeasurePostsInput)
def lambda_handler(event: MeasurePostsInput, context: LambdaContext) -> dict:
    return measure_posts(
        store(),
        channel,
        mailer(),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        limit=event.limit or MAX_PER_RUN,
    ).model_dump(mode="json")
