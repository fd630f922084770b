"""The session page with its roster and attendance, check-ins and engagement alerts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.core import audit
from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.choices import IN_CARE
from openiop.scheduling import services as scheduling
from openiop.scheduling.access import bookable_episodes, session_for
from openiop.scheduling.choices import SessionKind, SessionStatus
from openiop.scheduling.conflicts import Refused
from openiop.scheduling.forms import BookForm, CancelForm, TopicForm

from . import services
from .choices import NEEDS_MINUTES, AttendanceStatus
from .forms import CheckInForm, ResolveForm, WalkInForm
from .models import EngagementAlert


def _posted_row(data: Any, pk: int, prefix: str = "") -> tuple[str, str, str]:
    """A row's (status, minutes, note) as posted; `prefix` "was_" for what the form showed."""
    status = data.get(f"{prefix}status_{pk}", "")
    minutes = data.get(f"{prefix}minutes_{pk}", "").strip() if status in NEEDS_MINUTES else ""
    return status, minutes, data.get(f"{prefix}note_{pk}", "").strip()[:300]


def _changed_by_form(data: Any, pk: int) -> bool:
    """Whether the form changed this row. A form without the row's `was_` fields (an older
    page, a script) counts every posted row as changed."""
    if f"was_status_{pk}" not in data:
        return True
    return _posted_row(data, pk) != _posted_row(data, pk, "was_")


def _entries(request: StaffRequest, rows: list[services.RosterRow]) -> dict[int, services.Entry]:
    """The marks posted for roster rows; AttendanceError on minutes that are not numbers.

    Only the rows the form changed are entries (issue 13, point 5): a roster loaded before
    a colleague's save still posts that colleague's rows with the old marks, and saving
    them again would undo the colleague's work. Each entry carries the version the form
    showed, so a row both changed is a conflict rather than a lost update."""
    out = {}
    for row in rows:
        pk = row.episode.pk
        status = request.POST.get(f"status_{pk}", "")
        if not status or not _changed_by_form(request.POST, pk):
            continue
        raw = request.POST.get(f"minutes_{pk}", "").strip()
        # isascii: "²".isdigit() is True but int("²") raises.
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 4):
            raise services.AttendanceError(
                f"{row.participant.display_name}: minutes must be a whole number."
            )
        minutes = int(raw) if raw and status in NEEDS_MINUTES else 0
        seen = request.POST.get(f"version_{pk}", "")
        seen_version = int(seen) if seen.isascii() and seen.isdigit() and len(seen) < 10 else None
        out[pk] = services.Entry(
            status, minutes, request.POST.get(f"note_{pk}", "")[:300], seen_version
        )
    return out


