"""The history generator (issue 13, point 1): shape, determinism, and the pages it feeds.

One test, on purpose: building the demo program is most of its time, so it is built
once (its core only: program, staff, participants and their ten weeks of groups, which is
all the generator reads) and everything is checked on it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.db import transaction
from django.urls import reverse

from openiop.accounts.models import User
from openiop.accounts.services import save_security_policy
from openiop.attendance.models import Attendance, CheckIn
from openiop.core.context import request_context
from openiop.demo import builder, schedule
from openiop.discharge.models import DischargeSummary
from openiop.instruments.models import InstrumentResponse
from openiop.notes.models import GroupNote, Note
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode, Participant
from openiop.perf import generate
from openiop.programs.models import Program, Track
from openiop.scheduling.enrolment import enrolments_for_tracks, expected_episodes
from openiop.scheduling.models import Session
from openiop.screening.models import Result

pytestmark = pytest.mark.django_db

# The demo's core has 40 episodes (17 in care, on two tracks whose half-hour groups meet
# in a room of ten); 260 more reach about five months back, before its ten weeks, and a
# census of 100 (about the history's own, twelve admissions a week) needs more tracks.
EPISODES, ACTIVE, SEED = 300, 100, 7


class Rollback(Exception):
    pass


def _demo_core() -> None:
    """The demo's program, staff, participants and schedule, as `builder.build` makes them
    (its other parts, a third of the time, are not read by the generator)."""
    rng = random.Random(builder.DEMO_SEED)
    with transaction.atomic(), request_context(source="demo"):
        program, tracks = builder._program()
        staff = builder._staff(program)
        save_security_policy(roles=[], actor=None)
        today = program.today()
        builder._participants(rng, program, tracks, staff, today)
        schedule.build_schedule(rng, program, tracks, staff, today)


def test_generate_history_shape_determinism_and_pages(client):
    _demo_core()
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

    # Groups of a real size (issue 13, point 1): tracks were added, and no group session,
    # past, today or ahead, has more people enrolled than its room (or its own limit) holds.
    today = Program.objects.get().today()
    demo_tracks = set(
        Track.objects.filter(name__in=["Morning track", "Evening track"]).values_list(
            "pk", flat=True
        )
    )
    assert len(demo_tracks) == 2 and Track.objects.count() > 2
    groups = list(Session.objects.exclude(track=None).select_related("room"))
    enrolled = enrolments_for_tracks({s.track_id for s in groups}, dt.date.min, today)
    sizes = {s.pk: len(expected_episodes(s, enrolled, {})) for s in groups}
    for s in groups:
        assert sizes[s.pk] <= (s.effective_capacity or generate.GROUP_SIZE), (s, sizes[s.pk])
    assert max(sizes.values()) >= 8  # and groups are not thinned out either
    # Today's and this week's groups of the added tracks exist, with their rosters; the
    # demo's counsellor still leads groups this week and has a full share of the caseloads.
    added = [s for s in groups if s.date >= today and s.track_id not in demo_tracks]
    assert added and max(sizes[s.pk] for s in added) >= 8
    assert Session.objects.filter(
        facilitator__username="counsellor", date__gte=today - dt.timedelta(days=3)
    ).exists()
    in_care = Episode.objects.filter(status__in=IN_CARE)
    loads = Counter(in_care.values_list("primary_counsellor__username", flat=True))
    assert loads["counsellor"] >= ACTIVE // len(loads)

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
