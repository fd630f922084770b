"""A note prints to PDF with its signature block and addenda."""

from __future__ import annotations

from django.urls import reverse

from openiop.core.pdf import PART2_NOTICE, pdf_text
from openiop.notes import services


def _pdf(client, world, note) -> str:
    response = client.get(reverse("notes:pdf", kwargs={"pk": world.active.pk, "note_pk": note.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store, private"
    return " ".join(pdf_text(response.content).split())


def test_a_signed_note_pdf_carries_the_text_signature_block_and_addenda(world, login):
    note = world.signed_note
    services.add_addendum(note, actor=world.counsellor, text="Correction: craving was at home.")
    text = _pdf(login(world.counsellor), world, note)
    assert "Attended group; shared a craving at work." in text
    assert "Signatures" in text
    assert f"Electronically signed {note.signed_at:%b} " in text
    assert note.signed_name in text
    assert "Addendum 1" in text and "Correction: craving was at home." in text
    assert world.active.record_number in text
    # The re-disclosure notice is on the page (42 CFR 2.32).
    assert " ".join(PART2_NOTICE.split()[:8]) in text


def test_a_draft_prints_marked_as_a_draft_and_unsigned(world, login):
    text = _pdf(login(world.counsellor), world, world.draft_note)
    assert "DRAFT" in text and "Not signed" in text


def test_a_co_signature_is_in_the_block_once_given(world, login):
    note = world.cosign_note
    client = login(world.supervisor)
    response = client.get(reverse("notes:pdf", kwargs={"pk": world.active.pk, "note_pk": note.pk}))
    text = " ".join(pdf_text(response.content).split())
    assert "Clinical supervisor" in text and "Not signed" in text
    services.cosign_note(note, actor=world.supervisor)
    response = client.get(reverse("notes:pdf", kwargs={"pk": world.active.pk, "note_pk": note.pk}))
    text = " ".join(pdf_text(response.content).split())
    assert world.supervisor.display_name in text
    assert "Not signed" not in text


def test_billing_cannot_print_a_note(world, login):
    url = reverse("notes:pdf", kwargs={"pk": world.active.pk, "note_pk": world.signed_note.pk})
    assert login(world.billing).get(url).status_code == 403
