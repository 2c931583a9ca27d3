"""Answer-latency benchmark: every question of eval/questions.jsonl through `Assistant.ask`, after a
warm-up, on the current index. Prints figures, asserts nothing: `avtal bench --ask`."""

from __future__ import annotations

import resource
import statistics
import time

from assistant.core import Assistant
from eval.questions import load_questions


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_ask_bench(rounds: int = 2) -> None:
    started = time.perf_counter()
    assistant = Assistant.from_settings()
    load_s = time.perf_counter() - started
    questions = load_questions()
    for q in questions[:5]:  # warm-up: embedder, caches
        assistant.ask(q.question, history=[dict(t) for t in q.history])
    totals: list[float] = []
    parts: dict[str, list[float]] = {"retrieval": [], "answer": []}
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            answer = assistant.ask(q.question, history=[dict(t) for t in q.history])
            totals.append((time.perf_counter() - t0) * 1000)
            for key in parts:
                parts[key].append(answer.timings_ms[key])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"questions: {len(questions)} x {rounds} rounds after warm-up; "
        f"load {load_s:.2f} s; peak {peak_mb:.0f} MB"
    )
    print(f"{'ms':10} {'median':>8} {'p95':>8} {'max':>8}")
    for name, values in (("total", totals), *parts.items()):
        print(f"{name:10} {statistics.median(values):8.1f} {_pct(values, 0.95):8.1f} {max(values):8.1f}")
