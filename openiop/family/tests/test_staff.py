"""Staff work with families: inviting family members to family appointments and workshops
(only with a consent in force), withdrawing an invitation, family attendance, the
participant's family page and the family portal invitation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.family import services
from openiop.family.models import FamilyAttendance, FamilyInvitation
from openiop.notify.models import Message
from openiop.scheduling.models import Session
from openiop.testing import make_family_session

from .conftest import consent_for, days, new_contact


def session_url(session: Session) -> str:
    return reverse("family:session", args=[session.pk])


def test_only_family_members_with_a_consent_in_force_are_offered(login, fam):
    riley = new_contact(fam, "Riley Active")
    consent_for(fam, riley)
    new_contact(fam, "Casey Active")
    response = login(fam.counsellor).get(session_url(fam.family_session))
    assert response.status_code == 200
    offered = list(response.context["invite_form"].fields["contacts"].queryset)
    assert offered == [riley]
    refused = {c.name: reasons for c, reasons in response.context["refused"]}
    assert refused["Casey Active"] == ["No consent names this person for family involvement."]
    # Jordan is invited already: listed with the invited, not offered again.
    assert [r["contact"] for r in response.context["rows"]] == [fam.family_contact]
    assert b"Cannot be invited (" in response.content


def test_inviting_a_family_member_sends_them_a_message_without_clinical_information(login, fam):
    riley = new_contact(fam, "Riley Active", phone="(207) 555-0188")
    consent_for(fam, riley)
    client = login(fam.counsellor)
    response = client.post(
        session_url(fam.family_session), {"action": "invite", "contacts": [riley.pk]}
    )
    assert response.status_code == 302
    invitation = FamilyInvitation.objects.get(contact=riley)
    assert invitation.status == "invited" and invitation.created_by == fam.counsellor
    assert invitation.participant == fam.active
    message = Message.objects.get(key=f"family-session-invite:{invitation.pk}")
    assert message.contact == riley and message.template == "family_session_invite"
    for word in ("treatment", "addiction", "IOP", "recovery", fam.family_session.title):
        assert word.lower() not in message.body.lower()
    assert AuditEvent.objects.filter(
        action="create", object_type="family.familyinvitation", object_id=str(invitation.pk)
    ).exists()


def test_an_invitation_refused_for_one_person_invites_no_one(login, fam):
    riley = new_contact(fam, "Riley Active")
    consent_for(fam, riley)
    casey = new_contact(fam, "Casey Active")
    with pytest.raises(services.FamilyError):
        services.invite_to_session(fam.family_session, [riley, casey], actor=fam.counsellor)
    assert not FamilyInvitation.objects.filter(contact__in=[riley, casey]).exists()


def test_a_family_appointment_is_for_the_family_of_its_participant(fam):
    other = new_contact(fam, "Other Family", participant=fam.referred)
    consent_for(fam, other)
    with pytest.raises(services.FamilyError) as refused:
        services.invite_to_session(fam.family_session, [other], actor=fam.counsellor)
    assert "not family of a participant booked" in str(refused.value)


def test_a_family_workshop_takes_the_families_of_everyone_in_care(login, fam):
    workshop = make_family_session(fam, day=fam.program.today() + days(3), kind="family_workshop")
    response = login(fam.counsellor).get(session_url(workshop))
    assert response.status_code == 200
    assert fam.family_contact in response.context["eligible"]
    services.invite_to_session(workshop, [fam.family_contact], actor=fam.counsellor)


def test_a_session_that_is_not_for_families_has_no_family_page(login, fam):
    assert login(fam.counsellor).get(session_url(fam.session)).status_code == 404


def test_withdrawing_an_invitation_keeps_it(login, fam):
    invitation = fam.family_invitation
    client = login(fam.counsellor)
    url = reverse("family:cancel_invitation", args=[fam.family_session.pk, invitation.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "Cannot come this week"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "cancelled" and invitation.cancel_reason == "Cannot come this week"
    assert client.post(url, {"reason": "Again"}).status_code == 409
    with pytest.raises(TypeError):
        invitation.delete()


def test_family_attendance_is_taken_from_the_day_and_corrections_are_audited(login, fam):
    today = fam.program.today()
    session = make_family_session(fam, day=today, kind="family_workshop", start=dt.time(0, 5))
    jordan = fam.family_contact
    services.invite_to_session(session, [jordan], actor=fam.counsellor)
    client = login(fam.counsellor)
    response = client.post(
        session_url(session),
        {"action": "attendance", f"status_{jordan.pk}": "present", f"note_{jordan.pk}": ""},
    )
    assert response.status_code == 302
    mark = FamilyAttendance.objects.get(session=session, contact=jordan)
    assert mark.status == "present" and mark.minutes_attended == session.minutes
    response = client.post(
        session_url(session),
        {"action": "attendance", f"status_{jordan.pk}": "excused", f"note_{jordan.pk}": "Sick"},
    )
    assert response.status_code == 302
    mark.refresh_from_db()
    assert (mark.status, mark.minutes_attended, mark.note, mark.version) == (
        "excused",
        0,
        "Sick",
        2,
    )
    change = AuditEvent.objects.filter(
        action="change", object_type="family.familyattendance", object_id=str(mark.pk)
    ).get()
    assert change.changes["status"] == ["present", "excused"]
    # In the future: refused, nothing written.
    future = fam.family_session
    response = client.post(
        session_url(future), {"action": "attendance", f"status_{jordan.pk}": "present"}
    )
    assert response.status_code == 409
    assert not FamilyAttendance.objects.filter(session=future).exists()


def test_the_family_portal_shows_the_sessions_a_family_member_attended(login, fam):
    today = fam.program.today()
    session = make_family_session(fam, day=today, kind="family_workshop", start=dt.time(0, 5))
    jordan = fam.family_contact
    services.invite_to_session(session, [jordan], actor=fam.counsellor)
    services.record_family_attendance(
        session, {jordan.pk: services.Entry("present")}, actor=fam.counsellor
    )
    response = login(fam.portal_family).get(reverse("family_portal:home"))
    assert response.context["attended"][0].session == session


def test_the_participant_family_page_says_who_has_family_access(login, fam):
    casey = new_contact(fam, "Casey Active")
    response = login(fam.counsellor).get(
        reverse("participant_family:overview", args=[fam.active.pk])
    )
    assert response.status_code == 200
    rows = {r["contact"].name: r for r in response.context["rows"]}
    assert rows["Jordan Active"]["access"].allowed
    assert rows["Jordan Active"]["account"].user == fam.portal_family
    assert not rows[casey.name]["access"].allowed
    assert b"Invite to the family portal" not in response.content  # Jordan has an account


def test_a_printed_family_portal_invitation_shows_its_link_once(login, fam):
    riley = new_contact(fam, "Riley Active")
    consent_for(fam, riley)
    client = login(fam.counsellor)
    overview = reverse("participant_family:overview", args=[fam.active.pk])
    assert b"Invite to the family portal" in client.get(overview).content
    url = reverse("participant_family:portal_invite", args=[fam.active.pk, riley.pk])
    response = client.post(url, {"channel": "printed", "sent_to": "", "language": "es"})
    assert response.status_code == 302 and response["Location"] == overview
    first = client.get(overview)
    assert b"Invitation link for Riley Active" in first.content
    assert b"Invitation link for Riley Active" not in client.get(overview).content


def test_the_family_portal_invitation_page_refuses_without_consent(login, fam):
    casey = new_contact(fam, "Casey Active")
    client = login(fam.counsellor)
    url = reverse("participant_family:portal_invite", args=[fam.active.pk, casey.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"No family portal without consent" in page.content
    response = client.post(url, {"channel": "printed", "sent_to": "", "language": "en"})
    assert response.status_code == 409


def test_the_contacts_page_leads_to_family_access(login, fam):
    page = login(fam.counsellor).get(reverse("contacts:list", args=[fam.active.pk]))
    assert reverse("participant_family:overview", args=[fam.active.pk]).encode() in page.content


def test_the_chart_has_a_family_section(login, fam):
    response = login(fam.counsellor).get(reverse("participants:chart", args=[fam.active.pk]))
    assert response.status_code == 200
    assert b'id="section-family"' in response.content
    assert b"Jordan Active" in response.content


def test_the_session_page_links_to_its_family_page(login, fam):
    client = login(fam.counsellor)
    page = client.get(reverse("attendance:session", args=[fam.family_session.pk]))
    assert session_url(fam.family_session).encode() in page.content
    group = client.get(reverse("attendance:session", args=[fam.session.pk]))
    assert b"/family/" not in group.content


# --- family workshops in the schedule ---------------------------------------------------


def test_a_family_workshop_is_booked_without_a_participant_and_shown_on_the_calendar(login, fam):
    from openiop.programs.models import SessionType

    session_type = SessionType.objects.get(program=fam.program, name="Family session")
    day = fam.program.today() + days(5)
    client = login(fam.counsellor)
    response = client.post(
        reverse("scheduling:session_new"),
        {
            "program": fam.program.pk,
            "kind": "family_workshop",
            "session_type": session_type.pk,
            "title": "Family workshop: communication",
            "day": day.isoformat(),
            "start": "18:00",
            "end": "19:30",
            "facilitator": fam.counsellor.pk,
            "room": fam.program.site.rooms.get(name="Group Room").pk,
            "modality": "in_person",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    workshop = Session.objects.get(title="Family workshop: communication")
    assert workshop.kind == "family_workshop" and workshop.is_family
    calendar = client.get(
        reverse("scheduling:calendar"), {"program": fam.program.pk, "date": day.isoformat()}
    )
    assert b"Family workshop: communication" in calendar.content
    assert b"kind-family_workshop" in calendar.content


def test_a_family_appointment_still_needs_its_participant(login, fam):
    from openiop.scheduling.access import bookable_episodes
    from openiop.scheduling.forms import SessionForm

    form = SessionForm(
        {"kind": "family", "session_type": "", "day": "", "start": "", "end": ""},
        program=fam.program,
        episodes=bookable_episodes(fam.counsellor, fam.program),
    )
    assert not form.is_valid()
    assert "episode" in form.errors
