"""Alumni pages (`alumni.follow_up`): the follow-up worklist, one follow-up with its
attempts and outcomes, and alumni events with their attendance.

Everything is scoped to the user's programs (and, for counsellors narrowed to their care
teams, to the participants they may see); a record outside answers 404. An invalid form
answers 400 with its errors; a refused change (already closed, stale version) 409."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.records import StaleEdit
from openiop.core.roles import CLINICAL_ROLES, Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant
from openiop.programs.models import Program

from . import services
from .choices import FollowUpStatus
from .forms import AttemptForm, AttendanceForm, CancelEventForm, CloseForm, EventForm
from .models import AlumniAttendance, AlumniEvent, FollowUp, FollowUpAttempt

PAGE_SIZE = 50
SHOWS = {
    "due": "Due now and this week",
    "upcoming": "Later",
    "done": "Done",
}
EVENT_LIST_LIMIT = 50


# --- the worklist ------------------------------------------------------------------------


def visible_follow_ups(user: Any) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(
        voided=False,
        program_id__in=user.program_ids,
        participant__in=visible_participants(user),
    )


def worklist_rows(user: Any, show: str, today: dt.date, *, mine: bool) -> QuerySet[FollowUp]:
    soon = today + dt.timedelta(days=services.DUE_SOON_DAYS)
    qs = visible_follow_ups(user)
    if mine:
        qs = qs.filter(assigned_to=user)
    if show == "upcoming":
        qs = qs.filter(status=FollowUpStatus.PENDING, due_date__gt=soon).order_by("due_date", "pk")
    elif show == "done":
        qs = qs.exclude(status=FollowUpStatus.PENDING).order_by("-completed_at", "-pk")
    else:
        qs = qs.filter(status=FollowUpStatus.PENDING, due_date__lte=soon).order_by("due_date", "pk")
    return qs.select_related("participant", "discharge", "assigned_to").annotate(
        attempt_count=Count("attempts")
    )


def due_count(user: Any, today: dt.date, *, mine: bool) -> int:
    qs = visible_follow_ups(user).filter(
        status=FollowUpStatus.PENDING,
        due_date__lte=today + dt.timedelta(days=services.DUE_SOON_DAYS),
    )
    if mine:
        qs = qs.filter(assigned_to=user)
    return qs.count()


@staff_view(Perm.ALUMNI_FOLLOW_UP, audit_page="alumni.worklist")
def worklist(request: StaffRequest) -> HttpResponse:
    show = request.GET.get("show", "due")
    if show not in SHOWS:
        show = "due"
    mine = request.GET.get("mine") == "1"
    today = timezone.localdate()
    page = Paginator(worklist_rows(request.user, show, today, mine=mine), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for row in page.object_list:
        row.overdue_days = services.days_overdue(row, today)
    params = request.GET.copy()
    params.pop("page", None)
    tabs = []
    for key, label in SHOWS.items():
        query = f"?show={key}" + ("&mine=1" if mine else "")
        tabs.append({"key": key, "label": label, "url": query, "active": key == show})
    return render(
        request,
        "alumni/worklist.html",
        {
            "page": page,
            "show": show,
            "show_label": SHOWS[show],
            "mine": mine,
            "tabs": tabs,
            "today": today,
            "querystring": params.urlencode(),
            "mine_url": f"?show={show}" + ("" if mine else "&mine=1"),
        },
    )


# --- one follow-up ---------------------------------------------------------------------------


def _follow_up(request: StaffRequest, pk: int) -> tuple[FollowUp, Participant]:
    follow_up = (
        FollowUp.objects.filter(pk=pk, voided=False, program_id__in=request.user.program_ids)
        .select_related("discharge", "assigned_to", "episode")
        .first()
    )
    if follow_up is None:
        raise Http404("No such follow-up")
    participant = get_participant_for(
        request, follow_up.participant_id, Perm.ALUMNI_FOLLOW_UP, what="alumni.followup"
    )
    return follow_up, participant


def _follow_up_page(
    request: StaffRequest,
    follow_up: FollowUp,
    participant: Participant,
    *,
    attempt_form: AttemptForm | None = None,
    close_form: CloseForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    attempts = list(
        FollowUpAttempt.objects.filter(follow_up=follow_up).select_related("by").order_by("at")
    )
    context: dict[str, Any] = {
        "follow_up": follow_up,
        "participant": participant,
        "attempts": attempts,
        "error": error,
        "today": timezone.localdate(),
        "overdue_days": services.days_overdue(follow_up, timezone.localdate()),
        "plan": _aftercare_plan(follow_up),
    }
    if follow_up.status == FollowUpStatus.PENDING:
        context["attempt_form"] = attempt_form or AttemptForm(
            initial={"version": follow_up.version}
        )
        context["close_form"] = close_form or CloseForm(
            initial={"version": follow_up.version}, attempts=len(attempts)
        )
        # The posted form, whose errors the page shows.
        if close_form is not None:
            context["form"] = close_form
        elif attempt_form is not None:
            context["form"] = attempt_form
    return render(request, "alumni/follow_up.html", context, status=status)


def _aftercare_plan(follow_up: FollowUp) -> Any:
    from openiop.discharge.models import AftercarePlan

    return AftercarePlan.objects.filter(episode_id=follow_up.episode_id, voided=False).first()


@staff_view(Perm.ALUMNI_FOLLOW_UP)
def follow_up(request: StaffRequest, pk: int) -> HttpResponse:
    item, participant = _follow_up(request, pk)
    return _follow_up_page(request, item, participant)


def _closed(item: FollowUp) -> str:
    return f"This follow-up is already closed: “{item.get_status_display()}”."


@staff_view(Perm.ALUMNI_FOLLOW_UP)
def attempt(request: StaffRequest, pk: int) -> HttpResponse:
    item, participant = _follow_up(request, pk)
    if request.method != "POST":
        return _follow_up_page(request, item, participant)
    if item.status != FollowUpStatus.PENDING:
        return _follow_up_page(request, item, participant, error=_closed(item), status=409)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return _follow_up_page(request, item, participant, attempt_form=form, status=400)
    data = form.cleaned_data
    try:
        item = services.log_attempt(
            item,
            actor=request.user,
            method=data["method"],
            reached=bool(data["reached"]),
            note=data["note"],
            outcomes=form.outcomes() if data["reached"] else None,
            expected_version=data["version"],
        )
    except (services.FollowUpError, StaleEdit) as exc:
        item, participant = _follow_up(request, pk)
        return _follow_up_page(request, item, participant, error=str(exc), status=409)
    if item.status == FollowUpStatus.REACHED:
        messages.success(request, "Reached: the outcomes are recorded and the follow-up is done.")
        return redirect("alumni:follow_up", item.pk)
    messages.success(request, "Attempt logged. The follow-up stays on the worklist.")
    return redirect("alumni:follow_up", item.pk)


@staff_view(Perm.ALUMNI_FOLLOW_UP)
def close(request: StaffRequest, pk: int) -> HttpResponse:
    item, participant = _follow_up(request, pk)
    if request.method != "POST":
        return _follow_up_page(request, item, participant)
    if item.status != FollowUpStatus.PENDING:
        return _follow_up_page(request, item, participant, error=_closed(item), status=409)
    attempts = FollowUpAttempt.objects.filter(follow_up=item).count()
    form = CloseForm(request.POST, attempts=attempts)
    if not form.is_valid():
        return _follow_up_page(request, item, participant, close_form=form, status=400)
    try:
        item = services.close_follow_up(
            item,
            actor=request.user,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except (services.FollowUpError, StaleEdit) as exc:
        item, participant = _follow_up(request, pk)
        return _follow_up_page(request, item, participant, error=str(exc), status=409)
    messages.success(request, f"Follow-up closed: {item.get_status_display()}.")
    return redirect("alumni:follow_up", item.pk)


# --- alumni events ---------------------------------------------------------------------------


def _programs(user: Any) -> QuerySet[Program]:
    return Program.objects.filter(pk__in=user.program_ids).order_by("name")


def _staff(user: Any) -> QuerySet[User]:
    return (
        User.objects.filter(
            is_active=True,
            programs__in=list(user.program_ids),
            role_assignments__role__in=CLINICAL_ROLES,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@staff_view(Perm.ALUMNI_FOLLOW_UP, audit_page="alumni.events")
def events(request: StaffRequest) -> HttpResponse:
    now = timezone.now()
    qs = (
        AlumniEvent.objects.filter(voided=False, program_id__in=request.user.program_ids)
        .select_related("facilitator")
        .annotate(came=Count("attendance", filter=Q(attendance__attended=True)))
    )
    upcoming = list(qs.filter(ends_at__gte=now).order_by("starts_at", "pk")[:EVENT_LIST_LIMIT])
    past = list(qs.filter(ends_at__lt=now).order_by("-starts_at", "-pk")[:EVENT_LIST_LIMIT])
    return render(request, "alumni/events.html", {"upcoming": upcoming, "past": past})


@staff_view(Perm.ALUMNI_FOLLOW_UP, audit_page="alumni.event_new")
def event_new(request: StaffRequest) -> HttpResponse:
    programs = _programs(request.user)
    form = EventForm(posted(request), programs=programs, staff=_staff(request.user))
    status = 200
    if request.method == "GET":
        form.initial.update({"program": programs.first(), "facilitator": request.user.pk})
    elif form.is_valid():
        try:
            event = services.create_event(
                form.cleaned_data["program"], actor=request.user, values=form.values()
            )
        except services.EventError as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            messages.success(request, "Alumni event added.")
            return redirect("alumni:event", event.pk)
    else:
        status = 400
    return render(request, "alumni/event_new.html", {"form": form}, status=status)


def _event(request: StaffRequest, pk: int) -> AlumniEvent:
    event = (
        AlumniEvent.objects.filter(pk=pk, voided=False, program_id__in=request.user.program_ids)
        .select_related("facilitator", "program")
        .first()
    )
    if event is None:
        raise Http404("No such alumni event")
    return event


def _event_page(
    request: StaffRequest,
    event: AlumniEvent,
    *,
    attendance_form: AttendanceForm | None = None,
    cancel_form: CancelEventForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    eligible = services.eligible_alumni(event, visible_participants(request.user))
    rows = list(
        AlumniAttendance.objects.filter(event=event, voided=False)
        .select_related("participant")
        .order_by("participant__legal_last_name", "pk")
    )
    present = [r for r in rows if r.attended]
    if attendance_form is None:
        attendance_form = AttendanceForm(
            initial={"attended": [r.participant_id for r in present], "version": event.version},
            eligible=eligible,
        )
    event_day = timezone.localtime(event.starts_at).date()
    context: dict[str, Any] = {
        "event": event,
        "present": present,
        "attendance_form": attendance_form,
        "cancel_form": cancel_form or CancelEventForm(),
        "can_record": not event.cancelled and event_day <= timezone.localdate(),
        "can_cancel": not event.cancelled and not present,
        "error": error,
    }
    if cancel_form is not None:
        context["form"] = cancel_form
    elif attendance_form.is_bound:
        context["form"] = attendance_form
    if status == 200 and request.method == "GET":
        audit.record(AuditAction.VIEW, actor=request.user, obj=event)
    return render(request, "alumni/event.html", context, status=status)


@staff_view(Perm.ALUMNI_FOLLOW_UP)
def event(request: StaffRequest, pk: int) -> HttpResponse:
    return _event_page(request, _event(request, pk))


@staff_view(Perm.ALUMNI_FOLLOW_UP)
def event_attendance(request: StaffRequest, pk: int) -> HttpResponse:
    item = _event(request, pk)
    if request.method != "POST":
        return _event_page(request, item)
    eligible = services.eligible_alumni(item, visible_participants(request.user))
    form = AttendanceForm(request.POST, eligible=eligible)
    if not form.is_valid():
        return _event_page(request, item, attendance_form=form, status=400)
    if form.cleaned_data["version"] != item.version:
        return _event_page(
            request,
            item,
            error="The event changed since this page was opened; reload it and try again.",
            status=409,
        )
    try:
        present, absent = services.record_attendance(
            item, form.cleaned_data["attended"], actor=request.user, eligible=eligible
        )
    except services.EventError as exc:
        return _event_page(request, item, error=str(exc), status=409)
    messages.success(request, f"Attendance saved: {present} marked present, {absent} absent.")
    return redirect("alumni:event", item.pk)


@staff_view(Perm.ALUMNI_FOLLOW_UP)
def event_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    item = _event(request, pk)
    if request.method != "POST":
        return _event_page(request, item)
    form = CancelEventForm(request.POST)
    if not form.is_valid():
        return _event_page(request, item, cancel_form=form, status=400)
    try:
        services.cancel_event(item, actor=request.user, reason=form.cleaned_data["reason"])
    except services.EventError as exc:
        return _event_page(request, item, error=str(exc), status=409)
    messages.success(request, "The event is cancelled.")
    return redirect("alumni:events")
