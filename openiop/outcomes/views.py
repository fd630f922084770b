"""The outcomes dashboard, its CSVs and the definitions page (figures only, no names)."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.charts import line_chart_svg
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm
from openiop.core.routers import report_view
from openiop.participants.choices import ReferralSource
from openiop.programs.models import Program, Track
from openiop.scheduling.access import programs_of

from . import charts, report
from .definitions import BREAKDOWNS, COMMON, DEFINITIONS
from .forms import OutcomesFilterForm
from .queries import Filters


def _program(request: StaffRequest) -> tuple[list[Program], Program | None, str]:
    """The user's programs and the one asked for with ?program= (the first by default);
    an error text for a program that is not one of theirs."""
    programs = list(programs_of(request.user).order_by("name"))
    wanted = request.GET.get("program", "")
    if not wanted:
        return programs, (programs[0] if programs else None), ""
    chosen = next((p for p in programs if str(p.pk) == wanted), None)
    if chosen is None:
        return programs, None, "That program is not one of yours."
    return programs, chosen, ""


def _filters(request: StaffRequest) -> tuple[dict[str, Any], Filters | None, int]:
    """The page's context for the filter form, the filters (None when the input is bad
    or the user works in no program) and the status to answer with."""
    programs, program, problem = _program(request)
    context: dict[str, Any] = {"programs": programs, "program": program, "problem": problem}
    if program is None:
        return context, None, 400 if problem else 200
    tracks = list(Track.objects.filter(program=program).order_by("start_time", "name"))
    today = program.today()
    form = OutcomesFilterForm(request.GET, program=program, tracks=tracks, today=today)
    context.update(form=form, tracks=tracks)
    if not form.is_valid():
        return context, None, 400
    data = form.cleaned_data
    filters = Filters(
        program=program,
        first=data["date_from"],
        last=data["date_to"],
        today=today,
        track=data["track"],
        source=data["source"] or "",
    )
    context["query"] = urlencode(filters.as_query())
    return context, filters, 200


@staff_view(Perm.OUTCOMES_VIEW, audit_page="outcomes.dashboard")
@report_view
def dashboard(request: StaffRequest) -> HttpResponse:
    context, filters, status = _filters(request)
    if filters is None:
        return render(request, "outcomes/dashboard.html", context, status=status)
    data = report.load(filters, context["tracks"])
    census = data.census
    top = max([n for _d, n in census] + [4])
    reasons = [r for r in data.reasons if r.n]
    fu = data.follow_ups
    context.update(
        report=data,
        census_chart=line_chart_svg(
            [(d, float(n)) for d, n in census],
            y_min=0,
            y_max=float(top + max(1, top // 5)),
            title="People in care each Monday",
            y_label="people",
            width=640,
            height=240,
        ),
        retention_chart=charts.retention_svg(
            data.retention, title="Retention: share still in the program by days since admission"
        ),
        reasons_chart=charts.bars_svg(
            [(r.label, float(r.n), str(r.n)) for r in reasons],
            title="Discharges by reason",
        ),
        follow_up_chart=charts.bars_svg(
            [
                (label, rate.value or 0.0, str(rate))
                for label, rate in (
                    ("Reached", fu.reach),
                    ("No use since discharge", fu.no_use),
                    ("Working or in school", fu.working),
                    ("Stably housed", fu.housed),
                    ("Back in treatment", fu.back_in_treatment),
                )
            ],
            title="Follow-up outcomes (shares)",
            maximum=1.0,
        ),
        breakdowns={
            key: (data.breakdown(key, "track"), data.breakdown(key, "source"))
            for key in report.FIGURES
        },
        definitions={d.key: d for d in DEFINITIONS},
        tables={key: data.table(key) for key in report.FIGURES},
        headlines={key: data.headline(key) for key in report.FIGURES},
        retention_points=[(day, report.pct(value), n) for day, value, n in data.retention_points],
        source_label=dict(ReferralSource.choices).get(filters.source, ""),
        can_export_teds=request.user.has_perm_code(Perm.TEDS_EXPORT),
    )
    return render(request, "outcomes/dashboard.html", context)


@staff_view(Perm.OUTCOMES_VIEW)
@report_view
def figure_csv(request: StaffRequest, figure: str) -> HttpResponse:
    """One figure as CSV, with the dashboard's filters: its table, then its breakdowns
    by track and by referral source. Audited as an export."""
    if figure not in report.FIGURES:
        raise Http404("No such figure")
    context, filters, status = _filters(request)
    if filters is None:
        form = context.get("form")
        reasons = [context["problem"]] if context.get("problem") else []
        if form is not None:
            reasons += [str(e) for errors in form.errors.values() for e in errors]
        text = "The filters are not valid: " + " ".join(reasons or ["you work in no program."])
        return HttpResponse(
            text, status=status if status != 200 else 400, content_type="text/plain"
        )
    data = report.load(filters, context["tracks"])
    audit.record(
        AuditAction.EXPORT,
        actor=request.user,
        object_type="outcomes.figure",
        object_id=figure,
        object_repr=f"outcomes: {report.definition(figure).title}, CSV",
        changes={"filter": filters.as_query()},
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report.definition(figure).title, filters.program.name])
    writer.writerow(["From", filters.first.isoformat(), "To", filters.last.isoformat()])
    writer.writerow(["Track", filters.track.name if filters.track else "all"])
    writer.writerow(["Referral source", filters.source or "all"])
    for title, table in (
        ("", data.table(figure)),
        ("By track", data.breakdown(figure, "track")),
        ("By referral source", data.breakdown(figure, "source")),
    ):
        writer.writerow([])
        if title:
            writer.writerow([title])
        writer.writerow(table.header)
        writer.writerows(table.rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"outcomes-{figure}-{filters.first.isoformat()}-{filters.last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_view(Perm.OUTCOMES_VIEW, audit_page="outcomes.definitions")
def definitions(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "outcomes/definitions.html",
        {"definitions": DEFINITIONS, "common": COMMON, "breakdowns": BREAKDOWNS},
    )
