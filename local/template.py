"""template.yaml read the way CloudFormation would, for the resources the local runtime creates.

Only what the template uses is supported; anything else fails loudly, so the template cannot
drift into something the local runtime silently gets wrong."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref X → {"Ref": "X"}, !GetAtt A.B → Fn::GetAtt)."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _short_form)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return document


class UnsupportedTemplate(Exception):
    pass


@dataclass
class Stack:
    """The template with every resource given a local physical name, and intrinsics resolved."""

    template: dict[str, Any]
    name: str = "greenlight"
    parameters: dict[str, str] = field(default_factory=dict)
    # What !Ref gives for resources whose identity AWS (here moto) makes up, such as a secret's ARN.
    created: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, spec in self.template.get("Parameters", {}).items():
            self.parameters.setdefault(key, str(spec.get("Default", "")))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template["Resources"])

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def physical_name(self, logical_id: str) -> str:
        props = self.resources[logical_id].get("Properties", {})
        for key in ("Name", "TableName", "FunctionName", "BucketName"):
            if key in props:
                return str(self.resolve(props[key]))
        if self.resources[logical_id]["Type"] == "AWS::S3::Bucket":
            return f"{self.name}-{logical_id}".lower()  # bucket names are lower case
        return f"{self.name}-{logical_id}"

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:"
        if kind == "AWS::Serverless::Function":
            return prefix.format("lambda") + f"function:{name}"
        if kind == "AWS::Serverless::StateMachine":
            return prefix.format("states") + f"stateMachine:{name}"
        if kind == "AWS::DynamoDB::Table":
            return prefix.format("dynamodb") + f"table/{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::Serverless::LayerVersion":
            return prefix.format("lambda") + f"layer:{name}:1"
        raise UnsupportedTemplate(f"no ARN for {logical_id} ({kind})")

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.created:
            return self.created[name]
        kind = self.resources[name]["Type"] if name in self.resources else None
        if kind in ("AWS::Serverless::StateMachine", "AWS::Serverless::LayerVersion"):
            return self.arn(name)
        if kind == "AWS::Serverless::HttpApi":
            return "local"
        if kind:
            return self.physical_name(name)
        raise UnsupportedTemplate(f"!Ref {name}: no such parameter or resource")

    def resolve(self, value: Any, names: dict[str, str] | None = None) -> Any:
        if isinstance(value, list):
            return [self.resolve(v, names) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
            return {k: self.resolve(v, names) for k, v in value.items()}
        function, argument = next(iter(value.items()))
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::GetAtt":
            resource, attribute = argument
            if attribute != "Arn":
                raise UnsupportedTemplate(f"!GetAtt {resource}.{attribute}")
            return self.arn(resource)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            variables = {k: str(self.resolve(v, names)) for k, v in variables.items()}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: variables.get(m[1]) or self._sub_name(m[1]), text)
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items, names)[int(index)]
        if function == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text, names)).split(separator)
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(str(v) for v in self.resolve(items, names))
        raise UnsupportedTemplate(f"{function} is not supported by the local runtime")

    def _sub_name(self, name: str) -> str:
        if "." in name:
            resource, attribute = name.split(".", 1)
            return str(self.resolve({"Fn::GetAtt": [resource, attribute]}))
        return self.ref(name)

    # ---- what the runtime needs ----

    def global_environment(self) -> dict[str, str]:
        variables = (
            self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        )
        return {k: str(self.resolve(v)) for k, v in variables.items()}

    def function_code(self, logical_id: str) -> tuple[Path, str]:
        """The function's folder and its handler (module.function)."""
        props = self.resources[logical_id]["Properties"]
        handler = props.get("Handler") or self.template["Globals"]["Function"]["Handler"]
        return ROOT / props["CodeUri"], handler

    def state_machine_definition(self, logical_id: str) -> str:
        """The ASL with DefinitionSubstitutions applied; an unknown ${Name} is an error (moto
        does not apply them, and AWS would fail the deployment)."""
        props = self.resources[logical_id]["Properties"]
        text = (ROOT / props["DefinitionUri"]).read_text()
        values = {k: str(self.resolve(v)) for k, v in props.get("DefinitionSubstitutions", {}).items()}
        unknown = sorted(set(re.findall(r"\$\{([^}]+)\}", text)) - set(values))
        if unknown:
            raise UnsupportedTemplate(f"{props['DefinitionUri']}: no substitution for {', '.join(unknown)}")
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m[1]], text)

    def http_routes(self) -> list[tuple[str, str, str]]:
        """(method, path, function logical id) for every HttpApi event."""
        routes = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] == "HttpApi":
                    routes.append(
                        (event["Properties"]["Method"].upper(), event["Properties"]["Path"], logical_id)
                    )
        return routes

    def schedules(self) -> list[tuple[str, str, str, str]]:
        """(event name, schedule expression, function logical id, time zone) for every schedule;
        the zone is ScheduleExpressionTimezone (a cron's hours are read in it), UTC without one."""
        found = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for name, event in resource["Properties"].get("Events", {}).items():
                if event["Type"] in ("Schedule", "ScheduleV2"):
                    properties = event["Properties"]
                    expression = self.resolve(properties["ScheduleExpression"])  # may be a !Ref
                    zone = self.resolve(properties.get("ScheduleExpressionTimezone", "UTC"))
                    found.append((name, str(expression), logical_id, str(zone or "UTC")))
        return found

    def event_rules(self) -> list[tuple[str, dict[str, Any], str]]:
        """(event name, pattern with intrinsics resolved, function logical id) for every
        EventBridgeRule event."""
        found = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for name, event in resource["Properties"].get("Events", {}).items():
                if event["Type"] == "EventBridgeRule":
                    found.append((name, self.resolve(event["Properties"]["Pattern"]), logical_id))
        return found


def create_table(dynamodb: Any, name: str, props: dict[str, Any] | None = None) -> None:
    """A table of the template created under `name` with its keys, GSIs, TTL and backups: `props` are its
    Properties, by default those of `Table`. The local runtime, unit tests and benchmarks all build tables
    here, so none of them can drift from template.yaml."""
    if props is None:
        props = Stack(load()).of_type("AWS::DynamoDB::Table")["Table"]["Properties"]
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        "DeletionProtectionEnabled": bool(props.get("DeletionProtectionEnabled", False)),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(**kwargs)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
