"""ingest.clean: headers and footers, page numbers, hyphenation, footnotes, bullets, whitespace."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from avtal.models import Page
from avtal.settings import IngestSettings
from ingest.clean import clean_pages, is_page_number_line
from ingest.readers import read_document


def _pages(*texts: str) -> list[Page]:
    return [Page(number=index + 1, text=text) for index, text in enumerate(texts)]


def _lines(page: Page) -> list[str]:
    return page.text.split("\n")


# ------------------------------------------------------------------ headers, footers, page numbers


def test_running_header_and_footer_are_dropped() -> None:
    bodies = [
        "1. Inledning\nHÖK gäller mellan kommunerna och regionen.",
        "2. Ansvar\nRegionen ansvarar för primärvården.",
        "3. Organisation\nTjänstemannastyrgruppen leder arbetet.",
        "4. Uppföljning\nUppföljning sker årligen.",
    ]
    pages = _pages(
        *(
            f"Riktlinje HÖK 2022\n\n{body}\n\nStorsthlm | Region Stockholm\nSida {n} av 4"
            for n, body in enumerate(bodies, start=1)
        )
    )
    cleaned = clean_pages(pages)
    assert [page.number for page in cleaned] == [1, 2, 3, 4]
    assert [page.text for page in cleaned] == bodies


def test_header_with_changing_digits_counts_as_repeated() -> None:
    bodies = [
        "Inledning\nText.",
        "Ansvar\nMer text.",
        "Organisation\nÄnnu mer.",
        "Uppföljning\nSlut.",
        "Bilaga\nTabell.",
    ]
    pages = _pages(*(f"Dnr ÄLN 2021/19{n} – version {n}\n{body}" for n, body in enumerate(bodies, start=1)))
    assert [page.text for page in clean_pages(pages)] == bodies


def test_header_on_too_few_pages_is_kept() -> None:
    pages = _pages("Rubrik\nFörsta sidan.", "Rubrik\nAndra sidan.")
    assert [page.text for page in clean_pages(pages)] == ["Rubrik\nFörsta sidan.", "Rubrik\nAndra sidan."]


def test_repeated_line_on_less_than_half_the_pages_is_kept() -> None:
    texts = [f"Sammanfattning\nText {n}." for n in range(3)] + [f"Annat {n}\nText." for n in range(5)]
    cleaned = clean_pages(_pages(*texts))
    assert cleaned[0].text.startswith("Sammanfattning")


@pytest.mark.parametrize("number_line", ["3", "3 (11)", "11 (1)", "Sida 3 av 11", "- 3 -", "3/11", "sida 3"])
def test_lone_page_numbers_at_top_or_bottom_are_dropped(number_line: str) -> None:
    assert is_page_number_line(number_line)
    top, bottom = clean_pages(
        _pages(f"{number_line}\nBrödtext överst.", f"Brödtext nederst.\n\n{number_line}")
    )
    assert top.text == "Brödtext överst."
    assert bottom.text == "Brödtext nederst."


def test_numbers_inside_the_page_are_kept() -> None:
    text = "Antal svar\n\nJa\n13\nNej\n3\n\nSlutsats."
    assert clean_pages(_pages(text))[0].text == text


@pytest.mark.parametrize("line", ["3 kap. 5 §", "2022-07-01", "17 överenskommelser", "Sida 3 och 4"])
def test_not_page_numbers(line: str) -> None:
    assert not is_page_number_line(line)


# ------------------------------------------------------------------ hyphenation


@pytest.mark.parametrize(
    ("first", "second", "expected_first", "expected_second"),
    [
        (
            "kommunerna ska utveckla sam-",
            "verkan kring äldre.",
            "kommunerna ska utveckla samverkan",
            "kring äldre.",
        ),
        ("ansvar för hälso-", "och sjukvård i hemmet", "ansvar för hälso-", "och sjukvård i hemmet"),
        ("både vård-", "eller omsorgsinsatser", "både vård-", "eller omsorgsinsatser"),
        ("kommunala-", "respektive regionala", "kommunala-", "respektive regionala"),
        ("enligt HÖK-", "Riktlinjen gäller", "enligt HÖK-Riktlinjen", "gäller"),
        ("finns som långa PDF-", "dokument, där det", "finns som långa PDF-dokument,", "där det"),
        ("i åldern 18-", "20 år ska erbjudas", "i åldern 18-20", "år ska erbjudas"),
        ("skicka e-", "post till enheten", "skicka e-post", "till enheten"),
        ("de arbetar i Tio-", "Hundraprojektet.", "de arbetar i Tio-Hundraprojektet.", ""),
        ("ett pågående arbete -", "nästa steg", "ett pågående arbete -", "nästa steg"),
    ],
)
def test_hyphenation(first: str, second: str, expected_first: str, expected_second: str) -> None:
    expected = [expected_first, expected_second] if expected_second else [expected_first]
    assert _lines(clean_pages(_pages(f"{first}\n{second}"))[0]) == expected


def test_hyphenated_word_ending_in_a_conjunction_is_joined_when_known() -> None:
    pytest.importorskip("wordfreq")
    assert _lines(clean_pages(_pages("ett gemen-\nsamt ansvar"))[0]) == ["ett gemensamt", "ansvar"]


def test_hyphenation_across_a_blank_line_and_a_page_break() -> None:
    first, second = clean_pages(_pages("Överenskommelsen om sam-\n\nverkan gäller.", "Text om samverkans-"))
    assert _lines(first) == ["Överenskommelsen om samverkan", "gäller."]
    first, second = clean_pages(_pages("Sista raden om samverkans-", "överenskommelser och mer text."))
    assert first.text == "Sista raden om samverkansöverenskommelser"
    assert second.text == "och mer text."


# ------------------------------------------------------------------ footnotes


def test_footnote_markers_glued_to_words_and_years() -> None:
    page = (
        "Enligt Överenskommelse inom området psykisk hälsa 20191 ska Sveriges Kommuner\n"
        "och Regioner (SKR)2 arbeta för att stödja kommuner. Ett sådant arbete\n"
        "har pågått inom Uppdrag Psykisk Hälsa (UPH)3 4. Se överenskommelsen5.\n"
        "\n"
        "1 Länk till överenskommelsen.\n"
        "2 Sveriges Kommuner och Regioner (SKR) hette tidigare Sveriges Kommuner och\n"
        "Landsting (SKL). Namnbytet skedde 27 november 2019.\n"
        "3 Sektionen Uppdrag Psykisk Hälsa finns på avdelningen för Vård och om-\n"
        "sorg vid SKR.\n"
        "4 Arbetet om SIP har pågått i ett separat spår.\n"
        "5 Beslutad 2019."
    )
    (cleaned,) = clean_pages(_pages(page))
    assert _lines(cleaned) == [
        "Enligt Överenskommelse inom området psykisk hälsa 2019 ska Sveriges Kommuner",
        "och Regioner (SKR) arbeta för att stödja kommuner. Ett sådant arbete",
        "har pågått inom Uppdrag Psykisk Hälsa (UPH). Se överenskommelsen.",
    ]
    assert cleaned.footnotes == [
        "1 Länk till överenskommelsen.",
        "2 Sveriges Kommuner och Regioner (SKR) hette tidigare Sveriges Kommuner och Landsting (SKL). "
        "Namnbytet skedde 27 november 2019.",
        "3 Sektionen Uppdrag Psykisk Hälsa finns på avdelningen för Vård och omsorg vid SKR.",
        "4 Arbetet om SIP har pågått i ett separat spår.",
        "5 Beslutad 2019.",
    ]


def test_footnote_numbering_goes_on_across_pages_and_markers_may_sit_a_page_earlier() -> None:
    pages = _pages(
        "Text om ”omsorgsrationalitet1” och ”företagsrationalitet2”.\n\n1\nMed omsorgsrationalitet avses ...",
        "Mer text på nästa sida.\n\n2\nMed företagsrationalitet avses ...",
        "Läs vidare i propositionen3.\n3 Prop. 2016/17:59.",
    )
    first, second, third = clean_pages(pages)
    assert first.text == "Text om ”omsorgsrationalitet” och ”företagsrationalitet”."
    assert first.footnotes == ["1 Med omsorgsrationalitet avses ..."]
    assert second.text == "Mer text på nästa sida."
    assert second.footnotes == ["2 Med företagsrationalitet avses ..."]
    assert third.text == "Läs vidare i propositionen."
    assert third.footnotes == ["3 Prop. 2016/17:59."]


def test_numbered_lines_without_markers_stay_in_the_body() -> None:
    text = (
        "Workshopen genomfördes i december 2019.\n"
        "Förslag från workshopen:\n"
        "2 december 2019 samlades alla parter.\n"
        "3 kap. 5 § SoL gäller."
    )
    (cleaned,) = clean_pages(_pages(text))
    assert cleaned.text == text
    assert cleaned.footnotes == []


def test_section_references_are_not_markers() -> None:
    text = "Se SOSFS 2011:11 och punkt 2.3 i HÖK samt Covid-19.\n11 Föreskriften gäller."
    (cleaned,) = clean_pages(_pages(text))
    assert cleaned.text == text and cleaned.footnotes == []


# ------------------------------------------------------------------ bullets, whitespace, ligatures


@pytest.mark.parametrize("bullet", ["•", "●", "▪", "◦", "\uf0b7", "*", "–", "-", "□", "•\t"])
def test_bullets_become_dashes(bullet: str) -> None:
    separator = "" if bullet.endswith("\t") else " "
    (cleaned,) = clean_pages(
        _pages(f"Parterna ska:\n{bullet}{separator}samverka lokalt\n{bullet}{separator}följa upp")
    )
    assert _lines(cleaned) == ["Parterna ska:", "- samverka lokalt", "- följa upp"]


def test_lone_bullet_joins_the_next_line_and_minus_numbers_stay() -> None:
    (cleaned,) = clean_pages(_pages("•\nsamverka lokalt\n-5 grader\n*viktigt*\nJa/Nej\n-\nVet ej"))
    assert _lines(cleaned) == ["- samverka lokalt", "-5 grader", "*viktigt*", "Ja/Nej", "-", "Vet ej"]


def test_whitespace_and_ligatures() -> None:
    text = "  Den  ﬁnns\u00a0i   två\tversioner.  \n\n\n\n   \nNästa  stycke ﬂyttas.\u00ad  \n\n"
    (cleaned,) = clean_pages(_pages(text))
    assert cleaned.text == "Den finns i två versioner.\n\nNästa stycke flyttas."


def test_clean_pages_is_pure_and_keeps_numbers() -> None:
    pages = [Page(number=7, text="Sida 7 av 9\nText på sida sju."), Page(number=8, text="Text åtta.\n8")]
    before = copy.deepcopy(pages)
    cleaned = clean_pages(pages)
    assert pages == before
    assert [(page.number, page.text) for page in cleaned] == [(7, "Text på sida sju."), (8, "Text åtta.")]
    assert clean_pages([]) == []


# ------------------------------------------------------------------ the demo corpus


def test_demo_corpus_footnotes_and_headers(repo_root: Path) -> None:
    path = repo_root / "data" / "corpus" / "skr-stod-lagstadgade-overenskommelser.pdf"
    pages = clean_pages(read_document(path, IngestSettings()).pages)
    first = pages[0].text
    assert "psykisk hälsa 2019 ska" in first and "(SKR) arbeta" in first
    notes = [note for page in pages for note in page.footnotes]
    assert [int(note.split()[0]) for note in notes] == list(range(1, 24))
    assert notes[0] == "1 Länk till överenskommelsen."
    for page in pages:
        assert "Sida " not in page.text
        assert not page.text.startswith("Stöd vid framtagande av lagstadgade överenskommelser\n")


def test_ocr_read_bullets_become_dashes_but_words_stay() -> None:
    text = (
        "Funktionen förväntas:\ne vara kontaktperson för aktörer\ne delta i möten\n"
        "o kunna föra frågor vidare\ne-post skickas till alla.\nE Ekonomi är en rubrik\n"
        "Följande samrådsgrupper finns:\ne Länssamverkan om barn och unga\ne SIP-grupp"
    )
    (cleaned,) = clean_pages(_pages(text))
    assert _lines(cleaned) == [
        "Funktionen förväntas:",
        "- vara kontaktperson för aktörer",
        "- delta i möten",
        "- kunna föra frågor vidare",
        "e-post skickas till alla.",
        "E Ekonomi är en rubrik",
        "Följande samrådsgrupper finns:",
        "- Länssamverkan om barn och unga",  # a capital after the bullet too
        "e SIP-grupp",  # an abbreviation after "e": left alone
    ]
