"""A participant's billing page (issue 11, points 1–3): coverage (insurance and self-pay
with its sliding fee), authorisations with what is used and left, renewals shown as one
chain, and the service days of the last 30 days with why each is or is not billable.

coverage.view reads; coverage.record changes. The participant goes through
`participants.access.get_participant_for` (another program's participant is a 404, every
access audited). An invalid form answers 400 with its errors; a refused change (a stale
version, a rule the record as it now is breaks) 409 with the reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from openiop.core.access import StaffRequest, staff_view
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant

from . import coverage_services as services
from . import days, sliding
from .choices import CoverageKind
from .coverage_forms import (
    AuthorisationForm,
    CoverageForm,
    VoidForm,
    authorisation_initial,
    coverage_initial,
)
from .models import Authorisation, BillingProfile, Coverage, Payer, SlidingFeeTier

WHAT = "billing.coverage"
# The service days the page shows: the last 30 days, today included.
DAYS_SHOWN = 30


def _participant(request: StaffRequest, pk: int, perm: str) -> Participant:
    queryset = visible_participants(request.user).select_related("program", "current_episode")
    return get_participant_for(request, pk, perm, what=WHAT, queryset=queryset)


def _today(participant: Participant) -> dt.date:
    return participant.program.today()


def _coverage(participant: Participant, coverage_pk: int) -> Coverage:
    coverage = (
        Coverage.objects.filter(pk=coverage_pk, participant=participant, voided=False)
        .select_related("payer")
        .first()
    )
    if coverage is None:
        raise Http404("No such coverage for this participant")
    return coverage


def _authorisation(participant: Participant, auth_pk: int) -> Authorisation:
    auth = (
        Authorisation.objects.filter(pk=auth_pk, participant=participant, voided=False)
        .select_related("coverage__payer", "renews")
        .first()
    )
    if auth is None:
        raise Http404("No such authorisation for this participant")
    return auth


# --- the overview ---------------------------------------------------------------------------


@staff_view(Perm.COVERAGE_VIEW)
def overview(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_VIEW)
    return render(request, "billing/coverage/overview.html", overview_context(request, participant))


def overview_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    """Everything the page shows, in a fixed number of queries (test_coverage)."""
    today = _today(participant)
    profile = BillingProfile.objects.filter(program_id=participant.program_id).first()
    coverages = list(
        Coverage.objects.filter(participant=participant).select_related("payer", "voided_by")
    )
    tiers = list(SlidingFeeTier.objects.filter(program_id=participant.program_id, retired=False))
    live = [c for c in coverages if not c.voided]
    rows = []
    for c in live:
        fee = None
        if c.kind == CoverageKind.SELF_PAY and profile is not None:
            fee = sliding.fee_per_day(profile, tiers, c)
        rows.append({"coverage": c, "in_force": c.in_force(today), "fee": fee})
    auths = list(
        Authorisation.objects.filter(participant=participant)
        .select_related("coverage__payer")
        .order_by("start_date", "pk")
    )
    live_auths = [a for a in auths if not a.voided]
    usage = days.authorisation_usage(live_auths, today=today, profile=profile) if profile else {}
    service_days = []
    if profile is not None:
        service_days = days.service_days(
            participant.program,
            today - dt.timedelta(days=DAYS_SHOWN - 1),
            today,
            today=today,
            participant_ids=[participant.pk],
            profile=profile,
        )
    renewed = {a.renews_id for a in live_auths if a.renews_id}
    chains = [
        [{"auth": a, "usage": usage.get(a.pk), "renewed": a.pk in renewed} for a in chain]
        for chain in services.chains(live_auths)
    ]
    can_record = request.user.has_perm_code(Perm.COVERAGE_RECORD)
    return {
        "participant": participant,
        "today": today,
        "profile": profile,
        "coverages": rows,
        "voided_coverages": [c for c in coverages if c.voided],
        "chains": chains,
        "voided_auths": [a for a in auths if a.voided],
        "service_days": list(reversed(service_days)),
        "billable_count": sum(1 for d in service_days if d.billable),
        "can_record": can_record,
        "can_packet": request.user.has_perm_code(Perm.REVIEW_PACKET),
        "can_authorise": can_record
        and any(c.kind == CoverageKind.INSURANCE and c.payer_id for c in live),
        "days_shown": DAYS_SHOWN,
    }


# --- coverage -------------------------------------------------------------------------------


def _payers(participant: Participant, keep: int | None = None) -> Any:
    from django.db.models import Q

    wanted = Q(retired=False)
    if keep is not None:
        wanted |= Q(pk=keep)
    return Payer.objects.filter(wanted, program_id=participant.program_id).order_by("name")


def _others(participant: Participant, exclude: int | None = None) -> list[Coverage]:
    qs = Coverage.objects.filter(participant=participant, voided=False).select_related("payer")
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs)


def _referral_insurance(participant: Participant) -> dict[str, Any] | None:
    """The insurance the intake referral of the current episode recorded, if any."""
    from openiop.intake.models import Referral

    if participant.current_episode_id is None:
        return None
    referral = (
        Referral.objects.filter(episode_id=participant.current_episode_id)
        .values("insurance_payer", "insurance_member_id", "insurance_verified")
        .first()
    )
    if not referral or not (referral["insurance_payer"] or referral["insurance_member_id"]):
        return None
    return dict(referral)


def _form_page(
    request: StaffRequest,
    participant: Participant,
    template: str,
    form: Any,
    *,
    status: int = 200,
    error: str = "",
    **extra: Any,
) -> HttpResponse:
    context = {"participant": participant, "form": form, "error": error, **extra}
    return render(request, template, context, status=status)


@staff_view(Perm.COVERAGE_RECORD)
def coverage_new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_RECORD)
    today = _today(participant)
    template = "billing/coverage/coverage_form.html"
    referral = _referral_insurance(participant)
    args = {"payers": _payers(participant), "others": _others(participant), "today": today}
    if request.method != "POST":
        initial: dict[str, Any] = {"start_date": today}
        if referral:
            initial["member_id"] = referral["insurance_member_id"][:30]
            match = _payers(participant).filter(name__iexact=referral["insurance_payer"]).first()
            if match is not None:
                initial["payer"] = match.pk
        form = CoverageForm(initial=initial, **args)
        return _form_page(request, participant, template, form, referral=referral)
    form = CoverageForm(request.POST, **args)
    if not form.is_valid():
        return _form_page(request, participant, template, form, status=400, referral=referral)
    try:
        services.create_coverage(
            participant,
            actor=request.user,
            values=form.values(),
            verified=form.cleaned_data["verified"],
            full_fee=form.cleaned_data["full_fee"],
            today=today,
        )
    except services.CoverageError as exc:
        return _form_page(
            request, participant, template, form, status=409, error=str(exc), referral=referral
        )
    messages.success(request, "Coverage recorded.")
    return redirect("coverage:overview", participant.pk)


@staff_view(Perm.COVERAGE_RECORD)
def coverage_edit(request: StaffRequest, pk: int, coverage_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_RECORD)
    coverage = _coverage(participant, coverage_pk)
    today = _today(participant)
    template = "billing/coverage/coverage_form.html"
    args = {
        "payers": _payers(participant, keep=coverage.payer_id),
        "others": _others(participant, exclude=coverage.pk),
        "today": today,
        "keep_payer_id": coverage.payer_id,
        "editing": True,
    }
    extra: dict[str, Any] = {"coverage": coverage}
    if request.method != "POST":
        form = CoverageForm(initial=coverage_initial(coverage), **args)
        return _form_page(request, participant, template, form, **extra)
    form = CoverageForm(request.POST, **args)
    if not form.is_valid():
        return _form_page(request, participant, template, form, status=400, **extra)
    try:
        services.change_coverage(
            coverage,
            actor=request.user,
            values=form.values(),
            verified=form.cleaned_data["verified"],
            full_fee=form.cleaned_data["full_fee"],
            today=today,
            expected_version=form.cleaned_data["version"],
        )
    except (services.CoverageError, StaleEdit) as exc:
        return _form_page(request, participant, template, form, status=409, error=str(exc), **extra)
    messages.success(request, "Coverage saved.")
    return redirect("coverage:overview", participant.pk)


@staff_view(Perm.COVERAGE_RECORD)
def coverage_void(request: StaffRequest, pk: int, coverage_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_RECORD)
    coverage = _coverage(participant, coverage_pk)
    template = "billing/coverage/void.html"
    extra: dict[str, Any] = {"record": coverage, "what": "coverage"}
    if request.method != "POST":
        form = VoidForm(initial={"version": coverage.version})
        return _form_page(request, participant, template, form, **extra)
    form = VoidForm(request.POST)
    if not form.is_valid():
        return _form_page(request, participant, template, form, status=400, **extra)
    try:
        services.void_coverage(
            coverage,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (services.CoverageError, StaleEdit) as exc:
        return _form_page(request, participant, template, form, status=409, error=str(exc), **extra)
    messages.success(request, "Coverage voided (kept in the record with the reason).")
    return redirect("coverage:overview", participant.pk)


# --- authorisations ----------------------------------------------------------------------------


def _insurances(participant: Participant) -> Any:
    return (
        Coverage.objects.filter(
            participant=participant,
            voided=False,
            kind=CoverageKind.INSURANCE,
            payer__isnull=False,
        )
        .select_related("payer")
        .order_by("priority", "-start_date", "pk")
    )


def _default_service(participant: Participant) -> str:
    profile = BillingProfile.objects.filter(program_id=participant.program_id).first()
    return profile.service_code if profile else "H0015"


def _need_episode(participant: Participant) -> str:
    if participant.current_episode_id is None:
        return "The participant has no episode of care to authorise."
    return ""


@staff_view(Perm.COVERAGE_RECORD)
def authorisation_new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_RECORD)
    return _new_authorisation(request, participant, renews=None)


@staff_view(Perm.COVERAGE_RECORD)
def authorisation_renew(request: StaffRequest, pk: int, auth_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_RECORD)
    previous = _authorisation(participant, auth_pk)
    return _new_authorisation(request, participant, renews=previous)


def _new_authorisation(
    request: StaffRequest, participant: Participant, *, renews: Authorisation | None
) -> HttpResponse:
    template = "billing/coverage/authorisation_form.html"
    insurances = _insurances(participant)
    extra: dict[str, Any] = {"renews": renews}
    problem = _need_episode(participant)
    if request.method != "POST":
        if renews is not None:
            renewal = services.renewal_of(renews, today=_today(participant))
            initial: dict[str, Any] = {
                "coverage": renews.coverage_id,
                "service_code": renews.service_code,
                "units": renewal.units,
                "start_date": renewal.start_date,
                "end_date": renewal.end_date,
                "reviewer": renews.reviewer,
            }
        else:
            first = insurances.first()
            initial = {
                "coverage": first.pk if first else None,
                "service_code": _default_service(participant),
                "start_date": _today(participant),
            }
        form = AuthorisationForm(initial=initial, coverages=insurances)
        if problem:
            return _form_page(
                request, participant, template, form, status=409, error=problem, **extra
            )
        return _form_page(request, participant, template, form, **extra)
    form = AuthorisationForm(request.POST, coverages=insurances)
    if not form.is_valid():
        return _form_page(request, participant, template, form, status=400, **extra)
    try:
        services.create_authorisation(
            participant, actor=request.user, values=form.values(), renews=renews
        )
    except services.CoverageError as exc:
        return _form_page(request, participant, template, form, status=409, error=str(exc), **extra)
    messages.success(request, "Authorisation renewed." if renews else "Authorisation recorded.")
    return redirect("coverage:overview", participant.pk)


def _used(participant: Participant, auth: Authorisation) -> int:
    profile = BillingProfile.objects.filter(program_id=participant.program_id).first()
    usage = days.authorisation_usage([auth], today=_today(participant), profile=profile)
    return usage[auth.pk].used if auth.pk in usage else 0


@staff_view(Perm.COVERAGE_RECORD)
def authorisation_edit(request: StaffRequest, pk: int, auth_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_RECORD)
    auth = _authorisation(participant, auth_pk)
    used = _used(participant, auth)
    template = "billing/coverage/authorisation_form.html"
    insurances = _insurances(participant)
    extra: dict[str, Any] = {"authorisation": auth, "used": used}
    if request.method != "POST":
        form = AuthorisationForm(
            initial=authorisation_initial(auth), coverages=insurances, used=used, editing=True
        )
        return _form_page(request, participant, template, form, **extra)
    form = AuthorisationForm(request.POST, coverages=insurances, used=used, editing=True)
    if not form.is_valid():
        return _form_page(request, participant, template, form, status=400, **extra)
    try:
        services.change_authorisation(
            auth,
            actor=request.user,
            values=form.values(),
            used=used,
            expected_version=form.cleaned_data["version"],
        )
    except (services.CoverageError, StaleEdit) as exc:
        return _form_page(request, participant, template, form, status=409, error=str(exc), **extra)
    messages.success(request, "Authorisation saved.")
    return redirect("coverage:overview", participant.pk)


@staff_view(Perm.COVERAGE_RECORD)
def authorisation_void(request: StaffRequest, pk: int, auth_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.COVERAGE_RECORD)
    auth = _authorisation(participant, auth_pk)
    template = "billing/coverage/void.html"
    extra: dict[str, Any] = {"record": auth, "what": "authorisation"}
    if request.method != "POST":
        form = VoidForm(initial={"version": auth.version})
        return _form_page(request, participant, template, form, **extra)
    form = VoidForm(request.POST)
    if not form.is_valid():
        return _form_page(request, participant, template, form, status=400, **extra)
    try:
        services.void_authorisation(
            auth,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (services.CoverageError, StaleEdit) as exc:
        return _form_page(request, participant, template, form, status=409, error=str(exc), **extra)
    messages.success(request, "Authorisation voided (kept in the record with the reason).")
    return redirect("coverage:overview", participant.pk)
