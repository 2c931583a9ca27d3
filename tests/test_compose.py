"""Sentence selection helpers that need no index: answer types and short-answer context."""

from __future__ import annotations

import pytest

from assistant.compose import answer_type_missing, counted_nouns, is_sentence, select_units, split_units
from assistant.types import Source
from avtal.models import Chunk


@pytest.mark.parametrize(
    ("question", "nouns"),
    [
        ("Hur många ledamöter har VIS politiska styrgrupp?", ["ledamoter"]),
        ("Hur många länsövergripande överenskommelser finns det?", ["lansovergripande", "overenskommelser"]),
        ("Hur många har Skåne?", []),  # a follow-up: what is counted is not named
        ("och hur många vill dom ha kvar sen?", []),
        ("Vem ansvarar för SIP?", []),
        ("Till hur många överenskommelser föreslår översynen att de minskas?", ["overenskommelser"]),
        ("hur många sådana överenskommelser har Skåne?", ["sadana", "overenskommelser"]),
        ("har skåne lika många överenskommelser som vi?", ["overenskommelser"]),  # a count compared
    ],
)
def test_counted_nouns(question: str, nouns: list[str]) -> None:
    assert counted_nouns(question) == nouns


@pytest.mark.parametrize(
    ("question", "text", "missing"),
    [
        # a count of the thing asked about, or not
        ("Hur många ledamöter har styrgruppen?", "Styrgruppen har nio ledamöter från kommunerna.", None),
        ("Hur många ledamöter har styrgruppen?", "Styrgruppen leds av en ordförande sedan 2022.", "count"),
        ("Hur många överenskommelser finns?", "I länet finns 17 överenskommelser.", None),
        ("Hur många överenskommelser finns?", "Överenskommelserna reviderades 2019.", "count"),  # a year
        (
            "Hur många överenskommelser finns?",
            "Det finns idag flera överenskommelser i länet.",
            "count",
        ),  # vague
        # the count may follow the noun; a word that merely shares the stem does not count
        ("Hur många överenskommelser finns?", "Länet har många överenskommelser – totalt ett 20-tal.", None),
        (
            "Hur många dagar får det ta?",
            "Daglig verksamhet, undertecknad av landstinget och 19 kommuner.",
            "count",
        ),
        (
            "Hur många rapporter kommer in per år?",
            "Det kommer in cirka 120–130 rapporteringar årligen.",
            None,
        ),
        # money
        ("Vad kostade uppdraget?", "Uppdraget utfördes av Governo AB.", "money"),
        ("Vad kostade uppdraget?", "Uppdraget kostade 450 000 kronor.", None),
        ("Vilka överenskommelser reglerar kostnaderna?", "Tre överenskommelser reglerar kostnader.", None),
        # contact details and opening hours
        ("Vad har vårdcentralen för telefonnummer?", "Vårdcentralen är samordnande.", "contact"),
        ("Vad har vårdcentralen för telefonnummer?", "Ring 08-123 45 67.", None),
        # a phone number or an e-mail address asked for is not given by a web address
        ("Vilket telefonnummer har Storsthlm?", "Läs mer på www.storsthlm.se.", "contact"),
        ("vilken mejladress har sekretariatet?", "Läs mer på www.storsthlm.se.", "contact"),
        ("Vilket telefonnummer har Storsthlm?", "Ring 08-615 94 00 eller se www.storsthlm.se.", None),
        ("Var finns Storsthlms webbplats?", "Läs mer på www.storsthlm.se.", None),
        # what someone pays is money
        ("Hur mycket betalar regionen per insats?", "Regionen ersätter kommunen för insatsen.", "money"),
        # an amount
        ("Hur mycket stimulansmedel fick kommunerna?", "Kommunerna fick stimulansmedel.", "money"),
        ("Hur mycket stimulansmedel fick kommunerna?", "Kommunerna fick 12 miljoner.", None),
        # a place outside the county, or a year, that the answer does not have
        ("Vad säger Skånes överenskommelse om hemsjukvård?", "Regionen ansvarar för hemsjukvården.", "place"),
        ("Hur gör man i Västra Götaland?", "I Västra Götaland finns en gemensam nämnd.", None),
        ("hur funkar det i norrtälje?", "I Norrtälje har KSON samordningsansvaret.", None),  # in the county
        # a municipality of the county the text never names, when one thing there is asked for
        ("vilken vårdcentral samordnar i Huddinge?", "Vårdcentralerna i en kommun utser en.", "place"),
        ("vem utser samordnande vårdcentral i Huddinge?", "Vårdcentralerna i en kommun utser en.", None),
        ("vilken vårdcentral samordnar i Nacka?", "I Nacka är det Boo vårdcentral.", None),
        ("vilken vårdcentral samordnar i Stockholm?", "Vårdcentralerna i en kommun utser en.", None),
        ("Vilka resultat visade uppföljningen 2023?", "Uppföljningen 2021 visade brister.", "year"),
        ("Vilka resultat visade uppföljningen 2021?", "Uppföljningen 2021 visade brister.", None),
        # a frequency
        ("Hur ofta ska vi ha samverkansmöten?", "Samverkansmöten hålls med vårdcentralen.", "frequency"),
        ("Hur ofta ska vi ha samverkansmöten?", "Samverkansmöten hålls två gånger per år.", None),
        ("Hur ofta ska planen ses över?", "Planen ses över vid behov.", None),
        # a time for "när"
        ("När är nästa möte i styrgruppen?", "Styrgruppen har ett gemensamt sekretariat.", "time"),
        ("När ska genomslaget följas upp?", "Cirka ett år efter ikraftträdandet.", None),
        ("När började HÖK gälla?", "Överenskommelsen började gälla 2022-07-01.", None),
        ("När samlas data in?", "Inhämtning av data sker i januari–mars.", None),
        ("Från vilket datum gäller HÖK?", "Nacka Kommun 2022-03-16", "time"),  # a letterhead
        # how to do something, and nothing about doing it
        ("hur loggar man in i WebCare?", "Sjuksköterskor på SÄBO har inte tillgång till WebCare.", "action"),
        ("hur söker man färdtjänst?", "Patienter som ofta besökt akuten är en målgrupp.", "action"),
        ("hur söker man färdtjänst?", "Färdtjänst ansöks hos regionen.", None),
        ("hur rapporterar man ett problem?", "Kommunerna rapporterar problem till Storsthlm.", None),
        ("hur ska vi göra?", "Kommunerna rapporterar problem till Storsthlm.", None),
        # a system's name, not one the question already says
        ("vilket journalsystem ska vi använda?", "Journalsystemen måste samordnas.", "name"),
        ("vilket journalsystem ska vi använda?", "I hemtjänsten används WebCare.", None),
        ("Vilken AI-tjänst användes?", "Analysen gjordes delvis med stöd av generativ AI.", "name"),
        # a person's name
        ("vem e ordförande i VIS just nu?", "Den politiska styrgruppen lämnar en rekommendation.", "person"),
        ("Vem var projektledare för översynen?", "Åtgärderna leds av en ansvarig projektledare.", "person"),
        ("Vem var projektledare för översynen?", "Projektet leddes av Anna Berg på Storsthlm.", None),
        ("Vem är kontaktperson för samverkan?", "Kommunens samordnande funktion är kontaktperson.", None),
        # a coming event has a date
        ("När är nästa samverkansmöte?", "Mötet hålls när vårdcentralen kallar.", "time"),
        ("När är nästa uppföljning?", "Nästa uppföljning görs i mars 2099.", None),
        ("när e nästa samverkansmöte?", "Rutinerna förtydligades våren 2013.", "time"),  # a past date
        # the date of another body's decision
        (
            "Vilket datum beslutade kommunstyrelsen att anta HÖK?",
            "Storsthlms styrelse beslutade den 14 oktober 2021. Kommunstyrelsen föreslås anta den.",
            "actor",
        ),
        (
            "När beslutade Storsthlms styrelse om HÖK?",
            "Storsthlms styrelse beslutade den 14 oktober 2021.",
            None,
        ),
        # a day asked for, and only a year given
        ("Vilket datum fattades beslutet?", "Beslutet kan fattas under 2025.", "time"),
        ("Vilket datum fattades beslutet?", "Beslutet fattades den 14 oktober 2021.", None),
        # a sum asked for, and only a date ("1 mars 2013" is no amount)
        ("Hur mycket får mottagningen i ersättning per möte?", "Ersättningen infördes 1 mars 2013.", "money"),
        ("Hur mycket stimulansmedel fick länet?", "Medlen betalades ut 1 mars 2013.", "money"),
        ("Hur mycket stimulansmedel fick länet?", "Länet fick 40 miljoner i stimulansmedel.", None),
        ("Hur stort belopp får mottagningen per möte?", "Mottagningen får en särskild ersättning.", "money"),
        ("Från vilket datum gäller HÖK?", "Överenskommelsen gäller från 2022-07-01.", None),
        ("Vilket datum är tjänsteskrivelsen skriven?", "Nacka Kommun 2022-03-16", None),
        # a duration
        ("Hur länge gäller överenskommelsen?", "Den gäller därefter tills vidare.", None),
        ("Hur lång tid tar beslutet?", "Beslutsprocessen tar 6–9 månader.", None),
        ("Hur länge gäller handlingsplanen?", "Handlingsplanen är sjuårig.", None),
        ("hur lång tid sen infördes ersättningen?", "Ersättningen infördes 1 mars 2013.", None),
        ("hur lång är kön till säbo?", "Många äldre var oroliga inför hemgången från sjukhuset.", "duration"),
        # a municipality of the county
        (
            "Vilka kommuner ingår i området?",
            "Styrelsen och respektive kommun har fyra möten per år.",
            "municipality",
        ),
        ("Vilken kommun har Boo vårdcentral?", "I Nacka är det Boo vårdcentral som samordnar.", None),
        ("Vilka kommuner har antagit HÖK?", "Samtliga kommuner har antagit överenskommelsen.", None),
        # one municipality asked for: "länets kommuner" names none
        ("Vilken kommun har inte antagit HÖK?", "Den antogs av 25 av länets kommuner.", "municipality"),
        ("Vilken kommun har inte antagit HÖK?", "Den antogs av alla utom Vaxholm.", None),
        # which ones have not: the exceptions named, or none; not "kommunerna i Stockholms län"
        (
            "Vilka kommuner i länet har inte antagit HÖK?",
            "Styrelsen rekommenderade kommunerna i Stockholms län att anta den.",
            "municipality",
        ),
        ("Vilka kommuner har inte antagit HÖK?", "Samtliga kommuner har antagit HÖK.", None),
        ("Vilka kommuner har inte antagit HÖK?", "Alla utom Vaxholm har antagit den.", None),
        # state funds are money; medicines are not
        ("Hur mycket statliga stimulansmedel fick länet 2023?", "2023 jämfördes tre län.", "money"),
        ("Hur mycket läkemedel får man ge?", "Man får ge tre doser.", None),
        # a salary is money; a direct number is a contact detail, a diarienummer is not
        ("Vad har en MAS i Nacka för lön ungefär?", "MAS i Nacka är medicinskt ansvarig.", "money"),
        ("Vad är direktnumret till Boo vårdcentral?", "I Nacka är det Boo vårdcentral.", "contact"),
        ("Vilket diarienummer har tjänsteskrivelsen?", "Dnr ÄLN 2021/194.", None),
        ("vad har tjänsteskrivelsen för dnr?", "Äldrenämnden föreslår att HÖK antas.", "case_number"),
        # a person's name asked for: a place written twice ("i Nacka Nacka kommun") names no one
        ("vem e mas i nacka nu?", "KomSam i Nacka Nacka kommun och Nackageriatriken.", "person"),
        ("vem e mas i nacka nu?", "MAS i Nacka är Anna Svensson sedan 2020.", None),
        # who holds a role in one municipality (or "hos oss") is a person, not a role
        ("vem e MAS i nacka?", "En MAS efterlyser enhetliga rutiner för avvikelser.", "person"),
        ("vem är samordnare hos oss?", "Samordnaren kallar till möten.", "person"),
        ("vem e MAS i nacka?", "MAS i Nacka är Anna Svensson sedan 2020.", None),
        ("vem är MAS?", "MAS är medicinskt ansvarig sjuksköterska.", None),
        # a role given without its holder's name: "vem är utsedd ..." asks for the person
        ("Vem är utsedd projektledare?", "Projektet leds av en ansvarig projektledare.", "person"),
        ("vem har utsetts till ordförande?", "Ordförande väljs av styrgruppen.", "person"),
        ("Vem är utsedd projektledare?", "Projektledare är Karin Berg sedan 2024.", None),
        ("vem är samordnande vårdcentral i Nacka?", "I Nacka är det Boo vårdcentral.", None),
        # when something takes effect: a date of something else does not say it
        (
            "När börjar den reviderade överenskommelsen att gälla?",
            "Underlag: - Förstudie regional överenskommelse – slutleverans från Bearing point AB 2022",
            "time",
        ),
        ("När började HÖK gälla?", "Huvudöverenskommelsen började gälla i september 2022.", None),
        ("När träder lagen i kraft?", "Den 1 juli 2025 träder en helt ny lag i kraft.", None),
        # what a study found: not given by a text that says it is to come, or never speaks of it
        ("Vad visade utvärderingen?", "ARC kommer under 2014 att redovisa en utvärdering.", "result"),
        ("Vad kom utvärderingen fram till?", "Behovet av stöd i hemmet är stort.", "result"),
        ("Vad visade enkäten?", "Av enkäten framgår att 12 av 17 kommuner har delegering.", None),
        # questions that ask for none of these
        ("Vem kallar till samverkansmöten?", "Den samordnande vårdcentralen kallar.", None),
    ],
)
def test_answer_type_missing(question: str, text: str, missing: str | None) -> None:
    assert answer_type_missing(question, text) == missing


