"""Typos in questions read as the documents' words (assistant.spelling)."""

from __future__ import annotations

from collections.abc import Callable

from assistant.spelling import Speller

TEXTS = [
    "Följande samrådsgrupper finns. Det gemensamma sekretariatet bereder ärenden.",
    "Tjänstemannastyrgruppen beslutar. Kommunen ligger intill regionen.",
    "Samverkan kring äldre. Länen har ganska olika överenskommelser.",
]


def _known(speller: Speller) -> Callable[[str], bool]:
    return lambda folded: folded in speller.counts


def test_a_long_word_one_letter_off_is_read_as_the_documents_word() -> None:
    speller = Speller(TEXTS)
    text, changes = speller.correct("vilka samrådsgruper finns och vad gör sekreteriatet?", _known(speller))
    assert text == "vilka samrådsgrupper finns och vad gör sekretariatet?"
    assert changes == [("samrådsgruper", "samrådsgrupper"), ("sekreteriatet", "sekretariatet")]
    assert speller.suggest("samverkn") == "samverkan"  # a letter missing
    assert speller.suggest("sekertariatet") == "sekretariatet"  # two letters swapped


def test_short_words_words_of_the_language_and_far_words_are_left_alone() -> None:
    speller = Speller(TEXTS)
    assert speller.suggest("lanen") is None  # "länen": too short to guess
    text, changes = speller.correct("Vem kan granska samverkan?", _known(speller))
    assert text == "Vem kan granska samverkan?" and changes == []  # "granska" is Swedish, not "ganska"
    assert speller.suggest("tjanstebilarna") is None  # nothing one edit away


def test_two_words_written_apart_that_the_documents_join_are_read_as_one() -> None:
    speller = Speller(TEXTS)
    text, changes = speller.correct("vad beslutar tjänstemanna styrgruppen?", _known(speller))
    assert text == "vad beslutar tjänstemannastyrgruppen?"
    assert changes == [("tjänstemanna styrgruppen", "tjänstemannastyrgruppen")]
    # short parts stay apart ("in till" is no "intill"), and so do words the documents never join
    assert speller.correct("gå in till regionen", _known(speller))[0] == "gå in till regionen"
    assert speller.correct("gemensamma sekretariatet", _known(speller))[0] == "gemensamma sekretariatet"
