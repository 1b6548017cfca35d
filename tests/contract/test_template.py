"""template.yaml against the design and the code: the HTTP contract, one deployed function per
functions/ folder, the runtime and layer every function shares, tables that survive mistakes, and
policies scoped to what each function touches."""

import os
import re
from typing import Any

import pytest

from tests.contract import project

# docs/architecture.md, "HTTP contract": every route Greenlight will serve (path parameter names free).
DESIGN_ROUTES = {
    "GET /requests/new",
    "POST /requests",
    "GET /requests/{}",
    "GET /l/{}",
    "POST /l/{}",
    "GET /team",
    "GET /reports/weekly/{}",
    "POST /api/requests",
    "GET /api/requests/{}",
    "GET /api/openapi.json",
    "POST /api/uploads",
    "GET /r/{}",
}
# GET / redirects to the form; link previews (Mastodon's first) ask a tracked link with HEAD.
EXTRA_ROUTES = {"GET /", "HEAD /r/{}"}
# The team dashboard's own pages and forms (sign-in, request history, triage) live under /team/;
# the weekly report's CSV, charts and the lead's note under its page, /reports/weekly/{week}/;
# team goals ("goals" on the dashboard, docs/architecture.md) at /reports/goals.
DESIGN_AREAS = ("/team/", "/reports/weekly/{week}/", "/reports/goals")
# The routes built so far: none of them may disappear.
BUILT_ROUTES = {
    "GET /",
    "GET /requests/new",
    "POST /requests",
    "GET /requests/{}",
    "POST /api/requests",
    "GET /api/requests/{}",
    "GET /api/openapi.json",
    "GET /l/{}",
    "POST /l/{}",
    "GET /team",
    "GET /reports/weekly/{}",
    "GET /r/{}",
    "HEAD /r/{}",
}
RUNTIMES = {"python3.12", "python3.13"}
READ_VERBS = (
    "Get",
    "List",
    "Describe",
    "BatchGet",
    "Query",
    "Scan",
    "Head",
    "Lookup",
    "Search",
    "Select",
    "View",
)
# Actions AWS only grants on "*" (no resource-level permissions): allowed there.
# Actions IAM cannot scope to a resource. SendTaskSuccess/Failure authorise by the secret task
# token itself (AWS's service authorization reference lists no resource type for them).
UNSCOPABLE = {
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    # A state machine's log delivery: the Step Functions developer guide ("IAM policies for logging
    # to CloudWatch Logs") grants these on "*" only; vended log deliveries have no resource ARN.
    "logs:CreateLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:PutResourcePolicy",
}
BROAD_MANAGED = re.compile(r"(FullAccess|AdministratorAccess|PowerUserAccess)$")


