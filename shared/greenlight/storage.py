"""All DynamoDB access, in one place. One table, keys by entity (../shared/DESIGN.md, "Data"):

    REQ#<id>   REQUEST              the request: status, lock (optimistic locking), content version
    REQ#<id>   VERSION#<nnnn>       each content version, immutable
    REQ#<id>   EVENT#<time>#<rand>  the audit trail, append-only
    REQ#<id>   ONCE#<key>           markers for side effects done at most once per key
    REQ#<id>   DECISION#<stage>#<nnnn>  a decision the workflow waits for (its task token), per version
    REQ#<id>   POST#<channel>       the post on one channel: intent, then receipt or refusal
    REQ#<id>   WAIT#<name>          a wait a person can cut short (the publish time), its task token
    LINK#<sha256 of token>  LINK    a secret link; `expires_at` is the TTL attribute
    TEAM       MEMBER#<email>       the roster
    SESSION#<sha256 of cookie>  SESSION   a team member's signed-in session (TTL)

GSI1 (gsi1pk = STATUS#<status>, gsi1sk = <created_at>#<id>) is the queue by status.
GSI2 (gsi2pk = DUE#<kind>, gsi2sk = <time>#...) holds work falling due: unsettled posts to reconcile.
"""

import json
import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from greenlight import clock
from greenlight.errors import Conflict, NotFound
from greenlight.models import (
    AuditEvent,
    Decision,
    DecisionState,
    Link,
    Member,
    PostRecord,
    PostState,
    RequestInput,
    RequestStatus,
    Session,
    StoredRequest,
)

# What a status change may record on the request item (StoredRequest has a field for each).
RECORDED_FACTS = {"plan", "assessment", "review"}

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB has no floats: go through JSON so every float becomes a Decimal.
    plain = json.loads(json.dumps(values, default=str), parse_float=Decimal)
    return {k: _serializer.serialize(v) for k, v in plain.items() if v is not None}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """Decimals back to int/float so pydantic and JSON see ordinary numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _failed_condition(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return code == "ConditionalCheckFailedException"


def _unless_condition_fails(call: Callable[..., Any], **kwargs: Any) -> Any | None:
    """The call's answer, or None when its condition failed: someone else got there first."""
    try:
        return call(**kwargs)
    except ClientError as error:
        if _failed_condition(error):
            return None
        raise


