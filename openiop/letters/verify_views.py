"""The public verification page of attendance letters: /verify/ (issue 9, point 5).

Whoever holds a letter (an employer, a court, a probation officer) types its code and sees
what the letter states — the name as printed, the recipient, the period, the days and
hours, the total, the date and reference — and nothing more. An unknown, forged, altered
or malformed code gets "no letter has this code" (404); too many of them from one address
and it is refused for a while (429 with Retry-After).

The code is POSTed, never put in the page's address: an address (and its query string)
lands in server and proxy logs and in browser history, and a code is a key to what the
letter says. The QR code on the letter carries it in the fragment (`/verify/#CODE`), which
browsers never send; `letters/verify.js` copies it into the form. Every answer is audited
(actor none; the participant's id on success).
"""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.middleware import client_ip
from openiop.portal.access import portal_public
from openiop.privacy import gate

from . import verify as codes
from .forms import VerifyForm


@portal_public
def verify(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    form = VerifyForm(posted(request))
    context: dict = {"form": form}
    if request.method == "GET":
        return render(request, "letters/verify.html", context)
    address = client_ip(request)
    until = codes.refused_until(address)
    if until is not None:
        wait = max(1, math.ceil((until - timezone.now()).total_seconds()))
        response = render(
            request,
            "letters/verify.html",
            {**context, "refused": True, "minutes": math.ceil(wait / 60)},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if not form.is_valid():
        return render(request, "letters/verify.html", context, status=400)
    letter = codes.find(form.cleaned_data["code"])
    if letter is None:
        codes.record_failure(address)
        audit.record(
            AuditAction.DENIED,
            actor=None,
            object_type="letters.letterverification",
            reason="no letter has this code",
        )
        return render(request, "letters/verify.html", {**context, "unknown": True}, status=404)
    audit.record(
        AuditAction.VIEW,
        actor=None,
        obj=letter,
        participant_id=letter.participant_id,
        reason="verified by its code on the public page",
    )
    return render(
        request,
        "letters/verify.html",
        {"form": VerifyForm(), "letter": letter, "notice": gate.NOTICE_LONG},
    )
