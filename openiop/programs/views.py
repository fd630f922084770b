"""Program set-up: sites, programs, tracks, rooms, session types and curriculum topics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from openiop.core.access import AccessDenied, StaffRequest, staff_view
from openiop.core.roles import Perm, Role

from . import services
from .access import programs_for, sites_for
from .forms import ProgramForm, RoomForm, SessionTypeForm, SiteForm, TopicForm, TrackForm
from .models import Program, Room, SessionType, Site, Topic, Track


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="programs.setup")
def setup_home(request: StaffRequest) -> HttpResponse:
    programs = programs_for(request.user).select_related("site")
    sites = sites_for(request.user).prefetch_related("rooms")
    return render(request, "programs/setup_home.html", {"programs": programs, "sites": sites})


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="programs.program")
def program_detail(request: StaffRequest, pk: int) -> HttpResponse:
    program = get_object_or_404(programs_for(request.user).select_related("site"), pk=pk)
    context = {
        "program": program,
        "tracks": program.tracks.all(),
        "session_types": program.session_types.all(),
        "topics": program.topics.all(),
        "rooms": program.site.rooms.all(),
    }
    return render(request, "programs/program_detail.html", context)


@dataclass(frozen=True)
class Kind:
    """One kind of set-up record and how it is scoped to the user."""

    model: type[Model]
    form: type[forms.ModelForm]
    label: str
    parent: str  # "program", "site" or "" (top level)

    def scope(self, user: Any) -> QuerySet:
        if self.model is Program:
            return programs_for(user)
        if self.model is Site:
            return sites_for(user)
        if self.parent == "site":
            return self.model._default_manager.filter(site__in=sites_for(user))
        return self.model._default_manager.filter(program__in=programs_for(user))

    def parents(self, user: Any) -> QuerySet:
        return programs_for(user) if self.parent == "program" else sites_for(user)


KINDS: dict[str, Kind] = {
    "site": Kind(Site, SiteForm, "site", ""),
    "program": Kind(Program, ProgramForm, "program", ""),
    "track": Kind(Track, TrackForm, "track", "program"),
    "room": Kind(Room, RoomForm, "room", "site"),
    "sessiontype": Kind(SessionType, SessionTypeForm, "session type", "program"),
    "topic": Kind(Topic, TopicForm, "curriculum topic", "program"),
}


def _kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise Http404("No such kind of set-up record") from None


def _form(kind: Kind, request: StaffRequest, instance: Model) -> forms.ModelForm:
    data = request.POST if request.method == "POST" else None
    if kind.model is Program:
        return ProgramForm(data, instance=instance, sites=sites_for(request.user))
    return kind.form(data, instance=instance)


def _back(instance: Model) -> str:
    if isinstance(instance, Program):
        return f"/setup/programs/{instance.pk}/"
    program_id = getattr(instance, "program_id", None)
    return f"/setup/programs/{program_id}/" if program_id else "/setup/"


def _save(request: StaffRequest, kind: Kind, form: forms.ModelForm, creating: bool):
    instance = form.save(commit=False)
    try:
        services.save_reference(instance, actor=request.user, fields=list(form.fields))
    except services.DuplicateName:
        form.add_error(None, f"Another {kind.label} already has this name here.")
        return None
    verb = "added" if creating else "saved"
    messages.success(request, f"The {kind.label} “{instance}” was {verb}.")
    return redirect(_back(instance))


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="programs.setup_form")
def create(request: StaffRequest, kind_name: str, parent_pk: int | None = None) -> HttpResponse:
    kind = _kind(kind_name)
    if kind.model in (Site, Program) and not request.user.has_role(Role.ADMIN):
        # A director configures their own programs; adding sites and programs to the
        # provider is an administrator's task.
        raise AccessDenied(f"Only an administrator can add a {kind.label}.")
    instance = kind.model()
    parent = None
    if kind.parent:
        if parent_pk is None:
            raise Http404("A parent is required")
        parent = get_object_or_404(kind.parents(request.user), pk=parent_pk)
        setattr(instance, kind.parent, parent)
    elif parent_pk is not None:
        raise Http404("No parent for this kind")
    form = _form(kind, request, instance)
    if request.method == "POST" and form.is_valid():
        response = _save(request, kind, form, creating=True)
        if response is not None:
            return response
    return render(
        request,
        "programs/setup_form.html",
        {"form": form, "kind": kind, "parent": parent, "creating": True},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="programs.setup_form")
def edit(request: StaffRequest, kind_name: str, pk: int) -> HttpResponse:
    kind = _kind(kind_name)
    instance = get_object_or_404(kind.scope(request.user), pk=pk)
    form = _form(kind, request, instance)
    if request.method == "POST" and form.is_valid():
        response = _save(request, kind, form, creating=False)
        if response is not None:
            return response
    parent = getattr(instance, kind.parent) if kind.parent else None
    return render(
        request,
        "programs/setup_form.html",
        {"form": form, "kind": kind, "parent": parent, "creating": False, "object": instance},
        status=400 if request.method == "POST" else 200,
    )
