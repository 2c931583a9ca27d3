"""The assistant: one entry point shared by the CLI, the API, the UI and the evaluation.

    assistant = Assistant.from_settings()
    answer = assistant.ask("Vem utser samordnande vårdcentral?", history=[], audience="kort")

Everything heavy (index, glossary, IDF table, embedder on first dense search) loads once.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from assistant.compose import (
    SPECIFIC_KINDS,
    Idf,
    Selection,
    Unit,
    answer_type_missing,
    asked_thing,
    asks_when_in_force,
    compares,
    counted_nouns,
    coverage,
    defined_terms,
    definition_target,
    is_sentence,
    lines_of,
    listed_asked,
    lists,
    lists_tasks,
    municipalities_named,
    municipalities_not_covered,
    places_named,
    query_stems,
    question_type,
    select_units,
    split_units,
    tells_when,
    type_match,
    unsaid,
)
from assistant.confidence import Evidence, load_model
from assistant.rerank import CANDIDATES, document_aliases, load_reranker, named_documents
from assistant.rerank import features as rerank_features
from assistant.retrieval import (
    QUESTION_WORDS,
    HybridRetriever,
    SearchQuery,
    build_query,
    content_words,
    question_parts,
    refers_back,
)
from assistant.spelling import Speller
from assistant.types import AUDIENCES, Answer, Citation, Source, Turn
from avtal.errors import AvtalError
from avtal.privacy import MASK, mask_personal_ids
from avtal.settings import AssistantSettings, Settings
from index.lexical import STOP_WORDS, fold, stem_tokens, words

if TYPE_CHECKING:
    from assistant.glossary import Glossary
    from avtal.models import Chunk
    from index.store import IndexVersion

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_PARTS = 4  # a question that joins more is answered as one
_DATE_RE = re.compile(
    r"\b(19|20)\d\d-\d\d-\d\d\b|\b\d{1,2} (januari|februari|mars|april|maj|juni|juli|augusti|september|"
    r"oktober|november|december) (19|20)\d\d\b|\b(januari|februari|mars|april|maj|juni|juli|augusti|"
    r"september|oktober|november|december) (19|20)\d\d\b",
    re.IGNORECASE,
)

ABSTAIN_TEXT = (
    "Det framgår inte av de dokument som jag har tillgång till. "
    "Fråga gärna din chef eller den som förvaltar överenskommelsen."
)
MASKED_NOTE = "Ett personnummer togs bort ur frågan. Skriv aldrig patientuppgifter här."
GENERAL_ANSWER_NOTE = (
    "Dokumenten säger inget särskilt om {place}; svaret gäller kommunerna i länet i allmänhet."
)
LLM_FALLBACK_NOTE = "Språkmodellen kunde inte nås, så svaret är hämtat ordagrant ur dokumenten i stället."


class QuestionError(AvtalError):
    code = "bad_question"
    default_hint = "Skriv en fråga på högst 2 000 tecken, till exempel: Vem ansvarar för SIP?"


def check_question(question: object) -> None:
    """Raise QuestionError for an empty question or one over MAX_QUESTION_CHARS (every interface
    checks the same way, the API before it starts streaming)."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("Frågan är tom.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"Frågan är för lång ({len(question)} tecken, högst {MAX_QUESTION_CHARS}).")


@dataclass
class Prepared:
    """A question made ready: masked, its query built, its clauses retrieved."""

    question: str  # personal ids removed (no mask marker either: it is not part of the question)
    history: list[Turn]
    query: SearchQuery
    sources: list[Source]
    notes: list[str]
    # what an earlier part of the question asked to count, which the documents do not count, when
    # this part points back to it ("Hur många ledamöter har VIS, och hur fördelas de?"): its answer
    # must be about that too
    leans_on_unanswered: list[str] = field(default_factory=list)


def as_turns(history: Sequence[Turn | dict[str, Any]] | None) -> list[Turn]:
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
            continue
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            raise QuestionError(
                "Historiken har fel format.",
                'Skicka historiken som en lista med {"role": "user" eller "assistant", "content": text}.',
            )
        turns.append(Turn(item["role"], str(item.get("content", ""))))
    return turns


