"""The aftercare plan: started in care, referrals added, changed and removed with a reason,
version-checked saves, given to the participant (the PDF's SHA-256 kept, audited), "changed
since given", the chart section and the participant's copy in the portal."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.core.pdf import pdf_text
from openiop.core.records import StaleEdit
from openiop.discharge import aftercare_services as services
from openiop.discharge.choices import AftercareStatus
from openiop.discharge.models import AftercarePlan, AftercareReferral
from openiop.testing import add_aftercare, add_discharged, add_portal

pytestmark = pytest.mark.django_db


def referral_values(**changes):
    return {
        "kind": "mutual_help",
        "provider": "SMART Recovery, Tuesday evening",
        "contact": "smartrecovery.org",
        "appointment_at": None,
        "responsible": "participant",
        "responsible_name": "",
        "status": "planned",
        "notes": "",
        **changes,
    }


def fake_pdf(plan, referrals):
    return f"PDF of plan {plan.pk} with {len(referrals)} referrals".encode()


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "booked"}, "appointment_at"),
        ({"provider": "  "}, "provider"),
        ({"responsible": "receiving"}, "responsible_name"),
        ({"responsible": "family", "responsible_name": " "}, "responsible_name"),
    ],
)
def test_referral_rules(changes, field):
    assert field in services.referral_problems(referral_values(**changes))


def test_referrals_that_are_fine():
    assert services.referral_problems(referral_values()) == {}
    assert (
        services.referral_problems(
            referral_values(
                status="booked",
                appointment_at=dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC),
                responsible="receiving",
                responsible_name="Dr Lee",
            )
        )
        == {}
    )


def test_a_plan_is_for_someone_in_care_or_discharged(world):
    with pytest.raises(services.AftercareError):
        services.start_plan(world.referred.current_episode, actor=world.counsellor)
    plan, made = services.start_plan(world.active.current_episode, actor=world.counsellor)
    assert made and plan.status == AftercareStatus.DRAFT
    again, made = services.start_plan(world.active.current_episode, actor=world.counsellor)
    assert again.pk == plan.pk and not made
    add_discharged(world)
    _plan, made = services.start_plan(world.alumnus.current_episode, actor=world.counsellor)
    assert made


def test_giving_needs_a_referral_and_a_crisis_plan(world):
    plan, _ = services.start_plan(world.active.current_episode, actor=world.counsellor)
    assert len(services.give_problems(plan, [])) == 2
    with pytest.raises(services.AftercareError, match="crisis"):
        services.give_plan(
            plan, actor=world.counsellor, expected_version=plan.version, render=fake_pdf
        )
    add_aftercare(world)


# --- the workflow ----------------------------------------------------------------------------


def test_give_then_change_then_give_again(world):
    add_aftercare(world)
    plan = world.aftercare_plan
    plan, data = services.give_plan(
        plan, actor=world.counsellor, expected_version=plan.version, render=fake_pdf
    )
    assert plan.status == AftercareStatus.GIVEN
    assert plan.given_sha256 == hashlib.sha256(data).hexdigest()
    assert plan.given_by_id == world.counsellor.pk
    assert not services.changed_since_given(plan)
    event = AuditEvent.objects.filter(object_type="discharge.aftercareplan").latest("id")
    assert event.changes == {"status": ["draft", "given"]}
    assert event.participant_id == world.active.pk
    # A new referral: the plan is being prepared again, the given copy's hash kept.
    services.add_referral(
        plan, actor=world.counsellor, values=referral_values(), expected_version=plan.version
    )
    plan.refresh_from_db()
    assert plan.status == AftercareStatus.DRAFT and services.changed_since_given(plan)
    assert plan.given_sha256 == hashlib.sha256(data).hexdigest()
    plan, _ = services.give_plan(
        plan, actor=world.counsellor, expected_version=plan.version, render=fake_pdf
    )
    assert plan.status == AftercareStatus.GIVEN
    # Editing the plan's text after giving: changed since given again.
    plan = services.save_plan(
        plan,
        actor=world.counsellor,
        values={"goals": "New goals", "crisis_plan": plan.crisis_plan},
        expected_version=plan.version,
    )
    assert services.changed_since_given(plan)


def test_saving_the_same_text_changes_nothing(world):
    add_aftercare(world)
    plan = world.aftercare_plan
    same = services.save_plan(
        plan,
        actor=world.counsellor,
        values={n: getattr(plan, n) for n in services.PLAN_FIELDS},
        expected_version=plan.version,
    )
    assert same.version == plan.version


def test_stale_saves_are_refused(world):
    add_aftercare(world)
    plan = world.aftercare_plan
    with pytest.raises(StaleEdit):
        services.save_plan(
            plan, actor=world.counsellor, values={"goals": "x"}, expected_version=plan.version - 1
        )
    referral = world.aftercare_referral
    with pytest.raises(StaleEdit):
        services.change_referral(
            referral, actor=world.counsellor, values=referral_values(), expected_version=99
        )
    with pytest.raises(StaleEdit):
        services.add_referral(
            plan, actor=world.counsellor, values=referral_values(), expected_version=99
        )


def test_a_referral_is_changed_and_voided_with_a_reason(world):
    add_aftercare(world)
    referral = world.aftercare_referral
    changed = services.change_referral(
        referral,
        actor=world.counsellor,
        values=referral_values(kind="therapy", provider="Harbor Counseling", status="attended"),
        expected_version=referral.version,
    )
    assert changed.status == "attended" and changed.version == referral.version + 1
    with pytest.raises(services.AftercareError):
        services.void_referral(
            changed, actor=world.counsellor, reason=" ", expected_version=changed.version
        )
    voided = services.void_referral(
        changed, actor=world.counsellor, reason="Entered twice", expected_version=changed.version
    )
    assert voided.voided and voided.void_reason == "Entered twice"
    assert AftercareReferral.objects.filter(pk=referral.pk).exists()  # never deleted
    event = AuditEvent.objects.filter(action="void").latest("id")
    assert event.participant_id == world.active.pk
    with pytest.raises(services.AftercareError, match="already"):
        services.void_referral(
            voided, actor=world.counsellor, reason="again", expected_version=voided.version
        )


# --- pages -----------------------------------------------------------------------------------


def test_the_plan_page_starts_a_plan(world, login):
    client = login(world.counsellor)
    url = reverse("aftercare:plan", args=[world.active.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Start the aftercare plan" in page.content.decode()
    edit = reverse("aftercare:edit", args=[world.active.pk])
    assert client.get(edit).status_code == 200
    # The first save starts the plan (version 0: none yet).
    payload = {"version": "0", "goals": "", "warning_signs": "", "crisis_plan": "Call 988."}
    assert client.post(edit, {**payload, "version": "1"}).status_code == 409
    response = client.post(edit, payload)
    assert response.status_code == 302
    plan = AftercarePlan.objects.get(episode=world.active.current_episode)
    assert plan.crisis_plan == "Call 988."
    # Started meanwhile by a colleague: the form of version 0 is stale.
    assert client.post(edit, payload).status_code == 409
    # Nobody in care: 409 with the reason.
    assert client.get(reverse("aftercare:edit", args=[world.referred.pk])).status_code == 409
    response = client.post(reverse("aftercare:edit", args=[world.referred.pk]), payload)
    assert response.status_code == 409


def test_pages_need_their_permissions_and_scope(world, login):
    add_aftercare(world)
    url = reverse("aftercare:plan", args=[world.active.pk])
    assert login(world.billing).get(url).status_code == 403
    assert login(world.outsider).get(url).status_code == 404
    # Reading is clinical.view (intake), writing discharge.write (not intake).
    assert login(world.intake).get(url).status_code == 200
    edit = reverse("aftercare:edit", args=[world.active.pk])
    assert login(world.intake).get(edit).status_code == 403
    # No plan yet: its referral pages are 404.
    new = reverse("aftercare:referral_new", args=[world.referred.pk])
    assert login(world.counsellor).get(new).status_code == 404


def test_referral_pages(world, login):
    add_aftercare(world)
    plan = world.aftercare_plan
    client = login(world.counsellor)
    url = reverse("aftercare:referral_new", args=[world.active.pk])
    payload = {
        "version": str(plan.version),
        "kind": "moud",
        "provider": "Harbor Clinic",
        "contact": "(207) 555-0100",
        "day": (world.program.today() + dt.timedelta(days=3)).isoformat(),
        "time": "14:30",
        "responsible": "case_manager",
        "responsible_name": "Robin",
        "status": "booked",
        "notes": "",
    }
    response = client.post(url, {**payload, "responsible_name": ""})
    assert response.status_code == 400 and "responsible_name" in response.context["form"].errors
    response = client.post(url, {**payload, "day": "", "time": "14:30"})
    assert response.status_code == 400 and "day" in response.context["form"].errors
    response = client.post(url, {**payload, "version": "99"})
    assert response.status_code == 409
    response = client.post(url, payload)
    assert response.status_code == 302
    referral = AftercareReferral.objects.get(provider="Harbor Clinic")
    assert referral.appointment_at.astimezone(world.program.tz).time() == dt.time(14, 30)
    edit = reverse("aftercare:referral_edit", args=[world.active.pk, referral.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {**payload, "version": "1", "status": "attended"})
    assert response.status_code == 302
    void = reverse("aftercare:referral_void", args=[world.active.pk, referral.pk])
    assert client.post(void, {"version": "2", "reason": ""}).status_code == 400
    assert client.post(void, {"version": "2", "reason": "Wrong clinic"}).status_code == 302
    # Gone from the plan: 404 for its pages; another participant's referral likewise.
    assert client.get(edit).status_code == 404
    other = reverse("aftercare:referral_edit", args=[world.referred.pk, referral.pk])
    assert client.get(other).status_code == 404


def test_give_makes_the_pdf_and_the_copy_lists_every_referral(world, login):
    add_aftercare(world)
    plan = world.aftercare_plan
    client = login(world.counsellor)
    response = client.post(
        reverse("aftercare:give", args=[world.active.pk]), {"version": str(plan.version)}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == AftercareStatus.GIVEN and len(plan.given_sha256) == 64
    # Giving again with the old version: 409.
    response = client.post(
        reverse("aftercare:give", args=[world.active.pk]), {"version": str(plan.version - 1)}
    )
    assert response.status_code == 409
    pdf = client.get(reverse("aftercare:pdf", args=[world.active.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Harbor Counseling" in text
    assert "Call 988 or Dana." in text
    assert "The counsellor" in text
    assert AuditEvent.objects.filter(action="export", participant_id=world.active.pk).exists()
    page = client.get(reverse("aftercare:plan", args=[world.active.pk])).content.decode()
    assert "data-changed-since-given" not in page
    client.post(
        reverse("aftercare:edit", args=[world.active.pk]),
        {"version": str(plan.version), "goals": "More", "crisis_plan": "Call 988."},
    )
    page = client.get(reverse("aftercare:plan", args=[world.active.pk])).content.decode()
    assert "data-changed-since-given" in page and "give the new version" in page


def test_the_chart_section(world, login):
    client = login(world.counsellor)
    html = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    assert "No aftercare plan yet." in html
    add_aftercare(world)
    html = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    assert "data-chart-aftercare" in html and "1 referral" in html


# --- the portal ------------------------------------------------------------------------------


def test_the_participant_sees_the_plan_once_given(world, client):
    add_aftercare(world)
    add_portal(world)
    client.force_login(world.portal_participant)
    url = reverse("portal_aftercare:plan")
    page = client.get(url).content.decode()
    assert "has not given you an aftercare plan" in page
    plan = world.aftercare_plan
    plan, _ = services.give_plan(
        plan, actor=world.counsellor, expected_version=plan.version, render=fake_pdf
    )
    page = client.get(url).content.decode()
    assert "Harbor Counseling" in page and "Call 988 or Dana." in page
    assert "Your counsellor" in page
    services.save_plan(
        plan,
        actor=world.counsellor,
        values={"goals": "Draft words", "crisis_plan": "Call 988."},
        expected_version=plan.version,
    )
    page = client.get(url).content.decode()
    assert "updating your aftercare plan" in page and "Draft words" not in page
