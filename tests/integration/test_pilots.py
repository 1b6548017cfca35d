"""A pilot end to end on the local runtime, with the sandbox network and the business clock:
triage fixes the plan (two variants, six blocks), review approves it with every variant on the
page, the lifecycle starts the pilot's own state machine, which publishes each slot exactly once
through "Publish post" at its planned time; the measuring sweep takes the snapshots; the verdict
names the variant with a known large true effect (the sandbox multiplies its engagement by ten)
the winner, and the report mail parses as MIME with its chart inline. A lead then rolls the winner
out through the link in the report mail (after asking for too many more blocks), posting the
decision twice: its copy goes out once.

It moves business time about ten days; other modules count their time from "now" as well."""

from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlencode

import pytest
from greenlight.pilots.plan import rollout_request_id, slot_request_id
from greenlight.reports.weeks import IsoWeek, team_zone

from local.runtime import LocalRuntime
from tests.integration.test_review import review, review_link
from tests.integration.test_team import sign_in
from tests.integration.test_triage import post_decision, reaches, submit, triage_link
from tests.pilot_support import Watch
from tests.support import Answer, Http, hidden, link_in, mails_to

MARK = "[B]"  # the sandbox multiplies the engagement of posts that carry it
VARIANT_B = f"Plan less, do more {MARK}: our spring webinar saves you a week."


