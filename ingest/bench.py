"""Ingest benchmark: prints figures, asserts nothing. `avtal bench data/corpus` (or `make bench`).

Each scenario runs in a fresh child process so peak memory (ru_maxrss) is that run's own:
- cold: empty AVTAL_HOME (parse, repair, embed everything, build the index);
- warm: the same files again (unchanged: nothing parsed, nothing embedded, no new version);
- reparse: index removed but the embedding cache kept (as after regenerating the PDFs or a
  chunking change that keeps most texts): everything parsed again, embeddings from the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from avtal.settings import Settings
from ingest.pipeline import ingest
t = time.perf_counter()
report = ingest([Path(sys.argv[1])], Settings())
seconds = time.perf_counter() - t
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "chunks": report.chunks,
                  "documents": report.documents, "pages": report.pages, "embedded": report.embedded,
                  "errors": len(report.errors), "processed": len(report.processed)}))
"""


def _run(path: Path, home: Path) -> dict[str, float]:
    env = {**os.environ, "AVTAL_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_bench(path: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="avtal-bench-"))
    try:
        rows = [("cold", _run(path, home)), ("warm", _run(path, home))]
        shutil.rmtree(home / "index")
        rows.append(("reparse", _run(path, home)))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    cold = rows[0][1]
    print(
        f"corpus: {path} ({cold['documents']:.0f} documents, {cold['pages']:.0f} pages, "
        f"{cold['chunks']:.0f} chunks); machine: {os.cpu_count()} cores"
    )
    print(f"{'run':8} {'seconds':>8} {'chunks/s':>9} {'embedded':>9} {'parsed':>7} {'peak MB':>8}")
    for name, row in rows:
        rate = row["chunks"] / row["seconds"] if row["seconds"] else float("nan")
        print(
            f"{name:8} {row['seconds']:8.2f} {rate:9.1f} {row['embedded']:9.0f} "
            f"{row['processed']:7.0f} {row['peak_mb']:8.0f}"
        )
    print(f"warm/cold time ratio: {rows[1][1]['seconds'] / cold['seconds']:.3f}")
