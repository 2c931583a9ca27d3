"""What the service remembers about its use: logged questions (masked) and feedback.

One SQLite file under AVTAL_HOME (``settings.usage_db``), shared by the API and the Streamlit UI.
The assistant core never writes here, so evaluation runs do not fill the statistics. Every text
is masked again on the way in (a personnummer never reaches the disk), and rows older than the
retention period are deleted by :meth:`UsageStore.purge`, which the writers call now and then.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from avtal.errors import InvalidRequest
from avtal.privacy import mask_personal_ids

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000
MAX_QUESTION_CHARS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    answer_id TEXT PRIMARY KEY,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    confidence REAL,
    audience TEXT,
    channel TEXT
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at);
"""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class Feedback:
    id: int
    answer_id: str
    rating: str
    comment: str | None
    created_at: str


class UsageStore:
    """Logged questions and feedback in one SQLite file. Safe to share between threads."""

    def __init__(self, path: Path, retention_days: int = 90) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @classmethod
    def from_settings(cls, settings: Any) -> UsageStore:
        return cls(settings.usage_db, settings.service.retention_days)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path, timeout=10)
            # SQLite's lower() only folds ASCII: "Vad är SÄBO?" and "vad är säbo?" are one question
            db.create_function("fold_case", 1, lambda s: s.casefold() if isinstance(s, str) else s)
            try:
                with db:  # commits, or rolls back on error
                    yield db
            finally:
                db.close()

    # ------------------------------------------------------------------ writing

    def log_question(
        self,
        answer_id: str,
        question: str,
        *,
        abstained: bool,
        confidence: float | None = None,
        audience: str | None = None,
        channel: str = "api",
        at: datetime | None = None,
    ) -> None:
        """Remember one answered question (masked, cut to 2,000 characters)."""
        masked, _ = mask_personal_ids(question.strip())
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    _iso(at or _now()),
                    masked[:MAX_QUESTION_CHARS],
                    int(bool(abstained)),
                    confidence,
                    audience,
                    channel,
                ),
            )

    def add_feedback(
        self, answer_id: str, rating: str, comment: str | None = None, *, at: datetime | None = None
    ) -> Feedback:
        """Store a thumbs up or down (and an optional comment, masked) for an answer."""
        if not isinstance(answer_id, str) or not answer_id.strip() or len(answer_id) > 200:
            raise InvalidRequest("Svaret som återkopplingen gäller saknas.", "Ange svarets id (answer_id).")
        if rating not in ("up", "down"):
            raise InvalidRequest(
                f"Okänt omdöme: {rating!r}.", "Ange 'up' (tumme upp) eller 'down' (tumme ned)."
            )
        text: str | None = None
        if comment is not None:
            if len(comment) > MAX_COMMENT_CHARS:
                raise InvalidRequest(
                    f"Kommentaren är för lång ({len(comment)} tecken).",
                    f"Skriv högst {MAX_COMMENT_CHARS} tecken.",
                )
            text = mask_personal_ids(comment.strip())[0] or None
        created = _iso(at or _now())
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (answer_id, rating, comment, created_at) VALUES (?, ?, ?, ?)",
                (answer_id.strip(), rating, text, created),
            )
            row_id = int(cursor.lastrowid or 0)
        return Feedback(row_id, answer_id.strip(), rating, text, created)

    def purge(self, now: datetime | None = None) -> int:
        """Delete questions and feedback older than the retention period; return how many rows went."""
        cutoff = _iso((now or _now()) - timedelta(days=self.retention_days))
        with self._connect() as db:
            removed = db.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,)).rowcount
            removed += db.execute("DELETE FROM feedback WHERE created_at < ?", (cutoff,)).rowcount
        return removed

    def delete_all(self) -> int:
        """Delete every stored question and every piece of feedback (admin)."""
        with self._connect() as db:
            removed = db.execute("DELETE FROM questions").rowcount
            removed += db.execute("DELETE FROM feedback").rowcount
        return removed

    # ------------------------------------------------------------------ reading

    def feedback(self, answer_id: str | None = None) -> list[Feedback]:
        query = "SELECT id, answer_id, rating, comment, created_at FROM feedback"
        params: tuple[Any, ...] = ()
        if answer_id is not None:
            query += " WHERE answer_id = ?"
            params = (answer_id,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY id", params).fetchall()
        return [Feedback(*row) for row in rows]

    def stats(self, days: int = 30, top: int = 10, now: datetime | None = None) -> dict[str, Any]:
        """Questions per day, abstention rate, feedback counts and the most common unanswered
        questions (masked) over the last ``days`` days."""
        since = _iso((now or _now()) - timedelta(days=days))
        with self._connect() as db:
            per_day = db.execute(
                "SELECT substr(asked_at, 1, 10) AS day, COUNT(*), SUM(abstained) FROM questions "
                "WHERE asked_at >= ? GROUP BY day ORDER BY day",
                (since,),
            ).fetchall()
            total, abstained = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(abstained), 0) FROM questions WHERE asked_at >= ?", (since,)
            ).fetchone()
            unanswered = db.execute(
                "SELECT fold_case(trim(question)) AS q, COUNT(*) AS n, MAX(asked_at) FROM questions "
                "WHERE abstained = 1 AND asked_at >= ? GROUP BY q ORDER BY n DESC, MAX(asked_at) DESC "
                "LIMIT ?",
                (since, top),
            ).fetchall()
            ratings = dict(
                db.execute(
                    "SELECT rating, COUNT(*) FROM feedback WHERE created_at >= ? GROUP BY rating", (since,)
                ).fetchall()
            )
        return {
            "days": days,
            "questions": int(total),
            "abstained": int(abstained),
            "abstention_rate": round(abstained / total, 4) if total else None,
            "per_day": [{"day": d, "questions": n, "abstained": int(a or 0)} for d, n, a in per_day],
            "unanswered": [{"question": q, "count": n, "last_asked": last} for q, n, last in unanswered],
            "feedback": {"up": int(ratings.get("up", 0)), "down": int(ratings.get("down", 0))},
        }
