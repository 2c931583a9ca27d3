"""Optional LLM answerer behind an OpenAI-compatible chat endpoint, with sentence verification.

The default answer of Avtalsassistenten is extractive. When ``AVTAL_LLM__BASE_URL`` points at
an OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server, Azure OpenAI), ``LLMAnswerer``
asks the model to rewrite the retrieved clauses in plain Swedish and then *verifies* every
sentence of the draft before anyone sees it:

* each sentence must cite a numbered source that exists ([n]), or be a refusal
  ("Det framgår inte av dokumenten.");
* numbers, dates, month names, actors (kommunen, regionen, Försäkringskassan ...) and proper
  nouns in the sentence must occur in the cited sources: a wrong deadline or an invented actor
  removes the sentence even when most other words match;
* enough of the sentence's content words must occur in the cited sources (``min_support``).

Sentences that fail are removed; when too many fail, ``verification.ok`` is False and the
caller shows the extractive answer instead. Every message is masked for personnummer before it
leaves the process, and the API key is never logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx

from assistant import prompts
from assistant.types import Citation, Turn
from avtal.errors import AvtalError, ConfigurationError
from avtal.models import Chunk
from avtal.privacy import mask_personal_ids
from avtal.settings import LLMSettings
from index.lexical import STOP_WORDS, fold

log = logging.getLogger(__name__)

Message = dict[str, str]
Similarity = Callable[[str, str], float]

SIMILARITY_ACCEPT = 0.85  # embedding cosine that may stand in for half of the lexical support
HISTORY_MESSAGES = 6  # earlier turns (messages) sent with a question
HISTORY_CHARS = 1500  # longest earlier turn sent, in characters
SOURCE_CHARS = 4000  # longest source text sent, in characters


class LLMError(AvtalError):
    """The language model could not be reached or gave an unusable reply."""

    code = "llm_unavailable"
    default_hint = "Svaret hämtas direkt ur dokumenten i stället, utan språkmodell."


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


class ChatBackend(Protocol):
    """What ``LLMAnswerer`` needs from a client (``ChatClient`` or a test fake)."""

    def complete(self, messages: Sequence[Message]) -> str: ...

    def stream(self, messages: Sequence[Message]) -> Iterator[str]: ...


def mask_messages(messages: Iterable[Message]) -> tuple[list[Message], int]:
    """Copies of ``messages`` with every personnummer masked, and how many were masked."""
    masked: list[Message] = []
    total = 0
    for message in messages:
        copy = dict(message)
        content = copy.get("content")
        if isinstance(content, str):
            copy["content"], count = mask_personal_ids(content)
            total += count
        masked.append(copy)
    return masked, total


class ChatClient:
    """Minimal client for ``POST {base_url}/chat/completions`` (JSON and SSE streaming).

    OpenAI style sends ``Authorization: Bearer <api_key>``; with ``api_version`` set (Azure
    OpenAI, ``base_url`` = ``https://<resource>.openai.azure.com/openai/deployments/<name>``)
    the key goes in an ``api-key`` header and ``?api-version=`` is added to every request.

    ``complete`` must finish within ``timeout_s``; ``stream`` must deliver its first words
    within ``timeout_s`` and never pause longer than that. Failures raise ``LLMError``.
    """

    def __init__(self, settings: LLMSettings, transport: httpx.BaseTransport | None = None) -> None:
        if not settings.base_url:
            raise ConfigurationError(
                "Ingen språkmodell är inställd.",
                "Ange adressen till en OpenAI-kompatibel tjänst i AVTAL_LLM__BASE_URL.",
            )
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        headers = {"Content-Type": "application/json"}
        params: dict[str, str] = {}
        key = settings.api_key.get_secret_value() if settings.api_key is not None else ""
        if settings.api_version:
            params["api-version"] = settings.api_version
            if key:
                headers["api-key"] = key
        elif key:
            headers["Authorization"] = f"Bearer {key}"
        self._http = httpx.Client(
            transport=transport,
            headers=headers,
            params=params,
            timeout=httpx.Timeout(settings.timeout_s),
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never shows the key
        return f"ChatClient(base_url={self.base_url!r}, model={self.settings.model!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------

    def _payload(self, messages: Sequence[Message], *, stream: bool) -> dict[str, Any]:
        masked, count = mask_messages(messages)
        if count:
            log.info("%d personnummer maskerades innan frågan skickades till språkmodellen", count)
        return {
            "model": self.settings.model,
            "messages": masked,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "stream": stream,
        }

    def _timeout_error(self) -> LLMError:
        seconds = f"{self.settings.timeout_s:g}".replace(".", ",")
        return LLMError(f"Språkmodellen svarade inte inom {seconds} sekunder.")

    def _check_status(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            body = response.read().decode("utf-8", "replace")[:300]
        except httpx.HTTPError:
            body = ""
        log.warning("Språkmodellen svarade med HTTP %d: %s", response.status_code, mask_personal_ids(body)[0])
        if response.status_code in (401, 403):
            raise LLMError(
                f"Språkmodellen nekade åtkomst (HTTP {response.status_code}).",
                "Kontrollera AVTAL_LLM__API_KEY. Svaret hämtas direkt ur dokumenten i stället.",
            )
        raise LLMError(f"Språkmodellen svarade med ett fel (HTTP {response.status_code}).")

    def complete(self, messages: Sequence[Message]) -> str:
        """The whole reply of the model (``choices[0].message.content``)."""
        url = f"{self.base_url}/chat/completions"
        payload = self._payload(messages, stream=False)
        log.debug("POST %s (%d meddelanden)", url, len(payload["messages"]))
        started = time.monotonic()
        deadline = started + self.settings.timeout_s
        try:
            with self._http.stream("POST", url, json=payload) as response:
                self._check_status(response)
                body = bytearray()
                for part in response.iter_bytes():
                    body.extend(part)
                    if time.monotonic() > deadline:
                        raise self._timeout_error()
        except httpx.TimeoutException as exc:
            raise self._timeout_error() from exc
        except httpx.HTTPError as exc:
            log.warning("Språkmodellen kunde inte nås: %s", type(exc).__name__)
            raise LLMError("Det gick inte att nå språkmodellen.") from exc
        log.debug("Svar från språkmodellen efter %.0f ms", (time.monotonic() - started) * 1000)
        return _message_content(bytes(body))

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """Pieces of the reply as they arrive (SSE ``choices[0].delta.content``)."""
        url = f"{self.base_url}/chat/completions"
        payload = self._payload(messages, stream=True)
        log.debug("POST %s (%d meddelanden, strömmat)", url, len(payload["messages"]))
        deadline = time.monotonic() + self.settings.timeout_s
        first = True
        try:
            with self._http.stream(
                "POST", url, json=payload, headers={"Accept": "text/event-stream"}
            ) as response:
                self._check_status(response)
                if response.headers.get("content-type", "").startswith("application/json"):
                    # The server ignored "stream": one JSON reply.
                    yield _message_content(response.read())
                    return
                for line in response.iter_lines():
                    if first and time.monotonic() > deadline:
                        raise self._timeout_error()
                    piece = _sse_content(line)
                    if piece is _DONE:
                        return
                    if piece:
                        first = False
                        yield str(piece)
        except httpx.TimeoutException as exc:
            raise self._timeout_error() from exc
        except httpx.HTTPError as exc:
            log.warning("Språkmodellen kunde inte nås: %s", type(exc).__name__)
            raise LLMError("Det gick inte att nå språkmodellen.") from exc

    def list_models(self) -> list[str]:
        """Model names the endpoint serves (``GET {base_url}/models``); a cheap health check."""
        try:
            response = self._http.get(f"{self.base_url}/models")
        except httpx.TimeoutException as exc:
            raise self._timeout_error() from exc
        except httpx.HTTPError as exc:
            raise LLMError("Det gick inte att nå språkmodellen.") from exc
        self._check_status(response)
        try:
            data = response.json()
            return [str(item["id"]) for item in data["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise _malformed() from exc


_DONE = object()


def _malformed() -> LLMError:
    return LLMError("Språkmodellen gav ett svar som inte gick att tolka.")


def _message_content(body: bytes) -> str:
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"].get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise _malformed() from exc
    if content is None:
        return ""
    if not isinstance(content, str):
        raise _malformed()
    return content


def _sse_content(line: str) -> str | object | None:
    """The content of one SSE line, ``_DONE`` at the end, None for lines without content."""
    line = line.strip()
    if not line.startswith("data:"):
        return None  # blank lines, comments (":"), "event:", "id:"
    data = line[5:].strip()
    if data == "[DONE]":
        return _DONE
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise _malformed() from exc
    if not isinstance(chunk, dict):
        raise _malformed()
    if chunk.get("error"):
        log.warning("Språkmodellen rapporterade ett fel i strömmen")
        raise LLMError("Språkmodellen avbröt svaret med ett fel.")
    choices = chunk.get("choices") or []
    if not choices:
        return None  # e.g. a usage-only chunk
    try:
        content = (choices[0].get("delta") or {}).get("content")
    except AttributeError as exc:
        raise _malformed() from exc
    return content if isinstance(content, str) else None


# --------------------------------------------------------------------------------------------
# Sources and prompts
# --------------------------------------------------------------------------------------------


@dataclass
class LLMSource:
    """One numbered source as the model sees it (and as verification checks against)."""

    n: int
    title: str
    section: str | None
    heading: str | None
    pages: list[int]
    text: str

    @classmethod
    def from_citation(cls, citation: Citation) -> LLMSource:
        return cls(
            citation.n,
            citation.title,
            citation.section,
            citation.heading,
            list(citation.pages),
            citation.text,
        )

    @classmethod
    def from_chunk(cls, n: int, chunk: Chunk) -> LLMSource:
        return cls(n, chunk.title, chunk.section, chunk.heading, list(chunk.pages), chunk.text)

    @property
    def label(self) -> str:
        """Section number and heading ("7.1.2 Samordnad individuell plan"), or ""."""
        return " ".join(part for part in (self.section, self.heading) if part)


def format_pages(pages: Sequence[int]) -> str:
    """ "4", "4–5", "4, 7"; "okänd" without pages."""
    if not pages:
        return "okänd"
    ordered = sorted(set(pages))
    if len(ordered) > 1 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(str(p) for p in ordered)


def format_source(source: LLMSource) -> str:
    label = source.label
    section_line = prompts.SECTION_LINE_TEMPLATE.format(section=label) if label else ""
    text = source.text.strip()
    if len(text) > SOURCE_CHARS:
        text = text[:SOURCE_CHARS].rsplit(" ", 1)[0] + " …"
    return prompts.SOURCE_TEMPLATE.format(
        n=source.n,
        title=source.title,
        section_line=section_line,
        pages=format_pages(source.pages),
        text=text,
    )


def _turn(item: Turn | Message) -> tuple[str, str]:
    if isinstance(item, Turn):
        return item.role, item.content
    return str(item.get("role", "user")), str(item.get("content", ""))


def _history_messages(history: Sequence[Turn | Message] | None) -> list[Message]:
    messages: list[Message] = []
    for item in list(history or [])[-HISTORY_MESSAGES:]:
        role, content = _turn(item)
        if role not in ("user", "assistant") or not content.strip():
            continue
        # Old [n] markers point at another list of sources: drop them.
        content = _MARKER.sub("", content).strip()[:HISTORY_CHARS]
        messages.append({"role": role, "content": content})
    return messages


def build_messages(
    question: str,
    sources: Sequence[LLMSource],
    history: Sequence[Turn | Message] | None = None,
    audience: str = prompts.DEFAULT_AUDIENCE,
    *,
    max_words: int = 60,
) -> list[Message]:
    """System prompt, the recent history, then the numbered sources with the question."""
    instruction = prompts.AUDIENCE_INSTRUCTIONS.get(
        audience, prompts.AUDIENCE_INSTRUCTIONS[prompts.DEFAULT_AUDIENCE]
    ).format(max_words=max_words)
    user = prompts.QUESTION_TEMPLATE.format(
        sources=prompts.SOURCES_SEPARATOR.join(format_source(s) for s in sources),
        question=question.strip(),
        audience_instruction=instruction,
    )
    return [
        {"role": "system", "content": prompts.SYSTEM_PROMPT},
        *_history_messages(history),
        {"role": "user", "content": user},
    ]


def build_condense_messages(question: str, history: Sequence[Turn | Message]) -> list[Message]:
    lines = []
    for message in _history_messages(history):
        role = prompts.HISTORY_ROLES.get(message["role"], message["role"])
        lines.append(f"{role}: {message['content']}")
    return [
        {"role": "system", "content": prompts.CONDENSE_SYSTEM_PROMPT},
        {
            "role": "user",
            "content": prompts.CONDENSE_TEMPLATE.format(history="\n".join(lines), question=question.strip()),
        },
    ]


# --------------------------------------------------------------------------------------------
# Sentence splitting
# --------------------------------------------------------------------------------------------

_MARKER = re.compile(r"\[\s*(?:källa\s*)?(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]", re.IGNORECASE)
_MARKERS_RUN = r"(?:[ \t]*\[\s*(?:[Kk]älla\s*)?\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\s*\])+"

# A boundary needs the first character of the next sentence (not "[": a marker that belongs to
# the sentence before may still be arriving), so a streamed prefix never splits too early.
_BOUNDARY = re.compile(
    r"(?P<end>[.!?…]+[\"”’»)]*(?:" + _MARKERS_RUN + r"[.]?)?)(?P<gap>\s+)(?=[^\s\[])"
    r"|(?P<nl>[ \t]*\n\s*)(?=[^\s\[])"
)

# Never the end of a sentence, whatever follows.
ABBREVIATIONS = frozenset(
    """
    t.ex. bl.a. s.k. dvs. d.v.s. ca. c:a kl. nr. s. sid. kap. st. p. jfr. resp. fr.o.m. t.o.m.
    enl. inkl. exkl. f.d. f.n. p.g.a. pga. m.h.t. mht. ang. avd. tel. o. bl. ex. jmf. vs. t.
    """.split()
)

_LIST_PREFIX = re.compile(r"^\s*(?:[-*•–]|\d{1,2}[.)])\s+")
_MARKDOWN = re.compile(r"\*\*|__|`")
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


@dataclass
class _Piece:
    text: str
    paragraph: bool  # a blank line came before it


def _is_boundary(text: str, start: int, match: re.Match[str]) -> bool:
    if match.group("nl") is not None:
        return True
    end = match.group("end")
    if not end.startswith("."):
        return True
    before = text[start : match.start("end") + 1].split()
    word = before[-1].lstrip('(["”»').lower() if before else ""
    if word in ABBREVIATIONS:
        return False
    if len(before) == 1 and re.fullmatch(r"\d{1,2}\.", word):  # "1. " opening a numbered item
        return False
    following = text[match.end() : match.end() + 1]
    return not following.islower()


def _split(text: str, *, final: bool, paragraph: bool = False) -> tuple[list[_Piece], int, bool]:
    """Sentences of ``text``, how many characters they consumed, and whether a blank line
    precedes the unconsumed rest (pass it back as ``paragraph`` with the rest).

    With ``final=False`` the trailing, possibly unfinished sentence is left unconsumed.
    """
    pieces: list[_Piece] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.start() < start or not _is_boundary(text, start, match):
            continue
        stop = match.end("end") if match.group("end") is not None else match.start()
        pieces.append(_Piece(text[start:stop], paragraph))
        gap = match.group("gap") if match.group("gap") is not None else match.group("nl")
        paragraph = gap.count("\n") >= 2
        start = match.end()
    if final:
        pieces.append(_Piece(text[start:], paragraph))
        start = len(text)
    return [p for p in pieces if p.text.strip()], start, paragraph


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer; Swedish abbreviations ("t.ex.", "bl.a.", "s.k.") do not split."""
    cleaned = (_clean_sentence(p.text) for p in _split(text, final=True)[0])
    return [s for s in cleaned if s]


def _clean_sentence(text: str) -> str:
    return _LIST_PREFIX.sub("", _MARKDOWN.sub("", text)).strip()


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------

REASON_UNKNOWN_SOURCE = "hänvisar till en källa som inte finns"
REASON_NO_CITATION = "saknar källhänvisning"
REASON_UNSUPPORTED = "stöds inte av den angivna källan"
REASON_UNSUPPORTED_DETAIL = "innehåller uppgifter som inte finns i den angivna källan"
REASON_HEADING = "rubrik utan påstående"

_TOKEN = re.compile(r"\d+(?:[.,:/–-]\d+)*|[^\W\d_]+")
_EXTRA_STOP = frozenset(
    """
    enligt källa källan källor källorna dokument dokumentet dokumenten står framgår avsnitt
    avsnittet punkt punkten ex bl dvs osv mm mfl sk din ditt dina era därför alltså nämligen
    """.split()
)
_NUMBER_WORDS = {
    fold(word): str(value)
    for value, word in enumerate(
        "noll _ två tre fyra fem sex sju åtta nio tio elva tolv tretton fjorton femton sexton "
        "sjutton arton nitton tjugo".split()
    )
    if word != "_"
} | {
    fold(w): v
    for w, v in (
        ("trettio", "30"),
        ("fyrtio", "40"),
        ("femtio", "50"),
        ("sextio", "60"),
        ("sjuttio", "70"),
        ("åttio", "80"),
        ("nittio", "90"),
        ("hundra", "100"),
    )
}
_MONTHS = frozenset(
    "januari februari mars april maj juni juli augusti september oktober november december".split()
)
# Who does what: a sentence naming one of these must find it in its cited source.
_ACTORS = tuple(
    fold(word)
    for word in """
    kommun region landsting stadsdel primärvård slutenvård specialistvård öppenvård vårdcentral
    husläkar hemtjänst hemsjukvård socialtjänst socialnämnd psykiatri beroendevård
    försäkringskass arbetsförmedling elevhäls habilitering barnhälsovård bvc mvc
    ungdomsmottagning tandvård ambulans akutmottagning sjukhus vårdgivar utförar överförmyndar
    polis ivo socialstyrels läkar sjukskötersk arbetsterapeut fysioterapeut kurator
    handläggar biståndshandläggar
    """.split()
)
_SUFFIXES = tuple(
    sorted(
        """arnas ernas ornas andes endes heten heter arna erna orna ande ende else het ens ets ars
        ers ors are ast ade en et na ar er or at ad as es s a e""".split(),
        key=len,
        reverse=True,
    )
)
_REFUSAL = re.compile(
    r"\b(?:framgar|star|finns|namns|beskrivs|anges|regleras|besvaras)\b.*\b(?:av|i)\s+"
    r"(?:de\s+\w+\s+)?(?:dokumenten|kallorna|underlaget|texterna|materialet|avtalen|overenskommelserna)\b"
    r"|\bkan\s+inte\s+(?:svara|besvara)\b"
)
_NEGATION = re.compile(r"\b(?:inte|ej|ingenting|inget)\b")
_CONTRAST = re.compile(r"\b(?:men|daremot|dock)\b")


def _stem(token: str) -> str:
    if any(c.isdigit() for c in token):
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def _normalise(token: str) -> str:
    """Folded token; number words become digits, leading zeros go ("tre" → "3", "07" → "7")."""
    folded = fold(token)
    if folded in _NUMBER_WORDS:
        return _NUMBER_WORDS[folded]
    if folded.isdigit():
        return folded.lstrip("0") or "0"
    return folded


@dataclass
class _Word:
    raw: str
    norm: str
    critical: bool


def _content_words(sentence: str) -> list[_Word]:
    words: list[_Word] = []
    for index, match in enumerate(_TOKEN.finditer(sentence)):
        raw = match.group()
        lower = raw.lower()
        if lower in STOP_WORDS or lower in _EXTRA_STOP:
            continue
        norm = _normalise(raw)
        if len(norm) < 2 and not norm.isdigit():
            continue
        critical = (
            any(c.isdigit() for c in norm)
            or norm in _MONTHS
            or norm.startswith(_ACTORS)
            or (len(raw) >= 2 and raw.isupper())  # acronyms: SIP, LSS, HSL
            or (index > 0 and raw[0].isupper())  # proper nouns inside the sentence
        )
        words.append(_Word(raw, norm, critical))
    return words


class _SourceIndex:
    """The words of a set of sources, for exact, stem and prefix (≥5 letters) matching."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.tokens: set[str] = set()
        self.initials: set[str] = set()  # "sip" from "samordnad individuell plan"
        for text in texts:
            sequence: list[str] = []
            for match in _TOKEN.finditer(text):
                norm = _normalise(match.group())
                self.tokens.add(norm)
                sequence.append(norm)
                if any(c.isdigit() for c in norm):  # "2022-07-01" also offers "2022", "7", "1"
                    self.tokens.update(p.lstrip("0") or "0" for p in re.split(r"[.,:/–-]", norm) if p)
            for size in range(2, 6):
                for i in range(len(sequence) - size + 1):
                    self.initials.add("".join(w[0] for w in sequence[i : i + size]))
        self.stems = {_stem(t) for t in self.tokens}
        self.prefixes = {s[:k] for s in self.stems if len(s) >= 5 for k in range(5, len(s) + 1)}

    def has(self, norm: str) -> bool:
        if norm in self.tokens:
            return True
        if any(c.isdigit() for c in norm):
            return False  # numbers match exactly
        stem = _stem(norm)
        if stem in self.stems:
            return True
        if len(stem) >= 5 and stem in self.prefixes:  # "ansvar" ~ "ansvarsfördelningen"
            return True
        return any(stem[:k] in self.stems for k in range(5, len(stem)))

    def has_critical(self, norm: str) -> bool:
        """Numbers exactly; an actor by its stem ("regionen" needs a word starting "region");
        an acronym also by the initials of consecutive source words."""
        actor = next((a for a in _ACTORS if norm.startswith(a)), None)
        if actor is None:
            if self.has(norm):
                return True
            return 2 <= len(norm) <= 5 and norm.isalpha() and norm in self.initials
        return any(t.startswith(actor) for t in self.tokens)


@dataclass
class VerifiedSentence:
    text: str  # as shown, markers kept
    cites: list[int]
    support: float  # share of content words found in the cited sources (1.0 for refusals)
    refusal: bool = False
    paragraph: bool = False  # starts a new paragraph


@dataclass
class RemovedSentence:
    text: str
    reason: str  # Swedish, for notes and logs
    cites: list[int] = field(default_factory=list)
    support: float = 0.0


@dataclass
class Verification:
    kept: list[VerifiedSentence] = field(default_factory=list)
    removed: list[RemovedSentence] = field(default_factory=list)
    ok: bool = False

    @property
    def refused(self) -> bool:
        """The model said the documents do not answer, and said nothing else."""
        return bool(self.kept) and all(s.refusal for s in self.kept)

    @property
    def text(self) -> str:
        parts: list[str] = []
        for i, sentence in enumerate(self.kept):
            if i:
                parts.append("\n\n" if sentence.paragraph else " ")
            parts.append(sentence.text)
        return "".join(parts)

    @property
    def cited(self) -> list[int]:
        return sorted({n for s in self.kept for n in s.cites})

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "refused": self.refused}


def _parse_cites(sentence: str) -> list[int]:
    cites: list[int] = []
    for match in _MARKER.finditer(sentence):
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            bounds = re.split(r"\s*[–-]\s*", part)
            if len(bounds) == 2 and bounds[0] and bounds[1]:
                low, high = int(bounds[0]), int(bounds[1])
                cites.extend(range(low, high + 1) if 0 <= high - low <= 20 else (low, high))
            elif part:
                cites.append(int(bounds[0]))
    return list(dict.fromkeys(cites))


def _is_refusal(sentence: str) -> bool:
    folded = fold(_MARKER.sub("", sentence))
    if len(folded.split()) > 16 or _CONTRAST.search(folded):
        return False
    if re.search(r"\bkan\s+inte\s+(?:svara|besvara)\b", folded):
        return True
    return bool(_NEGATION.search(folded) and _REFUSAL.search(folded))


def _is_heading(raw: str, text: str) -> bool:
    if raw.lstrip().startswith("#"):
        return True
    if _MARKER.search(text):
        return False
    if text.endswith(":"):
        return True
    return not re.search(r"[.!?…]$", text) and len(text.split()) <= 6


class _Verifier:
    """Checks sentences one at a time (for streaming) and sums up at the end."""

    def __init__(
        self, sources: Sequence[LLMSource], min_support: float, similarity: Similarity | None
    ) -> None:
        self.sources = {s.n: s for s in sources}
        self.min_support = min_support
        self.similarity = similarity
        self._indexes: dict[tuple[int, ...], _SourceIndex] = {}
        self.verification = Verification()

    def _index(self, cites: list[int]) -> _SourceIndex:
        key = tuple(sorted(cites))
        if key not in self._indexes:
            texts: list[str] = []
            for n in key:
                s = self.sources[n]
                texts.extend([s.title, s.section or "", s.heading or "", s.text])
            self._indexes[key] = _SourceIndex(texts)
        return self._indexes[key]

    def check(self, piece: _Piece) -> VerifiedSentence | RemovedSentence | None:
        """The verdict on one sentence (recorded); None for an empty piece."""
        text = _clean_sentence(piece.text)
        if not text:
            return None
        verdict = self._judge(piece.text, text, piece.paragraph)
        if isinstance(verdict, VerifiedSentence):
            self.verification.kept.append(verdict)
        else:
            self.verification.removed.append(verdict)
            log.debug("Mening borttagen (%s): %s", verdict.reason, mask_personal_ids(text)[0])
        return verdict

    def _judge(self, raw: str, text: str, paragraph: bool) -> VerifiedSentence | RemovedSentence:
        if _is_refusal(text):
            return VerifiedSentence(text, [], 1.0, refusal=True, paragraph=paragraph)
        if _is_heading(raw, text):
            return RemovedSentence(text, REASON_HEADING)
        cites = _parse_cites(text)
        if not cites:
            return RemovedSentence(text, REASON_NO_CITATION)
        if any(n not in self.sources for n in cites):
            return RemovedSentence(text, REASON_UNKNOWN_SOURCE, cites)
        index = self._index(cites)
        claim = _MARKER.sub(" ", text)
        words = _content_words(claim)
        missing = [w.raw for w in words if w.critical and not index.has_critical(w.norm)]
        support = sum(index.has(w.norm) for w in words) / len(words) if words else 0.0
        support = round(support, 3)
        if missing:
            detail = ", ".join(dict.fromkeys(missing))
            return RemovedSentence(text, f"{REASON_UNSUPPORTED_DETAIL} ({detail})", cites, support)
        if support >= self.min_support:
            return VerifiedSentence(text, cites, support, paragraph=paragraph)
        if self.similarity is not None and support >= self.min_support / 2:
            best = max(self.similarity(claim, self.sources[n].text) for n in cites)
            if best >= SIMILARITY_ACCEPT:
                return VerifiedSentence(text, cites, support, paragraph=paragraph)
        return RemovedSentence(text, REASON_UNSUPPORTED, cites, support)

    def finish(self) -> Verification:
        v = self.verification
        counted = len(v.kept) + sum(r.reason != REASON_HEADING for r in v.removed)
        removed = counted - len(v.kept)
        v.ok = any(not s.refusal for s in v.kept) and removed * 2 <= counted
        return v


def verify(
    answer_text: str,
    sources: Sequence[LLMSource],
    *,
    min_support: float,
    similarity: Similarity | None = None,
) -> Verification:
    """Check every sentence of ``answer_text`` against the sources it cites.

    A sentence is kept when it is a refusal ("Det framgår inte av dokumenten."), or when all
    its [n] markers name given sources, every number, date, month, actor and proper noun in it
    occurs in those sources, and its lexical support reaches ``min_support`` (or, with
    ``similarity``, the cosine reaches 0.85 and the lexical support ``min_support / 2``).
    ``ok`` means at least one substantive sentence survived and at most half were removed
    (headings do not count).
    """
    verifier = _Verifier(sources, min_support, similarity)
    for piece in _split(_strip_think(answer_text), final=True)[0]:
        verifier.check(piece)
    return verifier.finish()


def _strip_think(text: str) -> str:
    """Drop the reasoning block some models (qwen3, deepseek-r1) put before the answer."""
    text = _THINK.sub("", text)
    if "<think>" in text:  # never closed: nothing usable follows
        text = text.split("<think>", 1)[0]
    return text


# --------------------------------------------------------------------------------------------
# Answerer
# --------------------------------------------------------------------------------------------

NOTE_MASKED = "Personnummer togs bort ur frågan innan den skickades till språkmodellen."
NOTE_REMOVED = "{count} mening(ar) i språkmodellens svar togs bort eftersom de inte stöds av dokumenten."
NOTE_FAILED = (
    "Språkmodellens svar kunde inte kontrolleras mot dokumenten. Svaret är i stället hämtat "
    "direkt ur dokumenten."
)


@dataclass
class LLMResult:
    text: str  # verified sentences re-joined, [n] markers kept; "" when verification failed
    cited: list[int]
    verification: Verification
    notes: list[str] = field(default_factory=list)
    draft: str = ""  # the model's reply as received (masked), for logs and evaluation


class LLMAnswerer:
    """Answers from numbered sources with a chat model; returns only verified sentences."""

    def __init__(
        self,
        settings: LLMSettings,
        client: ChatBackend | None = None,
        similarity: Similarity | None = None,
        *,
        short_answer_words: int = 60,
    ) -> None:
        self.settings = settings
        self.client: ChatBackend = client if client is not None else ChatClient(settings)
        self.similarity = similarity
        self.short_answer_words = short_answer_words

    def close(self) -> None:
        """Close the HTTP connections of a client this answerer made."""
        close = getattr(self.client, "close", None)
        if callable(close):
            close()

    def _messages(
        self,
        question: str,
        sources: Sequence[LLMSource],
        history: Sequence[Turn | Message] | None,
        audience: str,
    ) -> tuple[list[Message], int]:
        messages = build_messages(question, sources, history, audience, max_words=self.short_answer_words)
        # The client masks again; masking here lets the result say so.
        return mask_messages(messages)

    def _result(self, draft: str, verification: Verification, masked: int) -> LLMResult:
        notes: list[str] = []
        if masked:
            notes.append(NOTE_MASKED)
        removed = sum(r.reason != REASON_HEADING for r in verification.removed)
        if not verification.ok:
            notes.append(NOTE_FAILED)
        elif removed:
            notes.append(NOTE_REMOVED.format(count=removed))
        return LLMResult(
            text=verification.text if verification.ok else "",
            cited=verification.cited if verification.ok else [],
            verification=verification,
            notes=notes,
            draft=draft,
        )

    def answer(
        self,
        question: str,
        sources: Sequence[LLMSource],
        history: Sequence[Turn | Message] | None = None,
        audience: str = prompts.DEFAULT_AUDIENCE,
    ) -> LLMResult:
        """Draft with the model, verify, keep the verified sentences. Raises ``LLMError``."""
        if not sources:
            return self._result("", Verification(), 0)
        messages, masked = self._messages(question, sources, history, audience)
        draft = mask_personal_ids(_strip_think(self.client.complete(messages)))[0]
        verification = verify(
            draft, sources, min_support=self.settings.min_support, similarity=self.similarity
        )
        return self._result(draft, verification, masked)

    def stream_answer(
        self,
        question: str,
        sources: Sequence[LLMSource],
        history: Sequence[Turn | Message] | None = None,
        audience: str = prompts.DEFAULT_AUDIENCE,
    ) -> LLMStream:
        """Verified sentences one at a time as the model writes them; ``.result`` at the end."""
        messages, masked = self._messages(question, sources, history, audience)
        return LLMStream(self, messages, list(sources), masked)

    def condense(self, question: str, history: Sequence[Turn | Message] | None) -> str:
        """A follow-up rewritten as a standalone question; the question itself on any failure."""
        if not history or not _history_messages(history):
            return question
        try:
            reply = self.client.complete(build_condense_messages(question, history))
        except LLMError as exc:
            log.info("Följdfrågan kunde inte skrivas om: %s", exc.message)
            return question
        lines = [line.strip() for line in _strip_think(reply).splitlines() if line.strip()]
        if not lines:
            return question
        rewritten = re.sub(r"^(?:fristående fråga|fråga)\s*:\s*", "", lines[0], flags=re.IGNORECASE)
        rewritten = rewritten.strip().strip("\"'”»«").strip()
        if not rewritten or len(rewritten) > max(300, 3 * len(question)):
            return question
        return mask_personal_ids(rewritten)[0]


class LLMStream:
    """Iterate for verified sentences (str); afterwards ``result`` holds the ``LLMResult``.

    Iteration raises ``LLMError`` when the endpoint fails, possibly after some sentences.
    """

    def __init__(
        self, answerer: LLMAnswerer, messages: list[Message], sources: list[LLMSource], masked: int
    ) -> None:
        self._answerer = answerer
        self._messages = messages
        self._sources = sources
        self._masked = masked
        self.result: LLMResult | None = None

    def __iter__(self) -> Iterator[str]:
        answerer = self._answerer
        verifier = _Verifier(self._sources, answerer.settings.min_support, answerer.similarity)
        if not self._sources:
            self.result = answerer._result("", verifier.finish(), self._masked)
            return
        draft = ""
        offset = 0  # characters of ``draft`` already split into sentences
        paragraph = False
        for piece in answerer.client.stream(self._messages):
            draft += piece
            offset = _skip_think(draft, offset)
            if offset < 0:
                continue  # inside a reasoning block
            pieces, used, paragraph = _split(draft[offset:], final=False, paragraph=paragraph)
            offset += used
            for sentence in pieces:
                verdict = verifier.check(_Piece(mask_personal_ids(sentence.text)[0], sentence.paragraph))
                if isinstance(verdict, VerifiedSentence):
                    yield verdict.text
        offset = _skip_think(draft, offset)
        if offset < 0:  # only (or an unclosed) reasoning block
            offset = len(draft)
        for sentence in _split(draft[offset:], final=True, paragraph=paragraph)[0]:
            verdict = verifier.check(_Piece(mask_personal_ids(sentence.text)[0], sentence.paragraph))
            if isinstance(verdict, VerifiedSentence):
                yield verdict.text
        self.result = answerer._result(mask_personal_ids(draft)[0], verifier.finish(), self._masked)


def _skip_think(draft: str, offset: int) -> int:
    """Where the answer starts: past a leading <think>…</think> block; -1 while inside one."""
    if offset > 0:
        return offset
    stripped = draft.lstrip()
    if not stripped:
        return -1
    if "<think>".startswith(stripped[:7]) and len(stripped) < 7:
        return -1  # may still become "<think>"
    if not stripped.startswith("<think>"):
        return 0
    close = draft.find("</think>")
    return -1 if close < 0 else close + len("</think>")
