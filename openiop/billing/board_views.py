"""The billing board (/billing/), the days of service (/billing/days/) and the days at
risk with their CSV (/billing/risks/): issue 11, points 2, 3 and 6.

Every page is about one program of the user's (chosen with ?program= when they have
several; the first by default), reads billable days through `days.service_days` and
runs a fixed number of queries whatever the number of participants, authorisations and
days. Bad filters answer 400 with the form's errors.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm
from openiop.programs.models import Program
from openiop.scheduling.access import programs_of

from . import days as billing_days
from . import risks
from .board_forms import DaysFilterForm, RiskFilterForm
from .choices import ClaimStatus, Risk
from .models import BillingProfile, Claim

PAGE_SIZE = 50
# The board looks back this many days for days at risk and days not yet claimed.
BOARD_WINDOW_DAYS = 30


def _int(raw: str | None) -> int | None:
    # isascii: "²".isdigit() is True but int("²") raises.
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def choose_program(request: StaffRequest) -> tuple[list[Program], Program | None, str]:
    """The user's programs, the one asked for with ?program= (the first by default), and
    an error text when the one asked for is not theirs."""
    programs = list(programs_of(request.user).order_by("name"))
    raw = request.GET.get("program", "")
    if not raw:
        return programs, (programs[0] if programs else None), ""
    wanted = _int(raw)
    chosen = next((p for p in programs if p.pk == wanted), None)
    if chosen is None:
        return programs, None, "That program is not one of yours."
    return programs, chosen, ""


def _base_context(programs: list[Program], program: Program | None, problem: str) -> dict:
    return {
        "programs": programs,
        "program": program,
        "problem": problem,
        "several_programs": len(programs) > 1,
    }


def _query(program: Program | None, programs: list[Program], **params: Any) -> str:
    """A query string for a link to another billing page of the same program."""
    if program is not None and len(programs) > 1:
        params = {"program": program.pk, **params}
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return urlencode(clean)


def attention_rows(program: Program, profile: BillingProfile, today: dt.date) -> list[Any]:
    """Live authorisations of the program with an alert (few units left, end near,
    concurrent review due), soonest end first: four queries whatever their number."""
    auths = list(billing_days.live_authorisations(program, today))
    usage = billing_days.authorisation_usage(auths, today=today, profile=profile)
    return [usage[a.pk] for a in auths if a.pk in usage and usage[a.pk].alerts]


# --- the board ---------------------------------------------------------------------------


@staff_view(Perm.BILLING_VIEW, audit_page="billing.board")
def board(request: StaffRequest) -> HttpResponse:
    programs, program, problem = choose_program(request)
    context = _base_context(programs, program, problem)
    if program is None:
        return render(request, "billing/board/board.html", context, status=400 if problem else 200)
    today = program.today()
    profile = billing_days.profile_for(program)
    context.update(today=today, profile=profile)
    if profile is None:
        return render(request, "billing/board/board.html", context)
    start = today - dt.timedelta(days=BOARD_WINDOW_DAYS)
    days = billing_days.service_days(program, start, today, today=today, profile=profile)
    report = risks.report_for(days, start, today, fixes=False)
    claims = Claim.objects.filter(program=program, voided=False).aggregate(
        draft=Count("pk", filter=Q(status=ClaimStatus.DRAFT)),
        denied=Count("pk", filter=Q(status=ClaimStatus.DENIED)),
    )
    unclaimed = [d for d in days if d.billable and not d.claimed]
    period = {"start": start.isoformat(), "end": today.isoformat()}
    context.update(
        attention=attention_rows(program, profile, today),
        start=start,
        window=BOARD_WINDOW_DAYS,
        reasons=[
            {
                "code": code,
                "label": label,
                "count": count,
                "query": _query(program, programs, reason=code, **period),
            }
            for code, label, count in report.by_reason
        ],
        days_at_risk=len(report.days),
        risk_query=_query(program, programs, **period),
        claims_draft=claims["draft"] or 0,
        claims_denied=claims["denied"] or 0,
        unclaimed=len(unclaimed),
        claimable=sum(1 for d in unclaimed if d.claimable),
        unclaimed_charge=sum((d.charge for d in unclaimed if d.claimable), start=0),
        days_query=_query(program, programs, **period),
    )
    return render(request, "billing/board/board.html", context)


# --- days of service ---------------------------------------------------------------------


def _period_data(form: Any, today: dt.date, default_start: dt.date) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["start"] = data.get("start") or default_start
    data["end"] = data.get("end") or today
    return data


def _filter_form(cls: type, request: StaffRequest, initial: dict[str, Any]) -> Any:
    """The filter form bound to ?start=&end=… when any is given, else to the defaults."""
    asked = {k: v for k, v in request.GET.items() if k not in ("program", "page")}
    return cls(
        asked or {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in initial.items()}
    )


@staff_view(Perm.BILLING_VIEW, audit_page="billing.days")
def days(request: StaffRequest) -> HttpResponse:
    """Every service day of the program in a period (this month by default): minutes,
    sessions with their notes, billable or not and why, payer, authorisation, code,
    modifiers, place, units, charge and claim."""
    programs, program, problem = choose_program(request)
    context = _base_context(programs, program, problem)
    if program is None:
        return render(request, "billing/board/days.html", context, status=400 if problem else 200)
    today = program.today()
    first = today.replace(day=1)
    form = _filter_form(DaysFilterForm, request, {"start": first, "end": today, "show": "all"})
    profile = billing_days.profile_for(program)
    context.update(form=form, today=today, profile=profile)
    if not form.is_valid():
        return render(request, "billing/board/days.html", context, status=400)
    data = _period_data(form, today, first)
    rows: list[billing_days.ServiceDay] = []
    if profile is not None:
        rows = billing_days.service_days(
            program, data["start"], data["end"], today=today, profile=profile
        )
    show = data.get("show") or "all"
    if show == "not_billable":
        rows = [d for d in rows if not d.billable]
    elif show == "at_risk":
        rows = risks.at_risk(rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context.update(
        page=page,
        start=data["start"],
        end=data["end"],
        total_days=len(rows),
        total_billable=sum(1 for d in rows if d.billable),
        total_claimed=sum(1 for d in rows if d.claimed),
        querystring=params.urlencode(),
    )
    return render(request, "billing/board/days.html", context)


# --- days at risk ------------------------------------------------------------------------


def _risk_report(request: StaffRequest) -> tuple[dict[str, Any], Any, int]:
    """(context, report or None, status) of the risk page and its CSV."""
    programs, program, problem = choose_program(request)
    context = _base_context(programs, program, problem)
    if program is None:
        return context, None, 400 if problem else 200
    today = program.today()
    default_start = today - dt.timedelta(days=BOARD_WINDOW_DAYS)
    form = _filter_form(RiskFilterForm, request, {"start": default_start, "end": today})
    profile = billing_days.profile_for(program)
    context.update(form=form, today=today, profile=profile)
    if not form.is_valid():
        return context, None, 400
    data = _period_data(form, today, default_start)
    days = []
    if profile is not None:
        days = billing_days.service_days(
            program, data["start"], data["end"], today=today, profile=profile
        )
    report = risks.report_for(days, data["start"], data["end"])
    reason = data.get("reason") or ""
    rows = [r for r in report.rows if not reason or r.code == reason]
    context.update(
        report=report,
        rows=rows,
        reason=reason,
        reason_label=str(Risk(reason).label) if reason else "",
        start=data["start"],
        end=data["end"],
        csv_query=_query(
            program,
            programs,
            start=data["start"].isoformat(),
            end=data["end"].isoformat(),
            reason=reason,
        ),
        reasons=[
            {
                "code": code,
                "label": label,
                "count": count,
                "query": _query(
                    program,
                    programs,
                    start=data["start"].isoformat(),
                    end=data["end"].isoformat(),
                    reason=code,
                ),
            }
            for code, label, count in report.by_reason
        ],
    )
    return context, report, 200


@staff_view(Perm.BILLING_VIEW, audit_page="billing.risks")
def risk_report(request: StaffRequest) -> HttpResponse:
    context, _report, status = _risk_report(request)
    return render(request, "billing/board/risks.html", context, status=status)


CSV_HEADER = [
    "date",
    "record number",
    "participant",
    "minutes",
    "payer",
    "reason code",
    "reason",
    "detail",
    "what to do",
]


@staff_view(Perm.BILLING_VIEW)
def risks_csv(request: StaffRequest) -> HttpResponse:
    """The rows of the risk report as CSV (an export, audited as one)."""
    context, report, status = _risk_report(request)
    if report is None:
        form = context.get("form")
        errors = "; ".join(
            f"{name}: {' '.join(messages)}"
            for name, messages in (form.errors if form else {}).items()
        )
        text = errors or context.get("problem") or "Choose a program."
        return HttpResponse(
            text, status=status if status != 200 else 400, content_type="text/plain; charset=utf-8"
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in context["rows"]:
        d = row.day
        writer.writerow(
            [
                d.day.isoformat(),
                d.participant.record_number,
                d.participant.display_name,
                d.minutes,
                str(d.payer or ""),
                row.code,
                row.label,
                row.message,
                row.fix,
            ]
        )
    audit.record(
        AuditAction.EXPORT,
        actor=request.user,
        object_type="billing.risks",
        changes={
            "program": context["program"].pk,
            "start": context["start"].isoformat(),
            "end": context["end"].isoformat(),
            "reason": context["reason"],
            "rows": len(context["rows"]),
        },
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"days-at-risk-{context['start']:%Y%m%d}-{context['end']:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store, private"
    return response
