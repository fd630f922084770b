"""Billing set-up (issue 11, point 1): the program's payers, its billing profile (who the
program is on a claim, what a billable day is and costs) and its self-pay sliding fee.

billing.view reads the lists; billing.manage changes them. Everything is scoped to the
user's programs (another program's payer is a 404). An invalid form answers 400 with
its errors; a refused change (a stale form, a payer still in use) 409 with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from openiop.core import audit
from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.programs.models import Program

from . import sliding
from .models import BillingProfile, Coverage, Payer, SlidingFeeTier
from .setup_forms import (
    CalculatorForm,
    PayerForm,
    ProfileForm,
    RetireForm,
    TierForm,
    TierRetireForm,
    stamp_of,
)

PAYER_FIELDS = PayerForm.Meta.fields
PROFILE_FIELDS = ProfileForm.Meta.fields


class Refused(Exception):
    """A change the record's state does not allow (409)."""


def _programs(request: StaffRequest) -> QuerySet[Program]:
    return Program.objects.filter(pk__in=request.user.program_ids).order_by("name")


def _program(request: StaffRequest) -> tuple[Program, list[Program]]:
    """The program a set-up page is about: ?program=<id> among the user's programs, else
    the first of them. Another program's id is a 404."""
    programs = list(_programs(request))
    if not programs:
        raise Http404("You belong to no program")
    wanted = request.GET.get("program", "")
    if not wanted:
        return programs[0], programs
    chosen = next((p for p in programs if str(p.pk) == wanted.strip()), None)
    if chosen is None:
        raise Http404("No such program among yours")
    return chosen, programs


def _with_program(name: str, program: Program, many: bool) -> str:
    url = reverse(name)
    return f"{url}?program={program.pk}" if many else url


# --- payers ---------------------------------------------------------------------------------


def _in_use(payer: Payer, today: Any) -> list[Coverage]:
    """Coverages not voided that are in force today or start later and name the payer."""
    return list(
        Coverage.objects.filter(payer=payer, voided=False)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("participant")
        .order_by("start_date", "pk")[:10]
    )


@staff_view(Perm.BILLING_VIEW, audit_page="billing.payers")
def payers(request: StaffRequest) -> HttpResponse:
    rows = list(
        Payer.objects.filter(program_id__in=request.user.program_ids)
        .select_related("program")
        .order_by("retired", "program__name", "name")
    )
    return render(
        request,
        "billing/setup/payers.html",
        {
            "active": [p for p in rows if not p.retired],
            "retired": [p for p in rows if p.retired],
            "many_programs": len(request.user.program_ids) > 1,
            "can_manage": request.user.has_perm_code(Perm.BILLING_MANAGE),
        },
    )


def _payer(request: StaffRequest, pk: int) -> Payer:
    payer = (
        Payer.objects.filter(pk=pk, program_id__in=request.user.program_ids)
        .select_related("program")
        .first()
    )
    if payer is None:
        raise Http404("No such payer in your programs")
    return payer


@staff_view(Perm.BILLING_MANAGE, audit_page="billing.payer_new")
def payer_new(request: StaffRequest) -> HttpResponse:
    form = PayerForm(posted(request), programs=_programs(request))
    if request.method != "POST":
        return render(request, "billing/setup/payer_form.html", {"form": form})
    if not form.is_valid():
        return render(request, "billing/setup/payer_form.html", {"form": form}, status=400)
    payer = form.save(commit=False)
    payer.program = form.cleaned_data["program"]
    try:
        with transaction.atomic():
            payer.save()
            audit.record(AuditAction.CREATE, actor=request.user, obj=payer)
    except IntegrityError:
        form.add_error("name", "The program already has a payer of that name.")
        return render(request, "billing/setup/payer_form.html", {"form": form}, status=400)
    messages.success(request, f"Payer {payer.name} added.")
    return redirect("billing:payers")


@staff_view(Perm.BILLING_MANAGE, audit_page="billing.payer_edit")
def payer_edit(request: StaffRequest, pk: int) -> HttpResponse:
    payer = _payer(request, pk)
    template = "billing/setup/payer_form.html"
    context: dict[str, Any] = {"payer": payer}
    if request.method != "POST":
        form = PayerForm(
            instance=payer,
            programs=_programs(request),
            editing=True,
            initial={"stamp": stamp_of(payer)},
        )
        return render(request, template, {**context, "form": form})
    before = audit.snapshot(payer, PAYER_FIELDS)
    form = PayerForm(request.POST, instance=payer, programs=_programs(request), editing=True)
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=400)
    try:
        with transaction.atomic():
            current = Payer.objects.select_for_update().get(pk=payer.pk)
            if stamp_of(current) != form.cleaned_data["stamp"]:
                raise Refused(
                    "Someone else saved this payer while you were editing. Your changes were "
                    "not saved; reload to see theirs."
                )
            if current.retired:
                raise Refused("This payer is retired: it is kept as it was.")
            for name in PAYER_FIELDS:
                setattr(current, name, form.cleaned_data[name])
            changes = audit.diff(before, audit.snapshot(current, PAYER_FIELDS))
            if changes:
                current.updated_at = timezone.now()
                current.save()
                audit.record(AuditAction.CHANGE, actor=request.user, obj=current, changes=changes)
    except Refused as exc:
        return render(request, template, {**context, "form": form, "error": str(exc)}, status=409)
    except IntegrityError:
        form.add_error("name", "The program already has a payer of that name.")
        return render(request, template, {**context, "form": form}, status=400)
    messages.success(request, f"Payer {form.cleaned_data['name']} saved.")
    return redirect("billing:payers")


