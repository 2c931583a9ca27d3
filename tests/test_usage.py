"""UsageStore: masked questions and feedback in SQLite, retention, deletion and statistics."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from avtal.errors import InvalidRequest
from avtal.privacy import MASK
from avtal.settings import Settings
from avtal.usage import UsageStore

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _all_text(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT question FROM questions").fetchall()
        rows += db.execute("SELECT comment FROM feedback").fetchall()
    finally:
        db.close()
    return " ".join(str(r[0]) for r in rows)


def test_questions_and_comments_are_masked_on_disk(settings: Settings) -> None:
    store = UsageStore.from_settings(settings)
    store.log_question("a1", "Patienten 19121212-1212 ska skrivas ut, vem kallar?", abstained=False)
    store.log_question("a2", "Samordningsnummer 701063-2391 och 8507099805", abstained=True)
    stored = store.add_feedback("a1", "down", "Gällde 121212+1212, fel svar")
    assert stored.comment is not None and MASK in stored.comment
    raw = _all_text(settings.usage_db) + settings.usage_db.read_bytes().decode("latin-1")
    for number in ("19121212-1212", "701063-2391", "8507099805", "121212+1212"):
        assert number not in raw
    assert raw.count(MASK) >= 4


def test_feedback_is_validated(settings: Settings) -> None:
    store = UsageStore.from_settings(settings)
    with pytest.raises(InvalidRequest):
        store.add_feedback("a1", "maybe")
    with pytest.raises(InvalidRequest):
        store.add_feedback("  ", "up")
    with pytest.raises(InvalidRequest):
        store.add_feedback("a1", "up", "x" * 2001)
    assert store.feedback() == []


def test_purge_keeps_the_retention_period(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite", retention_days=90)
    store.log_question("old", "Gammal fråga", abstained=True, at=NOW - timedelta(days=91))
    store.log_question("edge", "Nästan gammal", abstained=False, at=NOW - timedelta(days=89))
    store.log_question("new", "Ny fråga", abstained=False, at=NOW - timedelta(hours=1))
    store.add_feedback("old", "up", at=NOW - timedelta(days=120))
    store.add_feedback("new", "down", at=NOW)
    assert store.purge(now=NOW) == 2
    assert [f.answer_id for f in store.feedback()] == ["new"]
    stats = store.stats(days=365, now=NOW)
    assert stats["questions"] == 2
    assert store.purge(now=NOW) == 0
    # A shorter retention removes more.
    short = UsageStore(tmp_path / "usage.sqlite", retention_days=1)
    assert short.purge(now=NOW) == 1
    assert short.stats(days=365, now=NOW)["questions"] == 1


def test_delete_all(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite")
    store.log_question("a", "Fråga", abstained=False)
    store.add_feedback("a", "up")
    assert store.delete_all() == 2
    assert store.stats()["questions"] == 0
    assert store.feedback() == []


def test_stats_per_day_abstention_and_unanswered(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage.sqlite")
    day1 = NOW - timedelta(days=2)
    store.log_question("1", "Vem betalar hjälpmedel?", abstained=True, at=day1)
    store.log_question("2", "VEM BETALAR HJÄLPMEDEL? ", abstained=True, at=day1 + timedelta(hours=1))
    store.log_question("3", "Vad är SIP?", abstained=False, at=day1)
    store.log_question("4", "Patient 19121212-1212 parkering?", abstained=True, at=NOW)
    store.log_question("5", "För gammal", abstained=True, at=NOW - timedelta(days=40))
    store.add_feedback("3", "up", at=NOW)
    store.add_feedback("1", "down", at=NOW)
    store.add_feedback("2", "down", at=NOW)
    stats = store.stats(days=30, now=NOW)
    assert stats["questions"] == 4
    assert stats["abstained"] == 3
    assert stats["abstention_rate"] == 0.75
    assert stats["per_day"] == [
        {"day": day1.date().isoformat(), "questions": 3, "abstained": 2},
        {"day": NOW.date().isoformat(), "questions": 1, "abstained": 1},
    ]
    top = stats["unanswered"][0]
    assert top["question"] == "vem betalar hjälpmedel?" and top["count"] == 2
    assert all("19121212" not in u["question"] for u in stats["unanswered"])
    assert any(MASK in u["question"] for u in stats["unanswered"])
    assert stats["feedback"] == {"up": 1, "down": 2}
    assert store.stats(days=30, now=NOW + timedelta(days=365))["abstention_rate"] is None


def test_store_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    UsageStore(path).add_feedback("x", "up", "Bra")
    again = UsageStore(path)
    assert [(f.answer_id, f.rating, f.comment) for f in again.feedback()] == [("x", "up", "Bra")]
