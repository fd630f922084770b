"""The busiest pages run a fixed number of queries, whatever the size of the program.

The participant list, the chart and the today board are measured with 5 participants in
the program and again with 50; the intake board, the due list, the measures page and
the intake coordinator's today board with 5 referrals grown through the intake and
instrument services (every pipeline column filled) and again with 50. The counts must
be equal (no query per row), and each is pinned to a number so that a new query on these
pages is a deliberate change. Failures print the SQL that ran.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.instruments.models import Occasion
from openiop.intake import services as intake_services
from openiop.intake.choices import ContactOutcome, Outcome
from openiop.intake.models import Referral
from openiop.participants import services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode, Participant
from openiop.testing import (
    World,
    admit,
    assess,
    give,
    log_contact,
    make_participant,
    prescreen,
    refer,
)

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
# Every page drawn with the base layout, except the today board and the alert page (which
# show the alerts themselves), renders the safety banner of the banners context
# processor: one COUNT of the open safety alerts the user is to see (instruments.safety;
# over a DISTINCT subquery on the alert's episode and care team, except for directors and
# supervisors, who see them all). Listed as "banner" below. Pages audited by `staff_view`
# (audit_page) write their view event after rendering, so after the banner.
# Each audit event (an "audit" line below) is three queries since the audit log became a
# hash chain (core.audit.record, issue 8): lock the chain head (SELECT … FOR UPDATE),
# INSERT the event, move the head. CHAIN counts the two besides the INSERT.
CHAIN = 2

# participants:list (every variant: plain, ?q=, ?status=&track=&counsellor=me)
#   4. programs: accounts_user_programs (user.program_ids, cached for the request)
#   5. count: SELECT COUNT(*) of the visible, filtered participants (paginator)
#   6. page: the participants of the page, joined to program, current episode, its track
#      and its primary counsellor (one query, select_related)
#   7. audit: INSERT the view event (core_auditevent)
#   8. banner: COUNT of the open safety alerts (rendered with the page's header)
#   9. tracks: the filter's tracks of the user's programs, with their program
#  10. counsellors: the filter's clinical staff of the user's programs
LIST_QUERIES = FRAME + 7 + CHAIN

# participants:chart (sections in chart order: episode, intake, contacts, attendance,
# consents, schedule, treatment plan, curriculum, notes, relapse-prevention plan,
# measures, amendments, history)
#   4. programs: accounts_user_programs (user.program_ids)
#   5. participant: the participant joined to program, current episode, its track,
#      primary counsellor and program (select_related)
#   6. audit: INSERT the view event (core_auditevent)
#   7. care team: the current episode's care team (episode section)
#   8. intake: the current episode's referral with its intake worker
#   9. intake: its latest pre-admission screen
#  10. intake: its latest signed ASAM assessment
#  11. intake: its diagnoses
#  12. intake: its admission record (consents)
#  13. contacts: the participant's active contacts
#  14. attendance: every attendance mark of the episode (hours, rate, absences in Python)
#  15. attendance: the episode's enrolments overlapping the last 8 weeks, with tracks
#  16. attendance: the program's closures in those weeks (prorated minimums)
#  17. attendance: the 12 latest marks with their sessions and topics
#  18. attendance: the latest 60 check-ins (trend charts)
#  19. attendance: the episode's open engagement alerts
#  20. consents: the participant's consents, with whether treatment ended and their
#      disclosure counts (privacy, H6; one query)
#  21. schedule: the participant's enrolments (track history)
#  22. schedule: the episode's enrolments in the next 14 days
#  23. schedule: its bookings in the next 14 days
#  24. schedule: the sessions of those tracks and bookings (one query)
#  25. schedule: the participant's active calendar link
#  26. treatment plan: the episode's signed plan and open draft
#  27. treatment plan: the roles that signed the plan (runs, matching nothing, without one)
#  28. treatment plan: its active goals with a COUNT of their objectives
#  29. curriculum: the track's own curriculum order
#  30. curriculum: the program's topics (no own order)
#  31. curriculum: the topics of the sessions the episode has a mark at
#  32. curriculum: its topics given as individual work
#      (+ the next run of each missed topic, one query, when a topic was missed)
#  33. notes: the participant's latest notes with author and session
#  34. relapse: the episode's signed plan and open draft
#  35. relapse: the support people of the signed plan, with their contacts
#  36. measures: every instrument response of the participant (scores only), trends
#      and reliable change computed in Python
#  37. measures: the participant's open safety alerts
#  38. drug screens: the participant's orders with panel and specimen
#  39. drug screens: their results with analyte and explaining medication
#  40. drug screens: the participant's reviews (clinical readers)
#  41. drug screens: the check-ins that reported use (clinical readers)
#  42. amendments: the participant's latest amendment requests (privacy, H5)
#  43. history: every episode of the participant with program, track, counsellor
#  44. history: the transitions of those episodes (prefetch_related, one query)
#  45. banner: COUNT of the open safety alerts
#  D (issue 9), attendance letters: +1, the participant's latest letter requests with
#      their letters (records.disclose holders; after the consents section)
#  C (issue 9), messages: +1, the participant's notification preferences (one more,
#      the latest messages, for outbox readers: messages.view)
#  A (issue 9), portal: +2, the participant's portal accounts (with user, contact and who
#      ended them); their latest invitations (with contact and maker) (portal.invite
#      holders)
#  B (issue 9), family: +5 (family.manage holders), the participant's contacts; their
#      consents and whether treatment ended (family.access.decisions_for, two queries for
#      any number of contacts); the family portal accounts; the next family invitation
#  H4 (issue 10), state reporting (TEDS): +1, the episode's TEDS admission items
#      (clinical.view holders, admitted episodes; after the intake section)
#  Issue 10, discharge: +0 for an episode in care (the section reads the episode's
#      status; one query, the discharge with its summary, once discharged)
#  Issue 10, aftercare plan: +1, the episode's plan with its referral count and next
#      appointment (clinical.view holders; episodes in care or discharged)
#  Issue 10, alumni: +2, the participant's follow-ups with their discharge; the alumni
#      events they came to (clinical.view holders; run for everyone, shown when any)
#  Issue 11, coverage: +3, the program's billing profile; the participant's coverages
#      with their payers; their authorisations in force or ahead (coverage.view holders;
#      three more, counting the units used, once an authorisation is in force or ahead)
CHART_QUERIES = FRAME + 42 + 1 + 1 + 2 + 5 + 1 + 1 + 2 + 3 + CHAIN  # +3 coverage section
# A participant without contacts: the family section stops after its first query.
CHART_QUERIES_NO_CONTACTS = CHART_QUERIES - 4

# core:today for a counsellor (panels in board order: safety alerts, alerts, attendance
# and check-in alerts, my unsigned notes, plan reviews due, screens to review, sessions
# today, caseload, instruments due; the referral pipeline is an intake coordinator's)
#   4. programs: accounts_user_programs (user.program_ids, first read by the safety panel)
#   5. safety alerts: the open alerts the user is to see, with their participants
#   6. alerts: referrals waiting too long, with their participants
#   7. alerts: admissions not yet started, with their participants
#   8. engagement alerts: open attendance and check-in alerts of the user's caseload
#   9. my unsigned notes: the user's drafts with participant and session
#  10. plan reviews due: the user's programs
#  11. plan reviews due: the caseload's signed plans due within a week, with participant,
#      episode and counsellor, and whether a new version is in progress (EXISTS)
#  12. screens to review: the user's first open reviews, with a window COUNT of them all
#  13. sessions today: the user's programs (each program's today in its time zone)
#  14. sessions today: today's sessions the user facilitates, with their attendance count
#  15. sessions today: enrolments on those sessions' tracks today (expected, in Python)
#  16. sessions today: bookings into those sessions
#  17. caseload: the user's open episodes with participant, track and program
#  18. caseload hours: this week's attendance marks of those episodes
#  19. caseload hours: their enrolments this week, with tracks (prorated minimum)
#  20. caseload hours: the programs' closures this week
#  21. instruments due: the user's episodes in care (primary or care team), with
#      participant and program
#  22. instruments due: the programs' instrument settings (defaults filled in Python)
#  23. instruments due: the latest administration per episode and instrument (GROUP BY)
#  24. audit: INSERT the view event (core_auditevent)
#  D (issue 9), attendance letters to produce: +1, the oldest requests waiting with a
#      window COUNT (records.disclose holders)
# No banner: the board shows the safety alerts in full.
#  Issue 10, discharge summaries to sign: +1, the drafts of the user's caseload with
#      participant and discharge (discharge.write holders)
#  Issue 10, follow-up calls due: +1, COUNT of the user's pending follow-ups due within a
#      week (alumni.follow_up holders)
#  Issue 11, authorisations running out: +1, the live authorisations of the participants
#      the user may see (none here: no billing; coverage.view holders)
TODAY_QUERIES = FRAME + 21 + 1 + 1 + 1 + 1 + CHAIN


def today_session(world: World) -> None:
    from openiop.scheduling import services as schedule

    program = world.program
    schedule.create_session(
        schedule.SessionInput(
            program=program,
            session_type=program.session_types.get(name="Process group"),
            kind="group",
            title="Afternoon group",
            day=program.today(),
            start=dt.time(13),
            end=dt.time(14),
            facilitator=world.counsellor,
            room=program.site.rooms.get(name="Group Room"),
            track=program.tracks.get(name="Morning"),
        ),
        actor=world.director,
    )


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
            CHART_QUERIES_NO_CONTACTS,
        ),
        "today": (reverse("core:today"), TODAY_QUERIES),
    }


@pytest.mark.parametrize("narrowed", [False, True], ids=["whole-program", "care-team-only"])
def test_pages_run_the_same_queries_with_5_and_50_participants(world, login, narrowed):
    # A Morning group the counsellor facilitates today, whatever the weekday, so "sessions
    # today" runs its roster queries (with no session today it would skip them).
    today_session(world)
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


# --- intake board, due list, measures -------------------------------------------------------

# What each grown referral becomes, in this order: the first five fill the board's columns
# the world leaves empty (world.referred is New, world.screening and world.assessed are
# Screening and Assessed), so the pages measured at 5 show every kind of card and row.
PIPELINE = [
    "admitted",  # admitted two days ago: the Admitted column; due at admission
    "not_admitted",  # closed as not admitted (reason given): the Closed column
    "contacting",  # contact attempts, not yet screened
    # Screened: thoughts of suicide and a 24-hour psychiatric need (an open safety alert
    # on an episode without a counsellor: the intake staff's), then referred elsewhere.
    "referred_elsewhere",
    "active",  # admitted 17 days ago, attending, measured three times; some with alerts
    "new",  # just referred
    "screening",  # contacted and screened; every other one with a flag pointing away
    "assessed",  # screened, signed assessment
]


def grow_pipeline(world: World, total: int, grown: list) -> None:
    """Add referrals until `total` have been grown, each through the intake service and,
    once admitted, given instruments through the instrument service."""
    program, intake = world.program, world.intake
    today = program.today()

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    while len(grown) < total:
        n = len(grown)
        kind = PIPELINE[n % len(PIPELINE)]
        counsellor = world.counsellor if n % 2 == 0 else world.supervisor
        days_ago = 25 if kind in ("admitted", "active") else 3 + n % 9
        p = refer(program, intake, last=f"Pipe{n:03d}", first=kind.title(), days_ago=days_ago)
        if kind != "new":
            log_contact(p, intake, outcome=ContactOutcome.NO_ANSWER)
        if kind in ("contacting", "screening", "assessed", "admitted", "active"):
            log_contact(p, intake, outcome=ContactOutcome.SCHEDULED)
        if kind in ("screening", "assessed", "admitted", "active"):
            flagged = n // len(PIPELINE) % 2 and kind == "screening"
            answers = {"withdrawal_now": "yes"} if flagged else {}
            prescreen(p, intake, day=ago(days_ago - 1), **answers)
        if kind == "referred_elsewhere":
            prescreen(p, intake, day=today, suicidal="yes", needs_24h_psychiatric="yes")
        if kind in ("assessed", "admitted", "active"):
            assess(p, counsellor, day=ago(days_ago - 2))
        if kind in ("admitted", "active"):
            admitted_on = ago(2 if kind == "admitted" else 17)
            admit(Participant.objects.get(pk=p.pk), intake, day=admitted_on, counsellor=counsellor)
            p.refresh_from_db()
            give(
                p,
                counsellor,
                "PHQ-9",
                [2, 2, 1, 1, 2, 1, 1, 1, 0],
                day=admitted_on,
                occasion=Occasion.ADMISSION,
            )
        if kind == "active":
            services.transition_episode(
                p.current_episode, S.ACTIVE, actor=counsellor, effective_date=ago(16)
            )
            give(p, counsellor, "GAD-7", [1, 1, 1, 1, 1, 1, 1], day=ago(16))
            item9 = 1 if n % 3 == 1 else 0  # some answer item 9: an open safety alert
            give(p, counsellor, "PHQ-9", [1, 1, 1, 0, 1, 0, 0, 1, item9], day=ago(2))
        if kind in ("not_admitted", "referred_elsewhere"):
            intake_services.close_referral(
                Referral.objects.get(episode_id=p.current_episode_id),
                actor=intake,
                outcome=Outcome.NOT_ADMITTED if kind == "not_admitted" else kind,
                effective_date=today,
                reason_code="declined" if kind == "not_admitted" else "",
                referred_to="" if kind == "not_admitted" else "County Crisis Unit",
                note="" if kind == "not_admitted" else "Needs 24-hour psychiatric care first.",
            )
        p.refresh_from_db()
        grown.append(p)


def more_history(participant: Participant, actor, times: int) -> None:
    """Give the measured participant's instruments again (a longer history per trend)."""
    program = participant.program
    for i in range(times):
        day = program.today() - dt.timedelta(days=20 - i % 20)
        give(participant, actor, "PHQ-9", [i % 4, 1, 1, 1, 1, 0, 0, 0, 0], day=day)
        give(participant, actor, "GAD-7", [1, i % 4, 1, 1, 1, 0, 0], day=day)
        give(participant, actor, "AUDIT-C", [i % 5, 1, 0], day=day, occasion=Occasion.AD_HOC)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# intake:board (intake coordinator; the same with ?mine=1)
