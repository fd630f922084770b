"""A note names the treatment-plan goals and objectives it addressed; once signed, the
links are locked with the note."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from openiop.notes import services
from openiop.notes.goals import GoalChoiceError, addressable_goals
from openiop.notes.models import Note, SignedRecordError


def _goal_and_objective(world):
    goal = world.plan.goals.get()
    return goal, goal.objectives.get()


def _edit_url(world, note):
    return reverse("notes:edit", kwargs={"pk": world.active.pk, "note_pk": note.pk})


def _autosave_url(world, note):
    return reverse("notes:autosave", kwargs={"pk": world.active.pk, "note_pk": note.pk})


def test_only_the_signed_plans_active_goals_are_offered(world):
    episode_id = world.active.current_episode_id
    offered = addressable_goals([episode_id])[episode_id]
    assert [g.pk for g in offered] == [world.plan.goals.get().pk]
    # The version-2 draft's copies are not offered: a draft's rows can still go away.
    draft_goal_ids = set(world.draft_plan.goals.values_list("pk", flat=True))
    assert not draft_goal_ids & {g.pk for g in offered}


def test_addressable_goals_costs_the_same_for_one_or_many(world, django_assert_num_queries):
    with django_assert_num_queries(2):
        addressable_goals([world.active.current_episode_id])
    ids = [p.current_episode_id for p in world.participants.values() if p.current_episode_id]
    with django_assert_num_queries(2):
        addressable_goals(ids)


def test_the_editor_lists_the_goals_and_the_autosave_keeps_the_ticks(world, login):
    goal, objective = _goal_and_objective(world)
    note = world.draft_note
    client = login(world.counsellor)
    page = client.get(_edit_url(world, note)).content.decode()
    assert goal.text in page and objective.text in page
    response = client.post(
        _autosave_url(world, note),
        {"version": note.version, "addressed": "1", "objective": [str(objective.pk)]},
    )
    assert response.status_code == 200, response.content
    note.refresh_from_db()
    # Ticking an objective counts its goal as addressed too.
    assert list(note.goals_addressed.all()) == [goal]
    assert list(note.objectives_addressed.all()) == [objective]
    # An autosave from an editor without the list leaves the links alone.
    response = client.post(_autosave_url(world, note), {"version": note.version})
    assert response.status_code == 200
    assert list(note.goals_addressed.all()) == [goal]
    # Unticking everything clears them.
    note.refresh_from_db()
    client.post(_autosave_url(world, note), {"version": note.version, "addressed": "1"})
    assert not note.goals_addressed.exists() and not note.objectives_addressed.exists()


@pytest.mark.parametrize(
    "bad", [["999999"], ["abc"], ["-1"], ["\uff11"], [""], ["1" * 20]], ids=lambda v: repr(v)
)
def test_goals_not_on_the_plan_are_refused_with_a_reason(world, login, bad):
    note = world.draft_note
    client = login(world.counsellor)
    response = client.post(
        _autosave_url(world, note), {"version": note.version, "addressed": "1", "goal": bad}
    )
    assert response.status_code == 400
    assert "signed plan" in response.json()["error"] or "from the list" in response.json()["error"]
    response = client.post(
        _edit_url(world, note),
        {"version": note.version, "addressed": "1", "goal": bad, "action": "save"},
    )
    assert response.status_code == 400
    assert not Note.objects.get(pk=note.pk).goals_addressed.exists()


def test_a_goal_of_another_participants_plan_is_refused(world):
    goal, _objective = _goal_and_objective(world)
    other_episode = world.participants["screening"].current_episode
    note = world.draft_note
    note.episode = other_episode
    with pytest.raises(GoalChoiceError):
        services._set_addressed(note, [goal.pk], [])


def test_signed_notes_links_cannot_change(world, login):
    goal, objective = _goal_and_objective(world)
    note = world.draft_note
    note = services.save_draft(
        note,
        actor=world.counsellor,
        sections={k: "Text." for k in ("behavior", "intervention", "response", "plan")},
        expected_version=note.version,
        addressed=([goal.pk], [objective.pk]),
    )
    note = services.sign_note(note, actor=world.counsellor, expected_version=note.version)
    for change in (
        lambda: note.goals_addressed.clear(),
        lambda: note.goals_addressed.remove(goal),
        lambda: note.objectives_addressed.set([]),
        lambda: note.goals_addressed.add(goal),
    ):
        with pytest.raises(SignedRecordError), transaction.atomic():
            change()
    # A crafted post to the editor is refused and changes nothing.
    response = login(world.counsellor).post(
        _edit_url(world, note), {"version": note.version, "addressed": "1", "action": "save"}
    )
    assert response.status_code == 409
    assert list(Note.objects.get(pk=note.pk).goals_addressed.all()) == [goal]
    # The detail page and the PDF name what was addressed.
    page = login(world.counsellor).get(
        reverse("notes:detail", kwargs={"pk": world.active.pk, "note_pk": note.pk})
    )
    assert goal.text in page.content.decode()


def test_the_pdf_names_the_goals_addressed(world, login):
    from openiop.core.pdf import pdf_text

    goal, objective = _goal_and_objective(world)
    note = world.draft_note
    services.save_draft(
        note,
        actor=world.counsellor,
        sections={k: "Text." for k in ("behavior", "intervention", "response", "plan")},
        expected_version=note.version,
        addressed=([], [objective.pk]),
    )
    response = login(world.counsellor).get(
        reverse("notes:pdf", kwargs={"pk": world.active.pk, "note_pk": note.pk})
    )
    text = " ".join(pdf_text(response.content).split())
    assert "Treatment-plan goals addressed" in text
    assert " ".join(goal.text.split()[:4]) in text
    assert " ".join(objective.text.split()[:4]) in text
