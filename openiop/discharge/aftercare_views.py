"""The aftercare plan's pages (issue 10, point 2): the plan with its referrals
(clinical.view), writing it, its referrals added, changed and removed with a reason, and
giving it to the participant with the participant's copy as a PDF (discharge.write).

An invalid form answers 400 with its errors; a refused change (a stale version, a plan
not ready to give, an episode without a plan) 409 with the reason."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.pdf import PdfUnavailable, pdf_response
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant
from openiop.portal.access import PARTICIPANT, PortalRequest, portal_view

from . import aftercare_services as services
from .aftercare_forms import GiveForm, PlanForm, ReferralForm, VoidReferralForm
from .choices import AftercareStatus
from .models import AftercarePlan, AftercareReferral

WHAT = "discharge.aftercareplan"


def _participant(request: StaffRequest, pk: int, perm: str) -> Participant:
    queryset = visible_participants(request.user).select_related(
        "program", "current_episode", "current_episode__primary_counsellor"
    )
    return get_participant_for(request, pk, perm, what=WHAT, queryset=queryset)


def _plan(participant: Participant) -> AftercarePlan | None:
    if participant.current_episode_id is None:
        return None
    return (
        AftercarePlan.objects.filter(episode_id=participant.current_episode_id, voided=False)
        .select_related("given_by")
        .first()
    )


def _need_plan(participant: Participant) -> AftercarePlan:
    plan = _plan(participant)
    if plan is None:
        raise Http404("This participant has no aftercare plan yet")
    return plan


def _referrals(plan: AftercarePlan | None, *, with_void: bool = False) -> list[AftercareReferral]:
    if plan is None:
        return []
    qs = AftercareReferral.objects.filter(plan=plan)
    if not with_void:
        qs = qs.filter(voided=False)
    return list(qs.order_by("voided", "appointment_at", "pk"))


def _referral(plan: AftercarePlan, referral_pk: int) -> AftercareReferral:
    referral = AftercareReferral.objects.filter(pk=referral_pk, plan=plan, voided=False).first()
    if referral is None:
        raise Http404("No such referral on this plan")
    return referral


def _page(
    request: StaffRequest,
    participant: Participant,
    plan: AftercarePlan | None,
    *,
    error: str = "",
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    referrals = _referrals(plan, with_void=True)
    live = [r for r in referrals if not r.voided]
    episode = participant.current_episode
    context = {
        "participant": participant,
        "episode": episode,
        "plan": plan,
        "referrals": live,
        "removed": [r for r in referrals if r.voided],
        "can_write": request.user.has_perm_code(Perm.DISCHARGE_WRITE),
        "can_start": services.can_have_plan(episode),
        "changed_since_given": bool(plan and services.changed_since_given(plan)),
        "give_problems": services.give_problems(plan, live) if plan else [],
        "give_form": GiveForm(initial={"version": plan.version}) if plan else None,
        "error": error,
        **(extra or {}),
    }
    return render(request, "discharge/aftercare.html", context, status=status)


@staff_view(Perm.CLINICAL_VIEW)
def plan(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.CLINICAL_VIEW)
    return _page(request, participant, _plan(participant))


def _form_page(
    request: StaffRequest,
    participant: Participant,
    plan: AftercarePlan | None,
    form: Any,
    template: str,
    *,
    error: str = "",
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        template,
        {"participant": participant, "plan": plan, "form": form, "error": error, **(extra or {})},
        status=status,
    )


@staff_view(Perm.DISCHARGE_WRITE)
def edit(request: StaffRequest, pk: int) -> HttpResponse:
    """The plan's text; the first save starts the plan (version 0: no plan yet)."""
    participant = _participant(request, pk, Perm.DISCHARGE_WRITE)
    current = _plan(participant)
    template = "discharge/aftercare_edit.html"
    if request.method != "POST":
        if current is None and not services.can_have_plan(participant.current_episode):
            return _page(request, participant, None, error=services.NOT_IN_CARE, status=409)
        initial: dict[str, Any] = {"version": current.version if current else 0}
        if current is not None:
            initial.update({n: getattr(current, n) for n in services.PLAN_FIELDS})
        return _form_page(request, participant, current, PlanForm(initial=initial), template)
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _form_page(request, participant, current, form, template, status=400)
    version = form.cleaned_data["version"]
    try:
        with transaction.atomic():
            if current is None:
                if version != 0:
                    raise StaleEdit("This plan does not exist any more; reload the page.")
                current, _made = services.start_plan(
                    participant.current_episode, actor=request.user
                )
                version = current.version
            services.save_plan(
                current, actor=request.user, values=form.cleaned_data, expected_version=version
            )
    except (services.AftercareError, StaleEdit) as exc:
        return _form_page(request, participant, current, form, template, error=str(exc), status=409)
    messages.success(request, "Aftercare plan saved.")
    return redirect("aftercare:plan", participant.pk)