#   4. programs: accounts_user_programs (visible_participants)
#   5. cards: the open referrals, recent admissions and recent closures, each with its
#      participant, referral and intake worker, its contact-attempt count and latest
#      attempt, and whether a screen flagged it (one query: joins, aggregates, EXISTS)
#   6. time to admission: days from referral to admission of the last 90 days' admissions
#   7. banner: COUNT of the open safety alerts
#   8. audit: INSERT the view event (core_auditevent)
BOARD_QUERIES = FRAME + 5 + CHAIN

# instruments:due for a counsellor (their caseload: primary or care team)
#   4. programs: accounts_user_programs (visible_participants)
#   5. episodes: the user's episodes in care with participant, program and counsellor
#   6. settings: the programs' instrument settings (defaults filled in Python)
#   7. latest: the latest administration per episode and instrument (GROUP BY)
#   8. banner: COUNT of the open safety alerts
#   9. audit: INSERT the view event (core_auditevent)
DUE_QUERIES = FRAME + 6 + CHAIN
# ... for a supervisor (every episode in care, or one counsellor's): as above, plus
#   the counsellor filter's clinical staff of the user's programs (between 7 and 8)
DUE_OVERSEEING_QUERIES = FRAME + 7 + CHAIN

# measures:list (a participant in care, with instrument histories and alerts)
#   4. programs: accounts_user_programs (visible_participants)
#   5. participant: the participant (in the user's scope)
#   6. audit: INSERT the view event (core_auditevent)
#   7. responses: every response of the participant (trends, charts and reliable change
#      computed in Python)
#   8. alerts: the participant's safety alerts (the latest 20)
#   9. episode: participant.current_episode, to see whether it is in care
#  10. due: that episode again, with program and participant (select_related)
#  11. due: the program's instrument settings
#  12. due: the latest administration per instrument of the episode (GROUP BY)
#  13. banner: COUNT of the open safety alerts
MEASURES_QUERIES = FRAME + 10 + CHAIN

