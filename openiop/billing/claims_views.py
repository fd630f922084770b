"""Claim pages under /billing/claims/ (issue 11, point 4): the list with its totals and
CSV, building claims from billable days, one claim with its actions, and claim files
(837P batches) with their download.

billing.view reads, billing.manage changes. Everything is scoped to the user's programs
(a record outside answers 404); a claim's page audits its participant through
`participants.access`. An invalid form answers 400 with its errors; a change the claim's
state refuses (or a stale version, or the consent gate) 409 with the reason."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.audit_views import csv_cell
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.privacy import gate

from . import claims as services
from .choices import ClaimStatus
from .claims_forms import (
    VOIDED,
    ClaimFilterForm,
    DeniedForm,
    PaidForm,
    PeriodForm,
    SubmitForm,
    VersionForm,
    VoidForm,
    last_month,
    payers_for,
)
from .models import Claim, ClaimBatch, ClaimLine

PAGE_SIZE = 50
CSV_HEADER = [
    "claim",
    "status",
    "voided",
    "payer",
    "payer id",
    "record number",
    "participant",
    "member id",
    "period start",
    "period end",
    "claim charge",
    "paid",
    "paid on",
    "denial code",
    "diagnosis codes",
    "service date",
    "service code",
    "modifiers",
    "place of service",
    "units",
    "line charge",
    "minutes",
    "authorisation",
]


# --- the list ----------------------------------------------------------------------------------


def visible_claims(user: Any) -> QuerySet[Claim]:
    return Claim.objects.filter(
        program_id__in=user.program_ids, participant__in=visible_participants(user)
    )


def filtered_claims(user: Any, data: dict[str, Any]) -> QuerySet[Claim]:
    qs = visible_claims(user)
    status = data.get("status") or ""
    if status == VOIDED:
        qs = qs.filter(voided=True)
    else:
        qs = qs.filter(voided=False)
        if status:
            qs = qs.filter(status=status)
    if data.get("payer"):
        qs = qs.filter(payer=data["payer"])
    if data.get("start"):
        qs = qs.filter(period_end__gte=data["start"])
    if data.get("end"):
        qs = qs.filter(period_start__lte=data["end"])
    text = (data.get("number") or "").strip()
    if text:
        qs = qs.filter(number__icontains=text)
    return qs


@staff_view(Perm.BILLING_VIEW, audit_page="billing.claims")
def claim_list(request: StaffRequest) -> HttpResponse:
    form = ClaimFilterForm(request.GET or None, user=request.user)
    status = 200
    if form.is_bound and not form.is_valid():
        qs = Claim.objects.none()
        status = 400
    else:
        qs = filtered_claims(request.user, form.cleaned_data if form.is_bound else {})
    totals = qs.aggregate(
        charge=Sum("total_charge"),
        paid=Sum("paid_amount"),
        drafts=Count("pk", filter=Q(status=ClaimStatus.DRAFT, voided=False)),
    )
    rows = (
        qs.select_related("participant", "payer")
        .annotate(day_count=Count("lines"))
        .order_by("-period_end", "-number")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "billing/claims/list.html",
        {
            "form": form,
            "page": page,
            "totals": totals,
            "querystring": params.urlencode(),
            "can_manage": request.user.has_perm_code(Perm.BILLING_MANAGE),
        },
        status=status,
    )


def _csv_rows(claims: QuerySet[Claim]) -> list[list[str]]:
    lines = (
        ClaimLine.objects.filter(claim__in=claims)
        .select_related("claim__participant", "claim__payer", "claim__coverage", "authorisation")
        .order_by("claim__number", "service_date", "pk")
    )
    out = []
    for line in lines:
        claim = line.claim
        out.append(
            [
                claim.number,
                claim.get_status_display(),
                "yes" if claim.voided else "no",
                claim.payer.name,
                claim.payer.payer_id,
                claim.participant.record_number,
                claim.participant.legal_name,
                claim.coverage.member_id,
                claim.period_start.isoformat(),
                claim.period_end.isoformat(),
                str(claim.total_charge),
                "" if claim.paid_amount is None else str(claim.paid_amount),
                claim.paid_on.isoformat() if claim.paid_on else "",
                claim.denial_code,
                " ".join(claim.diagnosis_codes),
                line.service_date.isoformat(),
                line.service_code,
                " ".join(line.modifiers),
                line.place_of_service,
                str(line.units),
                str(line.charge),
                str(line.minutes),
                line.authorisation.reference_number if line.authorisation else "",
            ]
        )
    return out


@staff_view(Perm.BILLING_VIEW)
def claims_csv(request: StaffRequest) -> HttpResponse:
    """The claims of the list's filter, one row per line (codes only, no diagnosis
    descriptions). Audited as an export."""
    form = ClaimFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "billing/claims/list.html",
            {"form": form, "page": None, "totals": {}, "querystring": ""},
            status=400,
        )
    qs = filtered_claims(request.user, form.cleaned_data if form.is_bound else {})
    rows = _csv_rows(qs)
    audit.record(
        AuditAction.EXPORT,
        actor=request.user,
        object_type="billing.claim",
        object_repr="claims CSV",
        changes={
            "filter": {k: v for k, v in request.GET.items() if k != "page"},
            "claims": len({row[0] for row in rows}),
            "lines": len(rows),
        },
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows([[csv_cell(v) for v in row] for row in rows])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"claims-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- building claims ---------------------------------------------------------------------------


def _period_data(request: StaffRequest, today: Any) -> dict[str, Any] | None:
    """The build form's data: what was asked for, or last month and the first payer."""
    if request.method == "POST":
        return request.POST
    if any(k in request.GET for k in ("payer", "start", "end")):
        return request.GET
    payer = payers_for(request.user).first()
    if payer is None:
        return None
    start, end = last_month(today)
    return {"payer": str(payer.pk), "start": start.isoformat(), "end": end.isoformat()}