@staff_view(Perm.SCHEDULE_VIEW)
def session(request: StaffRequest, pk: int) -> HttpResponse:
    current = session_for(request.user, pk)
    error = ""
    status = 200
    if request.method == "POST":
        require_perm(request, Perm.ATTENDANCE_TAKE, what="attendance.session")
        action = request.POST.get("action", "")
        try:
            if action == "all_present":
                count = services.mark_all_present(current, actor=request.user)
                messages.success(
                    request,
                    f"{count} marked present. Change only the exceptions below."
                    if count
                    else "Everyone on the roster already has a mark.",
                )
                return redirect("attendance:session", pk=current.pk)
            if action == "save":
                entries = _entries(request, services.roster(current))
                changed = services.record_attendance(current, entries, actor=request.user)
                messages.success(request, f"Attendance saved ({changed} changed).")
                return redirect("attendance:session", pk=current.pk)
            if action == "walk_in":
                form = WalkInForm(
                    request.POST, episodes=bookable_episodes(request.user, current.program)
                )
                if not form.is_valid():
                    raise services.AttendanceError("Choose who walked in.")
                episode = form.cleaned_data["episode"]
                services.add_walk_in(
                    current,
                    episode,
                    actor=request.user,
                    capacity_override=form.cleaned_data["capacity_override"],
                )
                messages.success(request, f"{episode.participant.display_name} added as a walk-in.")
                return redirect("attendance:session", pk=current.pk)
            error, status = "Unknown action.", 400
        except Refused as exc:
            error, status = " ".join(c.message for c in exc.conflicts), 409
        except services.AttendanceConflict as exc:
            error, status = str(exc), 409
        except (services.AttendanceError, scheduling.ScheduleError) as exc:
            error, status = str(exc), 409 if action != "save" else 400
    rows = services.roster(current)
    posted_values = request.POST if request.method == "POST" else None
    view_rows = []
    for row in rows:
        pk_ = row.episode.pk
        mark = row.attendance
        saved: dict[str, Any] = {
            "status": mark.status if mark else "",
            "minutes": (mark.minutes_missed or "") if mark else "",
            "note": mark.note if mark else "",
        }
        # A refused save shows what the form changed over the marks as they are now; the
        # `was_` fields and the version then describe the marks as they are now, so the
        # next save takes the form's changes and nobody else's rows (issue 13, point 5).
        shown: dict[str, Any]
        if posted_values and _changed_by_form(posted_values, pk_):
            shown = {
                "status": posted_values.get(f"status_{pk_}", ""),
                "minutes": posted_values.get(f"minutes_{pk_}", ""),
                "note": posted_values.get(f"note_{pk_}", ""),
            }
        else:
            shown = saved
        view_rows.append(
            {
                "row": row,
                **shown,
                "was": saved,
                "version": mark.version if mark else 0,
            }
        )
    marked = sum(1 for r in rows if r.attendance is not None)
    attended_minutes = sum(r.attendance.minutes_attended for r in rows if r.attendance)
    on_roster = {r.episode.pk for r in rows}
    candidates = bookable_episodes(request.user, current.program).exclude(pk__in=on_roster)
    limit = current.effective_capacity
    audit.record(AuditAction.VIEW, actor=request.user, obj=current, object_type="attendance.roster")
    context: dict[str, Any] = {
        "session": current,
        "rows": view_rows,
        "marked": marked,
        "expected": len(rows),
        "capacity": limit,
        "over": limit is not None and len(rows) > limit,
        "attended_minutes": attended_minutes,
        "statuses": AttendanceStatus.choices,
        "needs_minutes": sorted(NEEDS_MINUTES),
        "error": error,
        "is_group": current.kind == SessionKind.GROUP,
        "cancelled": current.status == SessionStatus.CANCELLED,
        "can_take": request.user.has_perm_code(Perm.ATTENDANCE_TAKE),
        "can_manage": request.user.has_perm_code(Perm.SCHEDULE_MANAGE),
        "can_write_notes": request.user.has_perm_code(Perm.NOTE_WRITE),
        # Issue 9: family appointments and workshops link to their family page.
        "can_family": request.user.has_perm_code(Perm.FAMILY_MANAGE),
        "future": current.date > current.program.today(),
        "walk_in_form": WalkInForm(episodes=candidates),
        # Its own ids: the walk-in form beside it has the same fields (ids are unique).
        "book_form": BookForm(episodes=candidates, auto_id="book_%s"),
        "topic_form": TopicForm(
            program=current.program,
            initial={"topic": current.topic_id, "version": current.version},
        ),
        "cancel_form": CancelForm(),
    }
    return render(request, "attendance/session.html", context, status=status)


# ---------------------------------------------------------------- check-ins


@staff_view(Perm.ATTENDANCE_TAKE)
def check_in_new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(
        request, pk, Perm.ATTENDANCE_TAKE, action=AuditAction.VIEW, what="attendance.check_in"
    )
    episode = participant.current_episode
    if episode is None or episode.status not in IN_CARE or episode.voided:
        return render(
            request,
            "attendance/check_in.html",
            {
                "participant": participant,
                "refusal": "Check-ins are for participants in care (admitted or active).",
            },
            status=409,
        )
    session_obj = None
    raw = request.GET.get("session") or request.POST.get("session") or ""
    if raw.isascii() and raw.isdigit() and len(raw) < 12:
        try:
            session_obj = session_for(request.user, int(raw))
        except Http404:
            session_obj = None
    form = CheckInForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            check_in = services.record_check_in(
                episode,
                form.values(),
                actor=request.user,
                note=form.cleaned_data.get("note", ""),
                session=session_obj,
                day=session_obj.date if session_obj else None,
            )
        except services.AttendanceError as exc:
            form.add_error(None, str(exc))
        else:
            text = f"Check-in saved for {participant.display_name}."
            if check_in.used or check_in.craving >= episode.program.craving_alert_at:
                text += " The counsellor has been alerted."
            messages.success(request, text)
            if session_obj is not None:
                return redirect("attendance:session", pk=session_obj.pk)
            return redirect(
                reverse("participants:chart", args=[participant.pk]) + "#section-attendance"
            )
    return render(
        request,
        "attendance/check_in.html",
        {"participant": participant, "form": form, "session": session_obj},
        status=400 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------- alerts


@staff_view(Perm.ATTENDANCE_TAKE)
def alert(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        found = EngagementAlert.objects.select_related("participant", "episode").get(
            pk=pk, participant__in=visible_participants(request.user)
        )
    except EngagementAlert.DoesNotExist:
        raise Http404("No such alert") from None
    audit.record(
        AuditAction.VIEW,
        actor=request.user,
        obj=found,
        object_repr=f"{found.get_kind_display()} alert",
        participant_id=found.participant_id,
    )
    form = ResolveForm(posted(request))
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.resolve_alert(found, actor=request.user, note=form.cleaned_data["note"])
        except services.AttendanceError as exc:
            refusal = str(exc)
        else:
            messages.success(request, "The alert was answered.")
            return redirect("core:today")
    return render(
        request,
        "attendance/alert.html",
        {"alert": found, "form": form, "refusal": refusal},
        status=409 if refusal else 400 if request.method == "POST" else 200,
    )
