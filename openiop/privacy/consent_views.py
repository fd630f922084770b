"""The consent registry (42 CFR Part 2 §2.31, DOMAIN.md §2.3): a participant's consents
with their status, recording a new one element by element, revoking and voiding, the
printed consent (recorded, or blank for signing on paper), and the compliance-wide list.

Reading needs consent.view; recording, revoking, voiding and printing a blank form need
consent.record. Views are thin: the form parses, `services` decides and writes (atomic,
audited), `registry` reads in a fixed number of queries.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.pdf import pdf_response
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant
from openiop.programs.models import Program

from . import registry, services
from .choices import ConsentKind, InfoCategory, Purpose, RecipientKind
from .consent_forms import ConsentForm, RevokeForm, VoidForm, shown_choices
from .consent_text import texts
from .models import Consent, Disclosure

PAGE_SIZE = 50


def _participant(request: StaffRequest, pk: int, perm: str, what: str) -> Participant:
    qs = visible_participants(request.user).select_related("program", "program__site")
    return get_participant_for(request, pk, perm, what=what, queryset=qs)


def _consent(participant: Participant, consent_pk: int) -> Consent:
    try:
        consents = Consent.objects.filter(participant=participant).select_related(
            "contact", "revoked_by", "voided_by", "created_by"
        )
        return registry.annotated(consents).get(pk=consent_pk)
    except (Consent.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such consent for this participant") from None


def _kind(kind: str) -> str:
    if kind not in ConsentKind.values:
        raise Http404("No such kind of consent")
    return kind


# --- a participant's consents --------------------------------------------------------------


@staff_view(Perm.CONSENT_VIEW)
def consent_list(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.CONSENT_VIEW, "privacy.consents")
    today = participant.program.today()
    return render(
        request,
        "privacy/consents/list.html",
        {
            "participant": participant,
            "rows": registry.participant_rows(participant, today),
            "accounting_url": registry.accounting_url(participant.pk),
            "can_record": request.user.has_perm_code(Perm.CONSENT_RECORD),
            "kinds": ConsentKind.choices,
        },
    )


@staff_view(Perm.CONSENT_RECORD)
def consent_new(request: StaffRequest, pk: int) -> HttpResponse:
    """Step 1: which kind of consent (TPO, a named recipient, SUD counselling notes)."""
    participant = _participant(request, pk, Perm.CONSENT_RECORD, "privacy.consent.new")
    return render(
        request,
        "privacy/consents/choose.html",
        {"participant": participant, "kinds": KIND_HELP},
    )


KIND_HELP = [
    (
        ConsentKind.TPO,
        "Treatment, payment and health care operations (TPO)",
        "TPO consent",
        "One consent for all future treatment, payment and operations: the participant's "
        "treating providers, health plans and the people helping to run the program. "
        "Covers only those purposes.",
    ),
    (
        ConsentKind.SPECIFIC,
        "A named recipient",
        "consent to a named recipient",
        "An employer, a court or probation officer, a family member, a school, another "
        "agency: one recipient, the purposes and the information named.",
    ),
    (
        ConsentKind.COUNSELLING_NOTES,
        "SUD counselling notes",
        "counselling-notes consent",
        "Counselling notes kept apart from the record need their own consent, never "
        "combined with another (§2.31(b)).",
    ),
]


@staff_view(Perm.CONSENT_RECORD)
def consent_record(request: StaffRequest, pk: int, kind: str) -> HttpResponse:
    """Step 2: the signed consent, element by element; refused with the missing elements
    beside their fields (400)."""
    participant = _participant(request, pk, Perm.CONSENT_RECORD, "privacy.consent.new")
    kind = _kind(kind)
    today = participant.program.today()
    form = ConsentForm(
        posted(request),
        participant=participant,
        kind=kind,
        initial=ConsentForm.initial_for(participant, kind, today),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                consent = services.record_consent(
                    participant, form.consent_input(), actor=request.user
                )
            except services.ConsentError as exc:
                for field, problem in exc.problems.items():
                    form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, "Consent recorded. It is in force from today.")
                return redirect("consents:detail", pk=participant.pk, consent_pk=consent.pk)
    return render(
        request,
        "privacy/consents/form.html",
        {
            "participant": participant,
            "form": form,
            "kind": kind,
            "kind_label": ConsentKind(kind).label,
            "is_tpo": kind == ConsentKind.TPO,
            "texts": texts(participant.program),
        },
        status=status,
    )


def _detail_context(request: StaffRequest, participant: Participant, consent: Consent) -> dict:
    today = participant.program.today()
    disclosures = list(Disclosure.objects.filter(consent=consent).order_by("-at", "-id"))
    status = registry.status_of(consent, today)
    can_record = request.user.has_perm_code(Perm.CONSENT_RECORD)
    return {
        "participant": participant,
        "consent": consent,
        "status": status,
        "purposes": registry.purpose_labels(consent),
        "information": registry.information_labels(consent),
        "expiry": registry.expiry_label(consent),
        "disclosures": disclosures,
        "texts": texts(participant.program),
        "accounting_url": registry.accounting_url(participant.pk),
        "can_revoke": can_record and not consent.voided and consent.revoked_at is None,
        "can_void": can_record and not consent.voided and not disclosures,
        "revoke_form": RevokeForm(initial={"revoked_on": today}),
        "void_form": VoidForm(),
    }


@staff_view(Perm.CONSENT_VIEW)
def consent_detail(request: StaffRequest, pk: int, consent_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.CONSENT_VIEW, "privacy.consent")
    consent = _consent(participant, consent_pk)
    return render(
        request,
        "privacy/consents/detail.html",
        _detail_context(request, participant, consent),
    )


def _refusal(request: StaffRequest, participant: Participant, consent: Consent, reason: str):
    """409: the consent cannot be revoked or voided as asked; the detail page says why."""
    context = _detail_context(request, participant, consent)
    context["refusal"] = reason
    return render(request, "privacy/consents/detail.html", context, status=409)


@staff_view(Perm.CONSENT_RECORD)
def consent_revoke(request: StaffRequest, pk: int, consent_pk: int) -> HttpResponse:
    """Revocation takes effect at once (§2.31(a)(6)): the gate reads it at each disclosure."""
    participant = _participant(request, pk, Perm.CONSENT_RECORD, "privacy.consent.revoke")
    consent = _consent(participant, consent_pk)
    if consent.voided:
        return _refusal(request, participant, consent, "This consent was voided.")
    if consent.revoked_at is not None:
        return _refusal(
            request,
            participant,
            consent,
            f"This consent was already revoked on {consent.revoked_on:%b %-d, %Y}.",
        )
    form = RevokeForm(posted(request), initial={"revoked_on": participant.program.today()})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.revoke_consent(
                    consent,
                    actor=request.user,
                    revoked_on=form.cleaned_data["revoked_on"],
                    note=form.cleaned_data["note"],
                )
            except services.ConsentError as exc:
                if "consent" in exc.problems:
                    return _refusal(request, participant, consent, exc.problems["consent"])
                for field, problem in exc.problems.items():
                    form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(
                    request, "Consent revoked. Nothing more goes out under it from now on."
                )
                return redirect("consents:detail", pk=participant.pk, consent_pk=consent.pk)
    return render(
        request,
        "privacy/consents/revoke.html",
        {"participant": participant, "consent": consent, "form": form},
        status=status,
    )


@staff_view(Perm.CONSENT_RECORD)
def consent_void(request: StaffRequest, pk: int, consent_pk: int) -> HttpResponse:
    """A consent recorded in error is voided (kept, never deleted); refused once records
    went out under it."""
    participant = _participant(request, pk, Perm.CONSENT_RECORD, "privacy.consent.void")
    consent = _consent(participant, consent_pk)
    if consent.voided:
        return _refusal(request, participant, consent, "This consent is already void.")
    if consent.disclosure_count:  # type: ignore[attr-defined]
        return _refusal(
            request,
            participant,
            consent,
            "Records were disclosed under this consent: revoke it instead of voiding.",
        )
    form = VoidForm(posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.void_consent(
                    consent, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except services.ConsentError as exc:
                if "consent" in exc.problems:
                    return _refusal(request, participant, consent, exc.problems["consent"])
                for field, problem in exc.problems.items():
                    form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, "Consent voided. It stays on file, marked void.")
                return redirect("consents:detail", pk=participant.pk, consent_pk=consent.pk)
    return render(
        request,
        "privacy/consents/void.html",
        {"participant": participant, "consent": consent, "form": form},
        status=status,
    )


# --- printing ------------------------------------------------------------------------------


def _exported(request: StaffRequest, response: HttpResponse, **event: Any) -> HttpResponse:
    """A PDF that was made is audited as an export (a printout may leave the building)."""
    if response.status_code == 200:
        audit.record(AuditAction.EXPORT, actor=request.user, **event)
    return response


@staff_view(Perm.CONSENT_VIEW)
def consent_pdf(request: StaffRequest, pk: int, consent_pk: int) -> HttpResponse:
    """The recorded consent with every element, the right to revoke and how, the TPO
    statements where TPO, and the signature and date."""
    participant = _participant(request, pk, Perm.CONSENT_VIEW, "privacy.consent.pdf")
    consent = _consent(participant, consent_pk)
    today = participant.program.today()
    response = pdf_response(
        request,
        "privacy/consents/pdf.html",
        {
            "title": "Consent to disclose substance use disorder records",
            "program_name": participant.program.name,
            "header_right": f"{participant.display_name} · {participant.record_number}",
            "participant": participant,
            "consent": consent,
            "status": registry.status_of(consent, today),
            "kind_label": consent.get_kind_display(),
            "recipient_kind_label": consent.get_recipient_kind_display(),
            "purposes": registry.purpose_labels(consent),
            "information": registry.information_labels(consent),
            "expiry": registry.expiry_label(consent),
            "texts": texts(participant.program),
            "blank": False,
        },
        f"consent-{participant.record_number}-{consent.pk}",
    )
    return _exported(
        request, response, obj=consent, changes={"document": "consent form (recorded)"}
    )


@staff_view(Perm.CONSENT_RECORD)
def blank_pdf(request: StaffRequest, pk: int, kind: str) -> HttpResponse:
    """A form to sign on paper: the participant's name, the program as discloser and the
    chosen kind; a TPO form carries its recipients, purposes, expiry and statements."""
    participant = _participant(request, pk, Perm.CONSENT_RECORD, "privacy.consent.blank")
    kind = _kind(kind)
    initial = ConsentForm.initial_for(participant, kind, participant.program.today())
    shown = shown_choices(kind)
    response = pdf_response(
        request,
        "privacy/consents/pdf.html",
        {
            "title": "Consent to disclose substance use disorder records",
            "program_name": participant.program.name,
            "header_right": f"{participant.display_name} · {participant.record_number}",
            "participant": participant,
            "kind": kind,
            "kind_label": ConsentKind(kind).label,
            "is_tpo": kind == ConsentKind.TPO,
            "is_notes": kind == ConsentKind.COUNSELLING_NOTES,
            "tpo_recipients": services.TPO_DEFAULT_RECIPIENTS,
            "recipient_kinds": [
                RecipientKind(k).label for k in shown["recipient_kind"] if kind != "tpo"
            ],
            "purpose_boxes": [
                (Purpose(p).label, p in initial.get("purposes", ())) for p in shown["purposes"]
            ],
            "information_boxes": [
                (InfoCategory(i).label, i in initial.get("information", ()))
                for i in shown["information"]
            ],
            "information_detail": initial.get("information_detail", ""),
            "texts": texts(participant.program),
            "blank": True,
        },
        f"consent-form-{participant.record_number}-{kind}",
    )
    return _exported(
        request,
        response,
        obj=participant,
        object_type="privacy.consent.blank",
        changes={"document": f"blank consent form ({kind})"},
    )


# --- the compliance-wide list ------------------------------------------------------------


@staff_view(Perm.CONSENT_VIEW, audit_page="privacy.consents")
def compliance_list(request: StaffRequest) -> HttpResponse:
    """Consents of the user's programs, filtered by status and kind, paginated; a fixed
    number of queries whatever the number of consents."""
    user = request.user
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    programs = list(Program.objects.filter(pk__in=user.program_ids))
    today_of = {p.pk: p.today() for p in programs}
    qs = registry.annotated(
        Consent.objects.filter(participant__in=visible_participants(user))
    ).select_related("participant", "participant__program")
    if status in dict(registry.STATUS_FILTERS):
        by_program = Q(pk__in=[])
        for program_id, today in today_of.items():
            by_program |= Q(participant__program_id=program_id) & registry.status_q(status, today)
        qs = qs.filter(by_program)
        if status == registry.EXPIRING:
            qs = qs.order_by("expires_on", "pk")
    else:
        status = ""
        qs = qs.filter(voided=False)
    if kind in ConsentKind.values:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            **registry.row(
                c, today_of.get(c.participant.program_id) or c.participant.program.today()
            ),
            "participant": c.participant,
        }
        for c in page.object_list
    ]
    params = {k: v for k, v in (("status", status), ("kind", kind)) if v}
    return render(
        request,
        "privacy/consents/compliance_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "kind": kind,
            "statuses": registry.STATUS_FILTERS,
            "kinds": ConsentKind.choices,
            "filtered": bool(params),
            "querystring": urlencode(params),
            "list_url": reverse("privacy:consents"),
        },
    )
