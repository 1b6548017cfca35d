"""The storage package stays lean: the low-level client and boto3's type serialisers only."""

import ast
from pathlib import Path

import greenlight.storage

ALLOWED_BOTO = {"boto3.dynamodb.types", "botocore.exceptions"}


def test_storage_uses_no_resource_layer_and_no_condition_builders() -> None:
    found: dict[str, set[str]] = {}
    for module in Path(greenlight.storage.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.split(".")[0] in ("boto3", "botocore") and name not in ALLOWED_BOTO:
                    found.setdefault(module.name, set()).add(name)
    assert not found, f"storage imports more of boto3 than the client's serialisers: {found}"
    source = "".join(p.read_text() for p in Path(greenlight.storage.__file__).parent.glob("*.py"))
    assert "boto3.resource" not in source and ".Table(" not in source
