"""Scoping for the schedule: sessions, tracks and programs of the user's programs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from openiop.participants.access import visible_participants
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode
from openiop.programs.access import programs_for
from openiop.programs.models import Program, Track

from .models import Session


def programs_of(user: Any) -> QuerySet[Program]:
    return Program.objects.filter(pk__in=user.program_ids, retired=False).select_related("site")


def session_for(user: Any, pk: int) -> Session:
    try:
        return Session.objects.select_related(
            "program",
            "program__site",
            "track",
            "room",
            "facilitator",
            "topic",
            "session_type",
            "attendance_taken_by",
        ).get(pk=pk, program_id__in=user.program_ids, voided=False)
    except Session.DoesNotExist:
        raise Http404("No such session in your programs") from None


def track_for(user: Any, pk: int) -> Track:
    try:
        return Track.objects.select_related("program", "program__site").get(
            pk=pk, program_id__in=user.program_ids
        )
    except Track.DoesNotExist:
        raise Http404("No such track in your programs") from None


def program_for(user: Any, pk: int) -> Program:
    try:
        return programs_of(user).get(pk=pk)
    except Program.DoesNotExist:
        raise Http404("No such program") from None


def setup_track_for(user: Any, pk: int) -> Track:
    """A track whose weekly template or curriculum the user may set up: as on the program
    set-up pages (`programs.access.programs_for`), an administrator configures every
    program, although they belong to none."""
    try:
        return Track.objects.select_related("program", "program__site").get(
            pk=pk, program__in=programs_for(user)
        )
    except Track.DoesNotExist:
        raise Http404("No such track in your programs") from None


def setup_program_for(user: Any, pk: int) -> Program:
    """A program whose closures the user may set up (administrators: every program)."""
    try:
        return programs_for(user).filter(retired=False).select_related("site").get(pk=pk)
    except Program.DoesNotExist:
        raise Http404("No such program") from None


def bookable_episodes(user: Any, program: Any) -> QuerySet[Episode]:
    """Episodes in care in the program, of participants the user may see."""
    return (
        Episode.objects.filter(
            program=program,
            status__in=IN_CARE,
            voided=False,
            participant__in=visible_participants(user),
        )
        .select_related("participant", "program")
        .order_by("participant__legal_last_name", "participant__legal_first_name")
    )
