"""The evaluation run behind `avtal eval --out DIR`: configurations side by side, and what it writes.

    from eval.report import evaluate, write_outputs
    evaluation = evaluate(assistant, load_questions(), split="report")
    paths = write_outputs(evaluation, Path("var/eval/latest"))

Every assistant configuration answers through `Assistant.ask` (the entry point of the UI and the
API); a configuration is an Assistant composed from outside with other collaborators (a retriever
restricted to some modes, no glossary) or asked without the conversation history. The reranker and
the abstention model are the ones fitted for the full pipeline, not refitted per configuration.
The LlamaIndex tutorial pipeline (eval/baseline.py) runs on the same questions and the same
embedding model.

DIR/result.json  {"created", "index_version", "questions_file", "split", "questions", "command",
                  "main_config", "threshold", "machine", "configs": {name: {"label", "description",
                  "summary", "per_kind", "per_user_group", "per_document", "seconds", "rows"}},
                  "skipped": {name: reason}, "failures", "sweep", "seconds"}

Retrieval figures (hit@1/2/5, MRR) rank the clauses the answer is composed from (after reranking);
citation figures (first_citation_gold, cited_gold, citation_precision, citation_fact_recall) judge
what the answer cites; key facts and abstention judge the answer text (eval/metrics.py).
DIR/report.html  self-contained (plots embedded as base64 PNG)
DIR/plots/*.png  per_kind.png, threshold.png, latency.png
DIR/ragas.jsonl  one line per question of the main configuration, in the order of its rows:
                  user_input, retrieved_contexts, reference_contexts, response, reference
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.metrics import (
    CITED_AT,
    HIT_AT,
    as_answer_dict,
    confidence_sweep,
    gold_rank,
    matches_gold,
    score,
    split_part_map,
    summarize,
)
from eval.questions import KINDS, USER_GROUPS, Question

MAIN_CONFIG = "hybrid"
BASELINE = "baseline-llamaindex"
CONFIGS: dict[str, tuple[str, str]] = {
    "hybrid": (
        "Hybrid (standard)",
        "Hela kedjan som i appen: BM25 på ordstammar och på 4-gram, e5-vektorer, RRF, omrankning, "
        "ordlista och följdfrågor.",
    ),
    "lexical": ("Bara lexikal", "Bara BM25 (ordstammar och 4-gram), inga vektorer; i övrigt som standard."),
    "vectors": ("Bara vektorer", "Bara e5-vektorer, ingen BM25; i övrigt som standard."),
    "no-glossary": ("Utan ordlista", "Som standard men utan ordlistans utvidgning av förkortningar och ord."),
    "no-followup": (
        "Utan följdfrågor",
        "Som standard men utan samtalshistorik: följdfrågor ställs som om de stod ensamma.",
    ),
    BASELINE: (
        "LlamaIndex-baslinje",
        "Tutorialens kedja: en Document per PDF-sida (pypdf), SentenceSplitter() med standardvärden, "
        "VectorStoreIndex med samma e5-modell, similarity_top_k=2, ingen språkmodell. Dess ”svar” är "
        "de två hämtade textbitarna hela (det en RAG-kedja utan språkmodell visar), och den avstår "
        "aldrig. En textbit räknas som ett guldavsnitt när den innehåller minst halva avsnittets text.",
    ),
}
DEFAULT_CONFIGS = tuple(CONFIGS)
RAGAS_CONTEXTS = 5  # the clauses the answer is composed from (Assistant.assess reads the top five)

Log = Callable[[str], None]


@dataclass
class Evaluation:
    result: dict[str, Any]
    ragas: list[dict[str, Any]] = field(default_factory=list)


# --- running the configurations --------------------------------------------------------------


def _history(question: Question) -> list[dict[str, str]]:
    return [dict(turn) for turn in question.history]


def config_assistant(base: Any, name: str) -> tuple[Any, bool]:
    """The assistant of a configuration and whether it is given the conversation history.

    Composed from the collaborators of `base` (no change to the assistant's code): a
    HybridRetriever restricted to some modes, or no glossary.
    """
    from assistant.core import Assistant
    from assistant.retrieval import HybridRetriever

    settings, version = base.settings, base.version
    if name == MAIN_CONFIG:
        return base, True
    if name == "no-followup":
        return base, False
    if name in ("lexical", "vectors"):
        modes = ("stem", "char") if name == "lexical" else ("dense",)
        retriever = HybridRetriever(version, settings.assistant, modes=modes)
        return Assistant(settings, version, glossary=base.glossary, llm=base.llm, retriever=retriever), True
    if name == "no-glossary":
        return Assistant(settings, version, glossary=None, llm=base.llm, retriever=base.retriever), True
    raise ValueError(f"unknown configuration {name!r}; choose from {', '.join(CONFIGS)}")


def _ask_rows(
    assistant: Any,
    questions: Sequence[Question],
    parts: Mapping[str, str],
    with_history: bool,
    audience: str = "kort",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[list[str]]]:
    """Ask each question once (timed) and score it.

    The answer is scored by `eval.metrics.score` (key facts, abstention, citations). Retrieval is
    then scored on the ranked clauses the answer was composed from: `Assistant.prepare` (the first
    step of `ask`, deterministic) is called again, untimed, for its sources. Returns the rows, the
    Answer dicts and the text of each question's first RAGAS_CONTEXTS sources.
    """
    rows: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    contexts: list[list[str]] = []
    for question in questions:
        history = _history(question) if with_history else []
        error = None
        started = time.perf_counter()
        try:
            answer = as_answer_dict(assistant.ask(question.question, history=history, audience=audience))
        except Exception as exc:  # one failing question must not lose the run
            answer = {"answer": "", "abstained": True, "confidence": 0.0, "citations": []}
            error = f"{type(exc).__name__}: {exc}"
        latency = time.perf_counter() - started
        try:
            sources = assistant.prepare(question.question, history).sources
        except Exception:
            sources = []
        row = score(question, answer, parts)
        row["cited_gold_rank"] = row.get("gold_rank")
        row.update(_retrieval_fields(question, [s.chunk.id for s in sources], parts))
        row["latency_s"] = latency
        row["error"] = error
        rows.append(row)
        answers.append(answer)
        contexts.append([s.chunk.text for s in sources[:RAGAS_CONTEXTS]])
    return rows, answers, contexts


def _retrieval_fields(question: Question, ranked: Sequence[str], parts: Mapping[str, str]) -> dict[str, Any]:
    """hit@1/2/5 and the reciprocal rank of the first gold clause in a ranked list (answerable only);
    the citation-based rank stays in `cited_gold_rank`."""
    if not question.answerable:
        return {"retrieved": list(ranked[:10])}
    rank = gold_rank(list(dict.fromkeys(ranked)), question.gold, parts)
    return {
        "retrieved": list(ranked[:10]),
        "gold_rank": rank,
        "hit@1": rank == 1,
        f"hit@{CITED_AT}": rank is not None and rank <= CITED_AT,
        f"hit@{HIT_AT}": rank is not None and rank <= HIT_AT,
        "reciprocal_rank": 1.0 / rank if rank else 0.0,
    }


def _baseline_rows(
    baseline: Any, questions: Sequence[Question], parts: Mapping[str, str]
) -> list[dict[str, Any]]:
    from eval.baseline import baseline_rank

    rows: list[dict[str, Any]] = []
    for question in questions:
        started = time.perf_counter()
        hits = baseline.retrieve(question.question)
        latency = time.perf_counter() - started
        answer = {
            "answer": "\n\n".join(h.text for h in hits),
            "abstained": False,
            "confidence": hits[0].score if hits else 0.0,
            "citations": [
                {"document": Path(h.file_name).stem, "anchor": f"chunk{i}", "text": h.text}
                for i, h in enumerate(hits, 1)
            ],
        }
        row = score(question, answer, parts)
        if question.answerable:
            rank = baseline_rank(hits, question.gold, dict(parts))
            row.update(
                {
                    "gold_rank": rank,
                    "hit@1": rank == 1,
                    f"hit@{CITED_AT}": rank is not None,
                    f"hit@{HIT_AT}": None,  # two chunks retrieved: hit@5 does not apply
                    "reciprocal_rank": 1.0 / rank if rank else 0.0,
                    "cited_gold_rank": rank,
                    "first_citation_gold": rank == 1,
                    "cited_gold": rank is not None,
                }
            )
        row["cited"] = [f"{h.file_name} s. {h.page_label}: {', '.join(h.covered) or '-'}" for h in hits]
        row["latency_s"] = latency
        row["error"] = None
        rows.append(row)
    return rows


def _group(rows: Sequence[Mapping[str, Any]], key: str, order: Sequence[str]) -> dict[str, Any]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get(key) or "out_of_scope"), []).append(row)
    rank = {name: i for i, name in enumerate(order)}
    return {name: summarize(groups[name]) for name in sorted(groups, key=lambda n: rank.get(n, len(rank)))}


def _config_result(name: str, rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    label, description = CONFIGS[name]
    return {
        "label": label,
        "description": description,
        "summary": summarize(rows),
        "per_kind": _group(rows, "kind", KINDS),
        "per_user_group": _group(rows, "user_group", USER_GROUPS),
        "per_document": _group(rows, "document", ()),
        "seconds": round(seconds, 2),
        "rows": rows,
    }


def failure_reasons(row: Mapping[str, Any]) -> list[str]:
    """Why a scored row counts as a failure (empty: it does not), in Swedish for the report."""
    if not row["answerable"]:
        return [] if row["abstained"] else ["svarade fast dokumenten inte svarar"]
    reasons = []
    if row["abstained"]:
        reasons.append("avstod fast dokumenten svarar")
    if not row.get(f"hit@{HIT_AT}"):
        reasons.append(f"inget guldavsnitt bland de {HIT_AT} första träffarna")
    elif not row["abstained"] and not row.get("cited_gold"):
        reasons.append("citerar inget guldavsnitt")
    recall = row.get("key_fact_recall")
    if recall is not None and recall < 0.5 and not row["abstained"]:
        reasons.append("saknar nyckelfakta")
    if row.get("error"):
        reasons.append(f"fel: {row['error']}")
    return reasons


def _failures(
    rows: Sequence[Mapping[str, Any]],
    answers: Sequence[Mapping[str, Any]],
    questions: Sequence[Question],
    parts: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The main configuration's failed questions with what a person needs to see why."""
    out = []
    for row, answer, question in zip(rows, answers, questions, strict=True):
        reasons = failure_reasons(row)
        if not reasons:
            continue
        out.append(
            {
                "id": question.id,
                "kind": question.kind,
                "user_group": question.user_group,
                "question": question.question,
                "history": _history(question),
                "reasons": reasons,
                "answer": answer.get("answer") or "",
                "abstained": bool(answer.get("abstained")),
                "confidence": row.get("confidence"),
                "citations": [
                    {
                        "id": f"{c.get('document')}#{c.get('anchor')}",
                        "heading": " ".join(p for p in (c.get("section"), c.get("heading")) if p),
                        "quote": c.get("quote") or "",
                        "gold": matches_gold(f"{c.get('document')}#{c.get('anchor')}", question.gold, parts),
                    }
                    for c in answer.get("citations") or []
                ],
                "gold": list(question.gold),
                "gold_answer": question.answer,
                "missing_facts": row.get("missing_facts") or [],
            }
        )
    return out


def _ragas(
    questions: Sequence[Question],
    answers: Sequence[Mapping[str, Any]],
    contexts: Sequence[list[str]],
    chunks: Mapping[str, Any],
) -> list[dict[str, Any]]:
    return [
        {
            "user_input": question.question,
            "retrieved_contexts": context,
            "reference_contexts": [chunks[g].text for g in question.gold if g in chunks],
            "response": str(answer.get("answer") or ""),
            "reference": question.answer,
        }
        for question, answer, context in zip(questions, answers, contexts, strict=True)
    ]


def evaluate(
    assistant: Any,
    questions: Iterable[Question],
    split: str | None = "report",
    configs: Sequence[str] = DEFAULT_CONFIGS,
    *,
    corpus: str | Path | None = "data/corpus",
    questions_file: str | Path | None = None,
    command: str | None = None,
    log: Log | None = None,
) -> Evaluation:
    """Run the chosen configurations on the questions of a split (None: all)."""
    say = log or (lambda _msg: None)
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        raise ValueError(f"unknown configuration {', '.join(unknown)}; choose from {', '.join(CONFIGS)}")
    started = time.perf_counter()
    chosen = [q for q in questions if split is None or q.split == split]
    chunks = {c.id: c for c in assistant.version.chunks}
    parts = split_part_map(assistant.version.chunks)
    for _ in range(3):  # warm-up: the embedder and caches load before anything is timed
        assistant.ask("Vem utser den samordnande vårdcentralen?")
    threshold = assistant.settings.assistant.abstain_below
    if threshold is None:
        threshold = assistant.model.threshold
    result: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "index_version": assistant.version.version,
        "questions_file": str(questions_file) if questions_file else None,
        "split": split or "all",
        "questions": len(chosen),
        "command": command,
        "main_config": MAIN_CONFIG if MAIN_CONFIG in configs else configs[0],
        "threshold": threshold,
        "machine": _machine(),
        "configs": {},
        "skipped": {},
    }
    evaluation = Evaluation(result)
    for name in configs:
        _forget_queries(assistant)
        t0 = time.perf_counter()
        if name == BASELINE:
            baseline = _make_baseline(assistant, corpus, say)
            if isinstance(baseline, str):
                result["skipped"][name] = baseline
                say(f"{name}: hoppas över ({baseline})")
                continue
            rows = _baseline_rows(baseline, chosen, parts)
            result["configs"][name] = _config_result(name, rows, time.perf_counter() - t0)
            result["configs"][name]["chunks"] = len(baseline.nodes)
        else:
            config, with_history = config_assistant(assistant, name)
            rows, answers, contexts = _ask_rows(config, chosen, parts, with_history)
            result["configs"][name] = _config_result(name, rows, time.perf_counter() - t0)
            if name == result["main_config"]:
                result["failures"] = _failures(rows, answers, chosen, parts)
                result["sweep"] = confidence_sweep(rows, [round(i * 0.01, 2) for i in range(101)])
                evaluation.ragas = _ragas(chosen, answers, contexts, chunks)
        say(f"{name}: klar på {time.perf_counter() - t0:.1f} s")
    result["seconds"] = round(time.perf_counter() - started, 1)
    return evaluation


