"""The social team's roster: load it from a JSON file into the table.

    python -m greenlight.roster --table <TableName> team.json

The file holds {"members": [{"email", "name", "roles": ["triager" | "lead" | "admin"], "active",
"aliases"}]}: aliases are a member's other addresses (greenlight.access: a request from any of them
is their own).
Members are added or updated; nobody is removed (set "active": false instead, which keeps their
name on past decisions)."""

import json
from collections.abc import Iterable
from pathlib import Path

from greenlight.models import Member, Role
from greenlight.storage import Store


def active_with_role(members: Iterable[Member], role: Role) -> list[Member]:
    """Who can be asked for a role's work: active members holding the role. Inactive members
    stay on the roster only so that past decisions keep their names."""
    return [m for m in members if m.active and role in m.roles]


def active_leads(members: Iterable[Member]) -> list[Member]:
    """The team leads who hear about escalations, closings and posts needing a person."""
    return active_with_role(members, Role.lead)


def active_backups(members: Iterable[Member], role: Role) -> list[Member]:
    """Active members who cover a review role when its own reviewers did not answer in time."""
    return [m for m in members if m.active and role in m.backup_for]


def load_members(path: Path) -> list[Member]:
    return [Member.model_validate(member) for member in json.loads(path.read_text())["members"]]


def seed(store: Store, members: list[Member]) -> None:
    for member in members:
        store.put_member(member)


def main(argv: list[str] | None = None) -> int:
    import argparse  # the command line only: the functions that import the roster never parse one

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
