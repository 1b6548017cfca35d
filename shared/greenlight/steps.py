"""What each step of the request lifecycle takes and returns: one Input and one Output model per
Lambda step (docs/architecture.md, "A thin handler": functions/publish_post is
PublishPostInput / PublishPostOutput).

The Outputs are the contract with statemachines/request_lifecycle.asl.json: its ResultSelectors
and Choice states read these fields by name (tests/contract/test_step_outputs.py checks every path
it reads). A step that waits on its task token is answered with a TaskAnswer instead: that, not
the function's return value, is what the state machine reads."""

import json
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenlight.base import Model
from greenlight.models import (
    Assessment,
    Lane,
    PostReceipt,
    PostState,
    PublishingPlan,
    RequestStatus,
    ReviewVerdict,
    Role,
)


class ScheduledEvent(Model):
    """What EventBridge Scheduler sends a scheduled function: nothing it needs to read."""

    model_config = ConfigDict(extra="allow")


# ---- answers to the steps that wait on their task token ----


class DecisionAnswer(Model):
    """What a waiting decision step (triage, review, revision) is answered with."""

    decision: str | None  # the outcome: accept / revise / decline, approve / changes / reject, ...
    version: int
    by: str | None


class Woken(Model):
    """What "Wait for publish time" is answered with when a reschedule or a cancel cuts it short."""

    woken: Literal[True] = True


# ---- "Send acknowledgement" ----


class SendAcknowledgementInput(Model):
    request_id: str


class SendAcknowledgementOutput(Model):
    request_id: str
    status: RequestStatus
    mail_sent: bool


# ---- "Request triage" (waits: answered with a DecisionAnswer) ----


class RequestTriageInput(Model):
    answered_with: ClassVar[type[BaseModel]] = DecisionAnswer  # what the state machine reads

    request_id: str
    round: int = Field(default=0, ge=0)
    task_token: str = Field(repr=False)


class RequestTriageOutput(Model):
    request_id: str
    version: int
    round: int
    mailed: int


# ---- "Request revision" (waits: answered with a DecisionAnswer) ----


class RequestRevisionInput(Model):
    answered_with: ClassVar[type[BaseModel]] = DecisionAnswer  # what the state machine reads

    request_id: str
    task_token: str = Field(repr=False)
    window_seconds: int = Field(gt=0)


class RequestRevisionOutput(Model):
    request_id: str
    version: int


# ---- "Accept request" ----


class AcceptRequestInput(Model):
    request_id: str


class AcceptRequestOutput(Model):
    request_id: str
    status: RequestStatus
    plan: PublishingPlan


# ---- "Assess risk" ----


class AssessRiskInput(Model):
    request_id: str


class AssessRiskOutput(Assessment):
    """The assessment itself: the lane, the roles and the waits the review states read."""


# ---- "Fast track review" / "Review by role" (wait: answered with a DecisionAnswer) ----


class RequestReviewInput(Model):
    answered_with: ClassVar[type[BaseModel]] = DecisionAnswer  # what the state machine reads

    request_id: str
    role: Role
    round: int = Field(default=0, ge=0)
    lane: Lane
    task_token: str = Field(repr=False)


class RequestReviewOutput(Model):
    request_id: str
    role: Role
    round: int
    mailed: int


# ---- "Finish review" ----


class FinishReviewInput(Model):
    request_id: str


class FinishReviewOutput(Model):
    outcome: ReviewVerdict
    seconds: int


# ---- "Check schedule" ----


class CheckScheduleInput(Model):
    request_id: str


class ScheduleAction(StrEnum):
    wait = "wait"  # not due yet: wait for the publish time
    cancel = "cancel"  # the team cancelled it
    publish = "publish"  # due: publish on every channel now
    pilot = "pilot"  # a pilot: its own state machine publishes its slots


class CheckScheduleOutput(Model):
    action: ScheduleAction
    wait_seconds: int = Field(ge=1)  # a Wait needs a positive number even when it is not taken
    publish_at: str
    channels: list[str] = Field(default_factory=list)  # only when publishing


# ---- "Wait for publish time" (waits: answered with Woken, or times out at the publish time) ----


class WaitForPublishTimeInput(Model):
    answered_with: ClassVar[type[BaseModel]] = Woken  # what the state machine reads

    request_id: str
    publish_at: str  # the time "Check schedule" planned for: a change since then ends the wait at once
    task_token: str = Field(repr=False)


class WaitForPublishTimeOutput(Model):
    request_id: str
    waiting_until: str


# ---- "Publish post" ----


class PublishPostInput(Model):
    request_id: str
    channel: str


class PublishPostOutput(Model):
    channel: str
    state: PostState
    receipt: PostReceipt | None = None


# ---- "Finish publishing" ----


class FinishPublishingInput(Model):
    request_id: str


class FinishPublishingOutput(Model):
    outcome: RequestStatus
    live: list[str]  # the channels it is out on


# ---- "Close as declined / abandoned / unanswered" ----


