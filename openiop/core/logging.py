"""No PHI in logs: a filter every log handler passes records through (settings.LOGGING).

Request lines carry the full URL (`django.server` logs `"GET /path?query HTTP/1.1"`), and
messages or tracebacks may quote a value (a database error naming a duplicate key). The
filter renders each record's message once, cuts query strings and masks what identifies
a person: record numbers, email addresses, phone numbers and dates. Every full date is
masked, not only dates of birth: admission, discharge and service dates of a person are
identifiers too (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C)); the year is kept.
Log lines carry their own time stamp from the formatter, outside the message.
"""

from __future__ import annotations

import logging
import re

_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?:19|20)\d{2}"

# (pattern, replacement), applied in this order.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # A query string after a path or URL: "/participants/?q=Smith" → "/participants/?…".
    (re.compile(r"(?<=[^\s?\"'])\?(?!\[query removed\])[^\s\"'<>]+"), "?[query removed]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # Record numbers (OI-000123-4, `participants.models.format_record_number`).
    (re.compile(r"\bOI-\d{4,}-\d\b", re.IGNORECASE), "[record no.]"),
    # ISO dates (1990-05-17, also inside 1990-05-17T10:00), US dates (5/17/1990, 05-17-90),
    # and dates with a month name (May 17, 1990; 17 May 1990).
    (re.compile(rf"(?<![\d-])({_YEAR})-{_MONTH}-{_DAY}(?!\d)"), r"[date \1]"),
    (re.compile(rf"(?<![\d/-]){_MONTH}[/-]{_DAY}[/-]((?:19|20)?\d{{2}})(?![\d/-])"), r"[date]"),
    (re.compile(rf"\b{_MONTHS} {_DAY}(?:st|nd|rd|th)?,? ({_YEAR})\b"), r"[date \1]"),
    (re.compile(rf"\b{_DAY} {_MONTHS},? ({_YEAR})\b"), r"[date \1]"),
    # North American phone numbers: (207) 555-0101, 207-555-0101, +1 207 555 0101,
    # 2075550101.
    (
        re.compile(
            r"(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[\s.-]?)"
            r"\d{3}[\s.-]?\d{4}(?![\w-])"
        ),
        "[phone]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    """Attach to every handler (settings.LOGGING). It never drops a record; it rewrites
    the record's message, traceback and stack in place (idempotent, so a record passing
    several handlers is unchanged by the second)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A malformed record: logging reports it itself; mask what can be masked.
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
