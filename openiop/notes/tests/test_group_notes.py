"""Group notes: one narrative, an entry for each participant who attended (prefilled from
attendance), signed together; late members added without touching signed entries;
drafts never overwritten; signed means locked (ORM, form, crafted POST); query counts
that do not grow with the group."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.attendance import services as attendance
from openiop.attendance.choices import AttendanceStatus as A
from openiop.notes import groups, services
from openiop.notes.models import GroupNote, Note, SignedRecordError
from openiop.participants.choices import EpisodeStatus as S
from openiop.scheduling import services as schedule
from openiop.scheduling.models import Session
from openiop.testing import make_participant, make_signed_plan

FIRST = ["Ana", "Ben", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu"]


def members(world, count):
    """`count` active participants on the Morning track (admitted 37 days ago)."""
    return [
        make_participant(
            world.program,
            world.intake,
            last=f"Member{i:02d}",
            first=FIRST[i % len(FIRST)],
            status=S.ACTIVE,
            counsellor=world.counsellor,
            days_ago=40,
        )
        for i in range(count)
    ]


def past_unmarked_session(world, skip=0):
    """A past Morning group session without any mark yet."""
    return (
        Session.objects.filter(
            track__name="Morning", track__program=world.program, date__lt=world.program.today()
        )
        .exclude(attendance__isnull=False)
        .order_by("-starts_at")[skip]
    )


def take(world, session, marks):
    """marks: [(participant, status, minutes_missed)]."""
    attendance.record_attendance(
        session,
        {p.current_episode_id: attendance.Entry(s, m) for p, s, m in marks},
        actor=world.counsellor,
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def group(world):
    """Six members: four attended (present, late 15, left early 30, telehealth), two did
    not (excused, unexcused); world.active, also on the track, has no mark."""
    people = members(world, 6)
    statuses = [
        (A.PRESENT, 0),
        (A.LATE, 15),
        (A.LEFT_EARLY, 30),
        (A.TELEHEALTH, 0),
        (A.ABSENT_EXCUSED, 0),
        (A.ABSENT_UNEXCUSED, 0),
    ]
    session = take(
        world,
        past_unmarked_session(world),
        [(p, s, m) for p, (s, m) in zip(people, statuses, strict=True)],
    )
    return session, people


def fill(note, actor, response="Shared a plan for the weekend.", narrative="Relapse triggers."):
    entries = groups.entries_of(note)
    return groups.save_group_draft(
        note,
        actor=actor,
        expected_version=note.version,
        narrative=narrative,
        entries={e.pk: {"response": response} for e in entries},
    )


def signed_group(world, session):
    note = groups.open_group_note(session, actor=world.counsellor)
    note = fill(note, world.counsellor)
    groups.sign_group(note, actor=world.counsellor, expected_version=note.version)
    return GroupNote.objects.get(pk=note.pk)


# --- entries follow attendance ---------------------------------------------------------


def test_entries_only_for_those_who_attended_prefilled_from_attendance(world, group):
    session, people = group
    note = groups.open_group_note(session, actor=world.counsellor)
    assert note.author == world.counsellor and not note.is_signed
    entries = {e.participant_id: e for e in groups.entries_of(note)}
    # Present, late, left early, telehealth: an entry each. Absent (either kind) and no
    # mark at all: none.
    assert set(entries) == {p.pk for p in people[:4]}
    assert world.active.pk not in entries
    participation = {pid: e.sections["participation"] for pid, e in entries.items()}
    assert participation == {
        people[0].pk: "Present for the whole session.",
        people[1].pk: "Arrived 15 minutes late.",
        people[2].pk: "Left 30 minutes early.",
        people[3].pk: "Attended by telehealth for the whole session.",
    }
    assert entries[people[1].pk].minutes == session.minutes - 15
    assert entries[people[0].pk].minutes == session.minutes
    for entry in entries.values():
        assert entry.format == "group" and entry.status == "draft"
        assert entry.session_id == session.pk and entry.service_date == session.date
        assert entry.author == world.counsellor and entry.group_note_id == note.pk
        assert entry.sections["response"] == "" and entry.sections["goal"] == ""
    # Opening it again creates nothing new.
    assert groups.open_group_note(session, actor=world.supervisor).pk == note.pk
    assert Note.objects.filter(group_note=note).count() == 4
    assert GroupNote.objects.get(pk=note.pk).author == world.counsellor


def test_a_member_marked_present_after_signing_gets_a_draft_and_signatures_are_kept(
    world, group, login
):
    session, people = group
    note = signed_group(world, session)
    signed = {e.pk: (e.signed_at, e.version, dict(e.sections)) for e in groups.entries_of(note)}
    assert len(signed) == 4
    # The excused member turns out to have come in late.
    take(world, session, [(people[4], A.LATE, 20)])
    # Opening the screen (GET) brings the entries in step with attendance.
    response = login(world.counsellor).get(reverse("notes_home:group", args=[session.pk]))
    assert response.status_code == 200
    entries = groups.entries_of(note)
    late = [e for e in entries if e.pk not in signed]
    assert [e.participant_id for e in late] == [people[4].pk]
    assert late[0].status == "draft"
    assert late[0].sections["participation"] == "Arrived 20 minutes late."
    for e in entries:
        if e.pk in signed:
            assert e.status == "signed"
            assert (e.signed_at, e.version, e.sections) == signed[e.pk]
    fresh = GroupNote.objects.get(pk=note.pk)
    assert fresh.is_signed and fresh.signed_at == note.signed_at
    assert fresh.narrative == note.narrative
    page = response.content.decode()
    assert "Sign all (1 entry)" in page and "and the narrative" not in page
    # Sign all signs only the newcomer's entry; the narrative keeps its signature.
    fresh = fill(fresh, world.counsellor, response="Quiet; listened.")
    assert GroupNote.objects.get(pk=note.pk).narrative == note.narrative  # locked
    assert groups.sign_group(fresh, actor=world.counsellor, expected_version=fresh.version) == 1
    assert Note.objects.get(pk=late[0].pk).status == "signed"
    assert GroupNote.objects.get(pk=note.pk).signed_at == note.signed_at
    for e in groups.entries_of(note):
        if e.pk in signed:
            assert (e.signed_at, e.sections) == (signed[e.pk][0], signed[e.pk][2])


def test_a_draft_entry_of_someone_no_longer_attending_is_voided_not_deleted(world, group):
    session, people = group
    note = groups.open_group_note(session, actor=world.counsellor)
    note = fill(note, world.counsellor)
    take(world, session, [(people[3], A.ABSENT_UNEXCUSED, 0)])  # marked in error
    groups.open_group_note(session, actor=world.counsellor)
    assert people[3].pk not in {e.participant_id for e in groups.entries_of(note)}
    voided = Note.objects.get(group_note=note, participant=people[3])
    assert voided.voided and voided.sections["response"]  # kept, text and all
    # Marked as attending again: a new draft entry.
    take(world, session, [(people[3], A.TELEHEALTH, 0)])
    groups.open_group_note(session, actor=world.counsellor)
    assert people[3].pk in {e.participant_id for e in groups.entries_of(note)}


# --- signing together -----------------------------------------------------------------


def test_signing_together_names_who_lacks_participation_or_response(world, group):
    session, people = group
    note = groups.open_group_note(session, actor=world.counsellor)
    with pytest.raises(services.NoteError, match="the group narrative"):
        groups.sign_group(note, actor=world.counsellor, expected_version=note.version)
    entries = groups.entries_of(note)
    note = groups.save_group_draft(
        note,
        actor=world.counsellor,
        expected_version=note.version,
        narrative="Relapse triggers: people, places, things.",
        entries={
            entries[0].pk: {"response": "Named payday as a trigger."},
            entries[1].pk: {"response": "Shared a plan.", "participation": "   "},
            entries[2].pk: {"response": "Listened."},
        },
    )
    with pytest.raises(services.NoteError) as refused:
        groups.sign_group(note, actor=world.counsellor, expected_version=note.version)
    message = str(refused.value)
    assert people[1].display_name in message and people[3].display_name in message
    assert people[0].display_name not in message and people[2].display_name not in message
    assert not GroupNote.objects.get(pk=note.pk).is_signed
    assert set(Note.objects.filter(group_note=note).values_list("status", flat=True)) == {"draft"}
    note = groups.save_group_draft(
        note,
        actor=world.counsellor,
        expected_version=note.version,
        entries={entries[1].pk: {"participation": "Arrived 15 minutes late; settled in."}},
    )
    note = fill(note, world.counsellor)
    # Only the author signs.
    with pytest.raises(services.NoteError, match="Only the author"):
        groups.sign_group(note, actor=world.supervisor, expected_version=note.version)
    assert groups.sign_group(note, actor=world.counsellor, expected_version=note.version) == 4
    note = GroupNote.objects.get(pk=note.pk)
    assert note.is_signed and note.signed_name == world.counsellor.display_name
    for e in groups.entries_of(note):
        assert e.is_signed and e.signed_at == note.signed_at
        assert not e.cosign_required
    with pytest.raises(services.NoteError, match="already signed"):
        groups.sign_group(note, actor=world.counsellor, expected_version=note.version)


def test_a_supervisees_entries_wait_for_a_co_signature(world, group):
    session, _people = group
    note = groups.open_group_note(session, actor=world.supervisee)
    note = fill(note, world.supervisee)
    groups.sign_group(note, actor=world.supervisee, expected_version=note.version)
    entries = groups.entries_of(note)
    assert entries and all(e.cosign_required and e.awaiting_cosign for e in entries)
    # They join the supervisor's co-signature queue like any note.
    services.cosign_note(entries[0], actor=world.supervisor)
    assert Note.objects.get(pk=entries[0].pk).cosigned_by == world.supervisor


def test_entries_signed_days_after_the_session_are_late_entries(world, group):
    session, _people = group
    note = fill(groups.open_group_note(session, actor=world.counsellor), world.counsellor)
    later = session.ends_at + dt.timedelta(days=services.LATE_AFTER_DAYS + 1)
    groups.sign_group(note, actor=world.counsellor, expected_version=note.version, now=later)
    assert all(e.late_entry for e in groups.entries_of(note))


def test_a_group_signed_within_the_window_is_not_late(world, group):
    session, _people = group
    note = fill(groups.open_group_note(session, actor=world.counsellor), world.counsellor)
    within = session.ends_at + dt.timedelta(days=services.LATE_AFTER_DAYS - 1)
    groups.sign_group(note, actor=world.counsellor, expected_version=note.version, now=within)
    assert not any(e.late_entry for e in groups.entries_of(note))


# --- drafts are never overwritten -----------------------------------------------------------


def test_the_second_of_two_concurrent_saves_is_refused_and_writes_nothing(world, group, login):
    session, _people = group
    note = groups.open_group_note(session, actor=world.counsellor)
    entry = groups.entries_of(note)[0]
    seen = note.version
    groups.save_group_draft(
        note,
        actor=world.supervisor,
        expected_version=seen,
        narrative="Supervisor's narrative",
        entries={entry.pk: {"response": "Supervisor's words"}},
    )
    with pytest.raises(services.DraftConflict) as conflict:
        groups.save_group_draft(
            note,
            actor=world.counsellor,
            expected_version=seen,
            narrative="Counsellor's narrative",
            entries={entry.pk: {"response": "Counsellor's words"}},
        )
    assert conflict.value.theirs["narrative"] == "Supervisor's narrative"
    assert conflict.value.theirs[groups.field_name(entry, "response")] == "Supervisor's words"
    assert world.supervisor.display_name in str(conflict.value)
    saved = GroupNote.objects.get(pk=note.pk)
    assert saved.narrative == "Supervisor's narrative" and saved.version == seen + 1
    assert Note.objects.get(pk=entry.pk).sections["response"] == "Supervisor's words"
    # The same through the autosave endpoint and the screen's form: both texts shown.
    client = login(world.counsellor)
    mine = {
        "version": seen,
        "narrative": "Counsellor's narrative",
        groups.field_name(entry, "response"): "Counsellor's words",
    }
    response = client.post(reverse("notes_home:group_autosave", args=[session.pk]), mine)
    assert response.status_code == 409
    assert response.json()["theirs"]["narrative"] == "Supervisor's narrative"
    response = client.post(reverse("notes_home:group", args=[session.pk]), mine)
    assert response.status_code == 409
    page = response.content.decode()
    for text in ("Supervisor&#x27;s narrative", "Counsellor&#x27;s narrative"):
        assert text in page
    for text in ("Supervisor&#x27;s words", "Counsellor&#x27;s words"):
        assert text in page
    assert "Not saved." in page
    assert GroupNote.objects.get(pk=note.pk).narrative == "Supervisor's narrative"
    assert Note.objects.get(pk=entry.pk).sections["response"] == "Supervisor's words"
    # The page carries the current version: saving again (having seen both) succeeds.
    assert response.context["version"] == seen + 1


def test_autosave_saves_what_is_posted_and_leaves_the_rest(world, group, login):
    session, _people = group
    client = login(world.counsellor)
    url = reverse("notes_home:group_autosave", args=[session.pk])
    assert client.get(url).json() == {"version": None, "status": "not started"}
    assert client.post(url, {"version": 1}).status_code == 409  # not started yet
    note = groups.open_group_note(session, actor=world.counsellor)
    first, second = groups.entries_of(note)[:2]
    version = note.version
    for text in ("Shared", "Shared a plan", "Shared a plan for Friday"):
        response = client.post(
            url,
            {"version": version, "narrative": "Triggers", groups.field_name(first, "goal"): text},
        )
        assert response.status_code == 200, response.content
        version = response.json()["version"]
    assert Note.objects.get(pk=first.pk).sections["goal"] == "Shared a plan for Friday"
    # A section left out of the post is unchanged, never blanked.
    assert (
        Note.objects.get(pk=first.pk).sections["participation"] == (first.sections["participation"])
    )
    assert Note.objects.get(pk=second.pk).sections == second.sections
    assert GroupNote.objects.get(pk=note.pk).narrative == "Triggers"
    assert client.get(url).json() == {"version": version, "status": "draft"}
    assert client.post(url, {"narrative": "x"}).status_code == 400  # no version
    assert client.post(url, {"version": "abc"}).status_code == 400
    bad = client.post(url, {"version": version, "narrative": "a\x00b"})
    assert bad.status_code == 400 and "NUL" in bad.json()["error"]
    bad = client.post(url, {"version": version, groups.field_name(first, "response"): "r" * 20001})
    assert bad.status_code == 400 and first.participant.display_name in bad.json()["error"]
    bad = client.post(url, {"version": version, "modality": "bogus"})
    assert bad.status_code == 400 and "modality" in bad.json()["error"]
    assert GroupNote.objects.get(pk=note.pk).version == version  # nothing written


# --- signed means locked -----------------------------------------------------------------


def test_a_signed_group_note_and_its_entries_cannot_change_through_the_orm(world, group):
    session, _people = group
    note = signed_group(world, session)
    note.narrative = "rewritten"
    with pytest.raises(SignedRecordError):
        note.save()
    with pytest.raises(SignedRecordError):
        note.save(update_fields=["narrative"])
    with pytest.raises(SignedRecordError):
        GroupNote.objects.filter(pk=note.pk).update(narrative="rewritten")
    with pytest.raises(SignedRecordError):
        GroupNote.objects.filter(session=session).update(status="draft")
    with pytest.raises(TypeError, match="void it"):
        note.delete()
    entry = groups.entries_of(note)[0]
    entry.sections = {**entry.sections, "response": "rewritten"}
    with pytest.raises(SignedRecordError):
        entry.save()
    with pytest.raises(SignedRecordError):
        entry.save(update_fields=["sections"])
    with pytest.raises(SignedRecordError):
        Note.objects.filter(group_note=note).update(sections={})
    with pytest.raises(SignedRecordError):
        Note.objects.filter(group_note=note).update(status="draft")
    with pytest.raises(TypeError, match="void it"):
        entry.delete()
    # The services refuse too: the whole group, and one entry through the individual
    # note's services.
    with pytest.raises(SignedRecordError):
        groups.save_group_draft(
            note, actor=world.counsellor, expected_version=note.version, narrative="x"
        )
    with pytest.raises(SignedRecordError):
        services.save_draft(
            entry, actor=world.counsellor, sections={"response": "x"}, expected_version=1
        )
    fresh = GroupNote.objects.get(pk=note.pk)
    assert fresh.narrative == "Relapse triggers." and fresh.is_signed
    assert Note.objects.get(pk=entry.pk).sections["response"] == "Shared a plan for the weekend."


def test_a_crafted_post_after_signing_changes_no_signed_text(world, group, login):
    session, people = group
    note = signed_group(world, session)
    signed = {e.pk: dict(e.sections) for e in groups.entries_of(note)}
    client = login(world.counsellor)
    url = reverse("notes_home:group", args=[session.pk])
    crafted = {
        "version": note.version,
        "narrative": "rewritten narrative",
        "modality": "cbt",
        **{groups.field_name(pk, "response"): "rewritten" for pk in signed},
    }
    for action in ("save", "sign"):
        response = client.post(url, {**crafted, "action": action})
        assert response.status_code == 409
        assert "signed" in response.content.decode()
    response = client.post(reverse("notes_home:group_autosave", args=[session.pk]), crafted)
    assert response.status_code == 409
    # With a late member's draft open, the post saves that draft only.
    take(world, session, [(people[5], A.PRESENT, 0)])
    groups.open_group_note(session, actor=world.counsellor)
    late = Note.objects.get(group_note=note, participant=people[5], voided=False)
    response = client.post(
        url,
        {
            **crafted,
            groups.field_name(late, "response"): "Joined late; engaged.",
            "action": "sign",
        },
    )
    assert response.status_code == 302
    for e in groups.entries_of(note):
        if e.pk in signed:
            assert e.sections == signed[e.pk]
    assert Note.objects.get(pk=late.pk).is_signed
    fresh = GroupNote.objects.get(pk=note.pk)
    assert (fresh.narrative, fresh.modality) == (note.narrative, note.modality)
    # The individual note's editor and autosave refuse a group entry.
    entry_edit = reverse("notes:edit", args=[people[0].pk, next(iter(signed))])
    assert client.post(entry_edit, {"version": 1, "section_response": "x"}).status_code == 409
    assert client.get(entry_edit).status_code == 302


def test_a_draft_entry_is_written_on_the_group_screen_only(world, group, login):
    session, people = group
    note = groups.open_group_note(session, actor=world.counsellor)
    entry = groups.entries_of(note)[0]
    with pytest.raises(services.NoteError, match="group note"):
        services.save_draft(
            entry, actor=world.counsellor, sections={"response": "x"}, expected_version=1
        )
    with pytest.raises(services.NoteError, match="group note"):
        services.sign_note(entry, actor=world.counsellor, expected_version=entry.version)
    client = login(world.counsellor)
    edit = reverse("notes:edit", args=[entry.participant_id, entry.pk])
    assert client.get(edit)["Location"] == reverse("notes_home:group", args=[session.pk])
    # Starting an individual note for the same session is not sent to the group entry.
    individual, created = services.start_note(
        entry.episode,
        actor=world.counsellor,
        fmt="dap",
        service_date=session.date,
        minutes=30,
        session=session,
    )
    assert created and individual.group_note_id is None


# --- when there is no group note to write ---------------------------------------------------


def test_no_group_note_for_an_individual_a_cancelled_or_an_untaken_session(world, login):
    cancelled = schedule.cancel_session(
        Session.objects.filter(track__name="Morning", date__gt=world.program.today())
        .exclude(pk=world.future_session.pk)
        .first(),
        actor=world.counsellor,
        reason="Snow day",
    )
    cases = [
        (world.appointment, "for group sessions"),
        (cancelled, "cancelled"),
        (world.future_session, "Take attendance first"),
    ]
    client = login(world.counsellor)
    for session, why in cases:
        with pytest.raises(services.NoteError, match=why):
            groups.open_group_note(session, actor=world.counsellor)
        url = reverse("notes_home:group", args=[session.pk])
        page = client.get(url)
        assert page.status_code == 200 and why in page.content.decode()
        assert "Start the group note" not in page.content.decode()
        response = client.post(url)
        assert response.status_code == 409 and why in response.content.decode()
    assert not GroupNote.objects.exists()


def test_starting_from_the_roster_and_bad_input_to_the_form(world, group, login):
    session, _people = group
    client = login(world.counsellor)
    roster = client.get(reverse("attendance:session", args=[session.pk])).content.decode()
    url = reverse("notes_home:group", args=[session.pk])
    assert f'href="{url}"' in roster
    page = client.get(url)
    assert page.status_code == 200 and "Start the group note" in page.content.decode()
    assert not GroupNote.objects.exists()  # a GET starts nothing
    assert client.post(url)["Location"] == url
    note = GroupNote.objects.get(session=session)
    entry = groups.entries_of(note)[0]
    valid = {"version": note.version, "narrative": "Triggers", "modality": "cbt"}
    for bad, why in [
        ({"version": ""}, "version"),
        ({"version": "abc"}, "version"),
        ({"action": "delete"}, "Unknown action"),
        ({"modality": "bogus"}, "modality"),
        ({"narrative": "n" * 20001}, "20,000"),
        ({"narrative": "a\x00b"}, "NUL"),
        ({groups.field_name(entry, "response"): "r\x00"}, entry.participant.display_name),
    ]:
        response = client.post(url, {**valid, **bad})
        assert response.status_code == 400, bad
        assert why in response.content.decode(), bad
    assert GroupNote.objects.get(pk=note.pk).version == note.version  # nothing written
    assert client.post(url, valid)["Location"] == url
    saved = GroupNote.objects.get(pk=note.pk)
    assert (saved.narrative, saved.modality) == ("Triggers", "cbt")
    # Billing may not; another program's user does not see the session.
    assert login(world.billing).post(url, valid).status_code == 403
    assert login(world.outsider).post(url, valid).status_code == 404


# --- query counts ---------------------------------------------------------------------------

# The group note screen, opened with nothing to bring in step: the same for any group size.
# (+3 with the plan goals: the goal each entry addressed, the members' active goals and
# their objectives; +2 for the autosave, which reads the entries' goals once more.) Each
# audit event is three queries: lock the audit chain's head, INSERT the event, move the
# head; the screen writes one event, the autosave two.
SCREEN_QUERIES = 20
AUTOSAVE_QUERIES = 23


def two_groups(world):
    """A group of 12 and a group of 3, both with their note started."""
    people = members(world, 12)
    # One member (in both groups) has a signed plan: their entry offers its goals.
    make_signed_plan(people[0], world.counsellor)
    big = take(world, past_unmarked_session(world), [(p, A.PRESENT, 0) for p in people])
    small = take(
        world,
        past_unmarked_session(world),
        [(p, A.PRESENT if i < 3 else A.ABSENT_EXCUSED, 0) for i, p in enumerate(people)],
    )
    out = {}
    for session in (big, small):
        note = groups.open_group_note(session, actor=world.counsellor)
        out[len(groups.entries_of(note))] = (session, note)
    assert sorted(out) == [3, 12]
    return out


def count(client, method, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def test_the_group_screen_runs_the_same_queries_for_12_as_for_3(world, login):
    groups_by_size = two_groups(world)
    client = login(world.counsellor)
    seen = {}
    for size, (session, _note) in groups_by_size.items():
        url = reverse("notes_home:group", args=[session.pk])
        client.get(url)  # warm the session and the user's caches
        seen[size] = count(client, "get", url)
    assert seen[12] == seen[3], seen
    assert seen[12] == SCREEN_QUERIES, seen


def test_an_autosave_runs_the_same_queries_for_12_as_for_3(world, login):
    groups_by_size = two_groups(world)
    client = login(world.counsellor)
    seen = {}
    for size, (session, note) in groups_by_size.items():
        entries = groups.entries_of(note)
        # What the browser posts: every box; one entry's response changed.
        data = {"version": note.version, "narrative": "Triggers", "modality": note.modality}
        for e in entries:
            for key in groups.GROUP_KEYS:
                data[groups.field_name(e, key)] = e.sections[key]
        data[groups.field_name(entries[0], "response")] = "Named a trigger."
        seen[size] = count(
            client, "post", reverse("notes_home:group_autosave", args=[session.pk]), data
        )
    assert seen[12] == seen[3], seen
    assert seen[12] == AUTOSAVE_QUERIES, seen


# --- plan goals --------------------------------------------------------------------------


def test_entries_start_on_the_first_active_goal_and_the_choice_is_checked(world, login):
    people = members(world, 3)
    plan = make_signed_plan(people[0], world.counsellor)
    goal = plan.goals.get()
    session = take(world, past_unmarked_session(world), [(p, A.PRESENT, 0) for p in people])
    note = groups.open_group_note(session, actor=world.counsellor)
    entries = {e.participant_id: e for e in groups.entries_of(note)}
    first = entries[people[0].pk]
    # Prefilled from the participant's active goals; no plan, no goal.
    assert list(first.goals_addressed.all()) == [goal]
    assert not entries[people[1].pk].goals_addressed.exists()
    url = reverse("notes_home:group", args=[session.pk])
    client = login(world.counsellor)
    page = client.get(url).content.decode()
    assert goal.text[:40] in page
    field = groups.field_name(first, groups.GOAL_CHOICE)
    # Another participant's goal (or nonsense) is refused, naming whose entry.
    other = groups.field_name(entries[people[1].pk], groups.GOAL_CHOICE)
    for bad in ({other: str(goal.pk)}, {field: "abc"}, {field: "999999"}):
        response = client.post(url, {"version": note.version, "action": "save", **bad})
        assert response.status_code == 400, bad

    def linked():
        return list(Note.objects.get(pk=first.pk).goals_addressed.all())

    assert linked() == [goal]
    # Clearing the choice unlinks it; the signed entry keeps what it had when signed.
    response = client.post(url, {"version": note.version, "action": "save", field: ""})
    assert response.status_code == 302
    assert linked() == []
    note.refresh_from_db()
    response = client.post(url, {"version": note.version, "action": "save", field: str(goal.pk)})
    assert response.status_code == 302
    assert linked() == [goal]