class Assistant:
    """Retrieval, evidence, answer composition and (optionally) an LLM, over one index version."""

    def __init__(
        self,
        settings: Settings,
        version: IndexVersion,
        glossary: Glossary | None = None,
        llm: Any | None = None,
        retriever: HybridRetriever | None = None,
    ) -> None:
        self.settings = settings
        self.version = version
        self.glossary = glossary
        self.llm = llm
        self.retriever = retriever or HybridRetriever(version, settings.assistant)
        self.idf = Idf(version.chunks)
        self._chunk_stems = {
            c.id: set(stem_tokens(f"{' '.join(c.heading_path)} {c.text}")) for c in version.chunks
        }
        self._heading_stems = {c.id: set(stem_tokens(" ".join(c.heading_path))) for c in version.chunks}
        self._unit_stems = {
            c.id: [u.stems for u in split_units(c.text) if not u.noise] for c in version.chunks
        }
        self.model = load_model()
        self.reranker = load_reranker()
        self._stems_memo: dict[str, list[str]] = {}
        self._document_aliases = document_aliases(version.documents)
        self.speller = Speller(
            f"{' '.join(c.heading_path)} {c.text}" for c in version.chunks
        )  # typos in questions, read as the documents' words
        # where the documents define a term in their own words ("- Rutiner: En rutin beskriver ...")
        self._definitions = [(stems, c.id) for c in version.chunks for stems, _ in defined_terms(c.text)]
        # every other phrasing of a one-word synonym, as stems ("bestämmer" -> "fattar beslut"), and
        # its one-word synonyms as words, for what a "hur många" question counts ("avtal" is
        # counted as "överenskommelser" too)
        self._phrasings: dict[str, set[tuple[str, ...]]] = {}
        self._synonym_words: dict[str, set[str]] = {}
        for group in glossary.synonyms if glossary is not None else []:
            stemmed = {p: tuple(stem_tokens(p)) for p in group}
            phrasings = set(stemmed.values()) - {()}
            single = {p for p, stems in stemmed.items() if len(stems) == 1}
            for stem in (stems[0] for stems in phrasings if len(stems) == 1):
                self._phrasings.setdefault(stem, set()).update(phrasings - {(stem,)})
                self._synonym_words.setdefault(stem, set()).update(single)
        # its one-word synonyms ("kollar" / "kontrollera" / "tillsyn"): a clause that has one of
        # them covers the question's word
        self._equivalents = {
            stem: {p[0] for p in phrasings if len(p) == 1} for stem, phrasings in self._phrasings.items()
        }
        # ... and an abbreviation of one word and that word ("Dnr" / "diarienummer")
        for term in glossary.terms if glossary is not None else []:
            short, long = stem_tokens(term.abbr), stem_tokens(term.expansion)
            if term.kind == "abbreviation" and len(short) == 1 and len(long) == 1 and short != long:
                self._equivalents.setdefault(short[0], set()).add(long[0])
                self._equivalents.setdefault(long[0], set()).add(short[0])

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Assistant:
        from assistant.glossary import Glossary
        from index.store import IndexStore
        from ingest.chunking import chunking_signature

        settings = settings or Settings()
        store = IndexStore(settings, chunking_signature=chunking_signature(settings.ingest))
        version = store.open()
        glossary = Glossary.build(version.chunks, settings.assistant.glossary_file)
        llm = None
        if settings.llm.base_url:
            from assistant.llm import LLMAnswerer

            llm = LLMAnswerer(settings.llm)
        return cls(settings, version, glossary=glossary, llm=llm)

    # ------------------------------------------------------------------ the steps

    def prepare(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        documents: Sequence[str] | None = None,
        followup: bool | None = None,
    ) -> Prepared:
        """Retrieve and order the clauses for a question; `followup` as in `build_query`."""
        check_question(question)
        turns = as_turns(history)
        notes: list[str] = []
        masked, count = mask_personal_ids(question.strip())
        masked_turns = []
        for turn in turns:
            content, n = mask_personal_ids(turn.content)
            count += n
            masked_turns.append(Turn(turn.role, content))
        if count:
            notes.append(MASKED_NOTE)
        if documents:
            unknown = sorted(set(documents) - set(self.version.documents))
            if unknown:
                raise QuestionError(
                    f"Okänt dokument: {', '.join(unknown)}.",
                    "Välj bland dokumenten i indexet (se listan över dokument).",
                )
        searched = masked.replace(MASK, " ").strip() or masked
        if self.settings.assistant.correct_spelling:
            searched, typos = self.speller.correct(searched, self._known_word)
            if typos:
                read = ", ".join(f"”{typed}” som ”{word}”" for typed, word in typos)
                notes.append(f"Jag läste {read}.")
        query = build_query(
            searched,
            [Turn(t.role, t.content.replace(MASK, " ")) for t in masked_turns],
            self.glossary,
            followup,
        )
        if query.followup and self.llm is not None:
            condensed = self.llm.condense(masked, masked_turns)
            if condensed and condensed != masked:
                query = build_query(f"{searched} {condensed.replace(MASK, ' ')}", [], self.glossary)
                query.followup = True
        sources = self.retriever.retrieve(
            query, k=max(CANDIDATES, self.settings.assistant.top_k), documents=documents
        )
        sources = self.rerank(query, sources)[: self.settings.assistant.top_k]
        sources = self._prefer_documents(sources, searched)
        # A clause with no sentence in it (a letterhead such as "Nacka Kommun 2022-03-16" under a
        # heading) answers nothing on its own: clauses with sentences go before it.
        sources.sort(key=lambda s: not _substantive_text(s.chunk.text, searched))
        sources = self._definitions_first(searched, sources, documents)
        return Prepared(searched, masked_turns, query, sources, notes)

    def _definitions_first(
        self, question: str, sources: list[Source], documents: Sequence[str] | None
    ) -> list[Source]:
        """For "vad betyder X?", the clause where the documents define X comes first: a glossary
        term's definition, else the clause where a term the question names is defined (all its
        words named: "Take Care" is not "integrated care"; the most of the question's words first)."""
        if question_type(question) != "definition":
            return sources
        chunks = {c.id: c for c in self.version.chunks}
        target = definition_target(question)
        # a question not phrased "vad är X?" ("Hur beskriver SKR-underlaget en handlingsplan?") is
        # not asking what the abbreviations it names stand for
        phrased = target != question
        terms = self.glossary.find(target) if self.glossary is not None and phrased else []
        defining = [cid for term in terms for cid in term.defined_in]
        if not defining:
            asked = set(query_stems(content_words(target)))
            named = [
                (len(asked.intersection(stems)), cid)
                for stems, cid in self._definitions
                if set(stems) <= asked
            ]
            most = max((n for n, _ in named), default=0)
            defining = [cid for n, cid in named if n == most]
        defining = [
            cid for cid in defining if cid in chunks and (not documents or chunks[cid].doc_id in documents)
        ]
        if not defining:
            return sources
        top = sources[0].score if sources else 1.0
        by_id = {s.chunk.id: s for s in sources}
        first = []
        for cid in dict.fromkeys(defining):
            source = by_id.pop(cid, None) or Source(chunks[cid], top, {})
            source.signals["glossary"] = 1.0
            first.append(source)
        return [*first, *by_id.values()][: self.settings.assistant.top_k]

    def rerank_features(self, query: SearchQuery, sources: list[Source]) -> list[list[float]]:
        """The reranker's features for each fused candidate (also used to fit it)."""
        stems, said = self._concepts(query.question)
        carried = [s for s in query_stems(content_words(query.carried)) if s not in stems]
        top = max((s.signals.get("fused", s.score) for s in sources), default=0.0)
        named = named_documents(query.question, self._document_aliases)
        qtype = question_type(query.question)
        return [
            rerank_features(
                s,
                top,
                stems,
                carried,
                said(self._chunk_stems[s.chunk.id]),
                said(self._heading_stems[s.chunk.id]),
                self.idf,
                named,
                qtype,
                [said(u) for u in self._unit_stems[s.chunk.id]],
            )
            for s in sources
        ]

    def _concepts(self, question: str) -> tuple[list[str], Callable[[set[str]], set[str]]]:
        """The question's stems with each synonym group counted once, and what makes a text say them.

        "Vem fastställer riktlinjen?" asks one thing: a clause with "fastställer" says it as fully
        as one with "beslutar", and one that writes "bestämmer", "beslut" and "fattar" covers no
        more of it. So the stems the expansion adds for a question word are dropped, and a text
        says the word when it has any one phrasing of it (or, for a compound it never writes, both
        of its parts: see `_with_equivalents`)."""
        own = query_stems(content_words(question))
        alternatives = {stem for s in own for phrasing in self._phrasings.get(s, ()) for stem in phrasing}
        stems = [s for s in self.question_stems(question) if s in own or s not in alternatives]

        def said(have: set[str]) -> set[str]:
            return self._with_equivalents(own, have) | {
                s for s in own if any(all(x in have for x in p) for p in self._phrasings.get(s, ()))
            }

        return stems, said

    def rerank(self, query: SearchQuery, sources: list[Source]) -> list[Source]:
        """Order the fused candidates by the learned reranker (the fused order when it has none)."""
        if self.reranker is None or not sources:
            return sources
        vectors = self.rerank_features(query, sources)
        scored = [
            (self.reranker.score(x), i, s) for i, (x, s) in enumerate(zip(vectors, sources, strict=True))
        ]
        scored.sort(key=lambda t: (-t[0], t[1]))
        for probability, _, source in scored:
            source.signals["fused"] = source.score
            source.score = probability  # what the order (and the citation's score) rests on
        return [s for _, _, s in scored]

    def assess(self, prepared: Prepared) -> tuple[list[Selection], Evidence]:
        """The best sentences of the top clauses, and the evidence that they answer the question."""
        stems = self.question_stems(prepared.question)
        # an expansion that is another form of the question's own word ("delegering", "delegation"
        # for "delegera") says nothing more of it and would weigh it three times
        own = set(query_stems(content_words(prepared.question)))
        stems = [s for s in stems if s in own or unsaid([s], own)]
        carried = [s for s in query_stems(content_words(prepared.query.carried)) if s not in stems]
        qtype = question_type(prepared.question)
        if self._defines_asked(prepared):
            stems = self.question_stems(definition_target(prepared.question)) or stems
        elif qtype == "definition":
            # "Vad innebär Nära vård enligt Nackas äldreenhet?": the sentences are about Nära vård;
            # the words of where it is said count as context
            target = self.question_stems(definition_target(prepared.question))
            if target and set(target) != set(stems):
                carried = [*(s for s in stems if s not in target), *carried]
                stems = target
        max_words = self.settings.assistant.short_answer_words
        if compares(prepared.question):
            max_words *= 2  # "skillnaden mellan en rutin och en riktlinje": room for each
        elif qtype == "list":
            # "Vilka företag gjorde genomgångarna?": the things asked for may stand in sentences
            # of their own ("... företaget Bearing point ...", "Uppdraget utfördes av Governo AB")
            max_words = int(max_words * 1.5)
        counted = self._counted(prepared.question)
        holds = asked_thing(prepared.question)
        listed = listed_asked(prepared.question) if qtype == "list" else []

        # what the question a follow-up leans on asked about ("vem e kommunens samordnande funktion?")
        leaned_on = next((t.content for t in reversed(prepared.history) if t.role == "user"), "")
        subject = query_stems(content_words(leaned_on)) if prepared.query.followup else []

        def select(source: Source, allowed: Callable[[Unit], bool] | None = None) -> Selection | None:
            want_list = qtype in ("list", "task")
            return select_units(
                source,
                stems,
                qtype,
                self.idf,
                max_words,
                want_list,
                carried,
                counted,
                allowed,
                subject,
                holds,
                listed,
            )

        selections = [sel for sel in map(select, prepared.sources[:5]) if sel is not None]
        places = places_named(prepared.question)
        if places:
            # "Vad säger Östergötlands överenskommelse om ...?": only what is said in a paragraph
            # that names Östergötland (and something else the question asks) is about it, not the
            # next paragraph on Skåne. When no clause has such a paragraph, they stay as they are
            # and the place check finds them lacking.
            own = query_stems(content_words(prepared.question))  # not the glossary's words
            topic = [s for s in own if s not in set(query_stems(places))]
            about = [
                sel
                for sel in (select(s, _in_paragraph_on(s, places, topic)) for s in prepared.sources[:5])
                if sel is not None
            ]
            selections = about or selections
        # A clause whose best words are a fragment ("Nacka Kommun 2022-03-16", a letterhead under
        # a heading) does not answer anything; clauses with sentences go first.
        selections.sort(key=lambda sel: not _substantive(sel, prepared.question))

        # A follow-up asks for something new: a clause whose sentences repeat the point the last
        # answer opened with ("I Nacka är det Boo vårdcentral ..." before "och vad ska dom göra
        # då?") goes after those that do not. Only its first sentence counts: what the answer
        # went on to show as context may be just what the follow-up asks for.
        last = next((t.content for t in reversed(prepared.history) if t.role == "assistant"), "")
        if prepared.query.followup and last:
            said = _content_stems(re.split(r"(?<=[.!?])\s+", last.strip())[0])
            selections.sort(key=lambda sel: _repeats(sel, said))

        # "Hur många ledamöter ...?": when the best clause's sentences lack what is asked for (a
        # count, an amount, a contact detail) and one of the next two clauses has it, that one
        # answers first.
        def lacks(sel: Selection) -> bool:
            return self._lacks_asked(prepared.question, "\n".join(u.text for u in sel.units), sel.source)

        # the question's rarest word the documents use ("workshop" in "när hölls workshopen?")
        known = [s for s in stems if self.idf.df.get(s)]
        rarest = max(known, key=self.idf, default=None)

        def dated(sel: Selection) -> bool:
            """Whether its sentences tell when, and of what the question names most rarely."""
            said = set().union(*(u.stems for u in sel.units))
            return tells_when(" ".join(u.text for u in sel.units)) and (rarest is None or rarest in said)

        # "När var workshopen?": "Vid workshopen framfördes ..." tells of it, a date tells when
        undated = qtype == "when" and bool(selections) and not dated(selections[0])
        if selections and (lacks(selections[0]) or undated):
            named = [fold(a) for a in re.findall(r"\b[A-ZÅÄÖ]{2,}\b", prepared.question)]
            for i, sel in enumerate(selections[1:3], start=1):
                context = fold(self._context(sel.source.chunk))
                if (
                    _substantive(sel, prepared.question)
                    and not lacks(sel)
                    and (dated(sel) or not undated)
                    and all(re.search(rf"\b{re.escape(a)}\b", context) for a in named)
                ):  # and it is about what the question names ("VIS", "HÖK"), not a namesake
                    selections.insert(0, selections.pop(i))
                    break
        # "Vilka länsövergripande samrådsgrupper finns?": when the best clause only speaks of them
        # ("Nedan beskrivs organisation för samrådsgrupper") and one of the next two lists them
        # ("... finns följande samrådsgrupper:"), the list answers first
        if listed and selections and not lists(selections[0], stems):
            for i, sel in enumerate(selections[1:3], start=1):
                if lists(sel, listed) and _substantive(sel, prepared.question):
                    selections.insert(0, selections.pop(i))
                    break
        # "Vad ansvarar det gemensamma sekretariatet för?": what someone is to do stands in a list
        # it leads in ("Sekretariatet ansvarar för:"); a clause that has one goes before a best
        # clause that names one task in a sentence ("Det gemensamma sekretariatet ansvarar för
        # uppföljningen.")
        if qtype == "task" and selections and not lists_tasks(selections[0], stems):
            for i, sel in enumerate(selections[1:], start=1):
                if lists_tasks(sel, stems) and _substantive(sel, prepared.question):
                    selections.insert(0, selections.pop(i))
                    break
        return selections, self.evidence(prepared, selections[0] if selections else None)

    @staticmethod
    def _defines_asked(prepared: Prepared) -> bool:
        """Whether a definition question found where the documents define its term: the answer and
        its evidence are then about that term, not the words around it ("Hur definieras X i SKR:s
        begreppslista?")."""
        return bool(
            prepared.sources
            and prepared.sources[0].signals.get("glossary")
            and question_type(prepared.question) == "definition"
        )

    def _lacks_asked(self, question: str, text: str, source: Source) -> bool:
        """Whether `text` (from `source`'s clause) lacks what the question asks for (see
        `answer_type_missing`; places and years may also stand in the clause or its document).
        Abbreviations in the text count as their long forms: "MAS i 17 kommuner" counts
        "medicinskt ansvariga"."""
        if self.glossary is not None:
            text = self.glossary.explain_in(text)
        missing = answer_type_missing(question, text, self._context(source.chunk), self._counted(question))
        other = self._other_term(question, text, source)
        return missing is not None or other or self._detail_unsaid(question, text, source)

    def _detail_unsaid(self, question: str, text: str, source: Source) -> bool:
        """Whether a question on a region outside the county, or on when something took effect,
        names something that neither `text` nor its clause says, in any phrasing. The documents
        mention other counties' agreements in a line each, so "vem ansvarar för läkarinsatserna i
        Skånes överenskommelse om palliativ vård?" is not answered by the line that says the
        agreement divides the responsibility for palliative care; and "när börjar den reviderade
        överenskommelsen för äldre gälla?" is not answered by the date HÖK took effect."""
        places = places_named(question)
        if not places and not asks_when_in_force(question):
            return False
        own = query_stems(content_words(question))
        # a municipality of the county is answered by what holds for all (with a note)
        skip = set(query_stems([*places, *_IN_FORCE_WORDS, *municipalities_named(question)]))
        # the clause with its headings and its document's title and issuer
        have = self._with_equivalents(own, set(stem_tokens(f"{text} {self._context(source.chunk)}")))
        for stem in own:
            if stem in skip or not unsaid([stem], have):
                continue
            # "hemsjukvård" is said as "hälso- och sjukvårdsinsatser i hemmet"
            if not any(not unsaid(list(p), have) for p in self._phrasings.get(stem, ())):
                return True
        return False

    def _counted(self, question: str) -> list[str]:
        """What a "hur många" question counts, with its one-word synonyms: "hur många avtal" is
        answered by "17 överenskommelser"."""
        nouns = counted_nouns(question)
        synonyms = [
            w for n in nouns for s in stem_tokens(n)[:1] for w in sorted(self._synonym_words.get(s, ()))
        ]
        return [*nouns, *(w for w in synonyms if w not in nouns)]

    def _other_term(self, question: str, text: str, source: Source) -> bool:
        """Whether the question names an abbreviation ("vad heter MAS:en i Nacka?", "... kallelsen
        till ett SIP-möte") that neither the answer nor its clause, headings or document title
        names, in any of its forms (and the question does not name the document by it): the answer
        is then about something else."""
        if self.glossary is None:
            return False
        terms = [  # only an abbreviation the question writes as one
            term
            for term in self.glossary.find(question)
            if term.kind == "abbreviation" and re.search(rf"\b{re.escape(term.abbr)}\b", question)
        ]
        if not terms or source.chunk.doc_id in named_documents(question, self._document_aliases):
            return False  # "riktlinjen för HÖK" names the document, whose clauses need not say HÖK
        where = fold(f"{text} {self._context(source.chunk)}")
        for term in terms:
            forms = {fold(f) for f in [*term.forms, *term.long_forms()] if f}
            if not any(re.search(rf"\b{re.escape(f)}", where) for f in forms):
                return True
        return False

    def _known_word(self, word: str) -> bool:
        """Whether a folded question word needs no correction: a question or stop word, a word of
        the documents (or a compound of two), or a glossary term."""
        return (
            word in QUESTION_WORDS
            or word in STOP_WORDS
            or self.idf.is_known_word(word)
            or (self.glossary is not None and bool(self.glossary.find(word)))
        )

    def unknown_share(self, question: str) -> float:
        """Share of the question's content words that the corpus never uses (nor composes from its
        words): "semesterdagar", "maxtaxan" - a sign that the documents are about something else."""
        terms = [w for w in content_words(question) if len(w) > 2 and not w.isdigit()]
        if not terms:
            return 0.0
        return sum(not self._known_or_said_otherwise(w) for w in terms) / len(terms)

    def _known_or_said_otherwise(self, word: str) -> bool:
        """Whether the corpus uses a folded word, or all the words of one of its synonyms: staff
        write "kolla" and "strul" where the documents write "kontrollera" and "brister"."""
        if self.idf.is_known_word(word, other_forms=True):
            return True
        if any(self.idf.df.get(s) for s in self._equivalents.get(next(iter(stem_tokens(word)), ""), ())):
            return True  # "diarienummer" where the documents write "Dnr"
        return any(
            all(self.idf.df.get(stem) for stem in phrasing)
            for stem in stem_tokens(word)
            for phrasing in self._phrasings.get(stem, ())
        )

    def question_stems(self, question: str) -> list[str]:
        """Stems of the question's content words and of their glossary expansions (memoised: the
        reranker, the evidence and the composition all ask for them)."""
        cached = self._stems_memo.get(question)
        if cached is None:
            expanded = self.glossary.expand_query(question) if self.glossary is not None else question
            cached = query_stems(content_words(expanded))
            if len(self._stems_memo) > 256:
                self._stems_memo.clear()
            self._stems_memo[question] = cached
        return list(cached)

    def evidence(self, prepared: Prepared, selection: Selection | None) -> Evidence:
        stems = query_stems(prepared.query.terms)
        if not prepared.sources or not stems:
            return Evidence(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0)
        top = prepared.sources[0]
        signals = top.signals
        if self._defines_asked(prepared):
            stems = query_stems(content_words(definition_target(prepared.question))) or stems
        in_stem = 0 < signals.get("rank_stem", 0) <= 3 or 0 < signals.get("rank_char", 0) <= 3
        in_dense = 0 < signals.get("rank_dense", 0) <= 3
        top3: set[str] = set()
        for source in prepared.sources[:3]:
            top3 |= self._chunk_stems[source.chunk.id]
        top3 = self._with_equivalents(stems, top3)
        qtype = question_type(prepared.question)
        sentence_cov = 0.0
        answer_text = " ".join(u.text for u in selection.units) if selection is not None else top.chunk.text
        if selection is not None:
            have: set[str] = set().union(*(u.stems for u in selection.units))
            sentence_cov = coverage(stems, self._with_equivalents(stems, have), self.idf)
        clause = self._with_equivalents(stems, self._chunk_stems[top.chunk.id])
        return Evidence(
            coverage_clause=coverage(stems, clause, self.idf),
            coverage_sentence=sentence_cov,
            agreement=1.0 if signals.get("glossary") else (float(in_stem) + float(in_dense)) / 2,
            type_match=1.0 if type_match(qtype, answer_text) else 0.0,
            dense=float(signals.get("score_dense", 0.0)),
            coverage_top3=coverage(stems, top3, self.idf),
            missing_idf=max((self.idf(s) for s in stems if s not in top3), default=0.0) / self.idf.max,
            unknown_share=self.unknown_share(prepared.question),
            specific_missing=float(qtype in SPECIFIC_KINDS and not type_match(qtype, answer_text)),
            answer_type_missing=float(
                self._lacks_asked(prepared.question, answer_text, selection.source if selection else top)
            ),
        )

    def _with_equivalents(self, stems: list[str], have: set[str]) -> set[str]:
        """`have` and the question's stems that it has a one-word synonym of, or (for a compound
        the documents never write) both parts of: "egenvårdsöverenskommelsen" is said where
        "överenskommelsen om egenvård" is."""
        return have | {
            s
            for s in stems
            if self._equivalents.get(s, set()) & have
            or ((parts := self.idf.compound_parts(s)) and all(p in have for p in parts))
        }

    def _context(self, chunk: Chunk) -> str:
        """A clause's text with its headings and its document's title, issuer and date: where a
        place or a year the question names may stand ("Nacka kommun, Äldrenämnden")."""
        doc = self.version.documents.get(chunk.doc_id, {})
        about = [str(doc.get(key) or "") for key in ("title", "issuer", "date")]
        return " ".join([chunk.text, *chunk.heading_path, *about])

    def _prefer_documents(self, sources: list[Source], question: str = "") -> list[Source]:
        """Documents the question names first; then documents in force before superseded, expired
        or stale ones that answer alike, unless the question asks about that document
        ("enligt Äldrecentrum", "2013")."""
        today = dt.date.today().isoformat()
        superseded = {s for d in self.version.documents.values() for s in d.get("supersedes") or []}
        named = named_documents(question, self._document_aliases) if question else set()
        years = set(re.findall(r"\b(?:19|20)\d\d\b", question))

        def penalty(source: Source) -> float:
            doc_id = source.chunk.doc_id
            doc = self.version.documents.get(doc_id, {})
            if doc_id in named:
                return 1.0
            # "enligt riktlinjen", "i Äldrecentrums rapport": the named document's clauses first
            factor = self.settings.assistant.named_document_rank_factor if named else 1.0
            expired = bool(doc.get("valid_to")) and str(doc.get("valid_to")) < today
            if doc_id in superseded or expired:
                return factor * 0.85
            year = str(doc.get("date") or "")[:4]
            stale = year.isdigit() and int(today[:4]) - int(year) > self.settings.assistant.stale_after_years
            if stale and not any(y <= year for y in years):
                return factor * self.settings.assistant.stale_rank_factor
            return factor

        return sorted(sources, key=lambda s: -s.score * penalty(s))

    def document_notes(self, doc_id: str) -> list[str]:
        """Warnings for a cited document: old, expired or superseded."""
        doc = self.version.documents.get(doc_id, {})
        notes: list[str] = []
        title = doc.get("title", doc_id)
        year = str(doc.get("date") or "")[:4]
        today = dt.date.today()
        if year.isdigit() and today.year - int(year) > self.settings.assistant.stale_after_years:
            notes.append(f"Dokumentet är från {year} och kan vara inaktuellt ({title}).")
        if doc.get("valid_to") and str(doc["valid_to"]) < today.isoformat():
            notes.append(f"{title} gällde till {doc['valid_to']} och kan vara ersatt.")
        for other in self.version.documents.values():
            if doc_id in (other.get("supersedes") or []):
                notes.append(f"{title} har ersatts av {other.get('title')}.")
        return notes

    # ------------------------------------------------------------------ the entry point

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        audience: str = "kort",
        documents: Sequence[str] | None = None,
    ) -> Answer:
        if audience not in AUDIENCES:
            raise QuestionError(f"Okänd målgrupp: {audience!r}.", "Välj 'kort' eller 'utförlig'.")
        check_question(question)
        # "När beslutades riktlinjen, och vem får ändra den?": each question is answered on its own
        # (a later one with the earlier as its context). A language model takes the whole question.
        # Parts are cut from the masked question: a personnummer never reaches a note.
        masked, masked_count = mask_personal_ids(question)
        searched = masked.replace(MASK, " ")
        parts = question_parts(searched) if self.llm is None else [question]
        if len(parts) > MAX_PARTS or parts == [searched.strip()]:
            parts = [question]
        turns = as_turns(history)
        answers: list[Answer] = []
        spent = {"retrieval": 0.0, "answer": 0.0}
        for i, part in enumerate(parts):
            started = time.perf_counter()
            # a later part that points back ("..., och hur fördelas de?") is about the part before
            leans = True if i and refers_back(part) else None
            prepared = self.prepare(part, [*turns, *(Turn("user", p) for p in parts[:i])], documents, leans)
            counted = counted_nouns(parts[i - 1]) if i else []
            if leans and answers[-1].abstained and counted and _PLURAL_BACK.search(part):
                # "Hur många ledamöter har VIS, och hur fördelas de?": no count of them was found
                # (the counted thing, its abbreviation too: "medicinskt ansvariga" is "MAS")
                prepared.leans_on_unanswered = self.question_stems(" ".join(counted))
            retrieved = time.perf_counter()
            answers.append(self.compose(prepared, audience))
            spent["retrieval"] += retrieved - started
            spent["answer"] += time.perf_counter() - retrieved
        answer = answers[0] if len(answers) == 1 else merge_answers(parts, answers)
        if masked_count and MASKED_NOTE not in answer.notes:
            answer.notes.insert(0, MASKED_NOTE)
        answer.timings_ms = {
            "retrieval": round(spent["retrieval"] * 1000, 2),
            "answer": round(spent["answer"] * 1000, 2),
            "total": round((spent["retrieval"] + spent["answer"]) * 1000, 2),
        }
        return answer

    def compose(self, prepared: Prepared, audience: str) -> Answer:
        stems = self.question_stems(prepared.question)
        qtype = question_type(prepared.question)
        selections, evidence = self.assess(prepared)
        first = selections[0] if selections else None
        confidence = self.model(evidence) if first is not None else 0.0
        answer_id = uuid.uuid4().hex
        notes = list(prepared.notes)
        threshold = self.settings.assistant.abstain_below
        off_topic = abstains_regardless(evidence, self.settings.assistant)
        if first is not None and prepared.leans_on_unanswered:
            said = set().union(*(u.stems for u in first.units))
            # the documents do not count what the earlier part asked about, and this answer does
            # not speak of it either
            off_topic = off_topic or not said.intersection(prepared.leans_on_unanswered)
        limit = self.model.threshold if threshold is None else threshold
        if first is None or off_topic or confidence < limit:
            return Answer(
                id=answer_id,
                answer=ABSTAIN_TEXT,
                abstained=True,
                confidence=round(confidence, 4),
                audience=audience,
                suggestions=self.suggestions(prepared.sources),
                notes=notes,
            )
        named = named_documents(prepared.question, self._document_aliases)
        chosen = self._choose(selections, stems, qtype, audience, named)
        text, citations = self._render(chosen, audience)
        if self.llm is not None:
            llm_answer = self._llm_answer(prepared, audience, stems, qtype, notes)
            if llm_answer is not None:
                text, citations = llm_answer
        for doc_id in dict.fromkeys(c.document for c in citations):
            notes.extend(self.document_notes(doc_id))
        where = fold(" ".join(self._context(sel.source.chunk) for sel in chosen))
        for place in municipalities_not_covered(prepared.question, where):
            # "vem kallar till SIP i Huddinge?" answered by a clause on every municipality
            notes.append(GENERAL_ANSWER_NOTE.format(place=_as_written(prepared.question, place)))
        conflict = self._conflict(chosen) if qtype == "when" else None
        if conflict:
            notes.append(conflict)
        if self.glossary is not None:
            text = self.glossary.explain_in(text)
        return Answer(
            id=answer_id,
            answer=text,
            abstained=False,
            confidence=round(confidence, 4),
            audience=audience,
            citations=citations,
            notes=notes,
        )

    # ------------------------------------------------------------------ composition helpers

    def _choose(
        self,
        selections: list[Selection],
        stems: list[str],
        qtype: str,
        audience: str,
        named: set[str] | frozenset[str] = frozenset(),
    ) -> list[Selection]:
        """The best clause, then clauses that add what it lacks (another part of the question, or a
        different date from another document); of the documents the question names (`named`), if
        it names one ("enligt SKR"), unless they differ on a date."""
        chosen = [selections[0]]
        covered = set().union(*(u.stems for u in selections[0].units))
        limit = 2 if audience == "kort" else 3
        budget = self.settings.assistant.short_answer_words

        def size(selection: Selection) -> int:
            return sum(len(u.text.split()) for u in selection.units)

        for sel in selections[1:]:
            if len(chosen) >= limit:
                break
            if audience == "kort" and sum(map(size, chosen)) + size(sel) > budget:
                continue  # a short answer stays short: another clause only while it fits
            have = set().union(*(u.stems for u in sel.units))
            adds = [s for s in stems if s in have and s not in covered and self.idf(s) > 1.0]
            differs_in_date = (
                qtype == "when"
                and sel.source.chunk.doc_id != chosen[0].source.chunk.doc_id
                and (
                    _dates(" ".join(u.text for u in sel.units))
                    - _dates(" ".join(u.text for u in chosen[0].units))
                )
            )
            sentence_like = (
                all(len(u.text.split()) >= 5 for u in sel.units) and sel.units[0].text[:1].isupper()
            )
            mass = sum(self.idf(s) for s in stems) or 1.0
            substantial = sum(self.idf(s) for s in adds) >= 0.25 * mass and sel.score >= 0.5 * chosen[0].score
            elsewhere = bool(named) and sel.source.chunk.doc_id not in named
            if sentence_like and ((substantial and not elsewhere) or differs_in_date):
                chosen.append(sel)
                covered |= have
        return chosen

    def _render(self, chosen: list[Selection], audience: str) -> tuple[str, list[Citation]]:
        parts: list[str] = []
        citations: list[Citation] = []
        budget = self.settings.assistant.short_answer_words - sum(
            len(u.text.split()) for sel in chosen for u in sel.units
        )
        for sel in chosen:  # context sentences, in the order chosen, while the answer stays short
            kept = []
            for unit in sel.extra:
                size = len(unit.text.split())
                if size <= budget:
                    kept.append(unit)
                    budget -= size
            sel.extra = kept
        for n, sel in enumerate(chosen, start=1):
            chunk = sel.source.chunk
            if audience == "utförlig":
                head = " ".join(p for p in (chunk.section, chunk.heading) if p) or chunk.title
                pages = ", ".join(map(str, chunk.pages))
                parts.append(f"{head} ({chunk.title}, s. {pages}):\n{chunk.text} [{n}]")
            else:
                shown = sel.shown
                if len(shown) == 1 and shown[0].kind == "item":
                    body = shown[0].text.removeprefix("- ")  # one entry of a list, as a sentence
                elif any(u.kind == "item" for u in shown):
                    body = "\n".join(u.text for u in shown)
                else:
                    body = " ".join(u.text for u in shown)
                parts.append(f"{body} [{n}]")
            if audience == "kort":
                citations.append(cite(n, sel.source, sel.quote, sel.quotes))
            else:
                citations.append(cite(n, sel.source, chunk.text))
        return "\n\n".join(parts), citations

    def _llm_answer(
        self, prepared: Prepared, audience: str, stems: list[str], qtype: str, notes: list[str]
    ) -> tuple[str, list[Citation]] | None:
        """The LLM's verified answer with its citations, or None (the extractive answer stands)."""
        from assistant.llm import LLMError, LLMSource

        sources = prepared.sources[:5]
        llm_sources = [LLMSource.from_chunk(n, s.chunk) for n, s in enumerate(sources, start=1)]
        try:
            result = self.llm.answer(prepared.question, llm_sources, prepared.history, audience)  # type: ignore[union-attr]
        except LLMError:
            log.warning("LLM endpoint failed; extractive answer used")
            notes.append(LLM_FALLBACK_NOTE)
            return None
        notes.extend(n for n in result.notes if n not in notes)
        if not result.verification.ok or not result.cited:
            return None
        citations: list[Citation] = []
        for n in result.cited:
            if not 1 <= n <= len(sources):
                continue
            source = sources[n - 1]
            claim = " ".join(k.text for k in result.verification.kept if n in k.cites)
            sel = select_units(source, query_stems([*stems, *stem_tokens(claim)]), qtype, self.idf, 60, False)
            if sel is not None:
                citations.append(cite(n, source, sel.quote, sel.quotes))
            else:
                citations.append(cite(n, source, source.chunk.text))
        return (result.text, citations) if citations else None

    def _conflict(self, chosen: list[Selection]) -> str | None:
        by_doc: dict[str, set[str]] = {}
        for sel in chosen:
            by_doc.setdefault(sel.source.chunk.doc_id, set()).update(
                _dates(" ".join(u.text for u in sel.units))
            )
        if len([d for d in by_doc.values() if d]) < 2:
            return None
        distinct = {frozenset(d) for d in by_doc.values() if d}
        if len(distinct) < 2:
            return None
        described = "; ".join(
            f"{self.version.documents.get(doc, {}).get('title', doc)} "
            f"({self.version.documents.get(doc, {}).get('date') or 'odaterat'}): {', '.join(sorted(dates))}"
            for doc, dates in by_doc.items()
            if dates
        )
        return f"Källorna anger olika uppgifter: {described}."

    def suggestions(self, sources: list[Source]) -> list[str]:
        """The closest topics that the documents do cover (for an abstention)."""
        out: list[str] = []
        for source in sources[:5]:
            chunk = source.chunk
            label = chunk.heading_path[-1] if chunk.heading_path else chunk.title
            item = f"{label} ({chunk.title})"
            if item not in out:
                out.append(item)
            if len(out) == 3:
                break
        return out


