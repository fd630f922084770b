"""The calendar (day and week, filtered by track, facilitator and room), weekly templates,
generation, closures, curriculum order, one-off sessions and appointments, bookings, and
calendar feeds. Views are thin: a form, the scoping helper, one service call."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.core import audit
from openiop.core.access import StaffRequest, public_view, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for
from openiop.programs.access import programs_for
from openiop.programs.models import Room, Track
from openiop.programs.services import save_reference

from . import ical, services
from .access import (
    bookable_episodes,
    programs_of,
    session_for,
    setup_program_for,
    setup_track_for,
    track_for,
)
from .choices import BookingReason
from .conflicts import Refused
from .enrolment import bookings_for_sessions, enrolments_for_tracks, expected_count
from .forms import (
    BookForm,
    CancelForm,
    ClosureForm,
    CurriculumForm,
    GenerateForm,
    RescheduleForm,
    SessionForm,
    TemplateSlotForm,
    TopicForm,
    _staff_choices,
    parse_day,
)
from .models import Closure, CurriculumItem, FeedToken, Session, TemplateSlot, TopicAssignment

# ---------------------------------------------------------------- helpers


def confirm(
    request: StaffRequest,
    title: str,
    text: str,
    submit: str,
    *,
    back: str,
    form: Any = None,
    status: int = 200,
    errors: list[str] | None = None,
) -> HttpResponse:
    """The page an action's URL shows when opened (GET) or posted with errors: what it
    does, its form if any, and one button. The change itself only ever happens on POST."""
    return render(
        request,
        "scheduling/confirm.html",
        {
            "title": title,
            "text": text,
            "submit": submit,
            "back": back,
            "form": form,
            "errors": errors or [],
        },
        status=409 if errors else status,
    )


# ---------------------------------------------------------------- calendar


def _int(raw: str | None) -> int | None:
    # isascii: "²".isdigit() is True but int("²") raises.
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def d_of(entry: dict[str, Any]) -> dt.date:
    return entry["date"]


@staff_view(Perm.SCHEDULE_VIEW, audit_page="scheduling.calendar")
def calendar(request: StaffRequest) -> HttpResponse:
    programs = list(programs_of(request.user))
    if not programs:
        return render(request, "scheduling/calendar.html", {"programs": []})
    program_id = _int(request.GET.get("program"))
    program = next((p for p in programs if p.pk == program_id), programs[0])
    today = program.today()
    day, ok = parse_day(request.GET.get("date"), today)
    if not ok:
        messages.warning(request, "That date could not be read; showing today.")
    view = "day" if request.GET.get("view") == "day" else "week"
    first = day if view == "day" else day - dt.timedelta(days=day.weekday())
    last = first if view == "day" else first + dt.timedelta(days=6)
    track_id = _int(request.GET.get("track"))
    facilitator_id = _int(request.GET.get("facilitator"))
    room_id = _int(request.GET.get("room"))
    qs = (
        Session.objects.filter(program=program, voided=False, date__gte=first, date__lte=last)
        .select_related("program", "track", "facilitator", "room", "topic", "session_type")
        .annotate(marked=Count("attendance", filter=Q(attendance__voided=False)))
        .order_by("starts_at", "pk")
    )
    if track_id:
        qs = qs.filter(track_id=track_id)
    if facilitator_id:
        qs = qs.filter(facilitator_id=facilitator_id)
    if room_id:
        qs = qs.filter(room_id=room_id)
    sessions = list(qs)
    enrolments = enrolments_for_tracks({s.track_id for s in sessions if s.track_id}, first, last)
    bookings = bookings_for_sessions(s.pk for s in sessions)
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for s in sessions:
        expected = expected_count(s, enrolments, bookings)
        limit = s.effective_capacity
        by_day[s.date].append(
            {
                "session": s,
                "expected": expected,
                "capacity": limit,
                "over": limit is not None and expected > limit,
            }
        )
    days = []
    d = first
    while d <= last:
        if view == "day" or d.weekday() < 5 or by_day.get(d):
            days.append({"date": d, "sessions": by_day.get(d, []), "today": d == today})
        d += dt.timedelta(days=1)
    closures = list(
        Closure.objects.filter(
            program=program, retired=False, last_day__gte=first, first_day__lte=last
        )
    )
    for entry in days:
        when = d_of(entry)
        entry["closed"] = next((c for c in closures if c.first_day <= when <= c.last_day), None)
    step = dt.timedelta(days=1 if view == "day" else 7)
    context = {
        "programs": programs,
        "program": program,
        "view": view,
        "day": day,
        "first": first,
        "last": last,
        "days": days,
        "prev": first - step,
        "next": first + step,
        "today": today,
        "tracks": Track.objects.filter(program=program, retired=False),
        "facilitators": _staff_choices(program),
        "rooms": Room.objects.filter(site_id=program.site_id, retired=False),
        "track_id": track_id,
        "facilitator_id": facilitator_id,
        "room_id": room_id,
        "can_manage": request.user.has_perm_code(Perm.SCHEDULE_MANAGE),
        "can_configure": request.user.has_perm_code(Perm.PROGRAM_CONFIGURE),
        "count": len(sessions),
    }
    return render(request, "scheduling/calendar.html", context)


# ---------------------------------------------------------------- weekly template


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="scheduling.template")
def template(request: StaffRequest, pk: int) -> HttpResponse:
    track = setup_track_for(request.user, pk)
    form = TemplateSlotForm(posted(request), track=track)
    if request.method == "POST" and form.is_valid():
        slot = form.save(commit=False)
        slot.track = track
        save_reference(slot, actor=request.user, fields=list(form.fields))
        messages.success(request, f"Added “{slot}” to the weekly template.")
        return redirect("scheduling:template", pk=track.pk)
    slots = TemplateSlot.objects.filter(track=track).select_related(
        "session_type", "facilitator", "room", "topic"
    )
    return render(
        request,
        "scheduling/template.html",
        {"track": track, "slots": slots, "form": form, "generate_form": GenerateForm()},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="scheduling.retire_slot")
def retire_slot(request: StaffRequest, pk: int, slot_pk: int) -> HttpResponse:
    track = setup_track_for(request.user, pk)
    try:
        slot = TemplateSlot.objects.get(pk=slot_pk, track=track)
    except TemplateSlot.DoesNotExist:
        raise Http404("No such template line") from None
    if request.method != "POST":
        verb = "Restore" if slot.retired else "Retire"
        return confirm(
            request,
            f"{verb} “{slot}”",
            "Retired lines make no new sessions; sessions already made are kept.",
            verb,
            back=reverse("scheduling:template", args=[track.pk]),
        )
    slot.retired = not slot.retired
    save_reference(slot, actor=request.user, fields=["retired"])
    verb = "retired (no new sessions)" if slot.retired else "restored"
    messages.success(request, f"“{slot}” was {verb}. Sessions already made are kept.")
    return redirect("scheduling:template", pk=track.pk)


@staff_view(Perm.SCHEDULE_MANAGE, audit_page="scheduling.generate")
def generate(request: StaffRequest, pk: int) -> HttpResponse:
    track = track_for(request.user, pk)
    form = GenerateForm(posted(request))
    refusal: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = services.generate(
                track, form.cleaned_data["first"], form.cleaned_data["last"], actor=request.user
            )
        except Refused as exc:
            refusal = [c.message for c in exc.conflicts]
        except services.ScheduleError as exc:
            refusal = [str(exc)]
        else:
            text = f"{len(result.created)} sessions created for {track}."
            if result.existing:
                text += f" {result.existing} already existed and were left as they are."
            if result.closed_days:
                text += f" Skipped {len(result.closed_days)} closure day(s)."
            messages.success(request, text)
            first = form.cleaned_data["first"]
            return redirect(
                f"{reverse('scheduling:calendar')}?program={track.program_id}"
                f"&track={track.pk}&date={first.isoformat()}"
            )
    if request.method == "GET":
        today = track.program.today()
        form = GenerateForm(initial={"first": today, "last": today + dt.timedelta(weeks=4)})
    return render(
        request,
        "scheduling/generate.html",
        {"track": track, "form": form, "refusal": refusal},
        status=409 if refusal else 400 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------- closures


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="scheduling.closures")
def closures(request: StaffRequest, pk: int) -> HttpResponse:
    program = setup_program_for(request.user, pk)
    form = ClosureForm(posted(request))
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            closure, cancelled = services.add_closure(
                program,
                first_day=data["first_day"],
                last_day=data["last_day"],
                reason=data["reason"],
                actor=request.user,
            )
        except services.ScheduleError as exc:
            refusal = str(exc)
        else:
            text = f"Closed: {closure}."
            if cancelled:
                text += f" {cancelled} scheduled session(s) on those days were cancelled."
            messages.success(request, text)
            return redirect("scheduling:closures", pk=program.pk)
    rows = Closure.objects.filter(program=program).order_by("-first_day")[:200]
    return render(
        request,
        "scheduling/closures.html",
        {"program": program, "form": form, "closures": rows, "refusal": refusal},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="scheduling.remove_closure")
def remove_closure(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        closure = Closure.objects.get(pk=pk, program__in=programs_for(request.user))
    except Closure.DoesNotExist:
        raise Http404("No such closure") from None
    if request.method != "POST":
        return confirm(
            request,
            f"Reopen {closure}",
            "The days become program days again. Cancelled sessions stay cancelled; "
            "generate the days again to schedule them.",
            "Reopen",
            back=reverse("scheduling:closures", args=[closure.program_id]),
        )
    back = reverse("scheduling:closures", args=[closure.program_id])
    try:
        services.remove_closure(closure, actor=request.user)
    except services.ScheduleError as exc:
        return confirm(request, f"Reopen {closure}", "", "Reopen", back=back, errors=[str(exc)])
    messages.success(request, f"Reopened {closure}. Generate the days again to schedule sessions.")
    return redirect(back)


# ---------------------------------------------------------------- curriculum


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="scheduling.curriculum")
def curriculum(request: StaffRequest, pk: int) -> HttpResponse:
    track = setup_track_for(request.user, pk)
    topics = list(track.program.topics.filter(retired=False).order_by("sequence", "title"))
    current = dict(CurriculumItem.objects.filter(track=track).values_list("topic_id", "position"))
    form = CurriculumForm(posted(request), topics=topics, current=current)
    if request.method == "POST" and form.is_valid():
        ordered = form.ordered()
        services.set_curriculum(track, ordered, actor=request.user)
        messages.success(
            request,
            f"The curriculum of {track} has {len(ordered)} topics"
            + ("." if ordered else ": it follows the program's topic order."),
        )
        return redirect("scheduling:curriculum", pk=track.pk)
    return render(
        request,
        "scheduling/curriculum.html",
        {"track": track, "form": form, "order": services.curriculum_for(track)},
        status=400 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------- sessions


@staff_view(Perm.SCHEDULE_MANAGE, audit_page="scheduling.session_new")
def session_new(request: StaffRequest) -> HttpResponse:
    programs = list(programs_of(request.user))
    if not programs:
        raise Http404("You have no program to schedule in")
    program_id = _int(request.POST.get("program") or request.GET.get("program"))
    program = next((p for p in programs if p.pk == program_id), programs[0])
    form = SessionForm(
        posted(request), program=program, episodes=bookable_episodes(request.user, program)
    )
    refusal: list[str] = []
    if request.method == "GET":
        day, _ = parse_day(request.GET.get("date"), program.today())
        form.initial.update({"day": day})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        episode = data.get("episode")
        session_input = services.SessionInput(
            program=program,
            session_type=data["session_type"],
            kind=data["kind"],
            title=data["title"],
            day=data["day"],
            start=data["start"],
            end=data["end"],
            facilitator=data.get("facilitator"),
            room=data.get("room"),
            modality=data["modality"],
            join_link=data.get("join_link", ""),
            capacity=data.get("capacity"),
        )
        try:
            session = services.create_session(
                session_input,
                actor=request.user,
                episodes=[episode] if episode else [],
                capacity_override=data.get("capacity_override", ""),
            )
        except Refused as exc:
            refusal = [c.message for c in exc.conflicts]
        except services.ScheduleError as exc:
            refusal = [str(exc)]
        else:
            messages.success(request, f"Scheduled “{session.title}” on {session.date:%a %b %-d}.")
            return redirect("attendance:session", pk=session.pk)
    return render(
        request,
        "scheduling/session_form.html",
        {"form": form, "program": program, "programs": programs, "refusal": refusal},
        status=409 if refusal else 400 if request.method == "POST" else 200,
    )


@staff_view(Perm.SCHEDULE_MANAGE, audit_page="scheduling.session_edit")
def session_edit(request: StaffRequest, pk: int) -> HttpResponse:
    session = session_for(request.user, pk)
    local_start, local_end = session.local_start(), session.local_end()
    form = RescheduleForm(
        posted(request),
        program=session.program,
        initial={
            "version": session.version,
            "title": session.title,
            "day": session.date,
            "start": local_start.time().replace(tzinfo=None),
            "end": local_end.time().replace(tzinfo=None),
            "facilitator": session.facilitator_id,
            "room": session.room_id,
            "modality": session.modality,
            "join_link": session.join_link,
            "capacity": session.capacity,
        },
    )
    back = reverse("attendance:session", args=[session.pk])
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.reschedule(
                session,
                services.SessionInput(
                    program=session.program,
                    session_type=session.session_type,
                    kind=session.kind,
                    title=data["title"],
                    day=data["day"],
                    start=data["start"],
                    end=data["end"],
                    facilitator=data.get("facilitator"),
                    room=data.get("room"),
                    modality=data["modality"],
                    join_link=data.get("join_link", ""),
                    capacity=data.get("capacity"),
                ),
                actor=request.user,
                expected_version=data["version"],
                capacity_override=data.get("capacity_override", ""),
            )
        except Refused as exc:
            errors = [c.message for c in exc.conflicts]
        except (StaleEdit, services.ScheduleError) as exc:
            errors = [str(exc)]
        else:
            messages.success(request, "The session was changed.")
            return redirect(back)
    return confirm(
        request,
        f"Change “{session.title}” on {session.date:%a %b %-d}",
        "This session only; the weekly template is unchanged. Clashes are checked.",
        "Save changes",
        back=back,
        form=form,
        errors=errors,
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.SCHEDULE_MANAGE, audit_page="scheduling.session_cancel")
def session_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    session = session_for(request.user, pk)
    form = CancelForm(posted(request))
    if request.method != "POST" or not form.is_valid():
        return confirm(
            request,
            f"Cancel “{session.title}” on {session.date:%a %b %-d}",
            "Participants and the facilitator see the reason on their schedules.",
            "Cancel session",
            back=reverse("attendance:session", args=[session.pk]),
            form=form,
            status=400 if request.method == "POST" else 200,
        )
    back = reverse("attendance:session", args=[session.pk])
    try:
        services.cancel_session(session, actor=request.user, reason=form.cleaned_data["reason"])
    except services.ScheduleError as exc:
        return confirm(
            request,
            "The session was not cancelled",
            "",
            "Cancel session",
            back=back,
            form=form,
            errors=[str(exc)],
        )
    messages.success(request, f"“{session.title}” on {session.date:%a %b %-d} was cancelled.")
    return redirect(back)


@staff_view(Perm.ATTENDANCE_TAKE, audit_page="scheduling.session_topic")
def session_topic(request: StaffRequest, pk: int) -> HttpResponse:
    session = session_for(request.user, pk)
    form = TopicForm(
        posted(request),
        program=session.program,
        initial={"topic": session.topic_id, "version": session.version},
    )
    if request.method != "POST" or not form.is_valid():
        return confirm(
            request,
            f"Topic covered: “{session.title}” on {session.date:%a %b %-d}",
            "Record the topic actually covered; the curriculum counts it for everyone present.",
            "Save topic",
            back=reverse("attendance:session", args=[session.pk]),
            form=form,
            status=400 if request.method == "POST" else 200,
        )
    try:
        services.set_topic(
            session,
            form.cleaned_data["topic"],
            actor=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except (StaleEdit, services.ScheduleError) as exc:
        return confirm(
            request,
            "The topic was not saved",
            "",
            "Save topic",
            back=reverse("attendance:session", args=[session.pk]),
            form=form,
            errors=[str(exc)],
        )
    messages.success(request, "The topic covered was recorded.")
    return redirect("attendance:session", pk=session.pk)


@staff_view(Perm.SCHEDULE_MANAGE, audit_page="scheduling.session_book")
def session_book(request: StaffRequest, pk: int) -> HttpResponse:
    session = session_for(request.user, pk)
    form = BookForm(posted(request), episodes=bookable_episodes(request.user, session.program))
    if request.method != "POST" or not form.is_valid():
        return confirm(
            request,
            f"Book someone into “{session.title}” on {session.date:%a %b %-d}",
            "For a make-up of a missed topic or an extra participant. Clashes and capacity "
            "are checked.",
            "Book",
            back=reverse("attendance:session", args=[session.pk]),
            form=form,
            status=400 if request.method == "POST" else 200,
        )
    reason = request.POST.get("reason", BookingReason.EXTRA)
    if reason not in (BookingReason.MAKE_UP, BookingReason.EXTRA):
        reason = BookingReason.EXTRA
    episode = form.cleaned_data["episode"]
    errors: list[str] = []
    try:
        services.book(
            session,
            episode,
            reason=reason,
            actor=request.user,
            capacity_override=form.cleaned_data["capacity_override"],
        )
    except Refused as exc:
        errors = [c.message for c in exc.conflicts]
    except services.ScheduleError as exc:
        errors = [str(exc)]
    if errors:
        return confirm(
            request,
            f"{episode.participant.display_name} was not booked",
            "",
            "Book",
            back=reverse("attendance:session", args=[session.pk]),
            form=form,
            errors=errors,
        )
    messages.success(request, f"{episode.participant.display_name} is booked.")
    back = request.POST.get("next", "")
    if back.startswith("/participants/") and "//" not in back:
        return redirect(back)
    return redirect("attendance:session", pk=session.pk)


# ---------------------------------------------------------------- a participant's topics


@staff_view(Perm.ATTENDANCE_TAKE)
def assign_topic(request: StaffRequest, pk: int, topic_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.ATTENDANCE_TAKE, what="scheduling.topics")
    episode = participant.current_episode
    if episode is None:
        raise Http404("No episode")
    topic = episode.program.topics.filter(pk=topic_pk).first()
    if topic is None:
        raise Http404("No such topic in the participant's program")
    back = reverse("participants:chart", args=[participant.pk]) + "#section-curriculum"
    if request.method != "POST":
        return confirm(
            request,
            f"Assign “{topic.title}” as individual work",
            f"For {participant.display_name}: the topic counts as done when the work is "
            "marked done.",
            "Assign",
            back=back,
        )
    try:
        services.assign_topic(episode, topic, actor=request.user, today=episode.program.today())
    except services.ScheduleError as exc:
        return confirm(request, "Not assigned", "", "Assign", back=back, errors=[str(exc)])
    messages.success(request, f"“{topic.title}” was assigned as individual work.")
    return redirect(back)


@staff_view(Perm.ATTENDANCE_TAKE)
def complete_assignment(request: StaffRequest, pk: int, assignment_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.ATTENDANCE_TAKE, what="scheduling.topics")
    assignment = (
        TopicAssignment.objects.filter(
            pk=assignment_pk, episode__participant=participant, voided=False
        )
        .select_related("topic")
        .first()
    )
    if assignment is None:
        raise Http404("No such assignment")
    if request.method != "POST":
        return confirm(
            request,
            f"Mark “{assignment.topic.title}” done",
            f"{participant.display_name} completed the individual work on this topic.",
            "Mark done",
            back=reverse("participants:chart", args=[participant.pk]) + "#section-curriculum",
        )
    back = reverse("participants:chart", args=[participant.pk]) + "#section-curriculum"
    try:
        services.complete_assignment(
            assignment, actor=request.user, day=participant.program.today()
        )
    except services.ScheduleError as exc:
        return confirm(request, "Not marked done", "", "Mark done", back=back, errors=[str(exc)])
    messages.success(request, "The individual work was marked done.")
    return redirect(back)


# ---------------------------------------------------------------- calendar feeds


def _feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("ical_feed", args=[token]))


@staff_view(Perm.SCHEDULE_VIEW, audit_page="scheduling.my_feed")
def my_feed(request: StaffRequest) -> HttpResponse:
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("action")
        current = FeedToken.objects.filter(user=request.user, revoked_at=None).first()
        if action == "create":
            new_url = _feed_url(request, services.issue_feed(actor=request.user, user=request.user))
        elif action == "revoke" and current is not None:
            services.revoke_feed(current, actor=request.user)
            messages.success(request, "The calendar link was revoked; it stops working now.")
            return redirect("scheduling:my_feed")
        elif action == "revoke":
            return render(
                request,
                "scheduling/my_feed.html",
                {"feed": None, "new_url": "", "refusal": "There is no active link to revoke."},
                status=409,
            )
        else:
            return render(request, "400.html", {"reason": "Unknown action."}, status=400)
    current = FeedToken.objects.filter(user=request.user, revoked_at=None).first()
    return render(request, "scheduling/my_feed.html", {"feed": current, "new_url": new_url})


@staff_view(Perm.SCHEDULE_MANAGE)
def participant_feed(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.SCHEDULE_MANAGE, what="scheduling.feed")
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("action")
        current = FeedToken.objects.filter(participant=participant, revoked_at=None).first()
        if action == "create":
            token = services.issue_feed(actor=request.user, participant=participant)
            new_url = _feed_url(request, token)
        elif action == "revoke" and current is not None:
            services.revoke_feed(current, actor=request.user)
            messages.success(request, "The participant's calendar link was revoked.")
            return redirect("schedule:participant_feed", pk=participant.pk)
        elif action == "revoke":
            return render(
                request,
                "scheduling/participant_feed.html",
                {
                    "participant": participant,
                    "feed": None,
                    "new_url": "",
                    "refusal": "There is no active link to revoke.",
                },
                status=409,
            )
        else:
            return render(request, "400.html", {"reason": "Unknown action."}, status=400)
    current = FeedToken.objects.filter(participant=participant, revoked_at=None).first()
    return render(
        request,
        "scheduling/participant_feed.html",
        {"participant": participant, "feed": current, "new_url": new_url},
    )


@public_view
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no sign-in (calendar apps cannot), a secret in the URL instead.
    Unknown or revoked → 404. Events carry times, places and links, no clinical detail."""
    feed = services.resolve_feed(token)
    if feed is None:
        raise Http404("No such calendar")
    body = ical.feed_for(feed)
    audit.record(
        AuditAction.VIEW,
        actor=feed.user,
        obj=feed,
        object_type="scheduling.ical_feed",
        object_repr=str(feed),
        participant_id=feed.participant_id,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