def test_what_tells_when() -> None:
    from assistant.compose import tells_when, type_match

    assert not type_match("when", "enligt socialtjänstlagen (SFS 2001:453) och prop. 2008/09:193")
    assert type_match("when", "Lagen trädde i kraft 2010.") and type_match("when", "under våren 2014")
    assert tells_when("Cirka ett år efter ikraftträdandet.") and tells_when("Den gäller tills vidare.")
    assert not tells_when("Vid workshopen framfördes ett antal förslag.")


def _source(text: str, heading: str = "H") -> Source:
    chunk = Chunk(
        doc_id="d",
        anchor="1",
        title="T",
        doc_type=None,
        date=None,
        section="1",
        heading=heading,
        heading_path=[heading],
        pages=[1],
        text=text,
        original_text=text,
        order=0,
    )
    return Source(chunk=chunk, score=1.0)


def test_the_sentence_after_the_best_is_shown_but_is_not_evidence() -> None:
    from assistant.compose import Idf

    text = (
        "Kommunen utser en samordnande funktion för hälso- och sjukvården. "
        "Funktionen kan vara en eller flera personer med kunskap om verksamheten. "
        "Regionen ansvarar för husläkarverksamheten."
    )
    source = _source(text)
    idf = Idf([source.chunk])
    sel = select_units(source, ["samordn", "funktion"], "other", idf, 60, False)
    assert sel is not None
    assert [u.text for u in sel.units] == [split_units(text)[0].text]
    assert [u.text for u in sel.extra] == [split_units(text)[1].text]
    assert sel.quote == text[: sel.shown[-1].end]  # the quote covers what is shown
    # no room in the budget: nothing extra
    tight = select_units(source, ["samordn", "funktion"], "other", idf, 10, False)
    assert tight is not None and tight.extra == []


