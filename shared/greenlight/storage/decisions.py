"""What the workflow waits for, keyed under the request: decisions (one per stage and content
version, holding the task token of the current wait) and waits a person can cut short."""

from typing import Any

from greenlight import clock
from greenlight.models import Decision, DecisionState
from greenlight.storage.items import (
    TableAccess,
    decided,
    decision_key,
    read,
    request_key,
    to_item,
    unless_condition_fails,
)


class Decisions(TableAccess):
    def open_decision(
        self, request_id: str, stage: str, version: int, task_token: str, round_: int
    ) -> Decision:
        """Record that the workflow waits for this decision with this task token (a new token each
        round: reminders and escalations are new waits). Returns the decision as it now stands; if
        it was already made, the caller delivers it on the new token."""
        answer = self.client.update_item(
            TableName=self.table,
            Key=decision_key(request_id, stage, version),
            UpdateExpression="SET task_token = :token, #round = :round, "
            "opened_at = if_not_exists(opened_at, :now), request_id = :id, stage = :stage, "
            "version = :version, #state = if_not_exists(#state, :open)",
            ExpressionAttributeNames={"#round": "round", "#state": "state"},
            ExpressionAttributeValues=to_item(
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
        return Decision.model_validate(read(answer["Attributes"]))

    def get_decision(self, request_id: str, stage: str, version: int) -> Decision | None:
        answer = self.client.get_item(
            TableName=self.table, Key=decision_key(request_id, stage, version), ConsistentRead=True
        )
        return Decision.model_validate(read(answer["Item"])) if "Item" in answer else None

    def record_decision(self, decision: Decision) -> Decision | None:
        """Decide once: the conditional write that makes a double click, a replayed link or twenty
        simultaneous POSTs record exactly one decision. Returns None when it was decided before."""
        answer = unless_condition_fails(
            self.client.update_item, TableName=self.table, ReturnValues="ALL_NEW", **decided(decision)
        )
        return None if answer is None else Decision.model_validate(read(answer["Attributes"]))

    def decisions(self, request_id: str, version: int, stage_prefix: str) -> list[Decision]:
        """Every decision of one content version whose stage starts with the prefix."""
        page = self.client.query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item(
                {":pk": f"REQ#{request_id}", ":prefix": f"DECISION#{stage_prefix}"}
            ),
        )
        found = [Decision.model_validate(read(item)) for item in page.get("Items", [])]
        return [d for d in found if d.version == version]

    def close_decision(self, decision: Decision, state: DecisionState) -> bool:
        """Close an open decision as expired or superseded; False when it was decided first."""
        return (
            unless_condition_fails(
                self.client.update_item,
                TableName=self.table,
                Key=decision_key(decision.request_id, decision.stage, decision.version),
                UpdateExpression="SET #state = :closed",
                ConditionExpression="#state = :open",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item({":closed": state, ":open": DecisionState.open}),
            )
            is not None
        )

    def mark_delivered(self, decision: Decision) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=decision_key(decision.request_id, decision.stage, decision.version),
            UpdateExpression="SET delivered = :true",
            ExpressionAttributeValues=to_item({":true": True}),
        )

    # ---- waits that a person can cut short (the wait for the publish time) ----

    def put_waiter(self, request_id: str, name: str, task_token: str, expected: str) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
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
            TableName=self.table, Key=request_key(request_id, f"WAIT#{name}"), ConsistentRead=True
        )
        return read(answer["Item"]) if "Item" in answer else None
