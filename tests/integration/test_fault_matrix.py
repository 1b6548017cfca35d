"""The permanent-fault matrix (issue 13, part 3; docs/RELIABILITY.md): every Lambda step of the
lifecycle and of the pilot's state machine fails for good once in its turn. Each case drives one
request along the path that reaches the step, makes the step's function fail always
(`/_local/faults`), and checks what the team and the requester see: the request `failed` with the
step named, exactly one "Workflow failed" mail (to the lead), the requester's status page saying
that the team knows. The fault is then cleared, the lead clicks Retry on the dashboard, and the
rest of the path is played: the request reaches the same final outcome as without the fault, with
no post, decision or mail twice.

One runtime for the whole matrix (one per test file, tests/integration/conftest.py): every case
uses a request of its own. The retry
intervals of the failing step sleep on the business clock, which the wait for `failed` moves on."""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from greenlight.piloting import FIRST_LOOK
from greenlight.pilots.design import PlannedSlot
from greenlight.pilots.plan import more_request_name, rollout_request_id, slot_request_id
from greenlight.storage import Store

from local.runtime import LocalRuntime
from tests.integration.test_failures import failure_mails, inject, view
from tests.integration.test_pilots import MARK, VARIANT_B, _decide
from tests.integration.test_publishing import DAY, posts_on, waits_for_publish_time
from tests.integration.test_review import RISKY, review, review_link
from tests.integration.test_team import sign_in
from tests.integration.test_triage import post_decision, triage_link
from tests.pilot_support import Watch
from tests.support import Http, hidden, link_in, mails_to, sample_request, wait_until

LEAD = "lee@example.org"
REQUESTER = "ana@example.org"
TOLD = "the social team has been told"


@dataclass
class Run:
    """One request on its way along a path."""

    http: Http
    runtime: LocalRuntime
    title: str
    overrides: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""
    api_url: str = ""

    def view(self) -> dict[str, Any]:
        return view(self.http, self.api_url)

    def reaches(self, status: str, seconds: float = 60) -> dict[str, Any]:
        return wait_until(
            lambda: (seen := self.view())["status"] == status and seen,
            seconds,
            f"{self.request_id} to reach {status} (now {self.view()['status']})",
        )


# ---- the moves a path is made of: each one makes the workflow run the next steps ----


def submit(run: Run) -> None:
    answer = run.http.post_json("/api/requests", sample_request(title=run.title, **run.overrides))
    assert answer.status == 201, answer.text
    run.request_id = answer.json()["id"]
    run.api_url = answer.json()["status_url"].replace("/requests/", "/api/requests/")


def accept(run: Run) -> None:
    assert post_decision(run.http, triage_link(run.http, run.request_id), "accept").status == 200


def accept_pilot(run: Run) -> None:
    answer = post_decision(
        run.http,
        triage_link(run.http, run.request_id),
        "accept",
        pilot="on",
        pilot_variant="Plan less, do more: our spring webinar saves you a week.",
        pilot_hypothesis="Saying what people save gets more engagement",
        pilot_blocks="3",
    )
    assert answer.status == 200, answer.text


def marked_pilot(run: Run, blocks: int) -> None:
    """A pilot whose variant B has a known large true effect (the sandbox multiplies its
    engagement by ten, as in test_pilots.py)."""
    effect = {"contains": MARK, "factor": 10}
    assert run.http.post_json("/_local/channels/sandbox/effects", effect).status == 200
    answer = post_decision(
        run.http,
        triage_link(run.http, run.request_id),
        "accept",
        pilot="on",
        pilot_variant=VARIANT_B,
        pilot_hypothesis="Saying what people save gets more engagement",
        pilot_blocks=str(blocks),
    )
    assert answer.status == 200, answer.text


def accept_three_blocks(run: Run) -> None:
    marked_pilot(run, 3)


def accept_six_blocks(run: Run) -> None:
    """Six blocks, so that the verdict names the winner the team rolls out (three can find only
    a 22× difference, docs/pilots.md)."""
    marked_pilot(run, 6)


def revise(run: Run) -> None:
    link = triage_link(run.http, run.request_id)
    assert post_decision(run.http, link, "revise", "Lead with the date, please").status == 200


def decline(run: Run) -> None:
    link = triage_link(run.http, run.request_id)
    assert post_decision(run.http, link, "decline", "We do not post about this topic").status == 200


