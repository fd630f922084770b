"""Test personas and a small world to test against, shared by every app's tests.

    world = build_world()
    world.counsellor, world.lab, world.outsider, world.norole ...
    world.referred (a participant whose episode is Referred), world.active, ...

Two programs: the personas work in `world.program`; `world.outsider` works only in
`world.other_program`, whose participant `world.foreign` they alone may see.

Intake and measures records, made through their services as the pages make them:

- `world.screening`: a referral (intake coordinator assigned) with a contact attempt and
  a pre-admission screen, in Screening, with a draft ASAM assessment
  (`world.draft_assessment`);
- `world.assessed`: a referral screened and assessed, in Assessed, with a signed
  assessment (`world.signed_assessment`): ready for the admission form;
- `world.active` has instrument histories (PHQ-9 twice, GAD-7): the latest PHQ-9
  (`world.response`) answered item 9 above 0, which raised an open safety alert
  (`world.alert`) for its counsellor.

The schedule (`add_schedule`): the Morning track's weekly template (`world.slot`, Mon,
Tue and Thu 09:00–12:00, facilitated by the counsellor in the Group Room, topics from the
curriculum), its sessions generated from two weeks ago to a week ahead, a closure next
month (`world.closure`), attendance taken at the last past session (`world.session`,
where `world.active` was present), a future session (`world.future_session`), an
individual appointment for `world.active` (`world.appointment`), a check-in that reported
use (`world.check_in`) and so an open engagement alert (`world.engagement_alert`), a topic
given as individual work (`world.assignment`), and calendar feeds for the counsellor
(`world.staff_feed_token`) and for `world.active` (`world.participant_feed_token`).

Notes (`add_notes`): a signed DAP note of the counsellor for `world.active`'s last group
(`world.signed_note`), a draft BIRP note (`world.draft_note`), and a signed note of a
supervisee (`world.supervisee`, whose notes need a co-signature) waiting in the
supervisor's queue (`world.cosign_note`).

Contacts and relapse-prevention plans (`add_relapse`, after the notes): a contact of
`world.active` (`world.contact`: a sibling, support person and emergency contact), a
relapse-prevention plan naming them, signed by the counsellor and not yet by the
participant (`world.relapse_plan`, version 1), and a draft version 2 copied from it
(`world.relapse_draft`).

Treatment plans (`add_plans`): `world.plan`, version 1 of `world.active`'s plan, signed
by the counsellor, with one problem (dimension 5), one goal, one objective (target date
in 30 days) and one intervention from the library; and `world.draft_plan`, a version 2
draft copied from it (same goal and objective keys).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from openiop.accounts.models import RoleAssignment, User
from openiop.core.roles import Role
from openiop.instruments import services as instrument_services
from openiop.instruments.models import InstrumentResponse, Occasion
from openiop.intake import asam
from openiop.intake import services as intake_services
from openiop.intake.choices import AssessmentKind, ContactMethod, ContactOutcome
from openiop.intake.models import Admission, Assessment, PreScreen
from openiop.participants import services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.programs.choices import LevelOfCare
from openiop.programs.models import Program, Room, SessionType, Site, Topic, Track

PASSWORD = "correct-horse-battery"  # noqa: S105


def make_user(username: str, roles: list[str], programs: list[Program], **extra: Any) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=username.title(),
        last_name="Tester",
        **extra,
    )
    RoleAssignment.objects.bulk_create([RoleAssignment(user=user, role=r) for r in roles])
    user.programs.set(programs)
    return user


def make_program(name: str, site: Site | None = None) -> Program:
    site = site or Site.objects.create(name=f"{name} site")
    program = Program.objects.create(
        site=site, name=name, time_zone="America/New_York", level_of_care=LevelOfCare.E3_2_1
    )
    Track.objects.create(
        program=program, name="Morning", days=[0, 1, 3], start_time=dt.time(9), end_time=dt.time(12)
    )
    Track.objects.create(
        program=program,
        name="Evening",
        days=[0, 2, 3],
        start_time=dt.time(18),
        end_time=dt.time(21),
    )
    Room.objects.create(site=site, name="Group Room", capacity=12)
    SessionType.objects.create(program=program, name="Process group", category="group_therapy")
    Topic.objects.create(program=program, title="Understanding addiction", sequence=1)
    return program


def make_participant(
    program: Program,
    actor: User,
    *,
    last: str,
    first: str = "Pat",
    status: str = S.REFERRED,
    counsellor: User | None = None,
    days_ago: int = 30,
) -> Participant:
    today = program.today()
    referral = today - dt.timedelta(days=days_ago)
    participant = services.register_participant(
        actor=actor,
        program=program,
        identity={
            "legal_first_name": first,
            "legal_last_name": last,
            "date_of_birth": dt.date(1990, 5, 17),
            "phone": "(207) 555-0101",
        },
        referral_source="self",
        referral_date=referral,
    )
    path: list[str] = [S.SCREENING, S.ASSESSED, S.ADMITTED, S.ACTIVE, S.DISCHARGED, S.ALUMNI]
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("register_participant opens a referral episode")
    if status in (S.NOT_ADMITTED, S.REFERRED_ELSEWHERE):
        services.transition_episode(
            episode,
            status,
            actor=actor,
            effective_date=referral,
            reason="Test reason",
        )
    elif status != S.REFERRED:
        track = program.tracks.first()
        for to in path[: path.index(status) + 1]:
            changes = None
            if to == S.ADMITTED:
                changes = {
                    "level_of_care": LevelOfCare.E3_2_1,
                    "track": track,
                    "primary_counsellor": counsellor or actor,
                }
            episode = services.transition_episode(
                episode,
                to,
                actor=actor,
                effective_date=referral + dt.timedelta(days=path.index(to)),
                reason="Test reason" if to == S.DISCHARGED else "",
                changes=changes,
            )
    participant.refresh_from_db()
    return participant


# Pre-admission answers that raise no flag (see `intake.prescreen`).
CLEAR_SCREEN: dict[str, Any] = {
    "stable_housing": "yes",
    "withdrawal_now": "no",
    "needs_24h_medical": "no",
    "needs_24h_psychiatric": "no",
    "overdose_30d": "no",
    "suicidal": "no",
    "pregnant_active_use": "no",
    "motivation": 7,
    "can_attend": "yes",
    "has_transport": "yes",
}
# Ratings that our 3rd-edition rules answer with Level 2.1 (IOP): one dimension at 2.
IOP_RATINGS = (1, 1, 2, 1, 1, 1)


def refer(
    program: Program,
    actor: User,
    *,
    last: str,
    first: str = "Pat",
    days_ago: int = 10,
    assigned_to: User | None = None,
) -> Participant:
    """A new person referred through the intake service: participant, episode, referral."""
    referral = intake_services.create_referral(
        actor=actor,
        program=program,
        referral_source="physician",
        referral_date=program.today() - dt.timedelta(days=days_ago),
        details={
            "urgency": "routine",
            "referrer_name": "Dr Quinn",
            "referrer_organisation": "Harbor Family Practice",
            "referrer_phone": "(207) 555-0123",
            "reason": "Drinking daily; asked for help at a check-up.",
            "insurance_payer": "MaineCare",
            "assigned_to": assigned_to or actor,
        },
        identity={
            "legal_first_name": first,
            "legal_last_name": last,
            "date_of_birth": dt.date(1988, 2, 11),
            "phone": "(207) 555-0102",
        },
    )
    participant = Participant.objects.get(pk=referral.participant_id)
    return participant


def log_contact(participant: Participant, actor: User, **extra: Any) -> None:
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("the participant has no open episode")
    intake_services.log_contact(
        intake_services.referral_for(episode, actor=actor),
        actor=actor,
        method=extra.get("method", ContactMethod.PHONE),
        outcome=extra.get("outcome", ContactOutcome.REACHED),
        note=extra.get("note", "Spoke briefly; will call back."),
    )


def prescreen(participant: Participant, actor: User, *, day: dt.date, **answers: Any) -> PreScreen:
    """A pre-admission screen (all clear unless `answers` say otherwise)."""
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("the participant has no open episode")
    return intake_services.record_prescreen(
        episode, actor=actor, answers={**CLEAR_SCREEN, **answers}, screened_on=day
    )


def assess(
    participant: Participant,
    actor: User,
    *,
    day: dt.date,
    sign: bool = True,
    ratings: tuple[int | None, ...] = IOP_RATINGS,
) -> Assessment:
    """An initial ASAM assessment with every narrative written; signed unless told not."""
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("the participant has no open episode")
    values: dict[str, Any] = {
        "assessed_on": day,
        "form_source": "openiop",
        "summary": "Alcohol use disorder, moderate; motivated; stable housing.",
    }
    for n, rating in enumerate(ratings, start=1):
        values[f"rating_{n}"] = rating
        values[f"narrative_{n}"] = f"Findings for dimension {n}."
    assessment = intake_services.start_assessment(
        episode,
        actor=actor,
        values=values,
        kind=AssessmentKind.INITIAL,
        edition=asam.edition_of(episode.program.level_of_care),
    )
    if sign:
        assessment = intake_services.sign_assessment(
            assessment, actor=actor, values={}, expected_version=assessment.version
        )
    return assessment


def admit(
    participant: Participant,
    actor: User,
    *,
    day: dt.date,
    counsellor: User,
    track_name: str = "Morning",
    codes: tuple[str, ...] = ("F10.20", "F41.1"),
) -> Admission:
    """The guided admission of an Assessed referral: diagnoses (the first primary),
    consent to treatment and the confidentiality notice, level, track and counsellor."""
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("the participant has no open episode")
    return intake_services.admit(
        episode,
        actor=actor,
        identity={},
        level_of_care=episode.program.level_of_care,
        track=episode.program.tracks.get(name=track_name),
        primary_counsellor=counsellor,
        admission_date=day,
        diagnoses=[
            intake_services.DiagnosisInput(code, primary=i == 0) for i, code in enumerate(codes)
        ],
        consent_signed_on=day,
        consent_signature=participant.display_name,
        notice_given_on=day,
        notice_acknowledged=True,
    )


def give(
    participant: Participant,
    actor: User,
    code: str,
    answers: list[int],
    *,
    day: dt.date,
    occasion: str = Occasion.SCHEDULED,
) -> InstrumentResponse:
    """An instrument given and scored through the service (a safety answer raises an alert)."""
    return instrument_services.record_response(
        participant,
        actor=actor,
        instrument=code,
        answers=answers,
        administered_on=day,
        occasion=occasion,
    )


@dataclass
class World:
    program: Program
    other_program: Program
    users: dict[str, User] = field(default_factory=dict)
    participants: dict[str, Participant] = field(default_factory=dict)
    # Other records by name: draft_assessment, signed_assessment, response, alert.
    records: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        for group in ("users", "participants", "records"):
            # Read through __dict__: a missing field must not recurse into __getattr__.
            found = self.__dict__.get(group, {})
            if name in found:
                return found[name]
        raise AttributeError(name)


def build_world() -> World:
    program = make_program("Harbor IOP")
    other = make_program("Other IOP")
    world = World(program=program, other_program=other)
    for role in Role.values:
        world.users[role] = make_user(role, [role], [] if role == Role.ADMIN else [program])
    world.users["norole"] = make_user("norole", [], [program])
    world.users["outsider"] = make_user("outsider", [Role.DIRECTOR, Role.COUNSELLOR], [other])
    counsellor = world.users[Role.COUNSELLOR]
    intake = world.users[Role.INTAKE]
    world.participants["referred"] = make_participant(program, intake, last="Referred")
    world.participants["active"] = make_participant(
        program, intake, last="Active", status=S.ACTIVE, counsellor=counsellor
    )
    world.participants["foreign"] = make_participant(
        other, world.users["outsider"], last="Foreign", status=S.ACTIVE
    )
    add_intake_and_measures(world)
    add_schedule(world)
    add_notes(world)
    add_relapse(world)
    add_plans(world)
    return world


def add_notes(world: World) -> None:
    from openiop.notes import services as notes

    counsellor, session = world.counsellor, world.session
    episode = world.active.current_episode
    signed, _ = notes.start_note(
        episode,
        actor=counsellor,
        fmt="dap",
        service_date=session.date,
        minutes=180,
        session=session,
    )
    signed = notes.save_draft(
        signed,
        actor=counsellor,
        sections={
            "data": "Attended group; shared a craving at work.",
            "assessment": "Engaged; uses urge surfing.",
            "plan": "Continue group; practise urge surfing daily.",
        },
        expected_version=signed.version,
    )
    world.records["signed_note"] = notes.sign_note(
        signed, actor=counsellor, expected_version=signed.version
    )
    draft, _ = notes.start_note(
        episode, actor=counsellor, fmt="birp", service_date=world.program.today(), minutes=50
    )
    world.records["draft_note"] = draft
    supervisee = make_user("supervisee", [Role.COUNSELLOR], [world.program], notes_need_cosign=True)
    world.users["supervisee"] = supervisee
    note, _ = notes.start_note(
        episode, actor=supervisee, fmt="soap", service_date=session.date, minutes=30
    )
    note = notes.save_draft(
        note,
        actor=supervisee,
        sections={k: "Text." for k in ("subjective", "objective", "assessment", "plan")},
        expected_version=note.version,
    )
    world.records["cosign_note"] = notes.sign_note(
        note, actor=supervisee, expected_version=note.version
    )


def ensure_intervention_library() -> None:
    """The intervention library a migration seeds. Browser tests run on a database that is
    emptied between tests (data from migrations included): seed it again when missing."""
    import importlib

    from django.apps import apps

    from openiop.plans.models import InterventionTemplate

    if not InterventionTemplate.objects.exists():
        migration = importlib.import_module("openiop.plans.migrations.0002_seed_interventions")
        migration.seed(apps, None)


def ensure_screening_library() -> None:
    """The analytes and panels a migration seeds (see `ensure_intervention_library`)."""
    import importlib

    from django.apps import apps

    from openiop.screening.models import Panel

    if not Panel.objects.exists():
        migration = importlib.import_module("openiop.screening.migrations.0002_seed_panels")
        migration.seed(apps, None)


def add_screening_orders(world: World) -> None:
    """Drug-screening orders of `world.active` (made once; later calls do nothing):

    - `world.screen_random`: today's random selection, a 12-panel urine cup, still to
      collect (hidden from the counsellor until it is collected or the day is over);
    - `world.screen_for_cause`: a for-cause breath alcohol test today, still to collect;
    - `world.screen_collected`: yesterday's for-cause 12-panel cup, collected an hour ago
      by the lab as specimen `WORLD-0001` (custody: collected only, no results).
    """
    from openiop.screening import services as screening
    from openiop.screening.models import Panel

    if "screen_random" in world.records:
        return
    ensure_screening_library()
    lab, counsellor = world.users[Role.LAB], world.users[Role.COUNSELLOR]
    episode = world.active.current_episode
    today = world.program.today()
    cup = Panel.objects.get(name="12-panel urine cup")
    collected = screening.order_test(
        episode,
        actor=counsellor,
        day=today - dt.timedelta(days=1),
        reason="for_cause",
        panel=cup,
        reason_detail="Said they had used at the weekend.",
    )
    screening.record_collection(
        collected,
        screening.CollectionInput(
            specimen_id="WORLD-0001",
            collected_at=timezone.now() - dt.timedelta(hours=1),
            temperature_in_range=True,
        ),
        actor=lab,
    )
    collected.refresh_from_db()
    world.records["screen_collected"] = collected
    world.records["screen_random"] = screening.order_test(
        episode, actor=lab, day=today, reason="random", panel=cup
    )
    world.records["screen_for_cause"] = screening.order_test(
        episode,
        actor=counsellor,
        day=today,
        reason="for_cause",
        panel=Panel.objects.get(name="Breath alcohol"),
        reason_detail="Smelled of alcohol in group.",
    )


def add_screening_review(world: World) -> None:
    """A screen of `world.active` to review and an expected medication (made once, all by
    the lab user, through the screening services):

    - `world.screen_reviewed`: a scheduled 12-panel cup two days ago, collected as
      specimen `WORLD-R001`, presumptive THC positive (unexpected) and BUP positive;
    - `world.screen_review`: the open review of that positive, assigned to the counsellor;
    - `world.medication`: buprenorphine (Suboxone, shows up as BUP), taken since 30 days
      ago, so the BUP positive is expected.
    """
    from openiop.screening import services as screening
    from openiop.screening.models import Analyte, Panel, Review

    if "screen_review" in world.records:
        return
    ensure_screening_library()
    lab = world.users[Role.LAB]
    episode = world.active.current_episode
    today = world.program.today()
    world.records["medication"] = screening.add_expected_medication(
        world.active,
        actor=lab,
        name="Suboxone",
        analytes=[Analyte.objects.get(code="BUP")],
        start_date=today - dt.timedelta(days=30),
        prescriber="Dr. Lane",
    )
    order = screening.order_test(
        episode,
        actor=lab,
        day=today - dt.timedelta(days=2),
        reason="scheduled",
        panel=Panel.objects.get(name="12-panel urine cup"),
    )
    collection = screening.record_collection(
        order,
        screening.CollectionInput(
            specimen_id="WORLD-R001",
            collected_at=timezone.now() - dt.timedelta(days=2),
            temperature_in_range=True,
        ),
        actor=lab,
    )
    screening.record_results(
        collection,
        [
            screening.ResultInput(Analyte.objects.get(code="THC"), "presumptive", "positive"),
            screening.ResultInput(Analyte.objects.get(code="BUP"), "presumptive", "positive"),
            screening.ResultInput(Analyte.objects.get(code="COC"), "presumptive", "negative"),
        ],
        actor=lab,
    )
    order.refresh_from_db()
    world.records["screen_reviewed"] = order
    world.records["screen_review"] = Review.objects.get(order=order)


def add_selection_days(world: World) -> None:
    """Random draws of `world.program` through the real selection code (made once):
    `world.selection_past` on the last program day before today, not yet revealed, and
    `world.selection_today`. Their seeds are fixed and chosen so that nobody is selected:
    the world's orders stay as they were."""
    import hashlib
    import itertools

    from openiop.scheduling.models import Session
    from openiop.screening import selection
    from openiop.screening import services as screening

    if "selection_today" in world.records:
        return
    ensure_screening_library()
    program = world.program
    today = program.today()
    past = (
        Session.objects.filter(program=program, date__lt=today, status="scheduled", voided=False)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    probability = selection.probability_for(screening.policy_for(program))
    for name, day in (("selection_past", past), ("selection_today", today)):
        if day is None:
            raise RuntimeError("the program has a past program day (add_schedule)")
        pool = [e.pk for e in selection.eligible_episodes(program, day)]
        for i in itertools.count():
            seed = hashlib.sha256(f"world|{day}|{i}".encode()).digest()
            if not selection.derive(seed, day, pool, probability):
                break
        world.records[name] = selection.draw_day(program, day, seed=seed)


def make_signed_plan(participant: Participant, actor: User) -> Any:
    """Version 1 of a treatment plan for the participant's episode, signed by `actor`: one
    problem (dimension 5), goal, objective (target in 30 days) and library intervention."""
    from openiop.plans import services as plans
    from openiop.plans.models import InterventionTemplate

    ensure_intervention_library()
    counsellor = actor
    program = participant.program
    plan = plans.start_plan(participant.current_episode, counsellor)
    plans.update_plan(
        plan, counsellor, participant_statement="I want to keep my job and be there for my kids."
    )
    problem = plans.add_problem(
        plan,
        counsellor,
        asam_dimension=5,
        statement="Cravings at work after stressful shifts; two lapses this month.",
    )
    goal = plans.add_goal(problem, counsellor, text="Get through a work week without using.")
    objective = plans.add_objective(
        goal,
        counsellor,
        text="Use a coping skill at each craving and log it, 5 days a week.",
        target_date=program.today() + dt.timedelta(days=30),
    )
    plans.add_intervention(
        objective,
        counsellor,
        template=InterventionTemplate.objects.filter(modality="cbt").order_by("pk").first(),
        frequency="3 groups a week",
        responsible=counsellor,
    )
    return plans.sign_as_clinician(plan, counsellor)


def add_plans(world: World) -> None:
    from openiop.plans import services as plans

    world.records["plan"] = make_signed_plan(world.active, world.counsellor)
    world.records["draft_plan"] = plans.new_version(
        world.records["plan"], world.counsellor, "review", "30-day review."
    )


def add_schedule(world: World) -> None:
    """Template, sessions, attendance, a check-in, an alert, feeds (see the module doc)."""
    from decimal import Decimal

    from openiop.attendance import rules as attendance_rules
    from openiop.attendance import services as attendance_services
    from openiop.scheduling import services as schedule
    from openiop.scheduling.choices import SessionKind
    from openiop.scheduling.models import Session, TemplateSlot

    program, counsellor, director = world.program, world.counsellor, world.director
    today = program.today()
    track = program.tracks.get(name="Morning")
    room = program.site.rooms.get(name="Group Room")
    session_type = program.session_types.get(name="Process group")
    Topic.objects.create(program=program, title="Coping with cravings", sequence=2)
    Topic.objects.create(program=program, title="Relapse prevention", sequence=3)
    slot = TemplateSlot.objects.create(
        track=track,
        weekday=0,
        start_time=dt.time(9),
        end_time=dt.time(12),
        session_type=session_type,
        facilitator=counsellor,
        room=room,
        uses_curriculum=True,
    )
    for weekday in (1, 3):
        TemplateSlot.objects.create(
            track=track,
            weekday=weekday,
            start_time=dt.time(9),
            end_time=dt.time(12),
            session_type=session_type,
            facilitator=counsellor,
            room=room,
            uses_curriculum=True,
        )
    world.records["slot"] = slot
    schedule.generate(
        track, today - dt.timedelta(days=14), today + dt.timedelta(days=7), actor=director
    )
    closure, _ = schedule.add_closure(
        program,
        first_day=today + dt.timedelta(days=40),
        last_day=today + dt.timedelta(days=40),
        reason="Staff training day",
        actor=director,
    )
    world.records["closure"] = closure
    past = Session.objects.filter(track=track, date__lt=today).order_by("-starts_at")
    session = past.first()
    future = Session.objects.filter(track=track, date__gt=today).order_by("starts_at").first()
    if session is None or future is None:
        raise RuntimeError("the Morning track has sessions before and after today")
    attendance_services.mark_all_present(session, actor=counsellor)
    world.records["session"] = session
    world.records["future_session"] = future
    active = world.participants["active"]
    episode = active.current_episode
    if episode is None:
        raise RuntimeError("world.active has an episode")
    world.records["appointment"] = schedule.create_session(
        schedule.SessionInput(
            program=program,
            session_type=session_type,
            kind=SessionKind.INDIVIDUAL,
            title="Individual session",
            day=today + dt.timedelta(days=2),
            start=dt.time(14),
            end=dt.time(15),
            facilitator=counsellor,
            room=room,
        ),
        actor=counsellor,
        episodes=[episode],
    )
    world.records["check_in"] = attendance_services.record_check_in(
        episode,
        attendance_rules.CheckInValues(
            mood=5,
            craving=4,
            used=True,
            substances="alcohol",
            stress=6,
            sleep_hours=Decimal("6.5"),
        ),
        actor=counsellor,
        session=session,
        day=session.date,
    )
    from openiop.attendance.models import EngagementAlert

    world.records["engagement_alert"] = EngagementAlert.objects.get(episode=episode)
    topic = program.topics.get(title="Relapse prevention")
    world.records["assignment"] = schedule.assign_topic(
        episode, topic, actor=counsellor, today=today
    )
    world.records["staff_feed_token"] = schedule.issue_feed(actor=counsellor, user=counsellor)
    world.records["participant_feed_token"] = schedule.issue_feed(
        actor=counsellor, participant=active
    )


def add_intake_and_measures(world: World) -> None:
    """Referrals in screening (draft assessment) and assessed (signed), and measures with
    an open safety alert for `world.active`, all made through the services."""
    program, intake, counsellor = world.program, world.intake, world.counsellor
    today = program.today()

    screening = refer(program, intake, last="Screening", days_ago=6)
    log_contact(screening, intake)
    prescreen(screening, intake, day=today - dt.timedelta(days=5))
    world.records["draft_assessment"] = assess(
        screening, counsellor, day=today - dt.timedelta(days=4), sign=False
    )
    screening.refresh_from_db()
    world.participants["screening"] = screening

    assessed = refer(program, intake, last="Assessed", days_ago=9)
    log_contact(assessed, intake, outcome=ContactOutcome.SCHEDULED)
    prescreen(assessed, intake, day=today - dt.timedelta(days=8))
    world.records["signed_assessment"] = assess(
        assessed, counsellor, day=today - dt.timedelta(days=7)
    )
    assessed.refresh_from_db()
    world.participants["assessed"] = assessed

    # world.active was admitted 28 days ago (make_participant: referral + 2 days).
    active = world.participants["active"]
    episode = active.current_episode
    if episode is None or episode.admission_date is None:
        raise RuntimeError("world.active is admitted")
    admitted = episode.admission_date
    give(
        active,
        counsellor,
        "PHQ-9",
        [2, 2, 2, 1, 2, 1, 1, 1, 0],
        day=admitted,
        occasion=Occasion.ADMISSION,
    )
    give(
        active,
        counsellor,
        "GAD-7",
        [2, 1, 2, 1, 1, 1, 1],
        day=admitted,
        occasion=Occasion.ADMISSION,
    )
    # Item 9 above 0: a safety alert, open until a clinician documents a response.
    response = give(
        active, counsellor, "PHQ-9", [1, 1, 1, 1, 1, 0, 0, 0, 1], day=today - dt.timedelta(days=1)
    )
    world.records["response"] = response
    world.records["alert"] = response.alerts.get()


def now() -> dt.datetime:
    return timezone.now()


def add_relapse(world: World) -> None:
    """A contact for `world.active` (`world.contact`, a sibling, support person and
    emergency contact), a relapse-prevention plan naming them, signed by the counsellor
    (`world.relapse_plan`, version 1, not yet signed by the participant), and a draft
    version 2 copied from it (`world.relapse_draft`)."""
    from openiop.participants import contact_services
    from openiop.relapse import services as relapse

    counsellor, active = world.counsellor, world.active
    contact = contact_services.add_contact(
        active,
        actor=counsellor,
        values={
            "name": "Dana Active",
            "relationship": "sibling",
            "phone": "(207) 555-0142",
            "email": "",
            "is_support": True,
            "is_emergency": True,
            "notes": "",
        },
    )
    world.records["contact"] = contact
    episode = active.current_episode
    plan, _ = relapse.start_draft(episode, actor=counsellor)
    plan = relapse.save_draft(
        plan,
        actor=counsellor,
        sections={
            "reasons": ["My kids.", "I want to keep my job."],
            "triggers": ["Payday Fridays", "Arguments at home"],
            "high_risk": ["Being alone on a Friday night"],
            "warning_signs": ["Skipping group", "Not sleeping"],
            "coping": ["Urge surfing", "Walk the dog"],
            "craving_steps": ["Wait 15 minutes", "Call Dana", "Go to a meeting"],
        },
        support=[(contact.pk, "Call when a craving hits")],
        expected_version=plan.version,
    )
    world.records["relapse_plan"] = relapse.sign_plan(
        plan, actor=counsellor, expected_version=plan.version
    )
    world.records["relapse_draft"], _ = relapse.start_draft(episode, actor=counsellor)


def employer_consent_input(**overrides: Any) -> Any:
    """A complete consent (every §2.31(a) element) for an employer attendance letter."""
    from openiop.privacy.choices import ConsentKind, InfoCategory, Purpose, RecipientKind
    from openiop.privacy.services import ConsentInput

    values: dict[str, Any] = {
        "kind": ConsentKind.SPECIFIC,
        "discloser": "Harbor IOP",
        "recipient_kind": RecipientKind.EMPLOYER,
        "recipient_name": "Acme Logistics",
        "recipient_address": "12 Dock Road, Portland",
        "purposes": (Purpose.EMPLOYMENT,),
        "information": (InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
        "information_detail": "Dates of enrolment and the dates and hours attended",
        "signed_by": "Pat Active",
        "signed_on": timezone.localdate() - dt.timedelta(days=1),
        "revocation_explained": True,
        "expires_on": timezone.localdate() + dt.timedelta(days=180),
    }
    values.update(overrides)
    return ConsentInput(**values)


def add_privacy(world: World) -> None:
    """`world.consent`: an employer consent of world.active (attendance letters);
    `world.tpo_consent`: a TPO consent of world.active."""
    from openiop.privacy import services as privacy
    from openiop.privacy.choices import ConsentKind, InfoCategory, Purpose, RecipientKind

    if "consent" in world.records:
        return
    counsellor = world.counsellor
    world.records["consent"] = privacy.record_consent(
        world.active, employer_consent_input(), actor=counsellor
    )
    world.records["tpo_consent"] = privacy.record_consent(
        world.active,
        employer_consent_input(
            kind=ConsentKind.TPO,
            recipient_kind=RecipientKind.TPO_CLASS,
            recipient_name=privacy.TPO_DEFAULT_RECIPIENTS,
            recipient_address="",
            purposes=(Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS),
            information=tuple(
                c for c in InfoCategory.values if c != InfoCategory.COUNSELLING_NOTES
            ),
            information_detail="My treatment records at Harbor IOP",
            expires_on=None,
            expiry_event="end_of_treatment",
            refusal_consequences_stated=True,
            redisclosure_stated=True,
        ),
        actor=counsellor,
    )


# --- Two-factor sign-in (issue 8, point 5; helper H1) -------------------------------------

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105  (a fixed test secret, base32)


def give_totp_device(user: User, secret: str = TOTP_SECRET) -> str:
    """Give `user` a confirmed authenticator with `secret` (as if enrolled); returns it."""
    from openiop.accounts import mfa
    from openiop.accounts.models import TotpDevice

    TotpDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_encrypted": mfa.encrypt(secret),
            "confirmed_at": timezone.now(),
            "last_step": 0,
        },
    )
    return secret


