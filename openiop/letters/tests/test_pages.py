"""The letters' pages: the participant asks in the portal, staff produce (through the
consent gate: 409 with the reasons without a consent) or decline; the worklist, the chart
section and the today-board panel; query counts that do not grow with the data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.letters import services
from openiop.letters.choices import LetterStatus
from openiop.letters.models import LetterRequest
from openiop.privacy.models import Disclosure
from openiop.testing import (
    add_letter,
    add_letter_request,
    add_portal,
    add_privacy,
    make_participant,
    make_portal_user,
)

pytestmark = pytest.mark.django_db


def portal(client, world):
    add_portal(world)
    client.force_login(world.portal_participant)
    return client


def staff_form(world, **overrides):
    today = world.program.today()
    values = {
        "consent": "",
        "recipient_kind": "employer",
        "recipient_name": "Acme Logistics",
        "recipient_address": "12 Dock Road, Portland",
        "period_start": (today - dt.timedelta(days=14)).isoformat(),
        "period_end": today.isoformat(),
    }
    values.update(overrides)
    return values


# --- the portal ----------------------------------------------------------------------------------


def test_the_participant_requests_a_letter_in_the_portal(client, world):
    portal(client, world)
    page = client.get(reverse("portal_letters:new"))
    assert page.status_code == 200
    admitted = world.active.current_episode.admission_date
    assert f'value="{admitted.isoformat()}"' in page.content.decode()
    today = world.program.today()
    response = client.post(
        reverse("portal_letters:new"),
        {
            "recipient_kind": "legal",
            "recipient_name": "Officer T. Grant, County Adult Probation",
            "recipient_address": "",
            "period_start": admitted.isoformat(),
            "period_end": today.isoformat(),
            "note": "My hearing is on Friday.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal_letters:list")
    letter = LetterRequest.objects.get()
    assert (letter.status, letter.recipient_kind, letter.requested_by) == (
        LetterStatus.PENDING,
        "legal",
        world.portal_participant,
    )
    listing = client.get(reverse("portal_letters:list")).content.decode()
    assert "Officer T. Grant" in listing and "Waiting" in listing
    assert "Your request was sent." in listing


def test_a_bad_request_is_shown_again_with_its_errors(client, world):
    portal(client, world)
    response = client.post(
        reverse("portal_letters:new"),
        {"recipient_kind": "employer", "recipient_name": "", "period_start": "2026-13-01"},
    )
    assert response.status_code == 400
    assert {"recipient_name", "period_start", "period_end"} <= set(response.context["form"].errors)
    assert not LetterRequest.objects.exists()


def test_the_request_form_speaks_the_accounts_language(client, world):
    from openiop.portal.models import PortalAccount

    add_portal(world)
    PortalAccount.objects.filter(user=world.portal_participant).update(language="es")
    client.force_login(world.portal_participant)
    response = client.get(reverse("portal_letters:new"))
    assert response.status_code == 200
    assert response["Content-Language"] == "es"
    assert b'lang="es"' in response.content


def test_the_participant_downloads_a_produced_letter_and_it_is_audited(client, world):
    add_letter(world)
    portal(client, world)
    listing = client.get(reverse("portal_letters:list")).content.decode()
    pdf_url = reverse("portal_letters:pdf", args=[world.letter.pk])
    assert pdf_url in listing and "Ready" in listing
    response = client.get(pdf_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store, private"
    assert response.content == bytes(world.letter.disclosure.document)
    export = AuditEvent.objects.filter(action="export", object_type="letters.letter").get()
    assert (export.actor_id, export.participant_id) == (
        world.portal_participant.pk,
        world.active.pk,
    )


def test_a_letter_not_produced_has_no_file(client, world):
    add_letter_request(world)
    portal(client, world)
    response = client.get(reverse("portal_letters:pdf", args=[world.letter_request.pk]))
    assert response.status_code == 404


def test_another_participants_letters_are_not_found(client, world):
    add_letter(world)
    other = make_portal_user(world.referred, username="portal-referred")
    client.force_login(other)
    for name in ("portal_letters:detail", "portal_letters:pdf"):
        assert client.get(reverse(name, args=[world.letter.pk])).status_code == 404
    listing = client.get(reverse("portal_letters:list")).content.decode()
    assert "Acme Logistics" not in listing


def test_the_participant_withdraws_a_waiting_request(client, world):
    add_letter_request(world)
    portal(client, world)
    url = reverse("portal_letters:detail", args=[world.letter_request.pk])
    assert b"Withdraw this request" in client.get(url).content
    response = client.post(url, {"action": "withdraw"})
    assert response.status_code == 302
    world.letter_request.refresh_from_db()
    assert world.letter_request.status == LetterStatus.WITHDRAWN
    again = client.post(url, {"action": "withdraw"})
    assert again.status_code == 409
    assert "no longer waiting" in again.content.decode()


def test_a_declined_request_shows_the_reason_to_the_participant(client, world):
    add_letter_request(world)
    services.decline(
        world.letter_request, actor=world.counsellor, reason="Please sign a consent first."
    )
    portal(client, world)
    listing = client.get(reverse("portal_letters:list")).content.decode()
    assert "Declined" in listing and "Please sign a consent first." in listing


def test_the_letters_page_is_in_the_portal_navigation(client, world):
    portal(client, world)
    page = client.get(reverse("portal:home")).content.decode()
    assert f'href="{reverse("portal_letters:list")}"' in page


# --- staff ---------------------------------------------------------------------------------------


def test_without_consent_producing_is_refused_with_the_reasons_and_a_link(client, login, world):
    add_letter_request(world)
    login(world.counsellor)
    url = reverse("participant_letters:produce", args=[world.active.pk, world.letter_request.pk])
    response = client.post(url, staff_form(world))
    assert response.status_code == 409
    body = response.content.decode()
    assert "Refused: no consent in force covers this letter." in body
    assert "There is no consent on file for this participant." in body
    assert reverse("consents:new", args=[world.active.pk]) in body
    assert not Disclosure.objects.exists()
    world.letter_request.refresh_from_db()
    assert world.letter_request.status == LetterStatus.PENDING


def test_with_consent_the_request_is_produced(client, login, world):
    add_privacy(world)
    add_letter_request(world)
    login(world.counsellor)
    detail = reverse("participant_letters:detail", args=[world.active.pk, world.letter_request.pk])
    page = client.get(detail).content.decode()
    # The produce form starts from the request; the consent in force is offered.
    assert 'value="Acme Logistics"' in page
    assert "Acme Logistics — Employer" in page
    response = client.post(
        reverse("participant_letters:produce", args=[world.active.pk, world.letter_request.pk]),
        staff_form(world, consent=str(world.consent.pk), recipient_name=""),
    )
    assert response.status_code == 302
    assert response["Location"] == detail
    world.letter_request.refresh_from_db()
    assert world.letter_request.status == LetterStatus.PRODUCED
    page = client.get(detail).content.decode()
    assert world.letter_request.disclosure.reference in page
    assert "Open the letter (PDF)" in page
    assert "produced under the participant&#x27;s consent" in page
    again = client.post(
        reverse("participant_letters:produce", args=[world.active.pk, world.letter_request.pk]),
        staff_form(world),
    )
    assert again.status_code == 409
    assert Disclosure.objects.count() == 1


def test_a_request_is_declined_with_a_reason(client, login, world):
    add_letter_request(world)
    login(world.counsellor)
    url = reverse("participant_letters:decline", args=[world.active.pk, world.letter_request.pk])
    assert client.post(url, {"reason": "  "}).status_code == 400
    response = client.post(url, {"reason": "Pat will sign a consent first."})
    assert response.status_code == 302
    world.letter_request.refresh_from_db()
    assert world.letter_request.status == LetterStatus.DECLINED
    assert client.post(url, {"reason": "Again"}).status_code == 409


def test_a_letter_from_the_chart_without_a_request(client, login, world):
    add_privacy(world)
    login(world.counsellor)
    url = reverse("participant_letters:new", args=[world.active.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="{world.program.today().isoformat()}"' in page.content.decode()
    refused = client.post(url, staff_form(world, recipient_name="Beta Foods"))
    assert refused.status_code == 409
    assert "it names Acme Logistics, not Beta Foods" in refused.content.decode()
    response = client.post(url, staff_form(world))
    assert response.status_code == 302
    letter = LetterRequest.objects.get()
    assert response["Location"] == reverse(
        "participant_letters:detail", args=[world.active.pk, letter.pk]
    )
    assert letter.status == LetterStatus.PRODUCED
    # The letter is in the accounting of disclosures (issue 8), as every disclosure is.
    accounting = client.get(reverse("participant_privacy:accounting", args=[world.active.pk]))
    assert letter.disclosure.reference in accounting.content.decode()


def test_the_chart_shows_the_letters_and_the_button(client, login, world):
    add_letter_request(world)
    login(world.counsellor)
    chart = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    assert 'id="section-letters"' in chart
    assert reverse("participant_letters:new", args=[world.active.pk]) in chart
    assert "asked in the portal" in chart
    login(world.billing)
    chart = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    assert 'id="section-letters"' not in chart


def test_the_today_board_counts_the_requests_waiting(client, login, world):
    add_letter_request(world)
    login(world.counsellor)
    board = client.get(reverse("core:today")).content.decode()
    assert "Attendance letters to produce" in board
    assert reverse("letters:worklist") in board
    login(world.billing)
    assert "Attendance letters to produce" not in client.get(reverse("core:today")).content.decode()


def test_the_worklist_shows_waiting_requests_of_the_users_programs_only(client, login, world):
    add_letter_request(world)
    today = world.program.today()
    declined = services.request_letter(
        world.active,
        actor=world.counsellor,
        recipient_kind="other",
        recipient_name="Declined Landlord",
        period_start=today,
        period_end=today,
    )
    services.decline(declined, actor=world.counsellor, reason="Duplicate")
    services.request_letter(
        world.foreign,
        actor=world.outsider,
        recipient_kind="other",
        recipient_name="Foreign Landlord",
        period_start=world.other_program.today(),
        period_end=world.other_program.today(),
    )
    login(world.counsellor)
    body = client.get(reverse("letters:worklist")).content.decode()
    assert "Acme Logistics" in body
    assert "Declined Landlord" not in body and "Foreign Landlord" not in body


# --- query counts ---------------------------------------------------------------------------------

# letters:worklist
#   1-3. frame: session, user, roles
#   4. programs: accounts_user_programs (the visible participants)
#   5. requests: the oldest waiting requests with their participants and a window COUNT
#   6. banner: COUNT of the open safety alerts
#   7-9. audit: the view event (lock the chain head, INSERT, move the head)
WORKLIST_QUERIES = 9
# portal_letters:list
#   1-2. frame: session, user
#   3. account: the portal account with its participant, program and contact
#   4. requests: the participant's latest requests (values)
#   5-7. audit: the view event
PORTAL_LIST_QUERIES = 7


def grow(world, n: int) -> None:
    today = world.program.today()
    for i in range(n):
        person = make_participant(
            world.program,
            world.intake,
            last=f"Grown{i}",
            status="active",
            counsellor=world.counsellor,
        )
        services.request_letter(
            person,
            actor=world.counsellor,
            recipient_kind="employer",
            recipient_name=f"Employer {i}",
            period_start=today,
            period_end=today,
            via="staff",
        )


def count(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), "\n".join(f"{i + 1}. {q['sql'][:200]}" for i, q in enumerate(ctx))


def test_the_worklist_runs_the_same_queries_with_2_and_20_requests(client, login, world):
    login(world.counsellor)
    url = reverse("letters:worklist")
    grow(world, 2)
    small, _ = count(client, url)
    grow(world, 18)
    large, sql = count(client, url)
    assert small == large == WORKLIST_QUERIES, sql
    assert client.get(url).content.decode().count("Employer ") == 20


def test_the_portal_list_runs_the_same_queries_with_1_and_5_requests(client, world):
    portal(client, world)
    url = reverse("portal_letters:list")
    today = world.program.today()

    def ask(n: int) -> None:
        for i in range(n):
            letter = services.request_letter(
                world.active,
                actor=world.portal_participant,
                recipient_kind="other",
                recipient_name=f"Landlord {i}",
                period_start=today,
                period_end=today,
            )
            services.withdraw(letter, actor=world.portal_participant)

    ask(1)
    small, _ = count(client, url)
    ask(4)
    large, sql = count(client, url)
    assert small == large == PORTAL_LIST_QUERIES, sql