# core:today for an intake coordinator (panels: safety alerts, alerts, groups today,
# referral pipeline, caseload, instruments due)
#   4-9. as for a counsellor: programs, safety alerts, the two alerts, groups today
#  10. pipeline: COUNT of the open referrals per status (GROUP BY)
#  11. caseload: the user's open episodes
#  12. instruments due: the user's episodes in care: none (intake staff have no
#      caseload in care), so the settings and latest-administration queries do not run
#  13. audit: INSERT the view event (core_auditevent)
#  D (issue 9), attendance letters to produce: +1 (as for a counsellor)
#  Issue 10, follow-up calls due: +1 (intake calls alumni: alumni.follow_up)
#  Issue 11, authorisations running out: +1 (as for a counsellor: coverage.view)
TODAY_INTAKE_QUERIES = FRAME + 10 + 1 + 1 + 1 + CHAIN


@pytest.mark.parametrize("narrowed", [False, True], ids=["whole-program", "care-team-only"])
def test_intake_and_measures_pages_run_the_same_queries_with_5_and_50_referrals(world, narrowed):
    world.program.tracks.update(days=list(range(7)))
    if narrowed:
        world.program.counsellors_see_care_team_only = True
        world.program.save(update_fields=["counsellors_see_care_team_only"])
    intake = client_for(world.intake)
    counsellor = client_for(world.counsellor)
    supervisor = client_for(world.supervisor)
    grown: list = []
    grow_pipeline(world, 5, grown)
    admitted = next(p for p in grown if p.legal_first_name == "Admitted")
    active = next(p for p in grown if p.legal_first_name == "Active")
    urls = {
        "intake board": (intake, reverse("intake:board"), BOARD_QUERIES),
        "intake board, mine": (intake, reverse("intake:board") + "?mine=1", BOARD_QUERIES),
        "due (counsellor)": (counsellor, reverse("instruments:due"), DUE_QUERIES),
        "due (supervisor, all)": (
            supervisor,
            reverse("instruments:due") + "?counsellor=all",
            DUE_OVERSEEING_QUERIES,
        ),
        "due (supervisor, one counsellor)": (
            supervisor,
            reverse("instruments:due") + f"?counsellor={world.counsellor.pk}",
            DUE_OVERSEEING_QUERIES,
        ),
        "measures": (
            counsellor,
            reverse("measures:list", args=[world.active.pk]),
            MEASURES_QUERIES,
        ),
        "measures of a grown participant": (
            supervisor,
            reverse("measures:list", args=[active.pk]),
            MEASURES_QUERIES,
        ),
        "chart of a participant admitted through intake": (
            supervisor,
            reverse("participants:chart", args=[admitted.pk]),
            CHART_QUERIES_NO_CONTACTS,
        ),
        "today (intake coordinator)": (intake, reverse("core:today"), TODAY_INTAKE_QUERIES),
    }
    small = {name: measure(c, url) for name, (c, url, _) in urls.items()}

    grow_pipeline(world, 50, grown)
    more_history(world.active, world.counsellor, 15)
    more_history(active, world.supervisor, 15)
    large = {name: measure(c, url) for name, (c, url, _) in urls.items()}

    for name, (_c, _url, pinned) in urls.items():
        (n5, sql5), (n50, sql50) = small[name], large[name]
        assert n5 == n50, (
            f"{name}: {n5} queries with 5 referrals but {n50} with 50\n"
            f"--- with 5:\n{sql5}\n--- with 50:\n{sql50}"
        )
        assert n50 == pinned, f"{name}: expected {pinned} queries, ran {n50}:\n{sql50}"

    # What was measured is the full page, not an empty one.
    board = intake.get(reverse("intake:board")).context["columns"]
    assert all(len(column["cards"]) >= 2 for column in board), [
        (c["key"], len(c["cards"])) for c in board
    ]
    due = counsellor.get(reverse("instruments:due")).context["items"]
    assert {d.state for d in due} >= {"overdue", "due"}
    measures = counsellor.get(reverse("measures:list", args=[world.active.pk])).context
    assert {t["definition"].code for t in measures["trends"]} == {"PHQ-9", "GAD-7", "AUDIT-C"}
    assert measures["alerts"] and measures["due"]
    chart = supervisor.get(reverse("participants:chart", args=[admitted.pk])).content.decode()
    assert "F10.20" in chart and "Treatment consent signed" in chart
    today = intake.get(reverse("core:today")).content.decode()
    assert "panel-pipeline" in today and "panel-safety" in today


