"""A mail is delivered at least once and, but for a crash between sending and recording it, once:
send_once holds a lease on the mail's key, not a permanent claim. "Killed" stands for the process
dying at that point: a BaseException, so no `except Exception` (no clean-up) runs."""

from datetime import timedelta

import pytest
from greenlight import clock
from greenlight.mail import MAIL_LEASE, Mail, MailPending, send_once
from greenlight.storage import Store

from tests.unit.fakes import FakeMailer


class Killed(BaseException):
    pass


def _mail() -> Mail:
    return Mail(to="ana@example.org", subject="Received", text="t", html="<p>t</p>")


def _after_the_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    later = clock.now() + MAIL_LEASE + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)


def test_killed_after_sending_sends_again_with_the_same_message_id(
    store: Store, mailer: FakeMailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle = store.settle_once

    def killed(*args: object) -> None:
        raise Killed

    monkeypatch.setattr(store, "settle_once", killed)
    with pytest.raises(Killed):
        send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    monkeypatch.setattr(store, "settle_once", settle)
    with pytest.raises(MailPending):  # the step retried at once: the lease still runs
        send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    _after_the_lease(monkeypatch)
    assert send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    assert not send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    first, second = mailer.sent
    assert first.message_id == second.message_id != "", "one Message-ID: the client shows it once"


def test_killed_before_sending_loses_nothing(
    store: Store, mailer: FakeMailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies() -> Mail:
        raise Killed

    with pytest.raises(Killed):
        send_once(store, mailer, "r-1", "mail:ack", dies, 1)
    with pytest.raises(MailPending):
        send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    _after_the_lease(monkeypatch)
    assert send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    assert len(mailer.sent) == 1


def test_a_failed_send_gives_the_lease_back_at_once(store: Store, mailer: FakeMailer) -> None:
    def fails(mail: Mail) -> str:
        raise TimeoutError("SES did not answer")

    real_send = mailer.send
    mailer.send = fails  # type: ignore[method-assign]
    with pytest.raises(TimeoutError):
        send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    mailer.send = real_send  # type: ignore[method-assign]
    assert send_once(store, mailer, "r-1", "mail:ack", _mail, 1)
    assert [m.subject for m in mailer.sent] == ["Received"]
    assert [e.kind for e in store.history("r-1")] == ["mail_sent"]
