"""The `avtal` command. Domain errors become one Swedish line on stderr, never a traceback."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

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


@app.command()
def bench(
    path: Annotated[Path, typer.Argument(help="Mapp att läsa in.")] = Path("data/corpus"),
) -> None:
    """Mät inläsning: tid kall och varm, avsnitt per sekund och minnestopp (skriver siffror)."""
    from ingest.bench import run_bench

    try:
        run_bench(path)
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
