"""One logger for the whole service (Powertools: structured JSON, service name from the environment),
and the business metrics operators alarm on (Powertools Metrics, CloudWatch embedded metric format:
one JSON line in the function's log, no API call)."""

from aws_lambda_powertools import Logger

logger = Logger()

NAMESPACE = "Greenlight"  # template.yaml's alarms read the same namespace
# The business events, by metric name (template.yaml's alarms and docs/RELIABILITY.md use them).
REQUESTS = "RequestsSubmitted"
DECISIONS = "Decisions"
TIME_TO_DECISION = "TimeToDecision"  # seconds from asking reviewers to the review's outcome
POSTS = "PostsPublished"
PUBLISH_FAILURES = "PublishFailures"  # a channel refused, or a post needs a person's check
FAILED_EXECUTIONS = "FailedExecutions"


def record_metric(name: str, value: float = 1, seconds: bool = False) -> None:
    """Emit one business metric now (a count, or seconds), unless POWERTOOLS_METRICS_DISABLED says
    not to (Powertools' own switch, which single_metric ignores). Powertools' metrics load on the
    first event, not at import: most invocations emit none."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        return

    unit = MetricUnit.Seconds if seconds else MetricUnit.Count
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=logger.service)
