"""The team's decision on a pilot from the team's request page, on the local runtime: a pilot of 2
variants in 3 blocks run to its verdict; a triager without the lead's or the admin's role sees no
decision and is refused (403); the lead sees the same choices as in the report mail's link, is
refused beside the field (422) without a learning or with too many blocks, then stops the pilot
with a learning. The team decides once: the page and the emailed link then both answer
"already decided" (409), and the history keeps the one decision; and the other way round, a
pilot stopped by the link is decided for a team page loaded before."""

import uuid

from greenlight.storage import Store

from local.runtime import LocalRuntime
from tests.integration.test_review import review, review_link
from tests.integration.test_team import sign_in
from tests.integration.test_triage import post_decision, submit, triage_link
from tests.pilot_support import Watch
from tests.support import Http, hidden, link_in, mails_to

LEARNING = "Saying what people save did not beat the plain copy on the sandbox."


def run_a_pilot(
    runtime: LocalRuntime, http: Http, title: str, variant: str = "Plan less, do more"
) -> tuple[str, Store]:
    """A request with a pilot of 2 variants (`variant` is B) in 3 blocks on the sandbox, triaged,
    approved by the on-duty reviewer and run to its verdict."""
    request_id = submit(http, title, channels=["sandbox"], pilot_requested=True)
    fields = {"pilot": "on", "pilot_variant": variant, "pilot_hypothesis": "B is better"}
    assert (
        post_decision(http, triage_link(http, request_id), "accept", "", pilot_blocks="3", **fields).status
        == 200
    )
    assert review(http, review_link(http, request_id, "kim@example.org"), "approve").status == 200
    watch = Watch(runtime, request_id)
    stored = watch.store.get_request(request_id)
    assert stored.plan and stored.plan.pilot_plan
    watch.until(watch.settled, 120, "the pilot to start")
    watch.run_to_the_verdict(stored.plan.pilot_plan)
    assert watch.store.pilot_record(request_id).verdict is not None
    return request_id, watch.store


def test_a_lead_stops_a_pilot_on_the_team_page_once_for_the_team(runtime: LocalRuntime, http: Http) -> None:
    request_id, store = run_a_pilot(runtime, http, f"Pilot decided on the page {uuid.uuid4().hex[:6]}")
    path, action = f"/team/requests/{request_id}", f"/team/requests/{request_id}/pilot"
    stop = [("round", "1"), ("decision", "stop"), ("learning", LEARNING), ("blocks", "")]

    # A triager only: no decision on the page, and a forged POST is refused.
    sam = sign_in(http, "sam@example.org")
    page = sam.get(path)
    assert page.status == 200 and "Decide the pilot" not in page.text and 'name="round"' not in page.text
    refused = sam.post(action, [("csrf", hidden(sam.get("/team").text, "csrf")), *stop])
    assert refused.status == 403 and "do not include decide_pilot" in refused.text, refused.text
    assert not store.pilot_record(request_id).decisions

    # The lead: the same three choices as the link's page (no winner here, so no roll out).
    lee = sign_in(http, "lee@example.org")
    page = lee.get(path)
    assert page.status == 200 and "Decide the pilot" in page.text, page.text
    assert hidden(page.text, "round") == "1"
    assert "Run more blocks" in page.text and "Stop with this learning" in page.text
    assert "1 more (then 4 blocks): about " in page.text
    csrf = hidden(page.text, "csrf")
    without = lee.post(action, [("csrf", csrf), ("round", "1"), ("decision", "stop"), ("learning", " ")])
    assert without.status == 422 and 'id="learning-error"' in without.text, without.text
    assert "Write what the team learnt: it is kept on the request." in without.text
    too_many = lee.post(action, [("csrf", csrf), ("round", "1"), ("decision", "more"), ("blocks", "9")])
    assert too_many.status == 422 and 'id="blocks-error">Choose 1 to 6 more blocks.' in too_many.text
    assert 'aria-invalid="true"' in too_many.text and 'value="9"' in too_many.text
    assert not store.pilot_record(request_id).decisions, "a refused form decided"

    # The lead's link in the report mail, opened before the team decides: its form is live.
    link = link_in(mails_to(http, "lee@example.org", "Pilot result", request_id)[0])
    link_page = http.get(link)
    assert link_page.status == 200 and "Stop with this learning" in link_page.text

    decided = lee.post(action, [("csrf", csrf), *stop])
    assert decided.status == 303 and decided.headers["location"] == path, decided.text
    page = lee.get(path)
    assert "The team's decision</strong> (lee@example.org" in page.text and LEARNING in page.text
    assert 'name="round"' not in page.text, "the decided round still offers the decision"
    recorded = store.pilot_record(request_id).decisions[1]
    assert (
        recorded["choice"] == "stop"
        and recorded["learning"] == LEARNING
        and recorded["by"] == "lee@example.org"
    )

    # Once for the team: again from the page, or by the link in the report mail, is "already decided".
    again = lee.post(action, [("csrf", csrf), ("round", "1"), ("decision", "more"), ("blocks", "2")])
    assert again.status == 409 and "already decided (stop by lee@example.org" in again.text, again.text
    by_link = http.post_form(link, [("csrf", hidden(link_page.text, "csrf")), *stop])
    assert by_link.status == 409 and "already decided (stop by lee@example.org" in by_link.text, by_link.text
    shown = http.get(link)
    assert shown.status == 200 and "already decided" in shown.text
    assert store.pilot_record(request_id).decisions == {1: recorded}
    stops = [e for e in store.history(request_id) if e.summary.startswith("Pilot decided")]
    assert [e.summary for e in stops] == [f"Pilot decided: stop. Learning: “{LEARNING}”"]


def test_a_pilot_decided_by_the_link_is_decided_on_the_team_page(runtime: LocalRuntime, http: Http) -> None:
    request_id, store = run_a_pilot(runtime, http, f"Pilot decided by link {uuid.uuid4().hex[:6]}")
    path, action = f"/team/requests/{request_id}", f"/team/requests/{request_id}/pilot"
    lee = sign_in(http, "lee@example.org")
    page = lee.get(path)
    assert hidden(page.text, "round") == "1", "the page offers no decision"

    link = link_in(mails_to(http, "lee@example.org", "Pilot result", request_id)[0])
    link_page = http.get(link)
    by_link = http.post_form(
        link, [("csrf", hidden(link_page.text, "csrf")), ("decision", "stop"), ("learning", LEARNING)]
    )
    assert by_link.status == 200 and "The pilot stops here" in by_link.text, by_link.text

    # The page loaded before the link decided still posts its form: the team decided already.
    late = lee.post(
        action, [("csrf", hidden(page.text, "csrf")), ("round", "1"), ("decision", "more"), ("blocks", "1")]
    )
    assert late.status == 409 and "already decided (stop by lee@example.org" in late.text, late.text
    assert 'name="round"' not in lee.get(path).text
    assert list(store.pilot_record(request_id).decisions) == [1]
    assert store.pilot_record(request_id).decisions[1]["choice"] == "stop"
