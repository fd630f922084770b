"""The plan's services: versions, drafts, signing, the participant's signature."""

from __future__ import annotations

import pytest

from openiop.core.models import AuditEvent
from openiop.core.records import StaleEdit
from openiop.notes.models import SignedRecordError
from openiop.participants import contact_services
from openiop.participants import services as participant_services
from openiop.participants.choices import EpisodeStatus as S
from openiop.relapse import services
from openiop.relapse.choices import PlanStatus
from openiop.relapse.models import RelapsePlan, SupportPerson
from openiop.relapse.queries import current_plan, open_draft
from openiop.testing import make_participant

from .test_items import data_url, png

SECTIONS = {
    "reasons": ["My daughter."],
    "triggers": ["Payday"],
    "high_risk": [],
    "warning_signs": ["Isolating"],
    "coping": ["Call a friend"],
    "craving_steps": ["Wait", "Call", "Meeting"],
}


def fresh(plan: RelapsePlan) -> RelapsePlan:
    return RelapsePlan.objects.get(pk=plan.pk)


def add_contact(world, name="Jo Friend", **values):
    return contact_services.add_contact(
        world.active,
        actor=world.counsellor,
        values={
            "name": name,
            "relationship": "friend",
            "phone": "(207) 555-0177",
            "email": "",
            "is_support": True,
            "is_emergency": False,
            "notes": "",
            **values,
        },
    )


def test_the_world_has_a_signed_plan_in_force_and_a_draft_copied_from_it(world):
    plan, draft = fresh(world.relapse_plan), fresh(world.relapse_draft)
    episode = world.active.current_episode
    assert current_plan(episode) == plan and open_draft(episode) == draft
    assert (plan.number, plan.status, draft.number, draft.status) == (1, "signed", 2, "draft")
    assert draft.previous == plan
    assert draft.triggers == plan.triggers and draft.craving_steps == plan.craving_steps
    assert [(p.contact_id, p.role) for p in draft.support_people.all()] == [
        (world.contact.pk, "Call when a craving hits")
    ]
    assert plan.signed_name == world.counsellor.display_name and plan.signed_at is not None


def test_starting_again_returns_the_open_draft(world):
    draft, created = services.start_draft(world.active.current_episode, actor=world.supervisor)
    assert not created and draft.pk == world.relapse_draft.pk
    assert RelapsePlan.objects.filter(episode=world.active.current_episode).count() == 2


def test_signing_a_new_version_supersedes_the_old_one(world):
    draft = fresh(world.relapse_draft)
    jo = add_contact(world)
    draft = services.save_draft(
        draft,
        actor=world.counsellor,
        sections={**SECTIONS, "triggers": ["Payday", "Paydays at the bar"]},
        support=[(jo.pk, "Drive me to a meeting"), (world.contact.pk, "Call")],
        expected_version=draft.version,
    )
    signed = services.sign_plan(draft, actor=world.supervisor, expected_version=draft.version)
    assert signed.status == PlanStatus.SIGNED and signed.signed_by == world.supervisor
    old = fresh(world.relapse_plan)
    assert old.status == PlanStatus.SUPERSEDED and old.superseded_at == signed.signed_at
    assert current_plan(world.active.current_episode) == signed
    assert open_draft(world.active.current_episode) is None
    assert [p.contact.name for p in signed.support_people.all()] == ["Jo Friend", "Dana Active"]
    # Version 3 starts from version 2.
    third, created = services.start_draft(world.active.current_episode, actor=world.counsellor)
    assert created and third.number == 3 and third.previous == signed
    assert third.triggers == ["Payday", "Paydays at the bar"]


def test_save_draft_writes_counts_not_text_to_the_audit_log(world):
    draft = fresh(world.relapse_draft)
    services.save_draft(
        draft, actor=world.counsellor, sections=SECTIONS, support=[], expected_version=draft.version
    )
    event = AuditEvent.objects.filter(action="change", object_type="relapse.relapseplan").latest(
        "pk"
    )
    assert event.participant_id == world.active.pk
    assert event.changes["support"] == [1, 0]
    assert "Payday" not in str(event.changes) and "My daughter" not in str(event.changes)


