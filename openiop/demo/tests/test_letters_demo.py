"""The demo's attendance letters: one produced under an employer consent, whose code (in
docs/user-guide/attendance-letters.md) the verification page confirms; two waiting (one
a consent covers, one none does); one declined."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from openiop.demo import builder
from openiop.letters import verify
from openiop.letters.models import LetterRequest, LetterVerification

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)
DOCS_CODE = "WA6A-SFTC-QNXF"  # printed in the user guide


def test_the_demo_has_a_letter_to_verify_and_requests_to_work_on(client):
    builder.build(today=DAY)
    assert verify.new_code(random.Random(builder.DEMO_SEED + 37)) == DOCS_CODE
    statuses = Counter(LetterRequest.objects.values_list("status", flat=True))
    assert statuses == {"produced": 1, "pending": 2, "declined": 1}
    letter = LetterVerification.objects.get()
    assert verify.find(DOCS_CODE) == letter
    assert letter.issued_on == DAY
    assert letter.days and letter.total_hours > 0
    response = client.post("/verify/", {"code": DOCS_CODE})
    assert response.status_code == 200
    assert b"This letter is genuine" in response.content
