"""The social team's roster: load it from a JSON file into the table.

    python -m greenlight.roster --table <TableName> team.json

The file holds {"members": [{"email", "name", "roles": ["triager" | "lead" | "admin"], "active"}]}.
Members are added or updated; nobody is removed (set "active": false instead, which keeps their
name on past decisions)."""

import argparse
import json
from pathlib import Path

from greenlight.models import Member
from greenlight.storage import Store


def load_members(path: Path) -> list[Member]:
    return [Member.model_validate(member) for member in json.loads(path.read_text())["members"]]


def seed(store: Store, members: list[Member]) -> None:
    for member in members:
        store.put_member(member)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m greenlight.roster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", required=True, help="the stack's TableName output")
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    from greenlight.aws import client

    members = load_members(args.file)
    seed(Store(client("dynamodb"), args.table), members)
    for member in members:
        print(f"{member.email}: {', '.join(member.roles)}{'' if member.active else ' (inactive)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
