"""Utvärdering: the latest evaluation report's figures and plots, and a button that runs a new one.

The report is written by `avtal eval --out DIR` (DIR/result.json, DIR/report.html, DIR/plots/*.png);
the UI reads ``AVTAL_HOME/eval/latest`` and shows whatever numeric figures result.json holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import streamlit as st

from ui.common import md_escape, settings

MAX_FIGURES = 80
ROOT = Path(__file__).resolve().parents[1]
EVAL_TIMEOUT_S = 1800


def latest_dir() -> Path:
    return settings().home.resolve() / "eval" / "latest"


def numeric_figures(data: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Every number in a JSON value, named by its path (``summary.answer.hit@5``)."""
    found: list[tuple[str, float]] = []
    if isinstance(data, bool):
        return found
    if isinstance(data, int | float):
        return [(prefix or "värde", float(data))]
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(numeric_figures(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and len(data) <= 20:
        for i, value in enumerate(data):
            found.extend(numeric_figures(value, f"{prefix}[{i}]"))
    return found


# The headline figures of a configuration's summary, in this order, with Swedish labels.
HEADLINE = {
    "hit@5": ("Rätt avsnitt bland de 5 första", "pct"),
    "hit@1": ("Rätt avsnitt först", "pct"),
    "first_citation_gold": ("Första källan är rätt avsnitt", "pct"),
    "key_fact_recall": ("Nyckelfakta i svaret", "pct"),
    "false_abstention": ("Felaktigt avstående (besvarbara frågor)", "pct"),
    "oos_abstention": ("Avstår på frågor utanför dokumenten", "pct"),
    "latency_median_s": ("Svarstid, median", "ms"),
    "latency_p95_s": ("Svarstid, 95:e percentilen", "ms"),
}


def _format(value: float, kind: str) -> str:
    if kind == "pct":
        return f"{100 * value:.0f} %"
    if kind == "ms":
        return f"{1000 * value:.0f} ms"
    return f"{value:.3g}"


def show_figures(result: dict[str, Any]) -> None:
    """Any result.json: every number found (top-level "summary" and "configs" first)."""
    figures: list[tuple[str, float]] = []
    for key in ("summary", "configs"):
        if key in result:
            figures.extend(numeric_figures(result[key], key))
    if not figures:
        figures = numeric_figures({k: v for k, v in result.items() if k != "created"})
    if not figures:
        st.info("Rapporten innehåller inga siffror.")
        return
    st.subheader("Siffror", anchor=False)
    lines = [f"- {md_escape(name)}: **{value:.3g}**" for name, value in figures[:MAX_FIGURES]]
    st.markdown("\n".join(lines))
    if len(figures) > MAX_FIGURES:
        st.caption(f"… och {len(figures) - MAX_FIGURES} siffror till i result.json.")


def show_configs(configs: dict[str, Any], main: str) -> None:
    """The configurations of `avtal eval`: the main one's headline figures, then every one's summary."""
    st.subheader("Siffror", anchor=False)
    ordered = [main, *[name for name in configs if name != main]] if main in configs else list(configs)
    for name in ordered:
        config = configs[name]
        summary = config["summary"]
        label = str(config.get("label") or name)
        title = f"{label} (används av assistenten)" if name == main else label
        with st.expander(md_escape(title), expanded=name == main, key=f"eval-config-{name}"):
            if config.get("description"):
                st.caption(str(config["description"]))
            lines = []
            for key, (text, kind) in HEADLINE.items():
                value = summary.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    lines.append(f"- {text} ({md_escape(key)}): **{_format(float(value), kind)}**")
            others = [
                (k, v)
                for k, v in summary.items()
                if k not in HEADLINE and isinstance(v, int | float) and not isinstance(v, bool)
            ]
            lines += [f"- {md_escape(k)}: **{float(v):.3g}**" for k, v in others]
            st.markdown("\n".join(lines) if lines else "Inga siffror.")


def run_evaluation(out: Path) -> tuple[bool, str]:
    """Run `avtal eval --out <out>` on the current index; (succeeded, the last lines of its output)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "avtal.cli", "eval", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=EVAL_TIMEOUT_S,
            env={**os.environ, "AVTAL_HOME": str(settings().home.resolve())},
            cwd=ROOT,  # `avtal eval` finds the demo corpus (data/corpus) for its baseline from here
        )
    except subprocess.TimeoutExpired:
        return False, f"Utvärderingen tog längre än {EVAL_TIMEOUT_S // 60} minuter och avbröts."
    except OSError as exc:
        return False, f"Utvärderingen gick inte att starta: {exc}"
    tail = "\n".join((done.stdout + "\n" + done.stderr).strip().splitlines()[-15:])
    return done.returncode == 0, tail


st.title("Utvärdering")
st.caption(
    "Senaste utvärderingen av svarskvaliteten på frågesamlingen (eval/questions.jsonl) mot det nuvarande "
    "indexet: träffsäkerhet, nyckelfakta, avstående och svarstider."
)

folder = latest_dir()
result_file = folder / "result.json"
if result_file.is_file():
    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = None
        st.error("Rapportfilen result.json går inte att läsa.", icon=":material/warning:")
        st.info(
            "**Vad du kan göra:** kör utvärderingen på nytt med knappen nedan.", icon=":material/lightbulb:"
        )
    if isinstance(result, dict):
        created = result.get("created")
        if created:
            st.markdown(f"**Skapad:** {md_escape(str(created))}")
        configs = result.get("configs")
        if (
            isinstance(configs, dict)
            and configs
            and all(isinstance(c, dict) and isinstance(c.get("summary"), dict) for c in configs.values())
        ):
            show_configs(configs, str(result.get("main_config") or next(iter(configs))))
        else:
            show_figures(result)
    plots = sorted((folder / "plots").glob("*.png"))
    if plots:
        st.subheader("Diagram", anchor=False)
        for plot in plots:
            st.image(str(plot), caption=plot.stem.replace("_", " "), width="stretch")
    report = folder / "report.html"
    if report.is_file():
        st.download_button(
            "Ladda ned hela rapporten (HTML)",
            report.read_bytes(),
            file_name="utvardering.html",
            mime="text/html",
            icon=":material/download:",
        )
else:
    st.info(
        "Det finns ingen utvärdering ännu. Kör den med knappen nedan, eller i en terminal:\n\n"
        f"`avtal eval --out {folder}`",
        icon=":material/monitoring:",
    )

st.divider()
st.markdown("**Kör utvärderingen på det nuvarande indexet** (tar några minuter).")
if st.button("Kör utvärderingen", icon=":material/play_arrow:", key="run_eval"):
    with st.spinner("Utvärderingen körs … det tar några minuter."):
        ok, output = run_evaluation(folder)
    if ok:
        st.success("Utvärderingen är klar.")
        st.rerun()
    else:
        st.error("Utvärderingen misslyckades.", icon=":material/warning:")
        st.info(
            "**Vad du kan göra:** kontrollera att dokumenten är inlästa (`avtal ingest data/corpus`) och "
            f"kör `avtal eval --out {folder}` i en terminal för att se hela felet.",
            icon=":material/lightbulb:",
        )
        if output:
            with st.expander("Utdata från utvärderingen"):
                st.code(output, language=None)
