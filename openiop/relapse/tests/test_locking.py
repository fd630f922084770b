"""A signed plan cannot change: not through the ORM (save, update, delete, its support
people), not through a form, not through a crafted POST (409, nothing changed)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from openiop.notes.models import SignedRecordError
from openiop.relapse import services
from openiop.relapse.choices import PlanStatus
from openiop.relapse.models import RelapsePlan, SupportPerson


def rows(plan: RelapsePlan) -> tuple:
    """Everything stored about a plan and its support people."""
    fields = [f.attname for f in RelapsePlan._meta.concrete_fields]
    return (
        RelapsePlan.objects.filter(pk=plan.pk).values(*fields).get(),
        list(SupportPerson.objects.filter(plan=plan).order_by("pk").values()),
    )


def refused(write) -> None:
    with pytest.raises(SignedRecordError), transaction.atomic():
        write()


ORM_WRITES = {
    "save() of a section": lambda p, w: (setattr(p, "triggers", ["new"]), p.save()),
    "save(update_fields) of a section": lambda p, w: (
        setattr(p, "coping", []),
        p.save(update_fields=["coping"]),
    ),
    "save() of the clinician's name": lambda p, w: (
        setattr(p, "signed_name", "Someone Else"),
        p.save(update_fields=["signed_name"]),
    ),
    "save() back to draft": lambda p, w: (
        setattr(p, "status", PlanStatus.DRAFT),
        p.save(update_fields=["status"]),
    ),
    "queryset update of a section": lambda p, w: RelapsePlan.objects.filter(pk=p.pk).update(
        warning_signs=[]
    ),
    "queryset update back to draft": lambda p, w: RelapsePlan.objects.filter(pk=p.pk).update(
        status=PlanStatus.DRAFT
    ),
    "bulk update of every plan": lambda p, w: RelapsePlan.objects.update(reasons=["x"]),
    "bulk_update": lambda p, w: RelapsePlan.objects.bulk_update(
        [RelapsePlan(pk=p.pk, triggers=["x"])], ["triggers"]
    ),
    "delete()": lambda p, w: p.delete(),
    "queryset delete": lambda p, w: RelapsePlan.objects.filter(pk=p.pk).delete(),
    "add a support person": lambda p, w: p.support.add(
        w.contact_two, through_defaults={"role": "x"}
    ),
    "create a support person": lambda p, w: SupportPerson.objects.create(
        plan=p, contact=w.contact_two
    ),
    "remove a support person": lambda p, w: p.support.remove(w.contact),
    "clear the support people": lambda p, w: p.support.clear(),
    "set the support people": lambda p, w: p.support.set([w.contact_two]),
    "change a support person's role": lambda p, w: SupportPerson.objects.filter(plan=p).update(
        role="x"
    ),
    "save a support person": lambda p, w: (lambda s: (setattr(s, "role", "x"), s.save()))(
        SupportPerson.objects.get(plan=p)
    ),
    "delete a support person": lambda p, w: SupportPerson.objects.get(plan=p).delete(),
}


@pytest.fixture
def contact_two(world):
    from openiop.participants import contact_services

    world.records["contact_two"] = contact_services.add_contact(
        world.active,
        actor=world.counsellor,
        values={"name": "Jo Two", "relationship": "friend", "phone": "555"},
    )
    return world


@pytest.mark.parametrize("name", sorted(ORM_WRITES))
def test_the_orm_refuses_to_change_a_signed_plan(world, contact_two, name):
    plan = RelapsePlan.objects.get(pk=world.relapse_plan.pk)
    before = rows(plan)
    refused(lambda: ORM_WRITES[name](plan, world))
    assert rows(plan) == before


@pytest.mark.parametrize("name", sorted(ORM_WRITES))
def test_a_superseded_plan_is_locked_too(world, contact_two, name):
    draft = RelapsePlan.objects.get(pk=world.relapse_draft.pk)
    services.sign_plan(draft, actor=world.counsellor, expected_version=draft.version)
    plan = RelapsePlan.objects.get(pk=world.relapse_plan.pk)
    assert plan.status == PlanStatus.SUPERSEDED
    before = rows(plan)
    refused(lambda: ORM_WRITES[name](plan, world))
    assert rows(plan) == before


def test_a_draft_is_written_freely_but_never_deleted(world, contact_two):
    draft = RelapsePlan.objects.get(pk=world.relapse_draft.pk)
    draft.triggers = ["Changed"]
    draft.save(update_fields=["triggers"])
    draft.support.add(world.contact_two, through_defaults={"role": "Drive"})
    assert RelapsePlan.objects.get(pk=draft.pk).triggers == ["Changed"]
    with pytest.raises(TypeError, match="void"):
        draft.delete()
    with pytest.raises(TypeError, match="void"):
        RelapsePlan.objects.filter(pk=draft.pk).delete()


def test_what_may_still_be_written_on_a_signed_plan(world):
    """The participant's signature (once) and superseding; nothing else."""
    plan = RelapsePlan.objects.get(pk=world.relapse_plan.pk)
    RelapsePlan.objects.filter(pk=plan.pk).update(participant_signed_name="Pat")
    plan = services.sign_as_participant(plan, actor=world.counsellor, typed_name="Pat Active")
    refused(
        lambda: RelapsePlan.objects.filter(pk=plan.pk).update(participant_signed_name="Not Pat")
    )
    plan.participant_signed_name = "Not Pat"
    refused(lambda: plan.save(update_fields=["participant_signed_name"]))
    assert RelapsePlan.objects.get(pk=plan.pk).participant_signed_name == "Pat Active"


# --- crafted POSTs -------------------------------------------------------------------------


def editor_post(world, plan) -> dict:
    return {
        "version": plan.version,
        "section_triggers": "Rewritten",
        "section_warning_signs": "Rewritten",
        "section_coping": "Rewritten",
        "section_craving_steps": "Rewritten",
        "support": [],
        "action": "save",
    }


@pytest.mark.parametrize(
    ("url_name", "payload"),
    [
        ("relapse:edit", editor_post),
        ("relapse:sign", lambda w, p: {"version": p.version}),
    ],
    ids=["edit", "sign again"],
)
def test_a_crafted_post_to_a_signed_plan_is_refused_with_409(world, login, url_name, payload):
    plan = RelapsePlan.objects.get(pk=world.relapse_plan.pk)
    before = rows(plan)
    client = login(world.counsellor)
    url = reverse(url_name, kwargs={"pk": world.active.pk, "plan_pk": plan.pk})
    response = client.post(url, payload(world, plan))
    assert response.status_code == 409
    assert "signed" in response.content.decode()
    assert rows(plan) == before


def test_a_participant_signature_posted_twice_is_refused(world, login):
    plan = RelapsePlan.objects.get(pk=world.relapse_plan.pk)
    client = login(world.counsellor)
    url = reverse("relapse:participant_sign", kwargs={"pk": world.active.pk, "plan_pk": plan.pk})
    assert client.post(url, {"typed_name": "Pat Active"}).status_code == 302
    before = rows(plan)
    response = client.post(url, {"typed_name": "Someone Else"})
    assert response.status_code == 409
    assert "already signed" in response.content.decode()
    assert rows(plan) == before
