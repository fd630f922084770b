from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.core import audit, chain
from openiop.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_audit_events_cannot_be_changed_or_deleted(world):
    event = audit.record("view", actor=world.counsellor, object_type="x")
    event.reason = "tamper"
    with pytest.raises(TypeError, match="never changed"):
        event.save()
    with pytest.raises(TypeError, match="never deleted"):
        event.delete()


def test_event_survives_its_user(world):
    """The event keeps the actor's id and username as recorded: nulling the id would be
    an UPDATE, which the database refuses, and would break the event's hash."""
    from openiop.accounts.models import User

    event = audit.record("view", actor=world.lab, obj=world.active)
    lab_id = world.lab.pk
    world.lab.role_assignments.all().delete()
    world.lab.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_id == lab_id and event.actor_username == "lab"
    assert not User.objects.filter(pk=lab_id).exists()
    assert event.object_repr == world.active.record_number  # no name in the label
    assert chain.verify_chain().ok


def test_compliance_finds_a_participants_trail_by_record_number(world, login):
    login(world.counsellor).get(reverse("participants:chart", args=[world.active.pk]))
    client = login(world.compliance)
    response = client.post(
        reverse("core:audit_log"), {"participant": world.active.record_number, "action": "view"}
    )
    assert response.status_code == 302
    location = response["Location"]
    assert world.active.record_number not in location  # no identifier in the URL
    assert f"participant={world.active.pk}" in location
    page = client.get(location)
    assert page.status_code == 200
    content = page.content.decode()
    assert world.active.record_number in content and "counsellor" in content
    rows = page.context["rows"]
    assert rows and all(row["event"].participant_id == world.active.pk for row in rows)


def test_unknown_record_number_says_so(world, login):
    client = login(world.compliance)
    page = client.post(reverse("core:audit_log"), {"participant": "OI-999999-0"})
    assert page.status_code == 400
    assert b"No participant has that record number" in page.content
    assert page.context["rows"] == []


def test_bad_from_date_is_reported(world, login):
    page = login(world.compliance).get(reverse("core:audit_log"), {"date_from": "yesterday"})
    assert page.status_code == 400 and "Enter a valid date" in page.content.decode()


def test_events_record_who_what_where(world, login):
    client = login(world.counsellor)
    client.get(reverse("participants:chart", args=[world.active.pk]), REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.filter(actor=world.counsellor).latest("id")
    assert (event.action, event.participant_id, event.client_ip) == (
        "view",
        world.active.pk,
        "10.1.2.3",
    )
    assert event.path == f"/participants/{world.active.pk}/" and len(event.request_id) == 32
