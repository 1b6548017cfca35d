"""Every code a person can meet has its words in greenlight.labels."""

from greenlight import labels
from greenlight.models import (
    GoalMetric,
    RequestStatus,
    ReviewOutcome,
    RiskFlag,
    Role,
    TimeSensitivity,
    TriageOutcome,
)
from greenlight.rendering import _environment

REVIEW_ROLES = [Role.on_duty, Role.brand, Role.legal, Role.comms, Role.executive]


def test_every_code_has_words() -> None:
    missing = [
        *(f"STEP_LABELS[{s}]" for s in RequestStatus if s not in labels.STEP_LABELS),
        *(f"ROLE_NAMES[{r}]" for r in REVIEW_ROLES if r not in labels.ROLE_NAMES),
        *(f"METRICS[{m}]" for m in GoalMetric if m not in labels.METRICS),
        *(f"FLAGS[{f}]" for f in RiskFlag if f not in labels.FLAGS),
        *(f"SENSITIVITIES[{t}]" for t in TimeSensitivity if t not in labels.SENSITIVITIES),
        *(f"OUTCOME_WORDS[{o}]" for o in [*TriageOutcome, *ReviewOutcome] if o not in labels.OUTCOME_WORDS),
        *(f"REVIEW_WORDS[{o}]" for o in ReviewOutcome if o not in labels.REVIEW_WORDS),
    ]
    assert not missing, f"codes without words in greenlight/labels.py: {missing}"


def test_words_are_looked_up_by_the_plain_codes_stored_items_hold() -> None:
    assert labels.OUTCOME_WORDS["accept"] == "accepted"
    assert labels.STEP_LABELS["published"] == "Published"  # type: ignore[index]


def test_stage_labels_name_the_role() -> None:
    assert labels.stage_label("triage") == "Triage"
    assert labels.stage_label("review-on_duty") == "Review (on duty)"


def test_templates_get_the_words_from_the_render_context() -> None:
    context = _environment().globals
    assert context["step_labels"]["published"] == labels.STEP_LABELS[RequestStatus.published]
    assert context["role_names"]["legal"] == labels.ROLE_NAMES[Role.legal]
    assert context["flag_labels"]["paid"] == labels.FLAGS[RiskFlag.paid]
    assert context["metric_labels"]["clicks"] == labels.METRICS[GoalMetric.clicks]