PART_UNANSWERED_NOTE = "Dokumenten svarar inte på den här delen av frågan: ”{part}”"


def merge_answers(parts: Sequence[str], answers: Sequence[Answer]) -> Answer:
    """One answer to a question that joins several (`parts`, answered one by one): the answered
    parts in order, their citations numbered anew (a clause cited twice once), and a note for each
    part the documents do not answer. It abstains only when every part does."""
    answered = [a for a in answers if not a.abstained]
    notes = list(dict.fromkeys(n for a in answers for n in a.notes))
    if not answered:
        first = answers[0]
        suggestions = list(dict.fromkeys(s for a in answers for s in a.suggestions))[:3]
        return replace(
            first, confidence=max(a.confidence for a in answers), suggestions=suggestions, notes=notes
        )
    citations: list[Citation] = []
    numbers: dict[tuple[str, str], int] = {}
    texts: list[str] = []
    shown = ""  # the words already given, without citation marks
    for answer in answered:
        # a paragraph an earlier part already gave is not given again ("vem är samordnande
        # vårdcentral i Nacka, och vad ska de göra?" may find the same clause twice)
        paras = [para for para in answer.answer.split("\n\n") if not (_plain(para) and _plain(para) in shown)]
        # nor is a sentence of it (the next part's clause may be the same, its best sentence too)
        paras = [p for p in (_without_shown(para, shown) for para in paras) if _plain(p)]
        if not paras:
            continue
        shown += " " + " ".join(_plain(para) for para in paras)
        used = {int(n) for para in paras for n in re.findall(r"\[(\d+)\]", para)}
        mapping: dict[int, int] = {}
        for citation in answer.citations:
            if citation.n not in used:
                continue
            key = (citation.document, citation.anchor)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(replace(citation, n=numbers[key], quotes=list(citation.quotes)))
            else:
                kept = citations[numbers[key] - 1]
                kept.quotes.extend(q for q in citation.quotes if q not in kept.quotes)
            mapping[citation.n] = numbers[key]
        texts.append(
            re.sub(r"\[(\d+)\]", lambda m, mp=mapping: f"[{mp.get(int(m[1]), m[1])}]", "\n\n".join(paras))
        )
    notes += [PART_UNANSWERED_NOTE.format(part=p) for p, a in zip(parts, answers, strict=True) if a.abstained]
    return Answer(
        id=answered[0].id,
        answer="\n\n".join(texts),
        abstained=False,
        confidence=min(a.confidence for a in answered),
        audience=answered[0].audience,
        citations=citations,
        notes=notes,
    )