# --- schedule: calendar week, roster, today board -------------------------------------------

# scheduling:calendar (week view)
#   4. programs: the user's programs with their sites (the program picker)
#   5. programs: accounts_user_programs (user.program_ids)
#   6. sessions: the week's sessions with track, facilitator, room, topic, type, and a
#      COUNT of attendance marks each (annotate)
#   7. enrolments: on those sessions' tracks overlapping the week (expected, in Python)
#   8. bookings: into those sessions
#   9. closures: the program's closures in the week
#  10. banner: COUNT of the open safety alerts
#  11. filters: the program's tracks
#  12. filters: the program's clinical staff (facilitators)
#  13. filters: the site's rooms
#  14. audit: INSERT the view event
CALENDAR_QUERIES = FRAME + 11 + CHAIN

# attendance:session (the roster)
#   4. programs: accounts_user_programs (user.program_ids)
#   5. session: with program, site, track, room, facilitator, topic, type, taker
#   6. roster: enrolments on the track that day, with episode, participant, counsellor
#   7. roster: bookings into the session
#   8. roster: the attendance marks of the session with their episodes
#   9. audit: INSERT the view event
#  10. banner: COUNT of the open safety alerts
#  11. walk-in choices: the participants in care not on the roster
#  12. book-in choices: the same, for the make-up form
#  13. topic choices: the program's topics
ROSTER_QUERIES = FRAME + 10 + CHAIN