def test_a_stale_version_is_refused_and_nothing_is_written(world):
    draft = fresh(world.relapse_draft)
    with pytest.raises(StaleEdit):
        services.save_draft(
            draft,
            actor=world.counsellor,
            sections=SECTIONS,
            support=[],
            expected_version=draft.version - 1,
        )
    assert fresh(draft).triggers == draft.triggers
    with pytest.raises(StaleEdit):
        services.sign_plan(draft, actor=world.counsellor, expected_version=draft.version + 1)
    assert fresh(draft).status == PlanStatus.DRAFT


def test_support_people_are_the_participants_active_contacts(world):
    draft = fresh(world.relapse_draft)
    other = contact_services.add_contact(
        world.referred,
        actor=world.counsellor,
        values={"name": "Not Theirs", "relationship": "friend", "phone": "1"},
    )
    jo = add_contact(world)
    contact_services.void_contact(jo, actor=world.counsellor, reason="Entered twice")
    for support in ([(other.pk, "")], [(jo.pk, "")], [(10**12, "")], [("1", "")]):
        with pytest.raises(services.RelapseError):
            services.save_draft(
                draft,
                actor=world.counsellor,
                sections=SECTIONS,
                support=support,
                expected_version=draft.version,
            )
    with pytest.raises(services.RelapseError, match="at most 200"):
        services.save_draft(
            draft,
            actor=world.counsellor,
            sections=SECTIONS,
            support=[(world.contact.pk, "r" * 201)],
            expected_version=draft.version,
        )


def test_a_support_person_removed_from_the_contacts_blocks_signing_until_saved(world):
    draft = fresh(world.relapse_draft)
    contact_services.void_contact(world.contact, actor=world.counsellor, reason="Moved away")
    with pytest.raises(services.RelapseError, match="removed from the contacts"):
        services.sign_plan(draft, actor=world.counsellor, expected_version=draft.version)
    # The signed version keeps naming them.
    assert [p.contact_id for p in fresh(world.relapse_plan).support_people.all()] == [
        world.contact.pk
    ]
    draft = services.save_draft(
        draft, actor=world.counsellor, sections=SECTIONS, support=[], expected_version=draft.version
    )
    assert services.sign_plan(draft, actor=world.counsellor, expected_version=draft.version)


def test_signing_needs_the_core_sections(world):
    draft = fresh(world.relapse_draft)
    draft = services.save_draft(
        draft,
        actor=world.counsellor,
        sections={"reasons": ["Me"], "triggers": ["Payday"]},
        support=[],
        expected_version=draft.version,
    )
    with pytest.raises(services.RelapseError) as exc:
        services.sign_plan(draft, actor=world.counsellor, expected_version=draft.version)
    assert "Warning signs, Coping strategies, When cravings hit" in str(exc.value)
    assert fresh(draft).status == PlanStatus.DRAFT


def test_only_plan_writers_sign(world):
    draft = fresh(world.relapse_draft)
    with pytest.raises(services.RelapseError, match="do not allow"):
        services.sign_plan(draft, actor=world.intake, expected_version=draft.version)


def test_plans_are_for_participants_in_care(world):
    with pytest.raises(services.RelapseError, match="in care"):
        services.start_draft(world.referred.current_episode, actor=world.counsellor)


