"""Participant list, chart, registration, edits and episode transitions.

Views are thin: parse with a form, fetch through `access`, call one service, redirect.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.records import StaleEdit
from openiop.core.roles import CLINICAL_ROLES, Perm, Role
from openiop.programs.models import Track

from . import lifecycle, services
from .access import get_episode_for, get_participant_for, visible_participants
from .chart import sections_for
from .choices import EpisodeStatus
from .forms import (
    EpisodeForm,
    NewEpisodeForm,
    NewParticipantForm,
    ParticipantForm,
    TransitionForm,
    VoidForm,
)
from .steps import GUIDED

PAGE_SIZE = 50


def clinical_staff(program: Any) -> QuerySet:
    User = get_user_model()
    return (
        User.objects.filter(
            programs=program, is_active=True, role_assignments__role__in=CLINICAL_ROLES
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


# A name searched for is PHI: it is posted, kept in the session and never put in the URL
# (where server logs and browser history would keep it). `?search=1` asks for it back.
SEARCH_KEY = "participants.search"
FILTERS = ("status", "track", "counsellor")


@staff_view(Perm.PARTICIPANT_VIEW)
def participant_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        q = request.POST.get("q", "").replace("\x00", "").strip()[:100]
        params = {k: request.POST.get(k, "")[:20] for k in FILTERS if request.POST.get(k)}
        if q:
            request.session[SEARCH_KEY] = q
            params["search"] = "1"
        else:
            request.session.pop(SEARCH_KEY, None)
        return redirect(f"{reverse('participants:list')}?{urlencode(params)}")
    qs = visible_participants(user).select_related(
        "program",
        "current_episode",
        "current_episode__track",
        "current_episode__primary_counsellor",
    )
    q = request.session.get(SEARCH_KEY, "") if request.GET.get("search") else ""
    status = request.GET.get("status", "")
    track = request.GET.get("track", "")
    counsellor = request.GET.get("counsellor", "")
    if q:
        terms = Q()
        for word in q.split()[:4]:
            terms &= (
                Q(legal_first_name__icontains=word)
                | Q(legal_last_name__icontains=word)
                | Q(preferred_name__icontains=word)
                | Q(record_number__icontains=word)
                | Q(phone__icontains=word)
            )
        qs = qs.filter(terms)
    if status in EpisodeStatus.values:
        qs = qs.filter(current_episode__status=status)
    elif status == "open":
        qs = qs.filter(current_episode__status__in=lifecycle.ORDER[:5])
    if track.isdigit():
        qs = qs.filter(current_episode__track_id=int(track))
    if counsellor == "me":
        qs = qs.filter(current_episode__primary_counsellor=user)
    elif counsellor.isdigit():
        qs = qs.filter(current_episode__primary_counsellor_id=int(counsellor))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(
        AuditAction.VIEW,
        actor=user,
        object_type="participants.list",
        changes={"shown": len(page.object_list), "page": page.number},
    )
    program_ids = user.program_ids
    tracks = Track.objects.filter(program_id__in=program_ids, retired=False).select_related(
        "program"
    )
    counsellors = (
        get_user_model()
        .objects.filter(
            programs__in=program_ids, is_active=True, role_assignments__role__in=CLINICAL_ROLES
        )
        .distinct()
        .order_by("last_name", "first_name")
    )
    params = request.GET.copy()
    params.pop("page", None)
    today_of: dict[int, Any] = {}
    rows = []
    for participant in page.object_list:
        ep = participant.current_episode
        if participant.program_id not in today_of:
            today_of[participant.program_id] = participant.program.today()
        days = ep.days_in_program(today_of[participant.program_id]) if ep else None
        rows.append({"participant": participant, "days": days})
    context = {
        "page": page,
        "rows": rows,
        "can_create": user.has_perm_code(Perm.PARTICIPANT_CREATE),
        "q": q,
        "status": status,
        "track": track,
        "counsellor": counsellor,
        "statuses": EpisodeStatus.choices,
        "tracks": tracks,
        "counsellors": counsellors,
        "querystring": params.urlencode(),
        "filtered": bool(q or status or track or counsellor),
    }
    return render(request, "participants/list.html", context)


@staff_view(Perm.PARTICIPANT_CREATE, audit_page="participants.new")
def participant_new(request: StaffRequest) -> HttpResponse:
    from openiop.programs.models import Program

    programs = Program.objects.filter(pk__in=request.user.program_ids, retired=False)
    form = NewParticipantForm(posted(request), programs=programs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        participant = services.register_participant(
            actor=request.user,
            program=data["program"],
            identity={k: data[k] for k in services.PARTICIPANT_FIELDS},
            referral_source=data["referral_source"],
            referral_date=data["referral_date"],
        )
        messages.success(request, f"{participant.display_name} was registered as a referral.")
        return redirect("participants:chart", pk=participant.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participants/participant_form.html",
        {"form": form, "creating": True},
        status=status,
    )


def _chart_queryset(request: StaffRequest) -> QuerySet:
    return visible_participants(request.user).select_related(
        "program",
        "current_episode",
        "current_episode__track",
        "current_episode__primary_counsellor",
        "current_episode__program",
    )


@staff_view(Perm.PARTICIPANT_VIEW)
def chart(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, queryset=_chart_queryset(request))
    today = participant.program.today()
    episode = participant.current_episode
    user = request.user
    context: dict[str, Any] = {
        "participant": participant,
        "episode": episode,
        "today": today,
        "age": participant.age_on(today),
        "days": episode.days_in_program(today) if episode else None,
        "can_edit": user.has_perm_code(Perm.PARTICIPANT_CHANGE),
        "can_edit_episode": user.has_perm_code(Perm.EPISODE_CHANGE),
        "can_transition": user.has_perm_code(Perm.EPISODE_TRANSITION),
        "can_audit": user.has_perm_code(Perm.AUDIT_VIEW),
        "can_release": user.has_perm_code(Perm.RECORDS_DISCLOSE),
        "can_see_disclosures": user.has_perm_code(Perm.CONSENT_VIEW),
        "can_void": user.has_perm_code(Perm.PARTICIPANT_VOID),
    }
    context["sections"] = sections_for(request, participant, context)
    return render(request, "participants/chart.html", context)


@staff_view(Perm.PARTICIPANT_CHANGE)
def participant_edit(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PARTICIPANT_CHANGE)
    form = ParticipantForm(
        posted(request), instance=participant, initial={"version": participant.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_participant(
                participant,
                actor=request.user,
                changes={k: form.cleaned_data[k] for k in services.PARTICIPANT_FIELDS},
                expected_version=form.cleaned_data.get("version") or 0,
            )
        except StaleEdit as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Details saved.")
            return redirect("participants:chart", pk=pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participants/participant_form.html",
        {"form": form, "participant": participant, "creating": False},
        status=status,
    )


@staff_view(Perm.EPISODE_CHANGE)
def episode_edit(request: StaffRequest, pk: int, episode_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.EPISODE_CHANGE)
    episode = get_episode_for(request, participant, episode_pk)
    staff = clinical_staff(episode.program)
    initial = {
        "level_of_care": episode.level_of_care,
        "track": episode.track_id,
        "primary_counsellor": episode.primary_counsellor_id,
        "care_team": list(episode.care_team.values_list("pk", flat=True)),
        "version": episode.version,
    }
    form = EpisodeForm(posted(request), initial=initial, program=episode.program, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_episode(
                episode,
                actor=request.user,
                changes={k: data[k] for k in ("level_of_care", "track", "primary_counsellor")},
                care_team=list(data["care_team"]),
                expected_version=data["version"],
            )
        except (StaleEdit, services.EpisodeClosed) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Episode saved.")
            return redirect("participants:chart", pk=pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participants/episode_form.html",
        {"form": form, "participant": participant, "episode": episode},
        status=status,
    )


@staff_view(Perm.EPISODE_TRANSITION)
def episode_new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.EPISODE_TRANSITION)
    form = NewEpisodeForm(posted(request), initial={"referral_date": participant.program.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.open_episode(
                participant,
                actor=request.user,
                program=participant.program,
                referral_source=form.cleaned_data["referral_source"],
                referral_date=form.cleaned_data["referral_date"],
            )
        except services.EpisodeAlreadyOpen as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "A new episode was started with this referral.")
            return redirect("participants:chart", pk=pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "participants/episode_new.html",
        {"form": form, "participant": participant},
        status=status,
    )


@staff_view(Perm.EPISODE_TRANSITION)
def episode_transition(
    request: StaffRequest, pk: int, episode_pk: int, to_status: str
) -> HttpResponse:
    if to_status not in EpisodeStatus.values:
        raise Http404("No such status")
    participant = get_participant_for(request, pk, Perm.EPISODE_TRANSITION)
    episode = get_episode_for(request, participant, episode_pk)
    staff = clinical_staff(episode.program)
    form = TransitionForm(
        posted(request),
        to_status=to_status,
        program=episode.program,
        staff=staff,
        initial=_admission_initial(episode, request),
    )
    refusal = None
    guided = GUIDED.get(to_status)
    if guided is not None:
        refusal = (
            f"{lifecycle.label(to_status)} is recorded with its own form, which keeps what the "
            f"step needs: use “{guided.label}”."
        )
    elif to_status not in lifecycle.next_statuses(episode.status):
        try:
            lifecycle.check(
                episode,
                lifecycle.Request(to_status, episode.program.today()),
                today=episode.program.today(),
            )
        except lifecycle.TransitionRefused as exc:
            refusal = str(exc)
    if request.method == "POST" and refusal is None and form.is_valid():
        data = form.cleaned_data
        changes = {
            k: data[k] for k in ("level_of_care", "track", "primary_counsellor") if k in data
        }
        try:
            services.transition_episode(
                episode,
                to_status,
                actor=request.user,
                effective_date=data["effective_date"],
                reason=data["reason"],
                changes=changes or None,
            )
        except lifecycle.TransitionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{participant.display_name} is now " f"{lifecycle.label(to_status)}."
            )
            return redirect(reverse("participants:chart", kwargs={"pk": pk}))
    status = 200
    if request.method == "POST" or refusal:
        status = 409 if refusal else 400
    return render(
        request,
        "participants/transition_form.html",
        {
            "form": form,
            "participant": participant,
            "episode": episode,
            "refusal": refusal,
            "to_status": to_status,
            "to_label": lifecycle.label(to_status),
            "guided_url": guided.url(episode.pk, participant.pk) if guided else None,
            "guided_label": guided.label if guided else None,
        },
        status=status,
    )


@staff_view(Perm.PARTICIPANT_VOID)
def participant_void(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PARTICIPANT_VOID)
    form = VoidForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.void_participant(
                participant, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except services.AlreadyVoided as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The record {participant.record_number} was voided.")
            return redirect("participants:list")
    return render(
        request,
        "participants/void_form.html",
        {"form": form, "participant": participant},
        status=400 if request.method == "POST" else 200,
    )


def _admission_initial(episode: Any, request: StaffRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"effective_date": episode.program.today()}
    if episode.level_of_care:
        initial["level_of_care"] = episode.level_of_care
    if episode.track_id:
        initial["track"] = episode.track_id
    if episode.primary_counsellor_id:
        initial["primary_counsellor"] = episode.primary_counsellor_id
    elif request.user.has_role(Role.COUNSELLOR):
        initial["primary_counsellor"] = request.user.pk
    return initial
