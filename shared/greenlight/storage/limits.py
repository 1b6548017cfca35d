"""Rate limits, `LIMIT#<scope>#<sha256 of who>` / `WINDOW#<start>`: one counter per scope, person
or client, and hour. `expires_at` is the table's TTL attribute, so old windows delete themselves;
the address or client is stored only as a hash."""

from greenlight.storage.items import TableAccess, to_item


class Limits(TableAccess):
    def count_hit(self, scope: str, who_hash: str, window_start: int, expires_at: int) -> int:
        """Count one more use in the window; the count so far, this one included (atomic ADD)."""
        answer = self.client.update_item(
            TableName=self.table,
            Key=to_item({"pk": f"LIMIT#{scope}#{who_hash}", "sk": f"WINDOW#{window_start}"}),
            UpdateExpression="ADD hits :one SET expires_at = if_not_exists(expires_at, :expires)",
            ExpressionAttributeValues=to_item({":one": 1, ":expires": expires_at}),
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["hits"]["N"])