def _tz(participant: Participant) -> Any:
    return participant.program.tz


@staff_view(Perm.DISCHARGE_WRITE)
def referral_new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.DISCHARGE_WRITE)
    current = _need_plan(participant)
    template = "discharge/aftercare_referral.html"
    if request.method != "POST":
        form = ReferralForm(initial={"version": current.version}, tz=_tz(participant))
        return _form_page(request, participant, current, form, template)
    form = ReferralForm(request.POST, tz=_tz(participant))
    if not form.is_valid():
        return _form_page(request, participant, current, form, template, status=400)
    try:
        services.add_referral(
            current,
            actor=request.user,
            values=form.values(),
            expected_version=form.cleaned_data["version"],
        )
    except (services.AftercareError, StaleEdit) as exc:
        return _form_page(request, participant, current, form, template, error=str(exc), status=409)
    messages.success(request, "Referral added to the aftercare plan.")
    return redirect("aftercare:plan", participant.pk)


@staff_view(Perm.DISCHARGE_WRITE)
def referral_edit(request: StaffRequest, pk: int, referral_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.DISCHARGE_WRITE)
    current = _need_plan(participant)
    referral = _referral(current, referral_pk)
    template = "discharge/aftercare_referral.html"
    tz = _tz(participant)
    extra = {
        "referral": referral,
        "void_form": VoidReferralForm(initial={"version": referral.version}),
    }
    if request.method != "POST":
        local = timezone.localtime(referral.appointment_at, tz) if referral.appointment_at else None
        form = ReferralForm(
            initial={
                "version": referral.version,
                **{n: getattr(referral, n) for n in services.REFERRAL_FIELDS},
                "day": local.date() if local else None,
                "time": local.time().replace(second=0, microsecond=0) if local else None,
            },
            tz=tz,
        )
        return _form_page(request, participant, current, form, template, extra=extra)
    form = ReferralForm(request.POST, tz=tz)
    if not form.is_valid():
        return _form_page(request, participant, current, form, template, status=400, extra=extra)
    try:
        services.change_referral(
            referral,
            actor=request.user,
            values=form.values(),
            expected_version=form.cleaned_data["version"],
        )
    except (services.AftercareError, StaleEdit) as exc:
        return _form_page(
            request, participant, current, form, template, error=str(exc), status=409, extra=extra
        )
    messages.success(request, "Referral saved.")
    return redirect("aftercare:plan", participant.pk)


