"""Run the curated questions through the assistant (or just its retrieval) and report the numbers.

    from eval.questions import load_questions
    from eval.run import run, format_report
    report = run(ask, load_questions(), split="report")
    print(format_report(report))

`ask(question, history, audience)` returns the Answer JSON (or an Answer object); `search(question,
history)` returns ranked `document#anchor` ids. Tune on split "calibrate"; quote numbers from
"report". From the shell:

    python -m eval.run --ask package.module:ask [--factory] [--split report|calibrate|all]
    python -m eval.run --search package.module:search --factory --corpus data/corpus
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from avtal.models import Chunk
from eval.metrics import (
    CITED_AT,
    HIT_AT,
    as_answer_dict,
    breakdown,
    confidence_sweep,
    gold_rank,
    score,
    split_part_map,
    summarize,
)
from eval.questions import DEFAULT_PATH, KINDS, USER_GROUPS, Question, load_questions

Ask = Callable[[str, list[dict[str, str]], str], Any]
Search = Callable[[str, list[dict[str, str]]], Sequence[str]]

BREAKDOWNS = (
    ("by_kind", "kind", KINDS),
    ("by_user_group", "user_group", USER_GROUPS),
    ("by_document", "document", ()),
)


def select(questions: Iterable[Question], split: str | None) -> list[Question]:
    """The questions of one split (None: all)."""
    return [q for q in questions if split is None or q.split == split]


def _history(question: Question) -> list[dict[str, str]]:
    return [dict(turn) for turn in question.history]


def _report(mode: str, split: str | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    report: dict[str, Any] = {"mode": mode, "split": split or "all", "overall": summarize(rows)}
    for name, key, order in BREAKDOWNS:
        report[name] = breakdown(rows, key, order)
    report["rows"] = rows
    return report


def run(
    ask: Ask,
    questions: Iterable[Question],
    split: str | None = "report",
    *,
    chunks: Iterable[Chunk] | None = None,
    audience: str = "kort",
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Ask every question of the split and score the answers.

    Each question is asked once as `ask(question, history, audience)` and timed (wall clock). An
    exception is recorded in the row's `error` and scored as an abstention without citations.
    With `chunks`, citations of split clause parts are matched exactly (see metrics.split_part_map).

    Returns {"mode", "split", "overall", "by_kind", "by_user_group", "by_document", "rows"}; each
    summary has hit@1, hit@5 and MRR over answerable questions (answered or not), key-fact recall
    (answerable), false abstention (answerable that abstained), abstention on out_of_scope,
    latency median and p95 in seconds, and the error count.
    """
    parts = split_part_map(chunks) if chunks is not None else None
    rows: list[dict[str, Any]] = []
    for question in select(questions, split):
        error: str | None = None
        started = time.perf_counter()
        try:
            answer = as_answer_dict(ask(question.question, _history(question), audience))
        except Exception as exc:  # one failing question must not lose the run
            answer = {"answer": "", "abstained": True, "confidence": 0.0, "citations": []}
            error = f"{type(exc).__name__}: {exc}"
        latency = time.perf_counter() - started
        row = score(question, answer, parts)
        row["latency_s"] = latency
        row["error"] = error
        row["answer"] = answer.get("answer")
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return _report("answer", split, rows)


def run_retrieval(
    search: Search,
    questions: Iterable[Question],
    split: str | None = "report",
    *,
    chunks: Iterable[Chunk] | None = None,
) -> dict[str, Any]:
    """Score retrieval alone: `search(question, history)` returns ranked `document#anchor` ids.

    Only answerable questions are scored (out-of-scope questions have no gold). Same report shape
    as `run`, with hit@1, hit@5, MRR and latency filled in.
    """
    parts = split_part_map(chunks) if chunks is not None else None
    rows: list[dict[str, Any]] = []
    for question in select(questions, split):
        if not question.answerable:
            continue
        error: str | None = None
        started = time.perf_counter()
        try:
            ranked = list(dict.fromkeys(search(question.question, _history(question))))
        except Exception as exc:
            ranked, error = [], f"{type(exc).__name__}: {exc}"
        latency = time.perf_counter() - started
        rank = gold_rank(ranked, question.gold, parts)
        rows.append(
            {
                "id": question.id,
                "kind": question.kind,
                "user_group": question.user_group,
                "split": question.split,
                "document": question.gold_documents[0],
                "answerable": True,
                "gold_rank": rank,
                "hit@1": rank == 1,
                f"hit@{CITED_AT}": rank is not None and rank <= CITED_AT,
                f"hit@{HIT_AT}": rank is not None and rank <= HIT_AT,
                "reciprocal_rank": 1.0 / rank if rank else 0.0,
                "ranked": ranked[:10],
                "latency_s": latency,
                "error": error,
            }
        )
    return _report("retrieval", split, rows)