class Store:
    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table = table_name

    # ---- requests ----

    def create_request(
        self, request_id: str, request: RequestInput, base_url: str, status_link: Link
    ) -> StoredRequest:
        """Store a new request with its first version, its first audit event and the requester's
        status link, all or nothing."""
        now = clock.now()
        stamp = clock.iso(now)
        data = request.model_dump(mode="json")
        stored = StoredRequest(
            id=request_id,
            status=RequestStatus.submitted,
            content_version=1,
            lock=1,
            created_at=now,
            updated_at=now,
            base_url=base_url,
            request=request,
        )
        items = [
            (self._request_item(stored), "attribute_not_exists(pk)"),
            (
                {
                    "pk": f"REQ#{request_id}",
                    "sk": "VERSION#0001",
                    "version": 1,
                    "created_at": stamp,
                    "request": data,
                },
                "attribute_not_exists(pk)",
            ),
            (
                self._event_item(
                    request_id,
                    now,
                    "submitted",
                    request.requester.email,
                    f"Request submitted by {request.requester.name}",
                    1,
                ),
                None,
            ),
            (
                {
                    "pk": f"LINK#{status_link.hash}",
                    "sk": "LINK",
                    **status_link.model_dump(mode="json", exclude={"hash"}),
                },
                "attribute_not_exists(pk)",
            ),
        ]
        actions = []
        for item, condition in items:
            put: dict[str, Any] = {"TableName": self.table, "Item": _to_item(item)}
            if condition:
                put["ConditionExpression"] = condition
            actions.append({"Put": put})
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if _failed_condition(error):
                raise Conflict(f"request {request_id} already exists") from error
            raise
        return stored

    def _request_item(self, stored: StoredRequest) -> dict[str, Any]:
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

    def get_request(self, request_id: str) -> StoredRequest:
        answer = self.client.get_item(
            TableName=self.table,
            Key=_to_item({"pk": f"REQ#{request_id}", "sk": "REQUEST"}),
            ConsistentRead=True,
        )
        if "Item" not in answer:
            raise NotFound(f"no request {request_id}")
        item = _plain(_from_item(answer["Item"]))
        return _stored(item)

    def set_status(self, stored: StoredRequest, status: RequestStatus, **facts: Any) -> StoredRequest:
        """Move a request to a new status, recording facts about it on the way (its plan, its risk
        assessment, its review), if nobody changed it since it was read."""
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
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_to_item({"pk": f"REQ#{stored.id}", "sk": "REQUEST"}),
                UpdateExpression=expression,
                ConditionExpression="#lock = :lock",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#lock": "lock",
                    **{f"#{n}": n for n in facts},
                },
                ExpressionAttributeValues=_to_item(values),
            )
        except ClientError as error:
            if _failed_condition(error):
                raise Conflict(f"request {stored.id} changed since it was read") from error
            raise
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
    ) -> StoredRequest:
        """A revised request becomes the next content version, if nobody changed it meanwhile, and
        in the same transaction answers the open decision that waited for it (so a crash cannot
        keep the new version while the workflow still waits, or the other way round)."""
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
        actions = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _to_item(self._request_item(updated)),
                    "ConditionExpression": "#lock = :lock",
                    "ExpressionAttributeNames": {"#lock": "lock"},
                    "ExpressionAttributeValues": _to_item({":lock": stored.lock}),
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "Item": _to_item(
                        {
                            "pk": f"REQ#{stored.id}",
                            "sk": f"VERSION#{version:04d}",
                            "version": version,
                            "created_at": clock.iso(now),
                            "request": request.model_dump(mode="json"),
                        }
                    ),
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _to_item(
                        self._event_item(
                            stored.id,
                            now,
                            "version_submitted",
                            actor,
                            f"Version {version} submitted",
                            version,
                        )
                    ),
                }
            },
        ]
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if _failed_condition(error):
                raise Conflict(f"request {stored.id} changed since it was read") from error
            raise
        return updated

    def requests_with_status(self, status: RequestStatus, limit: int = 200) -> list[StoredRequest]:
        """The queue for one status, oldest first."""
        page = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            Limit=limit,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=_to_item({":pk": f"STATUS#{status}"}),
        )
        return [_stored(_plain(_from_item(item))) for item in page.get("Items", [])]

    def request_ids_with_status(self, status: RequestStatus, created_before: datetime) -> list[str]:
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk < :before",
            "ExpressionAttributeValues": _to_item(
                {":pk": f"STATUS#{status}", ":before": clock.iso(created_before)}
            ),
            "ProjectionExpression": "id",
        }
        while True:
            page = self.client.query(**kwargs)
            ids += [_from_item(item)["id"] for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return ids
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ---- the audit trail ----

    def _event_item(
        self, request_id: str, at: datetime, kind: str, actor: str, summary: str, version: int | None
    ) -> dict[str, Any]:
        return {
            "pk": f"REQ#{request_id}",
            "sk": f"EVENT#{clock.iso(at)}#{secrets.token_hex(3)}",
            "at": clock.iso(at),
            "kind": kind,
            "actor": actor,
            "summary": summary,
            "version": version,
        }

    def append_event(
        self, request_id: str, kind: str, actor: str, summary: str, version: int | None = None
    ) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_to_item(self._event_item(request_id, clock.now(), kind, actor, summary, version)),
            ConditionExpression="attribute_not_exists(pk)",  # append-only: never overwrite
        )

    def history(self, request_id: str) -> list[AuditEvent]:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=_to_item({":pk": f"REQ#{request_id}", ":prefix": "EVENT#"}),
        )
        return [AuditEvent.model_validate(_plain(_from_item(item))) for item in page.get("Items", [])]

    # ---- at most once ----

    def claim_once(self, request_id: str, key: str) -> bool:
        """True the first time a key is claimed for a request, False ever after."""
        return (
            _unless_condition_fails(
                self.client.put_item,
                TableName=self.table,
                Item=_to_item({"pk": f"REQ#{request_id}", "sk": f"ONCE#{key}", "at": clock.iso(clock.now())}),
                ConditionExpression="attribute_not_exists(pk)",
            )
            is not None
        )

    def release_once(self, request_id: str, key: str) -> None:
        """Give a claim back when the side effect it guarded did not happen."""
        self.client.delete_item(
            TableName=self.table, Key=_to_item({"pk": f"REQ#{request_id}", "sk": f"ONCE#{key}"})
        )

    # ---- secret links ----

    def put_link(self, link: Link) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_to_item(
                {"pk": f"LINK#{link.hash}", "sk": "LINK", **link.model_dump(mode="json", exclude={"hash"})}
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_link(self, link_hash: str) -> Link | None:
        """The link, expired or not (the caller says which is which), or None when unknown."""
        answer = self.client.get_item(
            TableName=self.table, Key=_to_item({"pk": f"LINK#{link_hash}", "sk": "LINK"}), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        return Link.model_validate(_plain(_from_item(answer["Item"])) | {"hash": link_hash})

    def use_link(self, link: Link) -> bool:
        """Mark a single-use link used; False when it had been used already."""
        return (
            _unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=_to_item({"pk": f"LINK#{link.hash}", "sk": "LINK"}),
                UpdateExpression="SET used_at = :now",
                ConditionExpression="attribute_not_exists(used_at)",
                ExpressionAttributeValues=_to_item({":now": clock.iso(clock.now())}),
            )
            is not None
        )

    # ---- decisions: one per request, stage and content version ----

    def _decision_key(self, request_id: str, stage: str, version: int) -> dict[str, Any]:
        return _to_item({"pk": f"REQ#{request_id}", "sk": f"DECISION#{stage}#{version:04d}"})

    def open_decision(
        self, request_id: str, stage: str, version: int, task_token: str, round_: int
    ) -> Decision:
        """Record that the workflow waits for this decision with this task token (a new token each
        round: reminders and escalations are new waits). Returns the decision as it now stands; if
        it was already made, the caller delivers it on the new token."""
        answer = self.client.update_item(
            TableName=self.table,
            Key=self._decision_key(request_id, stage, version),
            UpdateExpression="SET task_token = :token, #round = :round, "
            "opened_at = if_not_exists(opened_at, :now), request_id = :id, stage = :stage, "
            "version = :version, #state = if_not_exists(#state, :open)",
            ExpressionAttributeNames={"#round": "round", "#state": "state"},
            ExpressionAttributeValues=_to_item(
                {
                    ":token": task_token,
                    ":round": round_,
                    ":now": clock.iso(clock.now()),
                    ":id": request_id,
                    ":stage": stage,
                    ":version": version,
                    ":open": DecisionState.open,
                }
            ),
            ReturnValues="ALL_NEW",
        )
        return Decision.model_validate(_plain(_from_item(answer["Attributes"])))

    def get_decision(self, request_id: str, stage: str, version: int) -> Decision | None:
        answer = self.client.get_item(
            TableName=self.table, Key=self._decision_key(request_id, stage, version), ConsistentRead=True
        )
        return Decision.model_validate(_plain(_from_item(answer["Item"]))) if "Item" in answer else None

    def record_decision(self, decision: Decision) -> Decision | None:
        """Decide once: the conditional write that makes a double click, a replayed link or twenty
        simultaneous POSTs record exactly one decision. Returns None when it was decided before."""
        values = decision.model_dump(
            mode="json",
            include={"outcome", "comment", "decided_by", "decided_via", "decided_at", "details"},
            exclude_none=True,
        )
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=self._decision_key(decision.request_id, decision.stage, decision.version),
                UpdateExpression="SET #state = :decided, " + ", ".join(f"#{k} = :{k}" for k in values),
                ConditionExpression="#state = :open",
                ExpressionAttributeNames={"#state": "state", **{f"#{k}": k for k in values}},
                ExpressionAttributeValues=_to_item(
                    {
                        ":decided": DecisionState.decided,
                        ":open": DecisionState.open,
                        **{f":{k}": v for k, v in values.items()},
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _failed_condition(error):
                return None
            raise
        return Decision.model_validate(_plain(_from_item(answer["Attributes"])))

    def decisions(self, request_id: str, version: int, stage_prefix: str) -> list[Decision]:
        """Every decision of one content version whose stage starts with the prefix."""
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=_to_item(
                {":pk": f"REQ#{request_id}", ":prefix": f"DECISION#{stage_prefix}"}
            ),
        )
        found = [Decision.model_validate(_plain(_from_item(item))) for item in page.get("Items", [])]
        return [d for d in found if d.version == version]

    def close_decision(self, decision: Decision, state: DecisionState) -> bool:
        """Close an open decision as expired or superseded; False when it was decided first."""
        return (
            _unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=self._decision_key(decision.request_id, decision.stage, decision.version),
                UpdateExpression="SET #state = :closed",
                ConditionExpression="#state = :open",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=_to_item({":closed": state, ":open": DecisionState.open}),
            )
            is not None
        )

    def mark_delivered(self, decision: Decision) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self._decision_key(decision.request_id, decision.stage, decision.version),
            UpdateExpression="SET delivered = :true",
            ExpressionAttributeValues=_to_item({":true": True}),
        )

    # ---- posts: one per request and channel ----

    def _post_key(self, request_id: str, channel: str) -> dict[str, Any]:
        return _to_item({"pk": f"REQ#{request_id}", "sk": f"POST#{channel}"})

    def start_post(self, request_id: str, channel: str, version: int, key: str) -> bool:
        """Write the publish intent before the network call; False when an attempt began before.
        Unsettled posts sit in GSI2 (DUE#reconcile) until a receipt or a refusal settles them."""
        now = clock.iso(clock.now())
        return (
            _unless_condition_fails(
                self.client.put_item,
                TableName=self.table,
                Item=_to_item(
                    {
                        "pk": f"REQ#{request_id}",
                        "sk": f"POST#{channel}",
                        "request_id": request_id,
                        "channel": channel,
                        "version": version,
                        "key": key,
                        "state": PostState.publishing,
                        "started_at": now,
                        "gsi2pk": "DUE#reconcile",
                        "gsi2sk": f"{now}#{request_id}#{channel}",
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
            is not None
        )

    def get_post(self, request_id: str, channel: str) -> PostRecord | None:
        answer = self.client.get_item(
            TableName=self.table, Key=self._post_key(request_id, channel), ConsistentRead=True
        )
        return PostRecord.model_validate(_plain(_from_item(answer["Item"]))) if "Item" in answer else None

    def posts(self, request_id: str) -> list[PostRecord]:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=_to_item({":pk": f"REQ#{request_id}", ":prefix": "POST#"}),
        )
        return [PostRecord.model_validate(_plain(_from_item(item))) for item in page.get("Items", [])]

    def settle_post(self, request_id: str, channel: str, state: PostState, **facts: Any) -> bool:
        """Record a receipt (published) or a refusal (rejected) once; False if it was settled before."""
        names = {f"#{k}": k for k in facts}
        return (
            _unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=self._post_key(request_id, channel),
                UpdateExpression="SET #state = :state"
                + "".join(f", #{k} = :{k}" for k in facts)
                + " REMOVE gsi2pk, gsi2sk",
                ConditionExpression="#state IN (:publishing, :unconfirmed)",
                ExpressionAttributeNames={"#state": "state", **names},
                ExpressionAttributeValues=_to_item(
                    {
                        ":state": state,
                        ":publishing": PostState.publishing,
                        ":unconfirmed": PostState.unconfirmed,
                        **{f":{k}": v for k, v in facts.items()},
                    }
                ),
            )
            is not None
        )

    def mark_unconfirmed(self, request_id: str, channel: str) -> bool:
        """An attempt began and its outcome is unknown (a crash or a time-out between the network
        call and the receipt). True the first time."""
        return (
            _unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=self._post_key(request_id, channel),
                UpdateExpression="SET #state = :unconfirmed",
                ConditionExpression="#state = :publishing",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=_to_item(
                    {":unconfirmed": PostState.unconfirmed, ":publishing": PostState.publishing}
                ),
            )
            is not None
        )

    def unsettled_posts(self, started_before: datetime) -> list[tuple[str, str]]:
        """(request id, channel) of every post still unsettled that was started before the time.
        GSI2 projects keys only: the keys say which post it is."""
        page = self.client.query(
            TableName=self.table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk AND gsi2sk < :before",
            ExpressionAttributeValues=_to_item(
                {":pk": "DUE#reconcile", ":before": clock.iso(started_before)}
            ),
        )
        keys = [_from_item(item) for item in page.get("Items", [])]
        return [(key["pk"].removeprefix("REQ#"), key["sk"].removeprefix("POST#")) for key in keys]

    # ---- waits that a person can cut short (the wait for the publish time) ----

    def put_waiter(self, request_id: str, name: str, task_token: str, expected: str) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_to_item(
                {
                    "pk": f"REQ#{request_id}",
                    "sk": f"WAIT#{name}",
                    "task_token": task_token,
                    "expected": expected,
                    "at": clock.iso(clock.now()),
                }
            ),
        )

    def get_waiter(self, request_id: str, name: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key=_to_item({"pk": f"REQ#{request_id}", "sk": f"WAIT#{name}"}),
            ConsistentRead=True,
        )
        return _plain(_from_item(answer["Item"])) if "Item" in answer else None

    # ---- the team ----

    def put_member(self, member: Member) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_to_item({"pk": "TEAM", "sk": f"MEMBER#{member.email}", **member.model_dump(mode="json")}),
        )

    def get_member(self, email: str) -> Member | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key=_to_item({"pk": "TEAM", "sk": f"MEMBER#{email.lower()}"}),
            ConsistentRead=True,
        )
        return Member.model_validate(_plain(_from_item(answer["Item"]))) if "Item" in answer else None

    def members(self) -> list[Member]:
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
            ExpressionAttributeValues=_to_item({":pk": "TEAM", ":m": "MEMBER#"}),
        )
        return [Member.model_validate(_plain(_from_item(item))) for item in page.get("Items", [])]

    # ---- team sessions ----

    def put_session(self, session_hash: str, session: Session) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_to_item(
                {"pk": f"SESSION#{session_hash}", "sk": "SESSION", **session.model_dump(mode="json")}
            ),
        )

    def get_session(self, session_hash: str) -> Session | None:
        answer = self.client.get_item(
            TableName=self.table,
            Key=_to_item({"pk": f"SESSION#{session_hash}", "sk": "SESSION"}),
            ConsistentRead=True,
        )
        if "Item" not in answer:
            return None
        session = Session.model_validate(_plain(_from_item(answer["Item"])))
        return session if session.expires_at > clock.now().timestamp() else None

    def delete_session(self, session_hash: str) -> None:
        self.client.delete_item(
            TableName=self.table, Key=_to_item({"pk": f"SESSION#{session_hash}", "sk": "SESSION"})
        )


def _stored(item: dict[str, Any]) -> StoredRequest:
    # Stored requests were valid when stored; re-checking "the window is in the future" on read
    # would make every old request unreadable, so build the nested model without validation.
    request = RequestInput.model_validate(item["request"], context={"stored": True})
    return StoredRequest.model_validate({**item, "request": request})