def totp_code_for(user: User, secret: str | None = None) -> str:
    """A code the user's device will accept now: the current step's, or the next one's
    when the current one was already used (the server accepts one step of drift)."""
    import pyotp

    from openiop.accounts import mfa
    from openiop.accounts.models import TotpDevice

    device = TotpDevice.objects.get(user=user)
    secret = secret or mfa.secret_of(device) or ""
    step = max(mfa.current_step(), device.last_step + 1)
    return pyotp.TOTP(secret).generate_otp(step)


def add_amendment(world: World) -> None:
    """Amendment requests of world.active, logged by the counsellor (H5, HIPAA §164.526):
    `world.amendment`, waiting for a decision, against `world.signed_note`; and
    `world.denied_amendment`, against `world.plan`, denied by the supervisor with no
    statement of disagreement yet."""
    from openiop.privacy import amendment_services as amendments

    if "amendment" in world.records:
        return
    counsellor, today = world.counsellor, world.program.today()
    world.records["amendment"] = amendments.log_request(
        world.active,
        actor=counsellor,
        received_on=today - dt.timedelta(days=3),
        requested_by="Pat Active",
        target=f"notes.note:{world.signed_note.pk}",
        requested_change="I said I had a craving at home, not at work.",
    )
    denied = amendments.log_request(
        world.active,
        actor=counsellor,
        received_on=today - dt.timedelta(days=10),
        requested_by="Pat Active",
        target=f"plans.treatmentplan:{world.plan.pk}",
        requested_change="Remove the goal about alcohol; I only use cannabis.",
    )
    world.records["denied_amendment"] = amendments.deny(
        denied,
        actor=world.supervisor,
        ground="accurate",
        explanation="The assessment and the participant's own report support the goal.",
    )