def grow_schedule(world: World, extra_people: int) -> None:
    """More participants on the Morning track (marked at the last session) and a second
    set of sessions (the Evening track's template, generated for the weeks around)."""
    from openiop.attendance import services as attendance_services
    from openiop.scheduling import services as schedule
    from openiop.scheduling.models import TemplateSlot

    program = world.program
    for i in range(extra_people):
        make_participant(
            program,
            world.intake,
            last=f"Roster{i:03d}",
            status=S.ACTIVE,
            counsellor=world.counsellor,
            days_ago=40,
        )
    attendance_services.mark_all_present(world.session, actor=world.counsellor)
    evening = program.tracks.get(name="Evening")
    if not TemplateSlot.objects.filter(track=evening).exists():
        for weekday in evening.days:
            TemplateSlot.objects.create(
                track=evening,
                weekday=weekday,
                start_time=dt.time(18),
                end_time=dt.time(21),
                session_type=program.session_types.get(name="Process group"),
                facilitator=world.supervisor,
                room=program.site.rooms.get(name="Group Room"),
                uses_curriculum=True,
            )
        today = program.today()
        schedule.generate(
            evening,
            today - dt.timedelta(days=14),
            today + dt.timedelta(days=7),
            actor=world.director,
        )


def test_schedule_pages_run_the_same_queries_as_sessions_and_people_grow(world, login):
    today_session(world)
    client = login(world.counsellor)
    week = world.session.date.isoformat()
    urls = {
        "calendar week": (
            reverse("scheduling:calendar") + f"?program={world.program.pk}&date={week}",
            CALENDAR_QUERIES,
        ),
        "calendar week, filtered": (
            reverse("scheduling:calendar")
            + f"?program={world.program.pk}&date={week}&room="
            + str(world.program.site.rooms.first().pk),
            CALENDAR_QUERIES,
        ),
        "roster": (reverse("attendance:session", args=[world.session.pk]), ROSTER_QUERIES),
        "today": (reverse("core:today"), TODAY_QUERIES),
    }
    small = {name: measure(client, url) for name, (url, _) in urls.items()}
    small_roster = client.get(urls["roster"][0]).context["expected"]
    grow_schedule(world, 14)
    large = {name: measure(client, url) for name, (url, _) in urls.items()}
    assert client.get(urls["roster"][0]).context["expected"] == small_roster + 14
    calendar = client.get(urls["calendar week"][0]).context
    assert calendar["count"] > 3  # the Evening sessions are on it too
    for name, (_url, pinned) in urls.items():
        (n_small, sql_small), (n_large, sql_large) = small[name], large[name]
        assert n_small == n_large, (
            f"{name}: {n_small} queries before growing but {n_large} after\n"
            f"--- before:\n{sql_small}\n--- after:\n{sql_large}"
        )
        assert n_large == pinned, f"{name}: expected {pinned} queries, ran {n_large}:\n{sql_large}"


# notes_home:unsigned (a counsellor: drafts and notes waiting for a co-signature)
#   4. programs: accounts_user_programs (visible participants)
#   5. my drafts, with participant, author and session
#   6. my signed notes waiting for a co-signature
#   7. the user's programs (for the plan reviews)
#   8. my caseload's plan reviews due, with participant, episode, counsellor and whether a
#      new version is in progress (EXISTS)
#   9. banner: COUNT of the open safety alerts
#  10. audit: INSERT the view event
UNSIGNED_QUERIES = FRAME + 7 + CHAIN


