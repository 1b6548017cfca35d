"""Work moto does that no answer needs, cut for the local runtime (found by profiling the load
benchmark, `docs/RELIABILITY.md` "Load"). Each patch keeps moto's answers as they were
(tests/local/test_speed.py) and returns its undo.

- A `TransactWriteItems` deep-copies every table it names, to roll back on a failed condition:
  with a few thousand items that is most of a request's CPU time, growing with the table. Only the
  items the transaction names can change: those are copied instead, and put back on failure.
- A query of a table sorts all of its items to find one partition's: it is given that partition.
- The response serializer walks DynamoDB's `AttributeValue` shape member by member, with five
  alias lookups each, for every attribute of every item read: an attribute value of strings,
  numbers, booleans, maps and lists is sent as it is instead (it serializes to itself).
- Every call lists the methods of moto's responses class (inspect.getmembers) to check its action.
- botocore signs every request (SigV4: a canonical request, four HMACs) that moto never checks:
  about a quarter of a DynamoDB call's CPU time. Clients of boto3's default session (the
  functions', the runtime's) send DynamoDB, SES, Step Functions and Lambda calls unsigned; moto
  answers them for the same account. S3 stays signed (presigned uploads carry their signature).
- The Step Functions interpreter creates a boto3 client for every Task (about 9 ms each), parses
  the definition with ANTLR and builds its program of evaluation components for every execution
  (about 14% of the CPU time of an intake), and builds a JSONPath parser (reading its LALR
  tables) for every path it evaluates: clients, parse trees and parsed paths are kept.
"""

import copy
import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

Undo = Callable[[], None]


def _replace(owner: Any, name: str, new: Any) -> Undo:
    original = vars(owner)[name]
    setattr(owner, name, new)
    return lambda: setattr(owner, name, original)


class _NoTableCopies:
    """Stands in for the `copy` module inside moto's DynamoDB models: a whole table is not copied
    (the transaction's own items are, by `_transactions_copy_their_items`)."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _transactions_copy_their_items() -> list[Undo]:
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def touched(backend: DynamoDBBackend, transact_items: Any) -> list[tuple[Any, Any, Any, Any]]:
        """(table, hash key, range key, a copy of the item or None) for every item named."""
        saved = []
        for action in transact_items if isinstance(transact_items, list) else []:
            try:
                _, operation = next(iter(action.items()))
                table = backend.tables[operation["TableName"]]
                key = operation.get("Key") or operation["Item"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                item = table.get_item(hash_key, range_key)
            except Exception:  # a malformed action changes nothing: moto refuses it below
                continue
            saved.append((table, hash_key, range_key, copy.deepcopy(item)))
        return saved

    def transact_write_items(self: DynamoDBBackend, transact_items: Any) -> None:
        saved = touched(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in saved:
                if item is not None and range_key is not None:
                    table.items[hash_key][range_key] = item
                elif item is not None:
                    table.items[hash_key] = item
                elif range_key is not None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items.pop(hash_key, None)
            raise

    return [
        _replace(models, "copy", _NoTableCopies(Table)),
        _replace(DynamoDBBackend, "transact_write_items", transact_write_items),
    ]


def _queries_read_their_partition() -> list[Undo]:
    """A query of the table (not of an index) sorts every item of the table to keep those of one
    partition: it is given that partition's items alone. Every DynamoDB call holds the runtime's
    one lock (runtime._serialise_dynamodb), so the table is not read by another call meanwhile."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None or "all_items" in vars(self):
            return original(self, hash_key, *args, **kwargs)
        partition: Any = self.items.get(hash_key)
        items: list[Any] = [] if partition is None else [partition]
        if partition is not None and self.range_key_attr:
            items = list(partition.values())
        self.all_items = lambda: items  # type: ignore[method-assign]
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    return [_replace(Table, "query", query)]


def plain_attribute_value(value: Any) -> Any:
    """`value` if it is an AttributeValue of S, N, BOOL, NULL, M or L all the way down (what the
    serializer would make of it), else None."""
    if type(value) is not dict or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return value if type(inner) is str else None
    if kind in ("BOOL", "NULL"):
        return value if type(inner) is bool else None
    if kind == "M" and type(inner) is dict:
        return value if all(plain_attribute_value(v) is not None for v in inner.values()) else None
    if kind == "L" and type(inner) is list:
        return value if all(plain_attribute_value(v) is not None for v in inner) else None
    return None


