"""Scheduled publishing, exactly once per request and channel.

The lifecycle waits until the plan's publish time (a wait the team can cut short by rescheduling
or cancelling), then publishes on every channel in parallel. Each post is an intent written with
a conditional write before the network call and a receipt after it; an attempt whose outcome is
unknown (a crash or a time-out between the two) is "unconfirmed", and the network is asked
before anything is tried again."""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from greenlight import clock, decisions, tracking
from greenlight.channels import Channel, Post, PostImage, Receipt, channel_for
from greenlight.config import settings
from greenlight.errors import Conflict, InvalidInput, OutOfOrder, PublishRejected
from greenlight.labels import STEP_LABELS
from greenlight.mail import Mailer, notify_once
from greenlight.models import (
    MAX_AHEAD,
    UNSETTLED_POSTS,
    ChannelOptions,
    PostReceipt,
    PostRecord,
    PostState,
    PublishingPlan,
    RequestStatus,
    StoredRequest,
)
from greenlight.networks import NETWORKS
from greenlight.observability import POSTS, PUBLISH_FAILURES, record_metric
from greenlight.roster import active_leads
from greenlight.steps import (
    CheckScheduleOutput,
    FinishPublishingOutput,
    PublishPostOutput,
    ReconcilePostsOutput,
    ScheduleAction,
    WaitForPublishTimeOutput,
    Woken,
)
from greenlight.storage import Store
from greenlight.triage import TRIAGE

SCHEDULE = "schedule"
# How long a network can answer "is this post out?" without risk. Mastodon has no lookup by key:
# asking means posting again with the same Idempotency-Key, which it remembers for one hour only.
ASKABLE_FOR = {"mastodon": timedelta(minutes=50)}
RECONCILE_AFTER = timedelta(minutes=5)
# Reconciliation gives up on a post this long after it was started: a person checks the account.
RECONCILE_FOR = timedelta(days=1)
CHANGEABLE = (RequestStatus.approved,)  # the team can reschedule or cancel until publishing starts


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _plan(stored: StoredRequest) -> PublishingPlan:
    if stored.plan is None:
        raise OutOfOrder(f"{stored.id} has no publishing plan: it was never accepted")
    return stored.plan


def check_schedule(request_id: str, store: Store) -> CheckScheduleOutput:
    """Step "Check schedule": cancelled, not yet due (wait), or due (publish now)."""
    stored = store.get_request(request_id)
    if stored.status == RequestStatus.cancelled:
        publish_at = stored.plan.publish_at if stored.plan else ""
        return CheckScheduleOutput(action=ScheduleAction.cancel, wait_seconds=1, publish_at=publish_at)
    plan = _plan(stored)
    if plan.pilot_plan is not None:  # the pilot's own state machine waits for each of its slots
        return CheckScheduleOutput(action=ScheduleAction.pilot, wait_seconds=1, publish_at=plan.publish_at)
    remaining = (plan.publish_time - clock.now()).total_seconds()
    if remaining >= 1:
        return CheckScheduleOutput(
            action=ScheduleAction.wait, wait_seconds=math.ceil(remaining), publish_at=plan.publish_at
        )
    if stored.status != RequestStatus.publishing:
        note = f"Publishing now (planned for {plan.publish_at})"
        stored = store.change_status(stored, RequestStatus.publishing, kind="status_changed", summary=note)
    return CheckScheduleOutput(
        action=ScheduleAction.publish, wait_seconds=1, publish_at=plan.publish_at, channels=plan.channels
    )


def wait_for_publish_time(
    request_id: str, expected: str, task_token: str, store: Store, sfn: Any
) -> WaitForPublishTimeOutput:
    """Step "Wait for publish time" (waits on its task token until its timeout): keep the token so
    a reschedule or a cancel can end the wait at once."""
    store.put_waiter(request_id, SCHEDULE, task_token, expected)
    stored = store.get_request(request_id)
    if stored.status != RequestStatus.approved or (stored.plan and stored.plan.publish_at) != expected:
        wake(store, sfn, request_id)  # changed between the check and this wait: look again now
    return WaitForPublishTimeOutput(request_id=request_id, waiting_until=expected)


def wake(store: Store, sfn: Any, request_id: str) -> None:
    waiter = store.get_waiter(request_id, SCHEDULE)
    if waiter is None:
        return
    decisions.answer_task(sfn, waiter["task_token"], Woken().model_dump_json())


