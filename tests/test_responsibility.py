"""The rule-based extraction of responsibility statements behind the UI's Ansvar view."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.responsibility import (
    ACTORS,
    HELDOUT_FILE,
    SAMPLE_FILE,
    extract,
    group,
    load_sample,
    measure,
    responsible_actors,
)
from avtal.models import Chunk

KNOWN = {name for name, _ in ACTORS}


@pytest.mark.parametrize(
    ("sentence", "actors"),
    [
        ("Det gemensamma sekretariatet ansvarar för uppföljningen.", ["Sekretariatet"]),
        (
            "HSF och Storsthlm ska löpande stämma av inkomna rapporter.",
            ["HSF (Hälso- och sjukvårdsförvaltningen)", "Storsthlm"],
        ),
        (
            "Inför varje kalenderår beslutar tjänstemannastyrgruppen om prioriteringar.",
            ["Tjänstemannastyrgruppen"],
        ),
        ("Det är tjänstemannastyrgruppen som fastställer riktlinjen.", ["Tjänstemannastyrgruppen"]),
        (
            "Förslag till prioriterade områden tas fram av tjänstemannastyrgruppen.",
            ["Tjänstemannastyrgruppen"],
        ),
        ("Vårdgivare i regionen rapporterar problem i samverkan till HSF.", ["Vårdgivare och utförare"]),
        (
            "Regionens samordnande funktion ska organisera den övriga hälso- och sjukvården.",
            ["Regionens samordnande funktion (samordnande vårdcentral)"],
        ),
        ("Landstingen ansvarar enligt HSL för merparten av hälso- och sjukvården.", ["Regionen"]),
    ],
)
def test_statements_name_their_actor(sentence: str, actors: list[str]) -> None:
    found = responsible_actors(sentence)
    assert found is not None
    assert found[0] == actors


@pytest.mark.parametrize(
    "sentence",
    [
        "Med hälso- och sjukvård avses insatser som ges av antingen kommunen eller regionen.",
        "Gällande riktlinje publiceras på www.storsthlm.se",
        "HÖK reglerar principer och former för samverkan mellan kommunerna och regionen.",
        "Lagen reglerar hur landstingen och kommunerna ska samverka vid utskrivningen.",
        "”Kommunen ska alltid ringa först”, säger en av de intervjuade.",
    ],
)
def test_non_statements_are_left_out(sentence: str) -> None:
    assert responsible_actors(sentence) is None


def chunk(text: str, heading: str = "Sekretariatet", anchor: str = "5.1") -> Chunk:
    return Chunk(
        doc_id="doc",
        anchor=anchor,
        title="Riktlinje",
        doc_type="riktlinje",
        date="2022-02-23",
        section=anchor,
        heading=heading,
        heading_path=[heading],
        pages=[4],
        text=text,
        original_text=text,
        order=0,
    )


def test_a_list_lead_gives_one_statement_per_item_with_the_heading_as_topic() -> None:
    text = "Sekretariatet ansvarar för:\n- att bereda ärenden\n- att följa upp beslut\n\nÖvrigt gäller."
    statements = extract([chunk(text)])
    assert [s.text for s in statements] == ["att bereda ärenden", "att följa upp beslut"]
    assert all(s.actors == ["Sekretariatet"] and s.topic == "Sekretariatet" for s in statements)
    assert all(s.text in text and s.lead == "Sekretariatet ansvarar för:" for s in statements)
    grouped = group(statements)
    assert list(grouped) == ["Sekretariatet"] and len(grouped["Sekretariatet"]["Sekretariatet"]) == 2


def test_the_hand_labelled_samples_are_well_formed() -> None:
    for path in (SAMPLE_FILE, HELDOUT_FILE):
        rows = load_sample(path)
        assert len(rows) >= 40
        for row in rows:
            assert isinstance(row["responsibility"], bool)
            assert bool(row["actors"]) == row["responsibility"]
            # labels use the canonical names, or "(…)" for an actor the list does not know
            assert all(a in KNOWN or a.startswith("(") for a in row["actors"]), row


def test_measured_quality_on_the_samples() -> None:
    development, _ = measure(load_sample(SAMPLE_FILE))
    second, _ = measure(load_sample(HELDOUT_FILE))
    # generous floors: a change that breaks the rules shows here; the README has the exact figures
    assert development.precision >= 0.8 and development.recall >= 0.8
    assert second.precision >= 0.7 and second.recall >= 0.5
    assert development.actor_accuracy >= 0.9


def test_measure_command_prints_the_figures() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "assistant.responsibility", "--measure"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Precision" in out and "recall" in out and "second sample" in out
