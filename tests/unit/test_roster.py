from pathlib import Path

import pytest
from greenlight.models import Role
from greenlight.roster import load_members
from pydantic import ValidationError

LOCAL_TEAM = Path(__file__).resolve().parents[2] / "local" / "team.json"


def test_the_local_roster_loads_with_a_lead_and_triagers() -> None:
    members = load_members(LOCAL_TEAM)
    assert any(Role.lead in m.roles for m in members)
    assert sum(Role.triager in m.roles for m in members) >= 2


def test_a_roster_with_an_unknown_role_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "team.json"
    path.write_text('{"members": [{"email": "a@example.org", "name": "A", "roles": ["boss"]}]}')
    with pytest.raises(ValidationError):
        load_members(path)