def _attribute_values_as_they_are() -> list[Undo]:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def _serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and plain_attribute_value(value) is not None:
            serialized[self.get_serialized_name(shape, key)] = value
            return
        original(self, serialized, value, shape, key)

    return [_replace(BaseJSONSerializer, "_serialize_type_structure", _serialize_type_structure)]


def _step_functions_keep_what_they_make() -> list[Undo]:
    from jsonpath_ng import parse as parse_path
    from jsonpath_ng.ext import parse as parse_extended_path
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path

    undo: list[Undo] = []
    clients: dict[tuple[str, str], Any] = {}
    creating = threading.Lock()  # boto3's default session is not safe to create clients from at once
    make_client = boto_client.boto_client_for

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # The interpreter's clients carry fake keys and call moto in this process: one per service.
        with creating:
            if (region, service) not in clients:
                clients[region, service] = make_client(region, service, state_credentials)
            return clients[region, service]

    for module in [m for name, m in sys.modules.items() if name.startswith("moto.stepfunctions.parser")]:
        if vars(module).get("boto_client_for") is make_client:
            undo.append(_replace(module, "boto_client_for", boto_client_for))
    undo.append(clients.clear)

    # Parsed paths are immutable: find() and update() leave the expression as it was.
    undo.append(_replace(json_path, "parse", functools.lru_cache(maxsize=4096)(parse_extended_path)))
    undo.append(_replace(result_path, "parse", functools.lru_cache(maxsize=4096)(parse_path)))

    # A definition's ANTLR tree and the program of evaluation components built from it are read,
    # never changed, by an execution: its state lives in its own Environment (moto's Map and
    # Parallel states already run one program's components on several threads at once). The one
    # thing a component sets on itself is its heap key, a random id made on first use, under which
    # each execution's environment keeps that component's retry counters: made once, here, before
    # any execution can race to make two.
    parse = vars(AmazonStateLanguageParser)["parse"].__func__

    @functools.lru_cache(maxsize=64)
    def parse_once(definition: str) -> tuple[Any, Any]:
        program, tree = parse(definition)
        _make_heap_keys(program)
        return program, tree

    undo.append(_replace(AmazonStateLanguageParser, "parse", staticmethod(parse_once)))
    undo.append(parse_once.cache_clear)
    return undo


def _make_heap_keys(program: Any) -> None:
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            value.heap_key  # noqa: B018 (made on first read)
        if isinstance(value, Component):
            pending += vars(value).values()
        elif isinstance(value, dict):
            pending += value.values()
        elif isinstance(value, list | tuple):
            pending += value


def _responses_know_their_methods() -> list[Undo]:
    """Every call to moto lists the methods of its responses class (inspect.getmembers) to check
    that the action is one: a class's methods are listed once."""
    from moto.core import responses

    names = functools.cache(responses.method_names_from_class)
    return [_replace(responses, "method_names_from_class", names), names.cache_clear]


UNSIGNED_SERVICES = ("dynamodb", "sesv2", "sfn", "lambda")
SIGNER_HANDLER = "greenlight-local-unsigned"


def _unsigned(**_: Any) -> Any:
    import botocore

    return botocore.UNSIGNED


def _requests_unsigned() -> list[Undo]:
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
    undo: list[Undo] = []
    for service in UNSIGNED_SERVICES:
        event = f"choose-signer.{service}"
        events.register(event, _unsigned, unique_id=f"{SIGNER_HANDLER}-{service}")
        undo.append(functools.partial(events.unregister, event, unique_id=f"{SIGNER_HANDLER}-{service}"))
    return undo


def keep_what_start_up_made() -> Undo:
    """Once the runtime has started: what start-up made (moto's backends and models, botocore's
    service descriptions, the functions' modules, templates) lives as long as the runtime, and a
    full garbage collection walked all of it again, stopping every thread (about 200 ms each, once
    every 40 intakes or so). It is moved out of the collector's sight (`gc.freeze`); the undo
    gives it back."""
    import gc

    gc.collect()
    gc.freeze()
    return gc.unfreeze


def install() -> list[Undo]:
    """Before the runtime makes its clients: a client copies the default session's handlers when it
    is made (the functions make theirs when first invoked)."""
    return (
        _requests_unsigned()
        + _transactions_copy_their_items()
        + _queries_read_their_partition()
        + _attribute_values_as_they_are()
        + _step_functions_keep_what_they_make()
        + _responses_know_their_methods()
    )
