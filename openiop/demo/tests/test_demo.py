from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from openiop.accounts.models import User
from openiop.demo import builder
from openiop.demo import outcomes as outcomes_demo
from openiop.participants.models import Episode, Participant
from openiop.programs.models import Track
from openiop.testing import make_program, make_user

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def snapshot():
    return sorted(
        (
            p.legal_first_name,
            p.legal_last_name,
            str(p.date_of_birth),
            p.current_episode.status,
            str(p.current_episode.referral_date),
        )
        for p in Participant.objects.select_related("current_episode")
    )


def test_demo_program_shape():
    result = builder.build(today=DAY)
    assert result.created and result.participants == 40
    statuses = Counter(Episode.objects.values_list("status", flat=True))
    assert statuses["active"] == 14 and statuses["referred"] == 5
    assert set(statuses) == {
        "referred",
        "screening",
        "assessed",
        "admitted",
        "active",
        "discharged",
        "alumni",
        "not_admitted",
        "referred_elsewhere",
    }
    tracks = {t.name: t for t in Track.objects.all()}
    morning, evening = tracks["Morning track"], tracks["Evening track"]
    assert morning.days == [0, 1, 3] and (morning.start_time, morning.end_time) == (
        dt.time(9),
        dt.time(12),
    )
    assert evening.days == [0, 2, 3] and (evening.start_time, evening.end_time) == (
        dt.time(18),
        dt.time(21),
    )
    for role in [
        "director",
        "intake",
        "counsellor",
        "supervisor",
        "lab",
        "billing",
        "compliance",
        "admin",
    ]:
        user = User.objects.get(username=role)
        assert user.check_password("openiop-demo")
        assert role in user.role_codes
    # The demo counsellor has a caseload to show.
    assert (
        Episode.objects.filter(primary_counsellor__username="counsellor", status="active").count()
        >= 3
    )
    # Privacy (issue 8): a TPO consent for everyone admitted, letters released through the
    # gate (one consent since revoked), emergency accesses reviewed and waiting.
    from openiop.privacy import gate
    from openiop.privacy.models import Consent, Disclosure, EmergencyAccess

    admitted = Participant.objects.filter(episodes__admission_date__isnull=False).distinct()
    assert Consent.objects.filter(kind="tpo").count() == admitted.count()
    # Five letters of the privacy demo and the attendance letter of the letters demo (D).
    assert Disclosure.objects.filter(channel="letter").count() == 5 + 1
    revoked = Consent.objects.exclude(revoked_at=None)
    assert revoked.count() == 1
    assert not gate.consent_status(revoked.get(), DAY)[0]
    assert EmergencyAccess.objects.filter(reviewed_at__isnull=False).count() == 1
    assert EmergencyAccess.objects.filter(reviewed_at__isnull=True).count() == 1


def schedule_snapshot():
    from openiop.attendance.models import Attendance, CheckIn

    marks = sorted(
        (a.participant.legal_last_name, a.session.title, str(a.session.starts_at), a.status)
        for a in Attendance.objects.select_related("participant", "session")
    )
    check_ins = sorted(
        (c.participant.legal_last_name, str(c.day), c.mood, c.craving, c.used)
        for c in CheckIn.objects.select_related("participant")
    )
    return marks, check_ins


def notes_snapshot():
    from openiop.notes.models import GroupNote, Note

    notes = sorted(
        (n.participant.legal_last_name, str(n.service_date), n.format, n.status, str(n.sections))
        for n in Note.objects.select_related("participant")
    )
    narratives = sorted(
        (str(g.session.starts_at), g.narrative) for g in GroupNote.objects.select_related("session")
    )
    return notes, narratives


def test_same_seed_same_program():
    """Two builds from the same seed on empty databases give identical programs."""
    from django.db import transaction

    results = []
    for _ in range(2):
        try:
            with transaction.atomic():
                builder.build(today=DAY)
                results.append((snapshot(), schedule_snapshot(), notes_snapshot()))
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert results[0] == results[1]
    assert results[0][1][0] and results[0][1][1]
    assert results[0][2][0] and results[0][2][1]


def test_running_twice_reuses_it():
    from openiop.attendance.models import Attendance
    from openiop.scheduling.models import Session

    call_command("demo")
    sessions, marks = Session.objects.count(), Attendance.objects.count()
    assert sessions > 150 and marks > 500
    call_command("demo")
    # The 40 of today's program and the year of past admissions (issue 10).
    assert Participant.objects.count() == 40 + outcomes_demo.HISTORY
    assert (Session.objects.count(), Attendance.objects.count()) == (sessions, marks)


def test_refuses_a_database_with_real_data():
    program = make_program("Real Clinic")
    make_user("realperson", ["counsellor"], [program])
    with pytest.raises(CommandError, match="Refusing"):
        call_command("demo")
    assert not Participant.objects.exists()


def test_demo_counsellor_can_sign_in_and_open_a_chart():
    builder.build()
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "counsellor", "password": "openiop-demo"}
    )
    assert response.status_code == 302
    episode = Episode.objects.filter(primary_counsellor__username="counsellor").first()
    chart = client.get(f"/participants/{episode.participant_id}/")
    assert chart.status_code == 200
    assert episode.participant.legal_last_name.encode() in chart.content
    # H1: the demo requires two-factor sign-in of no role, so the administrator and the
    # compliance officer (who must use it in a new installation) sign in with the password.
    for username in ("admin", "compliance"):
        response = Client().post(
            "/accounts/login/", {"username": username, "password": "openiop-demo"}
        )
        assert response.status_code == 302 and response["Location"] == "/", username