# --- Issue 9: portal accounts ---------------------------------------------------------------
def make_portal_user(
    participant: Participant,
    *,
    kind: str = "participant",
    contact: Any = None,
    username: str | None = None,
    language: str = "en",
) -> User:
    """A signed-up portal account (as if an invitation had been accepted)."""
    from openiop.portal.models import PortalAccount

    name = username or f"{kind}-{participant.pk}-{contact.pk if contact else 0}"
    user = User.objects.create_user(
        username=name,
        password=PASSWORD,
        first_name=(contact.name if contact else participant.legal_first_name)[:30],
        portal_kind=kind,
    )
    PortalAccount.objects.create(
        user=user, kind=kind, participant=participant, contact=contact, language=language
    )
    return user


def add_portal(world: World) -> None:
    """A portal account for world.active: world.records["portal_participant"] (not in
    world.users, whose personas are staff)."""
    if "portal_participant" in world.records:
        return
    world.records["portal_participant"] = make_portal_user(world.active, username="portal-active")


# --- Issue 9: attendance letters (openiop.letters) -------------------------------------------
LETTER_CODE = "7KQ2-M9XD-4HTC"  # world.letter's verification code (add_letter)


def add_letter_request(world: World) -> None:
    """`world.letter_request`: world.active's request, made in the portal by the portal
    account (`add_portal`), for a letter to Acme Logistics (employer) covering the last two
    weeks; still waiting."""
    from openiop.letters import services as letters

    if "letter_request" in world.records:
        return
    add_portal(world)
    today = world.program.today()
    world.records["letter_request"] = letters.request_letter(
        world.active,
        actor=world.records["portal_participant"],
        recipient_kind="employer",
        recipient_name="Acme Logistics",
        recipient_address="12 Dock Road, Portland",
        period_start=today - dt.timedelta(days=14),
        period_end=today,
        note="For the HR office, please.",
    )


