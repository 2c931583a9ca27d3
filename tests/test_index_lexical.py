"""Folding, tokenisers and the BM25 index (fast, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.lexical import LexicalIndex, char_ngrams, fold, stem_tokens, words


def test_fold_swedish_letters_ocr_and_other_diacritics() -> None:
    assert fold("Vårdcentral Hälso- och SJUKVÅRD") == "vardcentral halso- och sjukvard"
    assert fold("Överenskommelsen") == "overenskommelsen"
    assert fold("6verenskommelsen") == fold("överenskommelsen")
    assert fold("café, Müller, naïve, è") == "cafe, muller, naive, e"
    assert fold("60 dagar, 2016") == "60 dagar, 2016"  # digits stay digits


def test_words_drop_stop_words_before_folding() -> None:
    assert words("Vårdcentralen är ansvarig för det varje år") == ["vardcentralen", "ansvarig", "varje", "ar"]
    assert words("enligt avsnitt 7.1.2") == ["enligt", "avsnitt", "7.1.2"]


def test_stem_tokens_meet_with_and_without_diacritics() -> None:
    assert stem_tokens("vårdcentralen") == stem_tokens("vardcentral") == ["vardcentral"]
    assert stem_tokens("inför") == stem_tokens("infor")  # the reason to fold before stemming
    assert stem_tokens("6verenskommelsen") == stem_tokens("överenskommelser")


def test_inflections_of_one_word_share_a_stem() -> None:
    # Snowball alone gives each pair below two different stems
    for forms in (
        "ansvar ansvaret ansvarar ansvarig",
        "syfte syftet syften",
        "sekretariat sekretariatet",
        "landsting landstinget",
        "dokument dokumentet dokumenten",
        "grupp grupper",
        "möte möten mötena",
        "månad månader",
        # the definite "-an" Snowball never strips from words in "-a"
        "fråga frågan frågor",
        "distriktssköterska distriktssköterskan distriktssköterskans distriktssköterskor",
        "vårdkedja vårdkedjan",
    ):
        assert len({tuple(stem_tokens(w)) for w in forms.split()}) == 1, forms


def test_char_ngrams_have_boundary_markers_and_keep_short_words() -> None:
    grams = char_ngrams("Vård LSS")
    assert grams == ["_var", "vard", "ard_", "_lss_"]
    assert char_ngrams("vårdcentral")[0] == "_var" and char_ngrams("vårdcentral")[-1] == "ral_"


@pytest.fixture()
def index() -> LexicalIndex:
    return LexicalIndex.build(
        ["a", "b", "c"],
        [
            "Vårdcentralen ansvarar för läkarinsatser i hemmet.",
            "Enligt 6verenskommelsen ansvarar kommunen för hemtjänst.",
            "Regionen betalar för hjälpmedel.",
        ],
    )


@pytest.mark.parametrize("mode", ["stem", "char"])
def test_search_is_folded_in_both_modes(index: LexicalIndex, mode: str) -> None:
    assert index.search("vardcentral", 3, mode=mode)[0][0] == "a"  # type: ignore[arg-type]
    assert index.search("överenskommelsen", 3, mode=mode)[0][0] == "b"  # type: ignore[arg-type]


def test_search_returns_only_matching_documents(index: LexicalIndex) -> None:
    hits = index.search("hjälpmedel", 10)
    assert [h[0] for h in hits] == ["c"] and hits[0][1] > 0
    assert index.search("xylofon", 10) == []
    assert index.search("och för är", 10) == []  # only stop words
    assert index.search("", 10) == []
    with pytest.raises(ValueError):
        index.search("x", 3, mode="nope")  # type: ignore[arg-type]


def test_save_and_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    for mode in ("stem", "char"):
        assert loaded.search("läkare hemmet", 3, mode=mode) == index.search("läkare hemmet", 3, mode=mode)  # type: ignore[arg-type]


def test_empty_index(tmp_path: Path) -> None:
    empty = LexicalIndex.build([], [])
    assert empty.search("vård", 5) == []
    empty.save(tmp_path / "e")
    assert LexicalIndex.load(tmp_path / "e").search("vård", 5) == []
