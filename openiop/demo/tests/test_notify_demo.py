"""The demo's notifications: message choices, and an outbox with sent reminders and
digests, front-desk notices waiting, skipped messages with reasons and one failure —
none of which says anything clinical."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from openiop.demo import builder
from openiop.notify.models import Message, Preference
from openiop.notify.tests.forbidden import clinical_terms_in, participant_terms

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def test_the_demo_has_an_outbox_to_read_and_none_of_it_is_clinical():
    builder.build(today=DAY)
    assert Preference.objects.count() == 5
    kinds = Counter(Message.objects.values_list("template", "status"))
    assert kinds[("session_reminder", "sent")] > 5
    assert kinds[("session_reminder", "failed")] == 1
    assert kinds[("staff_digest", "sent")] >= 1
    assert any(status == "skipped" for _, status in kinds)
    failed = Message.objects.get(status="failed")
    assert failed.attempts == 5 and "21211" in failed.error

    opted_in = set(
        Preference.objects.filter(show_program_name=True).values_list("participant", flat=True)
    )
    terms: dict[int, list[str]] = {}
    for message in Message.objects.select_related("participant__program"):
        text = f"{message.subject}\n{message.body}"
        extra: list[str] = []
        if message.participant_id:
            own = message.participant_id in opted_in
            if message.participant_id not in terms:
                terms[message.participant_id] = participant_terms(
                    message.participant, include_program=not own
                )
            extra = terms[message.participant_id]
            if own:  # the participant chose to see the program's name
                text = text.replace(message.participant.program.name, "")
        hits = clinical_terms_in(text, extra)
        assert not hits, (message.template, hits, message.body)
