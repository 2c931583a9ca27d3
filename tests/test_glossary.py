"""Glossary: definitions from the documents, curated terms, matching, query expansion (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.glossary import CURATED_PATH, SYNONYMS_PATH, Glossary, Term, looks_like_abbreviation
from avtal.models import Chunk

# Real sentences from the corpus (data/text), as cleaned chunks carry them.
BEGREPP_RUN_TOGETHER = (
    "HSF = Hälso- och sjukvårdsnämndens förvaltning HSL = Hälso- och sjukvårdslagen "
    "MAS = Medicinskt ansvarig sjuksköterska SIP = Samordnad individuell vårdplan, enligt HSL § 3f, "
    "SoL 2 kap § 7 SLSO = Stockholms läns sjukvårdsområde (landstingets verksamhet i egen regi) "
    "SOL = Socialtjänstlagen SÄBO = Särskilt boende, biståndsbeslutad boendeform för äldre personer "
    "Take Care = Journalsystem som används av landstingsdriven hälso- och sjukvård "
    "WebCare = Informationssystem för informationsöverföring vid samordnad vårdplanering inför "
    "utskrivning från sluten vård"
)
RIKTLINJE_1 = (
    "Mellan kommunerna i Stockholms län (nedan kallade kommunerna) och Region Stockholm (nedan kallad "
    "regionen) finns en huvudöverenskommelse (nedan kallad HÖK) om samverkan kring hälsa, vård och omsorg."
)
RIKTLINJE_2 = (
    "En prioritering av områden för länsövergripande samverkan fastställs av den politiska styrgruppen "
    "för vård i samverkan (nedan kallad VIS) för aktuell mandatperiod."
)
RIKTLINJE_5_2 = (
    "Kommunernas representanter utses av Storsthlms socialtjänstnätverk (nedan kallad "
    "socialtjänstnätverket). Regionens representanter utses av Hälso- och sjukvårdsförvaltningen (HSF)."
)
RIKTLINJE_7_1_2 = "Stockholms länssjukvårdsområde (SLSO) stödjer och vägleder de samordnande vårdcentralerna."
OVERSYN_MALGRUPP = (
    "Vissa bestämmelser återkommer i flera överenskommelser, exempelvis skrivningar om samordnad "
    "individuell plan (SIP) eller vikten av samverkan. Västra Götaland (VGR) har ett övergripande "
    "hälso- och sjukvårdsavtal."
)
SKR_MEDDELANDEBLAD = (
    "Vissa grupper skulle kunna vara personer som är eller ska bli föremål för kriminalvård eller "
    "tvångsvård enligt lagen (1988:870) om vård av missbrukare i vissa fall (LVM) eller lagen (1990:52) "
    "med särskilda bestämmelser om vård av unga (LVU)."
)
SKR_FOOTNOTE = "5 BUS är förkortning för barn i behov av särskilt stöd."
ALDRECENTRUM_SIP = "Arbetet med att stödja individuell vårdplanering i hemmet (SIP) är ännu i sin linda."


def chunk(doc_id: str, anchor: str, text: str, heading: str = "Avsnitt") -> Chunk:
    return Chunk(
        doc_id=doc_id,
        anchor=anchor,
        title=doc_id,
        doc_type=None,
        date=None,
        section=None,
        heading=heading,
        heading_path=[heading],
        pages=[1],
        text=text,
        original_text=text,
        order=0,
    )


CHUNKS = [
    chunk("aldrecentrum", "begrepp", BEGREPP_RUN_TOGETHER, "Begrepp"),
    chunk("aldrecentrum", "sip", ALDRECENTRUM_SIP),
    chunk("riktlinje", "1", RIKTLINJE_1),
    chunk("riktlinje", "2", RIKTLINJE_2),
    chunk("riktlinje", "5.2", RIKTLINJE_5_2),
    chunk("riktlinje", "7.1.2", RIKTLINJE_7_1_2),
    chunk("oversyn", "malgrupp", OVERSYN_MALGRUPP),
    chunk("skr", "meddelandeblad", SKR_MEDDELANDEBLAD),
    chunk("skr", "fotnot", SKR_FOOTNOTE),
]


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.build(CHUNKS)


def docs_only(chunks: list[Chunk]) -> Glossary:
    """A glossary from the documents alone (no curated file, no synonyms)."""
    return Glossary.build(chunks, bundled=None, synonyms=None)


def test_begrepp_list_run_together_on_one_line() -> None:
    g = docs_only([CHUNKS[0]])
    assert g.get("HSF").expansion == "hälso- och sjukvårdsnämndens förvaltning"
    assert g.get("HSL").expansion == "hälso- och sjukvårdslagen"
    sip = g.get("SIP")
    assert sip.expansion == "samordnad individuell vårdplan"
    assert sip.note == "enligt HSL § 3f, SoL 2 kap § 7"
    assert g.get("SLSO").expansion == "Stockholms läns sjukvårdsområde"  # a proper noun keeps its capital
    assert g.get("SLSO").note == "landstingets verksamhet i egen regi"
    assert g.get("SÄBO").expansion == "särskilt boende"
    assert g.get("SoL").expansion == "socialtjänstlagen"
    take_care = g.get("Take Care")
    assert take_care.kind == "concept"
    assert take_care.expansion == "journalsystem som används av landstingsdriven hälso- och sjukvård"
    assert g.get("WebCare").expansion.endswith("inför utskrivning från sluten vård")
    assert all(t.source == "aldrecentrum#begrepp" for t in g.terms)
    assert len(g) == 9


def test_begrepp_list_one_item_per_line() -> None:
    text = "HSF = Hälso- och sjukvårdsförvaltningen\nMAS = Medicinskt ansvarig sjuksköterska\nListan är kort."
    g = docs_only([chunk("d", "begrepp", text, "Begrepp och förkortningar")])
    assert g.get("HSF").expansion == "hälso- och sjukvårdsförvaltningen"
    assert g.get("MAS").expansion == "medicinskt ansvarig sjuksköterska"


def test_nedan_kallad_abbreviations_and_short_names() -> None:
    g = docs_only(CHUNKS[2:5])
    assert g.get("HÖK").expansion == "huvudöverenskommelse"
    assert g.get("HÖK").source == "riktlinje#1"
    assert g.get("VIS").expansion == "politiska styrgruppen för vård i samverkan"
    kommunerna = g.get("kommunerna")
    assert kommunerna.kind == "short_name"
    assert kommunerna.expansion == "kommunerna i Stockholms län"
    assert g.get("regionen").expansion == "Region Stockholm"
    assert g.get("socialtjänstnätverket").expansion == "Storsthlms socialtjänstnätverk"


def test_long_name_before_abbreviation_when_initials_fit() -> None:
    g = docs_only(CHUNKS[4:8])
    assert g.get("HSF").expansion == "hälso- och sjukvårdsförvaltningen"
    assert g.get("SLSO").expansion == "Stockholms länssjukvårdsområde"
    assert g.get("SIP").expansion == "samordnad individuell plan"
    assert g.get("SIP").source == "oversyn#malgrupp"
    assert g.get("LVM").expansion == "lagen om vård av missbrukare i vissa fall"  # SFS number dropped
    assert g.get("LVU").expansion == "lagen med särskilda bestämmelser om vård av unga"
    assert g.get("VGR") is None  # "Västra Götaland": the letters do not fit


def test_initials_that_do_not_fit_are_not_definitions() -> None:
    g = docs_only([CHUNKS[1]])  # "individuell vårdplanering i hemmet (SIP)"
    assert g.get("SIP") is None


def test_forkortning_for() -> None:
    g = docs_only([CHUNKS[-1]])
    assert g.get("BUS").expansion == "barn i behov av särskilt stöd"
    assert g.get("BUS").source == "skr#fotnot"


def test_curated_fallback(glossary: Glossary) -> None:
    lss = glossary.get("LSS")
    assert lss is not None and lss.source == "kurerad"
    assert lss.expansion == "lagen om stöd och service till vissa funktionshindrade"
    assert "Storsthlm" in glossary.get("KSL").note  # the rename is noted
    assert glossary.get("SKL").see_also == ["SKR"]


def test_documents_win_over_curated_and_keep_their_source(glossary: Glossary) -> None:
    vis = glossary.get("VIS")  # curated: "vård i samverkan"
    assert vis.expansion == "politiska styrgruppen för vård i samverkan"
    assert vis.source == "riktlinje#2"
    assert "vård i samverkan" in vis.variants
    # Several document definitions: the one that agrees with the curated entry is chosen,
    # written as the curated entry writes it; the others stay as variants.
    sip = glossary.get("SIP")
    assert sip.expansion == "samordnad individuell plan"
    assert sip.source == "oversyn#malgrupp"
    assert "samordnad individuell vårdplan" in sip.variants
    assert sip.defined_in == ["aldrecentrum#begrepp", "oversyn#malgrupp"]
    assert glossary.get("HSF").source == "riktlinje#5.2"
    assert glossary.get("SoL").abbr == "SoL" and "SOL" in glossary.get("SoL").aliases


def test_extra_curated_file(tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps(
            {
                "terms": [
                    {"abbr": "VIS", "expansion": "vård i samverkan", "prefer_curated": True},
                    {"abbr": "HÖK", "expansion": "något annat"},
                    {"abbr": "ABC", "expansion": "en lokal förkortning"},
                ]
            }
        ),
        encoding="utf-8",
    )
    g = Glossary.build(CHUNKS, extra)
    assert g.get("ABC").expansion == "en lokal förkortning"
    assert g.get("HÖK").expansion == "huvudöverenskommelse"  # the document still wins
    assert g.get("VIS").expansion == "vård i samverkan"  # unless the entry says otherwise
    assert g.get("VIS").source == "kurerad"
    assert g.get("LSS").source == "kurerad"  # the bundled file is still read


def test_usage_index(glossary: Glossary) -> None:
    assert glossary.get("HSL").mentioned_in == ["aldrecentrum#begrepp"]
    assert glossary.get("SIP").mentioned_in == [
        "aldrecentrum#begrepp",
        "aldrecentrum#sip",
        "oversyn#malgrupp",
    ]
    assert glossary.get("LSS").mentioned_in == []


def test_find_case_rules(glossary: Glossary) -> None:
    def abbrs(text: str) -> list[str]:
        return [t.abbr for t in glossary.find(text)]

    assert abbrs("Vad gäller på SÄBO och säbo och Säbo?") == ["SÄBO"]
    assert abbrs("Bor hon på ett sabo?") == ["SÄBO"]  # without å/ä/ö too
    assert abbrs("Gäller det lss och Hsl?") == ["LSS", "HSL"]
    assert abbrs("Vad beslutar VIS om BUS och HÖK?") == ["VIS", "BUS", "HÖK"]
    # Common Swedish words: only as written.
    assert abbrs("På vis och bus såg vi en hök i solen, sol och en lus") == []
    assert abbrs("Enligt SoL och SOL, men inte sol") == ["SoL"]
    assert abbrs("MAS-arna och HÖK:s riktlinje") == ["MAS", "HÖK"]
    assert abbrs("SIPen, MASTER, VISA") == []  # word boundaries
    assert abbrs("Kommunerna och regionen") == ["kommunerna", "regionen"]


def test_expand_query_abbreviation_long_form_and_synonyms(glossary: Glossary) -> None:
    # Without knowledge of the documents every abbreviation expands ...
    bare = Glossary(glossary.terms, glossary.synonyms)
    expanded = bare.expand_query("Vad gäller för säbo?")
    assert expanded.startswith("Vad gäller för säbo? ")
    assert "särskilt boende" in expanded
    # ... built from them, one the documents write at least as often as its long form does not
    # (SÄBO once, "särskilt boende" once here): searching for it as written finds them.
    assert glossary.expand_query("Vad gäller för säbo?") == "Vad gäller för säbo?"
    assert "SIP" in bare.expand_query("Vem kallar till en samordnad individuell plan?")
    assert "samordnade" not in bare.expand_query("Vem kallar till en samordnad individuell plan?")
    assert "samordnad individuell plan" in bare.expand_query("När ska en SIP göras?")
    signed = bare.expand_query("Vem skriver under?")
    assert "underteckna" in signed
    assert "skriva under" not in signed  # same stems as the query: not repeated
    # an adverb between the verb and its particle hides no phrase
    assert "underteckna" in bare.expand_query("Vem skriver normalt under en länsöverenskommelse?")
    assert "underteckna" not in bare.expand_query("Vem skriver normalt en plan under mötet?")
    assert "vårdcentral" in bare.expand_query("ringer vc")
    assert "hälso- och sjukvård i hemmet" in bare.expand_query("Vem har ansvar för hemsjukvården?")
    assert "träder i kraft" in bare.expand_query("Vilket datum gäller från?")
    assert "SKR" in bare.expand_query("Vad gör SKL?")  # renamed
    assert bare.expand_query("Hur ofta?") == "Hur ofta?"
    assert "innehållet i" in bare.expand_query("Vad ska stå i en överenskommelse om missbruk?")


def test_synonym_file_is_general_and_sized() -> None:
    data = json.loads(SYNONYMS_PATH.read_text(encoding="utf-8"))
    groups = data["groups"]
    pairs = sum(len(g) - 1 for g in groups)
    assert 40 <= len(groups) <= 80 and pairs >= 40
    assert all(len(g) >= 2 and len(set(g)) == len(g) for g in groups)
    curated = json.loads(CURATED_PATH.read_text(encoding="utf-8"))["terms"]
    abbrs = {t["abbr"] for t in curated}
    for (
        needed
    ) in "HÖK SIP LUS BUS VIS HSF MAS MAR SÄBO LSS SoL HSL LVU LVM SiS HVB KSL Storsthlm SLSO".split():
        assert needed in abbrs
    assert all(t["expansion"] for t in curated)


def test_explain(glossary: Glossary) -> None:
    assert glossary.explain("SIP") == "SIP (samordnad individuell plan)"
    assert glossary.explain("säbo") == "SÄBO (särskilt boende)"
    assert glossary.explain(glossary.get("LSS")) == (
        "LSS (lagen om stöd och service till vissa funktionshindrade)"
    )
    assert glossary.explain("XYZ") is None


def test_explain_in_first_use_only(glossary: Glossary) -> None:
    text = "En SIP ska göras. Kallelse till SIP skickas av kommunen. LSS-boende och HÖK:s regler."
    assert glossary.explain_in(text) == (
        "En SIP (samordnad individuell plan) ska göras. Kallelse till SIP skickas av kommunen. "
        "LSS-boende (lagen om stöd och service till vissa funktionshindrade) och "
        "HÖK:s (huvudöverenskommelse) regler."
    )
    given = "En samordnad individuell plan (SIP) ska göras. Sedan följs SIP upp."
    assert glossary.explain_in(given) == given
    assert glossary.explain_in("SÄBO (särskilt boende) och regionen") == "SÄBO (särskilt boende) och regionen"
    assert glossary.explain_in("Inget att förklara.") == "Inget att förklara."
    assert glossary.explain_in("Sammanhang (SÄBO, LSS)") == (
        "Sammanhang (SÄBO (särskilt boende), LSS (lagen om stöd och service till vissa funktionshindrade))"
    )


def test_explain_in_never_splits_a_name_that_goes_on_in_the_expansion() -> None:
    g = Glossary([Term("VIS", "politiska styrgruppen för vård i samverkan")])
    # "VIS politiska styrgrupp" names the group itself: no "(...)" between VIS and its name
    named = "Beslut fattas i VIS politiska styrgrupp."
    assert g.explain_in(named) == named
    assert g.explain_in("Frågan lyfts till VIS.") == (
        "Frågan lyfts till VIS (politiska styrgruppen för vård i samverkan)."
    )


def test_explain_in_leaves_web_and_mail_addresses_whole() -> None:
    g = Glossary([Term("Storsthlm", "samarbetsorganisation för kommunerna i Stockholms län")])
    text = "Se www.storsthlm.se eller skriv till info@storsthlm.se; Storsthlm svarar."
    assert g.explain_in(text) == (
        "Se www.storsthlm.se eller skriv till info@storsthlm.se; "
        "Storsthlm (samarbetsorganisation för kommunerna i Stockholms län) svarar."
    )


def test_json_round_trip(glossary: Glossary, tmp_path: Path) -> None:
    again = Glossary.from_json(glossary.to_json())
    assert [t.to_dict() for t in again.terms] == [t.to_dict() for t in glossary.terms]
    assert again.synonyms == glossary.synonyms
    assert again.expand_query("Vem skriver under på säbo?") == glossary.expand_query(
        "Vem skriver under på säbo?"
    )
    path = tmp_path / "glossary.json"
    glossary.save(path)
    assert Glossary.load(path).get("VIS").source == "riktlinje#2"
    with pytest.raises(ValueError):
        Glossary.from_json({"version": 99, "terms": []})


def test_term_and_abbreviation_helpers() -> None:
    assert (
        looks_like_abbreviation("SoL") and looks_like_abbreviation("SÄBO") and looks_like_abbreviation("FoU")
    )
    assert not looks_like_abbreviation("Skåne") and not looks_like_abbreviation("WebCare")
    term = Term("Take Care", "journalsystem", aliases=["TC"])
    assert term.forms == ["Take Care", "TakeCare", "TC"]
    assert Term.from_dict({**term.to_dict(), "unknown": 1}) == term


def test_expansion_only_where_the_documents_use_other_words() -> None:
    docs = [
        chunk("a", "1", "Regionen stödjer de samordnande vårdcentralerna. Den stödjer också kommunerna."),
        chunk("a", "2", "Särskilt boende (SÄBO) beslutas av kommunen. Särskilt boende är en boendeform."),
        chunk("a", "3", "Kommunen utser en samordnande funktion för särskilt boende."),
    ]
    glossary = Glossary.build(docs)
    # staff write "stöttar", the documents "stödjer": the documents' word joins the query
    assert "stödja" in glossary.expand_query("vem stöttar vårdcentralerna?")
    # the question already uses the documents' word: nothing is added
    plain = glossary.expand_query("vem stödjer vårdcentralerna?")
    assert "stötta" not in plain and "ge stöd" not in plain
    # the documents spell SÄBO out more often than they abbreviate it: the long form joins
    assert "särskilt boende" in glossary.expand_query("vad gäller på säbo?")


def test_staff_words_for_ending_an_agreement_find_the_documents_word() -> None:
    # "Ska egenvårdsöverenskommelsen försvinna / tas bort?": the documents say "avveckling"
    glossary = Glossary.build(
        [chunk("d", "a", "Överenskommelsen om egenvård föreslås ses över för avveckling.")]
    )
    for question in ("Ska egenvårdsöverenskommelsen försvinna?", "Ska den tas bort?", "Ska den läggas ner?"):
        assert "avveckling" in glossary.expand_query(question)