@staff_view(Perm.DISCHARGE_WRITE)
def referral_void(request: StaffRequest, pk: int, referral_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.DISCHARGE_WRITE)
    current = _need_plan(participant)
    referral = _referral(current, referral_pk)
    template = "discharge/aftercare_void.html"
    extra = {"referral": referral}
    if request.method != "POST":
        form = VoidReferralForm(initial={"version": referral.version})
        return _form_page(request, participant, current, form, template, extra=extra)
    form = VoidReferralForm(request.POST)
    if not form.is_valid():
        return _form_page(request, participant, current, form, template, status=400, extra=extra)
    try:
        services.void_referral(
            referral,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (services.AftercareError, StaleEdit) as exc:
        return _form_page(
            request, participant, current, form, template, error=str(exc), status=409, extra=extra
        )
    messages.success(request, "Referral removed from the plan (kept in the record).")
    return redirect("aftercare:plan", participant.pk)


@staff_view(Perm.DISCHARGE_WRITE)
def give(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.DISCHARGE_WRITE)
    current = _need_plan(participant)
    if request.method != "POST":
        return _page(request, participant, current)
    form = GiveForm(request.POST)
    if not form.is_valid():
        return _page(request, participant, current, status=400, extra={"form": form})

    def render_copy(plan: AftercarePlan, referrals: list[AftercareReferral]) -> bytes:
        return services.render_plan_pdf(plan, referrals, request)

    try:
        services.give_plan(
            current,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
            render=render_copy,
        )
    except (services.AftercareError, StaleEdit) as exc:
        return _page(request, participant, _need_plan(participant), error=str(exc), status=409)
    except PdfUnavailable as exc:
        return HttpResponse(
            f"PDFs cannot be made on this server: WeasyPrint is not available ({exc}).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    messages.success(
        request,
        "The plan is marked as given to the participant. Print the participant's copy.",
    )
    return redirect("aftercare:plan", participant.pk)


@staff_view(Perm.CLINICAL_VIEW)
def pdf(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.CLINICAL_VIEW)
    current = _need_plan(participant)
    audit.record(AuditAction.EXPORT, actor=request.user, obj=current, reason="aftercare plan PDF")
    return pdf_response(
        request,
        services.PDF_TEMPLATE,
        services.pdf_context(current, _referrals(current)),
        f"aftercare-plan-{participant.record_number}",
    )


# --- the participant's copy in the portal (/my/aftercare/) ------------------------------------

# The portal speaks the participant's language: the referral kinds and who arranges them,
# translated here (the model's labels are the staff's English).
PORTAL_KINDS = {
    "therapy": _("Outpatient therapy"),
    "alumni_group": _("Alumni group"),
    "mutual_help": _("Mutual-help meetings (12-step, SMART Recovery…)"),
    "sober_living": _("Sober living"),
    "moud": _("Medication for opioid use disorder"),
    "maud": _("Medication for alcohol use disorder"),
    "psychiatry": _("Mental health care"),
    "primary_care": _("Primary care"),
    "social_services": _("Social services (housing, benefits, employment)"),
    "other": _("Other"),
}
PORTAL_RESPONSIBLE = {
    "participant": _("You"),
    "counsellor": _("Your counsellor"),
    "case_manager": _("Program staff"),
    "receiving": _("The provider"),
    "family": _("A family member or support person"),
}


@portal_view(PARTICIPANT, audit_page="discharge.aftercare_portal")
def portal_plan(request: PortalRequest) -> HttpResponse:
    given = (
        AftercarePlan.objects.filter(
            participant_id=request.portal.participant_id, voided=False, given_at__isnull=False
        )
        .order_by("-given_at", "-pk")
        .first()
    )
    rows: list[dict[str, Any]] = []
    if given is not None and given.status == AftercareStatus.GIVEN:
        for r in _referrals(given):
            if r.status not in services.LIVE_REFERRAL:
                continue
            rows.append(
                {
                    "kind": PORTAL_KINDS.get(r.kind, r.kind),
                    "provider": r.provider,
                    "contact": r.contact,
                    "appointment_at": r.appointment_at,
                    "responsible": PORTAL_RESPONSIBLE.get(r.responsible, r.responsible),
                    "responsible_name": r.responsible_name,
                }
            )
    return render(
        request,
        "discharge/aftercare_portal.html",
        {
            "plan": given,
            "current": given is not None and given.status == AftercareStatus.GIVEN,
            "rows": rows,
        },
    )
