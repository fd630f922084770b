"""Emergency access (break-the-glass): refused without a reason, time-limited, every
page audited with the grant, reported to compliance."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditEvent
from openiop.core.roles import Role
from openiop.privacy import emergency
from openiop.privacy.models import EmergencyAccess
from openiop.testing import make_user

pytestmark = pytest.mark.django_db

REASON = {
    "reason_kind": "medical_emergency",
    "reason": "Overdose call from the front desk",
    "minutes": "60",
}


@pytest.fixture
def narrowed(world):
    """A program that limits counsellors to their care teams, and a counsellor who is not
    on world.active's team."""
    world.program.counsellors_see_care_team_only = True
    world.program.save(update_fields=["counsellors_see_care_team_only"])
    return make_user("covering", [Role.COUNSELLOR], [world.program])


def chart(world):
    return reverse("participants:chart", args=[world.active.pk])


def glass(world):
    return reverse("participant_privacy:break_glass", args=[world.active.pk])


def test_outside_the_care_team_the_chart_offers_emergency_access(login, world, narrowed):
    response = login(narrowed).get(chart(world))
    assert response.status_code == 403
    assert b"Not on your care team" in response.content
    assert b"Open the chart in an emergency" in response.content
    assert world.active.display_name.encode() in response.content


def test_outside_the_program_it_is_still_404(login, world, narrowed):
    response = login(world.outsider).get(chart(world))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {**REASON, "reason": ""},
        {**REASON, "reason": "because"},
        {**REASON, "reason_kind": ""},
        {**REASON, "minutes": "100000"},
        {**REASON, "minutes": "x"},
    ],
)
def test_refused_without_a_reason(login, world, narrowed, data):
    response = login(narrowed).post(glass(world), data)
    assert response.status_code == 400
    assert not EmergencyAccess.objects.exists()
    assert login(narrowed).get(chart(world)).status_code == 403


def test_with_a_reason_the_chart_opens_and_every_page_is_audited(login, world, narrowed):
    client = login(narrowed)
    response = client.post(glass(world), {**REASON, "next": chart(world)})
    assert response.status_code == 302 and response["Location"] == chart(world)
    access = EmergencyAccess.objects.get()
    assert access.expires_at - access.started_at == dt.timedelta(minutes=60)
    assert client.get(chart(world)).status_code == 200
    seen = AuditEvent.objects.filter(reason=f"emergency access #{access.pk}")
    assert seen.filter(participant_id=world.active.pk, action="view").exists()
    granted = AuditEvent.objects.get(action="emergency")
    assert granted.reason == REASON["reason"]


def test_a_next_address_elsewhere_is_ignored(login, world, narrowed):
    response = login(narrowed).post(glass(world), {**REASON, "next": "https://evil.example/"})
    assert response["Location"] == chart(world)


def test_the_access_expires(login, world, narrowed):
    client = login(narrowed)
    client.post(glass(world), REASON)
    assert client.get(chart(world)).status_code == 200
    EmergencyAccess.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(chart(world)).status_code == 403


def test_the_user_can_end_it_early(login, world, narrowed):
    client = login(narrowed)
    client.post(glass(world), REASON)
    assert client.get(glass(world)).status_code == 200
    client.post(glass(world), {"end": "1"})
    assert EmergencyAccess.objects.get().ended_at is not None
    assert client.get(chart(world)).status_code == 403


def test_on_the_care_team_there_is_nothing_to_break(login, world, narrowed):
    response = login(world.counsellor).get(glass(world))
    assert response.status_code == 200
    assert b"no emergency access is needed" in response.content


def test_compliance_sees_and_reviews_it(login, world, narrowed):
    login(narrowed).post(glass(world), REASON)
    login(narrowed).get(chart(world))
    access = EmergencyAccess.objects.get()
    client = login(world.compliance)
    listing = client.get(reverse("privacy:emergency_list"))
    assert listing.status_code == 200
    assert REASON["reason"].encode() in listing.content
    page = client.get(reverse("privacy:emergency_review", args=[access.pk]))
    assert page.status_code == 200
    assert b"participants/" in page.content  # the pages opened under it
    assert (
        client.post(reverse("privacy:emergency_review", args=[access.pk]), {"note": ""}).status_code
        == 400
    )
    done = client.post(
        reverse("privacy:emergency_review", args=[access.pk]), {"note": "Confirmed with on-call"}
    )
    assert done.status_code == 302
    access.refresh_from_db()
    assert access.reviewed_by == world.compliance
    again = client.post(reverse("privacy:emergency_review", args=[access.pk]), {"note": "Twice"})
    assert again.status_code == 409
    assert REASON["reason"].encode() not in client.get(reverse("privacy:emergency_list")).content


def test_a_user_cannot_review_their_own_access(world, narrowed):
    access = emergency.grant(
        world.active,
        user=world.director,
        reason_kind="other",
        reason="Covering the caseload today",
        minutes=30,
    )
    with pytest.raises(emergency.EmergencyAccessError):
        emergency.review(access, reviewer=world.director, note="Fine")


def test_roles_without_emergency_access_get_404_not_the_form(login, world, narrowed):
    # Lab staff see every participant of the program anyway (their role is not narrowed).
    assert login(world.lab).get(chart(world)).status_code in (200, 403)
    assert login(world.billing).get(glass(world)).status_code == 403