def test_what_is_left_of_the_budget_shows_more_of_the_clause_but_is_not_evidence() -> None:
    from assistant.compose import Idf

    text = (
        "Kommunen utser en samordnande funktion för hälso- och sjukvården. "
        "Regionen ansvarar för husläkarverksamheten. "
        "Uppdraget kan delas av flera personer. "
        "Funktionen har stöd av Storsthlm."
    )
    source = _source(text)
    sel = select_units(source, ["samordn", "funktion"], "other", Idf([source.chunk]), 60, False)
    assert sel is not None
    units = split_units(text)
    assert [u.text for u in sel.units] == [units[0].text]
    # the next sentence, then the one that shares the question's words; not the one that does not
    assert [u.text for u in sel.extra] == [units[1].text, units[3].text]


def test_a_who_question_is_shown_the_sentence_that_names_who_appoints() -> None:
    # "utses av" tells who, as "utser" does: with the budget left after the best sentence, the
    # sentence that names the appointer goes before a longer one that only shares words
    from assistant.compose import Idf, query_stems

    text = (
        "Grupperna bemannas av representanter för kommunerna och regionen. "
        "Personer med kunskap inom kommunernas och regionens verksamheter finns att tillgå som stöd "
        "till grupperna när det behövs för uppdraget och dess många olika delar i länet. "
        "Kommunernas representanter utses av socialtjänstnätverket."
    )
    source = _source(text)
    stems = query_stems(["kommunernas", "regionens", "representanter", "grupperna"])
    sel = select_units(source, stems, "who", Idf([source.chunk]), 30, False)
    assert sel is not None
    assert "Kommunernas representanter utses av socialtjänstnätverket." in [u.text for u in sel.shown]


def test_the_source_of_a_quote_closes_the_sentence_before_it() -> None:
    text = (
        "Det är ännu inte verkställt, trots att det gått fem år sedan beslutet. (intervju handläggare HSF) "
        "För säbos del borde sjuksköterskorna ha tillgång. (kommentar MAS-enkäten)\n"
        "Nästa steg (SIP) är viktigt.\n"
        "Behovet är stort menade utredaren. (Uvhagen 2010) KomSam i Nacka startade 2011. "
        "Det stärkte samarbetet. (Österman & Karp 2012)"
    )
    units = [u.text for u in split_units(text)]
    assert units == [
        "Det är ännu inte verkställt, trots att det gått fem år sedan beslutet. (intervju handläggare HSF)",
        "För säbos del borde sjuksköterskorna ha tillgång. (kommentar MAS-enkäten)",
        "Nästa steg (SIP) är viktigt.",
        # a reference to a work, too
        "Behovet är stort menade utredaren. (Uvhagen 2010)",
        "KomSam i Nacka startade 2011.",
        "Det stärkte samarbetet. (Österman & Karp 2012)",
    ]
    assert all(u.text == text[u.start : u.end] for u in split_units(text))


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        # what someone is to do: usually a list of tasks
        ("Vad gör kommunens samordnande funktion?", "task"),
        ("Vilka uppgifter har sekretariatet?", "task"),
        ("okej men vad e det den personen ska göra då?", "task"),  # not what "den personen" is
        ("ok och vad ska dom göra då?", "task"),
        ("Vad gör jag om brukaren vägrar ta sina mediciner?", "other"),
        ("vad e SIP?", "definition"),
        ("Hur ofta följs HÖK upp?", "how_often"),
        ("Vad betyder SIP?", "definition"),
        ("varför finns det en riktlinje till HÖK?", "why"),
        ("Vad är syftet med samrådsgrupperna?", "why"),
        ("Vilka månader samlas data in?", "when"),
        ("Sedan när gäller skyldigheten?", "when"),
        ("Vad bör stå i inledningen?", "list"),
        ("vem pekar ut vilka som sitter med i samrådsgrupperna?", "who"),  # who, not a list
        ("Vilka utser kommunernas representanter i samrådsgrupperna?", "who"),  # a verb: who does it
        ("Vilka ansvarar för uppföljningen?", "who"),
        ("Vilka samrådsgrupper finns?", "list"),  # a noun: which of them
        ("ok och när på året samlar man in data då?", "when"),
        ("sen när är det lag på det?", "when"),
        ("hur lång tid sen var det man bestämde det?", "when"),  # how long ago: a date answers
        # "när" and a verb after a comma asks when; "när" and a subject tells of an occasion
        ("o spel om pengar då, när kom det in?", "when"),
        ("Vem ansvarar, när patienten skrivs ut?", "who"),
        ("har Skåne lika många överenskommelser som Stockholm?", "how_many"),
        ("Hur beskriver SKR en handlingsplan?", "definition"),
        ("Hur skiljer SKR på en rutin och en riktlinje?", "definition"),
        # several things, as the documents list them
        ("vad är exempel på uppgifter som dsk kan delegera?", "list"),
        ("vad för uppgifter får vi göra på delegering?", "list"),
        ("Vad föreslår SKR ska finnas med i en överenskommelse om missbruk?", "list"),
        ("Vad föreslår översynen att funktionen ska ansvara för?", "list"),
        ("Vem ska ansvara för uppföljningen?", "who"),
    ],
)
def test_question_type(question: str, kind: str) -> None:
    from assistant.compose import question_type

    assert question_type(question) == kind


