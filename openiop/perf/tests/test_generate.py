"""The history generator (issue 13, point 1): shape, determinism, and the pages it feeds.

One test, on purpose: building the demo program is most of its time, so it is built
once and everything is checked on it.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from openiop.accounts.models import User
from openiop.attendance.models import Attendance, CheckIn
from openiop.demo import builder
from openiop.discharge.models import DischargeSummary
from openiop.instruments.models import InstrumentResponse
from openiop.notes.models import GroupNote, Note
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode, Participant
from openiop.perf import generate
from openiop.scheduling.models import Session
from openiop.screening.models import Result

pytestmark = pytest.mark.django_db

# The demo has 76 episodes; 224 more reach about four months back, before its ten weeks.
EPISODES, ACTIVE, SEED = 300, 30, 7


class Rollback(Exception):
    pass


def test_generate_history_shape_determinism_and_pages(client):
    builder.build()
    demo_top = Episode.objects.order_by("-pk").values_list("pk", flat=True).first()
    window = Session.objects.order_by("date").values_list("date", flat=True).first()
    # Determinism: the same seed and N give the same history. The first run is rolled
    # back (a fresh database again: the generator numbers rows from the table's top).
    lines: list[str] = []
    prints = []
    for keep in (False, True):
        try:
            with transaction.atomic():
                generate.generate(episodes=EPISODES, seed=SEED, active=ACTIVE, out=lines.append)
                prints.append(generate.fingerprint())
                if not keep:
                    raise Rollback
        except Rollback:
            pass
    assert prints[0] == prints[1]

    program_episodes = Episode.objects.all()
    assert program_episodes.count() == EPISODES
    assert program_episodes.filter(status__in=IN_CARE).count() == ACTIVE
    assert any("attendance" in line for line in lines)

    # Every generated past episode was admitted and discharged, with its records.
    generated = Episode.objects.filter(pk__gt=demo_top, discharge_date__lt=window).order_by("pk")
    assert generated.count() >= 10
    assert not Episode.objects.filter(pk__gt=demo_top, admission_date__isnull=True).exists()
    for episode in generated[:10]:
        assert episode.admission_date and episode.discharge_date
        assert episode.status in ("discharged", "alumni")
        assert episode.transitions.count() >= 6
        assert Attendance.objects.filter(episode=episode).exists()
        assert Note.objects.filter(episode=episode, format="group", status="signed").exists()
        assert Note.objects.filter(episode=episode, group_note__isnull=True).exists()
        assert Result.objects.filter(collection__order__episode_id=episode.pk).exists()
        assert InstrumentResponse.objects.filter(episode=episode, occasion="admission").exists()
        summary = DischargeSummary.objects.get(episode=episode)
        assert summary.status == "signed"
        assert summary.facts["attendance"]["sessions_attended"] == (
            Attendance.objects.filter(
                episode=episode, status__in=["present", "late", "left_early", "telehealth"]
            ).count()
        )
    # Group notes: one signed entry per attendee.
    group = GroupNote.objects.filter(session__date__lt=window).first()
    assert group is not None and group.status == "signed"
    attended = Attendance.objects.filter(
        session=group.session, status__in=["present", "late", "left_early", "telehealth"]
    ).count()
    assert group.entries.count() == attended
    assert CheckIn.objects.filter(episode__in=generated).exists()
    # Cached pointers: each participant's current episode is their latest.
    for participant in Participant.objects.order_by("-pk")[:20]:
        latest = participant.episodes.order_by("-referral_date", "-pk").first()
        assert participant.current_episode_id == latest.pk

    # A second run on the same program refuses rather than doubling the history.
    with pytest.raises(generate.HistoryExists):
        generate.Generator(episodes=EPISODES, seed=SEED, active=ACTIVE, out=print).run()

    # The pages a clinic opens all day render for a counsellor on the generated history.
    counsellor = User.objects.get(username="counsellor")
    client.force_login(counsellor)
    active = Episode.objects.filter(status="active").order_by("-pk").first()
    session = group.session
    recent = Session.objects.filter(attendance__isnull=False).order_by("-date").first()
    pages = [
        reverse("core:today"),
        reverse("participants:list") + "?q=an",
        reverse("participants:chart", args=[active.participant_id]),
        reverse("participants:chart", args=[generated.first().participant_id]),
        reverse("scheduling:calendar"),
        reverse("attendance:session", args=[session.pk]),
        reverse("attendance:session", args=[recent.pk]),
        reverse("notes_home:group", args=[session.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    # Today's screening list is the lab's page, the outcomes dashboard the director's.
    for username, url in [("lab", "screening:today"), ("director", "outcomes:dashboard")]:
        client.force_login(User.objects.get(username=username))
        assert client.get(reverse(url)).status_code == 200, url
    assert generate.fingerprint() == prints[1]  # reading pages changed nothing