def add_letter(world: World) -> None:
    """`world.letter`: `world.letter_request` produced by the counsellor under world.consent
    (`add_privacy`, Acme Logistics), with the verification code LETTER_CODE."""
    from openiop.letters import services as letters

    if "letter" in world.records:
        return
    add_privacy(world)
    add_letter_request(world)
    request = world.records["letter_request"]
    letters.produce(
        world.active,
        recipient_kind=request.recipient_kind,
        recipient_name=request.recipient_name,
        recipient_address=request.recipient_address,
        period_start=request.period_start,
        period_end=request.period_end,
        actor=world.counsellor,
        letter_request=request,
        code=LETTER_CODE,
    )
    request.refresh_from_db()
    world.records["letter"] = request


# --- Issue 9: family involvement and the family portal (openiop.family) ---------------------
def family_consent_input(contact: Any, **overrides: Any) -> Any:
    """A complete consent (every §2.31(a) element) naming `contact` for family involvement,
    covering what the family portal needs (enrolment)."""
    from openiop.privacy.choices import ConsentKind, InfoCategory, Purpose, RecipientKind

    return employer_consent_input(
        **{
            "kind": ConsentKind.SPECIFIC,
            "recipient_kind": RecipientKind.FAMILY,
            "recipient_name": contact.name,
            "recipient_address": "",
            "contact_id": contact.pk,
            "purposes": (Purpose.FAMILY,),
            "information": (InfoCategory.ENROLMENT,),
            "information_detail": "That I am in the program, and the family sessions I "
            "invite them to",
            **overrides,
        }
    )