def _in_paragraph_on(source: Source, places: list[str], topic: list[str]) -> Callable[[Unit], bool]:
    """Whether a unit of `source`'s clause stands in a paragraph on one of `places` (folded) that
    shares a `topic` stem with the question. A paragraph that opens by naming the place ("I Skånes
    län finns ...") is on it; one that names it in passing ("Analysen omfattar Västra Götaland,
    Skåne och Östergötland.") only when no paragraph opens so."""

    def names(text: str) -> bool:
        return any(re.search(rf"\b{re.escape(p)}", fold(text)) for p in places)

    on = {
        i: names(re.split(r"(?<=[.!?])\s+", block, maxsplit=1)[0])
        for i, block in enumerate(lines_of(source.chunk.text))
        if names(block) and _content_stems(block).intersection(topic)
    }
    opening = {i for i, first in on.items() if first}
    paragraphs = opening or set(on)
    return lambda unit: unit.paragraph in paragraphs


def _content_stems(text: str) -> set[str]:
    """Stems of a text's words that carry content (no stop words, three letters or more)."""
    return {
        stem for word in words(text) if word not in STOP_WORDS and len(word) > 2 for stem in stem_tokens(word)
    }


def _repeats(selection: Selection, said: set[str]) -> bool:
    """Whether most of a selection's sentences say again what `said` (stems) said."""
    repeated = 0
    for unit in selection.units:
        stems = _content_stems(unit.text)
        repeated += len(stems) >= 3 and len(stems & said) >= 0.6 * len(stems)
    return repeated * 2 > len(selection.units)