def _best(text: str, question: str, max_words: int = 60) -> str:
    from assistant.compose import Idf, query_stems, question_type
    from assistant.retrieval import content_words

    source = _source(text)
    qtype = question_type(question)
    stems = query_stems(content_words(question))
    sel = select_units(source, stems, qtype, Idf([source.chunk]), max_words, False)
    assert sel is not None
    return " ".join(u.text for u in sel.units)


def test_a_how_many_question_takes_the_sentence_with_a_number() -> None:
    text = (
        "En textanalys har granskat hur lagar och förordningar hänvisas till i överenskommelserna. "
        "Totalt har elva olika lagar citerats i åtta av överenskommelserna."
    )
    # the first sentence has every word of the question, but no count (room for one sentence only)
    assert _best(text, "Hur många lagar hänvisar överenskommelserna till?", 12).startswith("Totalt har elva")


def test_a_date_or_number_is_taken_with_the_sentence_before_it_that_says_what_of() -> None:
    text = (
        "Överenskommelserna omfattar tre målgrupper. "
        "Personer som missbrukar alkohol eller spel om pengar omfattas av 5 kap. SoL. "
        "Lagstadgat sedan 2013. "
        "Barn och unga som vårdas utanför hemmet omfattas också."
    )
    answer = _best(text, "Sedan när gäller skyldigheten för dem som missbrukar spel?")
    assert answer.startswith("Personer som missbrukar") and answer.endswith("sedan 2013.")
    # or the first sentence of its paragraph says what the figure is of
    text = (
        "Tre län har jämförts. Stockholm har flest, 17 stycken.\n"
        "I Skåne finns ett övergripande avtal om ansvar. Syftet är att stärka vården. "
        "Därtill finns det åtta samverkansöverenskommelser.\n"
        "I Halland finns ett avtal om hemsjukvård."
    )
    answer = _best(text, "Hur många överenskommelser har Skåne?", 40)
    assert answer.startswith("I Skåne finns") and answer.endswith("åtta samverkansöverenskommelser.")
    assert "Syftet" not in answer
    # a bare month range under a step of a process
    steps = "Uppföljningen sker i fyra steg.\nInhämtning och sammanställning av data\n(januari-mars)"
    assert _best(steps, "Vilka månader sammanställs data?").endswith("(januari-mars)")


def test_a_definition_carried_on_by_a_list_takes_the_whole_list() -> None:
    text = (
        "Enheten välkomnar överenskommelsen. Den bidrar till Nära vård som innebär ett nytt arbetssätt. "
        "I Nära vård\n"
        "- utgår man från patientens förutsättningar och behov.\n"
        "- bygger man på relationer och är förebyggande.\n"
        "- bidrar man till jämlik hälsa, trygghet och självständighet för alla.\n"
        "Enheten rekommenderar nämnden att anta överenskommelsen."
    )
    answer = _best(text, "Vad innebär Nära vård?", 20)  # the list is given beyond the word budget
    assert answer.startswith("Den bidrar") and "relationer" in answer and "jämlik hälsa" in answer
    assert "rekommenderar" not in answer


def test_definitions_the_documents_give_in_their_own_words() -> None:
    from assistant.compose import defined_terms, definition_target

    text = (
        "Följande definitioner används.\n"
        "- Rutiner: En rutin beskriver hur aktiviteter ska utföras.\n"
        "- Regional riktlinje: En riktlinje är ett dokument med anvisningar.\n"
        "- Struktur och tillgänglighet: Det finns 17 överenskommelser av varierande kvalitet.\n"
        "Med lokal nivå avses en enskild kommun."
    )
    assert [stems for stems, _ in defined_terms(text)] == [
        ["rutin"],
        ["regional", "riktlinj"],
        ["lokal", "niv"],
    ]
    assert definition_target("Hur definieras en samverkansöverenskommelse i SKR:s begreppslista?") == (
        "en samverkansöverenskommelse"
    )
    assert definition_target("Vad står SIP för?") == "SIP"
    assert definition_target("vad e en rutin egentligen?") == "en rutin"
    # how two terms differ asks about both
    assert (
        definition_target("vad e skillnaden på en rutin o en riktlinje egentligen")
        == "en rutin o en riktlinje"
    )
    assert definition_target("Hur skiljer SKR:s material på en rutin och en riktlinje?") == (
        "en rutin och en riktlinje"
    )
    # the defining entry alone answers, not the whole list it stands in
    assert _best(text, "vad är en rutin?") == "- Rutiner: En rutin beskriver hur aktiviteter ska utföras."


