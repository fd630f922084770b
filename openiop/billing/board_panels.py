"""Today-board panels of billing (issue 11, point 2):

* "Authorisations running out" (coverage.view): the live authorisations with an alert
  (few units left, end near, concurrent review due) of the participants the user may
  see (`visible_participants`: a counsellor narrowed to their care teams sees their
  caseload's, billing the program's). One query when there is none; with some, one
  more for the billing profiles and three per program for the units used
  (`days.authorisation_usage`), whatever the number of authorisations.
* "Days at risk" (billing.view): per program with a billing profile, the days of the
  last 30 not on a claim that a payer may deny, counted by reason, with a link to the
  report (`risks.days_at_risk`; a fixed number of queries per program).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils import timezone

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm
from openiop.participants.access import visible_participants

from . import days as billing_days
from . import risks
from .models import Authorisation, BillingProfile

PANEL_ROWS = 8
RISK_WINDOW_DAYS = 30


def authorisations_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    # A day's margin: each program's own today is applied below.
    earliest = timezone.localdate() - dt.timedelta(days=1)
    auths = list(
        Authorisation.objects.filter(
            voided=False,
            episode__program_id__in=user.program_ids,
            end_date__gte=earliest,
            participant__in=visible_participants(user),
        )
        .select_related("coverage__payer", "participant", "episode__program")
        .order_by("end_date", "pk")
    )
    if not auths:
        return None
    by_program: dict[int, list[Authorisation]] = defaultdict(list)
    for auth in auths:
        by_program[auth.episode.program_id].append(auth)
    profiles = {
        p.program_id: p for p in BillingProfile.objects.filter(program_id__in=list(by_program))
    }
    rows: list[billing_days.Usage] = []
    for program_id, group in by_program.items():
        today = group[0].episode.program.today()
        live = [a for a in group if a.end_date >= today]
        usage = billing_days.authorisation_usage(
            live, today=today, profile=profiles.get(program_id)
        )
        rows.extend(usage[a.pk] for a in live if a.pk in usage and usage[a.pk].alerts)
    if not rows:
        return None
    rows.sort(key=lambda u: (u.authorisation.end_date, u.authorisation.pk))
    return {"rows": rows[:PANEL_ROWS], "more": max(0, len(rows) - PANEL_ROWS)}


def risks_context(request: StaffRequest) -> dict[str, Any] | None:
    from openiop.scheduling.access import programs_of

    programs = list(programs_of(request.user).order_by("name"))
    profiles = {
        p.program_id: p
        for p in BillingProfile.objects.filter(program_id__in=[p.pk for p in programs])
    }
    out = []
    for program in programs:
        if program.pk not in profiles:
            continue
        today = program.today()
        start = today - dt.timedelta(days=RISK_WINDOW_DAYS)
        days = billing_days.service_days(
            program, start, today, today=today, profile=profiles[program.pk]
        )
        report = risks.report_for(days, start, today, fixes=False)
        if report.days:
            query = f"start={start.isoformat()}&end={today.isoformat()}"
            if len(programs) > 1:
                query = f"program={program.pk}&{query}"
            out.append(
                {
                    "program": program,
                    "total": len(report.days),
                    "reasons": report.by_reason,
                    "query": query,
                }
            )
    if not out:
        return None
    return {"programs": out, "window": RISK_WINDOW_DAYS, "several": len(programs) > 1}


register_panel(
    Panel(
        "billing_authorisations",
        "Authorisations running out",
        Perm.COVERAGE_VIEW,
        "billing/board/panel_authorisations.html",
        authorisations_context,
        order=40,
    )
)
register_panel(
    Panel(
        "billing_risks",
        "Days at risk",
        Perm.BILLING_VIEW,
        "billing/board/panel_risks.html",
        risks_context,
        order=41,
    )
)
