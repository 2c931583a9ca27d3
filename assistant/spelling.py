"""Typos in questions, corrected against the words of the documents.

Staff type on phones: "samrådsgruper", "sekreteriatet". A word the documents never use (nor build
from two of their words) would count as off topic and the question would be abstained on. A long
word one edit (a letter missing, extra, wrong or two swapped) from a word of the documents is read
as that word; the answer says so in a note. Short words and words of the language are left
alone: "lönen" is not "länen", "granska" not "ganska".

The lookup is a symmetric-delete index (SymSpell): every corpus word and its one-letter deletions
point to the word, so a question word is looked up by itself and its own deletions, with no scan
of the vocabulary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from index.lexical import fold

MIN_LENGTH = 7  # shorter words have too many neighbours one letter away
SWEDISH_ZIPF = 1.5  # wordfreq frequency from which a word is a word of the language
_WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé]+(?:-[A-Za-zÅÄÖåäöÉé]+)*")


def _is_swedish(word: str) -> bool:
    """A word of the language (wordfreq), however rare in the documents, is no typo: "granska" is
    not "ganska"."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "sv") >= SWEDISH_ZIPF


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance at most one, or one swap of adjacent letters."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class Speller:
    """Corrects words the corpus does not know to a corpus word one edit away."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for text in texts:
            for word in _WORD.findall(text):
                folded = fold(word)
                counts[folded] += 1
                if folded not in surface or word.islower():
                    surface[folded] = word.lower() if not word.isupper() else word
        self.counts = counts
        self.surface = surface
        self.index: dict[str, set[str]] = {}
        for word in counts:
            if len(word) >= MIN_LENGTH - 1:
                for key in (word, *_deletions(word)):
                    self.index.setdefault(key, set()).add(word)

    def suggest(self, word: str) -> str | None:
        """The corpus word (as the documents write it) a folded unknown word is a typo of."""
        if len(word) < MIN_LENGTH or word in self.counts:
            return None
        candidates: set[str] = set()
        for key in (word, *_deletions(word)):
            candidates |= self.index.get(key, set())
        close = [c for c in candidates if c != word and _within_one_edit(word, c)]
        if not close:
            return None
        best = max(close, key=lambda c: (self.counts[c], c))
        return self.surface.get(best, best)

    def join_split_words(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """`text` with two words written apart that the documents write as one joined
        ("tjänstemanna styrgruppen" -> "tjänstemannastyrgruppen", "avvikelse rapportering"), and
        the (typed, joined) pairs. Both parts have four letters or more ("in till" stays)."""
        changes: list[tuple[str, str]] = []
        out: list[str] = []
        last = 0
        matches = list(_WORD.finditer(text))
        i = 0
        while i < len(matches):
            first = matches[i]
            if i + 1 < len(matches):
                second = matches[i + 1]
                gap = text[first.end() : second.start()]
                joined = fold(first.group(0) + second.group(0))
                if (
                    gap.isspace()
                    and min(len(first.group(0)), len(second.group(0))) >= 4
                    and self.counts.get(joined, 0) > 0
                ):
                    word = self.surface.get(joined, joined)
                    out.append(text[last : first.start()] + word)
                    changes.append((text[first.start() : second.end()], word))
                    last = second.end()
                    i += 2
                    continue
            i += 1
        out.append(text[last:])
        return "".join(out), changes

    def correct(self, text: str, known: Callable[[str], bool]) -> tuple[str, list[tuple[str, str]]]:
        """`text` with words written apart joined (`join_split_words`) and each word that `known`
        (folded) rejects replaced by its correction, and the (typed, corrected) pairs."""
        text, changes = self.join_split_words(text)

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            folded = fold(word)
            if known(folded) or _is_swedish(word):
                return word
            suggestion = self.suggest(folded)
            if suggestion is None:
                return word
            changes.append((word, suggestion))
            return suggestion

        return _WORD.sub(replace, text), changes