def test_a_derived_form_of_a_question_word_counts_for_the_sentence() -> None:
    text = (
        "Dialog sker årligen mellan parterna om hur väl överenskommelsen bidrar till målen. "
        "Det gemensamma sekretariatet ansvarar för planeringen av dialogen."
    )
    # "planerar" (stem plan) and "planeringen" (stem planering) are one word for the reader
    assert _best(text, "Vem planerar dialogen mellan parterna?", 12).startswith(
        "Det gemensamma sekretariatet"
    )


def test_a_numbered_point_is_no_count() -> None:
    from assistant.compose import type_match

    assert not type_match("how_many", "9. Det är önskvärt att kunna erbjuda team.")
    assert not type_match("how_many", "Nacka kommun 2022-03-16")
    assert not type_match("how_many", "I september 2022 trädde HÖK i kraft.")  # a year
    # the sentence that counts what is asked about goes before one with another number
    text = (
        "Samverkan i länet har länge reglerats av överenskommelser sedan 2010.\n"
        "Översynen visar:\n- Struktur: Det finns 17 överenskommelser av varierande kvalitet."
    )
    assert "17 överenskommelser" in _best(text, "Hur många överenskommelser finns det i länet?")
    assert type_match("how_many", "Det finns 17 överenskommelser.")
    # "ingå" folds to "inga" (none), which is a count; the verb is not
    question = "Hur många rapporter tog Storsthlm emot?"
    assert answer_type_missing(question, "Det ska ingå en rapport om uppföljning 2023.") == "count"
    assert answer_type_missing(question, "Storsthlm tog emot inga rapporter.") is None


def test_the_sentence_that_counts_what_is_asked_answers_a_how_many_question() -> None:
    from assistant.compose import Idf, query_stems, question_type
    from assistant.retrieval import content_words

    # the first sentence has every word of the question but no count; the item counts them
    text = (
        "Samverkan i Stockholms län har länge reglerats av länsövergripande överenskommelser.\n\n"
        "Översynen visar:\n\n"
        "- Struktur: Det finns 17 överenskommelser av varierande omfattning och kvalitet.\n\n"
        "- Styrning: Ansvar för förvaltning saknas i många av dem."
    )
    question = "Hur många länsövergripande överenskommelser har Stockholms län?"
    source = _source(text)
    stems = query_stems(content_words(question))
    sel = select_units(
        source, stems, question_type(question), Idf([source.chunk]), 60, False, (), counted_nouns(question)
    )
    assert sel is not None
    assert any("17 överenskommelser" in u.text for u in sel.units)


def test_the_line_with_the_case_number_answers_which_case_number() -> None:
    from assistant.compose import Idf, asked_thing, query_stems, question_type
    from assistant.retrieval import content_words

    text = "Dnr: ÄLN 2021/194\n\nHuvudöverenskommelse om samverkan kring hälsa, vård och omsorg, HÖK"
    question = "Vilket diarienummer har tjänsteskrivelsen om HÖK?"
    source = _source(text)
    stems = query_stems(content_words(question))
    qtype = question_type(question)
    idf = Idf([source.chunk])
    plain = select_units(source, stems, qtype, idf, 60, False)
    asked = select_units(source, stems, qtype, idf, 60, False, holds=asked_thing(question))
    assert plain is not None and asked is not None
    assert [u.text for u in plain.units] == [
        "Huvudöverenskommelse om samverkan kring hälsa, vård och omsorg, HÖK"
    ]
    assert [u.text for u in asked.units] == ["Dnr: ÄLN 2021/194"]
    assert asked_thing("Vem ansvarar för HÖK?") is None


def test_a_list_run_into_a_sentence_answers_a_which_question() -> None:
    from assistant.compose import Idf, query_stems, question_type
    from assistant.retrieval import content_words

    # the first sentence (a title run into it) has more of the question's words; the second
    # enumerates the "målgrupper" asked for after a colon, its bullets lost in extraction
    text = (
        "Stöd vid framtagande av lagstadgade överenskommelser för vissa målgrupper Enligt planen ska "
        "kommuner och regioner få stöd i arbetet med att utveckla samverkan kring individer med behov av "
        "samordnade insatser från båda huvudmännen och att kartlägga hur de lagstadgade överenskommelser "
        "som huvudmännen är skyldiga att ingå används. De överenskommelser som kommuner "
        "och regioner ska upprätta rör målgrupperna: personer med psykisk funktionsnedsättning personer "
        "som missbrukar alkohol barn och unga som vårdas utanför det egna hemmet"
    )
    question = "Vilka målgrupper måste kommuner och regioner enligt lag ha överenskommelser för?"
    source = _source(text)
    sel = select_units(
        source, query_stems(content_words(question)), question_type(question), Idf([source.chunk]), 60, True
    )
    assert sel is not None and sel.score > 0
    # within the word budget, the list is what the answer shows
    assert "utanför det egna hemmet" in " ".join(u.text for u in sel.shown)


def test_what_counts_as_a_count_of_what_is_asked() -> None:
    from assistant.compose import _count_of

    # "avtal" and "samtal" end like "ett 20-tal" but count nothing
    assert not _count_of(
        "KSL tar fram ett paraply för övriga avtal. De nuvarande avtalen är luddiga.", ["avtal"]
    )
    assert _count_of("Det finns ett 20-tal avtal.", ["avtal"]) and _count_of(
        "Där finns sju avtal.", ["avtal"]
    )
    # counted in another word for the same thing: a synonym, or a compound of it
    assert answer_type_missing("hur många avtal finns det?", "Det finns 17 överenskommelser.") == "count"
    counted = ["avtal", "överenskommelse"]
    assert (
        answer_type_missing("hur många avtal finns det?", "Det finns 17 överenskommelser.", "", counted)
        is None
    )
    assert _count_of("Därtill finns det åtta samverkansöverenskommelser.", ["överenskommelser"])


def test_a_why_question_takes_the_sentence_with_a_reason() -> None:
    text = (
        "Huvudöverenskommelsen antogs av kommunstyrelsen i mars. "
        "Huvudöverenskommelsen behövs för att parterna ska samordna sina insatser."
    )
    assert _best(text, "Varför behövs huvudöverenskommelsen?", 12).endswith("samordna sina insatser.")


