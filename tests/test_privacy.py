"""Masking of personnummer and samordningsnummer (avtal.privacy)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from avtal.privacy import MASK, MaskingFilter, contains_personal_id, mask_personal_ids


def _luhn_ok(ten_digits: str) -> bool:
    total = 0
    for i, ch in enumerate(ten_digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@pytest.mark.parametrize(
    "number",
    [
        "19121212-1212",  # the Tax Agency's test number, valid check digit
        "121212-1212",
        "1212121212",
        "191212121212",
        "121212 1212",
        "19121212 1212",
        "121212+1212",  # aged 100 or more
        "811218-9876",
        "811218-9877",  # wrong check digit: still masked
        "701063-2391",  # samordningsnummer (day 3 + 60)
        "197010632391",  # samordningsnummer with century
        "20051231-0008",  # born this century
        "121212\u00a01212",  # non-breaking space
    ],
)
def test_masks_each_form(number: str) -> None:
    masked, count = mask_personal_ids(f"Patient {number} skrivs ut.")
    assert (masked, count) == (f"Patient {MASK} skrivs ut.", 1)
    assert contains_personal_id(number)


def test_valid_and_invalid_check_digits_are_both_masked() -> None:
    assert _luhn_ok("8112189876") and not _luhn_ok("8112189877")
    assert mask_personal_ids("811218-9876 och 811218-9877")[1] == 2


def test_samordningsnummer_day_range() -> None:
    assert mask_personal_ids("701091-1234")[1] == 1  # day 31 + 60
    assert mask_personal_ids("701092-1234")[1] == 0  # day 32 + 60 does not exist
    assert mask_personal_ids("701032-1234")[1] == 0  # day 32
    assert mask_personal_ids("701300-1234")[1] == 0  # month 13, day 00


def test_several_in_one_text_and_in_sentences() -> None:
    text = (
        "Hej! Jag undrar om SIP för brukaren 19121212-1212 (även kallad 121212-1212), "
        "och hennes make 8112189876, gäller från 2022-02-23. Samordningsnummer: 701063-2391."
    )
    masked, count = mask_personal_ids(text)
    assert count == 4
    assert masked.count(MASK) == 4
    assert "2022-02-23" in masked  # the date stays
    assert "(även kallad [personnummer borttaget])," in masked
    assert masked.endswith(f"Samordningsnummer: {MASK}.")
    assert not contains_personal_id(masked)


@pytest.mark.parametrize(
    "text",
    [
        "Överenskommelsen gäller från 2022-02-23.",
        "Beslutad 20220223 av styrgruppen.",
        "Under 2021 och 2022.",
        "Socialtjänstlagen (2001:453) och SFS 1980:100.",
        "SOSFS 2011:11 om ledningssystem.",
        "Dnr ÄLN 2021/194 och RS 2019-0123.",
        "Kostnaden är 1 250 000 kronor, eller 12 500 kr per plats.",
        "Region Stockholm, organisationsnummer 232100-0016.",
        "Org.nr 556677-8899.",
        "Perioden 2019-01-01–2022-12-31.",
        "ISSN 1102-0187, avsnitt 7.1.2, sidan 12.",
        "Ring 08-123 456 78.",
        "Beslutet 20220223 1 gäller.",
        "Löpnummer 12345678901234.",
    ],
)
def test_does_not_mask_ordinary_numbers(text: str) -> None:
    assert mask_personal_ids(text) == (text, 0)
    assert not contains_personal_id(text)


def test_empty_text() -> None:
    assert mask_personal_ids("") == ("", 0)
    assert not contains_personal_id("")


def test_bundled_corpus_has_no_false_positives(repo_root: Path) -> None:
    texts = sorted((repo_root / "data" / "text").glob("*.txt"))
    if not texts:
        pytest.skip("no extracted corpus text")
    for path in texts:
        assert mask_personal_ids(path.read_text(encoding="utf-8"))[1] == 0, path.name


def test_masking_filter_masks_message_and_args(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("avtal.test_privacy")
    logger.addFilter(MaskingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="avtal.test_privacy"):
            logger.info("Fråga om 19121212-1212")
            logger.info("Fråga: %s (%d tecken)", "brukare 121212+1212", 42)
            logger.info("Inget att dölja %s", "2022-02-23")
    finally:
        logger.filters.clear()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        f"Fråga om {MASK}",
        f"Fråga: brukare {MASK} (42 tecken)",
        "Inget att dölja 2022-02-23",
    ]
    assert "1212" not in caplog.text


def test_masking_filter_on_a_handler_masks_exceptions() -> None:
    records: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = ListHandler()
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("avtal.test_privacy.exc")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("okänd brukare 811218-9876")
        except ValueError:
            logger.exception("Misslyckades för %s", "701063-2391")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(records) == 1
    assert "9876" not in records[0] and "2391" not in records[0]
    assert records[0].count(MASK) >= 2  # message, exception (and the traceback source line)


def test_masking_filter_never_drops_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "trasig %d", ("inte ett tal",), None)
    assert MaskingFilter().filter(record) is True