@staff_view(Perm.BILLING_MANAGE, audit_page="billing.payer_retire")
def payer_retire(request: StaffRequest, pk: int) -> HttpResponse:
    payer = _payer(request, pk)
    template = "billing/setup/payer_retire.html"
    today = payer.program.today()
    blocking = _in_use(payer, today)
    context: dict[str, Any] = {"payer": payer, "blocking": blocking}
    if request.method != "POST":
        form = RetireForm(initial={"stamp": stamp_of(payer)})
        return render(request, template, {**context, "form": form})
    form = RetireForm(request.POST)
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=400)
    try:
        with transaction.atomic():
            current = Payer.objects.select_for_update().get(pk=payer.pk)
            if current.retired:
                raise Refused(f"{current.name} is already retired.")
            if stamp_of(current) != form.cleaned_data["stamp"]:
                raise Refused("Someone else changed this payer since you opened it; reload.")
            using = _in_use(current, today)
            if using:
                raise Refused(retire_refusal(current, using))
            current.retired = True
            current.retired_at = current.updated_at = timezone.now()
            current.save(update_fields=["retired", "retired_at", "updated_at"])
            audit.record(
                AuditAction.CHANGE,
                actor=request.user,
                obj=current,
                changes={"retired": [False, True]},
                reason="payer retired",
            )
    except Refused as exc:
        return render(request, template, {**context, "form": form, "error": str(exc)}, status=409)
    messages.success(request, f"Payer {payer.name} retired: kept on past claims, not offered.")
    return redirect("billing:payers")


def retire_refusal(payer: Payer, using: list[Coverage]) -> str:
    named = "; ".join(
        f"{c.participant.record_number} (member id {c.member_id or '—'}, from "
        f"{c.start_date:%Y-%m-%d})"
        for c in using
    )
    return (
        f"{payer.name} cannot be retired: coverage in force or starting later uses it — "
        f"{named}. End or void that coverage first."
    )


# --- the billing profile ------------------------------------------------------------------


@staff_view(Perm.BILLING_VIEW, audit_page="billing.profile")
def profile(request: StaffRequest) -> HttpResponse:
    program, programs = _program(request)
    current = BillingProfile.objects.filter(program=program).first()
    can_manage = request.user.has_perm_code(Perm.BILLING_MANAGE)
    template = "billing/setup/profile.html"
    context: dict[str, Any] = {
        "program": program,
        "programs": programs,
        "profile": current,
        "can_manage": can_manage,
    }
    if request.method != "POST":
        initial = {"version": current.version if current else 0}
        form = ProfileForm(instance=current, initial=initial) if can_manage else None
        return render(request, template, {**context, "form": form})
    require_perm(request, Perm.BILLING_MANAGE)
    form = ProfileForm(request.POST, instance=current or BillingProfile(program=program))
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=400)
    try:
        _save_profile(request, program, form)
    except Refused as exc:
        return render(request, template, {**context, "form": form, "error": str(exc)}, status=409)
    messages.success(request, f"Billing profile of {program.name} saved.")
    return redirect(_with_program("billing:profile", program, len(programs) > 1))


def _save_profile(request: StaffRequest, program: Program, form: ProfileForm) -> None:
    version = form.cleaned_data["version"]
    stale = (
        "Someone else saved this billing profile while you were editing. Your changes were "
        "not saved; reload to see theirs."
    )
    values = {name: form.cleaned_data[name] for name in PROFILE_FIELDS}
    with transaction.atomic():
        current = BillingProfile.objects.select_for_update().filter(program=program).first()
        if current is None:
            if version != 0:
                raise Refused(stale)
            try:
                with transaction.atomic():
                    made = BillingProfile.objects.create(program=program, **values)
            except IntegrityError:
                raise Refused(stale) from None
            audit.record(AuditAction.CREATE, actor=request.user, obj=made)
            return
        if current.version != version:
            raise Refused(stale)
        before = audit.snapshot(current, PROFILE_FIELDS)
        for name, value in values.items():
            setattr(current, name, value)
        changes = audit.diff(before, audit.snapshot(current, PROFILE_FIELDS))
        if not changes:
            return
        current.version += 1
        current.updated_at = timezone.now()
        current.save()
        audit.record(AuditAction.CHANGE, actor=request.user, obj=current, changes=changes)


