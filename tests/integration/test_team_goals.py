"""Changing and removing a team goal over HTTP on the local runtime: only a lead or an admin (403
otherwise, and for a forged form), the target checked as when the goal was set (422), a stale form
refused (409) and a double POST answered as the first; a removed goal leaves the page but stays in
the table, marked, for the record."""

import re

from greenlight.storage import Store

from local.runtime import LocalRuntime
from tests.integration.test_team import Browser, sign_in
from tests.support import Http, hidden

LEAD = "lee@example.org"  # local/team.json: the lead (an admin)
TRIAGER = "sam@example.org"


def _set(lead: Browser, target: str, metric: str = "engagements") -> str:
    page = lead.get("/reports/goals").text
    fields = [("metric", metric), ("target", target), ("period", "month"), ("channel", "")]
    assert lead.post("/reports/goals", [("csrf", hidden(page, "csrf")), *fields]).status == 303
    return _id_of(lead, f"{int(target):,} {metric}")


def _id_of(lead: Browser, summary: str) -> str:
    """The id in the Change link of the goals page's row that starts with ``summary``."""
    page = lead.get("/reports/goals").text
    found = re.search(re.escape(summary) + r'[^\n]*?href="/reports/goals/([^/"]+)/change"', page)
    assert found, f"no row for {summary}"
    return found.group(1)


def _goal(runtime: LocalRuntime, goal_id: str) -> dict:
    found = Store(runtime.client("dynamodb"), runtime.stack.physical_name("Table")).team_goal(goal_id)
    assert found is not None
    return found


def test_a_lead_changes_a_goals_target_once_and_a_stale_form_is_refused(
    http: Http, runtime: LocalRuntime
) -> None:
    lead = sign_in(http, LEAD)
    goal_id = _set(lead, "5000")
    form = lead.get(f"/reports/goals/{goal_id}/change")
    assert form.status == 200 and 'value="5000"' in form.text
    csrf = hidden(form.text, "csrf")
    for bad in ("", "zero", "-3", "0", "inf", "nan", "1e400", "2e12"):
        answer = lead.post(
            f"/reports/goals/{goal_id}/change", [("csrf", csrf), ("seen", "5000"), ("target", bad)]
        )
        assert answer.status == 422 and "Enter a target above zero" in answer.text, bad
        assert 'aria-invalid="true"' in answer.text
    change = [("csrf", csrf), ("seen", "5000"), ("target", "8000")]
    assert lead.post(f"/reports/goals/{goal_id}/change", change).status == 303
    assert lead.post(f"/reports/goals/{goal_id}/change", change).status == 303, "a double POST"
    stored = _goal(runtime, goal_id)
    assert stored["target"] == 8000 and stored["changed_by"] == LEAD
    assert [(c["from"], c["to"]) for c in stored["changes"]] == [(5000, 8000)], "one change recorded"
    assert "8,000 engagements" in lead.get("/reports/goals").text
    stale = lead.post(
        f"/reports/goals/{goal_id}/change", [("csrf", csrf), ("seen", "5000"), ("target", "9000")]
    )
    assert stale.status == 409 and "changed to 8,000 by lee@example.org" in stale.text
    assert _goal(runtime, goal_id)["target"] == 8000, "the stale form changed it"


def test_a_rate_goal_keeps_the_rules_it_was_set_with(http: Http) -> None:
    lead = sign_in(http, LEAD)
    page = lead.get("/reports/goals").text
    fields = [
        ("metric", "engagement_rate"),
        ("target", "0.02"),
        ("period", "quarter"),
        ("channel", "sandbox"),
    ]
    infinite = [("metric", "clicks"), ("target", "inf"), ("period", "month"), ("channel", "")]
    assert lead.post("/reports/goals", [("csrf", hidden(page, "csrf")), *infinite]).status == 422
    assert lead.post("/reports/goals", [("csrf", hidden(page, "csrf")), *fields]).status == 303
    goal_id = _id_of(lead, "2.00% engagement rate")
    csrf = hidden(lead.get(f"/reports/goals/{goal_id}/change").text, "csrf")
    answer = lead.post(
        f"/reports/goals/{goal_id}/change", [("csrf", csrf), ("seen", "0.02"), ("target", "2")]
    )
    assert answer.status == 422 and "A rate target is a share below 1" in answer.text
    ok = lead.post(f"/reports/goals/{goal_id}/change", [("csrf", csrf), ("seen", "0.02"), ("target", "0.03")])
    assert ok.status == 303


def test_only_a_lead_or_an_admin_changes_or_removes_and_forged_forms_are_refused(http: Http) -> None:
    lead = sign_in(http, LEAD)
    goal_id = _set(lead, "700")
    triager = sign_in(http, TRIAGER)
    page = triager.get("/reports/goals")
    assert page.status == 200 and f"/reports/goals/{goal_id}/change" not in page.text
    csrf = hidden(page.text, "csrf") if 'name="csrf"' in page.text else ""
    csrf = csrf or hidden(triager.get("/team").text, "csrf")
    for path in (f"/reports/goals/{goal_id}/change", f"/reports/goals/{goal_id}/remove"):
        assert triager.get(path).status == 403, path
        posted = triager.post(path, [("csrf", csrf), ("seen", "700"), ("target", "1")])
        assert posted.status == 403 and "team lead or an admin" in posted.text, path
        assert lead.post(path, [("csrf", "forged"), ("seen", "700"), ("target", "1")]).status == 403, path
        assert http.get(path).status == 401, "not signed in"
        assert lead.get(path.replace(goal_id, "nope")).status == 404
    assert "700 engagements" in lead.get("/reports/goals").text, "something changed it"


def test_a_removed_goal_leaves_the_page_and_stays_in_the_table(http: Http, runtime: LocalRuntime) -> None:
    lead = sign_in(http, LEAD)
    goal_id = _set(lead, "4321")
    confirm = lead.get(f"/reports/goals/{goal_id}/remove")
    assert (
        confirm.status == 200 and "Remove this goal" in confirm.text and "4,321 engagements" in confirm.text
    )
    assert "4,321 engagements" in lead.get("/reports/goals").text, "the confirmation page removed it"
    csrf = hidden(confirm.text, "csrf")
    assert lead.post(f"/reports/goals/{goal_id}/remove", [("csrf", csrf)]).status == 303
    assert lead.post(f"/reports/goals/{goal_id}/remove", [("csrf", csrf)]).status == 303, "a double POST"
    assert "4,321 engagements" not in lead.get("/reports/goals").text
    stored = _goal(runtime, goal_id)
    assert stored["removed_by"] == LEAD and stored["removed_at"] and stored["target"] == 4321
    late = lead.post(f"/reports/goals/{goal_id}/change", [("csrf", csrf), ("seen", "4321"), ("target", "5")])
    assert late.status == 409 and "was removed by lee@example.org" in late.text
    assert lead.get(f"/reports/goals/{goal_id}/change").status == 409
    assert lead.post("/reports/goals/nope/remove", [("csrf", csrf)]).status == 404