def make_family_session(
    world: World, *, day: dt.date, kind: str = "family", start: dt.time = dt.time(17)
) -> Any:
    """A family appointment of world.active (kind "family") or a family workshop of the
    program ("family_workshop") on `day`, an hour long, in the Group Room."""
    from openiop.programs.models import SessionType
    from openiop.scheduling import services as schedule

    program = world.program
    session_type, _ = SessionType.objects.get_or_create(
        program=program, name="Family session", defaults={"category": "family"}
    )
    end = (dt.datetime.combine(day, start) + dt.timedelta(hours=1)).time()
    return schedule.create_session(
        schedule.SessionInput(
            program=program,
            session_type=session_type,
            kind=kind,
            title="Family workshop" if kind == "family_workshop" else "Family session",
            day=day,
            start=start,
            end=end,
            facilitator=world.counsellor,
            room=program.site.rooms.get(name="Group Room"),
        ),
        actor=world.counsellor,
        episodes=[world.active.current_episode] if kind == "family" else [],
    )


def add_family_portal(world: World) -> None:
    """A family member of world.active with family portal access:
    `world.family_contact` (Jordan Active, parent), `world.family_consent` naming them for
    family involvement (enrolment), `world.portal_family` (username "portal-family", not
    in world.users), and `world.family_session`: a family appointment of world.active in
    two days at 17:00 to which the contact is invited (`world.family_invitation`)."""
    from openiop.family import services as family
    from openiop.participants.models import Contact
    from openiop.privacy import services as privacy

    if "portal_family" in world.records:
        return
    counsellor = world.counsellor
    contact = Contact.objects.create(
        participant=world.active,
        name="Jordan Active",
        relationship="parent",
        phone="(207) 555-0123",
        email="jordan@example.org",
        created_by=counsellor,
        updated_by=counsellor,
    )
    world.records["family_contact"] = contact
    world.records["family_consent"] = privacy.record_consent(
        world.active, family_consent_input(contact), actor=counsellor
    )
    world.records["portal_family"] = make_portal_user(
        world.active, kind="family", contact=contact, username="portal-family"
    )
    session = make_family_session(world, day=world.program.today() + dt.timedelta(days=2))
    world.records["family_session"] = session
    (world.records["family_invitation"],) = family.invite_to_session(
        session, [contact], actor=counsellor
    )


def add_education(world: World) -> None:
    """Education articles of world.program (by the director): `world.article` (published,
    for families, English), `world.article_es` (its Spanish counterpart, published),
    `world.support_article` (How to support, published), `world.draft_article` (not
    published) and `world.retired_article`."""
    from openiop.family import services as family

    if "article" in world.records:
        return
    director = world.director

    def write(title: str, **values: Any) -> Any:
        fields = {
            "section": "education",
            "audience": "family",
            "language": "en",
            "title": title,
            "summary": f"{title}: a short summary.",
            "body": f"{title}.\n\nA second paragraph.",
            "position": 10,
            **values,
        }
        return family.save_article(None, program=world.program, values=fields, actor=director)

    world.records["article"] = family.set_article_state(
        write("Addiction is a health condition"), "publish", actor=director
    )
    world.records["article_es"] = family.set_article_state(
        write("Qué es la adicción", language="es"), "publish", actor=director
    )
    world.records["support_article"] = family.set_article_state(
        write("Listening without judging", section="support"), "publish", actor=director
    )
    world.records["draft_article"] = write("A draft about relapse", position=20)
    world.records["retired_article"] = family.set_article_state(
        write("An old leaflet", position=30), "retire", actor=director
    )


# --- Issue 9, C: notifications ----------------------------------------------------------------
def add_message(world: World) -> None:
    """An outbox message to world.active (`world.message`: the letter-ready notice, queued
    as a text message to the participant's number)."""
    from openiop.notify import services as notify

    if "message" in world.records:
        return
    world.records["message"] = notify.notify_participant(
        world.active, "letter_ready", key="world:letter-ready"
    )


# --- Issue 10: discharge ------------------------------------------------------------------
def add_discharge(world: World) -> None:
    """`world.discharged`: a participant of the counsellor's caseload, admitted 28 days ago
    and discharged today as completed through the discharge service, with a draft summary
    (`world.discharge`, `world.discharge_summary`). Idempotent."""
    from openiop.discharge import services as discharge_services

    if "discharged" in world.participants:
        return
    participant = make_participant(
        world.program,
        world.intake,
        last="Discharged",
        status=S.ACTIVE,
        counsellor=world.counsellor,
    )
    today = world.program.today()
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("make_participant opens an episode")
    record = discharge_services.discharge_participant(
        episode,
        actor=world.counsellor,
        reason="completed",
        discharge_date=today,
        last_contact_date=today,
    )
    participant.refresh_from_db()
    world.participants["discharged"] = participant
    world.records["discharge"] = record
    world.records["discharge_summary"] = record.summary


# --- Outcomes dashboard (issue 10, point 4): episodes and their activity built directly ---