class CloseReason(StrEnum):
    declined = "declined"
    abandoned = "abandoned"
    unanswered = "unanswered"


class CloseRequestInput(Model):
    request_id: str
    reason: CloseReason


class CloseRequestOutput(Model):
    closed: bool  # False: the person decided as the wait ended, and their decision wins
    decision: str | None  # the late decision, or the reason it closed
    version: int


# ---- scheduled functions ----


class StartPendingWorkflowsOutput(Model):
    started: list[str]
    failed: list[str] = Field(default_factory=list)  # ended or stuck workflows recorded as failed


class ExecutionStatusDetail(Model):
    model_config = ConfigDict(extra="allow")

    name: str
    status: str  # FAILED, TIMED_OUT, ABORTED (the rule's pattern)
    state_machine_arn: str = Field(default="", alias="stateMachineArn")  # the lifecycle's or the pilot's
    input: str | None = None  # the execution's input as JSON text: {"request_id", "resume"}

    @property
    def request_id(self) -> str:
        return str(json.loads(self.input or "{}").get("request_id") or self.name.partition("-retry-")[0])


class RecordFailureInput(Model):
    """What EventBridge delivers for a "Step Functions Execution Status Change"."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionStatusDetail


class RecordFailureOutput(Model):
    recorded: bool


class ReconcilePostsOutput(Model):
    settled: list[str]  # request id/channel of every post settled


class MeasurePostsInput(ScheduledEvent):
    """The measuring sweep runs on EventBridge Scheduler's event, which it does not read; ``limit``
    lets an operator (or a benchmark) cap one run by hand."""

    limit: int | None = Field(default=None, gt=0)


class MeasurePostsOutput(Model):
    """What one run of the measuring sweep did (its log line, and its tests' subject)."""

    due: int  # due entries read from GSI2
    taken: int  # snapshots written with counts (late ones included)
    late: int  # of those, taken after their on-time window, with their real age
    missed: int  # recorded as missed: beyond the grace window
    deleted: int  # recorded as deleted: the post is gone from the network
    deferred: int  # left due for the next run (rate limited, out of time, network down)
    already_recorded: int  # written by an overlapping run before: left as they were
    network_calls: dict[str, int]  # batched reads per network
    results: list[str]  # requests whose result this run recorded
    stopped: list[str]  # why a network's reading stopped early


class SnapshotAccountsOutput(Model):
    """What one run did, per channel: taken (new today), kept (today's was already there),
    not taken (rate limited or unavailable: tried again next run), and the milestones mailed."""

    taken: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)
    not_taken: dict[str, str] = Field(default_factory=dict)
    milestones: dict[str, list[int]] = Field(default_factory=dict)


class WeeklyDigestOutput(Model):
    """What one run of the weekly digest did: the week it worked on, whether it mailed the lead's
    draft link, and to whom it sent the digest (with or without the lead's note)."""

    week: str
    drafted: list[str] = Field(default_factory=list)  # the leads mailed the draft link
    sent_to: list[str] = Field(default_factory=list)
    with_note: bool = False
    state: str = ""  # the digest's state after the run (drafting, sent), or "" when there is none
    celebrated: list[str] = Field(default_factory=list)  # team goals reached, mailed this run


# ---- the pilot (statemachines/pilot.asl.json; the lifecycle's "Start pilot" begins it) ----


class StartPilotInput(Model):
    request_id: str


class StartPilotOutput(Model):
    request_id: str
    slots: int  # slot requests, one per planned slot
    started: bool  # False: the pilot's execution existed already (a retry)


class NextPilotSlotInput(Model):
    request_id: str
    # What this execution's last "Next pilot slot" answered ("Begin" starts with nothing): a slot it
    # offered that still has no post failed before its publish intent, and is tried again after a
    # backoff, a bounded number of times (greenlight.piloting).
    last_action: str = ""
    last_slot: str = ""
    tries: int = Field(default=0, ge=0)


class PilotAction(StrEnum):
    wait = "wait"  # the next slot is not due: wait for it (a reschedule or a cancel wakes the wait)
    publish = "publish"  # the next slot is due: publish it on every channel
    cancel = "cancel"  # the team cancelled the pilot: no further slot goes out
    measure = "measure"  # every slot is out: wait for the figures at the plan's post age


class NextPilotSlotOutput(Model):
    action: PilotAction
    wait_seconds: int = Field(ge=1)
    publish_at: str  # the plan's publish time as "Wait for slot time" expects it
    slot_request_id: str = ""  # the slot to publish (a request of its own)
    channels: list[str] = Field(default_factory=list)
    tries: int = 0  # this slot's offers in a row in this execution (0 while waiting for its time)


class EvaluatePilotInput(Model):
    request_id: str


class EvaluatePilotOutput(Model):
    done: bool  # False: figures still due; wait `wait_seconds` and evaluate again
    wait_seconds: int = Field(ge=1)
    verdict: str = ""  # winner / leaning / no_clear_difference, once done
