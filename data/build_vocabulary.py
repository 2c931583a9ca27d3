"""Regenerate ingest/resources/sv_domain_vocab.tsv from the clean documents in data/text.

Every 10th paragraph of each clean document is held out (it is the test set of
``python -m ingest.ocr_repair --measure``), so it is not counted here.

    python data/build_vocabulary.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.ocr_repair import DOMAIN_VOCAB_PATH, build_domain_counts


def main() -> None:
    counts = build_domain_counts()
    DOMAIN_VOCAB_PATH.parent.mkdir(parents=True, exist_ok=True)
    counts.write(DOMAIN_VOCAB_PATH)
    print(f"{DOMAIN_VOCAB_PATH}: {len(counts.unigrams)} words, {len(counts.bigrams)} bigrams")


if __name__ == "__main__":
    main()