def _without_shown(para: str, shown: str) -> str:
    """A paragraph of running text without its sentences of five words or more that `shown`
    already holds; a list, and a paragraph whose every sentence was shown, stay as they are (the
    caller drops the latter whole)."""
    if "\n" in para:
        return para
    body = re.sub(r"(\s*\[\d+\])+\s*$", "", para)
    marks = para[len(body) :]
    sentences = re.split(r"(?<=[.!?])\s+", body)
    kept = [t for t in sentences if not (len(t.split()) >= 5 and _plain(t) in shown)]
    if not kept:
        return para
    return " ".join(kept) + marks if len(kept) < len(sentences) else para


def _plain(text: str) -> str:
    """An answer's words without its citation marks and line breaks."""
    return " ".join(re.sub(r"\s*\[\d+\]", "", text).split())


def cite(n: int, source: Source, quote: str, quotes: list[str] | None = None) -> Citation:
    """A citation of a retrieved clause; `quote` and each of `quotes` (default: `quote` alone)
    must be exact substrings of its text."""
    chunk = source.chunk
    return Citation(
        n=n,
        document=chunk.doc_id,
        title=chunk.title,
        doc_type=chunk.doc_type,
        date=chunk.date,
        section=chunk.section,
        heading=chunk.heading,
        pages=list(chunk.pages),
        quote=quote,
        text=chunk.text,
        anchor=chunk.anchor,
        score=round(source.score, 5),
        quotes=list(quotes) if quotes else [quote],
    )


