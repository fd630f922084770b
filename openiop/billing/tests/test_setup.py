"""Billing set-up: payers (add, edit with a stale check, retire refused while in use),
the billing profile (NPI check digit, EIN, ZIP+4, state, billable minimum) and the
sliding fee (tiers added and retired, the calculator)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from openiop.billing.models import BillingProfile, Coverage, Payer, SlidingFeeTier
from openiop.billing.setup_forms import npi_is_valid, stamp_of
from openiop.core.models import AuditEvent
from openiop.core.roles import Role
from openiop.testing import add_billing, make_user

pytestmark = pytest.mark.django_db


# --- the NPI check digit (CMS: Luhn over 80840 + the first nine digits) -------------------


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),  # CMS's worked example
        ("1234567890", False),
        ("1234567894", False),
        ("1245319599", True),  # 80840124531959 → sum 71 → check digit 9
        ("1245319590", False),
        ("123456789", False),  # nine digits
        ("12345678931", False),
        ("12345678a3", False),
        ("", False),
    ],
)
def test_npi_check_digit(npi, valid):
    assert npi_is_valid(npi) is valid


def test_npi_check_digit_worked_by_hand():
    # 80840 123456789, from the rightmost digit, every other one doubled (a doubled digit
    # over 9 loses 9): 9→9, 8, 7→5, 6, 5→1, 4, 3→6, 2, 1→2, 0, 4→8, 8, 0→0, 8; the sum is
    # 67, so the check digit is (10 − 7) mod 10 = 3: 1234567893. Every other last digit
    # is wrong.
    assert npi_is_valid("1234567893")
    for last in "012456789":
        assert not npi_is_valid("123456789" + last)


# --- payers ---------------------------------------------------------------------------------

PAYER = {
    "program": "",
    "name": "Pine State Medicaid",
    "payer_id": "mcdme",
    "kind": "medicaid",
    "address_line": "PO Box 1",
    "city": "Augusta",
    "state": "me",
    "postal_code": "04333-0001",
    "phone": "800-555-0100",
    "units_per_day": "1",
    "telehealth_modifier": "GT",
    "covers_telehealth": "on",
    "requires_authorisation": "on",
    "timely_filing_days": "365",
}


def test_billing_adds_a_payer(world, login):
    client = login(world.billing)
    response = client.post(reverse("billing:payer_new"), {**PAYER, "program": world.program.pk})
    assert response.status_code == 302, response.context["form"].errors
    payer = Payer.objects.get(name="Pine State Medicaid")
    assert (payer.program, payer.payer_id, payer.state, payer.postal_code) == (
        world.program,
        "MCDME",
        "ME",
        "043330001",
    )
    assert payer.telehealth_modifier == "GT" and payer.timely_filing_days == 365
    assert AuditEvent.objects.filter(
        action="create", object_type="billing.payer", object_id=str(payer.pk)
    ).exists()
    page = client.get(reverse("billing:payers")).content.decode()
    assert "Pine State Medicaid" in page and "MCDME" in page


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"program": "other"}, "program"),
        ({"state": "Maine"}, "state"),
        ({"postal_code": "0433"}, "postal_code"),
        ({"units_per_day": "5"}, "units_per_day"),
        ({"timely_filing_days": "10"}, "timely_filing_days"),
        ({"payer_id": "MCD ME!"}, "payer_id"),
        ({"name": "Harbor Health Plan"}, "name"),  # add_billing's payer
        ({"name": "bad\x00name"}, "name"),
    ],
)
def test_payer_form_errors(world, login, change, field):
    add_billing(world)
    client = login(world.billing)
    data = {**PAYER, "program": world.program.pk, **change}
    if change.get("program") == "other":
        data["program"] = world.other_program.pk
    before = Payer.objects.count()
    response = client.post(reverse("billing:payer_new"), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Payer.objects.count() == before


def test_payer_edit_is_refused_when_someone_saved_in_between(world, login):
    add_billing(world)
    client = login(world.billing)
    url = reverse("billing:payer_edit", args=[world.payer.pk])
    stale = stamp_of(world.payer)
    data = {**PAYER, "name": "Harbor Health Plan", "stamp": stale}
    assert client.post(url, {**data, "payer_id": "HHP02"}).status_code == 302
    world.payer.refresh_from_db()
    assert world.payer.payer_id == "HHP02"
    response = client.post(url, {**data, "payer_id": "HHP03"})
    assert response.status_code == 409
    assert "Someone else saved this payer" in response.content.decode()
    world.payer.refresh_from_db()
    assert world.payer.payer_id == "HHP02"


def test_retiring_a_payer_in_use_is_refused_naming_the_coverage(world, login):
    add_billing(world)
    client = login(world.billing)
    url = reverse("billing:payer_retire", args=[world.payer.pk])
    response = client.post(url, {"stamp": stamp_of(world.payer)})
    assert response.status_code == 409
    text = response.content.decode()
    assert world.active.record_number in text and "HHP123456" in text
    world.payer.refresh_from_db()
    assert not world.payer.retired
    # Once the coverage ended, the payer may be retired; it stays on record.
    Coverage.objects.filter(pk=world.coverage.pk).update(
        end_date=world.program.today() - dt.timedelta(days=1)
    )
    assert client.post(url, {"stamp": stamp_of(world.payer)}).status_code == 302
    world.payer.refresh_from_db()
    assert world.payer.retired and world.payer.retired_at is not None
    page = client.get(reverse("billing:payers")).content.decode()
    assert "Retired payers" in page


def test_another_programs_payer_is_404(world, login):
    add_billing(world)
    client = login(make_user("elsewhere", [Role.BILLING], [world.other_program]))
    for name in ("billing:payer_edit", "billing:payer_retire"):
        assert client.get(reverse(name, args=[world.payer.pk])).status_code == 404
    page = client.get(reverse("billing:payers")).content.decode()
    assert "Harbor Health Plan" not in page


# --- the billing profile ----------------------------------------------------------------------

PROFILE = {
    "version": "0",
    "billing_name": "Harbor IOP LLC",
    "npi": "1234567893",
    "tax_id": "12-3456789",
    "taxonomy_code": "261QR0405X",
    "address_line": "12 Harbor Street",
    "city": "Portland",
    "state": "me",
    "postal_code": "04101-1234",
    "phone": "(207) 555-0100",
    "contact_name": "Bea Biller",
    "submitter_id": "HARBOR01",
    "receiver_id": "CLEARHOUSE",
    "receiver_name": "Clearing House",
    "service_code": "H0015",
    "place_of_service": "57",
    "telehealth_at_home": "on",
    "billable_minimum_minutes": "180",
    "daily_charge": "250.00",
    "alert_remaining_days": "3",
    "alert_end_days": "5",
    "poverty_base": "15650",
    "poverty_per_person": "5500",
}


def test_billing_creates_then_edits_the_profile(world, login):
    client = login(world.billing)
    url = reverse("billing:profile")
    assert client.post(url, PROFILE).status_code == 302
    profile = BillingProfile.objects.get(program=world.program)
    assert (profile.tax_id, profile.postal_code, profile.phone, profile.state) == (
        "123456789",
        "041011234",
        "2075550100",
        "ME",
    )
    assert profile.version == 1
    assert client.post(url, {**PROFILE, "version": "1", "daily_charge": "275"}).status_code == 302
    profile.refresh_from_db()
    assert profile.daily_charge == Decimal("275.00") and profile.version == 2
    # A form opened before that save is refused.
    response = client.post(url, {**PROFILE, "version": "1", "daily_charge": "300"})
    assert response.status_code == 409
    profile.refresh_from_db()
    assert profile.daily_charge == Decimal("275.00")
    assert AuditEvent.objects.filter(object_type="billing.billingprofile", action="change").exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"npi": "1234567890"}, "npi", "check digit"),
        ({"npi": "12345"}, "npi", "10 digits"),
        ({"tax_id": "12345678"}, "tax_id", "9 digits"),
        ({"postal_code": "04101"}, "postal_code", "9 digits"),
        ({"state": "M1"}, "state", "Two letters"),
        ({"billable_minimum_minutes": "14"}, "billable_minimum_minutes", "15"),
        ({"billable_minimum_minutes": "721"}, "billable_minimum_minutes", "720"),
        ({"billing_name": "Harbor*IOP"}, "billing_name", "claim file"),
    ],
)
def test_profile_form_errors(world, login, change, field, message):
    client = login(world.billing)
    response = client.post(reverse("billing:profile"), {**PROFILE, **change})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not BillingProfile.objects.exists()


def test_the_director_reads_the_profile_but_cannot_change_it(world, login):
    add_billing(world)
    client = login(world.director)
    page = client.get(reverse("billing:profile"))
    assert page.status_code == 200 and "1234567893" in page.content.decode()
    assert page.context["form"] is None
    assert client.post(reverse("billing:profile"), {**PROFILE, "version": "1"}).status_code == 403


def test_another_programs_profile_is_404(world, login):
    client = login(world.billing)
    url = reverse("billing:profile") + f"?program={world.other_program.pk}"
    assert client.get(url).status_code == 404


# --- the sliding fee ----------------------------------------------------------------------


def test_tiers_added_retired_and_the_calculator(world, login):
    add_billing(world)
    client = login(world.billing)
    url = reverse("billing:sliding_fee")
    for limit, fee in (("100", "25"), ("200", "75"), ("", "250")):
        response = client.post(url, {"up_to_percent": limit, "fee_per_day": fee})
        assert response.status_code == 302, response.context["form"].errors
    # A household of 3 at $30,000: guideline 15,650 + 2 x 5,500 = 26,650; 30,000 / 26,650
    # = 112.57% → 113% → the tier up to 200% → $75.00.
    page = client.get(url, {"household_size": "3", "annual_income": "30000"})
    result = page.context["result"]
    assert (result["guideline"], result["percent"], result["fee"]) == (26650, 113, Decimal("75"))
    # The same tier twice, and a tier that would make a higher income pay less.
    assert client.post(url, {"up_to_percent": "200", "fee_per_day": "80"}).status_code == 400
    response = client.post(url, {"up_to_percent": "150", "fee_per_day": "10"})
    assert response.status_code == 400
    assert "fee_per_day" in response.context["form"].errors
    # Retire the 200% tier: that household now pays the open tier.
    tier = SlidingFeeTier.objects.get(program=world.program, up_to_percent=200)
    retire = reverse("billing:tier_retire", args=[tier.pk])
    assert client.post(retire, {"tier": tier.pk}).status_code == 302
    tier.refresh_from_db()
    assert tier.retired
    page = client.get(url, {"household_size": "3", "annual_income": "30000"})
    assert page.context["result"]["fee"] == Decimal("250")
    assert client.post(retire, {"tier": tier.pk}).status_code == 409


def test_calculator_input_errors_are_shown(world, login):
    add_billing(world)
    client = login(world.director)
    page = client.get(reverse("billing:sliding_fee"), {"household_size": "0", "annual_income": "x"})
    assert page.status_code == 200
    assert page.context["result"] is None
    assert set(page.context["calc"].errors) == {"household_size", "annual_income"}