@pytest.mark.parametrize(
    ("text", "noise"),
    [
        # a flow chart run through OCR: box labels, arrows and stray letters
        (
            "Rapport Rapport Kommun regionen (formulär) (e-post) Parterna ansvarar för att ersätter t t "
            "läsa problem s långt _—_———mm e e e e Lokal samverkansnivå Kommun <:> Region 11 (1)",
            True,
        ),
        ("Kommunerna rapporterar problem i samverkan till Storsthlm, se www.storsthlm.se.", False),
        ("Parterna – kommunen och regionen – ansvarar för 7.1.2 i samverkan (se § 3 och bilaga 1).", False),
        ("- a) bakgrund, b) syfte och c) målgrupp", False),
    ],
)
def test_diagram_text_is_noise_and_prose_is_not(text: str, noise: bool) -> None:
    from assistant.compose import is_noise

    assert is_noise(text) is noise


def test_noise_is_never_chosen_or_shown() -> None:
    text = (
        "Kommunerna rapporterar problem i samverkan till Storsthlm. "
        "Rapport Rapport problem samverkan t t s _—_———mm e e e e Kommun <:> Region 11 (1)"
    )
    source = _source(text)
    from assistant.compose import Idf

    sel = select_units(source, ["rapport", "problem", "samverkan"], "other", Idf([source.chunk]), 60, False)
    assert sel is not None
    assert all("<:>" not in u.text for u in sel.shown)


def test_a_year_or_place_in_the_clause_or_document_counts() -> None:
    question = "Vad kom Äldrecentrum fram till 2013 om avvikelser?"
    sentence = "Avvikelser rapporteras sällan mellan huvudmännen."
    assert answer_type_missing(question, sentence) == "year"
    assert answer_type_missing(question, sentence, context="Uppföljning av samverkan 2013-05-01") is None


def test_quotes_leave_out_the_sentences_the_answer_skips() -> None:
    from assistant.compose import Selection

    text = (
        "Kommunen utser en samordnande funktion. Regionen ansvarar för husläkarna. "
        "Funktionen kallar till lokala möten.\n\n- en punkt"
    )
    source = _source(text)
    units = split_units(text)
    chosen = Selection(source, [units[0], units[2]], 1.0)
    assert chosen.quote == text[: units[2].end]  # one span, with the skipped sentence inside
    assert chosen.quotes == [units[0].text, units[2].text]
    together = Selection(source, [units[0], units[1]], 1.0)
    assert together.quotes == [text[: units[1].end]]  # adjacent sentences: one run


def test_a_which_question_takes_the_list_that_enumerates_what_it_names() -> None:
    from assistant.compose import Idf

    text = (
        "Samrådsgruppernas syfte är att\n- förvalta samrådsgruppens överenskommelser\n"
        "- följa upp samrådsgruppens arbete\n\n"
        "Vid tidpunkten finns följande samrådsgrupper:\n- Barn och unga\n- Äldres hälsa\n\n"
        "Sekretariatet ansvarar för:\n- planering av samrådsgruppernas möten\n- uppföljning av samrådsgrupper"
    )
    source = _source(text)
    sel = select_units(source, ["samradsgrupp"], "list", Idf([source.chunk]), 60, True)
    assert sel is not None
    assert [u.text for u in sel.units] == [
        "Vid tidpunkten finns följande samrådsgrupper:",
        "- Barn och unga",
        "- Äldres hälsa",
    ]


def test_a_list_whose_lead_in_is_about_something_else_does_not_answer_a_which_question() -> None:
    from assistant.compose import Idf, query_stems

    text = (
        "Tjänstemannastyrgruppen har ett sammanhållande sekretariat med resurser från regionen. "
        "Tjänstemannastyrgruppens uppdrag är att besluta om länsgemensamma riktlinjer.\n"
        "Sekretariatet ansvarar för:\n- bereda underlag till tjänstemannastyrgruppen\n"
        "- uppdrag till arbetsgrupper"
    )
    source = _source(text)
    stems = query_stems(["uppgifter", "tjanstemannastyrgruppens", "uppdrag"])
    sel = select_units(source, stems, "list", Idf([source.chunk]), 60, True)
    assert sel is not None
    chosen = [u.text for u in sel.units]
    assert "Tjänstemannastyrgruppens uppdrag är att besluta om länsgemensamma riktlinjer." in chosen
    assert all(u.kind == "sentence" for u in sel.shown)
    # "följande delar föreslås ingå:" enumerates parts, not what "ingå" asks about
    from assistant.compose import _enumerates

    assert not _enumerates("Följande delar föreslås ingå:", query_stems(["parter", "ingar"]))
    assert _enumerates("Det finns följande tre samrådsgrupper:", query_stems(["samradsgrupper"]))
    # a list run into a sentence, of a compound of what is asked, or with it as the subject
    inline = "De samverkansöverenskommelser som kommuner ska upprätta rör målgrupperna: personer med"
    assert _enumerates(inline, query_stems(["grupper"]), inline=True)
    assert _enumerates(inline, query_stems(["overenskommelser"]), inline=True)
    assert not _enumerates(inline, query_stems(["kommuner"]), inline=True)
    other = "Kommunerna har två uppgifter: att samordna"
    assert not _enumerates(other, query_stems(["grupper"]), inline=True)


def test_the_next_entry_of_a_term_list_is_not_shown_as_context() -> None:
    from assistant.compose import Idf

    text = "SIP = Samordnad individuell vårdplan enligt HSL\nSLSO = Stockholms läns sjukvårdsområde"
    source = _source(text)
    sel = select_units(source, ["sip", "samordn"], "definition", Idf([source.chunk]), 60, False)
    assert sel is not None
    assert [u.text for u in sel.shown] == ["SIP = Samordnad individuell vårdplan enligt HSL"]


def test_the_reranker_counts_derived_forms_in_headings_and_sentences() -> None:
    from assistant.compose import Idf, query_stems
    from assistant.rerank import FEATURES, features
    from index.lexical import stem_tokens

    source = _source(
        "Översynen föreslår att antalet överenskommelser minskas.", heading="Föreslagna åtgärder"
    )
    stems = query_stems(["atgarder", "foreslar"])
    idf = Idf([source.chunk])
    x = features(
        source,
        1.0,
        stems,
        [],
        set(stem_tokens("Föreslagna åtgärder Översynen föreslår att antalet överenskommelser minskas.")),
        set(stem_tokens("Föreslagna åtgärder")),
        idf,
        unit_stems=[u.stems for u in split_units(source.chunk.text)],
    )
    # "föreslagna" in the heading is "föreslår" in the question: it counts, two thirds
    assert x[FEATURES.index("coverage_heading")] == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hur går arbetet till när överenskommelser tas fram?", "other"),  # "när" joins, it does not ask
        ("Vad gör man först när en ny överenskommelse ska tas fram?", "other"),
        ("och när började den gälla?", "when"),
        ("Stämmer dokumenten överens om när HÖK trädde i kraft?", "when"),
        # which years, for several things at once
        ("Sedan vilka år är de tre lagstadgade överenskommelserna obligatoriska?", "when"),
        ("Vilket år kom HÖK?", "when"),
    ],
)
def test_when_asks_only_at_the_start(question: str, kind: str) -> None:
    from assistant.compose import question_type

    assert question_type(question) == kind


