"""The synthetic demo program: deterministic, fictional, and safe to show.

Same seed, same program: names, dates (relative to the day it is loaded), caseloads
and histories come from a seeded `random.Random`. Every write goes through the same
service functions the UI uses, so the demo's audit trail and histories look real.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from openiop.accounts.models import SecurityPolicy, User
from openiop.accounts.services import save_security_policy, save_staff_user
from openiop.core.context import request_context
from openiop.core.roles import Role
from openiop.demo import clinical, schedule
from openiop.demo import notes as notes_demo
from openiop.demo import plans as plans_demo
from openiop.demo import privacy as privacy_demo
from openiop.demo import relapse as relapse_demo
from openiop.demo import screening as screening_demo
from openiop.discharge import services as discharge_services
from openiop.intake import services as intake_services
from openiop.participants import services as participant_services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.choices import ReferralSource
from openiop.participants.models import Episode, Participant
from openiop.programs.choices import LevelOfCare, Modality, SessionCategory
from openiop.programs.models import Program, Room, SessionType, Site, Topic, Track

DEMO_PASSWORD = "openiop-demo"  # noqa: S105  (the published demo password)
DEMO_PROGRAM = "Harbor Light IOP"
DEMO_SEED = 20261124

FIRST = [
    "Avery",
    "Jordan",
    "Maria",
    "DeShawn",
    "Priya",
    "Tomás",
    "Kayla",
    "Marcus",
    "Lena",
    "Hiro",
    "Grace",
    "Andre",
    "Sofia",
    "Caleb",
    "Nadia",
    "Elijah",
    "Rosa",
    "Trevor",
    "Aaliyah",
    "Sam",
    "Bridget",
    "Omar",
    "Haley",
    "Luis",
    "Megan",
    "Tyrone",
    "Ingrid",
    "Jamal",
    "Chloe",
    "Dmitri",
    "Tara",
    "Victor",
    "Keisha",
    "Noah",
    "Yara",
    "Wes",
    "Imani",
    "Rafael",
    "Jenna",
    "Colin",
    "Farah",
    "Gabe",
]
LAST = [
    "Alvarez",
    "Brooks",
    "Chen",
    "Dawson",
    "Ellis",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Murphy",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quinn",
    "Russo",
    "Sullivan",
    "Thompson",
    "Underwood",
    "Vasquez",
    "Walsh",
    "Xu",
    "Young",
    "Zimmerman",
    "Bennett",
    "Castillo",
    "Donovan",
    "Espinoza",
    "Foster",
    "Grant",
    "Hale",
    "Iverson",
]
PRONOUNS = ["she/her", "he/him", "they/them", "", "she/her", "he/him"]
STREETS = ["Maple Ave", "Harbor St", "Elm St", "Cedar Ln", "Lincoln Rd", "Water St", "Oak Ct"]
RELATIONS = ["Mother", "Father", "Sister", "Brother", "Spouse", "Partner", "Friend", "Aunt"]
NOT_ADMITTED_REASONS = [
    "Needs medically monitored withdrawal first; referred to detox with plan to return.",
    "Declined services after screening; given crisis line and open invitation to return.",
]
ELSEWHERE_REASONS = ["Referred to Bayview Residential (Level 3.5): unstable housing and daily use."]
# (reason, what happened, level of care going to, receiving program) of the recent
# discharges; the outcomes demo (demo/outcomes.py) adds a year of older ones.
DISCHARGE_REASONS = [
    (
        "step_down",
        "Met treatment-plan goals; stepping down to weekly outpatient.",
        LevelOfCare.E3_1,
        "Harborview Counseling (weekly outpatient)",
    ),
    ("completed", "Completed program; continuing in alumni group and SMART Recovery.", "", ""),
    ("against_advice", "Left against advice after 5 weeks; outreach attempted twice.", "", ""),
    (
        "step_up",
        "Return to daily use despite added sessions; needs residential care.",
        LevelOfCare.E3_3_5,
        "Bayview Residential (Level 3.5)",
    ),
    ("completed", "Completed program; aftercare with community therapist arranged.", "", ""),
]

STAFF = [
    # username, first, last, credentials, roles
    ("director", "Dana", "Whitfield", "LCSW", [Role.DIRECTOR]),
    ("intake", "Ivan", "Morales", "CADC", [Role.INTAKE]),
    ("counsellor", "Casey", "Romero", "LADC", [Role.COUNSELLOR]),
    # A counsellor in training: notes go to the supervisor's co-signature queue.
    ("supervisee", "Riley", "Tran", "CADC-T", [Role.COUNSELLOR]),
    ("supervisor", "Sandra", "Okoye", "LPC, LADC-S", [Role.SUPERVISOR]),
    ("lab", "Leo", "Park", "RN", [Role.LAB]),
    ("billing", "Bea", "Lindqvist", "", [Role.BILLING]),
    ("compliance", "Carmen", "Diaz", "CHC", [Role.COMPLIANCE]),
    ("admin", "Alex", "Kim", "", [Role.ADMIN]),
]
# Colleagues without demo logins, so caseloads and care teams look like a real program.
COLLEAGUES = [
    ("mreyes", "Miguel", "Reyes", "LMFT", [Role.COUNSELLOR]),
    ("jharper", "Jess", "Harper", "CADC-II", [Role.COUNSELLOR]),
]

# Where the 40 participants are in the lifecycle.
PLAN = (
    [S.REFERRED] * 5
    + [S.SCREENING] * 4
    + [S.ASSESSED] * 3
    + [S.ADMITTED] * 3
    + [S.ACTIVE] * 14
    + [S.DISCHARGED] * 5
    + [S.ALUMNI] * 3
    + [S.NOT_ADMITTED] * 2
    + [S.REFERRED_ELSEWHERE] * 1
)


class RealDataPresent(Exception):
    pass


@dataclass
class DemoResult:
    created: bool
    participants: int


def demo_loaded() -> bool:
    return Program.objects.filter(name=DEMO_PROGRAM, is_demo=True).exists()


def check_safe_to_load() -> None:
    """Refuse a database that holds anything but the demo (real participants or staff)."""
    if Participant.objects.exclude(program__is_demo=True).exists():
        raise RealDataPresent("This database holds participants that are not demo data.")
    demo_names = {s[0] for s in STAFF + COLLEAGUES}
    if User.objects.exclude(username__in=demo_names).exists():
        raise RealDataPresent("This database holds staff accounts that are not demo accounts.")
    if Program.objects.filter(is_demo=False).exists():
        raise RealDataPresent("This database holds programs that are not the demo program.")


def build(seed: int = DEMO_SEED, today: dt.date | None = None) -> DemoResult:
    if demo_loaded():
        if not SecurityPolicy.objects.exists():  # a demo loaded before sign-in security
            with request_context(source="demo"):
                save_security_policy(roles=[], actor=None)
        return DemoResult(created=False, participants=Participant.objects.count())
    check_safe_to_load()
    rng = random.Random(seed)
    with transaction.atomic(), request_context(source="demo"):
        program, tracks = _program()
        staff = _staff(program)
        # A demo is a demo: no role must use two-factor sign-in, so every published login
        # works with the password alone (anyone may still turn it on for themselves).
        save_security_policy(roles=[], actor=None)
        today = today or program.today()
        count = _participants(rng, program, tracks, staff, today)
        # After the admissions: enrolments exist, so past sessions have their rosters.
        schedule.build_schedule(rng, program, tracks, staff, today)
        # Contacts and relapse-prevention plans (their own random stream: adding them
        # changes nothing else in the demo).
        relapse_demo.build(random.Random(seed + 7), program, today)
        # Treatment plans for the active participants (their own random stream).
        plans_demo.build(random.Random(seed + 13), program, staff, today)
        # Progress notes, last: after the treatment plans (if any) so notes can address
        # their goals. Their own random stream too.
        notes_demo.build_notes(random.Random(seed + 11), program, staff, today)
        # Eight weeks of drug screening: draws, collections, results and reviews (after
        # the check-ins, whose reported use the results follow).
        screening_demo.build(random.Random(seed + 17), program, staff, today)
        # Consents, letters released under them, emergency accesses (own random stream).
        privacy_demo.build(random.Random(seed + 19), program, staff, today)
        # Attendance letters: one produced (its code is in the user guide), two waiting,
        # one declined; after the consents they rely on (D, issue 9).
        from openiop.demo import letters as letters_demo

        letters_demo.build(random.Random(seed + 37), program, staff, today)
        # Notifications: message choices and an outbox to read (C, issue 9).
        from openiop.demo import notify as notify_demo

        notify_demo.build(random.Random(seed + 43), program, staff, today)
        # Family members with consents, weekly family workshops, education, the "family"
        # portal login (B, issue 9; own random stream).
        from openiop.demo import family as family_demo

        family_demo.build(random.Random(seed + 53), program, staff, today)
        # The participant portal login "participant" and its check-ins (A, issue 9).
        from openiop.demo import portal as portal_demo

        portal_demo.build(random.Random(seed + 29), program, staff, today)
        # A year of past admissions and discharges with every reason, aftercare plans,
        # TEDS items and follow-up calls, so the outcomes dashboard tells a story (issue 10).
        from openiop.demo import outcomes as outcomes_demo

        outcomes_demo.build_all(random.Random(seed + 61), program, tracks, staff, today)
        # Billing: profile, payers, coverage, authorisations near their limits and a month
        # of claims (issue 11); last, reading the rest without changing it (own stream).
        from openiop.demo import billing as billing_demo

        billing_demo.build(random.Random(seed + 67), program, staff, today)
        # Two API clients with published secrets, so the FHIR API can be tried (issue 12).
        from openiop.demo import fhir as fhir_demo

        fhir_demo.build(program, staff)
    return DemoResult(created=True, participants=count)


def _program() -> tuple[Program, list[Track]]:
    site = Site.objects.create(
        name="Harbor Light Recovery Center",
        address="120 Water St, Portland, ME 04101",
        phone="(207) 555-0140",
    )
    program = Program.objects.create(
        site=site,
        name=DEMO_PROGRAM,
        time_zone="America/New_York",
        level_of_care=LevelOfCare.E3_2_1,
        min_weekly_hours=Decimal("9"),
        is_demo=True,
    )
    morning = Track.objects.create(
        program=program,
        name="Morning track",
        days=[0, 1, 3],
        start_time=dt.time(9, 0),
        end_time=dt.time(12, 0),
        modality=Modality.IN_PERSON,
        description="Mon, Tue, Thu mornings: for people working evening or night shifts.",
    )
    evening = Track.objects.create(
        program=program,
        name="Evening track",
        days=[0, 2, 3],
        start_time=dt.time(18, 0),
        end_time=dt.time(21, 0),
        modality=Modality.HYBRID,
        description="Mon, Wed, Thu evenings: in person or by telehealth after work.",
    )
    for name, capacity in [
        ("Group Room A", 14),
        ("Group Room B", 12),
        ("Family Room", 10),
        ("Counselling Office 1", 3),
        ("Counselling Office 2", 3),
    ]:
        Room.objects.create(site=site, name=name, capacity=capacity)
    for name, category, minutes in [
        ("Process group", SessionCategory.GROUP_THERAPY, 90),
        ("Individual counselling", SessionCategory.INDIVIDUAL, 50),
        ("Family session", SessionCategory.FAMILY, 60),
        ("Psychoeducation", SessionCategory.PSYCHOEDUCATION, 60),
        ("DBT skills workshop", SessionCategory.SKILLS, 60),
        ("Mindfulness and movement", SessionCategory.HOLISTIC, 30),
    ]:
        SessionType.objects.create(
            program=program, name=name, category=category, default_minutes=minutes
        )
    topics = [
        ("Understanding addiction", "How substance use changes the brain and behaviour."),
        ("Coping with cravings", "Urge surfing, delay and distract, and the craving plan."),
        ("Relapse prevention", "Triggers, high-risk situations and warning signs."),
        ("Stress and emotions", "Recognising stress and managing it without substances."),
        ("Healthy communication", "Assertiveness, refusal skills and repairing relationships."),
        ("Nutrition and wellness", "Sleep, food and exercise in early recovery."),
        ("Vocational and social skills", "Work, money and building a sober social life."),
        ("Families in recovery", "How addiction affects families and how they can help."),
    ]
    for i, (title, description) in enumerate(topics, start=1):
        Topic.objects.create(program=program, title=title, description=description, sequence=i)
    return program, [morning, evening]


def _staff(program: Program) -> dict[str, User]:
    users = {}
    for username, first, last, credentials, roles in STAFF + COLLEAGUES:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            credentials=credentials,
            email=f"{username}@harborlight.example",
            notes_need_cosign=username == "supervisee",
        )
        password = DEMO_PASSWORD if (username, first, last, credentials, roles) in STAFF else None
        save_staff_user(
            user,
            actor=None,
            roles=list(roles),
            programs=[] if Role.ADMIN in roles else [program],
            password=password,
        )
        users[username] = user
    return users


def _participants(
    rng: random.Random,
    program: Program,
    tracks: list[Track],
    staff: dict[str, User],
    today: dt.date,
) -> int:
    counsellors = [staff["counsellor"], staff["counsellor"], staff["mreyes"], staff["jharper"]]
    intake, supervisor = staff["intake"], staff["supervisor"]
    tz = program.tz
    names = [(f, ln) for f in FIRST for ln in LAST]
    safety_raised = False
    rng.shuffle(names)
    for i, target in enumerate(PLAN):
        first, last = names[i]
        counsellor = counsellors[i % len(counsellors)]
        track = tracks[i % 2]
        # How long ago the episode started depends on how far along it is.
        depth = {
            S.REFERRED: (0, 9),
            S.SCREENING: (3, 12),
            S.ASSESSED: (5, 15),
            S.ADMITTED: (6, 20),
            S.ACTIVE: (14, 80),
            S.DISCHARGED: (70, 160),
            S.ALUMNI: (150, 330),
            S.NOT_ADMITTED: (10, 40),
            S.REFERRED_ELSEWHERE: (8, 30),
        }[target]
        referral = today - dt.timedelta(days=rng.randint(*depth))

        def at(day: dt.date, hour: int = 10) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59)), tzinfo=tz)

        dob = dt.date(today.year - rng.randint(19, 64), rng.randint(1, 12), rng.randint(1, 28))
        identity = {
            "legal_first_name": first,
            "legal_last_name": last,
            "preferred_name": "Sam" if first == "Samuel" else "",
            "pronouns": rng.choice(PRONOUNS),
            "date_of_birth": dob,
            "phone": f"(207) 555-{rng.randint(1000, 9999)}",
            "email": f"{first.lower()}.{last.lower()}@example.org",
            "address_line1": f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
            "city": rng.choice(["Portland", "South Portland", "Westbrook", "Falmouth"]),
            "state": "ME",
            "postal_code": f"04{rng.randint(100, 199)}",
            "preferred_language": "Spanish" if rng.random() < 0.12 else "English",
            "emergency_contact_name": f"{rng.choice(FIRST)} {last}",
            "emergency_contact_relationship": rng.choice(RELATIONS),
            "emergency_contact_phone": f"(207) 555-{rng.randint(1000, 9999)}",
        }
        source = rng.choice(ReferralSource.values)
        referral_obj = intake_services.create_referral(
            actor=intake,
            program=program,
            referral_source=source,
            referral_date=referral,
            details=clinical.referral_details(rng, source, i, intake),
            identity=identity,
            at=at(referral, 9),
        )
        participant = referral_obj.participant
        episode: Episode = referral_obj.episode
        day = referral

        def step(to: str, gap: tuple[int, int], actor: User, reason: str = "", **changes) -> None:
            nonlocal day, episode
            day = min(day + dt.timedelta(days=rng.randint(*gap)), today)
            episode = participant_services.transition_episode(
                episode,
                to,
                actor=actor,
                effective_date=day,
                reason=reason,
                changes=changes or None,
                today=today,
                at=at(day, 11),
            )

        def advance(gap: tuple[int, int]) -> dt.date:
            nonlocal day
            day = min(day + dt.timedelta(days=rng.randint(*gap)), today)
            return day

        # Contact: most referrals are reached within a few calls.
        attempts = 0 if (target == S.REFERRED and i % 2 == 0) else 1 + i % 3
        if attempts:
            clinical.contact_attempts(referral_obj, intake, at(referral, 10), rng, attempts)
        if target == S.REFERRED:
            continue
        flagged = target in (S.NOT_ADMITTED, S.REFERRED_ELSEWHERE) or i % 7 == 3
        intake_services.record_prescreen(
            episode,
            actor=intake,
            answers=clinical.screen_answers(flagged, rng),
            screened_on=advance((0, 2)),
            at=at(day, 13),
        )
        episode.refresh_from_db()
        if target in (S.NOT_ADMITTED, S.REFERRED_ELSEWHERE):
            close_day = advance((1, 3))
            if target == S.NOT_ADMITTED:
                reason = NOT_ADMITTED_REASONS[i % len(NOT_ADMITTED_REASONS)]
                intake_services.close_referral(
                    referral_obj,
                    actor=intake,
                    outcome="not_admitted",
                    effective_date=close_day,
                    reason_code="level" if "detox" in reason else "declined",
                    note=reason,
                )
            else:
                intake_services.close_referral(
                    referral_obj,
                    actor=intake,
                    outcome="referred_elsewhere",
                    effective_date=close_day,
                    referred_to="Bayview Residential (Level 3.5)",
                    note=ELSEWHERE_REASONS[i % len(ELSEWHERE_REASONS)],
                )
            continue
        if target == S.SCREENING:
            continue
        assessed_on = advance((1, 3))
        clinical.assess(episode, actor=intake, day=assessed_on, i=i, at=at(assessed_on, 14))
        if target == S.ASSESSED:
            continue
        admitted_on = advance((1, 3))
        clinical.admit(
            episode,
            actor=intake,
            track=track,
            counsellor=counsellor,
            supervisor=supervisor,
            day=admitted_on,
            i=i,
            signature=f"{first} {last}",
            at=at(admitted_on, 15),
        )
        if target == S.ADMITTED:
            continue
        step(S.ACTIVE, (1, 4), counsellor)
        end = today
        discharged = target in (S.DISCHARGED, S.ALUMNI)
        if discharged:
            end = min(day + dt.timedelta(days=rng.randint(42, 84)), today)
        course = "worse" if i % 11 == 5 else ("flat" if i % 5 == 2 else "better")
        clinical.instrument_history(
            participant,
            episode,
            counsellor,
            start=admitted_on,
            end=end,
            rng=rng,
            course=course,
            at_discharge=discharged,
            tz=tz,
        )
        if discharged:
            reason, detail, next_level, receiving = DISCHARGE_REASONS[i % len(DISCHARGE_REASONS)]
            rng.randint(0, 0)  # the draw the old one-step discharge made: same stream after
            day = end
            discharge_services.discharge_participant(
                episode,
                actor=counsellor,
                reason=reason,
                discharge_date=end,
                last_contact_date=end,
                reason_detail=detail,
                next_level=next_level,
                receiving_program=receiving,
                at=at(end, 11),
            )
            episode.refresh_from_db()
        if target == S.ALUMNI:
            step(S.ALUMNI, (1, 10), counsellor)
        if target == S.ACTIVE and not safety_raised and counsellor == staff["counsellor"]:
            clinical.safety_scenario(participant, episode, counsellor, today, tz)
            safety_raised = True
    return len(PLAN)