# --- printing --------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{100 * value:4.0f}"


def _sec(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.2f}"


def format_report(report: Mapping[str, Any]) -> str:
    """A compact fixed-width table: overall, then per kind, user group and document."""
    answer_mode = report.get("mode") != "retrieval"
    columns = ["@1", "@5", "MRR"] + (["fakt", "fAbs", "oos"] if answer_mode else [])
    header = f"{'':26} {'n':>4} " + " ".join(f"{c:>4}" for c in columns) + f" {'p50s':>5} {'p95s':>5}"

    def line(name: str, s: Mapping[str, Any]) -> str:
        cells = f"{name[:26]:26} {s['n']:>4} {_pct(s['hit@1'])} {_pct(s[f'hit@{HIT_AT}'])} {_pct(s['mrr'])}"
        if answer_mode:
            cells += (
                f" {_pct(s['key_fact_recall'])} {_pct(s['false_abstention'])} {_pct(s['oos_abstention'])}"
            )
        return cells + f" {_sec(s['latency_median_s'])} {_sec(s['latency_p95_s'])}"

    out = [f"Avtalsassistenten eval ({report.get('mode', 'answer')}, split {report.get('split')})", header]
    out.append(line("ALLA", report["overall"]))
    for name, _key, _order in BREAKDOWNS:
        section = report.get(name) or {}
        if not section:
            continue
        out.append(f"-- {name[3:].replace('_', ' ')}")
        out.extend(line(group, summary) for group, summary in section.items())
    errors = report["overall"].get("errors") or 0
    legend = "@1/@5/MRR: answerable, %; "
    if answer_mode:
        legend += "fakt: key-fact recall; fAbs: answerable that abstained; oos: out_of_scope that abstained; "
    out.append(legend + f"errors: {errors}")
    return "\n".join(out)


# --- command line ----------------------------------------------------------------------------


def corpus_chunks(folder: str | Path) -> list[Chunk]:
    """Chunks of every document in a folder, built without embeddings (as `avtal ingest` would)."""
    from avtal.settings import IngestSettings
    from ingest.manifest import load_manifest
    from ingest.pipeline import process_document
    from ingest.readers import SUPPORTED_EXTENSIONS, read_document

    folder = Path(folder)
    settings = IngestSettings()
    manifest = load_manifest(folder)
    chunks: list[Chunk] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUPPORTED_EXTENSIONS or path.name == "manifest.json":
            continue
        parsed = read_document(path, settings)
        entry = manifest.get(path.name) or manifest.get(path.stem)
        chunks.extend(process_document(parsed, entry, path, settings).chunks)
    return chunks


def _load_callable(spec: str, factory: bool) -> Callable[..., Any]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"expected 'package.module:name', got {spec!r}")
    target = getattr(importlib.import_module(module_name), attr)
    return target() if factory else target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.run", description=__doc__.split("\n\n")[0])
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--ask", help="module:callable answering (question, history, audience)")
    how.add_argument("--search", help="module:callable returning ranked document#anchor ids")
    parser.add_argument("--factory", action="store_true", help="the callable is a zero-argument factory")
    parser.add_argument("--split", default="report", choices=("report", "calibrate", "all"))
    parser.add_argument("--questions", default=str(DEFAULT_PATH))
    parser.add_argument("--corpus", help="folder of the indexed documents, for exact split-part matching")
    parser.add_argument("--audience", default="kort")
    parser.add_argument("--sweep", action="store_true", help="also print the confidence sweep")
    parser.add_argument("--json", dest="json_path", help="write the whole report (with rows) here")
    args = parser.parse_args(argv)

    questions = load_questions(args.questions)
    split = None if args.split == "all" else args.split
    chunks = corpus_chunks(args.corpus) if args.corpus else None
    if args.ask:
        report = run(
            _load_callable(args.ask, args.factory), questions, split, chunks=chunks, audience=args.audience
        )
    else:
        report = run_retrieval(_load_callable(args.search, args.factory), questions, split, chunks=chunks)
    print(format_report(report))
    if args.sweep and args.ask:
        report["sweep"] = confidence_sweep(report["rows"])
        print("\nthreshold  fAbs   oos  answered  @1")
        for s in report["sweep"]:
            rates = f"{_pct(s['false_abstention'])}  {_pct(s['oos_abstention'])}"
            print(f"{s['threshold']:9.2f} {rates}  {s['answered']:8d} {_pct(s['answered_hit@1'])}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
