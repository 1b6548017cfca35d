"""The pilot aggregate: its slot requests, its verdict and the team's decision after it.

A slot request is a request item of its own (`REQ#<request id>-s<block><variant>`), so the
exactly-once publishing and the measuring sweep work on each slot unchanged. It is written without
`gsi1` keys: it never appears in the team's queues, whose unit is the pilot's own request. Its
status is `publishing` from the start and never changes (no queue reads it; reconciliation leaves
the finishing of a `publishing` request to its workflow, here the pilot's)."""

from typing import Any

from greenlight import clock
from greenlight.errors import Conflict
from greenlight.models import StoredRequest
from greenlight.storage.items import TableAccess, event_item, read, request_key, to_item, transact
from greenlight.storage.requests import _request_item


class Pilots(TableAccess):
    def put_slot_request(self, slot: StoredRequest, pilot_of: str) -> bool:
        """Write a slot request once; False when it exists (a retried start)."""
        item = _request_item(slot)
        del item["gsi1pk"], item["gsi1sk"]
        item["pilot_of"] = pilot_of
        item["plan"] = slot.plan.model_dump(mode="json") if slot.plan else None
        return self.put_new(item)

    def record_verdict(self, request_id: str, verdict: dict[str, Any], summary: str, version: int) -> bool:
        """The pilot's verdict and its audit event, once: False when it was recorded before."""
        now = clock.now()
        item = {"pk": f"REQ#{request_id}", "sk": "PILOT", "verdict": verdict, "computed_at": clock.iso(now)}
        event = event_item(request_id, now, "pilot_evaluated", "greenlight", summary, version)
        return self._once(item, event, f"the pilot of {request_id} was evaluated before")

    def record_decision(
        self, request_id: str, decision: dict[str, Any], person: str, summary: str, version: int
    ) -> bool:
        """The team's decision after the verdict and its audit event, once: False when the pilot
        was decided before."""
        now = clock.now()
        item = {"pk": f"REQ#{request_id}", "sk": "PILOT#DECISION", "decision": decision}
        event = event_item(request_id, now, "pilot_decided", person, summary, version)
        return self._once(item, event, f"the pilot of {request_id} was decided before")

    def _once(self, item: dict[str, Any], event: dict[str, Any], conflict: str) -> bool:
        new = "attribute_not_exists(pk)"
        try:
            transact(
                self,
                [
                    {"Put": {"Item": to_item(item), "ConditionExpression": new}},
                    {"Put": {"Item": to_item(event), "ConditionExpression": new}},
                ],
                conflict=conflict,
            )
        except Conflict:
            return False
        return True

    def verdict(self, request_id: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=request_key(request_id, "PILOT"), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        found: dict[str, Any] = read(answer["Item"])["verdict"]
        return found

    def decision(self, request_id: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.table, Key=request_key(request_id, "PILOT#DECISION"), ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        found: dict[str, Any] = read(answer["Item"])["decision"]
        return found
