"""The request aggregate: the request, its content versions, its status with its audit trail, and
its at-most-once markers. Everything under `REQ#<id>` except decisions, waits and posts."""

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from greenlight import clock
from greenlight.errors import NotFound
from greenlight.models import (
    AuditEvent,
    Decision,
    DecisionState,
    Link,
    RequestInput,
    RequestStatus,
    StoredRequest,
)
from greenlight.storage.items import (
    TableAccess,
    decided,
    decision_key,
    event_item,
    from_item,
    link_item,
    read,
    request_key,
    to_item,
    transact,
    unless_condition_fails,
)

# What a status change may record on the request item (StoredRequest has a field for each).
RECORDED_FACTS = {"plan", "assessment", "review", "failure"}

GREENLIGHT = "greenlight"  # the actor of what the workflow does by itself


class Requests(TableAccess):
    def create_request(
        self,
        request_id: str,
        request: RequestInput,
        base_url: str,
        status_link: Link,
        status: RequestStatus = RequestStatus.submitted,
        expires_at: datetime | None = None,
    ) -> StoredRequest:
        """Store a new request with its first version, its first audit event and the requester's
        status link, all or nothing. With `expires_at` (an unconfirmed request), DynamoDB's TTL
        removes its items then, unless `keep_request` and the next status change clear it."""
        now = clock.now()
        ttl = {"expires_at": int(expires_at.timestamp())} if expires_at else {}
        stored = StoredRequest(
            id=request_id,
            status=status,
            content_version=1,
            lock=1,
            created_at=now,
            updated_at=now,
            base_url=base_url,
            request=request,
        )
        new = "attribute_not_exists(pk)"
        submitted = event_item(
            request_id,
            now,
            "submitted",
            request.requester.email,
            f"Request submitted by {request.requester.name}",
            1,
        )
        transact(
            self,
            [
                {"Put": {"Item": to_item(_request_item(stored) | ttl), "ConditionExpression": new}},
                {
                    "Put": {
                        "Item": to_item(_version_item(request_id, 1, now, request) | ttl),
                        "ConditionExpression": new,
                    }
                },
                {"Put": {"Item": to_item(submitted | ttl)}},
                {"Put": {"Item": to_item(link_item(status_link)), "ConditionExpression": new}},
            ],
            conflict=f"request {request_id} already exists",
        )
        return stored

    def get_request(self, request_id: str) -> StoredRequest:
        answer = self.client.get_item(TableName=self.table, Key=request_key(request_id), ConsistentRead=True)
        if "Item" not in answer or _expired(answer["Item"]):
            raise NotFound(f"no request {request_id}")
        return _stored(read(answer["Item"]))

    def keep_request(self, request_id: str) -> None:
        """Clear the TTL of a confirmed request's items (all but the request item itself, whose
        TTL goes with its status change: `change_status`)."""
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk",
            FilterExpression="attribute_exists(expires_at)",
            ProjectionExpression="pk, sk",
            ExpressionAttributeValues=to_item({":pk": f"REQ#{request_id}"}),
        )
        for key in page.get("Items", []):
            if from_item(key)["sk"] == "REQUEST":
                continue
            self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="REMOVE expires_at",
                ConditionExpression="attribute_exists(pk)",
            )

    def change_status(
        self,
        stored: StoredRequest,
        status: RequestStatus,
        *,
        kind: str,
        summary: str,
        actor: str = GREENLIGHT,
        **facts: Any,
    ) -> StoredRequest:
        """Move a request to a status (it may be the one it has), recording facts about it on the way
        (its plan, its risk assessment, its review), if nobody changed it since it was read, and
        append the audit event that says so: both or neither, so the trail never tells of a change
        that did not happen or misses one that did. A lost race is a Conflict, nothing written."""
        unknown = set(facts) - RECORDED_FACTS
        if unknown:
            raise ValueError(f"not a recorded fact of a request: {', '.join(sorted(unknown))}")
        now = clock.now()
        values: dict[str, Any] = {
            ":status": status.value,
            ":gsi1pk": f"STATUS#{status}",
            ":now": clock.iso(now),
            ":lock": stored.lock,
            ":next": stored.lock + 1,
            **{
                f":{name}": value.model_dump(mode="json") if isinstance(value, BaseModel) else value
                for name, value in facts.items()
            },
        }
        expression = "SET #status = :status, gsi1pk = :gsi1pk, updated_at = :now, #lock = :next"
        expression += "".join(f", #{name} = :{name}" for name in facts)
        expression += " REMOVE expires_at"  # an unconfirmed request's TTL ends with its first change
        event = event_item(stored.id, now, kind, actor, summary, stored.content_version)
        transact(
            self,
            [
                {
                    "Update": {
                        "Key": request_key(stored.id),
                        "UpdateExpression": expression,
                        "ConditionExpression": "#lock = :lock",
                        "ExpressionAttributeNames": {
                            "#status": "status",
                            "#lock": "lock",
                            **{f"#{n}": n for n in facts},
                        },
                        "ExpressionAttributeValues": to_item(values),
                    }
                },
                {"Put": {"Item": to_item(event), "ConditionExpression": "attribute_not_exists(pk)"}},
            ],
            conflict=f"request {stored.id} changed since it was read",
        )
        return stored.model_copy(
            update={"status": status, "lock": stored.lock + 1, "updated_at": now, **facts}
        )

    def add_version(
        self,
        stored: StoredRequest,
        request: RequestInput,
        actor: str,
        status: RequestStatus,
        answers: Decision,
        carried: bool = False,
    ) -> StoredRequest:
        """A revised request becomes the next content version, if nobody changed it meanwhile, and
        in the same transaction answers the open decision that waited for it (so a crash cannot
        keep the new version while the workflow still waits, or the other way round). `carried`:
        the answer is also the new version's decision, made (a triager's accept with new images)."""
        now = clock.now()
        version = stored.content_version + 1
        updated = stored.model_copy(
            update={
                "request": request,
                "content_version": version,
                "lock": stored.lock + 1,
                "updated_at": now,
                "status": status,
            }
        )
        submitted = event_item(
            stored.id, now, "version_submitted", actor, f"Version {version} submitted", version
        )
        transact(
            self,
            [
                {
                    "Put": {
                        "Item": to_item(_request_item(updated)),
                        "ConditionExpression": "#lock = :lock",
                        "ExpressionAttributeNames": {"#lock": "lock"},
                        "ExpressionAttributeValues": to_item({":lock": stored.lock}),
                    }
                },
                {
                    "Put": {
                        "Item": to_item(_version_item(stored.id, version, now, request)),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": {"Item": to_item(submitted)}},
                {"Update": decided(answers)},
                *(
                    [
                        {
                            "Put": {
                                "Item": _carried(answers, version),
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        }
                    ]
                    if carried
                    else []
                ),
            ],
            conflict=f"request {stored.id} changed since it was read, or its wait for a revision ended",
        )
        return updated

    def requests_with_status(self, status: RequestStatus, limit: int = 200) -> list[StoredRequest]:
        """The queue for one status, oldest first."""
        page = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            Limit=limit,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"STATUS#{status}"}),
        )
        return [_stored(read(item)) for item in page.get("Items", [])]

    def pilots_with_status(self, status: RequestStatus, created_since: datetime) -> list[StoredRequest]:
        """The requests with a pilot in one status created since `created_since`, newest first,
        paging through: the filter keeps the others out of the answer (they are still read)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "ScanIndexForward": False,
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk >= :since",
            "FilterExpression": "attribute_type(#plan.pilot_plan, :map)",
            "ExpressionAttributeNames": {"#plan": "plan"},
            "ExpressionAttributeValues": to_item(
                {":pk": f"STATUS#{status}", ":since": clock.iso(created_since), ":map": "M"}
            ),
        }
        return [_stored(read(item)) for item in self.query_all(**kwargs)]

    def request_ids_with_status(self, status: RequestStatus, created_before: datetime) -> list[str]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk < :before",
            "ExpressionAttributeValues": to_item(
                {":pk": f"STATUS#{status}", ":before": clock.iso(created_before)}
            ),
            "ProjectionExpression": "id",
        }
        return [from_item(item)["id"] for item in self.query_all(**kwargs)]

    # ---- the audit trail: append-only ----

    def append_event(
        self,
        request_id: str,
        kind: str,
        actor: str,
        summary: str,
        version: int | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        """An event that changes no status (a mail sent, a decision, a post); a status change
        writes its event with it (change_status). `expires_at`: an unconfirmed request's."""
        item = event_item(request_id, clock.now(), kind, actor, summary, version)
        if expires_at:
            item["expires_at"] = int(expires_at.timestamp())
        self.client.put_item(
            TableName=self.table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(pk)",  # append-only: never overwrite
        )

    def history(self, request_id: str) -> list[AuditEvent]:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": f"REQ#{request_id}", ":prefix": "EVENT#"}),
        )
        return [AuditEvent.model_validate(read(item)) for item in page.get("Items", [])]

    # ---- at most once ----

    def claim_once(self, request_id: str, key: str) -> bool:
        """True the first time a key is claimed for a request (or claimed again after a release),
        False ever after."""
        return (
            unless_condition_fails(
                self.client.put_item,
                TableName=self.table,
                Item=to_item({"pk": f"REQ#{request_id}", "sk": f"ONCE#{key}", "at": clock.iso(clock.now())}),
                ConditionExpression="attribute_not_exists(pk) OR attribute_exists(released_at)",
            )
            is not None
        )

    def stalled_since(self, request_id: str, updated_at: datetime) -> datetime:
        """When a sweep first found the request past its deadline with no change since `updated_at`:
        now on the first look (or once the request has moved on since the last look), the earlier
        look's time after that. One item, `STALL`, overwritten: it only remembers the last look."""
        now = clock.now()
        item = {
            "pk": f"REQ#{request_id}",
            "sk": "STALL",
            "updated_at": clock.iso(updated_at),
            "seen_at": clock.iso(now),
        }
        first = unless_condition_fails(
            self.client.put_item,
            TableName=self.table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(pk) OR updated_at <> :updated",
            ExpressionAttributeValues=to_item({":updated": clock.iso(updated_at)}),
        )
        if first is not None:
            return now
        answer = self.client.get_item(
            TableName=self.table, Key=request_key(request_id, "STALL"), ConsistentRead=True
        )
        return datetime.fromisoformat(read(answer["Item"])["seen_at"])

    def lease_once(self, request_id: str, key: str, lease: timedelta) -> bool | None:
        """Hold a key for `lease` to do its side effect: True when taken (free, or an earlier lease
        ran out without being settled: its holder crashed), False while another lease runs, None
        when it was settled (done) or claimed for good (claim_once)."""
        for _ in range(3):  # a lease given back between the put and the read: try again
            now = clock.now()
            taken = unless_condition_fails(
                self.client.put_item,
                TableName=self.table,
                Item=to_item(
                    {
                        "pk": f"REQ#{request_id}",
                        "sk": f"ONCE#{key}",
                        "at": clock.iso(now),
                        "lease_until": clock.iso(now + lease),
                    }
                ),
                # Free, given back (release_once marks it), or an earlier lease ran out.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR attribute_exists(released_at) OR lease_until < :now"
                ),
                ExpressionAttributeValues=to_item({":now": clock.iso(now)}),
            )
            if taken is not None:
                return True
            answer = self.client.get_item(
                TableName=self.table, Key=request_key(request_id, f"ONCE#{key}"), ConsistentRead=True
            )
            item = answer.get("Item")
            if item and "released_at" not in item:
                return False if "lease_until" in item else None
        return False

    def settle_once(self, request_id: str, key: str) -> None:
        """The leased side effect happened: the key is done for good."""
        self.client.update_item(
            TableName=self.table,
            Key=request_key(request_id, f"ONCE#{key}"),
            UpdateExpression="REMOVE lease_until",
        )

    def release_once(self, request_id: str, key: str) -> None:
        """Give a claim back when the side effect it guarded did not happen. Marked, not deleted:
        no function may delete items in a request's partition, where its audit trail lives."""
        self.client.update_item(
            TableName=self.table,
            Key=request_key(request_id, f"ONCE#{key}"),
            UpdateExpression="SET released_at = :now",
            ExpressionAttributeValues=to_item({":now": clock.iso(clock.now())}),
        )