def approve(run: Run) -> None:
    link = review_link(run.http, run.request_id, "kim@example.org")  # on duty: the fast track
    assert review(run.http, link, "approve").status == 200


def approve_by_roles(run: Run) -> None:
    for person in ("lu@example.org", "bo@example.org"):  # legal and brand: the full review
        assert review(run.http, review_link(run.http, run.request_id, person), "approve").status == 200


def publish_time(run: Run) -> None:
    waits_for_publish_time(run.http, run.request_id)
    run.runtime.clock.advance(2 * DAY + 60)


def pilot_execution(run: Run) -> dict[str, Any]:
    """The pilot's latest execution (`<id>`, or `<id>-retry-<n>` after a retry): its name, status,
    and whether it waits (for a slot's time)."""
    sfn = run.runtime.client("stepfunctions")
    machine = run.runtime.state_machine_arn("PilotStateMachine").replace(":stateMachine:", ":execution:")
    names = [run.request_id] + [f"{run.request_id}-retry-{n}" for n in range(1, 4)]
    found: dict[str, Any] = {"name": "", "status": None, "waiting": False}
    for name in names:
        try:
            status = sfn.describe_execution(executionArn=f"{machine}:{name}")["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            break
        events = sfn.get_execution_history(executionArn=f"{machine}:{name}")["events"]
        last = max(events, key=lambda e: e["id"])["type"] if events else ""
        waiting = status == "RUNNING" and last in ("TaskSubmitted", "WaitStateEntered")
        found = {"name": name, "status": status, "waiting": waiting}
    return found


def pilot_waits(run: Run) -> None:
    """The pilot's execution waits for its first slot (its wait's Lambda returned)."""
    wait_until(lambda: pilot_execution(run)["waiting"], 60, "the pilot to wait for its first slot")


def first_slot(run: Run) -> str:
    """Once the pilot waits for its first slot, move the clock to it; the slot's request id."""
    store = Store(run.runtime.client("dynamodb"), run.runtime.stack.physical_name("Table"))
    plan = store.get_request(run.request_id).plan
    assert plan is not None and plan.pilot_plan is not None
    slot = min(plan.pilot_plan.slots, key=lambda s: (s.at, s.block, s.hour))
    pilot_waits(run)
    shift = plan.publish_time - plan.pilot_plan.first_slot
    run.runtime.clock.advance((slot.at + shift - run.runtime.clock.now()).total_seconds() + 1)
    return slot_request_id(run.request_id, slot)


def first_slot_out(run: Run) -> None:
    slot_id = first_slot(run)
    wait_until(lambda: posts_on(run.http, "sandbox", slot_id), 60, "the first slot's post")


def store_of(run: Run) -> Store:
    return Store(run.runtime.client("dynamodb"), run.runtime.stack.physical_name("Table"))


def to_the_figures(run: Run) -> None:
    """Every slot out and measured at 24 h, the pilot waiting for its evaluation."""
    plan = store_of(run).get_request(run.request_id).plan
    assert plan is not None and plan.pilot_plan is not None
    Watch(run.runtime, run.request_id).run_to_the_figures(
        plan.pilot_plan, in_real_time(run, plan.pilot_plan.slots)
    )


def in_real_time(run: Run, slots: list[PlannedSlot]) -> list[PlannedSlot]:
    """The slots at the times they go out: moved with the plan's publish time ("Check schedule" can
    move it, by days around a holiday of the business clock)."""
    plan = store_of(run).get_request(run.request_id).plan
    assert plan is not None and plan.pilot_plan is not None
    shift = plan.publish_time - plan.pilot_plan.first_slot
    return [s.model_copy(update={"at": s.at + shift}) for s in slots]


def evaluation_time(run: Run) -> None:
    """Move the clock to the end of "Wait for figures": "Evaluate pilot" runs."""
    plan = store_of(run).get_request(run.request_id).plan
    assert plan is not None and plan.pilot_plan is not None
    last = max(s.at for s in plan.pilot_plan.slots) + (plan.publish_time - plan.pilot_plan.first_slot)
    due = last + timedelta(hours=plan.pilot_plan.age_hours) + FIRST_LOOK
    run.runtime.clock.advance(max(0.0, (due - run.runtime.clock.now()).total_seconds()) + 60)
    past_the_wait(run, Watch(run.runtime, run.request_id, pilot_execution(run)["name"]), "Evaluate pilot")


def past_the_wait(run: Run, watch: Watch, state: str) -> None:
    """Until the pilot's execution has entered `state` (or ended), move the clock on half an hour at
    a time: on a busy machine its last wait can begin after a move of the clock, which pushes that
    wait along by as much (seen in whole-module runs at a load average of 4 to 5)."""

    def there() -> bool:
        events = watch.sfn.get_execution_history(executionArn=watch.arn)["events"]
        entered = any(e.get("stateEnteredEventDetails", {}).get("name") == state for e in events)
        if entered or (watch.pilot() or {}).get("status") != "RUNNING":
            return True
        run.runtime.clock.advance(1800)
        return False

    watch.until(there, 120, f"the pilot to reach {state}")


def moving(run: Run, check: Callable[[], Any], message: str) -> Any:
    """Wait for `check`, moving the business clock on (the pilot's short waits sleep on it)."""

    def done() -> Any:
        run.runtime.clock.advance(3)
        return check()

    return wait_until(done, 90, message)


def slot_posts(run: Run) -> Counter[str]:
    """Sandbox posts per slot request of the run's pilot."""
    posts = run.http.get("/_local/channels/sandbox/posts.json").json()
    return Counter(p["request_id"] for p in posts if p["request_id"].startswith(f"{run.request_id}-s"))


def report_mailed(run: Run) -> None:
    """The verdict recorded, the report mailed once to the requester and once to the lead, and
    every slot out once."""
    store = store_of(run)
    moving(run, lambda: store.pilot_verdict(run.request_id), "the verdict")
    for person in (REQUESTER, LEAD):
        mails = moving(
            run, lambda p=person: mails_to(run.http, p, "Pilot result", run.request_id), "the report"
        )
        assert len(mails) == 1, f"the report to {person} once: {[m['subject'] for m in mails]}"
    plan = store.get_request(run.request_id).plan
    assert plan is not None and plan.pilot_plan is not None
    slots = slot_posts(run)
    assert slots == Counter({slot_request_id(run.request_id, s): 1 for s in plan.pilot_plan.slots})
    assert run.view()["status"] == "published"


def roll_out(run: Run) -> None:
    """The lead rolls the winner out through the link in the report mail."""
    mail = mails_to(run.http, LEAD, "Pilot result (Winner)", run.request_id)
    assert len(mail) == 1, "the pilot found its winner"
    link = link_in(mail[0])
    csrf = hidden(run.http.get(link).text, "csrf")
    answer = _decide(run.http, link, csrf, "rollout")
    assert answer.status == 200 and "goes out now" in answer.text, answer.text


def one_more_block(run: Run) -> None:
    """The lead runs one more block through the link in the report mail (the decision starts
    `<id>-more-2`)."""
    mail = mails_to(run.http, LEAD, "Pilot result", run.request_id)
    assert len(mail) == 1, "the first round's report"
    link = link_in(mail[0])
    answer = _decide(run.http, link, hidden(run.http.get(link).text, "csrf"), "more", blocks="1")
    assert answer.status == 200 and "1 more block is planned" in answer.text, answer.text


def added_slots(run: Run) -> list[PlannedSlot]:
    return [PlannedSlot.model_validate(s) for s in store_of(run).pilot_record(run.request_id).more_slots]


def second_round_run(run: Run) -> None:
    """The added block out and measured, the second round evaluated, its execution finished: the
    round's own (`<id>-more-2`), or the retry that took its place (as test_pilot_pages.py drives
    it)."""
    current = pilot_execution(run)["name"]  # `<id>` (its round over) or `<id>-retry-<n>`
    execution = more_request_name(run.request_id, 2) if current == run.request_id else current
    plan = store_of(run).get_request(run.request_id).plan
    assert plan is not None and plan.pilot_plan is not None
    watch = Watch(run.runtime, run.request_id, execution)
    # Settled first: the clock moved before the round's first wait begins would push it along.
    watch.until(watch.settled, 120, f"{execution} to wait for the added block")
    watch.run_to_the_figures(plan.pilot_plan, in_real_time(run, added_slots(run)))
    past_the_wait(run, watch, "Evaluate pilot")
    watch.until(lambda: (watch.pilot() or {}).get("status") == "SUCCEEDED", 120, "round 2 to finish")


def second_verdict(run: Run) -> None:
    """Round 2's verdict recorded once beside round 1's, its report mailed once to the requester
    and once to the lead, every slot of both rounds out once."""
    store = store_of(run)
    moving(run, lambda: 2 in store.pilot_record(run.request_id).verdicts, "round 2's verdict")
    assert sorted(store.pilot_record(run.request_id).verdicts) == [1, 2]
    evaluated = [e for e in store.history(run.request_id) if e.kind == "pilot_evaluated"]
    assert len(evaluated) == 2, f"one verdict per round: {[e.summary for e in evaluated]}"
    for person in (REQUESTER, LEAD):
        mails = moving(
            run,
            lambda p=person: mails_to(run.http, p, "Pilot result, round 2", run.request_id),
            "round 2's report",
        )
        assert len(mails) == 1, f"round 2's report to {person} once: {[m['subject'] for m in mails]}"
    plan = store.get_request(run.request_id).plan
    assert plan is not None and plan.pilot_plan is not None
    slots = slot_posts(run)
    every = [*plan.pilot_plan.slots, *added_slots(run)]
    assert len(every) == 8 and slots == Counter({slot_request_id(run.request_id, s): 1 for s in every})
    assert run.view()["status"] == "published"
    failure = store.get_request(run.request_id).failure
    if failure is not None:  # the round's execution failed and its retry took over
        assert failure.pilot and failure.execution == more_request_name(run.request_id, 2), failure
        assert pilot_execution(run) == {
            "name": f"{run.request_id}-retry-1",
            "status": "SUCCEEDED",
            "waiting": False,
        }


def rolled_out(run: Run) -> None:
    """The winner out once on the channel, the pilot's last execution finished."""
    rollout = rollout_request_id(run.request_id)
    posts = moving(run, lambda: posts_on(run.http, "sandbox", rollout), "the rollout's post")
    moving(run, lambda: pilot_execution(run)["status"] == "SUCCEEDED", "the rollout's execution to finish")
    posts = posts_on(run.http, "sandbox", rollout)
    assert len(posts) == 1 and MARK in posts[0]["text"], posts
    assert run.view()["status"] == "published"


def wait_ends(run: Run, state: str, seconds: float) -> None:
    """Once the lifecycle waits in `state`, move the clock past the wait (`seconds` long) and see
    the wait end (the clock moved before a wait begins would only push its deadline along)."""

    def waiting() -> dict[str, Any] | None:
        where = run.runtime.where_is(run.request_id)
        return where if where["waiting"] and where["state"] == state else None

    where = wait_until(waiting, 60, f"{run.request_id} to wait in {state}")
    run.runtime.clock.advance(seconds + 60)
    wait_until(lambda: run.runtime.where_is(run.request_id) != where, 60, f"the wait in {state} to end")


def triage_round_ends(run: Run) -> None:
    """Nobody triages for a day: a reminder, then an escalation, then "Close as unanswered"."""
    wait_ends(run, "Request triage", DAY)


def revision_window_ends(run: Run) -> None:
    """No revision in the week's window: "Close as abandoned"."""
    wait_ends(run, "Request revision", 7 * DAY)


# ---- the paths, and the final outcome each reaches with or without a fault on the way ----


def published(run: Run) -> None:
    wait_until(lambda: mails_to(run.http, REQUESTER, "Live:", run.request_id), 60, f"{run.request_id} live")
    assert run.reaches("published")["status"] == "published"
    assert len(posts_on(run.http, "sandbox", run.request_id)) == 1, "one post"


def declined(run: Run) -> None:
    run.reaches("declined")
    wait_until(lambda: mails_to(run.http, REQUESTER, "Closed:", run.request_id), message="the closing mail")


def closed_as(status: str, state: str, seconds: float, subject: str) -> Callable[[Run], None]:
    """The request closed as `status` once: the waits in `state` its retry began again are let run
    out as the first ones were; one "Closed:" mail to the requester, one `subject` to the lead."""

    def outcome(run: Run) -> None:
        def closed_or_waiting() -> str | None:
            if run.view()["status"] == status:
                return "closed"
            where = run.runtime.where_is(run.request_id)
            return "waiting" if where["waiting"] and where["state"] == state else None

        for _ in range(4):  # at most three triage rounds
            if wait_until(closed_or_waiting, 60, f"{run.request_id} to close or wait") == "closed":
                break
            wait_ends(run, state, seconds)
        assert run.reaches(status)["status"] == status
        for person, about in ((REQUESTER, "Closed:"), (LEAD, subject)):
            mails = wait_until(
                lambda p=person, a=about: mails_to(run.http, p, a, run.request_id),
                message=f"{about} to {person}",
            )
            assert len(mails) == 1, f"{about} to {person} once: {[m['subject'] for m in mails]}"

    return outcome


def asked_to_revise(run: Run) -> None:
    run.reaches("revision_requested")
    wait_until(
        lambda: mails_to(run.http, REQUESTER, "Not like this yet", run.request_id),
        message="the revise mail",
    )


def piloting(run: Run) -> None:
    """The lifecycle handed the request to the pilot's own execution; the first slot went out once
    and the pilot waits for the next."""
    assert run.runtime.where_is(run.request_id)["state"] == "Piloting"
    wait_until(lambda: pilot_execution(run)["waiting"], 60, "the pilot to wait for its next slot")
    slots = slot_posts(run)
    assert list(slots.values()) == [1], f"the first slot once, nothing else yet: {slots}"
    assert run.view()["status"] == "approved"


@dataclass(frozen=True)
class Path:
    moves: tuple[Callable[[Run], None], ...]
    outcome: Callable[[Run], None]
    overrides: tuple[tuple[str, Any], ...] = ()


PILOT_REQUEST = (
    ("channels", ["sandbox"]),
    ("pilot_requested", True),
    ("goal", {"metric": "engagement_rate", "target": 0.02}),
)
PATHS = {
    "fast track to publication": Path((submit, accept, approve, publish_time), published),
    "full review": Path(
        (submit, accept, approve_by_roles), lambda run: run.reaches("approved"), tuple(RISKY.items())
    ),
    "declined at triage": Path((submit, decline), declined),
    "sent back for revision": Path((submit, revise), asked_to_revise),
    "no revision in time": Path(
        (submit, revise, revision_window_ends),
        closed_as("abandoned", "Request revision", 7 * DAY, "Closed as abandoned"),
    ),
    "nobody triages": Path(
        (submit, triage_round_ends, triage_round_ends, triage_round_ends),
        closed_as("unanswered", "Request triage", DAY, "Closed as unanswered"),
    ),
    "pilot": Path((submit, accept_pilot, approve, pilot_waits, first_slot_out), piloting, PILOT_REQUEST),
    "pilot to its verdict": Path(
        (submit, accept_three_blocks, approve, pilot_waits, to_the_figures, evaluation_time),
        report_mailed,
        PILOT_REQUEST,
    ),
    "pilot's second round": Path(
        (
            submit,
            accept_three_blocks,
            approve,
            pilot_waits,
            to_the_figures,
            evaluation_time,
            report_mailed,
            one_more_block,
            second_round_run,
        ),
        second_verdict,
        PILOT_REQUEST,
    ),
    "pilot rolled out": Path(
        (
            submit,
            accept_six_blocks,
            approve,
            pilot_waits,
            to_the_figures,
            evaluation_time,
            report_mailed,
            roll_out,
        ),
        rolled_out,
        PILOT_REQUEST,
    ),
}


@dataclass(frozen=True)
class Case:
    function: str  # the logical id the fault is injected into
    state: str  # the state the failure names
    path: str  # a key of PATHS
    before: int  # the fault is injected before this move of the path
    during: str = ""  # which run of the step, when its state is met on more than one path

    @property
    def id(self) -> str:
        return f"{self.state} {self.during}".strip().lower().replace(" ", "-")


# Which request path reaches which step (docs/RELIABILITY.md, "The permanent-fault matrix").
MATRIX = [
    Case("SendAcknowledgementFunction", "Send acknowledgement", "fast track to publication", 0),
    Case("RequestTriageFunction", "Request triage", "fast track to publication", 0),
    Case("AcceptRequestFunction", "Accept request", "fast track to publication", 1),
    Case("AssessRiskFunction", "Assess risk", "fast track to publication", 1),
    Case("RequestReviewFunction", "Fast track review", "fast track to publication", 1),
    Case("RequestReviewFunction", "Review by role", "full review", 1),
    Case("FinishReviewFunction", "Finish review", "fast track to publication", 2),
    Case("CheckScheduleFunction", "Check schedule", "fast track to publication", 2),
    Case("WaitForPublishTimeFunction", "Wait for publish time", "fast track to publication", 2),
    Case("FinishPublishingFunction", "Finish publishing", "fast track to publication", 3),
    Case("StartPilotFunction", "Start pilot", "pilot", 2),
    # The pilot's own state machine (statemachines/pilot.asl.json); its retry restarts the pilot.
    Case("NextPilotSlotFunction", "Next pilot slot", "pilot", 2),
    Case("WaitForPublishTimeFunction", "Wait for slot time", "pilot", 4),  # after the first slot went out
    Case("EvaluatePilotFunction", "Evaluate pilot", "pilot to its verdict", 5),
    # The winner's rollout (`<id>-rollout`), started by the team's decision after the verdict.
    Case("NextPilotSlotFunction", "Next pilot slot", "pilot rolled out", 7, "during the rollout"),
    # A round of more blocks (`<id>-more-2`), started by the team's decision after the verdict.
    Case("NextPilotSlotFunction", "Next pilot slot", "pilot's second round", 7, "in a second round"),
    Case("CloseRequestFunction", "Close as declined", "declined at triage", 1),
    Case("RequestRevisionFunction", "Request revision", "sent back for revision", 1),
    # The same function, reached when the week's revision window or the triage rounds run out.
    Case("CloseRequestFunction", "Close as abandoned", "no revision in time", 2),
    Case("CloseRequestFunction", "Close as unanswered", "nobody triages", 3),
]


def until(run: Run, status: str) -> dict[str, Any]:
    """Wait for `status`, moving the business clock on so the failing step's retries come quickly."""

    def there() -> dict[str, Any] | None:
        run.runtime.clock.advance(3)
        seen = run.view() if run.api_url else {}
        return seen if seen.get("status") == status else None

    return wait_until(there, 90, f"{run.request_id} to reach {status}")


def retry_from_the_dashboard(run: Run, error: str = "InjectedFault") -> None:
    lee = sign_in(run.http, LEAD)
    page = lee.get(f"/team/requests/{run.request_id}")
    assert "The workflow failed" in page.text and error in page.text
    csrf = hidden(page.text, "csrf")
    assert lee.post(f"/team/requests/{run.request_id}/retry", [("csrf", csrf)]).status == 303


def nothing_twice(run: Run) -> None:
    """No mail, decision or post twice: every (recipient, subject) about the request once, every
    decision event once per version, at most one post."""
    mails = Counter(
        (to, m["subject"]) for m in run.http.outbox() if run.request_id in m["text"] for to in m["to"]
    )
    assert [k for k, n in mails.items() if n > 1] == [], f"mailed twice: {mails}"
    decisions = Counter(
        (e["kind"], e.get("version")) for e in run.view()["history"] if e["kind"].endswith("_decided")
    )
    assert [k for k, n in decisions.items() if n > 1] == [], f"decided twice: {decisions}"
    assert len(posts_on(run.http, "sandbox", run.request_id)) <= 1


@pytest.fixture
def faults(http: Http) -> Iterator[Http]:
    assert http.request("DELETE", "/_local/faults").status == 200
    yield http
    http.request("DELETE", "/_local/faults")


@pytest.mark.timeout(300)  # the pilot's cases drive three blocks and their figures through business time
@pytest.mark.parametrize("case", MATRIX, ids=lambda case: case.id)
def test_a_permanent_fault_in_a_step_fails_tells_once_and_a_retry_reaches_the_same_outcome(
    runtime: LocalRuntime, faults: Http, case: Case
) -> None:
    path = PATHS[case.path]
    run = Run(faults, runtime, f"Fails at {case.state}", dict(path.overrides))
    for move in path.moves[: case.before]:
        move(run)
    inject(faults, function=case.function, always=True)
    path.moves[case.before](run)
    failed = until(run, "failed")

    event = next(e for e in failed["history"] if e["kind"] == "workflow_failed")
    assert f"“{case.state}”" in event["summary"] and "InjectedFault" in event["summary"], event
    attempts = faults.get("/_local/faults").json()["functions"][0]["injected"]
    faults.request("DELETE", "/_local/faults")
    assert attempts >= 4, f"the ASL retries a failed task three times: {attempts} attempts"
    mails = wait_until(lambda: failure_mails(faults, run.request_id), message="the team's failure mail")
    assert [m["to"] for m in mails] == [[LEAD]] and case.state in mails[0]["text"]
    assert TOLD in faults.get(run.api_url.replace("/api/requests/", "/requests/")).text

    retry_from_the_dashboard(run)
    for move in path.moves[case.before + 1 :]:
        move(run)
    path.outcome(run)
    assert len(failure_mails(faults, run.request_id)) == 1, "one failure mail, also after the retry"
    nothing_twice(run)


def test_publish_post_failing_for_good_is_told_as_not_published_and_never_posts(
    runtime: LocalRuntime, faults: Http
) -> None:
    """The one Lambda step whose failure does not fail the workflow: "Publish post" catches every
    error into "Unconfirmed" (a post is never tried blindly again; reconciliation asks the network).
    Failing before its publish intent, nothing went out: the request ends `publish_failed`, and the
    requester and the team hear it once."""
    run = Run(faults, runtime, "Never posted")
    for move in PATHS["fast track to publication"].moves[:3]:
        move(run)
    inject(faults, function="PublishPostFunction", always=True)
    publish_time(run)
    until(run, "publish_failed")
    faults.request("DELETE", "/_local/faults")
    mails = wait_until(lambda: mails_to(faults, REQUESTER, "Not published:", run.request_id), 30, "the mail")
    assert len(mails) == 1 and mails_to(faults, LEAD, "Not published:", run.request_id)
    assert posts_on(faults, "sandbox", run.request_id) == []
    assert failure_mails(faults, run.request_id) == []
    nothing_twice(run)


def stop_the_pilot_unheard(run: Run) -> None:
    """The pilot's execution stops and its status-change event is lost (nothing tells the request)."""
    runtime = run.runtime
    runtime.events.delivering = False
    try:
        machine = runtime.state_machine_arn("PilotStateMachine").replace(":stateMachine:", ":execution:")
        runtime.client("stepfunctions").stop_execution(executionArn=f"{machine}:{run.request_id}")
        wait_until(lambda: pilot_execution(run)["status"] == "ABORTED", message="the stop")
    finally:
        runtime.events.delivering = True


def recorded_as_stopped(run: Run) -> None:
    """The sweeper has recorded the request failed, the pilot named as stopped, with one team mail."""
    failed = run.reaches("failed", 15)
    event = next(e for e in failed["history"] if e["kind"] == "workflow_failed")
    assert "pilot" in event["summary"] and "stopped" in event["summary"], event
    assert len(failure_mails(run.http, run.request_id)) == 1


def test_the_sweeper_records_a_pilot_that_ended_without_a_verdict(
    runtime: LocalRuntime, faults: Http
) -> None:
    """The pilot's execution stopped and its status-change event lost: the sweeper, which leaves a
    running pilot alone, records the request failed once; Retry restarts the pilot."""
    path = PATHS["pilot"]
    run = Run(faults, runtime, "Pilot stopped silently", dict(path.overrides))
    for move in path.moves[:4]:
        move(run)
    sweep = runtime.function_name("StartPendingWorkflowsFunction")
    runtime.clock.advance(16 * 60)
    runtime.client("lambda").invoke(FunctionName=sweep, Payload=b"{}")
    assert run.view()["status"] == "approved", "a running pilot is left alone"

    stop_the_pilot_unheard(run)
    runtime.clock.advance(16 * 60)
    runtime.client("lambda").invoke(FunctionName=sweep, Payload=b"{}")
    recorded_as_stopped(run)

    retry_from_the_dashboard(run, "stopped")
    first_slot_out(run)
    piloting(run)
    assert pilot_execution(run)["name"] == f"{run.request_id}-retry-1"
    assert len(failure_mails(faults, run.request_id)) == 1
    nothing_twice(run)


def test_a_pilot_slot_whose_publishing_fails_for_good_fails_the_pilot_after_bounded_tries(
    runtime: LocalRuntime, faults: Http
) -> None:
    """ "Publish post" failing before its publish intent inside a pilot: the slot has no post, so
    "Next pilot slot" offers it again after 1, 2 and 4 minutes, 4 tries in all (each with the ASL's
    3 retries), then the pilot fails through the failure rule instead of offering it forever: the
    request `failed` at "Next pilot slot" (SlotNotPublished), one mail to the lead, nothing out.
    Retry, the fault gone: the slot goes out once."""
    path = PATHS["pilot"]
    run = Run(faults, runtime, "Slot never posted", dict(path.overrides))
    for move in path.moves[:4]:
        move(run)
    inject(faults, function="PublishPostFunction", always=True)
    slot_id = first_slot(run)

    def failed() -> dict[str, Any] | None:
        runtime.clock.advance(20)  # the retries and the backoff sleep on the business clock
        seen = run.view()
        return seen if seen["status"] == "failed" else None

    seen = wait_until(failed, 120, f"{run.request_id} to fail")
    event = next(e for e in seen["history"] if e["kind"] == "workflow_failed")
    assert "“Next pilot slot”" in event["summary"] and "SlotNotPublished" in event["summary"], event
    wait_until(lambda: pilot_execution(run)["status"] == "FAILED", message="the pilot's execution to end")
    runtime.clock.advance(900)  # nothing offers the slot again (the next slot is an hour after it)
    attempts = faults.get("/_local/faults").json()["functions"][0]["injected"]
    faults.request("DELETE", "/_local/faults")
    # Other requests' pilots on this runtime may publish too: the tries are counted in this one's history.
    sfn = runtime.client("stepfunctions")
    execution = runtime.state_machine_arn("PilotStateMachine").replace(":stateMachine:", ":execution:")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=f"{execution}:{run.request_id}")
    entered = Counter(
        e["stateEnteredEventDetails"]["name"]
        for page in pages
        for e in page["events"]
        if "stateEnteredEventDetails" in e
    )
    assert entered["Publish post"] == 4 and entered["Wait for slot time"] == 1 + 3, entered
    assert attempts >= 4 * 4, f"4 tries of 1 + 3 ASL retries each: {attempts} attempts"
    assert posts_on(faults, "sandbox", slot_id) == []
    mails = wait_until(lambda: failure_mails(faults, run.request_id), message="the team's failure mail")
    assert [m["to"] for m in mails] == [[LEAD]] and "Next pilot slot" in mails[0]["text"]

    retry_from_the_dashboard(run, "SlotNotPublished")
    wait_until(lambda: posts_on(run.http, "sandbox", slot_id), 60, "the first slot's post")
    piloting(run)
    assert len(failure_mails(faults, run.request_id)) == 1
    nothing_twice(run)