def test_numbered_points_are_list_items() -> None:
    from assistant.compose import Idf

    text = (
        "Följande beslut behöver fattas:\n\n"
        "1. Standardiserade typer av samverkansdokument. 2. Mall för överenskommelse. "
        "3. Former för uppföljning.\n\n"
        "Processen omfattar följande steg:\n\n1. Gemensam arbetsgrupp – en arbetsgrupp bildas.\n\n"
        "2. Beredning i tjänstestyrgrupp – förslaget bereds.\n\nDärefter fattas beslut. 6."
    )
    units = split_units(text)
    assert [u.text for u in units if u.kind == "item"] == [
        "1. Standardiserade typer av samverkansdokument.",
        "2. Mall för överenskommelse.",
        "3. Former för uppföljning.",
        "1. Gemensam arbetsgrupp – en arbetsgrupp bildas.",
        "2. Beredning i tjänstestyrgrupp – förslaget bereds.",
    ]
    assert all(text[u.start : u.end] == u.text for u in units)
    assert [u.noise for u in units if u.text == "6."] == [True]  # a stray number is never shown
    source = _source(text)
    sel = select_units(source, ["steg", "process"], "list", Idf([source.chunk]), 60, True)
    assert sel is not None and [u.kind for u in sel.units] == ["lead", "item", "item"]


def test_a_numbered_list_run_into_its_announcing_sentence_is_a_list() -> None:
    text = (
        "I rapporten 2011 lämnades sju rekommendationer till huvudmännen att gemensamt: "
        "1. ta fram tydliga överenskommelser 2. säkerställa avvikelserapportering "
        "3. enas om regeltolkningar\n"
        "Vi har 2 kap. och: 1. ett enda. Sedan inget mer."
    )
    units = split_units(text)
    assert [(u.kind, u.text) for u in units[:4]] == [
        ("lead", "I rapporten 2011 lämnades sju rekommendationer till huvudmännen att gemensamt:"),
        ("item", "1. ta fram tydliga överenskommelser"),
        ("item", "2. säkerställa avvikelserapportering"),
        ("item", "3. enas om regeltolkningar"),
    ]
    assert all(u.kind == "sentence" for u in units[4:])  # a lone "1." after a colon is no list
    assert all(text[u.start : u.end] == u.text for u in units)


def test_a_question_that_does_not_ask_for_a_list_gets_its_point_of_a_long_list() -> None:
    from assistant.compose import Idf, query_stems

    filler = " ".join(["Texten beskriver arbetet med överenskommelserna i länet."] * 3)
    text = "Översynen föreslår följande åtgärder:\n" + "\n".join(
        [f"{n}. Åtgärd nummer {n}. {filler}" for n in range(1, 6)]
        + ["6. Följ upp genomslaget cirka ett år efter ikraftträdandet."]
    )
    source = _source(text)
    stems = query_stems(["folja", "upp", "genomslaget"])
    sel = select_units(source, stems, "when", Idf([source.chunk]), 60, False)
    assert sel is not None
    shown = [u.text for u in sel.shown]
    assert "6. Följ upp genomslaget cirka ett år efter ikraftträdandet." in shown
    assert sum(len(t.split()) for t in shown) <= 60  # not the whole list


def test_known_words_include_compounds_and_other_forms_of_corpus_words() -> None:
    from assistant.compose import Idf

    text = "Omvärlden förändras. Rapporten har jämfört länen och gjort en analys av spel enligt bestämmelser."
    idf = Idf([_source(text).chunk])
    assert idf.is_known_word("spelanalys")  # a compound of two corpus words
    assert idf.is_known_word("omvarldsanalysen")  # a first part known by its stem ("omvärld-en")
    # another form of a corpus word counts only when asked for: a typo at a word's end looks the same
    assert not idf.is_known_word("jamfordes") and idf.is_known_word("jamfordes", other_forms=True)
    assert idf.is_known_word("bestamde", other_forms=True)  # "bestämde" and "bestämmelser"
    assert not idf.is_known_word("vaccinationer", other_forms=True)
    assert not idf.is_known_word("jamka", other_forms=True)  # too short to be read as another form


def test_a_compound_the_documents_write_apart_has_its_two_words_as_parts() -> None:
    from assistant.compose import Idf
    from index.lexical import stem_tokens

    text = "Överenskommelsen om egenvård ses över. Spel om pengar och beroende ingår."
    idf = Idf([_source(text).chunk])
    (compound,) = stem_tokens("egenvårdsöverenskommelsen")
    assert compound not in idf.known
    assert idf.compound_parts(compound) == (*stem_tokens("egenvård"), *stem_tokens("överenskommelsen"))
    assert idf.compound_parts(*stem_tokens("spelberoende")) == (
        *stem_tokens("spel"),
        *stem_tokens("beroende"),
    )
    assert idf.compound_parts(*stem_tokens("egenvård")) == ()  # a corpus word is no compound
    assert idf.compound_parts(*stem_tokens("semesterdagar")) == ()  # parts the corpus lacks


def test_a_numbered_point_counts_nothing() -> None:
    # "5." numbers the point: "minska antalet överenskommelser" gives no count of them
    question = "Till hur många överenskommelser föreslår översynen att de minskas?"
    assert answer_type_missing(question, "5. Ny indelning av överenskommelser.") == "count"
    assert answer_type_missing(question, "4. Minska antalet överenskommelser från 17 till sju.") is None


