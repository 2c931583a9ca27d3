"""Load benchmark of ``POST /api/ask`` on loopback: ``python -m api.loadbench``.

Starts the real service (``avtal serve``) in a subprocess on a free 127.0.0.1 port over the
current AVTAL_HOME (rate limit off for the run), warms it up, then sends a bounded number of
questions from eval/questions.jsonl with 1, 4 and 16 concurrent clients and prints requests/s
and the median and 95th-percentile latency per level (each level asks different questions).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_questions() -> list[str]:
    import json

    questions = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if not item.get("history"):
                questions.append(item["question"])
    return questions


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AVTAL_SERVICE__RATE_LIMIT_PER_MINUTE": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "avtal.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            raise SystemExit(f"Tjänsten startade inte:\n{err[-2000:]}")
        try:
            response = httpx.get(f"{url}/readyz", timeout=60)
            if response.status_code == 200:
                return response.json()
            raise SystemExit(f"Tjänsten är inte redo: {response.text}")
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("Tjänsten startade inte i tid.")


async def run_level(url: str, questions: list[str], clients: int, requests: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(questions[i % len(questions)])

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while True:
            try:
                question = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            response = await client.post("/api/ask", json={"question": question})
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                errors += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "median": statistics.median(latencies),
        "p95": _pct(latencies, 0.95),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="questions per concurrency level")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args(argv)
    questions = load_questions()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    try:
        ready = wait_ready(url, proc)
        print(
            f"server: {url} (uvicorn, 1 worker), {ready['documents']} documents, {ready['chunks']} clauses; "
            f"{args.requests} questions per level from {QUESTIONS.name}; {os.cpu_count()} CPU cores"
        )
        asyncio.run(run_level(url, questions[::-1], 2, 8))  # warm-up: embedder, caches
        print(f"{'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>7} {'median ms':>10} {'p95 ms':>8}")
        for i, level in enumerate(args.levels):
            # Each level asks other questions than the levels before it (no warm per-question caches).
            start = (i * args.requests) % len(questions)
            batch = (questions[start:] + questions[:start])[: args.requests]
            r = asyncio.run(run_level(url, batch, level, args.requests))
            print(
                f"{r['clients']:>7} {r['requests']:>8} {r['errors']:>6} {r['rps']:>7.1f} "
                f"{r['median']:>10.0f} {r['p95']:>8.0f}"
            )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
