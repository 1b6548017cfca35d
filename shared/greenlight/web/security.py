"""Who is asking, and whether their form is theirs: the session cookie, the signed-in member as a
Powertools `Depends`, and the CSRF checks. Each check is written here once; routes declare what
they need (`Member`, `MaybeMember`, `TeamForm`) and never repeat it."""

import hashlib
import secrets
from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from greenlight import links, team
from greenlight.models import Member, Session
from greenlight.service import store
from greenlight.web.errors import Refused, SignInRequired
from greenlight.web.forms import posted

SESSION_COOKIE = "gl_session"
# What a stale or forged form is told, by where its page came from.
RELOAD = "Reload the page and try again."
OPEN_MAIL_AGAIN = "Open the link from your mail again and use the form on that page."


@dataclass(frozen=True)
class SignedIn:
    member: Member
    session: Session
    session_hash: str


@dataclass(frozen=True)
class SessionForm:
    """A dashboard form whose CSRF token matched the signed-in member's session."""

    signed_in: SignedIn
    fields: dict[str, str]
    pairs: list[tuple[str, str]]  # every field in order (a name may repeat)
    files: dict[str, bytes]  # a multipart form's files by field name


def session_cookie(value: str, *, secure: bool) -> Cookie:
    return Cookie(
        SESSION_COOKIE,
        value,
        path="/",
        secure=secure,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=team.SESSION_HOURS * 3600,
    )


def expired_session_cookie() -> Cookie:
    return Cookie(SESSION_COOKIE, "", path="/", http_only=True, max_age=0)


def link_csrf(token: str) -> str:
    """The hidden form field of a link page: derived from the link's secret, so only a page
    rendered for that link can post it."""
    return hashlib.sha256(f"form:{token}".encode()).hexdigest()[:32]


def check_csrf(expected: str, submitted: str | None, advice: str) -> None:
    if submitted is None or not secrets.compare_digest(expected, submitted):
        raise Refused(403, "Form expired", advice)


def signed_in(request: Request) -> SignedIn | None:
    """The member behind the request's session cookie, if any."""
    for cookie in getattr(request.resolved_event, "cookies", None) or []:
        name, _, value = cookie.strip().partition("=")
        if name == SESSION_COOKIE and links.looks_like_token(value):
            found = team.session_member(store(), value)
            return SignedIn(*found) if found else None
    return None


def required_member(request: Request) -> SignedIn:
    found = signed_in(request)
    if found is None:
        raise SignInRequired()
    return found


def session_form(signed: Annotated[SignedIn, Depends(required_member)], request: Request) -> SessionForm:
    """A POST from the dashboard: signed in, and carrying the session's CSRF token."""
    pairs, files = posted(request.resolved_event)
    fields = dict(pairs)
    check_csrf(signed.session.csrf, fields.get("csrf"), RELOAD)
    return SessionForm(signed, fields, pairs, files)


# What a route declares to get them.
MaybeMember = Annotated[SignedIn | None, Depends(signed_in)]
SignedInMember = Annotated[SignedIn, Depends(required_member)]
TeamForm = Annotated[SessionForm, Depends(session_form)]
