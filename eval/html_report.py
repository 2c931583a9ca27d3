"""Plots (matplotlib, Agg) and the self-contained HTML page of an evaluation result (eval/report.py).

The page is in Swedish (the UI shows it); it loads nothing from outside: the plots are embedded as
base64 PNG and the style is inline.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eval.metrics import CITED_AT, HIT_AT
from eval.report import COLUMNS

KIND_LABELS = {
    "fact": "fakta",
    "responsibility": "ansvar",
    "definition": "definition",
    "list": "lista",
    "number": "tal/datum",
    "multi": "flera avsnitt",
    "followup": "följdfråga",
    "ocr": "skannat (OCR)",
    "out_of_scope": "utanför dokumenten",
    "conflict": "motstridigt",
}
COLORS = ["#1f5fa8", "#7fb0e0", "#e0a040", "#60a060", "#a070c0", "#888888"]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def _ms(value: Any) -> str:
    return "–" if value is None else f"{1000 * value:.0f} ms"


# --- plots -----------------------------------------------------------------------------------


def render_plots(result: Mapping[str, Any], folder: Path) -> dict[str, Path]:
    """per_kind.png, threshold.png (when the main configuration has a sweep), latency.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    configs = result["configs"]
    paths: dict[str, Path] = {}
    if not configs:
        return paths

    # per-kind bars: hit@5 (the baseline, which retrieves two chunks: hit@2, hatched) and key facts
    kinds = [
        k for k in KIND_LABELS if k != "out_of_scope" and any(k in c["per_kind"] for c in configs.values())
    ]
    fig, axes = plt.subplots(2, 1, figsize=(11, 7.5), sharex=True)
    width = 0.8 / max(1, len(configs))
    for ax, key, title in (
        (
            axes[0],
            f"hit@{HIT_AT}",
            f"Guldavsnitt bland de {HIT_AT} första träffarna (hit@{HIT_AT}; "
            f"baslinjen: hit@{CITED_AT}, randig)",
        ),
        (axes[1], "key_fact_recall", "Nyckelfakta i svaret (andel)"),
    ):
        for i, (name, config) in enumerate(configs.items()):
            values = [(config["per_kind"].get(k) or {}).get(key) for k in kinds]
            hatch = None
            if key == f"hit@{HIT_AT}" and all(v is None for v in values):
                values = [(config["per_kind"].get(k) or {}).get(f"hit@{CITED_AT}") for k in kinds]
                hatch = "//"
            xs = [j + (i - (len(configs) - 1) / 2) * width for j in range(len(kinds))]
            ax.bar(
                xs,
                [v if v is not None else 0 for v in values],
                width,
                label=config.get("label", name),
                color=COLORS[i % len(COLORS)],
                hatch=hatch,
                edgecolor="white" if hatch else None,
            )
        ax.set_ylim(0, 1.05)
        ax.set_title(title, fontsize=11, loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    axes[1].set_xticks(range(len(kinds)))
    axes[1].set_xticklabels([KIND_LABELS[k] for k in kinds], rotation=20, ha="right")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(6, len(configs)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    paths["per_kind"] = folder / "per_kind.png"
    fig.savefig(paths["per_kind"], dpi=90)
    plt.close(fig)

    # abstention threshold curve of the main configuration
    sweep = result.get("sweep")
    if sweep:
        fig, ax = plt.subplots(figsize=(8, 4.2))
        ts = [s["threshold"] for s in sweep]
        ax.plot(
            ts, [s["false_abstention"] for s in sweep], label="besvarbara som avstås (fel)", color=COLORS[0]
        )
        ax.plot(
            ts,
            [s["oos_abstention"] for s in sweep],
            label="utanför dokumenten som avstås (rätt)",
            color=COLORS[2],
        )
        threshold = result.get("threshold")
        if threshold is not None:
            ax.axvline(threshold, color="#444", linestyle="--", linewidth=1)
            ax.text(threshold + 0.01, 1.03, f"nuvarande gräns {threshold:.2f}", fontsize=9, color="#444")
        ax.set_xlabel("gräns för säkerhetspoäng (avstå under)")
        ax.set_ylabel("andel")
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="upper left")
        ax.set_title("Avstå: vad varje gräns skulle ge", fontsize=11, loc="left")
        fig.tight_layout()
        paths["threshold"] = folder / "threshold.png"
        fig.savefig(paths["threshold"], dpi=90)
        plt.close(fig)

    # latency histogram of the main configuration (and the baseline when present)
    main = result.get("main_config")
    fig, ax = plt.subplots(figsize=(8, 3.8))
    shown = [n for n in (main, "baseline-llamaindex") if n in configs]
    series = {
        n: [1000 * r["latency_s"] for r in configs[n]["rows"] if r.get("latency_s") is not None]
        for n in shown
    }
    top = max((max(v) for v in series.values() if v), default=1.0)
    bins = [top * i / 40 for i in range(41)]  # the same bins for every series
    for i, (name, ms) in enumerate(series.items()):
        if ms:
            ax.hist(ms, bins=bins, alpha=0.7, label=configs[name].get("label", name), color=COLORS[2 * i % 6])
    if main in configs:
        s = configs[main]["summary"]
        for key, style in (("latency_median_s", "-"), ("latency_p95_s", ":")):
            if s.get(key) is not None:
                ax.axvline(1000 * s[key], color="#222", linestyle=style, linewidth=1)
        ax.set_title(
            f"Svarstid per fråga ({configs[main].get('label', main)}: "
            f"median {_ms(s.get('latency_median_s'))}, p95 {_ms(s.get('latency_p95_s'))})",
            fontsize=11,
            loc="left",
        )
    ax.set_xlabel("millisekunder")
    ax.set_ylabel("frågor")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    paths["latency"] = folder / "latency.png"
    fig.savefig(paths["latency"], dpi=90)
    plt.close(fig)
    return paths


# --- HTML ------------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1150px;
color:#1d1d1d;line-height:1.45;padding:0 16px}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555;font-size:.92em}code{background:#f3f3f3;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
table.failures{table-layout:fixed;width:100%}table.failures code{word-break:break-all}
table.wide{font-size:.8em;width:100%}
th,td{border:1px solid #d8d8d8;padding:4px 7px;vertical-align:top}th{background:#f2f5f9;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.main td{background:#f4f9ff;font-weight:600}
.fail td{font-size:.88em}.fail .q{font-weight:600}.hist{color:#666;font-size:.92em}
.why{color:#a02020}.gold{color:#17702a}.notgold{color:#888}
.answer{white-space:pre-wrap}.small{font-size:.85em;color:#555}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
dt{font-weight:600;margin-top:.4em}dd{margin-left:1.2em}
"""

# The terminal table's columns (eval.report.COLUMNS: same keys, same order), with full labels.
_LABELS = {
    "first_citation_gold": "Första källan är guld",
    "cited_gold": "Citerar ett guldavsnitt",
    "citation_precision": "Citerade avsnitt med nyckelfakta",
    "key_fact_recall": "Nyckelfakta i svaret",
    "false_abstention": "Avstår fast svar finns",
    "oos_abstention": "Avstår utanför dokumenten",
    "answer_words_median": "Ord i svaret (median)",
    "latency_median_s": "Svarstid median",
    "latency_p95_s": "Svarstid p95",
}
SIDE_COLUMNS = [(key, _LABELS.get(key, short), kind) for key, short, kind in COLUMNS]
GROUP_COLUMNS = [
    c for c in SIDE_COLUMNS if c[0] not in (f"hit@{CITED_AT}", "answer_words_median", "latency_p95_s")
]


def _fmt(value: Any, kind: str) -> str:
    if kind == "pct":
        return _pct(value)
    if kind == "ms":
        return _ms(value)
    return "–" if value is None else f"{value:.0f}"


def _side_by_side(result: Mapping[str, Any]) -> str:
    head = "<tr><th>Konfiguration</th><th>Frågor</th>" + "".join(
        f"<th>{_e(h)}</th>" for _, h, _ in SIDE_COLUMNS
    )
    rows = [head + "</tr>"]
    for name, config in result["configs"].items():
        s = config["summary"]
        cls = ' class="main"' if name == result.get("main_config") else ""
        cells = "".join(f'<td class="n">{_fmt(s.get(k), t)}</td>' for k, _, t in SIDE_COLUMNS)
        rows.append(
            f'<tr{cls}><td title="{_e(config.get("description", ""))}">{_e(config.get("label", name))}'
            f'<br><span class="small">{_e(name)}</span></td><td class="n">{s["n"]}</td>{cells}</tr>'
        )
    for name, reason in (result.get("skipped") or {}).items():
        rows.append(
            f"<tr><td>{_e(name)}</td><td colspan='{len(SIDE_COLUMNS) + 1}'>"
            f"hoppades över: {_e(reason)}</td></tr>"
        )
    return '<table class="wide">' + "".join(rows) + "</table>"


def _group_table(groups: Mapping[str, Any], first: str, labels: Mapping[str, str] | None = None) -> str:
    head = f"<tr><th>{_e(first)}</th><th>Frågor</th>" + "".join(
        f"<th>{_e(h)}</th>" for _, h, _ in GROUP_COLUMNS
    )
    rows = [head + "</tr>"]
    for name, s in groups.items():
        label = (labels or {}).get(name, name)
        cells = "".join(f'<td class="n">{_fmt(s.get(k), t)}</td>' for k, _, t in GROUP_COLUMNS)
        rows.append(f'<tr><td>{_e(label)}</td><td class="n">{s["n"]}</td>{cells}</tr>')
    return "<table>" + "".join(rows) + "</table>"


def _failures_table(failures: list[Mapping[str, Any]]) -> str:
    if not failures:
        return "<p>Inga misslyckade frågor.</p>"
    head = (
        '<colgroup><col style="width:19%"><col style="width:14%"><col style="width:28%">'
        '<col style="width:22%"><col style="width:17%"></colgroup>'
        "<tr><th>Fråga</th><th>Varför</th><th>Svar</th><th>Källor som citerades</th>"
        "<th>Guldavsnitt och rätt svar</th></tr>"
    )
    rows = [head]
    for f in failures:
        history = "".join(
            f'<div class="hist">{"Användare" if t["role"] == "user" else "Assistent"}: '
            f"{_e(t['content'])}</div>"
            for t in f.get("history") or []
        )
        citations = (
            "".join(
                f'<div class="{"gold" if c["gold"] else "notgold"}">{"✔" if c["gold"] else "✘"} '
                f"<code>{_e(c['id'])}</code> {_e(c['heading'])}<br>"
                f'<span class="small">”{_e(_short(c["quote"], 220))}”'
                "</span></div>"
                for c in f["citations"]
            )
            or "<span class='small'>inga</span>"
        )
        missing = (
            f'<div class="why">saknas: {_e(", ".join(f["missing_facts"]))}</div>'
            if f.get("missing_facts")
            else ""
        )
        confidence = f.get("confidence")
        conf = (
            f"<div class='small'>säkerhet {confidence:.2f}</div>"
            if isinstance(confidence, (int, float))
            else ""
        )
        gold = "<br>".join(f"<code>{_e(g)}</code>" for g in f["gold"]) or "<span class='small'>(inget)</span>"
        rows.append(
            '<tr class="fail">'
            f'<td>{history}<div class="q">{_e(f["question"])}</div>'
            f'<div class="small">{_e(f["id"])} · {_e(KIND_LABELS.get(f["kind"], f["kind"]))} · '
            f"{_e(f['user_group'])}"
            "</div></td>"
            f'<td><div class="why">{"<br>".join(_e(r) for r in f["reasons"])}</div>{missing}{conf}</td>'
            f'<td><div class="answer">{_e(_short(f["answer"], 700))}</div></td>'
            f"<td>{citations}</td>"
            f'<td>{gold}<div class="small">{_e(_short(f.get("gold_answer", ""), 300))}</div></td></tr>'
        )
    return '<table class="failures">' + "".join(rows) + "</table>"


def _short(text: str, n: int) -> str:
    text = str(text or "")
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _machine(machine: Mapping[str, Any] | None) -> str:
    if not machine or not machine.get("cpus"):
        return ""
    load = machine.get("load_1min")
    return f" på {machine['cpus']} kärnor" + (f" (belastning vid start {load})" if load is not None else "")


def _img(images: Mapping[str, str], name: str, alt: str) -> str:
    data = images.get(name)
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">' if data else ""


DEFINITIONS = f"""
<dl>
<dt>hit@1, hit@{CITED_AT}, hit@{HIT_AT}, MRR (sökning)</dt><dd>Besvarbara frågor: om ett
guldavsnitt (ett avsnitt som besvarar frågan) är första, bland de {CITED_AT} första eller bland
de {HIT_AT} första av de avsnitt som sökningen rangordnade och som svaret sätts ihop av
(efter omrankning); MRR är medelvärdet av 1/plats för det första guldavsnittet. En senare del av
ett uppdelat guldavsnitt räknas också. Baslinjen hämtar två textbitar: hit@{HIT_AT} gäller inte
den, och en textbit räknas som ett guldavsnitt när den innehåller minst halva avsnittets text
(andelen av avsnittets ord som står i samma ordning i textbiten, i sammanhängande följder om
minst tre ord, jämfört utan skiftläge och diakritiska tecken, med avsnittets text före eller
efter OCR-reparationen).</dd>
<dt>Första källan är guld, Citerar ett guldavsnitt</dt><dd>Andel av svaren med minst en källa
vars första källa är ett guldavsnitt; andel av de besvarbara frågorna där någon av svarets källor
är ett guldavsnitt (ett kort svar citerar högst två). Baslinjens ”källor” är dess två textbitar.
</dd>
<dt>Citerade avsnitt med nyckelfakta</dt><dd>Andel av alla citerade avsnitt (hela texten) som
innehåller minst en av frågans nyckelfakta.</dd>
<dt>Nyckelfakta i svaret</dt><dd>Andel av frågans nyckelfakta (korta ordstammar ur avsnittet)
som står i svarstexten (utan skiftläge och diakritiska tecken). Baslinjens ”svar” är de två
textbitarna hela, så dess siffra är inte jämförbar med ett kort svar.</dd>
<dt>Avstår fast svar finns</dt><dd>Besvarbara frågor där assistenten avstod (lägre är bättre).</dd>
<dt>Avstår utanför dokumenten</dt><dd>Frågor som dokumenten inte besvarar där assistenten avstod
(högre är bättre).</dd>
<dt>Svarstid</dt><dd>Väggklocka runt ett anrop av <code>Assistant.ask</code> (baslinjen: dess
hämtning), median och 95:e percentil. Datorn kan ha delats med andra program; se belastningen
överst.</dd>
</dl>
"""


def render_html(result: Mapping[str, Any], images: Mapping[str, str]) -> str:
    """The report page; `images` maps a plot name to its base64 PNG."""
    configs = result["configs"]
    main = result.get("main_config")
    main_config = configs.get(main) or {}
    failures = result.get("failures") or []
    descriptions = "".join(
        f"<dt>{_e(c.get('label', n))} <span class='small'>({_e(n)})</span></dt>"
        f"<dd>{_e(c.get('description', ''))}</dd>"
        for n, c in configs.items()
    )
    created = str(result.get("created", "")).replace("T", " ").replace("+00:00", " UTC")
    parts = [
        "<!doctype html><html lang='sv'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Utvärdering av Avtalsassistenten {_e(result.get('created', ''))}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Utvärdering av Avtalsassistenten</h1>",
        f"<p class='meta'>Körd {_e(created)} · "
        f"indexversion <code>{_e(result.get('index_version'))}</code>"
        f" · frågor: {_e(result.get('questions'))} (del <code>{_e(result.get('split'))}</code> av "
        f"<code>{_e(result.get('questions_file') or 'eval/questions.jsonl')}</code>)"
        f" · tog {_e(result.get('seconds'))} s{_machine(result.get('machine'))}"
        + (f"<br>Kommando: <code>{_e(result['command'])}</code>" if result.get("command") else "")
        + "</p>",
        "<h2>Konfigurationer sida vid sida</h2>",
        "<p>Samma frågor genom varje konfiguration. Alla utom baslinjen svarar via "
        "<code>Assistant.ask</code>, samma ingång som appen och API:et. Omrankaren och avståmodellen är "
        "de som anpassats för standardkonfigurationen.</p>",
        _side_by_side(result),
        f"<dl class='small'>{descriptions}</dl>",
        "<h2>Per frågetyp</h2>",
        _img(images, "per_kind", "Stapeldiagram per frågetyp"),
    ]
    if main_config:
        label = main_config.get("label", main)
        parts += [
            f"<p>{_e(label)}:</p>",
            _group_table(main_config.get("per_kind", {}), "Frågetyp", KIND_LABELS),
            "<h2>Avstå eller svara</h2>",
            _img(images, "threshold", "Avståkurva"),
            "<p>För varje gräns: andelen besvarbara frågor som skulle avstås (fel) och andelen frågor "
            "utanför dokumenten som skulle avstås (rätt), om assistenten avstod exakt när säkerheten "
            "är under gränsen. Den streckade linjen är gränsen som används nu.</p>",
            "<h2>Svarstid</h2>",
            _img(images, "latency", "Histogram över svarstider"),
            "<h2>Per dokument</h2>",
            f"<p>{_e(label)}, efter dokumentet med frågans första guldavsnitt:</p>",
            _group_table(main_config.get("per_document", {}), "Dokument"),
            "<h2>Per användargrupp</h2>",
            _group_table(main_config.get("per_user_group", {}), "Användargrupp"),
            f"<h2>Misslyckade frågor ({len(failures)})</h2>",
            f"<p>{_e(label)}. En fråga listas när assistenten avstod fast dokumenten svarar, inte hittade "
            "eller citerade något guldavsnitt, fick med färre än hälften av nyckelfakta, eller svarade på "
            "en fråga som "
            "dokumenten inte besvarar. ✔ = citerat guldavsnitt, ✘ = annat avsnitt.</p>",
            _failures_table(failures),
        ]
    parts += ["<h2>Så räknas måtten</h2>", DEFINITIONS, "</body></html>"]
    return "\n".join(parts)
