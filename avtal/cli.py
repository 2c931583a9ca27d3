"""The `avtal` command. Domain errors become one Swedish line on stderr, never a traceback."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from avtal.errors import AvtalError
from avtal.settings import Settings

app = typer.Typer(
    name="avtal",
    help="Avtalsassistenten: frågor och svar om samverkansöverenskommelserna i Stockholms län.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(exc: AvtalError) -> None:
    typer.echo(f"Fel: {exc.message}", err=True)
    if exc.hint:
        typer.echo(f"Tips: {exc.hint}", err=True)
    raise typer.Exit(1)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Filer eller mappar att läsa in (PDF, DOCX, TXT, MD).")],
    prune: Annotated[
        bool, typer.Option("--prune", help="Ta bort dokument ur indexet som inte längre finns i mapparna.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Skriv exakt ett JSON-objekt med sammanfattningen.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Ingen förloppsindikator.")] = False,
) -> None:
    """Läs in dokument till ett index på klausulnivå (vektorer i ChromaDB och ett lexikalt index)."""
    from ingest.pipeline import ingest as run_ingest

    settings = Settings()
    try:
        report = run_ingest(paths, settings, prune=prune, progress=not quiet and sys.stderr.isatty())
    except AvtalError as exc:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "documents": 0,
                        "pages": 0,
                        "chunks": 0,
                        "repaired_words": 0,
                        "embedded": 0,
                        "errors": [exc.to_dict()],
                        "seconds": 0.0,
                    },
                    ensure_ascii=False,
                )
            )
            raise typer.Exit(1) from exc
        _fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        typer.echo(
            f"Inläst: {report.documents} dokument, {report.pages} sidor, {report.chunks} avsnitt "
            f"(klausuler), {report.repaired_words} reparerade ord, {report.embedded} nya embeddingar, "
            f"{report.seconds:.1f} s."
        )
        if report.processed:
            typer.echo(f"Bearbetade nu: {', '.join(report.processed)}")
        if report.unchanged:
            typer.echo(f"Oförändrade: {', '.join(report.unchanged)}")
        if report.removed:
            typer.echo(f"Borttagna: {', '.join(report.removed)}")
        for warning in report.warnings:
            typer.echo(f"Varning: {warning}")
        for error in report.errors:
            typer.echo(f"Fel i {error.get('file')}: {error['message']} Tips: {error['hint']}", err=True)
        typer.echo(f"Index: {settings.index_dir} (version {report.version})")
    if report.errors:
        raise typer.Exit(1)


def _load_assistant() -> Any:
    """The assistant over the current index; a missing or stale index ends the command with its
    Swedish message (exit code 1)."""
    from assistant.core import Assistant

    try:
        return Assistant.from_settings(Settings())
    except AvtalError as exc:
        _fail(exc)


def render_answer(answer: Any) -> str:
    """An answer as plain text for a terminal: the answer, its sources, notes or suggestions."""
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("Källor:")
        for c in answer.citations:
            where = ", ".join(p for p in (f"avsnitt {c.section}" if c.section else "", c.heading or "") if p)
            pages = ", ".join(map(str, c.pages))
            used = " … ".join(c.quotes or [c.quote])
            quote = used if len(used) <= 240 else used[:237] + "..."
            lines.append(f"[{c.n}] {c.title}{' – ' + where if where else ''}, s. {pages}: ”{quote}”")
    if answer.abstained and answer.suggestions:
        lines.append("")
        lines.append("Närliggande ämnen som dokumenten tar upp:")
        lines.extend(f"- {s}" for s in answer.suggestions)
    for note in answer.notes:
        lines.append(f"Obs: {note}")
    return "\n".join(lines)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Frågan, på svenska.")],
    audience: Annotated[
        str, typer.Option("--audience", "-a", help="kort (standard) eller utförlig.")
    ] = "kort",
    history: Annotated[
        Path | None,
        typer.Option(
            "--history", help='JSON-fil med tidigare repliker: [{"role": "user", "content": "..."}].'
        ),
    ] = None,
    documents: Annotated[
        str | None, typer.Option("--documents", help="Begränsa till dokument-id:n, kommaseparerade.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Skriv svaret som JSON.")] = False,
) -> None:
    """Ställ en fråga och få ett svar med hänvisningar till exakta avsnitt."""
    try:
        turns: list[dict[str, str]] = []
        if history is not None:
            try:
                turns = json.loads(history.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                from assistant.core import QuestionError

                raise QuestionError(
                    f"Historikfilen {history} kunde inte läsas: {exc}.",
                    'Ange en JSON-lista som [{"role": "user", "content": "..."}].',
                ) from exc
        docs = [d.strip() for d in documents.split(",") if d.strip()] if documents else None
        from assistant.core import Assistant

        assistant = Assistant.from_settings(Settings())  # errors below become JSON with --json
        answer = assistant.ask(question, history=turns, audience=audience, documents=docs)
    except AvtalError as exc:
        if as_json:
            typer.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
            raise typer.Exit(1) from exc
        _fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        typer.echo(render_answer(answer))


@app.command()
def chat(
    audience: Annotated[
        str, typer.Option("--audience", "-a", help="kort (standard) eller utförlig.")
    ] = "kort",
) -> None:
    """Ett samtal i terminalen. /kort och /utförlig byter svarslängd, /ny börjar om, /sluta avslutar."""
    assistant = _load_assistant()
    history: list[dict[str, str]] = []
    typer.echo("Avtalsassistenten. Skriv aldrig patientuppgifter. /sluta avslutar.")
    while True:
        try:
            question = input("\nFråga: ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            break
        if question in ("", "/sluta", "/exit", "/quit"):
            break
        if question in ("/kort", "/utförlig"):
            audience = question[1:]
            typer.echo(f"Svarslängd: {audience}")
            continue
        if question == "/ny":
            history = []
            typer.echo("Nytt samtal.")
            continue
        try:
            answer = assistant.ask(question, history=history, audience=audience)
        except AvtalError as exc:
            typer.echo(f"Fel: {exc.message} Tips: {exc.hint}", err=True)
            continue
        typer.echo("")
        typer.echo(render_answer(answer))
        history.append({"role": "user", "content": question})
        history.append({"role": "assistant", "content": answer.answer})


@app.command("eval")
def evaluate(
    questions_file: Annotated[
        Path | None, typer.Option("--questions", help="Frågesamling (JSONL). Standard: eval/questions.jsonl.")
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option(
            "--config",
            help="Konfiguration att köra (kan upprepas eller kommasepareras): hybrid, lexical, vectors, "
            "no-glossary, no-followup, baseline-llamaindex. Standard: alla.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Mapp för result.json, report.html, plots/ och ragas.jsonl. "
            "Standard: AVTAL_HOME/eval/latest.",
        ),
    ] = None,
    split: Annotated[str, typer.Option("--split", help="report (standard), calibrate eller all.")] = "report",
    corpus: Annotated[
        Path,
        typer.Option("--corpus", help="Mappen med de indexerade PDF-filerna (för LlamaIndex-baslinjen)."),
    ] = Path("data/corpus"),
    retrieval: Annotated[
        bool, typer.Option("--retrieval", help="Jämför också bara sökningen: BM25, vektorer och hybrid.")
    ] = False,
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Spara resultatet som JSON även här.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Kontrollera bara frågesamlingen mot indexet (guldavsnitt och nyckelfakta)."
        ),
    ] = False,
) -> None:
    """Mät svarskvaliteten på frågesamlingen, konfigurationer sida vid sida, och skriv en rapport."""
    from assistant.retrieval import HybridRetriever, build_query
    from eval.questions import DEFAULT_PATH, load_questions, validate
    from eval.report import CONFIGS, DEFAULT_CONFIGS, format_side_by_side, write_outputs
    from eval.report import evaluate as run_evaluation
    from eval.run import format_report, run_retrieval

    if split not in ("report", "calibrate", "all"):
        typer.echo("Fel: --split ska vara report, calibrate eller all.", err=True)
        raise typer.Exit(2)
    named = [name.strip() for value in config or [] for name in value.split(",") if name.strip()]
    configs = list(dict.fromkeys(named or DEFAULT_CONFIGS))
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        typer.echo(
            f"Fel: okänd konfiguration {', '.join(unknown)}. Välj bland: {', '.join(CONFIGS)}.", err=True
        )
        raise typer.Exit(2)
    path = questions_file or DEFAULT_PATH
    try:
        questions = load_questions(path)
    except (OSError, ValueError) as exc:
        typer.echo(f"Fel: frågesamlingen {path} kunde inte läsas: {exc}", err=True)
        raise typer.Exit(1) from exc
    assistant = _load_assistant()
    if check:
        problems = validate(questions, assistant.version.chunks)
        for problem in problems:
            typer.echo(problem, err=True)
        typer.echo(f"{len(questions)} frågor kontrollerade mot indexet: {len(problems)} problem.")
        raise typer.Exit(1 if problems else 0)
    chosen = None if split == "all" else split
    chunks = assistant.version.chunks
    settings = assistant.settings
    out_dir = out or settings.home / "eval" / "latest"

    def say(message: str) -> None:
        typer.echo(message, err=True)

    evaluation = run_evaluation(
        assistant,
        questions,
        chosen,
        configs,
        corpus=corpus,
        questions_file=path,
        command=" ".join(["avtal", *sys.argv[1:]]),
        log=say,
    )
    result = evaluation.result
    main = result["main_config"]
    if main in result["configs"]:
        config_result = result["configs"][main]
        typer.echo(f"== Svar ({split}, {main}) ==")
        typer.echo(
            format_report(
                {
                    "mode": "answer",
                    "split": result["split"],
                    "overall": config_result["summary"],
                    "by_kind": config_result["per_kind"],
                    "by_user_group": config_result["per_user_group"],
                    "by_document": config_result["per_document"],
                }
            )
        )
    typer.echo("")
    typer.echo("== Konfigurationer sida vid sida (procent; svarstid i ms) ==")
    typer.echo(format_side_by_side(result))
    if retrieval:
        result["retrieval"] = {}
        variants = {
            "bm25-stam": ("stem",),
            "bm25-4gram": ("char",),
            "vektor-e5": ("dense",),
            "hybrid": ("stem", "char", "dense"),
        }
        for name, modes in variants.items():
            retriever = HybridRetriever(assistant.version, settings.assistant, modes=modes)

            def search(question: str, history: list[dict[str, str]], r: Any = retriever) -> list[str]:
                from assistant.core import as_turns

                query = build_query(question, as_turns(history), assistant.glossary)
                return [s.chunk.id for s in r.retrieve(query, k=10)]

            _retrieval_line(
                name, run_retrieval(search, questions, chosen, chunks=chunks), result["retrieval"]
            )

        def full(question: str, history: list[dict[str, str]]) -> list[str]:
            return [s.chunk.id for s in assistant.prepare(question, history).sources]

        _retrieval_line(
            "hybrid+omrankning", run_retrieval(full, questions, chosen, chunks=chunks), result["retrieval"]
        )
    paths = write_outputs(evaluation, out_dir)
    if as_json is not None:
        as_json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    typer.echo(f"Rapport: {paths['html']}")
    typer.echo(f"Resultat: {paths['result']} (RAGAS-export: {paths['ragas']}); tog {result['seconds']} s.")


def _retrieval_line(name: str, report: dict[str, Any], results: dict[str, Any]) -> None:
    report = dict(report)
    report.pop("rows", None)
    results[name] = report
    o = report["overall"]
    typer.echo(
        f"sökning {name:18} hit@1={o.get('hit@1') or 0:.3f} hit@5={o.get('hit@5') or 0:.3f} "
        f"MRR={o.get('mrr') or 0:.3f}"
    )


@app.command()
def bench(
    path: Annotated[Path, typer.Argument(help="Mapp att läsa in.")] = Path("data/corpus"),
    ask_latency: Annotated[
        bool, typer.Option("--ask", help="Mät svarstiden per fråga på frågesamlingen i stället.")
    ] = False,
) -> None:
    """Mät inläsning (tid kall och varm, avsnitt per sekund, minnestopp) eller svarstid (--ask)."""
    try:
        if ask_latency:
            from assistant.bench import run_ask_bench

            run_ask_bench()
        else:
            from ingest.bench import run_bench

            run_bench(path)
    except AvtalError as exc:
        _fail(exc)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Adress att lyssna på (standard: AVTAL_SERVICE__HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (standard: AVTAL_SERVICE__PORT).")] = None,
) -> None:
    """Starta HTTP-tjänsten: API, OpenAI-kompatibel slutpunkt, klausulsidor och widgeten."""
    from api.server import run_server

    try:
        run_server(Settings(), host=host, port=port)
    except AvtalError as exc:
        _fail(exc)


@app.command()
def ui(
    port: Annotated[int | None, typer.Option(help="Port (standard: AVTAL_SERVICE__UI_PORT).")] = None,
    with_api: Annotated[bool, typer.Option("--with-api/--no-api", help="Starta API:t bredvid.")] = True,
) -> None:
    """Starta personalens webbgränssnitt (Streamlit), som standard med API:t bredvid."""
    from ui.launch import run_ui

    try:
        run_ui(Settings(), port=port, with_api=with_api)
    except AvtalError as exc:
        _fail(exc)


@app.command("settings")
def show_settings() -> None:
    """Visa alla inställningar med nuvarande värden och beskrivningar."""
    settings = Settings()
    for section_name, field in Settings.model_fields.items():
        value = getattr(settings, section_name)
        if hasattr(value, "model_fields"):
            for name, sub in type(value).model_fields.items():
                env = f"AVTAL_{section_name.upper()}__{name.upper()}"
                typer.echo(f"{env}={getattr(value, name)!r}  # {sub.description}")
        else:
            typer.echo(f"AVTAL_{section_name.upper()}={value!r}  # {field.description}")


NOISY_LIBRARIES = ("bm25s", "pypdf", "chromadb", "httpx", "sentence_transformers", "llama_index")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in NOISY_LIBRARIES:  # some set DEBUG on their own loggers; pypdf warns before our error
        logging.getLogger(name).setLevel(logging.ERROR)
    app()


if __name__ == "__main__":
    main()
