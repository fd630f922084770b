"""A treatment plan prints to PDF with its content and the signature block (participant,
clinician, supervisor; the drawn signature as an image)."""

from __future__ import annotations

import io

from django.urls import reverse

from openiop.core.pdf import PART2_NOTICE, pdf_text
from openiop.plans import services

# A 1 by 1 PNG, as the signature pad sends it.
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _pdf(client, world, plan) -> tuple[str, bytes]:
    response = client.get(reverse("plans:pdf", kwargs={"pk": world.active.pk, "plan_pk": plan.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store, private"
    return " ".join(pdf_text(response.content).split()), response.content


def test_a_signed_plan_pdf_has_its_content_and_every_signature(world, login):
    plan = world.plan
    services.sign_as_participant(plan, world.counsellor, typed_name="Pat Active", image=PNG)
    services.sign_as_supervisor(plan, world.supervisor)
    text, data = _pdf(login(world.counsellor), world, plan)
    assert "Treatment plan" in text and "Version 1" in text
    assert "Cravings at work after stressful shifts" in text
    assert "Get through a work week without using." in text
    assert "Use a coping skill at each craving and log it, 5 days a week." in text
    assert "3 groups a week" in text
    assert "I want to keep my job and be there for my kids." in text
    # The signature block: every role, name and time.
    assert "Signatures" in text
    assert text.count("Electronically signed") == 3
    assert "Participant" in text and "Pat Active" in text
    assert "Clinician" in text and world.counsellor.get_full_name() in text
    assert "Clinical supervisor" in text and world.supervisor.get_full_name() in text
    assert f"Electronically signed {plan.signed_at:%b} " in text
    assert "Not signed" not in text
    assert world.active.record_number in text
    assert " ".join(PART2_NOTICE.split()[:8]) in text
    # The drawn signature is embedded as an image.
    from pypdf import PdfReader

    images = [img for page in PdfReader(io.BytesIO(data)).pages for img in page.images]
    assert images


def test_unsigned_roles_and_a_draft_are_marked(world, login):
    client = login(world.counsellor)
    text, _ = _pdf(client, world, world.plan)
    assert text.count("Not signed") == 2  # participant and supervisor
    assert "Electronically signed" in text
    draft_text, _ = _pdf(client, world, world.draft_plan)
    assert "DRAFT" in draft_text and draft_text.count("Not signed") == 3


def test_a_superseded_version_still_prints_with_its_signatures(world, login):
    services.sign_as_clinician(world.draft_plan, world.supervisor)
    text, _ = _pdf(login(world.counsellor), world, world.plan)
    assert "Superseded" in text and "Electronically signed" in text


def test_billing_cannot_print_a_plan(world, login):
    address = reverse("plans:pdf", kwargs={"pk": world.active.pk, "plan_pk": world.plan.pk})
    assert login(world.billing).get(address).status_code == 403
