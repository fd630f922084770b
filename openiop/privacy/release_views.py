"""Releasing records through the consent gate, and the accounting of disclosures.

A letter or a printed summary is produced only when `gate.disclose` finds a consent in
force that covers it; the refusal's reasons are shown otherwise (status 409). What went
out is kept byte for byte with its SHA-256, so a copy can be given again and the
accounting (§2.25) lists it.
"""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.models import Sequence
from openiop.core.pdf import PdfUnavailable, filename_part, render_pdf_bytes
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants

from . import gate, letters
from .choices import Channel, Purpose, RecipientKind
from .forms import DOCUMENTS, AccountingForm, ReleaseForm
from .models import Consent, Disclosure

# §2.25(a): the accounting covers the previous three years unless asked for less.
ACCOUNTING_YEARS = 3


def _consents_in_force(participant, today: dt.date) -> list[Consent]:
    return [
        c
        for c in gate.candidate_consents(participant)
        if gate.consent_status(c, today)[0] and not c.is_tpo
    ]


@staff_view(Perm.RECORDS_DISCLOSE)
def release(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.RECORDS_DISCLOSE, what="privacy.release")
    program = participant.program
    today = program.today()
    consents = _consents_in_force(participant, today)
    form = ReleaseForm(posted(request), consents=consents, today=today)
    refusal: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            req = gate.DisclosureRequest(
                participant=participant,
                recipient_kind=data["recipient_kind"],
                recipient_name=data["recipient_name"],
                recipient_address=data.get("recipient_address") or "",
                purpose=data["purpose"],
                purpose_detail=data.get("purpose_detail") or "",
                information=tuple(data["information"]),
                channel=data["channel"],
                description=dict(DOCUMENTS)[data["document"]],
                contact_id=data.get("contact_id"),
            )
            decision = gate.check(req, on=today)
            if not decision.allowed or decision.consent is None:
                refusal = decision.reasons
                status = 409
                audit.record(
                    AuditAction.DISCLOSURE_REFUSED,
                    actor=request.user,
                    object_type="privacy.disclosure",
                    participant_id=participant.pk,
                    changes={
                        "recipient_kind": req.recipient_kind,
                        "purpose": req.purpose,
                        "information": list(req.information),
                    },
                    reason="; ".join(refusal)[:500],
                )
            else:
                return _produce(request, participant, req, decision.consent, data, today)
    return render(
        request,
        "privacy/release.html",
        {
            "participant": participant,
            "form": form,
            "consents": consents,
            "refusal": refusal,
        },
        status=status,
    )


