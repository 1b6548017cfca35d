"""The social team: roster, sign-in by an emailed one-time link, and sessions (each with the CSRF
secret its forms carry). Cookies and form checks are HTTP: greenlight.web.security."""

import secrets
from datetime import timedelta

from greenlight import clock, links
from greenlight.mail import Mailer, notice
from greenlight.models import Link, LinkKind, Member, Session
from greenlight.storage import Store

SESSION_HOURS = 12
SIGN_IN_MINUTES = 15


def request_sign_in(store: Store, mailer: Mailer, email: str, base_url: str) -> None:
    """Mail a one-time sign-in link to a team member. Says nothing either way, so the form does
    not tell outsiders who is on the team."""
    member = store.get_member(email.strip().lower())
    if member is None or not member.active:
        return
    token = links.issue(store, LinkKind.sign_in, timedelta(minutes=SIGN_IN_MINUTES), person=member.email)
    mailer.send(
        notice(
            to=member.email,
            subject="Your Greenlight sign-in link",
            greeting=f"Hello {member.name},",
            paragraphs=[
                f"Here is your sign-in link. It works once, for {SIGN_IN_MINUTES} minutes. "
                "If you did not ask for it, ignore this mail."
            ],
            action=("Sign in to Greenlight", f"{base_url}/l/{token}"),
        )
    )


def start_session(store: Store, link: Link) -> tuple[str, Session] | None:
    """Use a sign-in link once and open a session: (cookie value, session), or None if the link
    was used already or its person is no longer on the team."""
    member = store.get_member(link.person or "")
    if member is None or not member.active or not store.use_link(link):
        return None
    token = links.new_token()
    session = Session(
        email=member.email,
        csrf=secrets.token_urlsafe(24),
        expires_at=int((clock.now() + timedelta(hours=SESSION_HOURS)).timestamp()),
    )
    store.put_session(links.token_hash(token), session)
    return token, session


def session_member(store: Store, token: str) -> tuple[Member, Session, str] | None:
    """The active member whose session this token opens: (member, session, session hash)."""
    if not links.looks_like_token(token):
        return None
    session_hash = links.token_hash(token)
    session = store.get_session(session_hash)
    if session is None:
        return None
    member = store.get_member(session.email)
    if member is None or not member.active:
        return None
    return member, session, session_hash