def _machine() -> dict[str, Any]:
    """CPU count and load at the start: latency figures mean little without them."""
    import os

    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "load_1min": load}


def _forget_queries(assistant: Any) -> None:
    """Empty the embedder's in-memory cache of query vectors, so that no configuration answers
    faster because an earlier one already embedded the same query text."""
    lru = getattr(assistant.version.embedder, "_query_lru", None)
    if lru is not None:
        lru.clear()


def _make_baseline(assistant: Any, corpus: str | Path | None, say: Log) -> Any:
    """The LlamaIndex baseline over the corpus folder, or a reason (str) why it cannot run."""
    if corpus is None:
        return "ingen korpusmapp angiven"
    folder = Path(corpus)
    pdfs = sorted(folder.glob("*.pdf")) if folder.is_dir() else []
    if not pdfs:
        return f"inga PDF-filer i {folder}"
    indexed = set(assistant.version.documents)
    if not {p.stem for p in pdfs} & indexed:
        return f"PDF-filerna i {folder} är inte de indexerade dokumenten"
    try:
        import llama_index.core  # noqa: F401
    except ImportError:
        return "llama-index-core är inte installerat"
    from eval.baseline import LlamaIndexBaseline
    from index.embedding import CachedEmbedder
    from index.store import CACHE_FILE

    embedder = assistant.version.embedder  # the index's, with its passage cache on disk
    if not isinstance(embedder, CachedEmbedder):
        embedder = CachedEmbedder(embedder, assistant.settings.cache_dir / CACHE_FILE)
    say(f"{BASELINE}: bygger LlamaIndex-index över {len(pdfs)} PDF-filer (första gången några minuter)")
    return LlamaIndexBaseline(folder, embedder, assistant.version.chunks)