def _raw_mail(http: Http, number: int) -> EmailMessage:
    answer = http.get(f"/_local/outbox/{number}.eml")
    assert answer.status == 200
    message = message_from_bytes(answer.body, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _decide(http: Http, link: str, csrf: str, decision: str, learning: str = "", blocks: str = "") -> Answer:
    fields = [("csrf", csrf), ("decision", decision), ("learning", learning), ("blocks", blocks)]
    body = urlencode(fields).encode()
    return http.request("POST", link, body, {"content-type": "application/x-www-form-urlencoded"})


@pytest.mark.timeout(360)  # ten days of business time, then the rollout
def test_a_pilot_with_a_large_true_effect_publishes_each_slot_once_and_names_the_winner(
    runtime: LocalRuntime, http: Http
) -> None:
    assert http.post_json("/_local/channels/sandbox/effects", {"contains": MARK, "factor": 10}).status == 200
    request_id = submit(
        http,
        "Pilot: webinar copy",
        channels=["sandbox"],
        pilot_requested=True,
        goal={"metric": "engagement_rate", "target": 0.02},
    )
    refused = post_decision(http, triage_link(http, request_id), "accept", "", pilot="on")
    assert refused.status == 422 and "A pilot needs at least one variant" in refused.text

    accepted = post_decision(
        http,
        triage_link(http, request_id),
        "accept",
        "",
        pilot="on",
        pilot_variant=VARIANT_B,
        pilot_hypothesis="Saying what people save gets more engagement",
        pilot_blocks="6",
    )
    assert accepted.status == 200, accepted.text
    page = http.get(review_link(http, request_id, "kim@example.org"))
    assert "The pilot: 2 variants in 6 blocks" in page.text and VARIANT_B in page.text
    assert "this pilot can tell apart a difference of about" in page.text
    assert review(http, review_link(http, request_id, "kim@example.org"), "approve").status == 200

    watch = Watch(runtime, request_id)
    store = watch.store
    stored = store.get_request(request_id)
    assert stored.plan and stored.plan.pilot_plan
    pilot = stored.plan.pilot_plan
    assert len(pilot.slots) == 12 and pilot.variants == ["", VARIANT_B]
    watch.until(watch.settled, 120, "the pilot to start and wait for its first slot")

    watch.run_to_the_verdict(pilot)
    # Each slot went out exactly once, with its variant's copy, and was measured at 24 h.
    posts = http.get("/_local/channels/sandbox/posts.json").json()
    ours = Counter(p["request_id"] for p in posts if p["request_id"].startswith(f"{request_id}-s"))
    assert ours == Counter({slot_request_id(request_id, s): 1 for s in pilot.slots})
    by_slot = {p["request_id"]: p for p in posts}
    for slot in pilot.slots:
        text = by_slot[slot_request_id(request_id, slot)]["text"]
        assert (MARK in text) == (slot.variant == 1), text

    verdict = store.pilot_verdict(request_id)
    assert verdict is not None and verdict["verdict"]["word"] == "winner", verdict["headline"]
    assert verdict["verdict"]["variant"] == 1 and not verdict["missing"]
    assert verdict["analysis"]["p_value"] < 0.03
    assert reaches(http, request_id, "published")

    mails = mails_to(http, "ana@example.org", "Pilot result (Winner)", request_id)
    assert len(mails) == 1, "the report was not mailed exactly once"
    assert "Roll out variant B" in mails[0]["text"] and "95 % credible interval" in mails[0]["text"]
    assert not mails_to(http, "ana@example.org", "Results", f"{request_id}-s"), "a slot mailed its own result"
    message = _raw_mail(http, mails[0]["number"])
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0].get_content().startswith(b"\x89PNG")
    html = message.get_body(preferencelist=("html",))
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert html is not None and f'src="cid:{cid}"' in html.get_content()

    # The requester's status page shows the same report, the chart as a data: URI.
    mail = http.mail_about(request_id)
    link = next(link for link in mail["links"] if f"/requests/{request_id}?token=" in link)
    page = http.get(link).text
    assert "Winner: variant B" in page and "Roll out variant B." in page
    assert '<img src="data:image/png;base64,' in page and "probability to be best" in page.lower()

    # The week's digest page lists the finished pilot, linked to the request's team page.
    evaluated = next(e for e in store.history(request_id) if e.kind == "pilot_evaluated")
    week = IsoWeek.of(evaluated.at, team_zone()).label
    digest = sign_in(http, "lee@example.org").get(f"/reports/weekly/{week}")
    assert f'<a href="/team/requests/{request_id}">Pilot: webinar copy</a>' in digest.text, digest.text
    assert "Winner: variant B" in digest.text

    # The requester's mail has no link to decide; the lead's has, and the lead rolls B out, twice.
    assert not any("/l/" in link for link in mails[0]["links"])
    lead_mails = mails_to(http, "lee@example.org", "Pilot result (Winner)", request_id)
    assert len(lead_mails) == 1 and "Decide what happens next" in lead_mails[0]["text"]
    decide = link_in(lead_mails[0])
    page = http.get(decide)
    assert page.status == 200 and "Roll out variant B" in page.text, page.text
    csrf = hidden(page.text, "csrf")
    assert _decide(http, decide, csrf, "stop").status == 422  # stopping needs the learning
    assert "Run more blocks" in page.text and "1 more (then 7 blocks): about " in page.text
    too_many = _decide(http, decide, csrf, "more", blocks="9")
    assert too_many.status == 422 and "Choose 1 to 6 more blocks." in too_many.text, too_many.text
    first, second = _decide(http, decide, csrf, "rollout"), _decide(http, decide, csrf, "rollout")
    assert first.status == 200 and "variant B goes out now" in first.text, first.text
    assert second.status == 409 and "already decided" in second.text
    assert http.get(decide).status == 200 and "already decided" in http.get(decide).text

    rollout = Watch(runtime, rollout_request_id(request_id))
    rollout.until(lambda: (rollout.pilot() or {}).get("status") == "SUCCEEDED", 120, "the rollout to finish")
    posts = http.get("/_local/channels/sandbox/posts.json").json()
    rolled = [p for p in posts if p["request_id"] == rollout_request_id(request_id)]
    assert len(rolled) == 1 and MARK in rolled[0]["text"], rolled
    assert any(e.summary.startswith("Pilot decided: roll out variant B") for e in store.history(request_id))
