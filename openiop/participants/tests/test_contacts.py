"""A participant's contacts: add, change, remove (void); the chart section; the data
migration that copied the emergency contact fields."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.core.records import StaleEdit
from openiop.participants import contact_services as services
from openiop.participants.models import Contact, Participant

migration = importlib.import_module("openiop.participants.migrations.0003_copy_emergency_contacts")


def contacts_url(world, name="contacts:list", contact=None) -> str:
    kwargs = {"pk": world.active.pk}
    if contact is not None:
        kwargs["contact_pk"] = contact.pk
    return reverse(name, kwargs=kwargs)


VALID = {
    "name": "Jordan Sponsor",
    "relationship": "sponsor",
    "phone": "(207) 555-0188",
    "email": "",
    "is_support": "on",
    "notes": "Call after 5 pm.",
}


def test_a_contact_is_added_and_listed(world, login):
    client = login(world.counsellor)
    response = client.post(contacts_url(world, "contacts:new"), VALID)
    assert response.status_code == 302 and response["Location"] == contacts_url(world)
    contact = Contact.objects.get(name="Jordan Sponsor")
    assert (
        contact.participant,
        contact.relationship,
        contact.is_support,
        contact.is_emergency,
    ) == (
        world.active,
        "sponsor",
        True,
        False,
    )
    assert contact.created_by == world.counsellor
    event = AuditEvent.objects.filter(
        action="create", object_type="participants.contact", object_id=str(contact.pk)
    ).get()
    assert event.participant_id == world.active.pk and event.object_repr == f"contact {contact.pk}"
    # The name and phone are PHI: not in the audit log.
    assert "Jordan" not in str(event.changes) and "555" not in str(event.changes)
    page = client.get(contacts_url(world)).content.decode()
    assert "Jordan Sponsor" in page and "Support person" in page and "Call after 5 pm." in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": "  "}, "This field is required"),
        ({"relationship": "enemy"}, "Select a valid choice"),
        ({"phone": "", "email": ""}, "needs a phone number or an email"),
        ({"phone": "call me"}, "A phone number needs digits"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"name": "n" * 121}, "at most 120 characters"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(world, login, changes, error):
    client = login(world.counsellor)
    count = Contact.objects.count()
    response = client.post(contacts_url(world, "contacts:new"), {**VALID, **changes})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Contact.objects.count() == count


def test_a_contact_is_changed_with_a_version_check(world, login):
    client = login(world.counsellor)
    contact = world.contact
    payload = {
        "name": "Dana Active-Smith",
        "relationship": "sibling",
        "phone": "(207) 555-0142",
        "email": "dana@example.org",
        "is_emergency": "on",
        "version": contact.version,
    }
    response = client.post(contacts_url(world, "contacts:edit", contact), payload)
    assert response.status_code == 302
    saved = Contact.objects.get(pk=contact.pk)
    assert saved.name == "Dana Active-Smith" and not saved.is_support and saved.is_emergency
    assert saved.version == contact.version + 1
    event = AuditEvent.objects.filter(action="change", object_type="participants.contact").latest(
        "pk"
    )
    assert event.changes["is_support"] == [True, False]
    # The same form posted again is stale: refused, nothing written.
    response = client.post(contacts_url(world, "contacts:edit", contact), payload)
    assert response.status_code == 409
    assert "Someone else saved this contact" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).version == saved.version


def test_a_contact_is_removed_by_voiding_never_deleted(world, login):
    client = login(world.counsellor)
    contact = world.contact
    response = client.post(contacts_url(world, "contacts:void", contact), {"reason": " "})
    assert response.status_code == 400
    response = client.post(contacts_url(world, "contacts:void", contact), {"reason": "Moved away"})
    assert response.status_code == 302
    voided = Contact.objects.get(pk=contact.pk)
    assert voided.voided and voided.voided_by == world.counsellor
    assert voided.void_reason == "Moved away"
    page = client.get(contacts_url(world)).content.decode()
    assert "Removed contacts (1)" in page and "Moved away" in page
    # Gone from the edit and void pages, and from the chart.
    assert client.get(contacts_url(world, "contacts:edit", contact)).status_code == 404
    assert client.get(contacts_url(world, "contacts:void", contact)).status_code == 404
    with pytest.raises(TypeError, match="void it"):
        voided.delete()
    with pytest.raises(services.ContactError, match="already removed"):
        services.void_contact(voided, actor=world.counsellor, reason="Again")
    with pytest.raises(services.ContactError, match="voided"):
        services.update_contact(
            voided, actor=world.counsellor, changes={"name": "X"}, expected_version=voided.version
        )


def test_a_stale_update_through_the_service_is_refused(world):
    with pytest.raises(StaleEdit):
        services.update_contact(
            world.contact, actor=world.counsellor, changes={"name": "X"}, expected_version=99
        )


def test_contacts_are_scoped_to_their_participant(world, login):
    client = login(world.counsellor)
    url = reverse("contacts:edit", kwargs={"pk": world.referred.pk, "contact_pk": world.contact.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, {**VALID, "version": 1}).status_code == 404
    assert Contact.objects.get(pk=world.contact.pk).name == "Dana Active"


def test_lab_sees_contacts_but_does_not_change_them(world, login):
    client = login(world.lab)
    assert client.get(contacts_url(world)).status_code == 200
    assert client.post(contacts_url(world, "contacts:new"), VALID).status_code == 403
    chart = client.get(reverse("participants:chart", kwargs={"pk": world.active.pk}))
    assert "Contacts and support people" in chart.content.decode()
    assert "Add a contact" not in chart.content.decode()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Mother", "parent"),
        ("step-father", "parent"),
        ("Wife", "partner"),
        ("Brother", "sibling"),
        ("Aunt", "other_family"),
        ("best friend", "friend"),
        ("AA sponsor", "sponsor"),
        ("Probation officer", "professional"),
        ("", "other"),
        ("landlord", "other"),
    ],
)
def test_the_migration_reads_typed_relationships(text, code):
    assert migration.relationship_of(text) == code


def test_the_migration_copies_each_emergency_contact_once(world):
    p = world.referred
    Participant.objects.filter(pk=p.pk).update(
        emergency_contact_name=" Sam Referred ",
        emergency_contact_relationship="Landlord",
        emergency_contact_phone="(207) 555-0100",
    )
    Participant.objects.filter(pk=world.active.pk).update(emergency_contact_name="   ")
    before = Contact.objects.count()
    migration.copy(apps, None)
    assert Contact.objects.count() == before + 1
    copied = Contact.objects.get(participant=p)
    assert (copied.name, copied.relationship, copied.phone, copied.is_emergency) == (
        "Sam Referred",
        "other",
        "(207) 555-0100",
        True,
    )
    assert "Relationship as recorded: Landlord." in copied.notes
    migration.uncopy(apps, None)
    assert not Contact.objects.filter(participant=p).exists()
    assert Contact.objects.filter(pk=world.contact.pk).exists()  # not a copy: kept
