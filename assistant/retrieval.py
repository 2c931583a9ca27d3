"""Hybrid retrieval: two BM25 views of folded text and e5 vectors, fused by reciprocal rank.

The question is first turned into a search query: personal ids masked, a follow-up ("och för barn
då?") given the topic of the earlier user turns, abbreviations and staff wording expanded through
the glossary. Each retriever returns its ranking; `fuse` combines them, and the signals behind
each fused rank travel with the Source so the answerer can judge the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from assistant.types import Source, Turn
from index.lexical import fold, words

if TYPE_CHECKING:
    from assistant.glossary import Glossary
    from avtal.settings import AssistantSettings
    from index.store import IndexVersion

MODES = ("stem", "char", "dense")
ANSWER_GIST_WORDS = 30  # words of the previous answer carried into a follow-up's search

# A short question that starts like this, or ends in "då?", leans on what was said before.
_FOLLOWUP_START = re.compile(
    r"^(och|o|men|samt|eller|än|också|även|hur är det med|gäller (det|detta|samma)|vad gäller|"
    r"vad händer (då|sen|sedan)|om (det|den|man))\b",
    re.IGNORECASE,
)
# Words that point back to something said before.
_REFERRING = "det|den|dem|de|detta|dessa|dom|där|dit|samma|sådan|sådana|dess|deras|denne|hen"
_FOLLOWUP_REFERENCE = re.compile(
    rf"\b(då|{_REFERRING})\b\s*\??$|\bdå\s*[,?]|\b(det där|den där|de där|dom där|ovan|nyss)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(rf"\b({_REFERRING})\b", re.IGNORECASE)
# Question words carry no topic: they are not searched for, nor counted as content. Not "stod":
# folded, it is "stöd" (support) too.
QUESTION_WORDS = frozenset(
    fold(w)
    for w in (
        "vem vilka vilken vilket vad var hur när varför vart vems "
        "finns gäller står stå säger betyder menas innebär göra gör görs får måste kunna kan "
        "ska skall behöver enligt dokumenten dokumentet riktlinjen överenskommelsen egentligen "
        "nån nåt nånting något några någon man jag vi ni du typ liksom alltså asså ok okej hej tack snälla "
        "många mycket stor stort länge lång långt ofta per dom min mitt mina e funkar funka "
        "skulle egentligen exakt ungefär sen faktiskt va "
        # where to and how, and chat forms ("vilken väg ska den ta dit?", "o går igenom tsm", "el")
        "dit hit därifrån igenom ner iväg tillbaka el tsm iaf pga mkt ngn ngt ngr "
        "sån sånt såna sådan sådant sådana "
        # "vad handlar X om?" asks what X is; "förutom X" sets X aside; "jämför: ..." asks to compare
        "handlar handlade förutom utöver bortsett jämför jämföra stämmer stämde "
        # "vad är skillnaden mellan X och Y?" asks about X and Y
        "skillnad skillnaden skillnader skillnaderna skiljer skilja skiljs"
    ).split()
)


# The words a Swedish question opens with: a question word, or a verb for a yes-or-no question.
_QUESTION_WORD = r"(?:vem|vems|vad|hur|när|var|varför|vart|vilka|vilken|vilket|sedan när)"
_ASKING_VERB = r"(?:ska|skall|finns|får|gäller|behöver|måste|har|hade|är|var|kan|blir)"
# "När beslutades riktlinjen, och vem får ändra den?": a second question joined by "och".
_PART_JOIN = re.compile(
    r"(?:,\s*|\s+)(?:och|o|samt|men)\s+(?=(?:(?:av|för|med|till|från|hos|på|i|om)\s+|inom ramen för\s+)?"
    rf"{_QUESTION_WORD}\b)"
    rf"|,\s*(?:och|o|samt)\s+(?={_ASKING_VERB}\b)"
    # a verb before its subject asks: "..., och ändras det med det nya systemet?", "..., och påverkar
    # det oss?"
    r"|,\s*(?:och|o|samt)\s+(?=\w+(?:ar|er|ir|or|as|es|ts|ds)\s+(?:det|den|man|vi|jag|ni)\b)"
    r"|\?\s+(?=\S)",
    re.IGNORECASE,
)


# A sentence that asks: it opens with a question word or a verb (after "och", "men", "sen"), the
# spoken "e" and "stämmer" too; not a verb followed by another ("behöver få tag på nån som
# samordnar", "ska ringa dem sen": a statement without its "jag", where a question has a subject).
_INFINITIVE = (
    r"(?:få|ha|veta|göra|ta|ringa|prata|kolla|se|fråga|hitta|skriva|läsa|nå|kontakta|mejla|maila|höra|"
    r"träffa|boka|skicka|lämna|visa)"
)
# "behöver namnet": a verb and one word that is no subject ("finns det", "gäller HÖK") asks nothing
_SUBJECT = re.compile(r"^(?:det|man|vi|jag|ni|du|de|dom|den|dessa|detta|han|hon|hen|nån|någon|[A-ZÅÄÖ]\S*)$")
_ASKS = re.compile(
    rf"^(?:(?:och|o|men|samt|sen|sedan)\s+)*(?:{_QUESTION_WORD}\b|(?:{_ASKING_VERB}|stämmer|e)\b(?!\s+{_INFINITIVE}\b))",
    re.IGNORECASE,
)
# ... or asks indirectly: "Jag undrar om det gäller barn.", "Vi vill veta vad som föreslås."
_INDIRECT = re.compile(r"\b(undrar|undra|vill veta|fråga|frågar|frågan)\b", re.IGNORECASE)


def _asks(piece: str) -> bool:
    words = piece.rstrip(".!").split()
    if len(words) == 2 and re.fullmatch(_ASKING_VERB, words[0], re.IGNORECASE):
        return bool(_SUBJECT.match(words[1]))
    return bool(_ASKS.match(piece))


def question_parts(question: str) -> list[str]:
    """The questions a question joins ("Hur många finns i dag, och hur ska de delas in?" -> two), or
    the question alone (without a closing remark that asks nothing: "... Kort lista räcker."). Each
    part must have a topic of its own words or lean on the part before it ("... och vem får ändra
    den?"); "När och var ska besluten fattas?" stays one question."""
    pieces = [p.strip() for p in _PART_JOIN.split(question.strip()) if p and p.strip()]
    if (
        len(pieces) > 1
        and not pieces[-1].endswith("?")
        and not _asks(pieces[-1])
        and not _INDIRECT.search(pieces[-1])
        and content_words(" ".join(pieces[:-1]))
    ):
        # "Vilka ...? Kort lista räcker.", "vad e essam?? nån nämnde det på mötet": what follows the
        # question says how or why it is asked; it is not a question of its own and is not answered
        pieces.pop()
        if len(pieces) == 1:
            return [pieces[0] if pieces[0].endswith("?") else f"{pieces[0]}?"]
    if len(pieces) < 2:
        return [question.strip()]
    parts = []
    for piece in pieces:
        piece = piece[0].upper() + piece[1:]
        parts.append(piece if piece.endswith("?") else f"{piece.rstrip('.,;')}?")
    # a part needs words of its own, or (after the first) a pronoun for the part before it
    # ("..., och hur länge gäller den?")
    if any(not content_words(p) and not (i and refers_back(p)) for i, p in enumerate(parts)):
        return [question.strip()]
    return parts


class Retriever(Protocol):
    """What the answerer needs from retrieval (the API and UI may also call it)."""

    def retrieve(
        self, query: SearchQuery, k: int = 8, documents: Sequence[str] | None = None
    ) -> list[Source]: ...


@dataclass
class SearchQuery:
    """What is searched: the question, what it carries from earlier turns, and its expansion."""

    question: str
    text: str  # what the retrievers search for
    terms: list[str] = field(default_factory=list)  # folded content words of the question (+ carried)
    carried: str = ""  # text carried from earlier user turns ("" when the question stands alone)
    followup: bool = False


def content_words(text: str) -> list[str]:
    """Folded words of a text that carry its topic (stop words and question words removed)."""
    return [w for w in words(text) if w not in QUESTION_WORDS and (len(w) > 1 or w.isdigit())]


def is_followup(question: str, history: Sequence[Turn]) -> bool:
    """Whether a question leans on earlier user turns: short, starts like a continuation, or refers back."""
    if not any(turn.role == "user" for turn in history):
        return False
    text = question.strip()
    content = content_words(text)
    if len(content) <= 2:
        return True
    if _FOLLOWUP_START.match(text):
        return True
    return len(content) <= 5 and bool(_FOLLOWUP_REFERENCE.search(text))


def refers_back(question: str) -> bool:
    """Whether a question has a word that points back ("hur fördelas de?", "vem får ändra den?"):
    not "de" as an article ("hur såg de intervjuade på det?" points back by "det" only)."""
    return bool(_PRONOUN.search(_ARTICLE.sub(" ", question)))


# "de intervjuade", "de flesta", "de som arbetar": an article or a determiner, not a pronoun that points
# back ("den nuvarande versionen" does point back: to the version spoken of; so does "de" after "är" in
# "hur är de fördelade?": the participle says what they are)
_ARTICLE = re.compile(
    r"(?<!\bär )(?<!\bvar )(?<!\bblir )(?<!\bblev )(?<!\be )"
    r"\b(?:de|dom)\s+(?=\w+(?:ade|ande|ende|erna|arna|orna|rna)\b|(?:flesta|andra|olika|båda|"
    r"nya|gamla|tre|fyra|fem|sex|sju|som)\b)",
    re.IGNORECASE,
)


def build_query(
    question: str, history: Sequence[Turn], glossary: Glossary | None = None, followup: bool | None = None
) -> SearchQuery:
    """Turn a (masked) question and the conversation into a search query. `followup` says whether it
    leans on the history (when None, the question's wording decides)."""
    if followup is None:
        followup = is_followup(question, history)
    followup = followup and any(turn.role == "user" for turn in history)
    carried = ""
    if followup:
        # the topic of the earlier user turns, and the gist of the last answer (its first words)
        earlier = [t.content for t in history if t.role == "user"][-2:]
        answers = [t.content for t in history if t.role == "assistant"][-1:]
        # the last answer's first words, when the follow-up refers back to it ("vem planerar den?")
        # or names nothing of its own; one that names something new ("och i Norrtälje då?") is not
        # drawn back to the clause of that answer
        refers = refers_back(question) or not content_words(question)
        gist = " ".join(" ".join(answers).split()[:ANSWER_GIST_WORDS]) if refers else ""
        carried = " ".join([*earlier, gist]).strip()
    text = f"{question} {carried}".strip()
    if glossary is not None:
        text = glossary.expand_query(text)
    terms = content_words(question)
    if carried:
        terms += [w for w in content_words(carried) if w not in terms]
    return SearchQuery(question=question, text=text, terms=terms, carried=carried, followup=followup)


def fuse(rankings: dict[str, list[str]], k: int, weights: dict[str, float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: sum over retrievers of weight / (k + rank)."""
    scores: dict[str, float] = {}
    for mode, ids in rankings.items():
        weight = (weights or {}).get(mode, 1.0)
        for rank, chunk_id in enumerate(ids, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return scores


class HybridRetriever:
    """BM25 on stems, BM25 on character 4-grams and e5 vectors over one index version, fused."""

    def __init__(
        self,
        version: IndexVersion,
        settings: AssistantSettings,
        modes: Sequence[str] = MODES,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.version = version
        self.settings = settings
        self.modes = tuple(modes)
        self.weights = weights or {}
        self._chunks = {chunk.id: chunk for chunk in version.chunks}

    def rankings(
        self, text: str, n: int, question: str = ""
    ) -> tuple[dict[str, list[str]], dict[str, dict[str, float]]]:
        """Each retriever's ranked ids and raw scores for a query text. The lexical rankings weigh
        the words of `question` (when given) twice: the words it adds (synonyms, long forms, what a
        follow-up carries) widen the search, and a clause that has three synonyms of one of
        its words ("bestämmer", "beslut", "fattar") does not outweigh one with the word itself."""
        ranked: dict[str, list[str]] = {}
        raw: dict[str, dict[str, float]] = {}
        for mode in self.modes:
            if mode == "dense":
                hits = self.version.vector_search(text, n)
            else:
                weighted = f"{question} {text}" if question else text
                hits = self.version.lexical.search(weighted, n, mode=mode)  # type: ignore[arg-type]
            ranked[mode] = [chunk_id for chunk_id, _ in hits if chunk_id in self._chunks]
            raw[mode] = dict(hits)
        return ranked, raw

    def retrieve(
        self, query: SearchQuery, k: int = 8, documents: Sequence[str] | None = None
    ) -> list[Source]:
        n = self.settings.candidates * (3 if documents else 1)
        # a follow-up's own words are few, and what it carries from earlier turns says what it is about
        ranked, raw = self.rankings(query.text, n, "" if query.carried else query.question)
        if documents:
            allowed = set(documents)
            ranked = {m: [i for i in ids if self._chunks[i].doc_id in allowed] for m, ids in ranked.items()}
        fused = fuse(ranked, self.settings.rrf_k, self.weights)
        order = sorted(fused, key=lambda cid: (-fused[cid], self._chunks[cid].order))[:k]
        sources: list[Source] = []
        for chunk_id in order:
            signals: dict[str, float] = {}
            for mode in self.modes:
                ids = ranked.get(mode, [])
                signals[f"rank_{mode}"] = float(ids.index(chunk_id) + 1) if chunk_id in ids else 0.0
                signals[f"score_{mode}"] = float(raw.get(mode, {}).get(chunk_id, 0.0))
            sources.append(Source(chunk=self._chunks[chunk_id], score=fused[chunk_id], signals=signals))
        return sources