def reschedule(
    store: Store, sfn: Any, stored: StoredRequest, publish_at: datetime, person: str
) -> StoredRequest:
    if stored.status not in CHANGEABLE:
        raise Conflict(f"{STEP_LABELS[stored.status]}: it can no longer be rescheduled")
    if publish_at <= clock.now():
        raise InvalidInput([{"field": "publish_at", "message": "Pick a time in the future."}])
    if publish_at > stored.created_at + MAX_AHEAD:
        limit = f"{stored.created_at + MAX_AHEAD:%Y-%m-%d %H:%M} UTC"
        message = f"Pick a time before {limit}: a request's workflow runs for at most a year."
        raise InvalidInput([{"field": "publish_at", "message": message}])
    plan = _plan(stored).model_copy(update={"publish_at": publish_at.astimezone(UTC).isoformat()})
    stored = store.change_status(
        stored,
        stored.status,
        kind="rescheduled",
        summary=f"Rescheduled to {plan.publish_at[:16]} UTC",
        actor=person,
        plan=plan,
    )
    wake(store, sfn, stored.id)
    return stored


def cancel(store: Store, sfn: Any, stored: StoredRequest, person: str, reason: str) -> StoredRequest:
    if stored.status not in CHANGEABLE:
        raise Conflict(f"{STEP_LABELS[stored.status]}: it can no longer be cancelled")
    stored = store.change_status(
        stored,
        RequestStatus.cancelled,
        kind="cancelled",
        summary=f"Cancelled before publishing: {reason}".rstrip(": "),
        actor=person,
    )
    wake(store, sfn, stored.id)
    return stored


def _post(store: Store, stored: StoredRequest, channel: str, created_at: str) -> Post:
    plan = _plan(stored)
    enabled = tracking.wanted(plan, deployment=settings().tracks_clicks)
    outgoing = tracking.post_text(store, stored, channel, plan.copy_text[channel], enabled=enabled)
    link = str(stored.request.draft.link) if stored.request.draft.link else None
    options = plan.options.get(channel) or ChannelOptions()
    if outgoing.note and store.claim_once(stored.id, f"untracked:{channel}"):
        store.append_event(
            stored.id,
            "link_untracked",
            "greenlight",
            f"{NETWORKS[channel].label}: {outgoing.note}",
            stored.content_version,
        )
    return Post(
        request_id=stored.id,
        version=stored.content_version,
        channel=channel,
        text=outgoing.text,
        key=_key(stored, channel),
        scheduled_at=plan.publish_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        created_at=created_at,
        link=outgoing.tracked_url or link,
        link_page=link,
        visibility=options.visibility.value if options.visibility else None,
        language=options.language,
        content_warning=options.content_warning,
        langs=tuple(options.langs),
        images=_images(stored),
    )


def _images(stored: StoredRequest) -> tuple[PostImage, ...]:
    """The approved version's images, loaded from the images bucket (their keys are the hashes
    of their bytes: what was approved is what goes out)."""
    if not stored.request.draft.images:
        return ()
    from greenlight.media import bucket

    return tuple(
        PostImage(bucket.get(i.key), i.alt, i.content_type, i.width, i.height)
        for i in stored.request.draft.images
    )


def _key(stored: StoredRequest, channel: str) -> str:
    return f"{stored.id}-v{stored.content_version}-{channel}"


