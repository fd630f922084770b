"""The consent registry's pages: a participant's consents (in force first), recording
each kind, the detail page with revocation and voiding, the printed consent and the blank
form (checked with pdftotext), the chart section, the compliance-wide list with its
filters and a fixed number of queries, and who may do what."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core import pdf
from openiop.core.models import AuditEvent
from openiop.participants.models import Contact
from openiop.privacy import consent_text, gate, services
from openiop.privacy.choices import Channel, ConsentKind, InfoCategory, Purpose, RecipientKind
from openiop.privacy.models import Consent
from openiop.privacy.tests.test_consents import page_payload
from openiop.testing import add_privacy, employer_consent_input, make_participant
from openiop.tests.test_query_counts import CHAIN, FRAME

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"  # poppler-utils


def pdftotext(data: bytes) -> str:
    """The PDF's text as poppler reads it, whitespace collapsed."""
    out = subprocess.run(  # noqa: S603  (poppler's pdftotext, fixed arguments)
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return " ".join(out.split())


def words(text: str) -> str:
    return " ".join(text.split())


def disclose_to_acme(world) -> Any:
    return gate.disclose(
        gate.DisclosureRequest(
            participant=world.active,
            recipient_kind=RecipientKind.EMPLOYER,
            recipient_name="Acme Logistics",
            purpose=Purpose.EMPLOYMENT,
            information=(InfoCategory.ATTENDANCE,),
            channel=Channel.LETTER,
            description="Attendance letter",
        ),
        actor=world.counsellor,
    )


# --- a participant's consents ----------------------------------------------------------------


def test_the_list_shows_every_consent_in_force_first_with_its_disclosures(world, login):
    add_privacy(world)
    today = world.program.today()
    old = services.record_consent(
        world.active,
        employer_consent_input(
            recipient_name="Old Employer Ltd",
            signed_on=today - dt.timedelta(days=5),
            expires_on=today - dt.timedelta(days=1),
        ),
        actor=world.counsellor,
    )
    disclose_to_acme(world)
    disclose_to_acme(world)
    response = login(world.counsellor).get(reverse("consents:list", args=[world.active.pk]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["status"].key for r in rows] == ["in_force", "in_force", "expired"]
    assert rows[-1]["consent"] == old
    acme = next(r for r in rows if r["consent"] == world.consent)
    assert acme["disclosures"] == 2
    page = response.content.decode()
    for text in ("In force", "Expired", "Acme Logistics", "Employment", "Attendance", "TPO"):
        assert text in page
    assert f"expired on {today - dt.timedelta(days=1):%Y-%m-%d}" in page
    # The accounting of disclosures, when the page exists, is where the count leads.
    accounting = response.context["accounting_url"]
    if accounting:
        assert f'href="{accounting}">2</a>' in page


def test_the_list_for_a_participant_without_consents(world, login):
    response = login(world.counsellor).get(reverse("consents:list", args=[world.active.pk]))
    assert b"No consents on file." in response.content
    assert b"Print a form to sign" in response.content


def test_choosing_the_kind_comes_first(world, login):
    response = login(world.counsellor).get(reverse("consents:new", args=[world.active.pk]))
    page = response.content.decode()
    for kind in ConsentKind.values:
        assert reverse("consents:record", args=[world.active.pk, kind]) in page
        assert reverse("consents:blank_pdf", args=[world.active.pk, kind]) in page


def test_the_tpo_form_is_prefilled(world, login):
    response = login(world.counsellor).get(
        reverse("consents:record", args=[world.active.pk, "tpo"])
    )
    form = response.context["form"]
    assert form["discloser"].value() == "Harbor IOP"
    assert form["recipient_name"].value() == services.TPO_DEFAULT_RECIPIENTS
    assert form["recipient_kind"].value() == RecipientKind.TPO_CLASS
    assert set(form["purposes"].value()) == {"TREAT", "HPAYMT", "HOPERAT"}
    assert form["expiry_event"].value() == "end_of_treatment"
    assert "contact" not in form.fields  # a TPO consent names a class, not a person
    page = words(response.content.decode())
    texts = consent_text.texts(world.program)
    assert words(texts["revocation_right"]) in page
    assert 'name="refusal_consequences_stated"' in page and 'name="redisclosure_stated"' in page


def test_recording_a_tpo_consent(world, login):
    client = login(world.counsellor)
    response = client.post(
        reverse("consents:record", args=[world.active.pk, "tpo"]), page_payload(world, "tpo")
    )
    consent = Consent.objects.get(participant=world.active)
    assert response.status_code == 302
    assert response["Location"] == reverse("consents:detail", args=[world.active.pk, consent.pk])
    assert consent.kind == ConsentKind.TPO and consent.is_tpo
    assert consent.refusal_consequences_stated and consent.redisclosure_stated
    assert consent.created_by == world.counsellor
    event = AuditEvent.objects.filter(object_type="privacy.consent", action="create").get()
    assert event.object_id == str(consent.pk) and event.participant_id == world.active.pk


def test_a_family_consent_names_one_of_the_participants_contacts(world, login):
    client = login(world.counsellor)
    url = reverse("consents:record", args=[world.active.pk, "specific"])
    family = {
        "recipient_kind": "family",
        "recipient_name": "",
        "recipient_address": "",
        "purposes": ["FAMRQT"],
    }
    # No contact chosen: refused beside the contact field.
    response = client.post(url, page_payload(world, "specific", **family))
    assert response.status_code == 400
    assert "contact" in response.context["form"].errors
    # Another participant's contact: not one of the choices.
    stranger = Contact.objects.create(
        participant=world.referred, name="Sam Stranger", relationship="friend"
    )
    response = client.post(url, page_payload(world, "specific", contact=stranger.pk, **family))
    assert response.status_code == 400 and "contact" in response.context["form"].errors
    # The participant's own contact: the consent names them.
    response = client.post(url, page_payload(world, "specific", contact=world.contact.pk, **family))
    assert response.status_code == 302
    consent = Consent.objects.get(participant=world.active)
    assert consent.contact == world.contact and consent.recipient_name == world.contact.name


def test_the_detail_page_shows_every_element(world, login):
    add_privacy(world)
    consent = world.tpo_consent
    response = login(world.compliance).get(
        reverse("consents:detail", args=[world.active.pk, consent.pk])
    )
    page = words(response.content.decode())
    for text in (
        world.active.legal_name,  # 1
        "Harbor IOP",  # 2
        "Attendance: dates and hours attended",  # 3
        "My treatment records at Harbor IOP",
        "My treating providers, health plans",  # 4
        "Treatment; Payment; Health care operations",  # 5
        "Explained to the participant",  # 6
        "End of treatment (discharge)",  # 7
        "Pat Active",  # 8
        f"{consent.signed_on:%b} {consent.signed_on.day}, {consent.signed_on:%Y}",  # 9
        "TPO · refusing",
        "TPO · redisclosure",
        "Status: ",
        "In force",
        "Nothing has been disclosed under it.",
    ):
        assert text in page, text
    assert "Revoke consent" in page and "Void consent" in page


# --- revoking and voiding ------------------------------------------------------------------


def test_revoking_from_the_page_stops_the_consent_then_refuses_again(world, login):
    add_privacy(world)
    client = login(world.counsellor)
    today = world.program.today()
    url = reverse("consents:revoke", args=[world.active.pk, world.consent.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"revoked_on": "", "note": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"revoked_on", "note"}
    response = client.post(url, {"revoked_on": today.isoformat(), "note": "Letter at group"})
    assert response.status_code == 302
    consent = Consent.objects.get(pk=world.consent.pk)
    assert consent.revoked_on == today and consent.revoked_by == world.counsellor
    assert gate.consent_status(consent, today)[0] is False
    assert AuditEvent.objects.filter(action="revoke", object_id=str(consent.pk)).exists()
    detail = client.get(reverse("consents:detail", args=[world.active.pk, consent.pk]))
    assert b"Revoked" in detail.content and b"Revoke consent" not in detail.content
    # Already revoked: 409 with the reason, on the form and on a second post.
    for response in (
        client.get(url),
        client.post(url, {"revoked_on": today.isoformat(), "note": "Again"}),
    ):
        assert response.status_code == 409
        assert b"already revoked" in response.content


def test_voiding_is_refused_once_records_went_out(world, login):
    add_privacy(world)
    disclose_to_acme(world)
    client = login(world.counsellor)
    url = reverse("consents:void", args=[world.active.pk, world.consent.pk])
    response = client.post(url, {"reason": "Typed the wrong employer"})
    assert response.status_code == 409
    assert b"revoke it instead of voiding" in response.content
    assert not Consent.objects.get(pk=world.consent.pk).voided
    # The TPO consent was never used: it may be voided, with a reason.
    tpo_url = reverse("consents:void", args=[world.active.pk, world.tpo_consent.pk])
    assert client.post(tpo_url, {"reason": " "}).status_code == 400
    assert client.post(tpo_url, {"reason": "Recorded twice"}).status_code == 302
    tpo = Consent.objects.get(pk=world.tpo_consent.pk)
    assert tpo.voided and tpo.void_reason == "Recorded twice"
    assert client.post(tpo_url, {"reason": "Again"}).status_code == 409
    # A void consent is still listed, marked void, after those in force.
    rows = client.get(reverse("consents:list", args=[world.active.pk])).context["rows"]
    assert [r["status"].key for r in rows] == ["in_force", "void"]


# --- printing --------------------------------------------------------------------------------


def test_the_printed_tpo_consent_has_every_element_and_both_statements(world, login):
    add_privacy(world)
    consent = world.tpo_consent
    client = login(world.counsellor)
    response = client.get(reverse("consents:pdf", args=[world.active.pk, consent.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store, private"
    text = pdftotext(response.content)
    texts = consent_text.texts(world.program)
    for expected in (
        "Consent to disclose substance use disorder records",
        "Recorded consent · In force",
        world.active.legal_name,
        "Who may disclose Harbor IOP",
        "Attendance: dates and hours attended",
        "My treating providers, health plans, third-party payers",
        "Treatment; Payment; Health care operations",
        words(texts["revocation_right"]),
        "End of treatment (discharge)",
        words(texts["tpo_refusal"]),
        words(texts["tpo_redisclosure"]),
        "Signed by Pat Active (The participant)",
        f"Date signed {consent.signed_on:%B} {consent.signed_on.day}, {consent.signed_on:%Y}",
        "42 CFR part 2",
    ):
        assert expected in text, expected
    event = AuditEvent.objects.filter(actor=world.counsellor).latest("id")
    assert event.action == "export" and event.object_id == str(consent.pk)
    assert event.participant_id == world.active.pk


def test_a_printed_specific_consent_has_no_tpo_statements_and_shows_revocation(world, login):
    add_privacy(world)
    today = world.program.today()
    services.revoke_consent(world.consent, actor=world.counsellor, revoked_on=today, note="Call")
    response = login(world.compliance).get(
        reverse("consents:pdf", args=[world.active.pk, world.consent.pk])
    )
    text = pdftotext(response.content)
    assert "Acme Logistics (Employer) 12 Dock Road, Portland" in text
    assert "Employment (verify attendance or fitness for work)" in text
    assert f"Recorded consent · Revoked: revoked on {today:%Y-%m-%d}" in text
    assert "Before you sign a TPO consent" not in text


@pytest.mark.parametrize("kind", ConsentKind.values)
def test_a_blank_form_to_sign_on_paper(world, login, kind):
    client = login(world.counsellor)
    response = client.get(reverse("consents:blank_pdf", args=[world.active.pk, kind]))
    assert response.status_code == 200
    text = pdftotext(response.content)
    assert world.active.legal_name in text
    assert ConsentKind(kind).label in text
    assert "Who may disclose Harbor IOP" in text
    assert "Signature of the participant" in text and "Date signed" in text
    assert words(consent_text.texts(world.program)["revocation_right"]) in text
    tpo_parts = (
        services.TPO_DEFAULT_RECIPIENTS,
        "At the end of my treatment at Harbor IOP",
        "If you refuse to sign.",
        "Redisclosure.",
    )
    for part in tpo_parts:
        assert (part in text) is (kind == ConsentKind.TPO), part
    if kind == ConsentKind.COUNSELLING_NOTES:
        assert "cannot be combined" in text and "Attendance: dates" not in text
    event = AuditEvent.objects.filter(actor=world.counsellor).latest("id")
    assert event.action == "export" and event.object_type == "privacy.consent.blank"


def test_no_pdf_library_answers_503_and_exports_nothing(world, login, monkeypatch):
    add_privacy(world)

    def unavailable(*args, **kwargs):
        raise pdf.PdfUnavailable("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(pdf, "render_pdf_bytes", unavailable)
    client = login(world.counsellor)
    for url in (
        reverse("consents:pdf", args=[world.active.pk, world.consent.pk]),
        reverse("consents:blank_pdf", args=[world.active.pk, "tpo"]),
    ):
        response = client.get(url)
        assert response.status_code == 503
        assert b"WeasyPrint is not available" in response.content
    assert not AuditEvent.objects.filter(action="export").exists()


# --- who may do what ---------------------------------------------------------------------------


def test_a_billing_user_cannot_record_or_read_consents(world, login):
    add_privacy(world)
    client = login(world.billing)
    pk = world.active.pk
    record = reverse("consents:record", args=[pk, "tpo"])
    assert client.get(record).status_code == 403
    assert client.post(record, page_payload(world, "tpo")).status_code == 403
    for url in (
        reverse("consents:list", args=[pk]),
        reverse("consents:detail", args=[pk, world.consent.pk]),
        reverse("consents:pdf", args=[pk, world.consent.pk]),
        reverse("privacy:consents"),
    ):
        assert client.get(url).status_code == 403
    revoke = reverse("consents:revoke", args=[pk, world.consent.pk])
    assert client.post(revoke, {"revoked_on": "2026-01-01", "note": "x"}).status_code == 403
    assert Consent.objects.filter(participant=world.active).count() == 2
    assert Consent.objects.get(pk=world.consent.pk).revoked_at is None


def test_compliance_records_and_the_outsider_sees_nothing(world, login):
    add_privacy(world)
    client = login(world.compliance)
    url = reverse("consents:record", args=[world.active.pk, "specific"])
    assert client.post(url, page_payload(world, "specific")).status_code == 302
    client = login(world.outsider)
    assert client.get(reverse("consents:list", args=[world.active.pk])).status_code == 404
    detail = reverse("consents:detail", args=[world.active.pk, world.consent.pk])
    assert client.get(detail).status_code == 404
    # Another participant's consent through this participant's address: 404.
    client = login(world.counsellor)
    other = reverse("consents:detail", args=[world.referred.pk, world.consent.pk])
    assert client.get(other).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"signed_on": "2026-02-30"}, "signed_on"),
        ({"expires_on": "tomorrow"}, "expires_on"),
        ({"recipient_name": "x" * 201}, "recipient_name"),
        ({"information_detail": "nul\x00byte"}, "information_detail"),
        ({"purposes": ["bogus"]}, "purposes"),
        ({"signer_role": "king"}, "signer_role"),
        ({"contact": "99999999999999999999"}, "contact"),
        ({"recipient_kind": "tpo_class"}, "recipient_kind"),  # the TPO class on a specific
        ({"expiry_event": "none", "expires_on": ""}, "expiry_event"),  # no expiry: TPO only
    ],
)
def test_bad_input_is_a_400_beside_its_field(world, login, changes, field):
    client = login(world.counsellor)
    url = reverse("consents:record", args=[world.active.pk, "specific"])
    response = client.post(url, page_payload(world, "specific", **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Consent.objects.exists()


def test_an_unknown_kind_or_consent_is_404(world, login):
    client = login(world.counsellor)
    pk = world.active.pk
    assert client.get(reverse("consents:record", args=[pk, "bogus"])).status_code == 404
    assert client.get(reverse("consents:blank_pdf", args=[pk, "bogus"])).status_code == 404
    assert client.get(reverse("consents:detail", args=[pk, 2**62])).status_code == 404


# --- the chart, the navigation ------------------------------------------------------------------


def test_the_chart_lists_the_consents_in_force(world, login):
    add_privacy(world)
    services.revoke_consent(
        world.consent, actor=world.counsellor, revoked_on=world.program.today(), note="x"
    )
    chart = reverse("participants:chart", args=[world.active.pk])
    response = login(world.counsellor).get(chart)
    section = response.content.decode().split('id="section-consents"')[1].split("</section>")[0]
    assert "TPO: treatment, payment and operations" in section
    assert "Acme Logistics" not in section  # revoked: not in force
    assert "1 other expired, revoked or void." in section
    assert "Record a consent" in section
    # Billing holds no consent.view: no section.
    assert b'id="section-consents"' not in login(world.billing).get(chart).content


def test_privacy_is_in_the_navigation_of_compliance_not_clinicians(world, login):
    url = reverse("privacy:consents")
    assert f'href="{url}"'.encode() in login(world.compliance).get("/").content
    assert f'href="{url}"'.encode() not in login(world.counsellor).get("/").content


# --- the compliance-wide list ----------------------------------------------------------------


def test_the_compliance_list_filters_by_status_and_kind(world, login):
    add_privacy(world)
    today = world.program.today()
    soon = services.record_consent(
        world.active,
        employer_consent_input(recipient_name="Soon Co", expires_on=today + dt.timedelta(days=20)),
        actor=world.counsellor,
    )
    expired = services.record_consent(
        world.active,
        employer_consent_input(
            recipient_name="Gone Co",
            signed_on=today - dt.timedelta(days=9),
            expires_on=today - dt.timedelta(days=2),
        ),
        actor=world.counsellor,
    )
    revoked = services.record_consent(
        world.active, employer_consent_input(recipient_name="Revoked Co"), actor=world.counsellor
    )
    services.revoke_consent(revoked, actor=world.counsellor, revoked_on=today, note="x")
    void = services.record_consent(
        world.active, employer_consent_input(recipient_name="Void Co"), actor=world.counsellor
    )
    services.void_consent(void, actor=world.counsellor, reason="Typo")
    foreign = services.record_consent(
        world.foreign, employer_consent_input(recipient_name="Elsewhere"), actor=world.outsider
    )
    client = login(world.compliance)
    url = reverse("privacy:consents")

    def shown(query: str) -> set[int]:
        response = client.get(url + query)
        assert response.status_code == 200
        return {row["consent"].pk for row in response.context["rows"]}

    everyone = {world.consent.pk, world.tpo_consent.pk, soon.pk, expired.pk, revoked.pk}
    assert shown("") == everyone  # not the void one, not another program's
    assert foreign.pk not in shown("?status=in_force")
    assert shown("?status=in_force") == {world.consent.pk, world.tpo_consent.pk, soon.pk}
    assert shown("?status=expiring") == {soon.pk}
    assert shown("?status=revoked") == {revoked.pk}
    assert shown("?status=expired") == {expired.pk}
    assert shown("?status=void") == {void.pk}
    assert shown("?kind=tpo") == {world.tpo_consent.pk}
    assert shown("?status=in_force&kind=specific") == {world.consent.pk, soon.pk}
    assert shown("?status=bogus&kind=%00") == everyone  # unknown filters are ignored
    assert client.get(url + "?page=999").status_code == 200


# The compliance list for a compliance officer (FRAME: session, user, roles):
#   4. programs: accounts_user_programs (user.program_ids)
#   5. programs: the user's programs (each one's program day, for the status filters)
#   6. count: SELECT COUNT(*) of the filtered consents (paginator)
#   7. page: the consents of the page with participant and program, whether their
#      treatment ended and how many disclosures each has (subqueries, one query)
#   (no banner: compliance sees no safety alerts)
#   8. audit: INSERT the view event (+ CHAIN: the audit hash chain's head)
COMPLIANCE_LIST_QUERIES = FRAME + 5 + CHAIN


def grow_consents(world, total: int) -> None:
    today = world.program.today()
    while Consent.objects.filter(participant__program=world.program).count() < total:
        n = Consent.objects.count()
        person = make_participant(world.program, world.intake, last=f"Consent{n:03d}")
        services.record_consent(
            person,
            employer_consent_input(
                recipient_name=f"Employer {n}",
                expires_on=today + dt.timedelta(days=5 + n % 40),
            ),
            actor=world.counsellor,
        )


@pytest.mark.parametrize("query", ["", "?status=in_force", "?status=expiring&kind=specific"])
def test_the_compliance_list_runs_the_same_queries_with_5_and_50_consents(world, login, query):
    add_privacy(world)
    disclose_to_acme(world)
    client = login(world.compliance)
    url = reverse("privacy:consents") + query
    counts = []
    for total in (5, 50):
        grow_consents(world, total)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        assert response.context["rows"]
        sql = "\n".join(f"{i + 1}. {q['sql']}" for i, q in enumerate(ctx.captured_queries))
        counts.append((len(ctx.captured_queries), sql))
    (n5, sql5), (n50, sql50) = counts
    assert n5 == n50, f"{n5} queries with 5 consents, {n50} with 50\n{sql5}\n---\n{sql50}"
    assert n50 == COMPLIANCE_LIST_QUERIES, sql50