def _produce(request, participant, req, consent, data, today) -> HttpResponse:
    period_end = data.get("period_end") or today
    period_start = data.get("period_start")
    content = letters.gather(
        participant,
        tuple(req.information),
        period_start=period_start,
        period_end=period_end,
        tz=participant.program.tz,
    )
    reference = f"D-{Sequence.next_value('disclosure'):06d}"
    context = {
        "participant": participant,
        "program_name": participant.program.name,
        "header_right": f"Disclosure {reference}",
        "req": req,
        "document": data["document"],
        "document_label": req.description,
        "recipient_kind_label": RecipientKind(req.recipient_kind).label,
        "purpose_label": Purpose(req.purpose).label,
        "content": content,
        "reference": reference,
        "today": today,
        "author": request.user,
        "notice": gate.NOTICE_LONG,
        "scope": gate.scope_statement(consent),
        "part2_notice": gate.NOTICE_SHORT,
    }
    try:
        pdf = render_pdf_bytes("privacy/pdf/disclosure.html", context, request)
    except PdfUnavailable as exc:
        return HttpResponse(
            f"PDFs cannot be made on this server: WeasyPrint is not available ({exc}).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    req = gate.DisclosureRequest(**{**req.__dict__, "reference": reference})
    try:
        with transaction.atomic():
            disclosure = gate.disclose(req, actor=request.user, document=pdf, on=today)
    except gate.DisclosureRefused as refused:
        # Revoked between the check and now: refused like any other.
        return render(
            request,
            "privacy/release.html",
            {
                "participant": participant,
                "form": ReleaseForm(None, consents=[], today=today),
                "consents": [],
                "refusal": refused.reasons,
            },
            status=409,
        )
    return redirect("participant_privacy:disclosure", participant.pk, disclosure.pk)


def _disclosure_for(participant, disclosure_pk: int) -> Disclosure:
    try:
        return Disclosure.objects.select_related("consent").get(
            pk=disclosure_pk, participant=participant
        )
    except (Disclosure.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such disclosure for this participant") from None


@staff_view(Perm.CONSENT_VIEW)
def disclosure(request: StaffRequest, pk: int, disclosure_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.CONSENT_VIEW, what="privacy.disclosure")
    item = _disclosure_for(participant, disclosure_pk)
    return render(
        request,
        "privacy/disclosure.html",
        {
            "participant": participant,
            "disclosure": item,
            "perms_release": request.user.has_perm_code(Perm.RECORDS_DISCLOSE),
        },
    )


@staff_view(Perm.CONSENT_VIEW)
def disclosure_pdf(request: StaffRequest, pk: int, disclosure_pk: int) -> HttpResponse:
    """The document exactly as it went out (a copy for the file, or to give again)."""
    participant = get_participant_for(
        request, pk, Perm.CONSENT_VIEW, action=AuditAction.EXPORT, what="privacy.disclosure"
    )
    item = _disclosure_for(participant, disclosure_pk)
    if not item.document:
        raise Http404("No document was kept for this disclosure")
    response = HttpResponse(bytes(item.document), content_type="application/pdf")
    name = filename_part(f"{item.reference or item.pk}-{participant.record_number}")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "no-store, private"
    return response


def _accounting(request: StaffRequest, participant):
    today = participant.program.today()
    form = AccountingForm(request.GET or None)
    try:
        default_since = today.replace(year=today.year - ACCOUNTING_YEARS)
    except ValueError:  # February 29th
        default_since = today.replace(year=today.year - ACCOUNTING_YEARS, day=28)
    since = default_since
    if form.is_valid() and form.cleaned_data.get("since"):
        since = max(form.cleaned_data["since"], default_since)
    disclosures = list(
        Disclosure.objects.filter(participant=participant, at__date__gte=since)
        .select_related("consent")
        .defer("document")
        .order_by("-at", "-id")
    )
    return form, since, disclosures


@staff_view(Perm.CONSENT_VIEW)
def accounting(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.CONSENT_VIEW, what="privacy.accounting")
    form, since, disclosures = _accounting(request, participant)
    return render(
        request,
        "privacy/accounting.html",
        {
            "participant": participant,
            "form": form,
            "since": since,
            "disclosures": disclosures,
            "can_release": request.user.has_perm_code(Perm.RECORDS_DISCLOSE),
        },
        status=200 if form.is_valid() or not request.GET else 400,
    )


@staff_view(Perm.CONSENT_VIEW)
def accounting_pdf(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(
        request, pk, Perm.CONSENT_VIEW, action=AuditAction.EXPORT, what="privacy.accounting"
    )
    form, since, disclosures = _accounting(request, participant)
    if request.GET and not form.is_valid():
        return HttpResponse("“Since” must be a date (YYYY-MM-DD).", status=400)
    from openiop.core.pdf import pdf_response

    return pdf_response(
        request,
        "privacy/pdf/accounting.html",
        {
            "participant": participant,
            "program_name": participant.program.name,
            "header_right": participant.record_number,
            "since": since,
            "disclosures": disclosures,
            "today": participant.program.today(),
        },
        f"accounting-of-disclosures-{participant.record_number}",
    )


@staff_view(Perm.CONSENT_VIEW, audit_page="privacy.disclosures")
def disclosure_register(request: StaffRequest) -> HttpResponse:
    """Every disclosure in the user's programs, newest first (compliance)."""
    qs = (
        Disclosure.objects.filter(participant__in=visible_participants(request.user))
        .select_related("participant", "consent")
        .defer("document")
        .order_by("-at", "-id")
    )
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "privacy/disclosure_register.html",
        {
            "page": page,
            "channel": channel,
            "channels": Channel.choices,
            "querystring": params.urlencode(),
            "now": timezone.now(),
        },
    )