def test_a_returning_participant_starts_from_their_last_plan(world):
    """A new episode's version 1 is a copy of the plan from the earlier episode."""
    person = make_participant(
        world.program, world.intake, last="Returning", status=S.ACTIVE, counsellor=world.counsellor
    )
    first, _ = services.start_draft(person.current_episode, actor=world.counsellor)
    first = services.save_draft(
        first, actor=world.counsellor, sections=SECTIONS, support=[], expected_version=first.version
    )
    first = services.sign_plan(first, actor=world.counsellor, expected_version=first.version)
    episode = person.current_episode
    day = episode.program.today()
    participant_services.transition_episode(
        episode, S.DISCHARGED, actor=world.counsellor, effective_date=day, reason="Completed"
    )
    new_episode = participant_services.open_episode(
        person, actor=world.intake, program=world.program, referral_source="self", referral_date=day
    )
    for status in (S.SCREENING, S.ASSESSED):
        new_episode = participant_services.transition_episode(
            new_episode, status, actor=world.intake, effective_date=day
        )
    new_episode = participant_services.transition_episode(
        new_episode,
        S.ADMITTED,
        actor=world.intake,
        effective_date=day,
        changes={
            "level_of_care": world.program.level_of_care,
            "track": world.program.tracks.first(),
            "primary_counsellor": world.counsellor,
        },
    )
    plan, created = services.start_draft(new_episode, actor=world.counsellor)
    assert created and plan.number == 1 and plan.previous == first
    assert plan.triggers == SECTIONS["triggers"]
    # The earlier episode's plan is still that episode's plan.
    assert current_plan(episode) == first and fresh(first).status == PlanStatus.SIGNED


def test_the_participant_signs_a_signed_plan_once(world):
    plan = fresh(world.relapse_plan)
    image = data_url(png(300, 100))
    signed = services.sign_as_participant(
        plan, actor=world.counsellor, typed_name="  Pat   Active ", image=image
    )
    assert signed.participant_signed_name == "Pat Active"
    assert signed.participant_signature == image
    assert signed.participant_signature_taken_by == world.counsellor
    assert signed.status == PlanStatus.SIGNED  # still the signed plan in force
    with pytest.raises(services.RelapseError, match="already signed"):
        services.sign_as_participant(plan, actor=world.counsellor, typed_name="Someone else")
    event = AuditEvent.objects.filter(action="sign", object_type="relapse.relapseplan").latest("pk")
    assert event.changes == {"participant_signed": True, "drawn": True}


@pytest.mark.parametrize(
    ("which", "message"),
    [("relapse_draft", "clinician signs the plan first"), ("superseded", "newer version")],
)
def test_the_participant_does_not_sign_a_draft_or_an_old_version(world, which, message):
    if which == "superseded":
        draft = fresh(world.relapse_draft)
        services.sign_plan(draft, actor=world.counsellor, expected_version=draft.version)
        plan = fresh(world.relapse_plan)
    else:
        plan = fresh(world.relapse_draft)
    with pytest.raises(services.RelapseError, match=message):
        services.sign_as_participant(plan, actor=world.counsellor, typed_name="Pat Active")


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "Pat\x00", None])
def test_the_typed_name_is_required_and_bounded(world, name):
    with pytest.raises(services.RelapseError):
        services.sign_as_participant(
            fresh(world.relapse_plan), actor=world.counsellor, typed_name=name
        )
    assert fresh(world.relapse_plan).participant_signed_at is None


def test_a_saved_draft_can_hold_the_limits(world):
    draft = fresh(world.relapse_draft)
    items = [f"{i} " + "x" * 490 for i in range(services.MAX_ITEMS)]
    draft = services.save_draft(
        draft,
        actor=world.counsellor,
        sections={**SECTIONS, "coping": items},
        support=[(world.contact.pk, "r" * 200)],
        expected_version=draft.version,
    )
    assert fresh(draft).coping == items
    assert SupportPerson.objects.get(plan=draft).role == "r" * 200


def test_the_draft_of_a_signed_plan_cannot_be_saved(world):
    plan = fresh(world.relapse_plan)
    with pytest.raises(SignedRecordError):
        services.save_draft(
            plan,
            actor=world.counsellor,
            sections=SECTIONS,
            support=[],
            expected_version=plan.version,
        )