def _as_written(question: str, folded: str) -> str:
    """A folded name ("tyreso", "upplands vasby") as the question writes it ("Tyresö", "Upplands
    Väsby"), capitalised."""
    start = fold(question).find(folded)
    same_length = len(fold(question)) == len(question)  # true unless a letter folds to two
    word = question[start : start + len(folded)] if start >= 0 and same_length else folded
    return word[:1].upper() + word[1:]


def abstains_regardless(evidence: Evidence, settings: AssistantSettings) -> bool:
    """Whether the evidence rules the answer out whatever the confidence: most of the question's
    words never occur in the documents, or the answer lacks what was asked for ("Hur många
    ledamöter ...?" and no count of them)."""
    return evidence.unknown_share >= settings.abstain_unknown_share or (
        settings.abstain_when_asked_missing and evidence.answer_type_missing >= 1.0
    )


# A pronoun for things counted in the part before ("..., och hur fördelas de?"); not "det".
# the words of "när började X gälla / trädde X i kraft?" that are not X
_IN_FORCE_WORDS = (
    "börja",
    "började",
    "gälla",
    "gäller",
    "gällde",
    "träda",
    "träder",
    "trädde",
    "kraft",
    "datum",
)
_PLURAL_BACK = re.compile(r"\b(de|dem|dom|dessa|deras)\b", re.IGNORECASE)
# A question about a document's own date, which its letterhead gives ("Nacka Kommun 2022-03-16").
_DOCUMENT_DATE_ASKED = re.compile(
    r"\b(skriven|skrivet|skrevs|daterad|dateras|publicerad\w*|utgiven|kom ut|gammal|dokumentets)\b"
)


def _substantive_text(text: str, question: str) -> bool:
    """Whether a text can answer: a sentence ("Återstår att göra." under its heading), a
    sentence's worth of words, the number a "hur många" question asks for, the thing a question
    asks for ("Dnr: ÄLN 2021/194", see `asked_thing`), or the date of a
    letterhead when the question asks for the document's date ("Vilket datum är
    tjänsteskrivelsen skriven?", not "När började HÖK gälla?")."""
    qtype = question_type(question)
    holds = asked_thing(question)
    if is_sentence(text) or (qtype == "how_many" and type_match(qtype, text)) or (holds and holds(text)):
        return True
    return qtype == "when" and type_match(qtype, text) and bool(_DOCUMENT_DATE_ASKED.search(fold(question)))


def _substantive(selection: Selection, question: str) -> bool:
    """Whether the units chosen from a clause can answer (see `_substantive_text`)."""
    return _substantive_text(" ".join(u.text for u in selection.units), question)


def _dates(text: str) -> set[str]:
    return {m.group(0).lower() for m in _DATE_RE.finditer(text)}