def test_the_unsigned_work_list_runs_the_same_queries_with_3_and_12_drafts(world, login):
    from openiop.notes import services as notes

    episode = world.active.current_episode
    today = world.program.today()

    def drafts(total: int) -> None:
        from openiop.notes.models import Note

        while Note.objects.filter(author=world.counsellor, status="draft").count() < total:
            n = Note.objects.filter(author=world.counsellor).count()
            notes.start_note(
                episode,
                actor=world.counsellor,
                fmt=["dap", "birp", "soap"][n % 3],
                service_date=today - dt.timedelta(days=n % 20),
                minutes=50,
            )

    client = login(world.counsellor)
    url = reverse("notes_home:unsigned")
    drafts(3)
    n3, sql3 = measure(client, url)
    drafts(12)
    n12, sql12 = measure(client, url)
    assert len(client.get(url).context["mine"]) == 12
    assert n3 == n12, f"{n3} queries with 3 drafts, {n12} with 12\n{sql3}\n---\n{sql12}"
    assert n12 == UNSIGNED_QUERIES, f"expected {UNSIGNED_QUERIES}, ran {n12}:\n{sql12}"


# --- Issue 10: the outcomes dashboard and its CSVs (acceptance 5) --------------------------
# outcomes:dashboard (a director: figures of the program over the last 12 months)
#   4. programs: accounts_user_programs (user.program_ids, cached for the request)
#   5. programs: the user's programs, with their site (programs_of)
#   6. tracks: the program's tracks (filter form and breakdown labels)
#   7. episodes: the episodes in care in the range, with their discharge reason (LEFT JOIN)
#   8. attendance: attended and missed sessions, GROUP BY track and referral source
#   9. screens: resulted specimens GROUP BY track, referral source and unexpected (EXISTS)
#  10. scores: instrument totals of the episodes discharged in the range
#  11. follow-ups: the closed follow-ups due in the range
#  12. banner: COUNT of the open safety alerts
#  13. audit: INSERT the view event
OUTCOMES_QUERIES = FRAME + 10 + CHAIN
# outcomes:csv: the same without the banner (no page); the export event instead of the view
OUTCOMES_CSV_QUERIES = FRAME + 9 + CHAIN


def test_the_outcomes_dashboard_runs_the_same_queries_with_n_and_3n_episodes(world, login):
    from openiop.testing import grow_outcomes

    client = login(world.director)
    today = world.program.today()
    urls = {
        "dashboard": (reverse("outcomes:dashboard"), OUTCOMES_QUERIES),
        "dashboard, filtered": (
            reverse("outcomes:dashboard")
            + f"?track={world.program.tracks.get(name='Evening').pk}&source=court",
            OUTCOMES_QUERIES,
        ),
        "retention CSV": (reverse("outcomes:csv", args=["retention"]), OUTCOMES_CSV_QUERIES),
        "follow-up CSV": (reverse("outcomes:csv", args=["follow_ups"]), OUTCOMES_CSV_QUERIES),
    }
    grow_outcomes(world.program, world.intake, 4, today - dt.timedelta(days=200))
    small = {name: measure(client, url) for name, (url, _) in urls.items()}
    assert client.get(urls["dashboard"][0]).context["report"].completion.den == 4
    grow_outcomes(world.program, world.intake, 8, today - dt.timedelta(days=150))
    large = {name: measure(client, url) for name, (url, _) in urls.items()}
    assert client.get(urls["dashboard"][0]).context["report"].completion.den == 12
    for name, (_url, pinned) in urls.items():
        (n_small, sql_small), (n_large, sql_large) = small[name], large[name]
        assert n_small == n_large, (
            f"{name}: {n_small} queries with 4 episodes but {n_large} with 12\n"
            f"--- before:\n{sql_small}\n--- after:\n{sql_large}"
        )
        assert n_large == pinned, f"{name}: expected {pinned} queries, ran {n_large}:\n{sql_large}"


# --- Issue 10: the discharge summary page. Its facts are assembled once (at discharge and
# on "Refresh from the record") and kept on the summary, so the page reads them, whatever
# the number of sessions, screens and scores behind them:
#   4. programs: accounts_user_programs (user.program_ids)
#   5. participants: the participant, with program and current episode (scoped)
#   6. audit: INSERT the view event (participants.access)
#   7. summary: the latest summary with discharge, episode, program and signer
#   8. addenda: the summary's addenda
#   9. banner: COUNT of the open safety alerts
SUMMARY_QUERIES = FRAME + 6 + CHAIN


