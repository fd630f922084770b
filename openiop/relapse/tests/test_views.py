"""The plan's pages: the editor, review and signing, the tablet page, versions with what
changed, the PDF, the chart section; and the plan page's pinned query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.core.pdf import PART2_NOTICE, pdf_text
from openiop.participants import contact_services
from openiop.relapse import services
from openiop.relapse.choices import PlanStatus
from openiop.relapse.models import RelapsePlan

from .test_items import data_url, png


def url(name: str, world, plan=None) -> str:
    kwargs = {"pk": world.active.pk}
    if plan is not None:
        kwargs["plan_pk"] = plan.pk
    return reverse(name, kwargs=kwargs)


def fresh(plan) -> RelapsePlan:
    return RelapsePlan.objects.get(pk=plan.pk)


def editor_payload(world, plan, **more) -> dict:
    return {
        "version": fresh(plan).version,
        "section_reasons": "I want to see my son graduate.",
        "section_triggers": "Payday Fridays\nArguments at home\nThe old crew at O'Malley's",
        "section_high_risk": "",
        "section_warning_signs": "Skipping group\nNot sleeping",
        "section_coping": "Urge surfing\nWalk the dog",
        "section_craving_steps": "1. Wait 15 minutes\n2. Call Dana\n3. Go to a meeting",
        "support": [world.contact.pk],
        f"role_{world.contact.pk}": "Call when a craving hits",
        "action": "save",
        **more,
    }


def test_the_editor_saves_the_draft_one_item_per_line(world, login):
    client = login(world.counsellor)
    draft = world.relapse_draft
    response = client.post(url("relapse:edit", world, draft), editor_payload(world, draft))
    assert response.status_code == 302
    saved = fresh(draft)
    assert saved.triggers == ["Payday Fridays", "Arguments at home", "The old crew at O'Malley's"]
    assert saved.craving_steps == ["Wait 15 minutes", "Call Dana", "Go to a meeting"]
    assert saved.high_risk == []
    # The editor shows it back one item per line.
    page = client.get(url("relapse:edit", world, draft)).content.decode()
    assert "Payday Fridays\nArguments at home\nThe old crew at O&#x27;Malley&#x27;s" in page


def test_bad_input_to_the_editor_is_a_form_error_and_changes_nothing(world, login):
    client = login(world.counsellor)
    draft = world.relapse_draft
    before = fresh(draft).triggers
    response = client.post(
        url("relapse:edit", world, draft),
        editor_payload(world, draft, section_triggers="x" * 600),
    )
    assert response.status_code == 400
    assert "Triggers: an item can hold at most 500 characters" in response.content.decode()
    assert fresh(draft).triggers == before
    # The text typed stays in the box.
    assert "x" * 600 in response.content.decode()


def test_a_stale_editor_is_refused_with_409(world, login):
    client = login(world.counsellor)
    draft = world.relapse_draft
    payload = editor_payload(world, draft)
    assert client.post(url("relapse:edit", world, draft), payload).status_code == 302
    response = client.post(url("relapse:edit", world, draft), payload)  # same old version
    assert response.status_code == 409
    assert "Someone else saved this draft" in response.content.decode()


def test_review_then_sign(world, login):
    client = login(world.supervisor)
    draft = world.relapse_draft
    response = client.post(
        url("relapse:edit", world, draft),
        editor_payload(world, draft, action="sign", section_coping="Urge surfing\nRun"),
    )
    assert response["Location"] == url("relapse:sign", world, draft)
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    # What changed from version 1: items added and removed, named.
    assert "Changes from version 1" in text
    assert "Walk the dog" in text and "Run" in text and "diff-removed" in text
    response = client.post(url("relapse:sign", world, draft), {"version": fresh(draft).version})
    assert response.status_code == 302 and response["Location"] == url("relapse:current", world)
    assert fresh(draft).status == PlanStatus.SIGNED
    assert fresh(world.relapse_plan).status == PlanStatus.SUPERSEDED
    assert fresh(draft).signed_by == world.supervisor


def test_signing_an_incomplete_draft_is_refused_with_the_reason(world, login):
    client = login(world.counsellor)
    draft = world.relapse_draft
    client.post(
        url("relapse:edit", world, draft),
        editor_payload(world, draft, section_coping="", section_craving_steps=""),
    )
    page = client.get(url("relapse:sign", world, draft))
    assert "Coping strategies, When cravings hit" in page.content.decode()
    response = client.post(url("relapse:sign", world, draft), {"version": fresh(draft).version})
    assert response.status_code == 409
    assert fresh(draft).status == PlanStatus.DRAFT


def test_the_participant_signs_on_the_tablet_page(world, login):
    client = login(world.counsellor)
    plan = world.relapse_plan
    page = client.get(url("relapse:participant_sign", world, plan)).content.decode()
    assert "data-signature-pad" in page and 'data-target="id_signature"' in page
    assert "relapse/signature.js" in page
    assert "Payday Fridays" in page and "Dana Active" in page
    image = data_url(png(400, 120))
    response = client.post(
        url("relapse:participant_sign", world, plan),
        {"typed_name": "Pat Active", "signature": image},
    )
    assert response.status_code == 302
    signed = fresh(plan)
    assert signed.participant_signed_name == "Pat Active" and signed.participant_signature == image
    current = client.get(url("relapse:current", world)).content.decode()
    assert 'class="signature-image"' in current


def test_a_bad_drawn_signature_is_a_form_error(world, login):
    client = login(world.counsellor)
    plan = world.relapse_plan
    response = client.post(
        url("relapse:participant_sign", world, plan),
        {"typed_name": "Pat Active", "signature": "data:image/png;base64,AAAA"},
    )
    assert response.status_code == 400
    assert "clear it and sign again" in response.content.decode()
    assert fresh(plan).participant_signed_at is None


def test_starting_a_version_from_the_plan_page(world, login):
    client = login(world.counsellor)
    draft = world.relapse_draft
    # With a draft open, the draft is where "new" leads.
    response = client.post(url("relapse:new", world), {"from_number": "1"})
    assert response["Location"] == url("relapse:edit", world, draft)
    services.sign_plan(fresh(draft), actor=world.counsellor, expected_version=fresh(draft).version)
    # A page opened before version 2 was signed: refused, nothing started.
    response = client.post(url("relapse:new", world), {"from_number": "1"})
    assert response.status_code == 409
    assert "Version 2 was signed since" in response.content.decode()
    response = client.post(url("relapse:new", world), {"from_number": "2"})
    third = RelapsePlan.objects.get(episode=world.active.current_episode, number=3)
    assert response["Location"] == url("relapse:edit", world, third)


def test_versions_and_a_version_page_with_what_changed(world, login):
    client = login(world.counsellor)
    versions = client.get(url("relapse:versions", world)).content.decode()
    assert "Version 1" in versions and "Version 2" in versions
    first = client.get(url("relapse:version", world, world.relapse_plan)).content.decode()
    assert "First version" in first
    second = client.get(url("relapse:version", world, world.relapse_draft)).content.decode()
    assert "No changes from version 1" in second


def pdf(client, world, plan) -> str:
    response = client.get(url("relapse:pdf", world, plan))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store, private"
    return " ".join(pdf_text(response.content).split())


def test_the_pdf_has_their_words_support_people_and_the_signature_block(world, login):
    plan = services.sign_as_participant(
        fresh(world.relapse_plan),
        actor=world.counsellor,
        typed_name="Pat Active",
        image=data_url(png(300, 100)),
    )
    text = pdf(login(world.counsellor), world, plan)
    assert "My relapse-prevention plan" in text
    # Their words first.
    assert text.index("My kids.") < text.index("Payday Fridays")
    assert "Dana Active" in text and "(207) 555-0142" in text and "Call when a craving hits" in text
    # The signature block: both signatures, electronically signed.
    assert "Signatures" in text
    assert "Participant" in text and "Pat Active" in text
    assert "Clinician" in text and world.counsellor.display_name in text
    assert text.count("Electronically signed") == 2
    assert f"Electronically signed {plan.signed_at:%b} " in text
    assert world.active.record_number in text
    assert " ".join(PART2_NOTICE.split()[:8]) in text


def test_a_draft_pdf_says_draft_and_not_signed(world, login):
    text = pdf(login(world.counsellor), world, world.relapse_draft)
    assert "DRAFT" in text and "Not signed" in text and "Signatures" in text


def test_billing_cannot_see_or_print_a_plan(world, login):
    client = login(world.billing)
    assert client.get(url("relapse:pdf", world, world.relapse_plan)).status_code == 403
    assert client.get(url("relapse:current", world)).status_code == 403
    chart = client.get(reverse("participants:chart", kwargs={"pk": world.active.pk}))
    assert "Relapse-prevention plan" not in chart.content.decode()
    # Contacts are participant information: billing sees them on the chart.
    assert "Dana Active" in chart.content.decode()


def test_the_chart_section_shows_the_plan_in_brief(world, login):
    chart = login(world.counsellor).get(
        reverse("participants:chart", kwargs={"pk": world.active.pk})
    )
    text = chart.content.decode()
    assert "Relapse-prevention plan" in text
    assert "Payday Fridays · Arguments at home" in text
    assert "Dana Active ((207) 555-0142)" in text
    assert "Participant has not signed" in text
    assert "Version 2 is a draft" in text


# The plan page (relapse:current), counted:
#   1. session   2. user   3. roles (every signed-in page)
#   4. programs: accounts_user_programs (user.program_ids)
#   5. participant: joined to program, current episode and its program
#  6-8. audit: the view event (lock the chain head, INSERT the event, move the head)
#   9. plan: the episode's latest signed plan, with the clinician
#  10. plan: its support people with their contacts (prefetch)
#  11. draft: the episode's open draft
#  12. draft: who last saved it
#  13. banner: COUNT of the open safety alerts
PLAN_PAGE_QUERIES = 13


@pytest.mark.parametrize("support", [1, 8])
def test_the_plan_page_runs_a_fixed_number_of_queries(world, login, support):
    plan = fresh(world.relapse_draft)
    contacts = [world.contact] + [
        contact_services.add_contact(
            world.active,
            actor=world.counsellor,
            values={"name": f"Helper {i}", "relationship": "friend", "phone": f"555-01{i:02d}"},
        )
        for i in range(support - 1)
    ]
    plan = services.save_draft(
        plan,
        actor=world.counsellor,
        sections={
            **{k: getattr(plan, k) for k in ("reasons", "triggers", "warning_signs")},
            "coping": ["Walk"],
            "craving_steps": ["Wait"],
        },
        support=[(c.pk, "Call") for c in contacts],
        expected_version=plan.version,
    )
    services.sign_plan(plan, actor=world.counsellor, expected_version=plan.version)
    services.start_draft(world.active.current_episode, actor=world.counsellor)
    client = login(world.counsellor)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url("relapse:current", world))
    assert response.status_code == 200
    assert response.content.decode().count('href="tel:') == support
    sql = "\n".join(f"{i + 1}. {q['sql']}" for i, q in enumerate(ctx.captured_queries))
    assert len(ctx.captured_queries) == PLAN_PAGE_QUERIES, sql


def test_reading_the_plan_is_audited(world, login):
    client = login(world.supervisor)
    client.get(url("relapse:current", world))
    event = AuditEvent.objects.filter(actor=world.supervisor).latest("pk")
    assert (event.action, event.object_type, event.participant_id) == (
        "view",
        "relapse.current",
        world.active.pk,
    )