@pytest.mark.parametrize("path", ["no revision in time", "nobody triages"], ids=lambda p: p.replace(" ", "-"))
def test_a_transient_fault_in_closing_a_request_closes_it_the_same(
    runtime: LocalRuntime, faults: Http, path: str
) -> None:
    """ "Close as abandoned" and "Close as unanswered" failing twice: the task's retries absorb it,
    the request closes once, nobody hears of a failure."""
    steps = PATHS[path]
    run = Run(faults, runtime, f"Closed after a fault ({path})", dict(steps.overrides))
    for move in steps.moves[:-1]:
        move(run)
    inject(faults, function="CloseRequestFunction", times=2)
    steps.moves[-1](run)
    moving(run, lambda: run.view()["status"] not in ("awaiting_triage", "revision_requested"), "the close")
    assert faults.get("/_local/faults").json()["functions"] == [], "both faults used"
    steps.outcome(run)
    assert run.runtime.where_is(run.request_id)["status"] == "SUCCEEDED"
    assert failure_mails(faults, run.request_id) == []
    nothing_twice(run)


def test_the_sweeper_records_a_published_pilot_that_stopped_before_its_verdict(
    runtime: LocalRuntime, faults: Http
) -> None:
    """Every slot out, the request `published`, the pilot waiting for its figures: its execution
    stopped and the status-change event lost. The sweeper reads published pilots apart (they are
    not open requests): it records the request failed once, and Retry gets the verdict out once."""
    path = PATHS["pilot to its verdict"]
    run = Run(faults, runtime, "Published pilot stopped silently", dict(path.overrides))
    for move in path.moves[:5]:  # to the figures: the pilot waits in "Wait for figures"
        move(run)
    assert run.view()["status"] == "published"
    sweep = runtime.function_name("StartPendingWorkflowsFunction")
    runtime.client("lambda").invoke(FunctionName=sweep, Payload=b"{}")
    assert run.view()["status"] == "published", "a running pilot is left alone"

    stop_the_pilot_unheard(run)
    runtime.client("lambda").invoke(FunctionName=sweep, Payload=b"{}")
    recorded_as_stopped(run)

    retry_from_the_dashboard(run, "stopped")
    pilot_waits(run)  # the retry waits for the figures again, no slot published again
    evaluation_time(run)
    report_mailed(run)
    assert pilot_execution(run)["name"] == f"{run.request_id}-retry-1"
    assert len(failure_mails(faults, run.request_id)) == 1
    nothing_twice(run)