def add_outcome_episode(
    program: Program,
    actor: User,
    *,
    last: str,
    admitted: dt.date,
    discharged: dt.date | None = None,
    reason: str | None = None,
    track_name: str | None = "Morning",
    source: str = "self",
) -> Any:
    """An episode admitted on `admitted` (and discharged on `discharged` with `reason`;
    no reason: discharged without a Discharge record, as before issue 10). Dates, track
    and referral source are set directly, so figures can be worked out by hand."""
    from openiop.discharge.models import Discharge
    from openiop.participants.models import Episode

    participant = make_participant(program, actor, last=last, status=S.ACTIVE)
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("make_participant opens an episode")
    track = program.tracks.get(name=track_name) if track_name else None
    Episode.objects.filter(pk=episode.pk).update(
        admission_date=admitted,
        discharge_date=discharged,
        status=S.DISCHARGED if discharged else S.ACTIVE,
        track=track,
        referral_source=source,
    )
    episode.refresh_from_db()
    if discharged is not None and reason is not None:
        Discharge.objects.create(
            episode=episode,
            participant=participant,
            program=program,
            discharge_date=discharged,
            last_contact_date=discharged,
            reason=reason,
        )
    return episode


def add_outcome_session(program: Program, day: dt.date, *, cancelled: bool = False) -> Any:
    from openiop.scheduling.models import Session

    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    return Session.objects.create(
        program=program,
        session_type=SessionType.objects.filter(program=program).earliest("pk"),
        title="Process group",
        date=day,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        status="cancelled" if cancelled else "scheduled",
    )


def add_outcome_attendance(session: Any, episode: Any, status: str, **extra: Any) -> Any:
    from openiop.attendance.models import Attendance

    return Attendance.objects.create(
        session=session,
        episode=episode,
        participant_id=episode.participant_id,
        status=status,
        minutes_attended=180 if status in ("present", "late", "telehealth") else 0,
        **extra,
    )


def add_outcome_screen(
    episode: Any, day: dt.date, results: list[tuple[str, str, str]], *, actor: User
) -> Any:
    """A collected specimen on `day` with results (method, outcome, interpretation), each
    for the next analyte of the 12-panel cup."""
    from openiop.screening.models import Analyte, Collection, Order, Panel, Result

    ensure_screening_library()
    order = Order.objects.create(
        participant_id=episode.participant_id,
        episode=episode,
        program_id=episode.program_id,
        day=day,
        reason="random",
        panel=Panel.objects.get(name="12-panel urine cup"),
        status="collected",
    )
    collection = Collection.objects.create(
        order=order,
        participant_id=episode.participant_id,
        specimen_id=f"OUT-{order.pk}",
        specimen_type="urine",
        collected_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
        collected_by=actor,
    )
    analytes = list(Analyte.objects.order_by("code")[:3])
    for i, (method, outcome, interpretation) in enumerate(results):
        Result.objects.create(
            collection=collection,
            participant_id=episode.participant_id,
            analyte=analytes[0] if method == "definitive" else analytes[i % len(analytes)],
            method=method,
            outcome=outcome,
            interpretation=interpretation,
        )
    return collection


def add_outcome_score(episode: Any, code: str, total: int, day: dt.date, **extra: Any) -> Any:
    return InstrumentResponse.objects.create(
        participant_id=episode.participant_id,
        episode=episode,
        instrument=code,
        answers={},
        total=total,
        administered_on=day,
        occasion=Occasion.SCHEDULED,
        **extra,
    )


def add_outcome_follow_up(episode: Any, day_mark: int, status: str, **outcomes: Any) -> Any:
    from openiop.alumni.models import FollowUp

    discharge = episode.discharge
    return FollowUp.objects.create(
        discharge=discharge,
        episode=episode,
        participant_id=episode.participant_id,
        program_id=episode.program_id,
        day_mark=day_mark,
        due_date=discharge.discharge_date + dt.timedelta(days=day_mark),
        status=status,
        **outcomes,
    )


def grow_outcomes(program: Program, actor: User, n: int, first: dt.date) -> None:
    """`n` discharged episodes admitted from `first`, each with two sessions (attended and
    missed), a resulted screen, two PHQ-9 scores and a reached 30-day follow-up (for the
    query counts of the dashboard)."""
    reasons = ["completed", "against_advice", "administrative", None]
    for i in range(n):
        admitted = first + dt.timedelta(days=i)
        episode = add_outcome_episode(
            program,
            actor,
            last=f"Grown{i}",
            admitted=admitted,
            discharged=admitted + dt.timedelta(days=20 + i),
            reason=reasons[i % len(reasons)] or "other",
            track_name="Morning" if i % 2 else "Evening",
            source="court" if i % 3 else "self",
        )
        for offset, status in ((1, "present"), (2, "absent_unexcused")):
            session = add_outcome_session(program, admitted + dt.timedelta(days=offset))
            add_outcome_attendance(session, episode, status)
        add_outcome_screen(
            episode,
            admitted + dt.timedelta(days=3),
            [("presumptive", "negative", "negative")],
            actor=actor,
        )
        add_outcome_score(episode, "PHQ-9", 18, admitted)
        add_outcome_score(episode, "PHQ-9", 9, admitted + dt.timedelta(days=14))
        add_outcome_follow_up(
            episode, 30, "reached", use_since_discharge="none", quality_of_life=7, readmitted=False
        )


# --- Issue 10, aftercare and alumni -----------------------------------------------------------
def make_discharged(
    world: World,
    *,
    last: str,
    days_ago: int,
    reason: str = "completed",
    first: str = "Pat",
    program: Program | None = None,
    counsellor: User | None = None,
) -> Any:
    """A participant discharged `days_ago` days ago (the episode moved to Discharged, then
    a Discharge row written directly, as the discharge service would) with follow-ups
    scheduled. Returns the Discharge."""
    from openiop.alumni.services import schedule_follow_ups
    from openiop.discharge.models import Discharge

    program = program or world.program
    counsellor = counsellor or world.users[Role.COUNSELLOR]
    actor = world.users[Role.INTAKE] if program == world.program else world.users["outsider"]
    participant = make_participant(
        program,
        actor,
        last=last,
        first=first,
        status=S.ACTIVE,
        counsellor=counsellor,
        days_ago=days_ago + 60,
    )
    episode = participant.current_episode
    if episode is None:
        raise RuntimeError("make_participant opens an episode")
    day = program.today() - dt.timedelta(days=days_ago)
    episode = services.transition_episode(
        episode, S.DISCHARGED, actor=counsellor, effective_date=day, reason="Completed treatment"
    )
    discharge = Discharge.objects.create(
        episode=episode,
        participant=participant,
        program=program,
        discharge_date=day,
        last_contact_date=day,
        reason=reason,
        level_at_discharge=episode.level_of_care,
        discharged_by=counsellor,
        discharged_by_name=counsellor.display_name,
    )
    schedule_follow_ups(discharge, counsellor)
    participant.refresh_from_db()
    world.participants[last.lower()] = participant
    return discharge


def add_discharged(world: World) -> None:
    """Discharged participants of world.program with follow-ups (counsellor's caseload):
    `world.alumnus` discharged 35 days ago (30-day follow-up `world.follow_up`, 5 days
    overdue; `world.later_follow_up`, the 60-day one, due in 25 days), `world.alumna`
    discharged 55 days ago (her 60-day follow-up `world.due_follow_up` due in 5 days);
    `world.foreign_follow_up`, a follow-up of the other program; and an alumni event of
    world.program yesterday evening, `world.alumni_event`. Alumna's 30-day follow-up is
    done (reached): `world.done_follow_up`."""
    from openiop.alumni.models import AlumniEvent, FollowUp
    from openiop.alumni.services import log_attempt

    if "follow_up" in world.records:
        return
    first = make_discharged(world, last="Alumnus", days_ago=35)
    second = make_discharged(world, last="Alumna", first="Jo", days_ago=55)
    foreign = make_discharged(
        world,
        last="Elsewhere",
        days_ago=35,
        program=world.other_program,
        counsellor=world.users["outsider"],
    )
    world.records["alumnus_discharge"] = first
    world.records["follow_up"] = FollowUp.objects.get(discharge=first, day_mark=30)
    world.records["later_follow_up"] = FollowUp.objects.get(discharge=first, day_mark=60)
    world.records["due_follow_up"] = FollowUp.objects.get(discharge=second, day_mark=60)
    done = FollowUp.objects.get(discharge=second, day_mark=30)
    world.records["done_follow_up"] = log_attempt(
        done,
        actor=world.users[Role.COUNSELLOR],
        method="phone",
        reached=True,
        outcomes={
            "use_since_discharge": "none",
            "occupation": "full_time",
            "housing": "stable",
            "readmitted": False,
            "quality_of_life": 8,
            "in_aftercare": True,
        },
        expected_version=done.version,
    )
    world.records["foreign_follow_up"] = FollowUp.objects.get(discharge=foreign, day_mark=30)
    tz = world.program.tz
    yesterday = world.program.today() - dt.timedelta(days=1)
    world.records["alumni_event"] = AlumniEvent.objects.create(
        program=world.program,
        title="Alumni night",
        starts_at=dt.datetime.combine(yesterday, dt.time(18), tzinfo=tz),
        ends_at=dt.datetime.combine(yesterday, dt.time(19, 30), tzinfo=tz),
        location="Group Room",
        facilitator=world.users[Role.COUNSELLOR],
    )


