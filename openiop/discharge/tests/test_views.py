"""The discharge pages: permissions, the form's defaults and errors, the summary's editor,
signature, addenda and PDF, and the chart section."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.core.pdf import pdf_text
from openiop.discharge.models import Discharge, DischargeSummary, SummaryAddendum
from openiop.participants.choices import EpisodeStatus as S
from openiop.testing import add_discharge
from openiop.tests.test_accessibility_static import page_problems

from .conftest import attend, past_sessions

pytestmark = pytest.mark.django_db


def url(name, participant):
    return reverse(f"discharge:{name}", args=[participant.pk])


def valid(world, **changes):
    today = world.program.today()
    data = {
        "reason": "completed",
        "discharge_date": today.isoformat(),
        "last_contact_date": (today - dt.timedelta(days=1)).isoformat(),
        "reason_detail": "",
        "next_level": "",
        "receiving_program": "",
        "receiving_contact": "",
        "sub1_d": "2",
        "freq1_d": "1",
        "employ_d": "",
        "livarag_d": "",
        "arrests_d": "",
        "self_help_d": "",
    }
    data.update(changes)
    return data


def test_the_form_defaults_to_today_and_the_last_attended_day(world, login, leaver):
    sessions = past_sessions(world, 3)
    attend(leaver, sessions, [("present", 180), ("present", 180), ("absent_unexcused", 0)])
    response = login(world.counsellor).get(url("discharge", leaver))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["discharge_date"].value() == world.program.today()
    assert form["last_contact_date"].value() == sessions[1].date
    body = response.content.decode()
    assert "Needed for state reporting" in body
    assert "No aftercare plan has been started." in body  # a warning, not a blocker


def test_primary_substance_defaults_to_the_teds_admission_item(world, login, leaver):
    from openiop.intake.models import TedsAdmission

    TedsAdmission.objects.create(episode=leaver.current_episode, participant=leaver, sub1=5)
    response = login(world.counsellor).get(url("discharge", leaver))
    assert response.context["form"]["sub1_d"].value() == 5


def test_discharge_then_the_summary(world, login, leaver):
    client = login(world.counsellor)
    response = client.post(url("discharge", leaver), valid(world))
    assert response.status_code == 302 and response["Location"] == url("summary", leaver)
    record = Discharge.objects.get(episode=leaver.current_episode)
    assert (record.reason, record.sub1_d, record.freq1_d) == ("completed", 2, 1)
    leaver.current_episode.refresh_from_db()
    assert leaver.current_episode.status == S.DISCHARGED
    page = client.get(url("summary", leaver))
    assert page.status_code == 200
    assert b"Refresh from the record" in page.content
    # The discharge page now shows the record, read-only; a second POST is refused.
    page = client.get(url("discharge", leaver))
    assert page.status_code == 200 and b"Discharge record" in page.content
    assert b"TEDS reason 1" in page.content
    again = client.post(url("discharge", leaver), valid(world))
    assert again.status_code == 409 and b"already been discharged" in again.content
    assert Discharge.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "against_advice"}, "reason_detail"),
        ({"discharge_date": "2999-01-01"}, "discharge_date"),
        ({"last_contact_date": "2000-01-01"}, "last_contact_date"),
        (
            {
                "reason": "step_up",
                "reason_detail": "x",
                "next_level": "3:1",
                "receiving_program": "R",
            },
            "next_level",
        ),
        ({"reason": "step_down", "reason_detail": "x", "next_level": "3:1"}, "receiving_program"),
        ({"sub1_d": "99"}, "sub1_d"),
        ({"reason": "bogus"}, "reason"),
    ],
)
def test_bad_input_is_a_form_error(world, login, leaver, changes, field):
    response = login(world.counsellor).post(url("discharge", leaver), valid(world, **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Discharge.objects.exists()


def test_a_participant_not_in_care_is_refused(world, login):
    client = login(world.counsellor)
    response = client.get(url("discharge", world.referred))
    assert response.status_code == 409 and b"in care" in response.content
    assert client.post(url("discharge", world.referred), valid(world)).status_code == 409


@pytest.mark.parametrize("persona", ["billing", "lab", "intake"])
def test_roles_without_discharge_write_cannot_discharge(world, login, leaver, persona):
    client = login(world.users[persona])
    assert client.post(url("discharge", leaver), valid(world)).status_code == 403
    assert not Discharge.objects.exists()


def test_another_programs_participant_is_404(world, login):
    assert login(world.outsider).get(url("discharge", world.active)).status_code == 404


def text_of(summary, **changes):
    data = {
        "version": summary.version,
        "presenting_problem": summary.presenting_problem,
        "course": summary.course,
        "progress": summary.progress,
        "condition": "Sober 21 days; mood better.",
        "recommendations": "Weekly therapy; alumni group on Thursdays.",
        "action": "save",
    }
    data.update(changes)
    return data


def test_edit_sign_and_addendum(world, login):
    add_discharge(world)
    p, summary = world.discharged, world.discharge_summary
    client = login(world.counsellor)
    assert client.post(url("summary", p), text_of(summary)).status_code == 302
    summary.refresh_from_db()
    assert summary.condition == "Sober 21 days; mood better."
    # A stale form: a clear message, nothing overwritten.
    stale = client.post(url("summary", p), text_of(summary, version=1, condition="Old"))
    assert stale.status_code == 409 and b"Someone else saved" in stale.content
    assert DischargeSummary.objects.get(pk=summary.pk).condition == "Sober 21 days; mood better."
    # Refresh keeps the text.
    refreshed = client.post(url("summary", p), text_of(summary, action="refresh"))
    assert refreshed.status_code == 302
    summary.refresh_from_db()
    # Sign: the attestation is required.
    assert client.post(url("sign", p), {"version": summary.version}).status_code == 400
    signed = client.post(url("sign", p), {"version": summary.version, "attest": "on"})
    assert signed.status_code == 302
    summary.refresh_from_db()
    assert summary.is_signed and summary.signed_by == world.counsellor
    # Read-only from now on.
    page = client.get(url("summary", p))
    assert b"never changes" in page.content and b"Refresh from the record" not in page.content
    again = client.post(url("summary", p), text_of(summary))
    assert again.status_code == 409
    assert (
        client.post(url("sign", p), {"version": summary.version, "attest": "on"}).status_code == 409
    )
    # An addendum.
    assert client.post(url("addendum", p), {"text": "   "}).status_code == 400
    assert client.post(url("addendum", p), {"text": "Called at 30 days."}).status_code == 302
    assert SummaryAddendum.objects.get().text == "Called at 30 days."
    assert b"Called at 30 days." in client.get(url("summary", p)).content


def test_no_addendum_on_a_draft(world, login):
    add_discharge(world)
    response = login(world.counsellor).post(url("addendum", world.discharged), {"text": "x"})
    assert response.status_code == 409
    assert not SummaryAddendum.objects.exists()


def test_the_pdf_is_marked_draft_until_signed(world, login):
    add_discharge(world)
    p, summary = world.discharged, world.discharge_summary
    client = login(world.counsellor)
    response = client.get(url("summary_pdf", p))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    event = AuditEvent.objects.filter(actor=world.counsellor).latest("pk")
    assert (event.action, event.participant_id) == ("export", p.pk)
    text = pdf_text(response.content)
    assert "Discharge summary" in text and "DRAFT" in text
    assert "Completed treatment" in text and "TEDS reason 1" in text
    client.post(url("sign", p), {"version": summary.version, "attest": "on"})
    text = pdf_text(client.get(url("summary_pdf", p)).content)
    assert "DRAFT" not in text and "Signed by Counsellor Tester" in text


def test_the_summary_without_a_discharge(world, login):
    client = login(world.counsellor)
    page = client.get(url("summary", world.active))
    assert page.status_code == 200 and b"No discharge yet" in page.content
    assert client.get(url("summary_pdf", world.active)).status_code == 404


def test_billing_cannot_read_the_summary(world, login):
    add_discharge(world)
    assert login(world.billing).get(url("summary", world.discharged)).status_code == 403


def test_the_chart_section(world, login):
    add_discharge(world)
    client = login(world.counsellor)
    chart = client.get(reverse("participants:chart", args=[world.discharged.pk])).content.decode()
    assert "Completed treatment" in chart and "TEDS reason 1" in chart
    assert "Draft, not signed" in chart
    assert page_problems(chart) == []
    chart = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    assert url("discharge", world.active) in chart


def test_the_discharge_step_is_offered_only_to_those_who_may_discharge(world, login):
    """Intake moves episodes along (episode.transition) but does not discharge: the chart
    does not offer it a step its page would refuse."""
    chart_url = reverse("participants:chart", args=[world.active.pk])
    chart = login(world.intake).get(chart_url).content.decode()
    assert url("discharge", world.active) not in chart
    chart = login(world.director).get(chart_url).content.decode()
    assert url("discharge", world.active) in chart


def test_the_board_lists_summaries_to_sign(world, login):
    add_discharge(world)
    board = login(world.counsellor).get(reverse("core:today")).content.decode()
    assert "Discharge summaries to sign" in board
    assert url("summary", world.discharged) in board
