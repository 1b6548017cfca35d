"""The risk policy: every factor explained in words, the lane it leads to, and overrides as data."""

from datetime import UTC, datetime
from typing import Any

import pytest
from greenlight import risk
from greenlight.models import RequestInput, RequestStatus, Role, StoredRequest

from tests.support import sample_request

AT = "2026-12-01T09:00:00+00:00"  # any publish time: the risk policy does not read it


def stored(plan: dict[str, Any] | None = None, **overrides: Any) -> StoredRequest:
    now = datetime.now(UTC)
    request = RequestInput.model_validate(sample_request(**overrides))
    return StoredRequest(
        id="20261121-abcdefgh",
        status=RequestStatus.accepted,
        content_version=1,
        lock=1,
        created_at=now,
        updated_at=now,
        base_url="http://x",
        request=request,
        plan=plan,
    )


def test_a_plain_timely_post_takes_the_fast_track() -> None:
    assessment = risk.assess(stored(), risk.policy())
    assert assessment.lane == "fast" and assessment.score == 0 and assessment.roles == [Role.on_duty]
    assert assessment.fast_deadline_seconds == 14400
    assert not assessment.auto_approve, "auto-approval is off by default"


def test_declared_flags_require_their_roles_with_reasons() -> None:
    assessment = risk.assess(stored(risk_flags=["regulated_claims", "crisis"]), risk.policy())
    assert assessment.lane == "full"
    assert assessment.roles == [Role.legal, Role.comms]
    assert any("legal must approve" in reason for reason in assessment.reasons)
    assert assessment.full_waits == [172800 - 43200, 43200, 172800]


def test_regulated_words_in_the_final_copy_are_found() -> None:
    plan = {"channels": ["sandbox"], "copy": {"sandbox": "Guaranteed returns of 20%!"}, "publish_at": AT}
    assessment = risk.assess(stored(plan), risk.policy())
    assert Role.legal in assessment.roles
    assert any("guaranteed" in reason and "returns of" in reason for reason in assessment.reasons)


def test_words_match_whole_words_only() -> None:
    plan = {"channels": ["sandbox"], "copy": {"sandbox": "Our procurement team is curious"}, "publish_at": AT}
    assert risk.assess(stored(plan), risk.policy()).lane == "fast", (
        "'cure' is not in 'procurement' or 'curious'"
    )


def test_links_outside_our_domains_are_named() -> None:
    draft = {
        "text": "See https://shop.example.org/a and https://bit.ly/x",
        "link": "https://evil.example.com/",
    }
    assessment = risk.assess(stored(draft=draft), risk.policy())
    reason = next(r for r in assessment.reasons if "outside our own domains" in r)
    assert "bit.ly" in reason and "evil.example.com" in reason and "shop.example.org" not in reason


def test_the_largest_audiences_need_an_executive() -> None:
    rules = risk.policy().model_copy(update={"channel_audience": {"sandbox": 150000}})
    assessment = risk.assess(stored(), rules)
    assert Role.executive in assessment.roles
    assert any("150,000" in reason for reason in assessment.reasons)


def test_breaking_news_adds_risk_and_a_short_deadline() -> None:
    assessment = risk.assess(stored(time_sensitivity="breaking"), risk.policy())
    assert assessment.score == 10 and assessment.fast_deadline_seconds == 1800


def test_a_deployment_overrides_the_policy_without_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISK_POLICY", '{"full_review_at": 5, "auto_approve_at_most": 0}')
    risk.policy.cache_clear()
    try:
        rules = risk.policy()
        assert rules.full_review_at == 5 and rules.auto_approve_at_most == 0
        assert risk.assess(stored(), rules).auto_approve
        assert risk.assess(stored(time_sensitivity="breaking"), rules).lane == "full"
    finally:
        monkeypatch.delenv("RISK_POLICY")
        risk.policy.cache_clear()
