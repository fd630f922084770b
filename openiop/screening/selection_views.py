"""The selection log: each program day's random draw, its seed hash, the seed once the day
is over, and a "Verify" action that re-derives the day's list (issue 7, point 3).

For people who may verify draws (`Perm.SCREENING_VERIFY`: lab, director, supervisor,
compliance). The log never says who was selected: today's row shows only the seed hash
and the pool size; a past day adds the number selected and the revealed seed (the list
itself is on the lab's page for today, and on each participant's record once collected).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.core.access import StaffRequest, staff_view
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.programs.models import Program
from openiop.scheduling.access import programs_of

from . import selection, services
from .models import SelectionDay

# Days of the log on one page (about four months of daily draws).
LOG_ROWS = 120


def _int(raw: str | None) -> int | None:
    # isascii: "²".isdigit() is True but int("²") raises.
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw and len(raw) == 10 else None
    except ValueError:
        return None


@dataclass
class LogRow:
    """What the log shows of one draw: nothing about who."""

    day: dt.date
    pool: int
    selected: int | None  # None while the day is not over
    probability: Any
    seed_hash: str
    seed: str  # "" while the day is not over or not yet revealed
    is_today: bool
    over: bool
    revealed_at: dt.datetime | None
    drawn_at: dt.datetime
    drawn_by: str


def _row(sd: SelectionDay, today: dt.date) -> LogRow:
    over = sd.day < today
    return LogRow(
        day=sd.day,
        pool=len(sd.eligible or []),
        selected=len(sd.selected or []) if over else None,
        probability=sd.probability,
        seed_hash=sd.seed_hash,
        seed=sd.seed if over and sd.revealed_at is not None else "",
        is_today=sd.day == today,
        over=over,
        revealed_at=sd.revealed_at,
        drawn_at=sd.drawn_at,
        drawn_by=sd.drawn_by,
    )


def _log_url(program_id: int) -> str:
    # No anchor: the outcome is shown at the top of the page.
    return f"{reverse('screening:selection_log')}?program={program_id}"


@staff_view(Perm.SCREENING_VERIFY, audit_page="screening.selection_log")
def log(request: StaffRequest) -> HttpResponse:
    """The program's draws, newest first: two queries whatever the number of days."""
    programs = list(programs_of(request.user).order_by("name"))
    if not programs:
        return render(request, "screening/selection_log.html", {"program": None})
    program_id = _int(request.GET.get("program"))
    program = next((p for p in programs if p.pk == program_id), programs[0])
    today = program.today()
    before = _date(request.GET.get("before"))
    found = SelectionDay.objects.filter(program=program).order_by("-day")
    if before is not None:
        found = found.filter(day__lt=before)
    rows = [_row(sd, today) for sd in found[: LOG_ROWS + 1]]
    older = rows[LOG_ROWS].day + dt.timedelta(days=1) if len(rows) > LOG_ROWS else None
    return render(
        request,
        "screening/selection_log.html",
        {
            "programs": programs,
            "program": program,
            "today": today,
            "rows": rows[:LOG_ROWS],
            "older": older,
            "before": before,
            "method": selection.METHOD,
        },
    )


class VerifyForm(forms.Form):
    # No blank choice: the first of the user's programs unless another is chosen.
    program: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, label="Program", empty_label=None
    )
    day = forms.DateField(
        label="Program day", widget=forms.DateInput(attrs={"type": "date"}), help_text="A past day."
    )

    def __init__(self, *args: Any, programs: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["program"]).queryset = programs
        self.selection_day: SelectionDay | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        program, day = data.get("program"), data.get("day")
        if isinstance(program, Program) and isinstance(day, dt.date):
            self.selection_day = (
                SelectionDay.objects.filter(program=program, day=day)
                .select_related("program")
                .first()
            )
            if self.selection_day is None:
                self.add_error("day", "There was no random draw for this program on that day.")
        return data


@staff_view(Perm.SCREENING_VERIFY, audit_page="screening.selection_verify")
def verify(request: StaffRequest) -> HttpResponse:
    """Verify a past day: re-derive its list from the revealed seed and the recorded pool,
    and check both against the audit log. The outcome is audited and shown on the log."""
    programs = programs_of(request.user).order_by("name")
    initial = {}
    if request.method == "GET":
        initial = {
            "program": _int(request.GET.get("program")),
            "day": _date(request.GET.get("day")),
        }
    form = VerifyForm(posted(request), programs=programs, initial=initial)
    refusal = ""
    if request.method == "POST" and form.is_valid() and form.selection_day is not None:
        row = form.selection_day
        today = row.program.today()
        try:
            if row.day >= today:
                raise services.ScreeningError(
                    "The day is not over: its seed is revealed after the day, then it can be "
                    "verified."
                )
            selection.reveal_past(row.program, today, actor=request.user)
            row.refresh_from_db()
            result = selection.verify(row, today)
        except services.ScreeningError as exc:
            refusal = str(exc)
        else:
            selection.audit_verification(row, result, actor=request.user)
            label = f"{row.day:%a %b} {row.day.day}, {row.day.year}"
            if result.ok:
                messages.success(request, f"{label}: OK. {result.message}")
            else:
                messages.error(request, f"{label}: FAILED. {result.message}")
            return redirect(_log_url(row.program_id))
    status = 409 if refusal else 400 if request.method == "POST" else 200
    return render(
        request,
        "screening/selection_verify.html",
        {"form": form, "refusal": refusal},
        status=status,
    )