def test_the_discharge_summary_runs_the_same_queries_as_the_record_grows(world, login):
    from openiop.attendance.models import Attendance
    from openiop.discharge import services as discharge_services
    from openiop.scheduling.models import Session
    from openiop.testing import add_discharge, give

    add_discharge(world)
    participant = world.discharged
    client = login(world.counsellor)
    url = reverse("discharge:summary", args=[participant.pk])
    n_small, sql_small = measure(client, url)
    # Sessions attended, scores given, then the facts assembled again.
    episode = participant.current_episode
    today = world.program.today()
    sessions = list(Session.objects.filter(program=world.program, date__lt=today)[:12])
    assert len(sessions) >= 5
    for session in sessions:
        Attendance.objects.create(
            session=session,
            episode=episode,
            participant=participant,
            status="present",
            minutes_attended=180,
        )
    for n in range(6):
        give(
            participant,
            world.counsellor,
            "GAD-7",
            [n % 3, 1, 1, 1, 1, 1, 1],
            day=today - dt.timedelta(days=n),
        )
    summary = world.discharge_summary
    summary.refresh_from_db()
    discharge_services.refresh_summary(
        summary, actor=world.counsellor, expected_version=summary.version
    )
    n_large, sql_large = measure(client, url)
    assert client.get(url).context["facts"]["attendance"]["sessions_attended"] == len(sessions)
    assert n_small == n_large, f"{n_small} then {n_large}\n{sql_small}\n---\n{sql_large}"
    assert n_large == SUMMARY_QUERIES, f"expected {SUMMARY_QUERIES}, ran {n_large}:\n{sql_large}"


# --- Issue 10: the alumni follow-up worklist (a counsellor; due, later, done, mine) -------
#   4. programs: accounts_user_programs (user.program_ids, cached for the request)
#   5. count: SELECT COUNT(*) of the visible follow-ups of the view (paginator)
#   6. page: the follow-ups of the page with participant, discharge and assignee, and a
#      COUNT of their attempts (one query, select_related + annotate)
#   7. banner: COUNT of the open safety alerts
#   8. audit: INSERT the view event
ALUMNI_WORKLIST_QUERIES = FRAME + 5 + CHAIN


@pytest.mark.parametrize("narrowed", [False, True], ids=["whole-program", "care-team-only"])
def test_the_alumni_worklist_runs_the_same_queries_with_2_and_12_follow_ups(world, narrowed):
    from openiop.testing import add_discharged, make_discharged

    if narrowed:
        world.program.counsellors_see_care_team_only = True
        world.program.save(update_fields=["counsellors_see_care_team_only"])
    add_discharged(world)
    counsellor = client_for(world.counsellor)
    base = reverse("alumni:worklist")
    urls = [base, base + "?show=upcoming", base + "?show=done", base + "?mine=1"]
    small = {url: measure(counsellor, url) for url in urls}
    for n in range(10):
        make_discharged(world, last=f"Grown{n}", days_ago=31 + n)
    large = {url: measure(counsellor, url) for url in urls}
    assert len(counsellor.get(base).context["page"].object_list) == 12
    for url in urls:
        (n2, sql2), (n12, sql12) = small[url], large[url]
        assert n2 == n12, f"{url}: {n2} queries with 2 rows, {n12} with 12\n{sql2}\n---\n{sql12}"
        pinned = ALUMNI_WORKLIST_QUERIES
        assert n12 == pinned, f"{url}: expected {pinned}, ran {n12}:\n{sql12}"


# --- Issue 11, helper C: the billing board with 2 and 8 participants, each with coverage,
# an authorisation near its end and a day of attendance at risk (no note) --------------
def _grow_billing(world: World, names: list[str]) -> None:
    from openiop.billing.models import Authorisation, Coverage
    from openiop.testing import add_outcome_attendance, add_outcome_session

    today = world.program.today()
    for name in names:
        participant = make_participant(world.program, world.intake, last=name, status=S.ACTIVE)
        episode = participant.current_episode
        coverage = Coverage.objects.create(
            participant=participant,
            kind="insurance",
            payer=world.payer,
            member_id=f"M-{name}",
            start_date=today - dt.timedelta(days=60),
            created_by=world.intake,
        )
        Authorisation.objects.create(
            coverage=coverage,
            participant=participant,
            episode=episode,
            service_code="H0015",
            units=2,
            start_date=today - dt.timedelta(days=20),
            end_date=today + dt.timedelta(days=3),
            reference_number=f"A-{name}",
            created_by=world.intake,
        )
        session = add_outcome_session(world.program, today - dt.timedelta(days=5))
        add_outcome_attendance(session, episode, "present")


# The billing board, the days of service and the days at risk: the frame, the user's
# programs, the billing profile, then `days.service_days` (attendance, notes, coverages,
# authorisations, diagnoses, claim lines, tiers, earlier days, the consent gate's two)
# over the period, plus each page's own (the board: live authorisations and their usage,
# claim counts), the banner and the audit insert.
BILLING_PAGE_QUERIES = {"billing": 24, "days": 19, "risks": 19}


def test_the_billing_board_runs_the_same_queries_with_2_and_8_participants(world):
    from openiop.testing import add_billing

    add_billing(world)
    billing = client_for(world.billing)
    urls = [reverse("billing:board"), reverse("billing:days"), reverse("billing:risks")]
    _grow_billing(world, ["BillA", "BillB"])
    small = {url: measure(billing, url) for url in urls}
    _grow_billing(world, [f"BillC{n}" for n in range(6)])
    large = {url: measure(billing, url) for url in urls}
    assert (
        len(billing.get(urls[0]).context["attention"]) == 8
    )  # the grown ones (world.active: no alert)
    for url in urls:
        (n2, sql2), (n8, sql8) = small[url], large[url]
        assert n2 == n8, f"{url}: {n2} queries with 2, {n8} with 8\n{sql2}\n---\n{sql8}"
        pinned = BILLING_PAGE_QUERIES[url.rstrip("/").rsplit("/", 1)[-1]]
        assert n8 == pinned, f"{url}: expected {pinned}, ran {n8}:\n{sql8}"