# --- the sliding fee ------------------------------------------------------------------------


def calculate(
    profile: BillingProfile | None, tiers: list[SlidingFeeTier], size: int, income: Decimal
) -> dict[str, Any]:
    """What the calculator shows: the guideline, % of it, the tier and the fee a day."""
    if profile is None:
        return {"problem": "Set up the billing profile first (the poverty guideline is there)."}
    guideline = sliding.poverty_guideline(profile.poverty_base, profile.poverty_per_person, size)
    percent = sliding.percent_of_poverty(
        profile.poverty_base, profile.poverty_per_person, size, income
    )
    tier = sliding.tier_for(tiers, percent)
    fee = Decimal(tier.fee_per_day) if tier is not None else Decimal(profile.daily_charge)
    return {"guideline": guideline, "percent": percent, "tier": tier, "fee": fee}


@staff_view(Perm.BILLING_VIEW, audit_page="billing.sliding_fee")
def sliding_fee(request: StaffRequest) -> HttpResponse:
    program, programs = _program(request)
    current = BillingProfile.objects.filter(program=program).first()
    tiers = list(SlidingFeeTier.objects.filter(program=program, retired=False))
    retired = list(SlidingFeeTier.objects.filter(program=program, retired=True))
    can_manage = request.user.has_perm_code(Perm.BILLING_MANAGE)
    calc = CalculatorForm(request.GET if "household_size" in request.GET else None)
    result = (
        calculate(current, tiers, **_calc_args(calc)) if calc.is_bound and calc.is_valid() else None
    )
    form = TierForm(posted(request), tiers=tiers) if can_manage else None
    context = {
        "program": program,
        "programs": programs,
        "profile": current,
        "tiers": tiers,
        "retired": retired,
        "can_manage": can_manage,
        "form": form,
        "calc": calc,
        "result": result,
    }
    template = "billing/setup/sliding_fee.html"
    if request.method != "POST":
        return render(request, template, context)
    require_perm(request, Perm.BILLING_MANAGE)
    if form is None or not form.is_valid():
        return render(request, template, context, status=400)
    with transaction.atomic():
        # Two people adding the same tier at once: the second sees the first's.
        Program.objects.select_for_update().filter(pk=program.pk).first()
        live = list(SlidingFeeTier.objects.filter(program=program, retired=False))
        recheck = TierForm(request.POST, tiers=live)
        if not recheck.is_valid():
            context["form"] = recheck
            return render(request, template, context, status=409)
        tier = form.save(commit=False)
        tier.program = program
        tier.save()
        audit.record(AuditAction.CREATE, actor=request.user, obj=tier, object_repr=str(tier))
    messages.success(request, f"Sliding-fee tier added: {tier}.")
    return redirect(_with_program("billing:sliding_fee", program, len(programs) > 1))


def _calc_args(calc: CalculatorForm) -> dict[str, Any]:
    return {
        "size": calc.cleaned_data["household_size"],
        "income": calc.cleaned_data["annual_income"],
    }


@staff_view(Perm.BILLING_MANAGE, audit_page="billing.tier_retire")
def tier_retire(request: StaffRequest, pk: int) -> HttpResponse:
    tier = (
        SlidingFeeTier.objects.filter(pk=pk, program_id__in=request.user.program_ids)
        .select_related("program")
        .first()
    )
    if tier is None:
        raise Http404("No such sliding-fee tier in your programs")
    template = "billing/setup/tier_retire.html"
    if request.method != "POST":
        return render(
            request, template, {"tier": tier, "form": TierRetireForm(initial={"tier": tier.pk})}
        )
    form = TierRetireForm(request.POST)
    if not form.is_valid() or form.cleaned_data["tier"] != tier.pk:
        if form.is_valid():
            form.add_error("tier", "The form is for another tier: reload the page.")
        return render(request, template, {"tier": tier, "form": form}, status=400)
    with transaction.atomic():
        current = SlidingFeeTier.objects.select_for_update().get(pk=tier.pk)
        if current.retired:
            return render(
                request,
                template,
                {"tier": tier, "form": form, "error": "This tier is already retired."},
                status=409,
            )
        current.retired = True
        current.retired_at = current.updated_at = timezone.now()
        current.save(update_fields=["retired", "retired_at", "updated_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=request.user,
            obj=current,
            object_repr=str(current),
            changes={"retired": [False, True]},
            reason="sliding-fee tier retired",
        )
    messages.success(request, f"Sliding-fee tier retired: {tier}.")
    many = len(request.user.program_ids) > 1
    return redirect(_with_program("billing:sliding_fee", tier.program, many))
