"""Masking of Swedish personal identity numbers (personnummer and samordningsnummer).

Nothing that identifies a patient or a client may leave the machine or reach a log. Questions
from staff sometimes contain a personnummer ("Patienten 19121212-1212 skrivs ut i morgon ...");
``mask_personal_ids`` replaces every such number before a question is sent to a language
model or written to a log.

What counts as a personal identity number here:

* ``YYMMDD`` or ``YYYYMMDD`` (century 18, 19 or 20), then an optional separator ('-', '+'
  for people aged 100 or more, a space, a non-breaking space or an en dash), then four digits;
* the month is 01-12; the day is 01-31, or 61-91 for a samordningsnummer (day + 60);
* the Luhn check digit is *not* checked: a mistyped number is just as personal.

Ordinary dates ("2022-02-23", "20220223"), years, SFS numbers ("1980:100"), diary numbers
("ÄLN 2021/194") and amounts do not match, because they lack the four trailing digits or the
date shape. Organisation numbers (third digit 2 or more, so "month" 20-99) do not match either.
Ten digits in a row that happen to form a valid date (e.g. some mobile numbers) are masked:
over-masking is the safe error.
"""

from __future__ import annotations

import logging
import re

MASK = "[personnummer borttaget]"

_PERSONAL_ID = re.compile(
    r"""
    (?<![\d])                              # not inside a longer number
    (?:18|19|20)?\d{2}                     # optional century, then year
    (?:0[1-9]|1[0-2])                      # month
    (?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])  # day, or day + 60 (samordningsnummer)
    [-+\u00a0\u2013 ]?                     # optional separator: - + space nbsp en-dash
    \d{4}                                  # birth number and check digit
    (?![\d])
    """,
    re.VERBOSE,
)


def mask_personal_ids(text: str) -> tuple[str, int]:
    """Replace every personnummer and samordningsnummer in ``text``; return the text and the count."""
    if not text:
        return text, 0
    return _PERSONAL_ID.subn(MASK, text)


def contains_personal_id(text: str) -> bool:
    """True when ``text`` contains something shaped like a personnummer or samordningsnummer."""
    return bool(text) and _PERSONAL_ID.search(text) is not None


class MaskingFilter(logging.Filter):
    """Masks personal identity numbers in log records; never drops a record.

    The message is formatted once (``msg % args``), masked, and stored back with empty
    ``args``; exception text is formatted and masked too. Attach it to *handlers* to cover
    records from every logger (a filter on a logger only sees records logged on that logger)::

        handler.addFilter(MaskingFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: mask what we have
            message = str(record.msg)
            if record.args:
                message = f"{message} {record.args!r}"
        masked, count = mask_personal_ids(message)
        if count:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_ids(record.exc_text)[0]
        if record.stack_info:
            record.stack_info = mask_personal_ids(record.stack_info)[0]
        return True