def publish_post(
    request_id: str, channel: str, store: Store, config: dict[str, Any], mailer: Mailer
) -> PublishPostOutput:
    """Step "Publish post": publish on one channel, exactly once."""
    stored = store.get_request(request_id)
    record = store.get_post(request_id, channel)
    if record and record.state == PostState.published:  # a retry after the receipt was stored
        return PublishPostOutput(channel=channel, state=record.state, receipt=record.receipt)
    if record and record.state == PostState.rejected:
        raise PublishRejected(record.reason or "refused")
    try:
        network = channel_for(channel, config)
    except PublishRejected as missing:  # no (complete) credentials: the team, not a retry, fixes it
        store.start_post(request_id, channel, stored.content_version, _key(stored, channel))  # nothing sent
        refuse(store, mailer, stored, channel, str(missing))
        raise
    # When the post goes out is fixed in the intent, before the first attempt: every retry then
    # sends the same moment (Bluesky's createdAt), and the recorded delay is the real one.
    now = clock.iso(clock.now())
    first = record is None and store.start_post(
        request_id, channel, stored.content_version, _key(stored, channel), started_at=now
    )
    if not first:
        record = record or store.get_post(request_id, channel)
    started_at = record.started_at if record and record.started_at else now
    post = _post(store, stored, channel, created_at=started_at)
    if not first:
        # An earlier attempt began and may have reached the network: ask before trying again.
        window = ASKABLE_FOR.get(channel)
        if window and clock.now() - _at(started_at) > window:
            needs_a_person(store, mailer, stored, channel)
            return PublishPostOutput(channel=channel, state=PostState.needs_check)
        if store.mark_unconfirmed(request_id, channel):
            store.append_event(
                request_id,
                "post_unconfirmed",
                "greenlight",
                f"{NETWORKS[channel].label}: an earlier attempt's outcome is unknown; asking the network",
                stored.content_version,
            )
        found = network.find(post)
        if found is not None:
            return confirm(store, stored, post, found, "found on the network", network=network)
    try:
        receipt = network.publish(post)
    except PublishRejected as refusal:
        refuse(store, mailer, stored, channel, str(refusal))
        raise
    return confirm(store, stored, post, receipt, "published", network=network)


def confirm(
    store: Store,
    stored: StoredRequest,
    post: Post,
    receipt: Receipt,
    how: str,
    *,
    network: Channel | None = None,
) -> PublishPostOutput:
    # Plan its snapshots before settling: if the process dies in between, reconciliation finds the
    # post and confirms again, and the plan (a conditional write) is not written twice.
    if network is not None:
        from greenlight.config import snapshot_ages
        from greenlight.measurement import plan_measurement

        plan_measurement(store, stored, receipt, network, snapshot_ages())
    delay = (_at(receipt.published_at) - _at(post.scheduled_at)).total_seconds()
    facts = PostReceipt(
        url=receipt.url,
        post_id=receipt.post_id,
        published_at=receipt.published_at,
        extra=receipt.extra,
        channel=receipt.channel,
    )
    if store.settle_post(
        stored.id,
        post.channel,
        PostState.published,
        receipt=facts.model_dump(mode="json"),
        delay_seconds=round(delay, 3),
    ):
        store.append_event(
            stored.id,
            "posted",
            "greenlight",
            f"{NETWORKS[post.channel].label}: {how}, {receipt.url} ({delay:.0f} s after the planned time)",
            stored.content_version,
        )
        for note in receipt.notes:
            store.append_event(
                stored.id,
                "post_note",
                "greenlight",
                f"{NETWORKS[post.channel].label}: {note}",
                stored.content_version,
            )
        record_metric(POSTS)
    return PublishPostOutput(channel=post.channel, state=PostState.published, receipt=facts)


def refuse(store: Store, mailer: Mailer, stored: StoredRequest, channel: str, reason: str) -> None:
    if not store.settle_post(stored.id, channel, PostState.rejected, reason=reason):
        return
    store.append_event(
        stored.id,
        "post_refused",
        "greenlight",
        f"{NETWORKS[channel].label} refused the post: {reason}",
        stored.content_version,
    )
    record_metric(PUBLISH_FAILURES)
    notify_once(
        store,
        mailer,
        stored,
        _team(store, stored),
        f"refused:{channel}",
        f"Refused by {NETWORKS[channel].label}: {stored.request.title}",
        [
            f"{NETWORKS[channel].label} refused the post. Its reason: {reason}",
            "Nothing was retried: change the copy or the channel and send it again.",
        ],
    )


def needs_a_person(store: Store, mailer: Mailer, stored: StoredRequest, channel: str) -> None:
    """The network can no longer be asked safely: settle the post as needing a check by a person."""
    label = NETWORKS[channel].label
    if not store.settle_post(
        stored.id, channel, PostState.needs_check, reason="outcome unknown; check the account"
    ):
        return
    store.append_event(
        stored.id,
        "post_needs_check",
        "greenlight",
        f"{label}: the outcome is unknown and cannot be asked safely any more; "
        "a person must check the account",
        stored.content_version,
    )
    record_metric(PUBLISH_FAILURES)
    notify_once(
        store,
        mailer,
        stored,
        _team(store, stored),
        f"check:{channel}",
        f"Check {label}: {stored.request.title}",
        [
            f"Greenlight cannot tell whether the post went out on {label}: the attempt was cut off, "
            "and asking again could post it twice. Please look at the account and post it by hand "
            "if it is missing."
        ],
    )


