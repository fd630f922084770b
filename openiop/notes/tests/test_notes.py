"""Progress notes: drafts that are never overwritten, signing that locks for good (in the
model layer, a form and a crafted POST alike), addenda, late entries, co-signature."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.notes import services
from openiop.notes.models import Addendum, Note, SignedRecordError


def write(note, actor, **sections):
    return services.save_draft(note, actor=actor, sections=sections, expected_version=note.version)


# --- signed means locked -----------------------------------------------------------------


def test_a_signed_note_cannot_be_changed_through_the_orm(world):
    note = Note.objects.get(pk=world.signed_note.pk)
    note.sections = {"data": "rewritten", "assessment": "x", "plan": "y"}
    with pytest.raises(SignedRecordError):
        note.save()
    with pytest.raises(SignedRecordError):
        note.save(update_fields=["sections"])
    with pytest.raises(SignedRecordError):
        Note.objects.filter(pk=note.pk).update(sections={"data": "rewritten"})
    with pytest.raises(SignedRecordError):
        Note.objects.filter(participant=world.active).update(minutes=1)
    with pytest.raises(TypeError, match="void it"):
        note.delete()
    fresh = Note.objects.get(pk=note.pk)
    assert fresh.sections["data"] == "Attended group; shared a craving at work."
    assert fresh.minutes == 180


def test_a_signed_note_cannot_be_changed_through_the_service_a_form_or_a_crafted_post(world, login):
    note = world.signed_note
    with pytest.raises(SignedRecordError):
        services.save_draft(
            note, actor=world.counsellor, sections={"data": "x"}, expected_version=note.version
        )
    client = login(world.counsellor)
    edit = reverse("notes:edit", args=[world.active.pk, note.pk])
    # The editor of a signed note is its read-only page.
    assert client.get(edit)["Location"] == reverse("notes:detail", args=[world.active.pk, note.pk])
    response = client.post(
        edit, {"version": note.version, "section_data": "rewritten", "action": "save"}
    )
    assert response.status_code == 409
    assert b"cannot change: add an addendum" in response.content
    response = client.post(
        reverse("notes:autosave", args=[world.active.pk, note.pk]),
        {"version": note.version, "section_data": "rewritten"},
    )
    assert response.status_code == 409
    assert "signed" in response.json()["error"]
    assert Note.objects.get(pk=note.pk).sections["data"].startswith("Attended group")


def test_an_addendum_is_added_signed_and_never_changed(world, login):
    note = world.signed_note
    client = login(world.counsellor)
    url = reverse("notes:detail", args=[world.active.pk, note.pk])
    response = client.post(url, {"text": "Correction: the craving was at home, not at work."})
    assert response.status_code == 302
    addendum = Addendum.objects.get(note=note)
    assert addendum.signed_name == world.counsellor.display_name
    page = client.get(url).content.decode()
    assert "Correction: the craving was at home" in page
    assert f"Signed by {world.counsellor.display_name}" in page
    addendum.text = "changed"
    with pytest.raises(SignedRecordError):
        addendum.save()
    with pytest.raises(SignedRecordError):
        addendum.delete()
    assert client.post(url, {"text": "   "}).status_code == 400
    # A draft has no addenda: it is edited directly.
    with pytest.raises(services.NoteError, match="addenda are for signed notes"):
        services.add_addendum(world.draft_note, actor=world.counsellor, text="x")


# --- drafts --------------------------------------------------------------------------------


def test_the_second_of_two_concurrent_saves_is_refused_with_both_texts(world, login):
    draft = world.draft_note
    seen = draft.version
    services.save_draft(
        draft,
        actor=world.supervisor,
        sections={"behavior": "Supervisor's words"},
        expected_version=seen,
    )
    with pytest.raises(services.DraftConflict) as conflict:
        services.save_draft(
            draft,
            actor=world.counsellor,
            sections={"behavior": "Counsellor's words"},
            expected_version=seen,
        )
    assert conflict.value.theirs["behavior"] == "Supervisor's words"
    assert Note.objects.get(pk=draft.pk).sections["behavior"] == "Supervisor's words"
    # The same through the autosave endpoint and the editor's form.
    client = login(world.counsellor)
    autosave = reverse("notes:autosave", args=[world.active.pk, draft.pk])
    response = client.post(autosave, {"version": seen, "section_behavior": "Counsellor's words"})
    assert response.status_code == 409
    body = response.json()
    assert body["theirs"]["behavior"] == "Supervisor's words"
    edit = reverse("notes:edit", args=[world.active.pk, draft.pk])
    response = client.post(
        edit, {"version": seen, "section_behavior": "Counsellor's words", "action": "save"}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Supervisor&#x27;s words" in page  # theirs, shown
    assert "Counsellor&#x27;s words" in page  # yours, kept in the box
    assert Note.objects.get(pk=draft.pk).sections["behavior"] == "Supervisor's words"


def test_autosave_saves_every_keystroke_batch_and_answers_the_new_version(world, login):
    draft = world.draft_note
    client = login(world.counsellor)
    url = reverse("notes:autosave", args=[world.active.pk, draft.pk])
    version = draft.version
    for text in ("Arrived", "Arrived on time", "Arrived on time, calm"):
        response = client.post(url, {"version": version, "section_behavior": text})
        assert response.status_code == 200
        version = response.json()["version"]
    saved = Note.objects.get(pk=draft.pk)
    assert saved.sections["behavior"] == "Arrived on time, calm"
    assert saved.version == version
    assert client.post(url, {"section_behavior": "x"}).status_code == 400  # no version
    assert client.post(url, {"version": "abc", "section_behavior": "x"}).status_code == 400
    assert client.get(url).json() == {"version": version, "status": "draft"}


def test_a_returning_author_is_taken_back_to_the_draft_of_the_session(world, login):
    episode = world.active.current_episode
    first, created = services.start_note(
        episode,
        actor=world.counsellor,
        fmt="soap",
        service_date=world.program.today(),
        minutes=60,
        session=None,
    )
    assert created
    session = world.session
    again, created = services.start_note(
        episode,
        actor=world.counsellor,
        fmt="dap",
        service_date=session.date,
        minutes=60,
        session=session,
    )
    assert created  # the signed note of that session is not a draft
    back, created = services.start_note(
        episode,
        actor=world.counsellor,
        fmt="dap",
        service_date=session.date,
        minutes=60,
        session=session,
    )
    assert not created and back.pk == again.pk
    client = login(world.counsellor)
    response = client.post(
        reverse("notes:new", args=[world.active.pk]),
        {
            "format": "dap",
            "session": session.pk,
            "service_date": session.date.isoformat(),
            "minutes": "60",
        },
    )
    assert response["Location"] == reverse("notes:edit", args=[world.active.pk, again.pk])


# --- signing -------------------------------------------------------------------------------


def test_signing_needs_every_section_and_the_author(world):
    draft = world.draft_note
    with pytest.raises(services.NoteError, match="Write every section"):
        services.sign_note(draft, actor=world.counsellor, expected_version=draft.version)
    draft = write(draft, world.counsellor, behavior="b", intervention="i", response="r", plan="p")
    with pytest.raises(services.NoteError, match="Only the author"):
        services.sign_note(draft, actor=world.supervisor, expected_version=draft.version)
    signed = services.sign_note(draft, actor=world.counsellor, expected_version=draft.version)
    assert signed.is_signed and signed.signed_name == world.counsellor.display_name
    assert not signed.late_entry and not signed.cosign_required
    with pytest.raises(services.NoteError, match="already signed"):
        services.sign_note(signed, actor=world.counsellor, expected_version=signed.version)


def test_a_note_signed_days_after_the_service_is_a_late_entry(world):
    episode = world.active.current_episode
    today = world.program.today()
    old, _ = services.start_note(
        episode,
        actor=world.counsellor,
        fmt="dap",
        service_date=today - dt.timedelta(days=services.LATE_AFTER_DAYS + 1),
        minutes=50,
    )
    old = write(old, world.counsellor, data="d", assessment="a", plan="p")
    assert services.sign_note(old, actor=world.counsellor, expected_version=old.version).late_entry
    recent, _ = services.start_note(
        episode,
        actor=world.counsellor,
        fmt="dap",
        service_date=today - dt.timedelta(days=services.LATE_AFTER_DAYS),
        minutes=50,
    )
    recent = write(recent, world.counsellor, data="d", assessment="a", plan="p")
    assert not services.sign_note(
        recent, actor=world.counsellor, expected_version=recent.version
    ).late_entry


def test_a_supervisees_note_waits_for_a_co_signature(world, login):
    note = world.cosign_note
    assert note.cosign_required and note.awaiting_cosign
    queue = login(world.supervisor).get(reverse("notes_home:unsigned"))
    assert [n.pk for n in queue.context["queue"]] == [note.pk]
    with pytest.raises(services.NoteError, match="someone else"):
        services.cosign_note(note, actor=world.supervisee)
    client = login(world.supervisor)
    url = reverse("notes:cosign", args=[world.active.pk, note.pk])
    assert client.post(url).status_code == 302
    note.refresh_from_db()
    assert note.cosigned_by == world.supervisor and not note.awaiting_cosign
    assert client.post(url).status_code == 409  # once
    assert login(world.counsellor).post(url).status_code == 403  # counsellors do not co-sign


def test_unsigned_work_lists_my_drafts_and_the_programs_for_a_director(world, login):
    mine = login(world.counsellor).get(reverse("notes_home:unsigned"))
    assert [n.pk for n in mine.context["mine"]] == [world.draft_note.pk]
    director = login(world.director).get(reverse("notes_home:unsigned"))
    assert world.draft_note.pk in [n.pk for n in director.context["program_drafts"]]


def test_new_note_refusals(world, login):
    client = login(world.counsellor)
    url = reverse("notes:new", args=[world.active.pk])
    tomorrow = (world.program.today() + dt.timedelta(days=1)).isoformat()
    response = client.post(url, {"format": "dap", "service_date": tomorrow, "minutes": "50"})
    assert response.status_code == 409
    assert b"in the future" in response.content
    for bad in ({"minutes": "0"}, {"format": "xyz"}, {"service_date": "garbage"}):
        payload = {
            "format": "dap",
            "service_date": world.program.today().isoformat(),
            "minutes": "50",
        }
        payload.update(bad)
        assert client.post(url, payload).status_code == 400
    # A session on another day than the date given.
    payload = {
        "format": "dap",
        "session": world.session.pk,
        "service_date": (world.session.date - dt.timedelta(days=1)).isoformat(),
        "minutes": "50",
    }
    assert client.post(url, payload).status_code == 400
