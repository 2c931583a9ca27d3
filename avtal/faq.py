"""The FAQ file: common questions per agreement, read by the widget and the Streamlit UI.

`python -m avtal.faq --check` asks every question of the current index and lists those the
assistant abstains on (a FAQ entry should always have an answer).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avtal.errors import ConfigurationError, InvalidRequest

DEFAULT_FAQ = Path(__file__).resolve().parents[1] / "ui" / "faq.json"


@dataclass
class FaqSection:
    id: str
    title: str
    questions: list[str]
    documents: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "questions": self.questions, "documents": self.documents}


@dataclass
class Faq:
    sections: list[FaqSection]

    def section(self, section_id: str | None) -> FaqSection:
        """The section with this id; the first section when no id is given."""
        if not section_id:
            return self.sections[0]
        for section in self.sections:
            if section.id == section_id:
                return section
        known = ", ".join(s.id for s in self.sections)
        raise InvalidRequest(f"Okänd FAQ-sektion: {section_id!r}.", f"Välj en av: {known}.")

    def to_dict(self) -> dict[str, Any]:
        return {"sections": [s.to_dict() for s in self.sections]}


def load_faq(path: Path | None = None) -> Faq:
    """Read and check the FAQ file (the bundled ui/faq.json unless a path is given)."""
    path = Path(path) if path else DEFAULT_FAQ
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sections = [
            FaqSection(
                id=str(s["id"]),
                title=str(s["title"]),
                questions=[str(q) for q in s["questions"]],
                documents=[str(d) for d in s.get("documents", [])],
            )
            for s in data["sections"]
        ]
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"FAQ-filen {path} finns inte.", "Ange en befintlig fil i AVTAL_SERVICE__FAQ_FILE."
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"FAQ-filen {path} går inte att läsa: {exc}.",
            "Varje sektion behöver 'id', 'title' och en lista 'questions' (se ui/faq.json).",
        ) from exc
    if not sections or len({s.id for s in sections}) != len(sections):
        raise ConfigurationError(f"FAQ-filen {path} saknar sektioner eller har dubbla id:n.")
    return Faq(sections)


def main() -> int:
    from assistant.core import Assistant

    faq = load_faq(Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    assistant = Assistant.from_settings()
    failures = 0
    for section in faq.sections:
        unknown = set(section.documents) - set(assistant.version.documents)
        if unknown:
            print(f"[{section.id}] unknown documents: {sorted(unknown)}")
            failures += 1
        for question in section.questions:
            answer = assistant.ask(question)
            top = answer.citations[0] if answer.citations else None
            first = f"{top.document}#{top.anchor}" if top else "-"
            flag = "ABSTAINS" if answer.abstained else "ok"
            failures += answer.abstained
            print(f"[{section.id}] {flag:8} {first:55} {question}")
    return 1 if failures else 0


if __name__ == "__main__":
    if "--check" not in sys.argv:
        print("usage: python -m avtal.faq --check [FILE]")
        raise SystemExit(2)
    raise SystemExit(main())
