"""Clause segmentation and chunk sizing on small documents written here and on the demo texts."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from avtal.models import DocumentMeta, Page
from avtal.settings import IngestSettings
from ingest.chunking import chunk_sections, slugify
from ingest.segment import segment

META = DocumentMeta(doc_id="doc", title="Testdokument", doc_type="riktlinje", date="2022-02-23")


def _pages(*texts: str) -> list[Page]:
    return [Page(i + 1, text) for i, text in enumerate(texts)]


def _text_pages(path: Path) -> list[Page]:
    """Pages of a demo text file: a line starting with one space begins a page."""
    pages: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").split("\n"):
        if re.match(r"^ \S", line) and pages[-1]:
            pages.append([])
        pages[-1].append(line.strip())
    return [Page(i + 1, "\n".join(lines)) for i, lines in enumerate(pages)]


SENT = "Parterna ska samverka kring planering och uppföljning av insatserna för den enskilde."


def test_numbered_sections_follow_the_hierarchy_and_skip_list_items_and_footnotes() -> None:
    pages = _pages(
        f"1. Inledning\n\n{SENT}\n\n2. Ansvar\n\n{SENT}\n\n2.1 Kommunens ansvar\n\n{SENT}\n"
        "1 Länk till överenskommelsen.\n",
        f"2.2 Regionens ansvar\n\n{SENT}\nDe ska:\n1. Utse en kontaktperson och meddela parterna.\n"
        f"2. Följa upp arbetet varje år.\n\n3 Uppföljning\n\n{SENT}\n",
    )
    sections = segment(pages)
    numbers = [s.number for s in sections]
    assert numbers == ["1", "2", "2.1", "2.2", "3"]
    by_number = {s.number: s for s in sections}
    assert by_number["2.1"].path == ["2 Ansvar", "2.1 Kommunens ansvar"]
    assert by_number["2.2"].heading_pages == [2]
    # the list items and the footnote stay body text of their clause
    assert any("Utse en kontaktperson" in line.text for line in by_number["2.2"].lines)
    assert any("Länk till" in line.text for line in by_number["2.1"].lines)


def test_table_of_contents_decides_headings_and_gives_their_spelling() -> None:
    body = (
        "1. Inledning\n\nMellan kommunerna finns en huvudéverenskommelse.\n\n"
        "2. Prioriterade omraden for lansodvergripande\nsamverkan\n\nEn prioritering faststills av VIS.\n"
        "Rapportering till VIS\nNya uppdrag\n\n3. Uppfdljning\n\nSekretariatet ansvarar.\n"
    )
    toc = "Innehåll\n1. Inledning\n2. Prioriterade områden för länsövergripande samverkan\n3. Uppföljning\n"
    sections = segment(_pages(body, toc))
    assert [(s.number, s.heading) for s in sections] == [
        ("1", "Inledning"),
        ("2", "Prioriterade områden för länsövergripande samverkan"),
        ("3", "Uppföljning"),
    ]
    # "Rapportering till VIS" is not in the table of contents: it stays text; the TOC is no clause
    assert any("Rapportering till VIS" in line.text for line in sections[1].lines)
    assert not any("Innehåll" in line.text for s in sections for line in s.lines)


def test_unnumbered_headings_and_anchors() -> None:
    text = (
        "Tjänsteskrivelse om samverkan\n\nFörslag till beslut\n"
        "Nämnden föreslår att kommunstyrelsen antar överenskommelsen.\n\n"
        "Ekonomiska konsekvenser\nFörslaget får inga ekonomiska konsekvenser.\n\n"
        "Uppföljning\nUppföljning sker årligen.\n\nUppföljning\nEn andra rubrik med samma namn.\n"
    )
    chunks = chunk_sections(segment(_pages(text)), META, IngestSettings())
    anchors = [c.anchor for c in chunks]
    assert "forslag-till-beslut" in anchors
    assert "ekonomiska-konsekvenser" in anchors  # a short clause with a heading is kept
    assert len(set(anchors)) == len(anchors)
    assert anchors.count("uppfoljning") == 1
    econ = next(c for c in chunks if c.anchor == "ekonomiska-konsekvenser")
    assert econ.text == "Förslaget får inga ekonomiska konsekvenser."
    assert econ.section is None and econ.heading == "Ekonomiska konsekvenser"


def test_long_clause_split_with_overlap_keeps_section_path_and_pages() -> None:
    sentences = [f"Mening nummer {i} handlar om samverkan mellan kommun och region." for i in range(60)]
    page1 = "1. Organisation\n\n1.1 Gemensamt sekretariat\n\n" + "\n".join(sentences[:30])
    page2 = "\n".join(sentences[30:])
    settings = IngestSettings(max_chunk_words=120, chunk_overlap_words=20)
    chunks = chunk_sections(segment(_pages(page1, page2)), META, settings)
    parts = [c for c in chunks if c.section == "1.1"]
    assert len(parts) >= 4
    assert [p.anchor for p in parts[:3]] == ["1.1", "1.1-2", "1.1-3"]
    assert all(p.heading_path == ["1 Organisation", "1.1 Gemensamt sekretariat"] for p in parts)
    assert all(len(p.text.split()) <= 120 for p in parts)
    # consecutive parts share text (overlap) and every sentence is somewhere
    for a, b in itertools.pairwise(parts):
        assert set(a.text.split(". ")) & set(b.text.split(". "))
    joined = " ".join(p.text for p in parts)
    assert all(s in joined for s in sentences)
    assert parts[0].pages == [1] and parts[-1].pages == [2]
    assert any(p.pages == [1, 2] for p in parts)


def test_a_later_part_of_a_split_clause_begins_at_a_sentence() -> None:
    # every sentence runs over two lines of different lengths, so a part may begin mid-sentence
    lines = []
    for i in range(40):
        lines += [f"Mening {i} handlar om hur kommunen och regionen", "samverkar kring planering."]
    text = "1. Organisation\n\n" + "\n".join(lines)
    settings = IngestSettings(max_chunk_words=100, chunk_overlap_words=15)
    parts = chunk_sections(segment(_pages(text)), META, settings)
    assert len(parts) >= 3
    assert all(p.text.startswith("Mening ") for p in parts)
    joined = " ".join(p.text for p in parts)
    assert all(f"Mening {i} handlar" in joined for i in range(40))


def test_original_text_kept_beside_repaired_text() -> None:
    repaired = _pages("1. Inledning\n\nDet gäller hälsa och vård.\nMer text om samverkan här.")
    original = _pages("1. Inledning\n\nDet galler hilsa och vérd.\nMer text om samverkan här.")
    chunks = chunk_sections(segment(repaired, original=original), META, IngestSettings(min_chunk_words=1))
    assert chunks[0].text.startswith("Det gäller hälsa och vård.")
    assert chunks[0].original_text.startswith("Det galler hilsa och vérd.")
    assert chunks[0].repaired_words == 3


def test_a_blank_line_inside_a_sentence_or_list_item_is_no_paragraph_break() -> None:
    text = (
        "1. Befintliga överenskommelser\n\nI dag finns dessa överenskommelser:\n\n"
        "- Omhändertagande av avlidna, överenskommelse mellan hälso- och\n\n"
        "sjukvårdsförvaltningen och juridisk person för bårhus\n"
        "- Samverkan kring personer med missbruk\n\n"
        "Beslut fattas i VIS politiska styrgrupp.\n\nsom står i bilagan."
    )
    original = text.replace("avlidna", "awlidna").replace("sjukvårds", "sjukvards")
    chunk = chunk_sections(segment(_pages(text), original=_pages(original)), META, IngestSettings())[0]
    items = [line for line in chunk.text.split("\n") if line.startswith("- ")]
    assert items[0].endswith("mellan hälso- och sjukvårdsförvaltningen och juridisk person för bårhus")
    assert items[1] == "- Samverkan kring personer med missbruk"
    # after a full stop a blank line stays a break, whatever comes next
    assert "styrgrupp.\n\nsom står" in chunk.text
    # the printed wording keeps the same paragraphs as the repaired one
    assert chunk.original_text.count("\n") == chunk.text.count("\n")
    assert "hälso- och sjukvardsförvaltningen" in chunk.original_text


def test_a_list_item_cut_after_a_word_that_leads_on_carries_on_and_is_no_heading() -> None:
    text = (
        "1. Nya områden\n\nDe områden som har identifierats är bland annat:\n\n"
        "- Samverkan mellan elevhälsan och hälso- och sjukvården\n\n"
        "- Ansvarsfördelning vid medföljande till sjukhus för personer i personlig assistans eller\n"
        "LSS-boende\n\n"
        "- Samverkan kring palliativ vård\n\n"
        "Här presenteras ett förslag till ny indelning av överenskommelserna."
    )
    for joined in (text, text.replace("eller\n", "eller\n\n")):  # with a blank line in between too
        chunks = chunk_sections(segment(_pages(joined)), META, IngestSettings())
        assert [c.heading for c in chunks] == ["Nya områden"]
        items = [line for line in chunks[0].text.split("\n") if line.startswith("- ")]
        assert items[1].endswith("personlig assistans eller LSS-boende")
        assert items[2] == "- Samverkan kring palliativ vård"
    # in prose such a cut is a diagram's box dropped into the sentence: it is not glued on
    prose = "1. Uppföljning\n\nUppföljning som uteblir ger minskad tilltro till\n\nBeslut i VIS\n\nsamverkan."
    chunk = chunk_sections(segment(_pages(prose)), META, IngestSettings())[0]
    assert "tilltro till\n\nBeslut i VIS" in chunk.text


def test_slugify() -> None:
    assert slugify("Uppföljning av lokal samverkan") == "uppfoljning-av-lokal-samverkan"
    assert slugify("Årshjul för uppföljningsprocessen") == "arshjul-for-uppfoljningsprocessen"


def test_demo_guideline_sections(repo_root: Path) -> None:
    """The guideline's numbered sections 1 to 8.6 are found, with the TOC spelling of each heading."""
    pages = _text_pages(repo_root / "data" / "text" / "riktlinje-hok-2022.txt")
    chunks = chunk_sections(segment(pages), META, IngestSettings())
    sections = {c.section for c in chunks}
    expected = {
        "1",
        "2",
        "3",
        "4",
        "5",
        "5.1",
        "5.2",
        "5.3",
        "5.4",
        "6",
        "7.1",
        "7.1.1",
        "7.1.2",
        "7.2",
        "8",
        "8.1",
        "8.2",
        "8.3",
        "8.4",
        "8.5",
        "8.6",
    }
    assert expected <= sections
    c712 = [c for c in chunks if c.section == "7.1.2"]
    assert 1 <= len(c712) <= 3
    assert c712[0].heading == "Regionens samordnande funktion (Samordnande vårdcentral)"
    assert c712[0].heading_path[-1].startswith("7.1.2 ")


def test_demo_report_headings_are_not_list_items(repo_root: Path) -> None:
    pages = _text_pages(repo_root / "data" / "text" / "oversyn-overenskommelser.txt")
    sections = segment(pages)
    headings = [s.heading for s in sections if s.heading]
    assert "Föreslagna åtgärder" in headings and "Syfte och effektmål" in headings
    # numbered proposals ("1. Standardisera begrepp ...") and lead-in lines are not headings
    assert not any(h.startswith("Standardisera") for h in headings)
    assert not any(h.split()[-1] in {"att", "från", "antingen"} for h in headings)
