"""The participant's attendance letters in the portal, under /my/letters/ (issue 9,
point 1: "request an attendance letter"): the requests and their state, the request form,
withdrawing a request that still waits, and the produced letters to download (the
participant's own record; each download is audited as an export)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.pdf import filename_part
from openiop.portal.access import PARTICIPANT, PortalRequest, portal_view

from . import services
from .choices import LetterRecipient, LetterStatus, RequestedVia
from .forms import LetterRequestForm, WithdrawForm
from .models import LetterRequest

LIST_LIMIT = 50


def _own(request: PortalRequest, request_pk: int) -> LetterRequest:
    """One of the signed-in participant's requests; 404 for anyone else's."""
    try:
        return (
            LetterRequest.objects.select_related("disclosure")
            .defer("disclosure__document")
            .get(pk=request_pk, participant_id=request.portal.participant_id, voided=False)
        )
    except LetterRequest.DoesNotExist:
        raise Http404(_("No such letter.")) from None


@portal_view(PARTICIPANT, audit_page="letters.portal_list")
def letter_list(request: PortalRequest) -> HttpResponse:
    rows: list[dict[str, Any]] = [
        {
            **row,
            "status_label": LetterStatus(row["status"]).label,
            "kind_label": LetterRecipient(row["recipient_kind"]).label,
        }
        for row in LetterRequest.objects.filter(
            participant_id=request.portal.participant_id, voided=False
        )
        .order_by("-requested_at", "-pk")
        .values(
            "pk",
            "recipient_kind",
            "recipient_name",
            "period_start",
            "period_end",
            "status",
            "requested_at",
            "decline_reason",
        )[:LIST_LIMIT]
    ]
    return render(request, "letters/portal/list.html", {"rows": rows})


def _today(request: PortalRequest) -> dt.date:
    return request.portal.participant.program.today()


@portal_view(PARTICIPANT, audit_page="letters.portal_new")
def letter_new(request: PortalRequest) -> HttpResponse:
    participant = request.portal.participant
    today = _today(request)
    form = LetterRequestForm(posted(request), today=today)
    if request.method == "GET":
        episode = participant.current_episode
        start = episode.admission_date if episode and episode.admission_date else today
        form.initial.update({"period_start": min(start, today), "period_end": today})
    error = ""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.request_letter(
                    participant,
                    actor=request.user,
                    recipient_kind=data["recipient_kind"],
                    recipient_name=data["recipient_name"],
                    recipient_address=data["recipient_address"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    note=data["note"],
                    via=RequestedVia.PORTAL,
                )
            except services.LetterError as exc:
                error, status = str(exc), 409
            else:
                messages.success(
                    request,
                    _(
                        "Your request was sent. Your counsellor will prepare the letter if a "
                        "consent you signed covers it; you will find it here."
                    ),
                )
                return redirect("portal_letters:list")
    return render(request, "letters/portal/new.html", {"form": form, "error": error}, status=status)


@portal_view(PARTICIPANT, audit_page="letters.portal_detail")
def letter_detail(request: PortalRequest, request_pk: int) -> HttpResponse:
    letter = _own(request, request_pk)
    form = WithdrawForm(posted(request))
    error = ""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.withdraw(letter, actor=request.user)
            except services.LetterError as exc:
                error, status = str(exc), 409
                letter = _own(request, request_pk)
            else:
                messages.success(request, _("Your request was withdrawn."))
                return redirect("portal_letters:list")
    return render(
        request,
        "letters/portal/detail.html",
        {"letter": letter, "form": form, "error": error},
        status=status,
    )


@portal_view(PARTICIPANT, audit_page="letters.portal_pdf")
def letter_pdf(request: PortalRequest, request_pk: int) -> HttpResponse:
    """The participant's copy of a produced letter, exactly as it went out."""
    try:
        letter = LetterRequest.objects.select_related("disclosure").get(
            pk=request_pk,
            participant_id=request.portal.participant_id,
            voided=False,
            status=LetterStatus.PRODUCED,
        )
    except LetterRequest.DoesNotExist:
        raise Http404(_("No such letter.")) from None
    disclosure = letter.disclosure
    if disclosure is None or not disclosure.document:
        raise Http404(_("No such letter."))
    audit.record(
        AuditAction.EXPORT,
        actor=request.user,
        obj=disclosure,
        object_type="letters.letter",
        participant_id=letter.participant_id,
    )
    response = HttpResponse(bytes(disclosure.document), content_type="application/pdf")
    name = filename_part(f"letter-{disclosure.reference or disclosure.pk}")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "no-store, private"
    return response
