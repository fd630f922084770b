"""The participant list, the chart and the today board run a fixed number of queries.

Each page is measured with 5 participants in the program and again with 50: the counts
must be equal (no query per row), and each is pinned to a number so that a new query
on these pages is a deliberate change. Failures print the SQL that ran.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.participants import services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode, Participant
from openiop.testing import World, make_participant

# Statuses cycled through when the program grows, so every kind of row is on the page.
STATUSES = [
    S.ACTIVE,
    S.REFERRED,
    S.ADMITTED,
    S.DISCHARGED,
    S.SCREENING,
    S.ALUMNI,
    S.ASSESSED,
    S.NOT_ADMITTED,
    S.REFERRED_ELSEWHERE,
]

# Queries every signed-in page runs before the view's own work.
#   1. session: the django_session row
#   2. user: the accounts_user row of the signed-in user
#   3. roles: accounts_roleassignment (user.role_codes, cached for the request)
# The page-specific comments below continue this numbering.
FRAME = 3

# participants:list (every variant: plain, ?q=, ?status=&track=&counsellor=me)
#   4. programs: accounts_user_programs (user.program_ids, cached for the request)
#   5. count: SELECT COUNT(*) of the visible, filtered participants (paginator)
#   6. page: the participants of the page, joined to program, current episode, its track
#      and its primary counsellor (one query, select_related)
#   7. audit: INSERT the view event (core_auditevent)
#   8. tracks: the filter's tracks of the user's programs, with their program
#   9. counsellors: the filter's clinical staff of the user's programs
LIST_QUERIES = FRAME + 6

# participants:chart
#   4. programs: accounts_user_programs (user.program_ids)
#   5. participant: the participant joined to program, current episode, its track,
#      primary counsellor and program (select_related)
#   6. audit: INSERT the view event (core_auditevent)
#   7. care team: the current episode's care team (episode section)
#   8. episodes: every episode of the participant with program, track, counsellor
#   9. transitions: the transitions of those episodes (prefetch_related, one query)
CHART_QUERIES = FRAME + 6

# core:today for a counsellor (panels in board order: alerts, groups today, caseload)
#   4. programs: accounts_user_programs (user.program_ids, first read by the alerts panel)
#   5. alerts: referrals waiting too long, with their participants
#   6. alerts: admissions not yet started, with their participants
#   7. groups today: the tracks of the user's programs, with their program
#   8. groups today: track ids of the active episodes on today's tracks (counted in Python)
#   9. caseload: the user's open episodes with participant, track and program
#  10. audit: INSERT the view event (core_auditevent)
TODAY_QUERIES = FRAME + 7


def grow(world: World, total: int, grown: list) -> None:
    """Add participants to `world.program` until it has `total` (various statuses).

    Every third open participant gets a care team (the counsellor on a colleague's
    participant, or a colleague on the counsellor's), so care-team rows are on the pages;
    referrals and admissions are made a week old, so the board has alerts to show.
    """
    counsellor, intake, supervisor = world.counsellor, world.intake, world.supervisor
    while world.program.participants.count() < total:
        n = len(grown)
        status = STATUSES[n % len(STATUSES)]
        primary = counsellor if n % 2 == 0 else supervisor
        participant = make_participant(
            world.program,
            intake,
            last=f"Grown{n:03d}",
            first=f"Pat{n:03d}",
            status=status,
            counsellor=primary,
            days_ago=10 + n % 20,
        )
        episode = participant.current_episode
        if n % 3 == 0 and episode.is_open:
            other = supervisor if primary == counsellor else counsellor
            services.update_episode(
                episode,
                actor=intake,
                changes={},
                care_team=[other, world.director],
                expected_version=episode.version,
            )
        if status in (S.REFERRED, S.ADMITTED):
            Episode.objects.filter(pk=episode.pk).update(
                status_date=timezone.localdate() - dt.timedelta(days=8 + n % 5)
            )
        grown.append(participant)


def measure(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    sql = "\n".join(f"{i + 1}. {q['sql']}" for i, q in enumerate(ctx.captured_queries))
    return len(ctx.captured_queries), sql


def pages(world: World, mine: Participant) -> dict[str, tuple[str, int]]:
    """The URLs measured for the counsellor, with their pinned query counts."""
    track = world.program.tracks.first()
    participants = reverse("participants:list")
    return {
        "list": (participants, LIST_QUERIES),
        # The search term comes from the session (set by posting the search form).
        "list search": (participants + "?search=1", LIST_QUERIES),
        "list filters": (
            participants + f"?status=active&track={track.pk}&counsellor=me",
            LIST_QUERIES,
        ),
        "list open page 1": (participants + "?status=open&page=1", LIST_QUERIES),
        # A chart with an admission, transitions and a care team.
        "chart": (reverse("participants:chart", kwargs={"pk": world.active.pk}), CHART_QUERIES),
        "chart of a grown participant": (
            reverse("participants:chart", kwargs={"pk": mine.pk}),
            CHART_QUERIES,
        ),
        "today": (reverse("core:today"), TODAY_QUERIES),
    }


@pytest.mark.parametrize("narrowed", [False, True], ids=["whole-program", "care-team-only"])
def test_pages_run_the_same_queries_with_5_and_50_participants(world, login, narrowed):
    # Every track meets every day, so "groups meeting today" runs its count query on any
    # weekday (with no track meeting today it would skip it and the count would differ).
    world.program.tracks.update(days=list(range(7)))
    if narrowed:
        # Counsellors see only their care teams: the list and board add an EXISTS
        # subquery, not a query per participant.
        world.program.counsellors_see_care_team_only = True
        world.program.save(update_fields=["counsellors_see_care_team_only"])
    # The counsellor is world.active's primary counsellor; add a colleague to its care team.
    active_ep = world.active.current_episode
    services.update_episode(
        active_ep,
        actor=world.intake,
        changes={},
        care_team=[world.supervisor],
        expected_version=active_ep.version,
    )
    client = login(world.counsellor)
    # Post the search once: later GETs of ?search=1 read it from the session.
    assert client.post(reverse("participants:list"), {"q": "Grown Pat"}).status_code == 302
    grown: list = []

    grow(world, 5, grown)
    # A participant the counsellor is primary for (visible even when narrowed).
    mine = next(p for p in grown if p.current_episode.primary_counsellor_id == world.counsellor.pk)
    urls = pages(world, mine)
    small = {name: measure(client, url) for name, (url, _) in urls.items()}

    grow(world, 50, grown)
    assert world.program.participants.count() == 50
    large = {name: measure(client, url) for name, (url, _) in urls.items()}

    for name, (_url, pinned) in urls.items():
        (n5, sql5), (n50, sql50) = small[name], large[name]
        assert n5 == n50, (
            f"{name}: {n5} queries with 5 participants but {n50} with 50\n"
            f"--- with 5:\n{sql5}\n--- with 50:\n{sql50}"
        )
        assert n50 == pinned, f"{name}: expected {pinned} queries, ran {n50}:\n{sql50}"

    # What was measured is the full page, not an empty one.
    board = client.get(urls["today"][0]).content.decode()
    assert "not yet attending" in board
    # Referrals have no counsellor yet: narrowed to care teams, the counsellor sees none.
    assert ("Referral waiting" in board) is not narrowed
    assert "Grown000" in board  # on the counsellor's caseload (primary, active)
    chart = client.get(urls["chart"][0]).content.decode()
    assert "No episodes yet" not in chart
    assert "Supervisor Tester" in chart  # the care team of world.active


def test_the_list_shows_every_row_it_counted(world, login):
    """Sanity for the measurement above: 50 participants fit on one page of the list."""
    grow(world, 50, [])
    client = login(world.counsellor)
    response = client.get(reverse("participants:list"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.count == 50
