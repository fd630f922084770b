"""TEDS state reporting: the export page and its two files (issue 10, point 5).

`teds:export` (teds.export; compliance and the director) shows, for a period and the
user's programs, how many admission and discharge records there are, how many are valid,
and every record with a problem (participant, each element, value and why, and where to
fix it). `teds:download` writes one CSV of valid records only (admissions or discharges),
audited as an export with the period and the counts. The records of a period are loaded
in two queries, however many episodes there are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm
from openiop.core.routers import report_view
from openiop.participants.models import Episode

from . import teds
from .teds_forms import PeriodForm, period_form


def _episodes(user: Any) -> QuerySet[Episode]:
    return Episode.objects.filter(
        voided=False, participant__voided=False, program_id__in=user.program_ids
    ).select_related("participant", "program")


def _related(episode: Episode, name: str) -> Any:
    """A reverse one-to-one loaded with select_related (None when there is none)."""
    try:
        obj = getattr(episode, name)
    except ObjectDoesNotExist:
        return None
    return None if obj is None or getattr(obj, "voided", False) else obj


def load_records(
    user: Any, start: dt.date, end: dt.date, provider: teds.Provider
) -> dict[str, list[teds.TedsRecord]]:
    """Every admission and discharge of the user's programs in the period, as records.

    1. admissions: episodes admitted in the period, with participant, program and items
    2. discharges: episodes discharged in the period (by the episode or its discharge
       record), with participant, program and discharge
    """
    admitted = (
        _episodes(user)
        .filter(admission_date__range=(start, end))
        .select_related("teds_admission")
        .order_by("admission_date", "pk")
    )
    discharged = (
        _episodes(user)
        .filter(
            Q(discharge_date__range=(start, end))
            | Q(discharge__discharge_date__range=(start, end), discharge__voided=False)
        )
        .select_related("discharge")
        .order_by("discharge_date", "pk")
    )
    return {
        teds.ADMISSIONS: [
            teds.admission_record(e, _related(e, "teds_admission"), provider) for e in admitted
        ],
        teds.DISCHARGES: [
            teds.discharge_record(e, _related(e, "discharge"), provider) for e in discharged
        ],
    }


def _page(
    request: StaffRequest,
    form: PeriodForm,
    provider: teds.Provider,
    *,
    status: int = 200,
    refusal: str = "",
) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        "form": form,
        "provider": provider,
        "refusal": refusal,
        "can_fix_items": user.has_perm_code(Perm.CLINICAL_VIEW)
        or user.has_perm_code(Perm.INTAKE_VIEW),
        "can_fix_discharge": user.has_perm_code(Perm.CLINICAL_VIEW),
        "can_fix": user.has_perm_code(Perm.CLINICAL_VIEW) or user.has_perm_code(Perm.INTAKE_VIEW),
        "kinds": [],
    }
    if form.is_valid():
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        records = load_records(user, start, end, provider)
        context["kinds"] = [
            {
                "kind": kind,
                "title": "Admissions (TEDS-A)"
                if kind == teds.ADMISSIONS
                else "Discharges (TEDS-D)",
                "counts": teds.summary(records[kind]),
                "problems": [r for r in records[kind] if not r.valid],
                "query": f"date_from={start.isoformat()}&date_to={end.isoformat()}",
            }
            for kind in teds.KINDS
        ]
        context["start"], context["end"] = start, end
    elif status == 200:
        status = 400
    return render(request, "outcomes/teds_export.html", context, status=status)


@staff_view(Perm.TEDS_EXPORT, audit_page="outcomes.teds_export")
@report_view
def export(request: StaffRequest) -> HttpResponse:
    form = period_form(request.GET, timezone.localdate())
    return _page(request, form, teds.provider_from_settings())


@staff_view(Perm.TEDS_EXPORT)
@report_view
def download(request: StaffRequest, kind: str) -> HttpResponse:
    if kind not in teds.KINDS:
        raise Http404("The TEDS files are admissions.csv and discharges.csv")
    provider = teds.provider_from_settings()
    form = period_form(request.GET, timezone.localdate())
    if not form.is_valid():
        return _page(request, form, provider, status=400)
    if not provider.ready:
        return _page(
            request,
            form,
            provider,
            status=409,
            refusal="The program's state reporting identity is not set up, so no file is "
            "written: see the problems at the top of the page.",
        )
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    records = load_records(request.user, start, end, provider)[kind]
    counts = teds.summary(records)
    audit.record(
        AuditAction.EXPORT,
        actor=request.user,
        object_type="outcomes.teds",
        object_id=kind,
        object_repr=f"TEDS {kind}, CSV",
        changes={
            "period": [start.isoformat(), end.isoformat()],
            "kind": kind,
            "records": counts["records"],
            "written": counts["valid"],
            "left_out": counts["with_problems"],
        },
    )
    response = HttpResponse(teds.csv_text(kind, records), content_type="text/csv; charset=utf-8")
    name = f"teds-{kind}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Records-Left-Out"] = str(counts["with_problems"])
    return response