def _team(store: Store, stored: StoredRequest) -> dict[str, str]:
    """Who on the team hears about this post: whoever accepted it, and the leads."""
    people = {m.email: m.name for m in active_leads(store.members())}
    triage = store.get_decision(stored.id, TRIAGE, stored.content_version)
    if triage and triage.decided_by:
        people.setdefault(triage.decided_by, triage.decided_by)
    return people


def publishing_outcome(channels: list[str], posts: list[PostRecord]) -> RequestStatus:
    """Out on every planned channel: published. Out on some, or some still unsettled (the
    reconciliation may yet find them out): partially published. Out nowhere and nothing left to
    settle: publish failed."""
    states = {p.channel: p.state for p in posts}
    live = [c for c in channels if states.get(c) == PostState.published]
    if len(live) == len(channels):
        return RequestStatus.published
    if live or any(states.get(c) in UNSETTLED_POSTS for c in channels):
        return RequestStatus.partially_published
    return RequestStatus.publish_failed


def finish_publishing(request_id: str, store: Store, mailer: Mailer) -> FinishPublishingOutput:
    """Step "Finish publishing": the outcome over every channel, and the mail with the live links."""
    stored = store.get_request(request_id)
    records = store.posts(request_id)
    posts = {p.channel: p for p in records}
    channels = stored.plan.channels if stored.plan else []
    live = [posts[c] for c in channels if c in posts and posts[c].state == PostState.published]
    status = publishing_outcome(channels, records)
    if stored.status != status:
        stored = store.change_status(stored, status, kind="status_changed", summary=STEP_LABELS[status])
    if live:
        lines = [f"{NETWORKS[p.channel].label}: {p.receipt.url if p.receipt else ''}" for p in live]
        people = {stored.request.requester.email: stored.request.requester.name, **_team(store, stored)}
        notify_once(
            store,
            mailer,
            stored,
            people,
            f"live:{len(live)}",
            f"Live: {stored.request.title}",
            ["It is out. See it here:", *lines, "Greenlight will measure it against its goal."],
        )
    if status == RequestStatus.publish_failed:
        reasons = [
            f"{NETWORKS[c].label}: {posts[c].reason or posts[c].state}" for c in channels if c in posts
        ]
        people = {stored.request.requester.email: stored.request.requester.name, **_team(store, stored)}
        notify_once(
            store,
            mailer,
            stored,
            people,
            "publish-failed",
            f"Not published: {stored.request.title}",
            ["It did not go out on any channel.", *reasons, "The social team will decide what to do next."],
        )
    return FinishPublishingOutput(outcome=status, live=[p.channel for p in live])


def reconcile_posts(store: Store, config: dict[str, Any], mailer: Mailer) -> ReconcilePostsOutput:
    """Scheduled: settle posts left unconfirmed (the workflow gave up, or a crash), asking each
    network whether the post is out before publishing it again with the same key."""
    settled = []
    for request_id, channel in store.unsettled_posts(clock.now() - RECONCILE_AFTER):
        stored = store.get_request(request_id)
        try:
            publish_post(stored.id, channel, store, config, mailer)
        except Exception as error:  # one network down must not stop the others
            store.append_event(
                stored.id,
                "reconcile_failed",
                "greenlight",
                f"{NETWORKS[channel].label}: still unconfirmed ({error})",
                stored.content_version,
            )
            record = store.get_post(stored.id, channel)
            started = _at(record.started_at) if record and record.started_at else clock.now()
            if clock.now() - started < RECONCILE_FOR:
                continue
            # A day of failed attempts: stop asking and tell the team once, instead of forever.
            needs_a_person(store, mailer, stored, channel)
        settled.append(f"{stored.id}/{channel}")
        if store.get_request(stored.id).status != RequestStatus.publishing:  # else the workflow finishes it
            finish_publishing(stored.id, store, mailer)
    return ReconcilePostsOutput(settled=settled)
