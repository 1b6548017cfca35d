"""The weekly digest lists the pilots whose verdict was recorded in its week (team time), with the
verdict in words, the winner and a link to the request's team page; a verdict the week before or
after is not listed."""

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message

import pytest
from greenlight import clock
from greenlight.mail import to_mime
from greenlight.reports.digest import digest_mail, gather
from greenlight.reports.weeks import IsoWeek, team_zone
from greenlight.storage import Store

ZONE = team_zone("Europe/Berlin")
WEEK = IsoWeek(2026, 48)  # Monday 23 November 00:00 Berlin is Sunday 22 November 23:00 UTC


def _verdict(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    at: datetime,
    request_id: str,
    word: str,
    variant: int | None,
    round_: int = 1,
) -> None:
    monkeypatch.setattr(clock, "now", lambda: at)
    verdict = {"verdict": {"word": word, "variant": variant} if variant is not None else None}
    title = f"Pilot {request_id}"
    assert store.record_pilot_verdict(request_id, verdict, word, 1, title=title, round_=round_)
    assert not store.record_pilot_verdict(request_id, verdict, word, 1, title="again", round_=round_)


def _parts(raw: bytes) -> dict[str, str]:
    message: Message = message_from_bytes(raw)
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        for part in message.walk()
        if part.get_content_type() in ("text/plain", "text/html")
    }


def test_the_digest_lists_the_pilots_finished_in_its_week(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _verdict(
        store, monkeypatch, datetime(2026, 11, 22, 22, 59, tzinfo=UTC), "before", "winner", 1
    )  # Sunday 23:59 Berlin
    _verdict(store, monkeypatch, datetime(2026, 11, 22, 23, 0, tzinfo=UTC), "monday", "winner", 1)
    _verdict(
        store, monkeypatch, datetime(2026, 11, 25, 12, 0, tzinfo=UTC), "wednesday", "no_clear_difference", 0
    )
    _verdict(store, monkeypatch, datetime(2026, 11, 27, 9, 0, tzinfo=UTC), "friday", "leaning", 2, 2)
    _verdict(
        store, monkeypatch, datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "after", "winner", 0
    )  # next Monday

    report = gather(store, WEEK, zone=ZONE, age_seconds=86400)
    assert [p.request_id for p in report.pilots] == ["monday", "wednesday", "friday"]
    assert [report.pilot_verdict(p) for p in report.pilots] == [
        "Winner: variant B",
        "No clear difference",
        "Leaning: variant C (round 2)",
    ]
    mail = digest_mail(
        report, "ana@example.org", "https://gl.test/reports/weekly/2026-W48", "https://gl.test/team"
    )
    assert "Pilot monday: Winner: variant B. The report: https://gl.test/team/requests/monday" in mail.text
    assert "Pilot friday: Leaning: variant C (round 2)." in mail.text and "Pilot after" not in mail.text
    html = _parts(to_mime(mail, "greenlight@gl.test"))["text/html"]
    assert '<a href="https://gl.test/team/requests/wednesday">Pilot wednesday</a>' in html
    assert "Pilot before" not in html


def test_a_week_without_a_finished_pilot_says_so(store: Store) -> None:
    report = gather(store, WEEK, zone=ZONE, age_seconds=86400)
    mail = digest_mail(report, "ana@example.org", "https://gl.test/r", "https://gl.test/team")
    assert report.pilots == [] and "No pilot finished this week." in mail.text
