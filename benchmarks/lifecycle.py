"""One whole lifecycle per request, for each review lane, on the local runtime: submit through the
JSON API, accept through the triager's emailed link, approve through the reviewers' links, move the
business clock past the publish time, and wait until the post is on the sandbox network. Every
wait has the driver's deadline; each step ends when the execution has settled again."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.cost import Scenario, Step
from benchmarks.driver import Driver, Settled, Submission

DAY = 86400
# The sample request's publish window opens two days after submission (business time): move the
# clock past it, as tests/integration/test_publishing.py does.
PAST_THE_PUBLISH_TIME = 2 * DAY + 60
TRIAGER = "sam@example.org"


@dataclass(frozen=True)
class Lane:
    name: str
    risk_flags: tuple[str, ...]
    reviewers: tuple[str, ...]  # every one of them approves through the link in their mail
    review_state: str  # where the execution waits for them

    @property
    def who(self) -> str:
        return " and ".join(self.reviewers)


FAST = Lane("Fast lane", (), ("kim@example.org",), "Fast track review")  # kim is on duty
FULL = Lane(
    "Full lane",
    ("regulated_claims", "paid"),  # legal and brand must approve
    ("lu@example.org", "bo@example.org"),
    "Review by role",
)


def _expect(settled: Settled, state: str, request_id: str, what: str) -> Settled:
    if settled.state != state:
        raise RuntimeError(f"{request_id} after {what}: expected '{state}', got {settled.outcome}")
    return settled


class Lifecycles:
    """The whole lifecycle as a cost Scenario: submit, then the steps people take."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        # Per lane, the mails of its last lifecycle: (subject up to its colon, recipients).
        self.mails: dict[str, list[tuple[str, list[str]]]] = {}

    def isolate(self) -> int:
        """Stop every execution still waiting (the earlier sections leave them waiting for triage):
        moving the clock would wake their timeouts, and their reminders and escalations would be
        counted as this request's work. Returns how many were stopped."""
        return self.driver.runtime.stop_executions()

    def scenario(self, lane: Lane) -> Scenario:
        flags = ", ".join(f'"{flag}"' for flag in lane.risk_flags)
        submit = f"POST /api/requests with risk_flags [{flags}]" if flags else "POST /api/requests"
        return Scenario(
            lane.name,
            f"{submit}, accepted by {TRIAGER}, approved by {lane.who}, published on the sandbox",
            lambda: self._submit(lane),
            steps=[
                Step(f"Triage: {TRIAGER} accepts via the link (GET, POST)", self._triage(lane)),
                Step(f"Review: {lane.who} approve{'s' * (len(lane.reviewers) == 1)}", self._review(lane)),
                Step("Publish: clock past the publish time, until published", self._publish(lane)),
            ],
            first_phase="Intake: POST, until triage waits",
        )

    def _submit(self, lane: Lane) -> Submission:
        driver = self.driver
        running = driver.running()
        if running:
            raise RuntimeError(f"{running} other execution(s) running: their work would be counted")
        # The channels' credentials are cached for 5 minutes per container (greenlight.service):
        # start each lifecycle with that cache empty, i.e. one read per publish (the worst case).
        import greenlight.service

        greenlight.service._channels.clear()
        return driver.submit_json(risk_flags=list(lane.risk_flags))

    def _triage(self, lane: Lane) -> Callable[[Submission, Settled], Settled]:
        def run(submitted: Submission, settled: Settled) -> Settled:
            driver, request_id = self.driver, submitted.request_id
            link = driver.link_for(request_id, TRIAGER, "Triage:", submitted.first_mail)
            driver.decide(link, "accept", channels="sandbox")
            for reviewer in lane.reviewers:  # a Map's reviews: every one asked before the wait counts
                driver.link_for(request_id, reviewer, "Review:", submitted.first_mail)
            return _expect(
                driver.wait_until_settled(request_id, after=settled), lane.review_state, request_id, "triage"
            )

        return run

    def _review(self, lane: Lane) -> Callable[[Submission, Settled], Settled]:
        def run(submitted: Submission, settled: Settled) -> Settled:
            driver, request_id = self.driver, submitted.request_id
            for reviewer in lane.reviewers:
                link = driver.link_for(request_id, reviewer, "Review:", submitted.first_mail)
                driver.decide(link, "approve")
            return _expect(
                driver.wait_until_settled(request_id, after=settled),
                "Wait for publish time",
                request_id,
                "review",
            )

        return run

    def _publish(self, lane: Lane) -> Callable[[Submission, Settled], Settled]:
        def run(submitted: Submission, settled: Settled) -> Settled:
            driver, request_id = self.driver, submitted.request_id
            clock = driver.runtime.clock
            # The waiting task's two timers (moto's Task timeout and its task-token wait) take their
            # deadlines on the business clock when they start, which under load can be after the
            # history shows TaskSubmitted: moving the clock first would leave them two more days
            # to wait (seen in 3 of 30 lifecycles). Nothing else waits on the clock (isolate()), so
            # two waiters are this task's.
            driver.wait_for(lambda: clock.waiting() >= 2, f"the timers of {request_id}'s publish wait")
            clock.advance(PAST_THE_PUBLISH_TIME)
            done = _expect(
                driver.wait_until_settled(request_id, after=settled), "Published", request_id, "publishing"
            )
            if done.outcome != "SUCCEEDED":
                raise RuntimeError(f"{request_id} after publishing: {done.outcome}")
            posts = driver.http.get("/_local/channels/sandbox/posts.json").json()  # /_local/: not the API
            mine = [post for post in posts if post.get("request_id") == request_id]
            if len(mine) != 1:
                raise RuntimeError(f"{request_id}: {len(mine)} sandbox posts, expected exactly one")
            self.mails[lane.name] = _by_subject(driver.mails_about(request_id, submitted.first_mail))
            return done

        return run


def _by_subject(mails: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Mails grouped by subject up to its colon (without the request's title), in sending order."""
    groups: dict[str, list[str]] = {}
    for mail in mails:
        groups.setdefault(str(mail["subject"]).split(":")[0], []).extend(mail["to"])
    return list(groups.items())
