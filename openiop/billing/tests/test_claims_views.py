"""The claim pages: list with totals and filters, build preview and build, one claim's
actions, submitting from the list, the claim file and the CSV."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from openiop.billing.choices import ClaimStatus
from openiop.billing.models import Claim, ClaimBatch
from openiop.core.models import AuditEvent
from openiop.privacy.models import Consent
from openiop.testing import add_billing, add_claim, add_claim_batch


def test_the_build_page_previews_then_builds(world, login):
    add_billing(world)
    client = login(world.billing)
    day = world.session.date.isoformat()
    query = {"payer": world.payer.pk, "start": day, "end": day}
    page = client.get(reverse("billing:build"), query)
    assert page.status_code == 200
    assert page.context["preview"].claimable_days == 1
    assert not Claim.objects.exists()
    response = client.post(reverse("billing:build"), query)
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert claim.status == ClaimStatus.DRAFT
    page = client.get(response["Location"])
    assert page.context["preview"].claimable_days == 0
    assert page.context["preview"].result.already_claimed == 1
    assert claim.number.encode() in page.content
    bad = client.post(reverse("billing:build"), {**query, "end": "2001-01-01"})
    assert bad.status_code == 400 and bad.context["form"].errors["end"]


def test_the_list_totals_filters_and_csv(world, login):
    add_claim_batch(world)
    client = login(world.billing)
    page = client.get(reverse("billing:claims"))
    assert page.status_code == 200
    assert page.context["totals"]["charge"] == 250 and page.context["totals"]["drafts"] == 0
    assert [c.number for c in page.context["page"].object_list] == [world.claim.number]
    assert page.context["page"].object_list[0].day_count == 1
    none = client.get(reverse("billing:claims"), {"status": "draft"})
    assert list(none.context["page"].object_list) == []
    found = client.get(reverse("billing:claims"), {"number": world.claim.number[-3:]})
    assert len(found.context["page"].object_list) == 1
    bad = client.get(reverse("billing:claims"), {"start": "2026-02-30"})
    assert bad.status_code == 400
    response = client.get(reverse("billing:claims_csv"), {"status": "submitted"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "claim" and len(rows) == 2
    assert rows[1][0] == world.claim.number and rows[1][14] == "F10.20"
    assert "Alcohol dependence" not in response.content.decode()
    assert AuditEvent.objects.filter(actor=world.billing, action="export").exists()


def test_a_claim_page_marks_it_paid_and_refuses_a_stale_form(world, login):
    add_claim_batch(world)
    client = login(world.billing)
    url = reverse("billing:claim_paid", args=[world.claim.pk])
    today = world.program.today().isoformat()
    stale = client.post(url, {"version": 1, "amount": "200.00", "paid_on": today})
    assert stale.status_code == 409 and b"Someone else" in stale.content
    missing = client.post(url, {"version": 2, "paid_on": today})
    assert missing.status_code == 400 and missing.context["form"].errors["amount"]
    done = client.post(url, {"version": 2, "amount": "200.00", "paid_on": today})
    assert done.status_code == 302
    claim = Claim.objects.get(pk=world.claim.pk)
    assert claim.status == ClaimStatus.PAID and str(claim.paid_amount) == "200.00"
    void = client.post(
        reverse("billing:claim_void", args=[claim.pk]), {"version": 3, "reason": "x"}
    )
    assert void.status_code == 409 and b"payer holds it" in void.content


def test_submitting_from_the_list_makes_a_file_to_download(world, login):
    add_claim(world)
    client = login(world.billing)
    response = client.post(reverse("billing:submit"), {"claims": [world.claim.pk]})
    assert response.status_code == 302
    batch = ClaimBatch.objects.get()
    assert response["Location"] == reverse("billing:batch", args=[batch.pk])
    download = client.get(reverse("billing:batch_download", args=[batch.pk]))
    assert download["Content-Disposition"] == (
        f'attachment; filename="837P-{batch.control_number:09d}.txt"'
    )
    assert download.content.decode() == batch.content
    again = client.post(reverse("billing:submit"), {"claims": [world.claim.pk]})
    assert again.status_code == 400  # no longer a draft to choose


def test_a_refused_claim_is_shown_with_the_reason(world, login):
    add_claim(world)
    Consent.objects.filter(participant=world.active).update(voided=True)
    client = login(world.billing)
    page = client.get(reverse("billing:claim", args=[world.claim.pk]))
    assert b'data-consent="refused"' in page.content
    response = client.post(reverse("billing:claim_submit", args=[world.claim.pk]), {"version": 1})
    assert response.status_code == 409 and b"no consent" in response.content.lower()
    assert Claim.objects.get(pk=world.claim.pk).status == ClaimStatus.DRAFT


def test_another_programs_claim_is_not_found(world, login):
    add_claim(world)
    client = login(world.outsider)
    assert client.get(reverse("billing:claim", args=[world.claim.pk])).status_code == 404
    assert client.get(reverse("billing:claims")).context["page"].paginator.count == 0