def _normalised(key: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", key)


# ---- the HTTP contract ----


def test_http_api_serves_every_contract_route_built_so_far() -> None:
    served = {_normalised(key) for key in project.http_routes()}
    lost = sorted(BUILT_ROUTES - served)
    assert not lost, f"template.yaml no longer serves {lost}, which the design's HTTP contract promises"


def test_http_api_serves_only_routes_of_the_design_contract() -> None:
    unknown = sorted(
        key
        for key in project.http_routes()
        if _normalised(key) not in DESIGN_ROUTES | EXTRA_ROUTES
        and not key.split(" ", 1)[1].startswith(DESIGN_AREAS)
    )
    assert not unknown, (
        f"template.yaml serves {unknown}, which docs/architecture.md ('HTTP contract') does not have: "
        "change the design first, then DESIGN_ROUTES here"
    )


def test_no_http_route_is_served_twice() -> None:
    twice = {key: owners for key, owners in project.http_routes().items() if len(owners) > 1}
    by_shape: dict[str, list[str]] = {}
    for key in project.http_routes():
        by_shape.setdefault(_normalised(key), []).append(key)
    clashes = {shape: keys for shape, keys in by_shape.items() if len(keys) > 1}
    assert not twice and not clashes, (
        f"routes served more than once (API Gateway rejects this): {twice or clashes}"
    )


# ---- functions ----


@pytest.mark.parametrize("logical_id", list(project.resources(project.FUNCTION)))
def test_every_function_code_folder_defines_its_handler(logical_id: str) -> None:
    folder = project.ROOT / project.code_folder(logical_id)
    handler = project.handler_of(logical_id)
    module, _, function = handler.rpartition(".")
    assert module and function, f"{logical_id}: Handler {handler!r} is not <module>.<function>"
    source = folder / f"{module.replace('.', '/')}.py"
    assert folder.is_dir(), f"{logical_id}: CodeUri {project.code_folder(logical_id)} does not exist"
    assert source.is_file(), (
        f"{logical_id}: Handler {handler} needs {project.relative(source)}, which does not exist"
    )
    assert function in project.top_level_names(source), (
        f"{logical_id}: {project.relative(source)} does not define {function}, the Handler"
    )


@pytest.mark.parametrize("folder", project.function_folders())
def test_every_function_folder_is_deployed_by_the_template(folder: str) -> None:
    assert folder in project.function_for_folder(), (
        f"functions/{folder} is not the CodeUri of any AWS::Serverless::Function in template.yaml"
    )


def test_functions_run_python_312_or_313_on_arm64() -> None:
    globals_ = project.function_globals()
    problems = []
    if globals_.get("Runtime") not in RUNTIMES:
        problems.append(
            f"Globals.Function.Runtime is {globals_.get('Runtime')!r}, not one of {sorted(RUNTIMES)}"
        )
    if globals_.get("Architectures") != ["arm64"]:
        problems.append(f"Globals.Function.Architectures is {globals_.get('Architectures')!r}, not [arm64]")
    for logical_id, spec in project.resources(project.FUNCTION).items():
        props = spec.get("Properties", {})
        if props.get("Runtime", globals_.get("Runtime")) not in RUNTIMES:
            problems.append(f"{logical_id} runs on {props['Runtime']}")
        if props.get("Architectures", ["arm64"]) != ["arm64"]:
            problems.append(f"{logical_id} runs on {props['Architectures']}")
    assert not problems, "\n".join(problems)


def _layers() -> dict[str, dict[str, Any]]:
    return project.resources("AWS::Serverless::LayerVersion")


def _greenlight_layer() -> str:
    layers = [
        name
        for name, spec in _layers().items()
        if str(spec.get("Properties", {}).get("ContentUri", "")).rstrip("/") == "shared"
    ]
    assert len(layers) == 1, (
        f"expected one AWS::Serverless::LayerVersion with ContentUri shared/, found {layers}"
    )
    return layers[0]


def test_every_function_gets_the_greenlight_layer_from_globals() -> None:
    layer = _greenlight_layer()
    in_globals = project.function_globals().get("Layers") or []
    assert layer in project.references(in_globals), (
        f"Globals.Function.Layers does not include !Ref {layer}: functions could not import greenlight"
    )


def test_layer_is_built_for_the_functions_runtime_and_architecture() -> None:
    layer = _greenlight_layer()
    spec = _layers()[layer]
    props, metadata = spec.get("Properties", {}), spec.get("Metadata", {})
    runtime = project.function_globals().get("Runtime")
    problems = []
    if runtime not in props.get("CompatibleRuntimes", []):
        problems.append(f"CompatibleRuntimes {props.get('CompatibleRuntimes')} lacks {runtime}")
    if "arm64" not in props.get("CompatibleArchitectures", []):
        problems.append(f"CompatibleArchitectures {props.get('CompatibleArchitectures')} lacks arm64")
    if metadata.get("BuildMethod") != "makefile":
        problems.append(
            f"Metadata.BuildMethod is {metadata.get('BuildMethod')!r}, not makefile: sam build's "
            "python builder ships no compiled .pyc (test_layer_recipe_ships_unchecked_hash_pyc)"
        )
    if metadata.get("BuildArchitecture") != "arm64":
        problems.append(
            f"Metadata.BuildArchitecture is {metadata.get('BuildArchitecture')!r}, not arm64 "
            "(compiled wheels such as pydantic-core would not load)"
        )
    assert not problems, f"{layer}: " + "; ".join(problems)


# Stands in for python3.12: records `-m pip ...` (no download in a test) and runs everything else,
# compileall included, with the test's own Python.
_PYTHON_STAND_IN = """#!{python}
import json, os, sys
if sys.argv[1:3] == ["-m", "pip"]:
    with open(os.environ["PIP_CALLS"], "a") as calls:
        calls.write(json.dumps(sys.argv[3:]) + "\\n")
    sys.exit(0)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def test_layer_recipe_ships_unchecked_hash_pyc(tmp_path: Any) -> None:
    """The real recipe (sam build runs `make build-<Layer>` in ContentUri with ARTIFACTS_DIR):
    dependencies for the functions' Python on arm64, the greenlight package, and every module
    compiled to unchecked-hash .pyc, which Lambda's read-only filesystem cannot write at run time."""
    import importlib.util
    import json
    import shutil
    import subprocess
    import sys

    layer = _greenlight_layer()
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    stand_in = tmp_path / "python3.12"
    stand_in.write_text(_PYTHON_STAND_IN.format(python=sys.executable))
    stand_in.chmod(0o755)
    artifacts, calls = tmp_path / "artifacts", tmp_path / "pip-calls.jsonl"
    done = subprocess.run(
        [make, "-C", str(project.ROOT / "shared"), f"build-{layer}", f"PYTHON312={stand_in}"],
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts), "PIP_CALLS": str(calls)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"make build-{layer} failed:\n{done.stdout}\n{done.stderr}"
    site = artifacts / "python"
    runtime_version = str(project.function_globals().get("Runtime", "")).removeprefix("python")
    [pip] = [json.loads(line) for line in calls.read_text().splitlines()]
    for expected in (
        ["install"],
        ["--platform", "manylinux2014_aarch64"],
        ["--python-version", runtime_version],
        ["--only-binary=:all:"],
        ["--target", str(site)],
        ["-r", "requirements.txt"],
    ):
        assert any(pip[i : i + len(expected)] == expected for i in range(len(pip))), (
            f"pip is not called with {' '.join(expected)}: {pip}"
        )
    sources = sorted((site / "greenlight").rglob("*.py"))
    assert sources, f"no greenlight package in {site}"
    tag = sys.implementation.cache_tag
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert compiled.is_file(), f"{compiled.relative_to(site)} was not shipped"
        header = compiled.read_bytes()[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER, f"{compiled.name}: not compiled by this Python"
        flags = int.from_bytes(header[4:8], "little")
        assert flags == 0b01, f"{compiled.relative_to(site)}: flags {flags:#b}, not unchecked-hash (0b1)"
    stale = [p for p in site.rglob("*.pyc") if f".{tag}." not in p.name]
    assert not stale, f"bytecode of another Python shipped: {stale[:3]}"


# ---- tables ----


def _tables() -> list[str]:
    return [*project.resources("AWS::DynamoDB::Table"), *project.resources("AWS::Serverless::SimpleTable")]


@pytest.mark.parametrize("logical_id", _tables())
def test_dynamodb_tables_have_point_in_time_recovery_deletion_protection_and_ttl(logical_id: str) -> None:
    spec = project.template()["Resources"][logical_id]
    assert spec["Type"] == "AWS::DynamoDB::Table", (
        f"{logical_id}: use AWS::DynamoDB::Table; {spec['Type']} cannot turn on PITR, deletion "
        "protection or TTL"
    )
    props = spec.get("Properties", {})
    problems = []
    if (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is not True:
        problems.append("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled is not true")
    if props.get("DeletionProtectionEnabled") is not True:
        problems.append("DeletionProtectionEnabled is not true")
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled") is not True or not ttl.get("AttributeName"):
        problems.append("TimeToLiveSpecification needs an AttributeName and Enabled: true")
    assert not problems, f"{logical_id}: " + "; ".join(problems)


# ---- policies ----


def _policies() -> list[tuple[str, Any]]:
    """(owner, policy) for every policy in the template: SAM Policies, IAM roles and IAM policies."""
    found: list[tuple[str, Any]] = []
    for name, spec in project.template()["Resources"].items():
        props = spec.get("Properties", {}) or {}
        kind = spec.get("Type")
        if kind in (project.FUNCTION, project.STATE_MACHINE):
            policies = props.get("Policies") or []
            found += [(name, p) for p in (policies if isinstance(policies, list) else [policies])]
        elif kind == "AWS::IAM::Role":
            found += [(name, p.get("PolicyDocument", {})) for p in props.get("Policies") or []]
            found += [(name, arn) for arn in props.get("ManagedPolicyArns") or []]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found.append((name, props.get("PolicyDocument", {})))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_policy_grants_full_access() -> None:
    broad = []
    for owner, policy in _policies():
        names = [policy] if isinstance(policy, str) else list(policy) if isinstance(policy, dict) else []
        broad += [f"{owner}: {n}" for n in names if isinstance(n, str) and BROAD_MANAGED.search(n)]
        if isinstance(policy, dict):  # SAM policy templates with "*" as the resource
            for template_name, parameters in policy.items():
                if template_name.endswith("Policy") and isinstance(parameters, dict):
                    broad += [f"{owner}: {template_name} {k}: *" for k, v in parameters.items() if v == "*"]
    assert not broad, f"policies broader than the function's own resources: {broad}"


def _is_write(action: str) -> bool:
    _service, _, verb = action.partition(":")
    return action not in UNSCOPABLE and (action == "*" or verb == "*" or not verb.startswith(READ_VERBS))


def test_no_policy_allows_writes_on_every_resource() -> None:
    problems = []
    for owner, policy in _policies():
        if not isinstance(policy, dict):
            continue
        for statement in _as_list(policy.get("Statement", [])):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            everywhere = "NotResource" in statement or "*" in _as_list(statement.get("Resource", []))
            writes = [a for a in _as_list(statement.get("Action", [])) if isinstance(a, str) and _is_write(a)]
            if "NotAction" in statement:
                writes.append("NotAction (everything else)")
            if everywhere and writes:
                problems.append(f"{owner}: {writes} on every resource")
    assert not problems, "scope write actions to named resources:\n  " + "\n  ".join(problems)
