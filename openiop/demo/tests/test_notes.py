"""The demo's progress notes (issue 6, point 9): signed group notes with an entry for each
member who attended, signed individual notes, the demo counsellor's drafts, a
co-signature queue for the supervisor, late entries and an addendum.

One demo is built for the module (in a transaction rolled back at the end); the tests
only read it, or write inside their own rolled-back test transaction.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from django.db import transaction
from django.test import Client, override_settings

from openiop.accounts.models import User
from openiop.attendance.choices import ATTENDED
from openiop.attendance.models import Attendance
from openiop.demo import builder
from openiop.demo import notes as demo_notes
from openiop.notes.choices import REQUIRED_GROUP, SECTIONS, NoteFormat, NoteStatus
from openiop.notes.goals import addressable_goals
from openiop.notes.models import Addendum, GroupNote, Note
from openiop.notes.services import LATE_AFTER_DAYS
from openiop.participants.models import Episode
from openiop.programs.models import Program
from openiop.scheduling.choices import SessionKind
from openiop.scheduling.models import Session
from openiop.testing import make_signed_plan

DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # The tests' fast hasher (openiop/conftest.py) is set per test: the demo's logins are
    # made with it too, so the tests can sign in.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic(), fast:
        builder.build(today=DAY)
        yield
        transaction.set_rollback(True)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def signed_in(username: str) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": username, "password": builder.DEMO_PASSWORD}
    )
    assert response.status_code == 302
    return client


def test_past_group_sessions_have_a_note_with_an_entry_per_attendee():
    groups = list(GroupNote.objects.filter(voided=False).select_related("session"))
    assert len(groups) >= 30
    # Every group session of the last three weeks where someone attended has one.
    expected = set(
        Attendance.objects.filter(
            session__kind=SessionKind.GROUP,
            session__date__gte=DAY - dt.timedelta(days=demo_notes.NOTES_DAYS),
            session__date__lt=DAY,
            status__in=sorted(ATTENDED),
            voided=False,
        ).values_list("session_id", flat=True)
    )
    assert {g.session_id for g in groups} == expected
    entries: dict[int, list[Note]] = defaultdict(list)
    for entry in Note.objects.filter(group_note__in=groups, voided=False):
        entries[entry.group_note_id].append(entry)
    statuses = set()
    for group in groups:
        marks = Attendance.objects.filter(session=group.session, voided=False)
        came = {m.episode_id for m in marks if m.status in ATTENDED}
        absent = {m.episode_id for m in marks if m.status not in ATTENDED}
        statuses |= {m.status for m in marks}
        episodes = [e.episode_id for e in entries[group.pk]]
        assert sorted(episodes) == sorted(came), group.session
        assert not absent & set(episodes)
        assert group.narrative.strip()
        assert all(
            e.format == NoteFormat.GROUP and e.sections["goal"] == "" for e in entries[group.pk]
        )
    # Late arrivals, telehealth and absences are among them (early leavers are rare).
    assert {"present", "late", "telehealth"} <= statuses
    assert statuses & {"absent_excused", "absent_unexcused"}
    signed = [g for g in groups if g.status == NoteStatus.SIGNED]
    assert len(signed) >= len(groups) - 6
    # Narratives and responses vary.
    assert len({g.narrative for g in signed}) > len(signed) * 0.8
    responses = {e.sections["response"] for g in signed for e in entries[g.pk]}
    assert len(responses) >= 15


def test_every_signed_note_has_its_required_sections_written():
    signed = list(Note.objects.filter(status=NoteStatus.SIGNED, voided=False))
    assert len(signed) > 200
    for note in signed:
        keys = (
            REQUIRED_GROUP
            if note.format == NoteFormat.GROUP
            else [k for k, _label, _prompt in SECTIONS[note.format]]
        )
        assert all(str(note.sections.get(k, "")).strip() for k in keys), (note.pk, note.format)
        assert note.signed_at and note.signed_name
        assert note.signed_at.date() >= note.service_date
    assert not GroupNote.objects.filter(status=NoteStatus.SIGNED, narrative="").exists()


def test_attended_appointments_have_signed_individual_notes():
    individual = Note.objects.filter(session__isnull=False).exclude(format=NoteFormat.GROUP)
    assert {n.format for n in individual} >= {NoteFormat.DAP, NoteFormat.BIRP}
    documented = set(individual.values_list("session_id", "episode_id"))
    for mark in Attendance.objects.filter(
        session__kind__in=[SessionKind.INDIVIDUAL, SessionKind.FAMILY],
        session__date__lt=DAY,
        voided=False,
    ):
        assert ((mark.session_id, mark.episode_id) in documented) == (mark.status in ATTENDED)
    assert individual.filter(status=NoteStatus.SIGNED).count() >= 5
    # Each by the appointment's counsellor.
    assert all(
        n.author_id == n.session.facilitator_id for n in individual.select_related("session")
    )
    # Where the participant's signed plan was in force on the day, the note addresses
    # one of its goals (and an objective of it).
    goals = addressable_goals(individual.values_list("episode_id", flat=True))
    linked = 0
    for note in individual.filter(status=NoteStatus.SIGNED).prefetch_related(
        "goals_addressed", "objectives_addressed"
    ):
        day = note.service_date
        in_force = [g for g in goals[note.episode_id] if demo_notes._in_force(g.plan, day)]
        addressed = list(note.goals_addressed.all())
        assert bool(addressed) == bool(in_force), note.pk
        assert {g.pk for g in addressed} <= {g.pk for g in in_force}
        linked += bool(addressed)
    assert linked or not any(goals.values())
    # One with an addendum, by its author.
    addendum = Addendum.objects.select_related("note").get()
    assert addendum.note.is_signed and addendum.author_id == addendum.note.author_id


def test_some_notes_were_signed_late():
    program = Program.objects.get(is_demo=True)
    signed = Note.objects.filter(status=NoteStatus.SIGNED, voided=False)
    for note in signed:
        days = (program.today(note.signed_at) - note.service_date).days
        assert note.late_entry == (days > LATE_AFTER_DAYS), note.pk
    assert signed.filter(late_entry=True, format=NoteFormat.GROUP).exists()
    assert signed.filter(late_entry=True).exclude(format=NoteFormat.GROUP).exists()
    assert signed.filter(late_entry=True).count() < signed.count() / 10


def test_the_demo_counsellor_has_drafts_to_finish():
    counsellor = User.objects.get(username="counsellor")
    drafts = Note.objects.filter(author=counsellor, status=NoteStatus.DRAFT, voided=False)
    assert drafts.filter(format=NoteFormat.GROUP).count() >= 3
    assert drafts.exclude(format=NoteFormat.GROUP).count() == 1
    # The drafts are of their last program days: everything older is signed.
    days = sorted(
        set(
            Session.objects.filter(
                facilitator=counsellor, kind=SessionKind.GROUP, date__lt=DAY
            ).values_list("date", flat=True)
        )
    )
    group_days = set(drafts.filter(format=NoteFormat.GROUP).values_list("service_date", flat=True))
    assert group_days == set(days[-demo_notes.DRAFT_DAYS :])
    # Only theirs: colleagues signed everything.
    assert not Note.objects.filter(status=NoteStatus.DRAFT).exclude(author=counsellor).exists()
    client = signed_in("counsellor")
    page = client.get("/notes/unsigned/")
    assert page.status_code == 200
    assert f"My drafts ({drafts.count()})".encode() in page.content
    board = client.get("/")
    assert board.status_code == 200 and b"My unsigned notes" in board.content
    director = signed_in("director").get("/notes/unsigned/")
    assert b"Unsigned across the program (" in director.content
    assert b"Casey Romero" in director.content


def test_the_supervisor_has_a_co_signature_queue():
    supervisee = User.objects.get(username="supervisee")
    assert supervisee.notes_need_cosign and supervisee.check_password(builder.DEMO_PASSWORD)
    assert "counsellor" in supervisee.role_codes and supervisee.credentials == "CADC-T"
    theirs = Note.objects.filter(author=supervisee, status=NoteStatus.SIGNED)
    assert theirs.count() >= 3 and all(n.cosign_required for n in theirs)
    waiting = [n for n in theirs if n.awaiting_cosign]
    cosigned = theirs.filter(cosigned_at__isnull=False)
    assert len(waiting) >= 2
    assert [n.cosigned_by.username for n in cosigned] == ["supervisor"]
    # Nobody else's notes need a co-signature.
    assert not Note.objects.filter(cosign_required=True).exclude(author=supervisee).exists()
    page = signed_in("supervisor").get("/notes/unsigned/")
    assert page.status_code == 200
    assert f"To co-sign ({len(waiting)})".encode() in page.content
    assert b"Riley Tran, CADC-T" in page.content
    mine = signed_in("supervisee").get("/notes/unsigned/")
    assert f"My notes waiting for a co-signature ({len(waiting)})".encode() in mine.content


def test_notes_address_a_goal_of_the_signed_plan_when_there_is_one():
    """The demo links a note to the participant's plan when plans exist before it runs."""
    episode = (
        Episode.objects.filter(status="active", primary_counsellor__username="counsellor")
        .select_related("participant", "program")
        .order_by("pk")
        .first()
    )
    counsellor = User.objects.get(username="counsellor")
    if not addressable_goals([episode.pk])[episode.pk]:
        make_signed_plan(episode.participant, counsellor)
    goals = addressable_goals([episode.pk])
    note = demo_notes._write(
        random.Random(1), episode, counsellor, episode.program.today(), 50, goals
    )
    goal = goals[episode.pk][0] if len(goals[episode.pk]) == 1 else note.goals_addressed.get()
    assert list(note.goals_addressed.all()) == [goal]
    assert note.objectives_addressed.get().goal_id == goal.pk
    assert goal.text.strip()[:40] in note.sections["plan"]