def add_aftercare(world: World) -> None:
    """An aftercare plan of world.active (`world.aftercare_plan`, being prepared, with a
    crisis plan) with one booked referral (`world.aftercare_referral`)."""
    from openiop.discharge import aftercare_services as aftercare

    if "aftercare_plan" in world.records:
        return
    counsellor = world.users[Role.COUNSELLOR]
    plan, _made = aftercare.start_plan(world.active.current_episode, actor=counsellor)
    plan = aftercare.save_plan(
        plan,
        actor=counsellor,
        values={"goals": "Keep going to meetings", "crisis_plan": "Call 988 or Dana."},
        expected_version=plan.version,
    )
    start = dt.datetime.combine(
        world.program.today() + dt.timedelta(days=10), dt.time(10), tzinfo=world.program.tz
    )
    world.records["aftercare_referral"] = aftercare.add_referral(
        plan,
        actor=counsellor,
        values={
            "kind": "therapy",
            "provider": "Harbor Counseling",
            "contact": "(207) 555-0188",
            "appointment_at": start,
            "responsible": "counsellor",
            "status": "booked",
        },
    )
    plan.refresh_from_db()
    world.records["aftercare_plan"] = plan


# --- H4 (issue 10): TEDS admission items ---------------------------------------------------

# A complete, consistent set of TEDS admission items (a woman, alcohol then marijuana, no
# third substance): the export accepts it as it is.
TEDS_ITEMS: dict[str, Any] = {
    "sex": 2,
    "race": 5,
    "ethnicity": 4,
    "marital_status": 1,
    "education": 3,
    "employment": 1,
    "living": 3,
    "veteran": 2,
    "pregnant": 2,
    "arrests": 0,
    "psychiatric_problem": 1,
    "prior_treatment": 1,
    "methuse": 2,
    "self_help": 2,
    "sub1": 2,
    "route1": 1,
    "freq1": 3,
    "frstuse1": 15,
    "sub2": 4,
    "route2": 2,
    "freq2": 2,
    "frstuse2": 16,
    "sub3": 1,
    "route3": None,
    "freq3": None,
    "frstuse3": None,
}


def add_teds_items(world: World, name: str = "active", **overrides: Any) -> Any:
    """World participant `name`'s TEDS admission items (`world.teds_items`), recorded by
    the intake coordinator through the service: complete unless `overrides` say otherwise."""
    from openiop.intake.teds_services import record_teds_items

    episode = world.participants[name].current_episode
    if episode is None:
        raise RuntimeError(f"{name} has no episode")
    items = record_teds_items(
        episode,
        actor=world.intake,
        values={**TEDS_ITEMS, **overrides},
        expected_version=0,
    )
    world.records["teds_items"] = items
    return items


def add_outcomes_story(world: World, n: int = 30) -> None:
    """A year of a program for the outcomes dashboard's screenshot and browser test: `n`
    episodes admitted over the last 11 months on both tracks, discharged for every reason
    (some not recorded, some still in care), with sessions, screens, PHQ-9 and GAD-7
    scores and follow-ups. Deterministic (a seeded generator)."""
    import random

    rng = random.Random(10)  # noqa: S311  (test data, not a secret)
    program, actor = world.program, world.intake
    today = program.today()
    reasons: list[str | None] = [*(["completed"] * 5), "against_advice", "against_advice"]
    reasons += ["administrative", "step_up"]
    reasons += ["step_down", "incarcerated", "other", None]
    sources = ["self", "court", "family", "hospital", "step_down", "detox", "court"]
    sessions: dict[dt.date, Any] = {}
    for i in range(n):
        admitted = today - dt.timedelta(days=330 - i * 10 - rng.randint(0, 6))
        stay = rng.randint(12, 95)
        out = admitted + dt.timedelta(days=stay)
        still_in_care = out >= today or i % 9 == 4
        discharged = None if still_in_care else out
        reason = None if still_in_care else reasons[(i * 5) % len(reasons)]
        episode = add_outcome_episode(
            program,
            actor,
            last=f"Story{i}",
            admitted=admitted,
            discharged=discharged,
            reason=reason,
            track_name="Morning" if i % 3 else "Evening",
            source=rng.choice(sources),
        )
        end = discharged or today
        day = admitted + dt.timedelta(days=1)
        while day < end and day < admitted + dt.timedelta(days=40):
            if day not in sessions:
                sessions[day] = add_outcome_session(program, day)
            roll = rng.random()
            status = "present" if roll < 0.78 else "absent_unexcused" if roll < 0.92 else "late"
            add_outcome_attendance(sessions[day], episode, status)
            day += dt.timedelta(days=rng.choice([2, 3, 4]))
        for week in range(0, min((end - admitted).days, 60), 14):
            negative = rng.random() < 0.8
            clean, found = ("negative", "negative"), ("positive", "unexpected")
            result = ("presumptive", *(clean if negative else found))
            add_outcome_screen(
                episode, admitted + dt.timedelta(days=week + 2), [result], actor=actor
            )
        start = rng.randint(10, 22)
        add_outcome_score(episode, "PHQ-9", start, admitted + dt.timedelta(days=1))
        add_outcome_score(
            episode, "PHQ-9", max(start - rng.randint(-2, 12), 0), end - dt.timedelta(days=1)
        )
        gad = rng.randint(8, 18)
        add_outcome_score(episode, "GAD-7", gad, admitted + dt.timedelta(days=1))
        add_outcome_score(episode, "GAD-7", max(gad - rng.randint(-1, 9), 0), end)
        if reason is None or reason == "died":
            continue
        for mark in (30, 60, 90, 180):
            if discharged is None or discharged + dt.timedelta(days=mark) > today:
                break
            if rng.random() < 0.3:
                add_outcome_follow_up(episode, mark, "not_reached")
                continue
            add_outcome_follow_up(
                episode,
                mark,
                "reached",
                use_since_discharge=rng.choice(["none", "none", "none", "lapse", "relapse"]),
                occupation=rng.choice(["full_time", "part_time", "school", "unemployed"]),
                housing=rng.choice(["stable", "stable", "sober_living", "temporary"]),
                readmitted=rng.random() < 0.15,
                quality_of_life=rng.randint(4, 9),
            )


# --- Billing (issue 11) ---------------------------------------------------------------


