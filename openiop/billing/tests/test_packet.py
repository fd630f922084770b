"""The concurrent-review packet (issue 11, point 5): what it shows, the consent gate, the
disclosure it records and the packet kept."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.urls import reverse

from openiop.billing import packet as packets
from openiop.billing.models import Authorisation, ReviewPacket
from openiop.core.models import AuditEvent
from openiop.core.pdf import pdf_text
from openiop.privacy.choices import Purpose
from openiop.privacy.models import Consent, Disclosure
from openiop.testing import add_outcome_attendance, add_outcome_session, add_review_packet_story


@pytest.fixture
def story(world):
    add_review_packet_story(world)
    return world


def test_weeks_count_hours_against_the_weekly_minimum(story):
    episode = story.active.current_episode
    # A fixed Monday-to-Sunday fortnight, well before anything else in the world.
    monday = dt.date(2020, 3, 2)
    for offset in (0, 2, 4):  # three 3-hour days: 9 hours, the 2.1 minimum
        add_outcome_attendance(
            add_outcome_session(story.program, monday + dt.timedelta(offset)), episode, "present"
        )
    add_outcome_attendance(
        add_outcome_session(story.program, monday + dt.timedelta(7)), episode, "present"
    )
    add_outcome_attendance(
        add_outcome_session(story.program, monday + dt.timedelta(9)), episode, "absent_unexcused"
    )
    rows = packets.weeks(episode, monday, monday + dt.timedelta(days=13), Decimal("9"))
    assert [(r["days"], r["sessions"], r["missed"], r["hours"], r["meets"]) for r in rows] == [
        (3, 3, 0, Decimal("9.0"), True),
        (1, 1, 1, Decimal("3.0"), False),
    ]
    assert [r["partial"] for r in rows] == [False, False]
    # Starting on a Wednesday: the first week is partial and starts that day.
    part = packets.weeks(episode, monday + dt.timedelta(2), monday + dt.timedelta(6), Decimal("9"))
    assert len(part) == 1 and part[0]["partial"] and part[0]["start"] == monday + dt.timedelta(2)
    assert part[0]["hours"] == Decimal("6.0")


def test_assemble_puts_ratings_then_and_now_side_by_side(story):
    facts = packets.assemble(story.authorisation, today=story.program.today())
    rows = facts["asam"]["rows"]
    assert [(r["then"], r["now"], r["change"]) for r in rows] == [
        (2, 1, -1),
        (1, 0, -1),
        (2, 1, -1),
        (2, 1, -1),
        (3, 2, -1),
        (2, 1, -1),
    ]
    assert facts["asam"]["has_now"]
    assert facts["used"] == 1 and facts["remaining"] == 19  # world.session's day
    assert facts["screens"][0]["result"] == "Negative"
    assert facts["screens"][1]["result"].startswith("Unexpected positive: ")
    assert facts["relapse_plan"] is not None and facts["relapse_plan"]["number"] == 1
    assert [d["code"] for d in facts["diagnoses"]] == ["F10.20"]
    codes = {i["code"] for i in facts["instruments"]}
    assert {"PHQ-9", "GAD-7"} <= codes


def test_the_page_previews_and_the_post_makes_the_pdf(story, login):
    client = login(story.billing)
    url = reverse("coverage:packet", args=[story.active.pk, story.authorisation.pk])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-gate="allowed"' in body and "Make the packet" in body

    response = client.post(url, {"version": story.authorisation.version})
    assert response.status_code == 302
    made = ReviewPacket.objects.get(authorisation=story.authorisation)
    assert response["Location"] == reverse("coverage:packet_pdf", args=[story.active.pk, made.pk])
    disclosure = made.disclosure
    data = bytes(disclosure.document)
    assert made.sha256 == hashlib.sha256(data).hexdigest() == disclosure.document_sha256
    assert disclosure.recipient_name == "Harbor Health Plan"
    assert disclosure.purpose == Purpose.PAYMENT and disclosure.channel == "export"
    assert set(disclosure.information) == {
        "enrolment",
        "attendance",
        "diagnosis",
        "assessment",
        "screening",
        "plan",
    }
    text = " ".join(pdf_text(data).split())
    # ASAM ratings then and now, dimension 5: 3 at admission, 2 now.
    assert "5. Relapse, Continued Use, or Continued Problem Potential 3 2 -1" in text
    assert "Minimum met" in text and "Program minimum: 9.0 hours a week" in text
    assert "Negative" in text and "Unexpected positive" in text
    assert "AUTH-1001" in text and "HHP123456" in text
    assert "42 CFR part 2" in text  # the §2.32 notice
    assert AuditEvent.objects.filter(
        actor=story.billing, action="create", object_type="billing.reviewpacket"
    ).exists()
    assert AuditEvent.objects.filter(actor=story.billing, action="disclose").exists()

    download = client.get(response["Location"])
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert bytes(download.content) == data
    assert AuditEvent.objects.filter(actor=story.billing, action="export").exists()


def test_refused_without_a_consent(story, login):
    Consent.objects.filter(participant=story.active).update(voided=True)
    client = login(story.billing)
    url = reverse("coverage:packet", args=[story.active.pk, story.authorisation.pk])
    assert 'data-gate="refused"' in client.get(url).content.decode()
    before = Disclosure.objects.count()
    response = client.post(url, {"version": story.authorisation.version})
    assert response.status_code == 409
    assert "consent gate refused" in response.content.decode()
    assert Disclosure.objects.count() == before
    assert not ReviewPacket.objects.exists()
    assert AuditEvent.objects.filter(actor=story.billing, action="disclose_refused").exists()


def test_a_stale_page_is_refused(story, login):
    client = login(story.billing)
    Authorisation.objects.filter(pk=story.authorisation.pk).update(version=5)
    url = reverse("coverage:packet", args=[story.active.pk, story.authorisation.pk])
    response = client.post(url, {"version": 1})
    assert response.status_code == 409
    assert "changed since the page was shown" in response.content.decode()
    assert not ReviewPacket.objects.exists()


def test_bad_input_and_other_participants(story, login):
    client = login(story.billing)
    url = reverse("coverage:packet", args=[story.active.pk, story.authorisation.pk])
    assert client.post(url, {"version": "abc"}).status_code == 400
    assert client.post(url, {"version": "1\x00"}).status_code == 400
    # The authorisation of world.active asked through another participant: 404.
    other = reverse("coverage:packet", args=[story.referred.pk, story.authorisation.pk])
    assert client.get(other).status_code == 404
    outsider = login(story.outsider)
    assert outsider.get(url).status_code == 404
    assert not ReviewPacket.objects.exists()
