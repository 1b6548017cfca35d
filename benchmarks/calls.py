"""The floor under the load figure: the AWS calls the system makes for one request, counted during the
run, and what each costs on moto alone, measured in the same run on the same table.

`Calls` counts every call made through boto3's default session (the functions' clients, the
runtime's), except those made on a thread marked as one of the scripted people's (their `where_is`
and `describe_execution` reads are the benchmark's, not the system's). `in_process` replays each
DynamoDB and SES operation against the runtime's moto, with payloads copied from what the run
stored and sent, and takes the CPU time of the calling thread: moto answers on that thread, so this
is botocore's client side plus moto's handling, nothing of Greenlight. `moto_server` replays the
same DynamoDB calls against `moto_server` in a process of its own and reads that process's CPU time:
what the AWS stand-in would cost if the functions ran in processes of their own and called it over
HTTP."""

import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

HANDLER_ID = "greenlight-benchmark-calls"
REPLAYED = {"GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems", "SendEmail"}
SCRATCH = "BENCH#floor"
ROOT = Path(__file__).resolve().parent.parent


class Calls:
    """(service, operation) → calls made by the system since `install`."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._people = threading.local()

    def _count(self, model: Any, **_: Any) -> None:
        if getattr(self._people, "on", False):
            return
        with self._lock:
            self.counts[model.service_model.service_name, model.name] += 1

    @contextmanager
    def people(self) -> Iterator[None]:
        """Calls made on this thread meanwhile are the scripted people's: not counted."""
        self._people.on = True
        try:
            yield
        finally:
            self._people.on = False

    def install(self) -> Callable[[], None]:
        """Once the runtime has started (moto's mock makes a new default session): each client copies
        the session's handlers when it is made, and the functions make theirs when first invoked."""
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-parameter-build", self._count, unique_id=HANDLER_ID)
        return lambda: events.unregister("before-parameter-build", unique_id=HANDLER_ID)


def _cpu_ms(call: Callable[[int], Any], times: int) -> float:
    """Without the garbage collector: after a run the heap holds every execution moto keeps, and a
    full collection a replayed call happened to trigger would be charged to that call alone."""
    call(-1)  # the first call of a kind builds botocore's and moto's caches: not a steady cost
    gc.collect()
    gc.disable()
    try:
        start = time.thread_time()
        for i in range(times):
            call(i)
        return (time.thread_time() - start) / times * 1000
    finally:
        gc.enable()


def _dynamodb_calls(
    ddb: Any, table: str, item: dict[str, Any], partition: str
) -> dict[str, Callable[[int], Any]]:
    """One call of each DynamoDB operation, as small as the storage layer's usual ones, so that the
    sum is a floor: an item of the median size a request stores (most writes are markers and audit
    events, not the request itself) written only if absent and read back, one attribute set on it
    if it exists, the same update with an audit event as the transaction, and a query of one
    request's decisions."""

    def key(i: int, sk: str = "ITEM") -> dict[str, Any]:
        return {"pk": {"S": f"{SCRATCH}#{i}"}, "sk": {"S": sk}}

    update = {
        "TableName": table,
        "UpdateExpression": "SET touched_at = :t",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeValues": {":t": {"S": "2026-11-30T00:00:00Z"}},
    }
    return {
        "PutItem": lambda i: ddb.put_item(
            TableName=table, Item={**item, **key(i)}, ConditionExpression="attribute_not_exists(pk)"
        ),
        "GetItem": lambda i: ddb.get_item(TableName=table, Key=key(i), ConsistentRead=True),
        "UpdateItem": lambda i: ddb.update_item(Key=key(i), **update),
        "Query": lambda i: ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :decision)",
            ExpressionAttributeValues={":pk": {"S": partition}, ":decision": {"S": "DECISION#"}},
        ),
        "TransactWriteItems": lambda i: ddb.transact_write_items(
            TransactItems=[
                {"Update": {"Key": key(i), **update}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**item, **key(i, f"EVENT#{i}")},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        ),
    }


def partition(runtime: Any, request_id: str) -> list[dict[str, Any]]:
    """Every item the run stored for one request."""
    return list(
        runtime.client("dynamodb").query(
            TableName=runtime.stack.physical_name("Table"),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"REQ#{request_id}"}},
        )["Items"]
    )


def _median_item(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The item of median size among a request's items."""
    return sorted(items, key=lambda item: len(json.dumps(item, default=str)))[len(items) // 2]


def in_process(
    runtime: Any, request_id: str, items: list[dict[str, Any]], times: int = 200
) -> dict[str, float]:
    """CPU milliseconds per call of each replayed operation, on the runtime's moto and table."""
    ddb = runtime.client("dynamodb")
    table = runtime.stack.physical_name("Table")
    calls = _dynamodb_calls(ddb, table, _median_item(items), f"REQ#{request_id}")
    costs = {op: _cpu_ms(call, times) for op, call in calls.items()}
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    raw = next(m.raw_data for m in reversed(sent) if request_id in str(m.raw_data))
    data = raw.encode() if isinstance(raw, str) else raw
    sesv2 = runtime.client("sesv2")
    sender = message_from_bytes(data)["From"]
    costs["SendEmail"] = _cpu_ms(
        lambda i: sesv2.send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": ["floor@example.org"]},
            Content={"Raw": {"Data": data}},
        ),
        times,
    )
    return costs


def _process_cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") * 1000


def moto_server(items: list[dict[str, Any]], times: int = 300) -> dict[str, float]:
    """CPU milliseconds per call spent by `moto_server` (its own process) answering each DynamoDB
    operation sent over HTTP: the AWS stand-in's share alone, without the caller's botocore."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    # With the local runtime's fixes of moto's own costs (local/speed.py: a transaction copies the
    # items it names, not the whole table; a query reads its partition), as the runtime runs it.
    serve = "; ".join(
        [
            "import sys",
            "from local import speed",
            "speed.install()",
            "from moto import server",
            "server.main(sys.argv[1:])",
        ]
    )
    server = subprocess.Popen(
        [sys.executable, "-c", serve, "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},  # not the runtime's endpoints
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        ddb = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        ddb.create_table(
            TableName="floor",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for item in items:  # the request's partition, for the query to read what it read in the run
            ddb.put_item(TableName="floor", Item=item)
        costs = {}
        for op, call in _dynamodb_calls(ddb, "floor", _median_item(items), items[0]["pk"]["S"]).items():
            call(-1)
            before = _process_cpu_ms(server.pid)
            for i in range(times):
                call(i)
            costs[op] = (_process_cpu_ms(server.pid) - before) / times
        return costs
    finally:
        server.terminate()
        server.wait(timeout=10)


def floor_ms(per_request: dict[str, float], costs: dict[str, float]) -> float:
    """CPU milliseconds a request costs in the replayed operations alone."""
    return sum(per_request.get(op, 0.0) * cost for op, cost in costs.items())