@staff_view(Perm.BILLING_MANAGE, audit_page="billing.claims_build")
def build(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    form = PeriodForm(_period_data(request, today), user=request.user, today=today)
    context: dict[str, Any] = {"form": form, "today": today}
    if not form.is_bound:
        return render(request, "billing/claims/build.html", context)
    if not form.is_valid():
        return render(request, "billing/claims/build.html", context, status=400)
    payer = form.cleaned_data["payer"]
    program = payer.program
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    today = program.today()
    if request.method == "POST":
        try:
            result = services.build_claims(
                program, payer, start, end, actor=request.user, today=today
            )
        except services.ClaimError as exc:
            context["error"] = str(exc)
            return render(request, "billing/claims/build.html", context, status=409)
        if result.claims:
            messages.success(
                request,
                f"Built {len(result.claims)} claim{'s' if len(result.claims) != 1 else ''} "
                f"({result.days_claimed} days, ${result.total_charge}) to {payer.name}, "
                "to review and submit.",
            )
        else:
            messages.info(request, "No day was ready to claim: nothing was built.")
        if result.left_out:
            messages.warning(request, result.summary())
        query = f"?payer={payer.pk}&start={start.isoformat()}&end={end.isoformat()}"
        return redirect(reverse("billing:build") + query)
    try:
        context["preview"] = services.preview(program, payer, start, end, today=today)
    except services.ClaimError as exc:
        context["error"] = str(exc)
        return render(request, "billing/claims/build.html", context, status=409)
    context["period_claims"] = list(
        visible_claims(request.user)
        .filter(payer=payer, voided=False, period_end__gte=start, period_start__lte=end)
        .select_related("participant")
        .annotate(day_count=Count("lines"))
        .order_by("number")
    )
    return render(request, "billing/claims/build.html", context)


# --- one claim ---------------------------------------------------------------------------------


def _claim(request: StaffRequest, pk: int, perm: str = Perm.BILLING_VIEW) -> tuple[Claim, Any]:
    claim = (
        Claim.objects.filter(pk=pk, program_id__in=request.user.program_ids)
        .select_related(
            "payer", "coverage", "batch", "episode", "program", "created_by", "voided_by"
        )
        .first()
    )
    if claim is None:
        raise Http404("No such claim in your programs")
    participant = get_participant_for(request, claim.participant_id, perm, what="billing.claim")
    claim.participant = participant
    return claim, participant


def history(claim: Claim) -> list[tuple[Any, str, str]]:
    """(when, what, by) of the claim, from its own fields."""
    out: list[tuple[Any, str, str]] = [
        (
            claim.created_at,
            "Built from billable days",
            claim.created_by.display_name if claim.created_by else "",
        )
    ]
    if claim.submitted_at:
        control = f" in file {claim.batch}" if claim.batch else ""
        out.append((claim.submitted_at, f"Submitted{control}", claim.submitted_by_name))
    if claim.denied_on:
        out.append(
            (claim.denied_on, f"Denied: {claim.denial_code} {claim.denial_reason}".strip(), "")
        )
    if claim.paid_on:
        out.append((claim.paid_on, f"Paid ${claim.paid_amount}", ""))
    if claim.voided and claim.voided_at:
        by = claim.voided_by.display_name if claim.voided_by else ""
        out.append((claim.voided_at, f"Voided: {claim.void_reason}", by))
    return out


def _claim_page(
    request: StaffRequest,
    claim: Claim,
    *,
    form: Any = None,
    error: str = "",
    refusals: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    lines = list(ClaimLine.objects.filter(claim=claim).select_related("authorisation"))
    manage = request.user.has_perm_code(Perm.BILLING_MANAGE) and not claim.voided
    initial = {"version": claim.version}
    context: dict[str, Any] = {
        "claim": claim,
        "participant": claim.participant,
        "lines": lines,
        "history": history(claim),
        "error": error,
        "refusals": refusals or [],
        "period": services.period_text(claim),
    }
    if claim.status == ClaimStatus.DRAFT and not claim.voided:
        decision = gate.check(services.disclosure_request(claim))
        context["consent"] = decision
    if manage:
        today = claim.program.today()
        if services.can(claim, "submit"):
            context["submit_form"] = VersionForm(initial=initial)
        if services.can(claim, "pay"):
            context["paid_form"] = PaidForm(
                initial={**initial, "amount": claim.total_charge, "paid_on": today}
            )
        if services.can(claim, "deny"):
            context["denied_form"] = DeniedForm(initial={**initial, "denied_on": today})
        if services.can(claim, "void"):
            context["void_form"] = VoidForm(initial=initial)
    if form is not None:
        context["form"] = form
        for key, kind in (
            ("submit_form", VersionForm),
            ("paid_form", PaidForm),
            ("denied_form", DeniedForm),
            ("void_form", VoidForm),
        ):
            if isinstance(form, kind):
                context[key] = form
    return render(request, "billing/claims/claim.html", context, status=status)


@staff_view(Perm.BILLING_VIEW)
def claim_detail(request: StaffRequest, pk: int) -> HttpResponse:
    claim, _ = _claim(request, pk)
    return _claim_page(request, claim)


def _action(request: StaffRequest, pk: int, action: str, form_class: Any) -> Any:
    """(claim, bound form or None, response or None) for an action's POST."""
    claim, _ = _claim(request, pk, Perm.BILLING_MANAGE)
    if request.method != "POST":
        return claim, None, _claim_page(request, claim)
    why = services.problem(claim, action)
    if why:
        return claim, None, _claim_page(request, claim, error=why, status=409)
    form = form_class(posted(request))
    if not form.is_valid():
        return claim, None, _claim_page(request, claim, form=form, status=400)
    return claim, form, None


def _refused(request: StaffRequest, pk: int, exc: Exception) -> HttpResponse:
    claim, _ = _claim(request, pk, Perm.BILLING_MANAGE)
    return _claim_page(request, claim, error=str(exc), status=409)


@staff_view(Perm.BILLING_MANAGE)
def claim_submit(request: StaffRequest, pk: int) -> HttpResponse:
    claim, form, response = _action(request, pk, "submit", VersionForm)
    if response is not None:
        return response
    if form.cleaned_data["version"] != claim.version:
        return _refused(request, pk, StaleEdit(_stale()))
    try:
        batch = services.submit_claims([claim], actor=request.user)
    except services.SubmitRefused as exc:
        claim, _ = _claim(request, pk, Perm.BILLING_MANAGE)
        reasons = [r for rs in exc.refused.values() for r in rs]
        return _claim_page(request, claim, error=str(exc), refusals=reasons, status=409)
    except services.ClaimError as exc:
        return _refused(request, pk, exc)
    messages.success(request, f"Claim {claim.number} submitted in claim file {batch}.")
    return redirect("billing:batch", batch.pk)


def _stale() -> str:
    return (
        "Someone else changed this claim while you had it open. Nothing was done; "
        "reload to see the claim as it is now."
    )


@staff_view(Perm.BILLING_MANAGE)
def claim_paid(request: StaffRequest, pk: int) -> HttpResponse:
    claim, form, response = _action(request, pk, "pay", PaidForm)
    if response is not None:
        return response
    data = form.cleaned_data
    try:
        services.mark_paid(
            claim,
            actor=request.user,
            amount=data["amount"],
            paid_on=data["paid_on"],
            payer_claim_number=data["payer_claim_number"],
            expected_version=data["version"],
        )
    except (services.ClaimError, StaleEdit) as exc:
        return _refused(request, pk, exc)
    messages.success(request, f"Claim {claim.number} marked paid: ${data['amount']}.")
    return redirect("billing:claim", claim.pk)


@staff_view(Perm.BILLING_MANAGE)
def claim_denied(request: StaffRequest, pk: int) -> HttpResponse:
    claim, form, response = _action(request, pk, "deny", DeniedForm)
    if response is not None:
        return response
    data = form.cleaned_data
    try:
        services.mark_denied(
            claim,
            actor=request.user,
            code=data["code"],
            reason=data["reason"],
            denied_on=data["denied_on"],
            expected_version=data["version"],
        )
    except (services.ClaimError, StaleEdit) as exc:
        return _refused(request, pk, exc)
    messages.success(
        request,
        f"Claim {claim.number} marked denied. Fix the problem, then void it to claim its "
        "days again, or record the payment if an appeal succeeds.",
    )
    return redirect("billing:claim", claim.pk)


@staff_view(Perm.BILLING_MANAGE)
def claim_void(request: StaffRequest, pk: int) -> HttpResponse:
    claim, form, response = _action(request, pk, "void", VoidForm)
    if response is not None:
        return response
    try:
        services.void_claim(
            claim,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except (services.ClaimError, StaleEdit) as exc:
        return _refused(request, pk, exc)
    messages.success(request, f"Claim {claim.number} voided: its days may be claimed again.")
    return redirect("billing:claim", claim.pk)


# --- sending claims and claim files ------------------------------------------------------------


def _submit_page(
    request: StaffRequest,
    form: SubmitForm,
    *,
    error: str = "",
    refused: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    drafts = list(form.drafts)
    decisions = gate.check_many([services.disclosure_request(c) for c in drafts])
    rows = list(zip(drafts, decisions, strict=True))
    return render(
        request,
        "billing/claims/submit.html",
        {
            "form": form,
            "rows": rows,
            "error": error,
            "refused": sorted((refused or {}).items()),
            "chosen": set(request.POST.getlist("claims")) if form.is_bound else set(),
        },
        status=status,
    )


@staff_view(Perm.BILLING_MANAGE, audit_page="billing.claims_submit")
def submit(request: StaffRequest) -> HttpResponse:
    """Send chosen DRAFT claims of one payer as one claim file (from the list, or from
    this page's own list of drafts)."""
    form = SubmitForm(posted(request), user=request.user)
    if request.method != "POST":
        return _submit_page(request, form)
    if not form.is_valid():
        return _submit_page(request, form, status=400)
    try:
        batch = services.submit_claims(form.cleaned_data["claims"], actor=request.user)
    except services.SubmitRefused as exc:
        return _submit_page(request, form, error=str(exc), refused=exc.refused, status=409)
    except services.ClaimError as exc:
        return _submit_page(request, form, error=str(exc), status=409)
    sent = len(getattr(batch, "sent", []))
    messages.success(
        request, f"{sent} claim{'s' if sent != 1 else ''} submitted in claim file {batch}."
    )
    for number, reasons in sorted(getattr(batch, "refused", {}).items()):
        messages.error(
            request,
            f"Claim {number} was not sent and stays to review — the consent gate refused it "
            f"(42 CFR Part 2): {' '.join(reasons)}",
        )
    return redirect("billing:batch", batch.pk)


def _batch(request: StaffRequest, pk: int) -> ClaimBatch:
    batch = (
        ClaimBatch.objects.filter(pk=pk, program_id__in=request.user.program_ids)
        .select_related("payer", "created_by", "program")
        .first()
    )
    if batch is None:
        raise Http404("No such claim file in your programs")
    return batch


@staff_view(Perm.BILLING_VIEW, audit_page="billing.claims_batch")
def batch_detail(request: StaffRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    claims = list(
        Claim.objects.filter(batch=batch)
        .select_related("participant")
        .annotate(day_count=Count("lines"))
        .order_by("number")
    )
    return render(
        request,
        "billing/claims/batch.html",
        {
            "batch": batch,
            "claims": claims,
            "can_download": request.user.has_perm_code(Perm.BILLING_MANAGE),
        },
    )


@staff_view(Perm.BILLING_MANAGE)
def batch_download(request: StaffRequest, pk: int) -> HttpResponse:
    """The 837P file as it was made. Audited as an export."""
    batch = _batch(request, pk)
    audit.record(AuditAction.EXPORT, actor=request.user, obj=batch, reason="837P claim file")
    response = HttpResponse(batch.content, content_type="text/plain; charset=us-ascii")
    name = f"837P-{batch.control_number:09d}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
