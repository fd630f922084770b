"""No PHI in logs (issue 8, point 8): RedactFilter on every handler of settings.LOGGING."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings

from openiop.core.logging import RedactFilter, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # django.server's request line: the query string goes, the path stays.
        (
            '"GET /participants/?search=1&status=active HTTP/1.1" 200 5123',
            '"GET /participants/?[query removed] HTTP/1.1" 200 5123',
        ),
        ("https://openiop.example.org/a/?q=Jane", "https://openiop.example.org/a/?[query removed]"),
        ("Not Found: /participants/12/", "Not Found: /participants/12/"),
        ("record OI-000123-4 opened", "record [record no.] opened"),
        ("mail pat.doe+x@example.org now", "mail [email] now"),
        ("call (207) 555-0101 or 207-555-0101", "call [phone] or [phone]"),
        ("call +1 207 555 0101 or 2075550101", "call [phone] or [phone]"),
        ("born 1990-05-17", "born [date 1990]"),
        ("at 1990-05-17T10:00:00", "at [date 1990]T10:00:00"),
        ("born 5/17/1990 or 05-17-90", "born [date] or [date]"),
        ("born May 17, 1990 or 17 May 1990", "born [date 1990] or [date 1990]"),
        # What is not personal stays readable.
        ("from 127.0.0.1 in 2025 ms", "from 127.0.0.1 in 2025 ms"),
        (
            "request 3f2a1b2c3d4e5f60718293a4b5c6d7e8 uuid 123e4567-e89b-12d3-a456-426614174000",
            "request 3f2a1b2c3d4e5f60718293a4b5c6d7e8 uuid 123e4567-e89b-12d3-a456-426614174000",
        ),
        ("Really? Yes.", "Really? Yes."),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent


def test_every_configured_handler_redacts():
    handlers = settings.LOGGING["handlers"]
    assert handlers
    for name, handler in handlers.items():
        assert "redact" in handler.get("filters", []), name
    assert settings.LOGGING["filters"]["redact"]["()"] == "openiop.core.logging.RedactFilter"


@pytest.fixture
def log_output():
    """What the configured root handler writes (Django's loggers propagate to it)."""
    stream = io.StringIO()
    ours = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactFilter) for f in h.filters)
    ]
    assert ours, "settings.LOGGING's handler is not on the root logger"
    handler = ours[0]
    assert isinstance(handler, logging.StreamHandler)
    old = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(old)


def test_django_loggers_reach_only_filtered_handlers():
    for name in ("django", "django.server", "django.request", "openiop.core.worker"):
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            for handler in logger.handlers:
                if type(handler).__module__.startswith("_pytest"):
                    continue  # pytest's capture
                assert any(isinstance(f, RedactFilter) for f in handler.filters), (name, handler)
            logger = logger.parent if logger.propagate else None


def test_a_request_line_is_logged_without_its_query_string(log_output):
    # As runserver's WSGIRequestHandler.log_message logs each request.
    logging.getLogger("django.server").info(
        '"%s" %s %s', "GET /participants/?name=Jane+Doe&dob=1990-05-17 HTTP/1.1", "200", "812"
    )
    line = log_output.getvalue()
    assert '"GET /participants/?[query removed] HTTP/1.1" 200 812' in line
    assert "Jane" not in line and "1990" not in line


def test_a_traceback_is_redacted(log_output):
    try:
        raise ValueError("duplicate key (record_number)=(OI-000123-4), phone 207-555-0101")
    except ValueError:
        logging.getLogger("openiop.core.worker").exception("job %s failed", "reminders")
    text = log_output.getvalue()
    assert "job reminders failed" in text
    assert "Traceback" in text and "ValueError" in text
    assert "OI-000123-4" not in text and "555-0101" not in text
    assert "[record no.]" in text and "[phone]" in text


def test_a_record_is_never_dropped():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s", ("jane@x.org",), None)
    assert RedactFilter().filter(record) is True
    assert record.getMessage() == "value [email]"