def add_billing(world: World) -> None:
    """Billing set up for world.program and world.active (idempotent):
    `world.billing_profile` (3-hour billable minimum, $250 a day), `world.payer` (Harbor
    Health Plan, commercial, authorisation needed), `world.coverage` (world.active's
    primary coverage from 60 days ago), `world.authorisation` (20 days of H0015 from 30
    days ago to 30 days ahead, review due in 7 days), a primary diagnosis on world.active's
    episode, and the TPO consent of `add_privacy` (so claims may go to the payer).
    world.active's attended group of `world.session` with its signed note is a billable
    day."""
    from decimal import Decimal

    from openiop.billing.choices import CoverageKind, PayerKind, Sex
    from openiop.billing.models import Authorisation, BillingProfile, Coverage, Payer
    from openiop.intake.models import Diagnosis

    if "payer" in world.records:
        return
    add_privacy(world)
    program, active = world.program, world.active
    today = program.today()
    episode = active.current_episode
    if episode is None:
        raise RuntimeError("world.active has an episode")
    world.records["billing_profile"] = BillingProfile.objects.create(
        program=program,
        billing_name="Harbor IOP LLC",
        npi="1234567893",
        tax_id="123456789",
        address_line="12 Harbor Street",
        city="Portland",
        state="ME",
        postal_code="041011234",
        phone="2075550100",
        submitter_id="HARBOR01",
        receiver_id="CLEARHOUSE",
        receiver_name="Clearing House",
        contact_name="Bea Biller",
        daily_charge=Decimal("250.00"),
    )
    world.records["payer"] = Payer.objects.create(
        program=program,
        name="Harbor Health Plan",
        payer_id="HHP01",
        kind=PayerKind.COMMERCIAL,
    )
    world.records["coverage"] = Coverage.objects.create(
        participant=active,
        kind=CoverageKind.INSURANCE,
        payer=world.records["payer"],
        member_id="HHP123456",
        group_number="GRP-77",
        patient_sex=Sex.FEMALE,
        start_date=today - dt.timedelta(days=60),
        verified_on=today - dt.timedelta(days=60),
        verified_by_name="Ivy Intake",
        created_by=world.intake,
    )
    world.records["authorisation"] = Authorisation.objects.create(
        coverage=world.records["coverage"],
        participant=active,
        episode=episode,
        service_code="H0015",
        units=20,
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=30),
        reference_number="AUTH-1001",
        next_review_on=today + dt.timedelta(days=7),
        created_by=world.intake,
    )
    if not Diagnosis.objects.filter(episode=episode, voided=False).exists():
        Diagnosis.objects.create(
            episode=episode,
            participant=active,
            code="F10.20",
            description="Alcohol dependence, uncomplicated",
            primary=True,
            noted_on=today - dt.timedelta(days=30),
        )


def add_claim(world: World) -> None:
    """Helper A (issue 11): `world.claim`, a DRAFT claim to world.payer for world.active's
    billable day (world.session's), built by `billing.claims.build_claims` after
    `add_billing` (idempotent). world.active gets a postal address for the 837P."""
    from openiop.billing import claims

    if "claim" in world.records:
        return
    add_billing(world)
    active = world.active
    if not active.address_line1:
        active.address_line1 = "4 Fore Street"
        active.city = "Portland"
        active.state = "ME"
        active.postal_code = "04101"
        active.save(update_fields=["address_line1", "city", "state", "postal_code"])
    day = world.session.date
    result = claims.build_claims(
        world.program,
        world.payer,
        day,
        day,
        actor=world.users["billing"],
        today=world.program.today(),
    )
    if len(result.claims) != 1:
        raise RuntimeError(f"add_claim built {len(result.claims)} claims: {result.summary()}")
    world.records["claim"] = result.claims[0]


def add_claim_batch(world: World) -> None:
    """Helper A (issue 11): world.claim submitted to world.payer in `world.claim_batch`
    (an 837P test file), after `add_claim` (idempotent)."""
    from openiop.billing import claims

    if "claim_batch" in world.records:
        return
    add_claim(world)
    batch = claims.submit_claims([world.records["claim"]], actor=world.users["billing"])
    world.records["claim_batch"] = batch
    world.records["claim"].refresh_from_db()


def add_review_packet_story(world: World) -> None:
    """For concurrent review (issue 11, helper C), after `add_billing` (idempotent):
    world.active's signed initial ASAM assessment at admission (`world.asam_then`,
    ratings 2,1,2,2,3,2, level 2.1) and a signed reassessment 3 days ago
    (`world.asam_now`, ratings 1,0,1,1,2,1), a negative screen 10 days ago and an
    unexpected positive 5 days ago."""
    from openiop.intake.models import Assessment

    add_billing(world)
    if "asam_then" in world.records:
        return
    active, counsellor = world.active, world.counsellor
    episode = active.current_episode
    if episode is None or episode.admission_date is None:
        raise RuntimeError("world.active is admitted")
    today = world.program.today()
    for name, kind, day, ratings in (
        ("asam_then", "initial", episode.admission_date, (2, 1, 2, 2, 3, 2)),
        ("asam_now", "reassessment", today - dt.timedelta(days=3), (1, 0, 1, 1, 2, 1)),
    ):
        values = {f"rating_{n}": r for n, r in enumerate(ratings, start=1)}
        world.records[name] = Assessment.objects.create(
            episode=episode,
            participant=active,
            kind=kind,
            assessed_on=day,
            recommended_level="3:2.1",
            chosen_level="3:2.1",
            status="signed",
            signed_at=timezone.now(),
            signed_by=counsellor,
            signed_by_name=counsellor.display_name,
            created_by=counsellor,
            **values,
        )
    add_outcome_screen(
        episode,
        today - dt.timedelta(days=10),
        [("presumptive", "negative", "negative")],
        actor=world.lab,
    )
    add_outcome_screen(
        episode,
        today - dt.timedelta(days=5),
        [("presumptive", "positive", "unexpected")],
        actor=world.lab,
    )


def add_review_packet(world: World) -> None:
    """`world.review_packet`: a concurrent-review packet of world.authorisation made by
    the billing persona through `billing.packet.make_packet` (idempotent)."""
    from openiop.billing.packet import make_packet

    add_review_packet_story(world)
    if "review_packet" in world.records:
        return
    auth = world.authorisation
    auth.refresh_from_db()
    world.records["review_packet"] = make_packet(
        auth, actor=world.billing, today=world.program.today(), expected_version=auth.version
    )


def add_coverage_days(world: World, offsets: Any, *, minutes: int = 180) -> list[Any]:
    """Days world.active attended an individual session of `minutes` (no note written),
    `offsets` days before today each; the sessions made (helper B, issue 11)."""
    from openiop.attendance.models import Attendance
    from openiop.scheduling.choices import SessionKind
    from openiop.scheduling.models import Session

    program, active = world.program, world.active
    episode = active.current_episode
    if episode is None:
        raise RuntimeError("world.active has an episode")
    session_type = program.session_types.get(name="Process group")
    today = program.today()
    made = []
    for offset in offsets:
        day = today - dt.timedelta(days=offset)
        starts = dt.datetime.combine(day, dt.time(13), tzinfo=program.tz)
        session = Session.objects.create(
            program=program,
            kind=SessionKind.INDIVIDUAL,
            session_type=session_type,
            title="Individual session",
            date=day,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=minutes),
            facilitator=world.counsellor,
        )
        Attendance.objects.create(
            session=session,
            episode=episode,
            participant=active,
            status="present",
            minutes_attended=minutes,
        )
        made.append(session)
    return made


def add_sliding_fee(world: World) -> None:
    """Billing (`add_billing`) with world.program's sliding fee (helper B, issue 11):
    $25 a day up to 100% of the poverty guideline, $75 up to 200%, and the full $250
    above (`world.sliding_tier` is the 200% tier); `world.spare_payer`, a payer no
    coverage uses; `world.foreign_payer`, a payer of world.other_program; and
    `world.spare_coverage`, world.referred's self-pay arrangement (full fee, nothing
    billed under it). Idempotent."""
    from decimal import Decimal

    from openiop.billing.choices import CoverageKind, PayerKind
    from openiop.billing.models import Coverage, Payer, SlidingFeeTier

    add_billing(world)
    if "sliding_tier" in world.records:
        return
    SlidingFeeTier.objects.create(
        program=world.program, up_to_percent=100, fee_per_day=Decimal("25.00")
    )
    world.records["sliding_tier"] = SlidingFeeTier.objects.create(
        program=world.program, up_to_percent=200, fee_per_day=Decimal("75.00")
    )
    SlidingFeeTier.objects.create(
        program=world.program, up_to_percent=None, fee_per_day=Decimal("250.00")
    )
    world.records["spare_payer"] = Payer.objects.create(
        program=world.program, name="Pine State Medicaid", payer_id="MCDME", kind=PayerKind.MEDICAID
    )
    world.records["foreign_payer"] = Payer.objects.create(
        program=world.other_program, name="Other Plan", payer_id="OTH01", kind=PayerKind.OTHER
    )
    world.records["spare_coverage"] = Coverage.objects.create(
        participant=world.participants["referred"],
        kind=CoverageKind.SELF_PAY,
        start_date=world.program.today() - dt.timedelta(days=5),
        created_by=world.intake,
    )
