"""Printable records as PDF, rendered by WeasyPrint from an HTML template.

Every PDF extends `core/pdf_base.html`: the program's name and the participant on each
page, page numbers, the 42 CFR Part 2 notice in the footer, and a print-sized type.
WeasyPrint needs the system's Pango and HarfBuzz libraries; it is imported only when a
PDF is made, so the rest of the application runs on a machine without them, and a
missing library answers 503 with the reason instead of an error page.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

# 42 CFR 2.32: the notice that must accompany a disclosure of Part 2 records. Printed
# on every page of every PDF, since a printout may leave the building.
PART2_NOTICE = (
    "This record is protected by federal confidentiality rules (42 CFR part 2). "
    "The federal rules prohibit you from making any further disclosure of this "
    "information unless further disclosure is expressly permitted by the written "
    "consent of the individual whose information is being disclosed or as otherwise "
    "permitted by 42 CFR part 2."
)


# WeasyPrint reports each layout step at INFO; only its warnings are worth keeping.
for _name in ("weasyprint", "weasyprint.progress", "fontTools"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class PdfUnavailable(Exception):
    """WeasyPrint or its system libraries are not installed on this machine."""


def render_pdf_bytes(template: str, context: dict[str, Any], request: HttpRequest | None = None):
    """The PDF of `template` (which extends core/pdf_base.html) as bytes."""
    html = render_to_string(
        template,
        {"part2_notice": PART2_NOTICE, "printed_at": timezone.now(), **context},
        request=request,
    )
    try:
        from weasyprint import HTML  # imported here: it loads Pango when imported
    except (ImportError, OSError) as exc:  # pragma: no cover - depends on the machine
        raise PdfUnavailable(str(exc)) from exc
    # No base_url: a PDF never fetches anything; its styles are inline in the template.
    return HTML(string=html).write_pdf()


def filename_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "record"


def pdf_response(
    request: HttpRequest, template: str, context: dict[str, Any], filename: str
) -> HttpResponse:
    """The PDF as a response, shown in the browser (inline) with a download name."""
    try:
        data = render_pdf_bytes(template, context, request)
    except PdfUnavailable as exc:
        return HttpResponse(
            f"PDFs cannot be made on this server: WeasyPrint is not available ({exc}).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename_part(filename)}.pdf"'
    # A PDF of a clinical record is not to be kept by shared caches or the browser's.
    response["Cache-Control"] = "no-store, private"
    return response


def pdf_text(data: bytes) -> str:
    """The text of a PDF (for tests and checks), page by page."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