# --- printing --------------------------------------------------------------------------------

# (key, column header, kind) for the side-by-side table; kind "pct" or "ms" or "num"
COLUMNS: list[tuple[str, str, str]] = [
    ("hit@1", "hit@1", "pct"),
    (f"hit@{CITED_AT}", f"hit@{CITED_AT}", "pct"),
    (f"hit@{HIT_AT}", f"hit@{HIT_AT}", "pct"),
    ("mrr", "MRR", "pct"),
    ("first_citation_gold", "förstGuld", "pct"),
    ("cited_gold", "citGuld", "pct"),
    ("citation_precision", "citFakta", "pct"),
    ("key_fact_recall", "fakta", "pct"),
    ("false_abstention", "felAvst", "pct"),
    ("oos_abstention", "avstUtanf", "pct"),
    ("answer_words_median", "ord", "num"),
    ("latency_median_s", "p50 ms", "ms"),
    ("latency_p95_s", "p95 ms", "ms"),
]


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.0f}"
    if kind == "ms":
        return f"{1000 * value:.0f}"
    return f"{value:.0f}"


def format_side_by_side(result: Mapping[str, Any]) -> str:
    """The configurations as a fixed-width table (percentages; latency in ms)."""
    width = 20
    head = f"{'konfiguration':{width}} " + " ".join(f"{h:>9}" for _, h, _ in COLUMNS)
    lines = [head]
    for name, config in result["configs"].items():
        s = config["summary"]
        lines.append(f"{name:{width}} " + " ".join(f"{_cell(s.get(k), t):>9}" for k, _, t in COLUMNS))
    for name, reason in (result.get("skipped") or {}).items():
        lines.append(f"{name:{width}} hoppades över: {reason}")
    lines.append(
        "hit@k/MRR: sökningens rangordning; förstGuld/citGuld: svarets första/någon källa är ett "
        "guldavsnitt; citFakta: citerade avsnitt med nyckelfakta; fakta: nyckelfakta i svaret; "
        "felAvst: besvarbara som avstods; avstUtanf: frågor utanför dokumenten som avstods."
    )
    return "\n".join(lines)


# --- writing ---------------------------------------------------------------------------------


def write_outputs(evaluation: Evaluation, out: str | Path) -> dict[str, Path]:
    """Write result.json, ragas.jsonl, plots/*.png and report.html under `out`."""
    from eval.html_report import render_html, render_plots

    out = Path(out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    result = evaluation.result
    paths = {"result": out / "result.json", "ragas": out / "ragas.jsonl", "html": out / "report.html"}
    plots = render_plots(result, out / "plots")
    paths["result"].write_text(
        json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    with paths["ragas"].open("w", encoding="utf-8") as fh:
        for line in evaluation.ragas:
            fh.write(json.dumps(line) + "\n")  # ASCII: RAGAS opens it with the locale encoding
    images = {name: base64.b64encode(path.read_bytes()).decode("ascii") for name, path in plots.items()}
    paths["html"].write_text(render_html(result, images), encoding="utf-8")
    paths.update({f"plot_{name}": path for name, path in plots.items()})
    return paths


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)
