"""IAM on the local runtime: while a function runs, each AWS call it makes must be allowed by its
`Policies` in template.yaml, or it fails as on AWS, with an AccessDenied ClientError.

moto checks no IAM in mock mode, so without this a function could call anything and the
template's least privilege would be words. Each function's policies are read as IAM reads them:
managed policies of the template (`!Ref`), inline statements, and SAM's policy templates expanded
as SAM expands them (their definitions below are SAM's own). A botocore `before-parameter-build`
handler on the default session sees every call with its parameters, turns it into the IAM
request(s) AWS evaluates (action, resource ARN, DynamoDB leading keys) and asks the policy of the
function running on this thread. Calls made outside a function (the runtime, tests, moto's Step
Functions interpreter on its own threads) are not checked: they are AWS itself or the operator.

Supported: Allow and Deny statements with Action and Resource (wildcards `*` and `?`), and the
one condition the template uses, `ForAllValues:StringLike` on `dynamodb:LeadingKeys`. Anything
else in a function's policies fails loudly when the runtime starts."""

import contextvars
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.utils import parseaddr
from functools import cache, cached_property, wraps
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.template import ACCOUNT, REGION, Stack, UnsupportedTemplate

logger = logging.getLogger(__name__)

# The policy templates template.yaml uses, as SAM defines them (samtranslator's
# policy_templates_data/policy_templates.json); a template not listed here fails loudly.
SAM_POLICY_TEMPLATES: dict[str, dict[str, Any]] = {
    "DynamoDBCrudPolicy": {
        "Action": [
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
            "dynamodb:ConditionCheckItem",
        ],
        "Resource": [
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}",
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/*",
        ],
    },
    "DynamoDBReadPolicy": {
        "Action": [
            "dynamodb:GetItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
        ],
        "Resource": [
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}",
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/*",
        ],
    },
    "StepFunctionsExecutionPolicy": {
        "Action": ["states:StartExecution"],
        "Resource": [
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${StateMachineName}"
        ],
    },
    "AWSSecretsManagerGetSecretValuePolicy": {
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": ["${SecretArn}"],
    },
    "LambdaInvokePolicy": {
        "Action": ["lambda:InvokeFunction"],
        "Resource": [
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}*"
        ],
    },
}

LEADING_KEYS = "dynamodb:LeadingKeys"
# IAM's service prefix where it is not the API's signing name.
PREFIXES = {"monitoring": "cloudwatch"}
# IAM's action where it is not the operation's name.
ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
    "dynamodb:TransactGetItems": "dynamodb:GetItem",
}
TRANSACT_WRITES = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def _pattern(glob: str, flags: int = 0) -> re.Pattern[str]:
    """IAM's wildcards: `*` any characters (slashes and colons too), `?` one."""
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(text, flags)


@dataclass(frozen=True)
class Request:
    """One IAM request: what AWS evaluates for (a part of) an API call."""

    action: str
    resource: str
    # The partition key values the call touches (DynamoDB); None where the call names none.
    leading_keys: tuple[str, ...] | None = None

    def __str__(self) -> str:
        keys = f" (leading keys {', '.join(self.leading_keys)})" if self.leading_keys else ""
        return f"{self.action} on {self.resource}{keys}"


@dataclass(frozen=True)
class Statement:
    allow: bool
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    leading_keys: tuple[str, ...] | None = None  # ForAllValues:StringLike patterns

    @classmethod
    def parse(cls, document: dict[str, Any], where: str) -> "Statement":
        unknown = set(document) - {"Sid", "Effect", "Action", "Resource", "Condition"}
        if unknown or document.get("Effect") not in ("Allow", "Deny"):
            raise UnsupportedTemplate(
                f"{where}: the local runtime cannot evaluate {sorted(unknown) or document}"
            )
        leading_keys = None
        condition = document.get("Condition")
        if condition:
            if list(condition) != ["ForAllValues:StringLike"] or list(
                condition["ForAllValues:StringLike"]
            ) != [LEADING_KEYS]:
                raise UnsupportedTemplate(f"{where}: condition {condition} is not supported locally")
            leading_keys = tuple(str(k) for k in _list(condition["ForAllValues:StringLike"][LEADING_KEYS]))
        return cls(
            allow=document["Effect"] == "Allow",
            actions=tuple(str(a) for a in _list(document["Action"])),
            resources=tuple(str(r) for r in _list(document["Resource"])),
            leading_keys=leading_keys,
        )

    def matches(self, request: Request) -> bool:
        if not any(_pattern(a, re.IGNORECASE).fullmatch(request.action) for a in self.actions):
            return False
        if not any(_pattern(r).fullmatch(request.resource) for r in self.resources):
            return False
        if self.leading_keys is None:
            return True
        if request.leading_keys is None:  # a Query, a Scan: the local runtime does not know its keys
            return False
        return all(any(_pattern(p).fullmatch(key) for p in self.leading_keys) for key in request.leading_keys)


@dataclass(frozen=True)
class Policy:
    """A function's policies, flattened to statements."""

    function: str
    statements: tuple[Statement, ...]

    def allows(self, request: Request) -> bool:
        matching = [s for s in self.statements if s.matches(request)]
        return any(s.allow for s in matching) and not any(not s.allow for s in matching)

    def actions(self) -> set[str]:
        """The actions it allows by name (wildcards left out)."""
        return {a for s in self.statements if s.allow for a in s.actions if "*" not in a and "?" not in a}


def function_policy(stack: Stack, logical_id: str) -> Policy:
    """A function's `Policies` as IAM statements, intrinsics resolved on the local stack."""
    policies = stack.resources[logical_id]["Properties"].get("Policies") or []
    statements: list[Statement] = []
    for number, policy in enumerate(_list(policies)):
        where = f"{logical_id}.Policies[{number}]"
        if isinstance(policy, dict) and "Statement" in policy:
            documents = _list(policy["Statement"])
        elif isinstance(policy, dict) and list(policy) == ["Ref"] and policy["Ref"] in stack.resources:
            managed = stack.resources[policy["Ref"]]
            if managed["Type"] != "AWS::IAM::ManagedPolicy":
                raise UnsupportedTemplate(f"{where}: !Ref {policy['Ref']} is not a managed policy")
            documents = _list(managed["Properties"]["PolicyDocument"]["Statement"])
        elif isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)) in SAM_POLICY_TEMPLATES:
            name, parameters = next(iter(policy.items()))
            values = {key: str(stack.resolve(value)) for key, value in parameters.items()}
            definition = SAM_POLICY_TEMPLATES[name]
            documents = [
                {
                    "Effect": "Allow",
                    "Action": definition["Action"],
                    "Resource": [{"Fn::Sub": [resource, values]} for resource in definition["Resource"]],
                }
            ]
        else:
            raise UnsupportedTemplate(f"{where}: {policy!r} is not supported by the local runtime")
        statements += [Statement.parse(stack.resolve(d), where) for d in documents]
    return Policy(logical_id, tuple(statements))


# ---- API calls as IAM requests ----


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _dynamodb(operation: str, params: dict[str, Any], hash_keys: dict[str, str]) -> list[Request]:
    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else _arn("dynamodb", f"table/{name}")
        return f"{arn}/index/{index}" if index else arn

    def keys(name: str, *items: dict[str, Any]) -> tuple[str, ...] | None:
        key = hash_keys.get(name.rsplit("/", 1)[-1])
        values = [item.get(key, {}) for item in items] if key else []
        if not values or not all(isinstance(v, dict) and len(v) == 1 for v in values):
            return None
        return tuple(str(next(iter(v.values()))) for v in values)

    action = ACTIONS.get(f"dynamodb:{operation}", f"dynamodb:{operation}")
    if operation in ("BatchGetItem", "BatchWriteItem"):
        requests = []
        for name, batch in params.get("RequestItems", {}).items():
            if operation == "BatchGetItem":
                items = batch.get("Keys", [])
            else:
                items = [
                    w.get("PutRequest", {}).get("Item") or w.get("DeleteRequest", {}).get("Key")
                    for w in batch
                ]
            requests.append(Request(action, table(name), keys(name, *items)))
        return requests
    if operation in ("TransactWriteItems", "TransactGetItems"):
        requests = []
        for entry in params.get("TransactItems", []):
            ((kind, item),) = entry.items()
            name = item["TableName"]
            verb = TRANSACT_WRITES.get(kind, action)
            requests.append(Request(verb, table(name), keys(name, item.get("Key") or item.get("Item") or {})))
        return requests
    name = params.get("TableName")
    if not name:
        return [Request(action, "*")]
    item = params.get("Key") or params.get("Item")
    return [Request(action, table(name, params.get("IndexName")), keys(name, item) if item else None)]


def _s3(operation: str, params: dict[str, Any]) -> list[Request]:
    action = ACTIONS.get(f"s3:{operation}", f"s3:{operation}")
    bucket, key = params.get("Bucket"), params.get("Key")
    if not bucket:
        return [Request(action, "*")]
    return [Request(action, f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}")]


def _ses(action: str, params: dict[str, Any]) -> list[Request]:
    """Sending is authorised on the identity the mail is sent from: the sender's domain, which is
    the identity the local runtime verifies."""
    sender = params.get("FromEmailAddress") or params.get("Source") or ""
    raw = (params.get("Content", {}).get("Raw") or params.get("RawMessage") or {}).get("Data")
    if not sender and raw:
        sender = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode()).get("From", "")
    domain = parseaddr(sender)[1].rpartition("@")[2]
    return [Request(action, _arn("ses", f"identity/{domain}") if domain else "*")]


def _states(action: str, params: dict[str, Any]) -> list[Request]:
    arn = params.get("executionArn") or params.get("stateMachineArn")
    return [Request(action, arn or "*")]  # SendTask*: IAM has no resource type for them


def requests_for(
    prefix: str, operation: str, params: dict[str, Any], hash_keys: dict[str, str]
) -> list[Request]:
    """What IAM evaluates for one API call (a transaction or a batch: one request per item/table)."""
    action = ACTIONS.get(f"{prefix}:{operation}", f"{prefix}:{operation}")
    if prefix == "dynamodb":
        return _dynamodb(operation, params, hash_keys)
    if prefix == "s3":
        return _s3(operation, params)
    if prefix == "ses":
        return _ses(action, params)
    if prefix == "states":
        return _states(action, params)
    if prefix == "secretsmanager" and params.get("SecretId"):
        secret = str(params["SecretId"])
        return [Request(action, secret if secret.startswith("arn:") else _arn(prefix, f"secret:{secret}"))]
    if prefix == "lambda" and params.get("FunctionName"):
        function = str(params["FunctionName"])
        return [
            Request(action, function if function.startswith("arn:") else _arn(prefix, f"function:{function}"))
        ]
    if prefix == "ssm" and params.get("Name"):
        return [Request(action, _arn(prefix, "parameter/" + str(params["Name"]).lstrip("/")))]
    if prefix == "sqs" and params.get("QueueUrl"):
        return [Request(action, _arn(prefix, str(params["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]))]
    if prefix == "sns" and params.get("TopicArn"):
        return [Request(action, str(params["TopicArn"]))]
    return [Request(action, "*")]  # only a policy granting "*" allows what is not modelled here


# ---- enforcement ----


@dataclass
class _Acting:
    iam: "Iam"
    policy: Policy


_acting: contextvars.ContextVar[_Acting | None] = contextvars.ContextVar("greenlight_local_iam", default=None)
HANDLER_ID = "greenlight-local-iam"


def _check(params: dict[str, Any], model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
    """botocore's before-parameter-build: refuse the call unless the running function may make it."""
    acting = _acting.get()
    if acting is None:
        return
    if (context or {}).get("is_presign_request") and model.name == "CreateBucket":
        return  # botocore signs a presigned POST with CreateBucket's model; S3 checks the upload's key
    signing = model.service_model.signing_name or model.service_model.endpoint_prefix
    prefix = PREFIXES.get(signing, signing)
    acting.iam.check(acting.policy, prefix, model.name, params)


@dataclass
class Iam:
    """The functions' policies and what they did with them: `denials` (each refused request) and
    `used` (function → action → calls allowed)."""

    stack: Stack
    policies: dict[str, Policy] = field(default_factory=dict)
    denials: list[str] = field(default_factory=list)
    used: dict[str, Counter[str]] = field(default_factory=dict)

    @cached_property
    def hash_keys(self) -> dict[str, str]:
        """Table name → its partition key attribute, for `dynamodb:LeadingKeys`."""
        return {
            self.stack.physical_name(logical_id): next(
                k["AttributeName"] for k in table["Properties"]["KeySchema"] if k["KeyType"] == "HASH"
            )
            for logical_id, table in self.stack.of_type("AWS::DynamoDB::Table").items()
        }

    def guard(self, logical_id: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """The handler, running under the function's policies. Read once the resources exist
        (a secret's ARN is made up when it is created)."""
        policy = self.policies[logical_id] = function_policy(self.stack, logical_id)
        self.used.setdefault(logical_id, Counter())

        @wraps(handler)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            with self.acting(policy):
                return handler(*args, **kwargs)

        return guarded

    @contextmanager
    def acting(self, policy: Policy) -> Iterator[None]:
        token = _acting.set(_Acting(self, policy))
        try:
            yield
        finally:
            _acting.reset(token)

    def check(self, policy: Policy, prefix: str, operation: str, params: dict[str, Any]) -> None:
        for request in requests_for(prefix, operation, params, self.hash_keys):
            if not policy.allows(request):
                message = (
                    f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{policy.function}Role/"
                    f"{self.stack.physical_name(policy.function)} is not authorized to perform: {request} "
                    "because no identity-based policy allows it (template.yaml)"
                )
                self.denials.append(f"{policy.function}: {request}")
                logger.warning("IAM denied %s: %s", policy.function, request)
                code = "AccessDenied" if prefix == "s3" else "AccessDeniedException"
                status = 403 if prefix == "s3" else 400
                response: Any = {"Error": {"Code": code, "Message": message}}
                response["ResponseMetadata"] = {"HTTPStatusCode": status}
                raise ClientError(response, operation)
            self.used[policy.function][request.action] += 1

    def report(self) -> dict[str, Any]:
        """`GET /_local/iam`: the calls refused, and per function the actions used (with how many
        calls) and those allowed by name but not used so far."""
        return {
            "denials": list(self.denials),
            "used": {function: dict(sorted(used.items())) for function, used in sorted(self.used.items())},
            "unused": self.unused(),
        }

    def unused(self) -> dict[str, list[str]]:
        """Per function, the actions its policies allow by name that it has not called so far."""
        return {
            function: sorted(policy.actions() - set(self.used[function]))
            for function, policy in sorted(self.policies.items())
            if policy.actions() - set(self.used[function])
        }

    def install(self) -> Callable[[], None]:
        """Check every call made through boto3's default session (the functions' clients); the undo."""
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-parameter-build", _check, unique_id=HANDLER_ID)
        return lambda: events.unregister("before-parameter-build", unique_id=HANDLER_ID)