# --- Issue 11 (B): a participant's billing page, coverage:overview (the biller) -----------
#   4. programs: accounts_user_programs (user.program_ids)
#   5. participant: the participant with program and current episode (scoped)
#   6. audit: INSERT the view event (+ CHAIN)
#   7. profile: the program's billing profile
#   8. coverages: the participant's coverages with payer and who voided them
#   9. sliding fee: the program's tiers in use
#  10. authorisations: the participant's authorisations with coverage and payer
#  11-13. usage (days.authorisation_usage): the episodes' authorisations with coverage and
#      payer; the participant's coverages; the days of the minimum or more (GROUP BY)
#  14-23. service days (days.service_days, the last 30 days): attendance with session and
#      participant; the notes of those sessions; coverages; authorisations; diagnoses;
#      claim lines of those days; tiers; earlier days using the same authorisations
#      (GROUP BY); the consent gate (consents; episodes ended, two queries)
# No banner query: billing staff see no safety alerts.
COVERAGE_OVERVIEW_QUERIES = FRAME + 20 + CHAIN


def test_the_billing_page_of_a_participant_runs_the_same_queries_with_more_records(world):
    import datetime as dt

    from openiop.billing.models import Authorisation
    from openiop.testing import add_billing, add_coverage_days

    add_billing(world)
    add_coverage_days(world, [2, 3])  # with world.session's day: 3 days
    client = client_for(world.billing)
    url = reverse("coverage:overview", args=[world.active.pk])
    n_small, sql_small = measure(client, url)
    today = world.program.today()
    previous = world.authorisation
    for n in range(4):  # 5 authorisations, one chain of renewals
        previous = Authorisation.objects.create(
            coverage=world.coverage,
            participant=world.active,
            episode=world.active.current_episode,
            service_code="H0015",
            units=5,
            start_date=today + dt.timedelta(days=31 + 10 * n),
            end_date=today + dt.timedelta(days=40 + 10 * n),
            reference_number=f"AUTH-R{n}",
            renews=previous,
        )
    add_coverage_days(world, [5, 6, 8, 10, 11, 12, 15, 16, 17])  # 12 days
    n_large, sql_large = measure(client, url)
    context = client.get(url).context
    assert len(context["service_days"]) == 12 and len(context["chains"][0]) == 5
    assert n_small == n_large, f"{n_small} then {n_large}\n{sql_small}\n---\n{sql_large}"
    pinned = COVERAGE_OVERVIEW_QUERIES
    assert n_large == pinned, f"expected {pinned}, ran {n_large}:\n{sql_large}"


# --- Issue 11, helper A: the claims list (billing; plain and filtered) -------------------
#   4. programs: accounts_user_programs (user.program_ids, cached for the request)
#   5. totals: SUM of charges and payments and COUNT of drafts of the filtered claims
#   6. count: SELECT COUNT(*) of the filtered claims (paginator)
#   7. payers: the payer filter's choices (rendered before the table)
#   8. page: the claims of the page with participant and payer, and a COUNT of their
#      lines (one query, select_related + annotate)
#   9. audit: INSERT the view event
# (No safety banner: the billing role is not shown safety alerts.) Filtered by a payer,
# one more before the totals: the payer's row, read by the filter form's validation.
CLAIMS_LIST_QUERIES = FRAME + 6 + CHAIN


def grow_claims(world: World, total: int) -> None:
    import uuid

    from openiop.billing.models import Claim, ClaimLine

    template = Claim.objects.get(pk=world.claim.pk)
    line = ClaimLine.objects.filter(claim=template).first()
    for n in range(Claim.objects.count(), total):
        template.pk = None
        template.uuid = uuid.uuid4()
        template.number = f"CLM-9{n:05d}"
        template.save()
        line.pk = None
        line.claim = template
        line.save()


def test_the_claims_list_runs_the_same_queries_with_3_and_12_claims(world):
    from openiop.testing import add_claim_batch

    add_claim_batch(world)
    client = client_for(world.billing)
    base = reverse("billing:claims")
    urls = [base, base + f"?status=submitted&payer={world.payer.pk}&q=Active&start=2000-01-01"]
    grow_claims(world, 3)
    small = {url: measure(client, url) for url in urls}
    grow_claims(world, 12)
    large = {url: measure(client, url) for url in urls}
    assert len(client.get(base).context["page"].object_list) == 12
    for url in urls:
        (n3, sql3), (n12, sql12) = small[url], large[url]
        assert n3 == n12, f"{url}: {n3} queries with 3 claims, {n12} with 12\n{sql3}\n---\n{sql12}"
        pinned = CLAIMS_LIST_QUERIES + (1 if "payer=" in url else 0)
        assert n12 == pinned, f"{url}: expected {pinned}, ran {n12}:\n{sql12}"