def _expired(item: dict[str, Any]) -> bool:
    """Past its TTL: DynamoDB removes such items within days (moto never does), so reads say so."""
    expires_at = item.get("expires_at", {}).get("N")
    return expires_at is not None and int(expires_at) <= clock.now().timestamp()


def _request_item(stored: StoredRequest) -> dict[str, Any]:
    return {
        "pk": f"REQ#{stored.id}",
        "sk": "REQUEST",
        "gsi1pk": f"STATUS#{stored.status}",
        "gsi1sk": f"{clock.iso(stored.created_at)}#{stored.id}",
        "id": stored.id,
        "status": stored.status,
        "content_version": stored.content_version,
        "lock": stored.lock,
        "created_at": clock.iso(stored.created_at),
        "updated_at": clock.iso(stored.updated_at),
        "base_url": stored.base_url,
        "title": stored.request.title,
        "request": stored.request.model_dump(mode="json"),
    }


def _version_item(request_id: str, version: int, at: datetime, request: RequestInput) -> dict[str, Any]:
    return {
        "pk": f"REQ#{request_id}",
        "sk": f"VERSION#{version:04d}",
        "version": version,
        "created_at": clock.iso(at),
        "request": request.model_dump(mode="json"),
    }


def _stored(item: dict[str, Any]) -> StoredRequest:
    # Stored requests were valid when stored; re-checking "the window is in the future" on read
    # would make every old request unreadable, so build the nested model without validation.
    request = RequestInput.model_validate(item["request"], context={"stored": True})
    return StoredRequest.model_validate({**item, "request": request})


def _carried(answer: Decision, version: int) -> dict[str, Any]:
    """The decision `answer` recorded, made, for the next content version (no wait holds a token for it)."""
    made = answer.model_copy(update={"version": version, "state": DecisionState.decided, "task_token": None})
    return decision_key(answer.request_id, answer.stage, version) | to_item(
        made.model_dump(mode="json", exclude_none=True)
    )
