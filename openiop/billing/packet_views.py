"""Concurrent-review packets of an authorisation (issue 11, point 5), under
/participants/<pk>/billing/: the preview with the consent gate's answer, making the
PDF (a disclosure to the payer for payment, 42 CFR Part 2) and downloading a packet
made before. Outside the user's programs → 404; without review.packet → 403; a packet
the gate refuses → 409 with its reasons; a stale page → 409."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.pdf import PdfUnavailable, filename_part
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for
from openiop.participants.models import Participant
from openiop.privacy import gate

from . import packet as packets
from .models import Authorisation, ReviewPacket

WHAT = "billing.packet"


class PacketForm(forms.Form):
    """Make the packet of the authorisation as the page showed it."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)


def _authorisation(participant: Participant, auth_pk: int) -> Authorisation:
    try:
        return Authorisation.objects.select_related(
            "coverage__payer", "episode__program", "participant", "renews"
        ).get(pk=auth_pk, participant=participant, voided=False)
    except (Authorisation.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such authorisation for this participant") from None


def _page(request, participant, auth, *, form=None, refusal=None, error="", status=200):
    today = auth.episode.program.today()
    decision = gate.check(packets.disclosure_request(auth), on=today)
    made = list(
        ReviewPacket.objects.filter(authorisation=auth).select_related("made_by", "disclosure")
    )
    return render(
        request,
        "billing/packet/packet.html",
        {
            "participant": participant,
            "facts": packets.assemble(auth, today=today),
            "decision": decision,
            "refusal": refusal,
            "error": error,
            "form": form or PacketForm(initial={"version": auth.version}),
            "packets": made,
            "information": [str(c.label) for c in packets.INFORMATION],
        },
        status=status,
    )


@staff_view(Perm.REVIEW_PACKET)
def packet(request: StaffRequest, pk: int, auth_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.REVIEW_PACKET, what=WHAT)
    auth = _authorisation(participant, auth_pk)
    if request.method != "POST":
        return _page(request, participant, auth)
    form = PacketForm(posted(request))
    if not form.is_valid():
        return _page(request, participant, auth, form=form, status=400)
    today = auth.episode.program.today()
    try:
        made = packets.make_packet(
            auth,
            actor=request.user,
            today=today,
            expected_version=form.cleaned_data["version"],
            request=request,
        )
    except gate.DisclosureRefused as refused:
        return _page(request, participant, auth, refusal=refused.reasons, status=409)
    except StaleEdit as exc:
        auth = _authorisation(participant, auth_pk)
        return _page(request, participant, auth, error=str(exc), status=409)
    except PdfUnavailable as exc:
        return HttpResponse(
            f"PDFs cannot be made on this server: WeasyPrint is not available ({exc}).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return redirect("coverage:packet_pdf", participant.pk, made.pk)


@staff_view(Perm.REVIEW_PACKET)
def packet_pdf(request: StaffRequest, pk: int, packet_pk: int) -> HttpResponse:
    """The packet exactly as it went to the payer (the disclosure keeps the bytes)."""
    participant = get_participant_for(
        request, pk, Perm.REVIEW_PACKET, action=AuditAction.EXPORT, what=WHAT
    )
    try:
        item = ReviewPacket.objects.select_related("disclosure", "authorisation").get(
            pk=packet_pk, authorisation__participant=participant
        )
    except (ReviewPacket.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such review packet for this participant") from None
    data = bytes(item.disclosure.document)
    if not data:
        raise Http404("No document was kept for this packet")
    response = HttpResponse(data, content_type="application/pdf")
    name = filename_part(
        f"review-{item.authorisation.reference_number}-{participant.record_number}-{item.pk}"
    )
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "no-store, private"
    return response
