"""Goals a chosen channel cannot measure, told before anything is published: refused when no chosen
channel can measure the goal, a notice for the requester and the team when some cannot, and the
engagement rate in each network's own words."""

import html

from tests.integration.test_team import sign_in
from tests.integration.test_triage import submit, triage_link
from tests.support import Http, sample_form, sample_request

REFUSAL = "Mastodon and Bluesky do not count impressions: choose engagement rate, engagements or clicks."
NOTICE = (
    "Mastodon does not count impressions, so your impressions goal cannot be measured there: the "
    "result will count Sandbox only."
)


def test_api_refuses_a_goal_no_chosen_channel_can_measure_naming_goal_metric(http: Http) -> None:
    before = len(http.outbox())
    answer = http.post_json(
        "/api/requests",
        sample_request(
            title="Impressions nobody counts",
            goal={"metric": "impressions", "target": 5000},
            channels=["mastodon", "bluesky"],
        ),
    )
    assert answer.status == 422, answer.text
    assert answer.json() == {"errors": [{"field": "goal.metric", "message": REFUSAL}]}
    assert not [m for m in http.outbox()[before:] if "Impressions nobody counts" in m["text"]], (
        "it was stored"
    )


def test_the_refusal_comes_with_the_other_field_errors(http: Http) -> None:
    answer = http.post_json(
        "/api/requests",
        sample_request(goal={"metric": "impressions", "target": 5000}, channels=["mastodon"], title=""),
    )
    assert answer.status == 422
    fields = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert fields["goal.metric"].startswith("Mastodon does not count impressions"), fields
    assert "title" in fields


def test_the_form_refuses_it_beside_the_field(http: Http) -> None:
    fields = [
        (k, v)
        for k, v in sample_form(**{"goal.metric": "impressions", "goal.target": "5000"})
        if k != "channels"
    ]
    answer = http.post_form("/requests", [*fields, ("channels", "mastodon"), ("channels", "bluesky")])
    assert answer.status == 422
    assert f'<p class="error" id="goal.metric-error">{html.escape(REFUSAL)}</p>' in answer.text


def test_a_goal_some_channels_cannot_measure_is_accepted_and_told_to_requester_and_team(http: Http) -> None:
    request_id = submit(
        http,
        "Impressions on some channels",
        goal={"metric": "impressions", "target": 5000},
        channels=["sandbox", "mastodon"],
    )
    acknowledgement = http.mail_about(request_id)
    assert f"Please note: {NOTICE}" in acknowledgement["text"], acknowledgement["text"]
    status_link = next(link for link in acknowledgement["links"] if "?token=" in link)
    status = http.get(status_link).text
    assert html.escape(NOTICE) in status, "the status page does not say it"

    triage = http.get(triage_link(http, request_id)).text
    assert html.escape(NOTICE) in triage, "the triage page does not say it"
    assert "Mastodon: cannot be measured here" in triage and "Sandbox: 5,000 impressions" in triage

    kim = sign_in(http, "kim@example.org")
    assert html.escape(NOTICE) in kim.get(f"/team/requests/{request_id}").text, (
        "the dashboard does not say it"
    )


def test_a_goal_every_channel_can_measure_has_no_notice(http: Http) -> None:
    request_id = submit(http, "Clicks everywhere", channels=["sandbox", "mastodon"])
    assert "Please note" not in http.mail_about(request_id)["text"]
    assert "Not measurable everywhere" not in http.get(triage_link(http, request_id)).text


def test_engagement_rate_is_labelled_per_network_at_triage(http: Http) -> None:
    request_id = submit(
        http,
        "Rate on two kinds of network",
        goal={"metric": "engagement_rate", "target": 0.02},
        channels=["sandbox", "bluesky"],
    )
    triage = http.get(triage_link(http, request_id)).text
    assert "Sandbox: 2.00% of impressions" in triage, "the sandbox's rate is by impressions"
    assert "Bluesky: 20.0 engagements per 1,000 followers" in triage, "Bluesky's rate is per follower"
    assert "Not measurable everywhere" not in triage