def test_what_a_new_law_says_of_a_topic_needs_the_new_law_and_the_topic() -> None:
    dated = "Den 1 juli 2025 träder en helt ny socialtjänstlag i kraft, vilket påverkar överenskommelserna."
    present = "Kommunerna svarar för hemtjänst och särskilt boende enligt socialtjänstlagen."
    asked = "Vad ändras för hemtjänsten i nya socialtjänstlagen?"
    assert answer_type_missing(asked, dated) == "topic"  # the new law, but not its content
    assert answer_type_missing(asked, present) == "topic"  # the topic, but the present law
    assert answer_type_missing("Vad säger den nya socialtjänstlagen om samverkan?", dated) == "topic"
    # the topic in the sentence after the one on the new law is not what the law says of it
    beside = f"{dated} Nya funktioner har etablerats inom både kommuner och regionen."
    assert (
        answer_type_missing("Vad säger den nya socialtjänstlagen om samverkan med regionen?", beside)
        == "topic"
    )
    says = "Den nya socialtjänstlagen ställer krav på samverkan med regionen."
    assert answer_type_missing("Vad säger den nya socialtjänstlagen om samverkan med regionen?", says) is None
    # when it takes effect is what that sentence says; a law without "ny" is any law the text names
    assert answer_type_missing("När träder den nya socialtjänstlagen i kraft?", dated) is None
    assert answer_type_missing("Vad säger socialtjänstlagen om hemtjänst?", present) is None


def test_which_clinic_in_a_municipality_needs_one_named() -> None:
    asked = "Vilken vårdcentral är samordnande vårdcentral i Täby?"
    report = "Täby kommun har tagit fram en rapport om samverkan kring vård och omsorg i Täby."
    assert answer_type_missing(asked, report) == "name"
    # a capital that begins a sentence names nothing
    assert answer_type_missing(asked, "Samordnande vårdcentral i Täby utses av vårdcentralerna.") == "name"
    assert answer_type_missing("vilken vc e samordnande i nacka?", "I Nacka är det Boo vårdcentral.") is None
    # without a place it may ask for a role: "den samordnande vårdcentralen" answers
    role = "Den samordnande vårdcentralen kallar till lokala samverkansmöten."
    assert answer_type_missing("Vilken vårdcentral kallar till de lokala mötena?", role) is None


def test_a_penalty_asked_for_needs_a_penalty_named() -> None:
    asked = "Vilka viten kan IVO ge om kommunen saknar en överenskommelse?"
    supervision = "IVO har möjlighet att i sin tillsyn kontrollera att överenskommelserna ingås."
    assert answer_type_missing(asked, supervision) == "sanction"
    assert answer_type_missing(asked, "IVO kan förelägga kommunen att upprätta den, vid vite.") is None
    assert answer_type_missing("Vem kontrollerar att överenskommelserna finns?", supervision) is None


def test_a_letterhead_date_answers_only_the_documents_own_date() -> None:
    from assistant.core import _substantive_text

    letterhead = "Nacka Kommun 2022-03-16"
    assert _substantive_text(letterhead, "Vilket datum är tjänsteskrivelsen skriven?")
    assert not _substantive_text(letterhead, "När enligt översynen?")
    assert not _substantive_text(letterhead, "När började HÖK gälla?")
    assert _substantive_text("Det finns 17", "Hur många överenskommelser finns det?")  # a count
    assert _substantive_text("Överenskommelsen gäller från 2022-07-01.", "När började HÖK gälla?")


def test_a_compound_of_the_question_word_counts_as_a_related_form() -> None:
    # "arbetsuppgifter" are "uppgifter" (a Swedish compound is a kind of its last part), weighed as
    # the rarer of the two words; a short word, or one only ending in the same letters, is not
    from assistant.compose import Idf, query_stems, unit_coverage

    chunks = [
        _source("Arbetsuppgifter delegeras till hemtjänstpersonal.").chunk,
        _source("Uppgifter och personal finns i regionen.").chunk,
        _source("Vården planeras i regionen.").chunk,
    ]
    idf = Idf(chunks)

    def cover(question_word: str, unit_word: str) -> float:
        return unit_coverage(query_stems([question_word]), set(query_stems([unit_word])), idf)

    assert cover("uppgifter", "arbetsuppgifter") == pytest.approx(2 / 3)
    assert cover("personal", "hemtjänstpersonal") == pytest.approx(2 / 3)
    assert cover("vård", "hemsjukvård") == 0.0  # too short to say what the compound is
    assert cover("delegeras", "arbetsuppgifter") == 0.0


def test_names_in_a_series_after_what_they_are_answer_which_ones() -> None:
    from assistant.compose import Idf, listed_asked, query_stems
    from assistant.retrieval import content_words

    source = _source(
        "I omvärldsbevakningen beskrivs några exempel på överenskommelser som inte finns i Stockholms län:\n"
        "- Samverkan kring utbildning.\n"
        "- Samverkan kring hjälpmedel.\n"
        "Governo har genomfört en omvärldsbevakning av hur tre andra län hanterar överenskommelser. "
        "Analysen omfattar Västra Götaland, Skåne och Östergötland."
    )

    def shown(question: str, listed: bool = True) -> str:
        stems = query_stems(content_words(question))
        sel = select_units(
            source,
            stems,
            "list",
            Idf([source.chunk]),
            30,
            True,
            listed=listed_asked(question) if listed else [],
        )
        assert sel is not None
        return " ".join(u.text for u in sel.units)

    answer = shown("Vilka län ingick i omvärldsbevakningen?")
    assert "Västra Götaland, Skåne och Östergötland" in answer and "hjälpmedel" not in answer
    assert "Västra Götaland" not in shown("Vilka län ingick i omvärldsbevakningen?", listed=False)
    # names in a series are no answer to which companies took part
    assert "Västra Götaland" not in shown("Vilka företag deltog i omvärldsbevakningen?")


def test_a_diagrams_label_is_not_shown_as_context() -> None:
    from assistant.compose import Idf, query_stems

    source = _source(
        "Övergångsbestämmelser bör användas när ny lagstiftning börjar gälla innan en reviderad "
        "överenskommelse har tagits fram.\n"
        "Ta fram förslag i arbetsgrupp\n"
        "Förslag på remissrunda"
    )
    stems = query_stems(["övergångsbestämmelser", "tas", "fram"])
    sel = select_units(source, stems, "other", Idf([source.chunk]), 60, False)
    assert sel is not None
    assert [u.text for u in sel.shown] == [source.chunk.text.split("\n")[0]]


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Återstår att göra.", True),
        ("Det finns flera överenskommelser inom sakområden", True),
        ("Beslut om att inleda arbete i", False),  # a diagram's label, cut off where its box ends
        ("Projektledare och gemensam arbetsgrupp tillsätts", False),  # five words, no full stop
        ("Nacka Kommun 2022-03-16", False),  # a letterhead
    ],
)
def test_is_sentence(text: str, sentence: bool) -> None:
    assert is_sentence(text) is sentence
