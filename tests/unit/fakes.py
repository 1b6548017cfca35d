"""Simple stand-ins for the workflow's collaborators, and small builders for its records."""

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from greenlight.ids import new_request_id
from greenlight.links import new_link
from greenlight.mail import Mail
from greenlight.models import LinkKind, Member, RequestInput, Role, StoredRequest
from greenlight.storage import Store

from tests.support import sample_request


@dataclass
class FakeMailer:
    sent: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> str:
        self.sent.append(mail)
        return f"message-{len(self.sent)}"

    def to(self, email: str) -> list[Mail]:
        return [m for m in self.sent if m.to == email]


@dataclass
class FakeSfn:
    """Step Functions' task answers: remembers them; a `gone` token answers as a wait that ended."""

    answers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    gone: dict[str, str] = field(default_factory=dict)  # task token → error code

    def send_task_success(self, taskToken: str, output: str) -> dict[str, Any]:
        if taskToken in self.gone:
            error: Any = {"Error": {"Code": self.gone[taskToken], "Message": "the wait is over"}}
            raise ClientError(error, "SendTaskSuccess")
        self.answers.append((taskToken, json.loads(output)))
        return {}


def member(email: str, *roles: Role, backup_for: tuple[Role, ...] = (), active: bool = True) -> Member:
    return Member(
        email=email,
        name=email.split("@")[0].capitalize(),
        roles=list(roles),
        backup_for=list(backup_for),
        active=active,
    )


def request_input(**overrides: Any) -> RequestInput:
    return RequestInput.model_validate(sample_request(**overrides))


def stored_request(store: Store, **overrides: Any) -> StoredRequest:
    """A request as intake stores it (status submitted, version 1)."""
    request_id = new_request_id()
    _token, link = new_link(LinkKind.status, timedelta(days=30), request_id)
    return store.create_request(request_id, request_input(**overrides), "https://greenlight.test", link)
