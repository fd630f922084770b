"""The demo's schedule: weekly templates, holiday closures, ten weeks of group sessions
(eight past, two ahead), appointments, attendance that looks like real people, daily
check-ins, and the engagement alerts they raise.

Patterns, chosen with the demo's seeded random:

* steady: nearly always there, now and then late or away with a reason;
* fading: good at first, then missing more and more in the last three weeks, absent at
  the end (an open absence alert for the counsellor);
* returning: a run of absences three to five weeks ago, then back (a reported use on the
  first day back, and the alerts of the time answered);
* remote: on the hybrid evening track, often by telehealth;
* not started: admitted but not yet attending.

Everything goes through the scheduling and attendance services, day by day in order, and
the alert job runs after each program day as the worker would, so the history of alerts
(most answered, the current ones open) is the one a real program would have.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from openiop.accounts.models import User
from openiop.attendance import rules
from openiop.attendance import services as attendance
from openiop.attendance.choices import AttendanceStatus as A
from openiop.attendance.hours import marks_for
from openiop.attendance.jobs import raise_engagement_alerts
from openiop.attendance.models import EngagementAlert
from openiop.participants.choices import IN_CARE
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode, EpisodeTransition
from openiop.programs.choices import Modality
from openiop.programs.models import Program, Room, SessionType, Topic, Track
from openiop.scheduling import services as scheduling
from openiop.scheduling.choices import SessionKind, SessionStatus
from openiop.scheduling.enrolment import (
    bookings_for_sessions,
    enrolments_for_tracks,
    expected_episodes,
)
from openiop.scheduling.models import Closure, Session, TemplateSlot

PAST_WEEKS = 8
AHEAD_DAYS = 14
TELEHEALTH = "https://telehealth.example.org/harbor-light"

STEADY, FADING, RETURNING, REMOTE, NOT_STARTED = (
    "steady",
    "fading",
    "returning",
    "remote",
    "not_started",
)

EXTRA_TOPICS = [
    ("Mindfulness", "Noticing urges and feelings without acting on them."),
    ("Sleep in early recovery", "Why sleep is hard at first and what helps."),
]
# The evening track takes the same topics in another order (people join any week).
EVENING_ORDER = [
    "Understanding addiction",
    "Stress and emotions",
    "Coping with cravings",
    "Mindfulness",
    "Relapse prevention",
    "Sleep in early recovery",
    "Healthy communication",
    "Families in recovery",
    "Nutrition and wellness",
    "Vocational and social skills",
]


class Slot(NamedTuple):
    """A line of a weekly template: on these weekdays, who facilitates on which day."""

    days: dict[int, str]  # weekday → facilitator's username
    start: dt.time
    end: dt.time
    session_type: str
    room: str | None
    modality: str = Modality.IN_PERSON
    curriculum: bool = False


T = dt.time
# Three hours a day in three sessions, so a full week is the program's nine-hour minimum.
MORNING = [
    Slot({0: "counsellor", 1: "jharper", 3: "counsellor"}, T(9), T(10, 30), "Process group",
         "Group Room A"),
    Slot({0: "mreyes", 3: "mreyes"}, T(10, 30), T(11, 30), "Psychoeducation", "Group Room A",
         curriculum=True),
    Slot({1: "counsellor"}, T(10, 30), T(11, 30), "DBT skills workshop", "Group Room A"),
    Slot({0: "jharper", 1: "jharper", 3: "jharper"}, T(11, 30), T(12), "Mindfulness and movement",
         "Family Room"),
]  # fmt: skip
EVENING = [
    Slot({0: "mreyes", 2: "counsellor", 3: "jharper"}, T(18), T(19, 30), "Process group",
         "Group Room B", Modality.HYBRID),
    Slot({0: "jharper", 3: "counsellor"}, T(19, 30), T(20, 30), "Psychoeducation",
         "Group Room B", Modality.HYBRID, curriculum=True),
    Slot({2: "mreyes"}, T(19, 30), T(20, 30), "DBT skills workshop", "Group Room B",
         Modality.HYBRID),
    Slot({0: "mreyes", 2: "mreyes", 3: "mreyes"}, T(20, 30), T(21), "Mindfulness and movement",
         "Family Room", Modality.HYBRID),
]  # fmt: skip

EXCUSES = [
    "Medical appointment; called ahead.",
    "Sick; called in.",
    "Court date.",
    "Child sick at home; called in.",
    "Work shift changed this week; called ahead.",
]
LATE_NOTES = ["Bus late.", "Traffic.", "", "", "Dropped kids at school."]
CHECK_IN_NOTES = [
    "Good week; went to a meeting on Saturday.",
    "Rough weekend, used the craving plan.",
    "Slept badly; new shift at work.",
    "Family visit went well.",
    "Stressed about money.",
    "",
]
RESOLUTIONS = {
    "absences": [
        "Reached by phone: had the flu, back at group now.",
        "Left a message; returned the call: childcare fell through. Plan made.",
        "Spoke after group: work schedule changed; attendance plan reviewed.",
    ],
    "below_minimum": [
        "Reviewed hours together; the missed time was excused.",
        "Talked after group; make-up plan agreed.",
    ],
    "reported_use": [
        "Discussed in individual session; relapse-prevention plan updated.",
        "Talked after group; no further use, supports in place.",
    ],
    "high_craving": [
        "Checked in after group; craving plan reviewed, sponsor called.",
    ],
}


@dataclass
class Person:
    """One enrolled episode and how they attend."""

    episode: Episode
    pattern: str = STEADY
    started: dt.date | None = None  # first day attending (the day they became active)
    until: dt.date | None = None  # discharge day
    fade_from: dt.date | None = None
    gap: tuple[dt.date, dt.date] | None = None
    remote: float = 0.0  # chance of joining a hybrid day by telehealth
    slip: dt.date | None = None  # a reported use on their first check-in from this day
    plans: dict[dt.date, tuple[str, int, str]] = field(default_factory=dict)
    told: set[str] = field(default_factory=set)  # reported uses already told


@dataclass
class Summary:
    sessions: int = 0
    marks: int = 0
    check_ins: int = 0
    appointments: int = 0
    walk_ins: int = 0
    closures: list[str] = field(default_factory=list)


def build_schedule(
    rng: random.Random,
    program: Program,
    tracks: list[Track],
    staff: dict[str, User],
    today: dt.date,
) -> Summary:
    """The schedule, attendance and check-ins of the demo (after its admissions)."""
    summary = Summary()
    first = today - dt.timedelta(weeks=PAST_WEEKS)
    last = today + dt.timedelta(days=AHEAD_DAYS)
    actor = staff["director"]
    _curriculum(program, tracks, actor)
    _templates(program, tracks, staff)
    for start, end, reason in holidays(first, last):
        scheduling.add_closure(program, first_day=start, last_day=end, reason=reason, actor=actor)
        summary.closures.append(f"{reason} {start}")
    for track in tracks:
        summary.sessions += len(scheduling.generate(track, first, last, actor=actor).created)
    people = _people(rng, program, staff, today, first)
    summary.appointments = _appointments(rng, program, staff, people, today)
    _attend(rng, program, staff, people, first, today, summary)
    raise_engagement_alerts(now=_at(program, today, dt.time(7, 0)))
    _answer_old_alerts(rng, program, today)
    return summary


# ---------------------------------------------------------------- set-up


def _curriculum(program: Program, tracks: list[Track], actor: User) -> None:
    topics = {t.title: t for t in Topic.objects.filter(program=program)}
    sequence = max((t.sequence for t in topics.values()), default=0)
    for title, description in EXTRA_TOPICS:
        if title not in topics:
            sequence += 1
            topics[title] = Topic.objects.create(
                program=program, title=title, description=description, sequence=sequence
            )
    in_order = sorted(topics.values(), key=lambda t: (t.sequence, t.title))
    for track in tracks:
        if track.name.startswith("Evening"):
            wanted = [topics[t] for t in EVENING_ORDER if t in topics]
            order = wanted + [t for t in in_order if t not in wanted]
        else:
            order = in_order
        scheduling.set_curriculum(track, order, actor=actor)


def _templates(program: Program, tracks: list[Track], staff: dict[str, User]) -> None:
    types = {t.name: t for t in SessionType.objects.filter(program=program)}
    rooms = {r.name: r for r in Room.objects.filter(site=program.site)}
    for track in tracks:
        rows = EVENING if track.name.startswith("Evening") else MORNING
        slug = "evening" if track.name.startswith("Evening") else "morning"
        for slot in rows:
            for weekday, username in slot.days.items():
                if weekday not in track.days:
                    continue
                link = ""
                if slot.modality != Modality.IN_PERSON:
                    link = f"{TELEHEALTH}/{slug}-{slot.session_type.lower().replace(' ', '-')}"
                TemplateSlot.objects.create(
                    track=track,
                    weekday=weekday,
                    start_time=slot.start,
                    end_time=slot.end,
                    session_type=types[slot.session_type],
                    facilitator=staff[username],
                    room=rooms[slot.room] if slot.room else None,
                    modality=slot.modality,
                    join_link=link,
                    uses_curriculum=slot.curriculum,
                )


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    day = dt.date(year, month, 1)
    day += dt.timedelta(days=(weekday - day.weekday()) % 7)
    return day + dt.timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    day = _nth_weekday(year, month, weekday, 4)
    return day + dt.timedelta(weeks=1) if (day + dt.timedelta(weeks=1)).month == month else day


def holidays(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date, str]]:
    """The program's holiday closures (Maine, US) that touch [first, last]."""
    out = []
    for year in range(first.year, last.year + 1):
        thanksgiving = _nth_weekday(year, 11, 3, 4)
        for start, end, name in [
            (dt.date(year, 1, 1), dt.date(year, 1, 1), "New Year's Day"),
            (_nth_weekday(year, 1, 0, 3), None, "Martin Luther King Jr. Day"),
            (_last_weekday(year, 5, 0), None, "Memorial Day"),
            (dt.date(year, 6, 19), None, "Juneteenth"),
            (dt.date(year, 7, 4), None, "Independence Day"),
            (_nth_weekday(year, 9, 0, 1), None, "Labor Day"),
            (_nth_weekday(year, 10, 0, 2), None, "Indigenous Peoples' Day"),
            (thanksgiving, thanksgiving + dt.timedelta(days=1), "Thanksgiving"),
            (dt.date(year, 12, 25), None, "Christmas Day"),
        ]:
            end = end or start
            if start <= last and end >= first:
                out.append((start, end, name))
    return out


def _at(program: Program, day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=program.tz)


# ---------------------------------------------------------------- who attends how


def _people(
    rng: random.Random,
    program: Program,
    staff: dict[str, User],
    today: dt.date,
    first: dt.date,
) -> dict[int, Person]:
    """Everyone enrolled at some point of the window, with a pattern each."""
    episodes = [
        e
        for e in Episode.objects.filter(program=program, enrolments__isnull=False)
        .select_related("participant", "primary_counsellor", "track")
        .distinct()
        .order_by("pk")
        if e.discharge_date is None or e.discharge_date >= first
    ]
    transitions: dict[int, dict[str, EpisodeTransition]] = defaultdict(dict)
    for t in EpisodeTransition.objects.filter(episode__in=episodes).order_by("at", "pk"):
        transitions[t.episode_id][t.to_status] = t
    people: dict[int, Person] = {}
    for episode in episodes:
        moved = transitions[episode.pk]
        person = Person(episode)
        person.started = moved[S.ACTIVE].effective_date if S.ACTIVE in moved else None
        person.until = episode.discharge_date
        person.remote = 0.08 if episode.track and episode.track.name.startswith("Evening") else 0
        if episode.status == S.ADMITTED:
            person.pattern = NOT_STARTED
        elif person.until and S.DISCHARGED in moved:
            reason = moved[S.DISCHARGED].reason
            if reason.startswith(("Left against advice", "Transferred")):
                person.pattern = FADING
                person.fade_from = person.until - dt.timedelta(days=18)
        people[episode.pk] = person
    # Among those attending for five weeks or more: two fade, two come back after a gap
    # (one of each on the demo counsellor's own caseload), evening regulars join remotely.
    active = [
        p
        for p in people.values()
        if p.episode.status == S.ACTIVE and p.started and p.started <= today - dt.timedelta(35)
    ]
    mine = [p for p in active if p.episode.primary_counsellor_id == staff["counsellor"].pk]
    others = [p for p in active if p not in mine]
    picks = []
    for pool in (mine, others):
        rng.shuffle(pool)
        picks.append(pool)
    order = [FADING, RETURNING]
    for pool in picks:
        for pattern in order:
            if pool:
                person = pool.pop()
                person.pattern = pattern
                if pattern == FADING:
                    person.fade_from = today - dt.timedelta(days=21 + rng.randint(0, 4))
                else:
                    start = today - dt.timedelta(days=rng.randint(28, 35))
                    person.gap = (start, start + dt.timedelta(days=rng.randint(7, 10)))
    for person in people.values():
        if person.pattern == STEADY and person.remote and rng.random() < 0.35:
            person.pattern = REMOTE
            person.remote = 0.5
    # Two steady people report a use: one three weeks ago, one on the last program day.
    steady = [p for p in people.values() if p.pattern == STEADY and p.episode.status == S.ACTIVE]
    rng.shuffle(steady)
    steady.sort(key=lambda p: p.episode.primary_counsellor_id != staff["counsellor"].pk)
    if steady:
        steady[-1].slip = today - dt.timedelta(days=rng.randint(15, 22))
    if len(steady) > 1:
        steady[0].slip = dt.date.max  # set to their last program day once the days are known
    return people


def _plan(rng: random.Random, person: Person, day: dt.date, today: dt.date) -> tuple[str, int, str]:
    """The person's day: (status, minutes late or left early, note). Drawn once a day."""
    if day in person.plans:
        return person.plans[day]
    plan = _draw(rng, person, day, today)
    person.plans[day] = plan
    return plan


def _draw(rng: random.Random, person: Person, day: dt.date, today: dt.date) -> tuple[str, int, str]:
    if person.pattern == NOT_STARTED:
        admitted = person.episode.admission_date or day
        if (today - admitted).days <= 5:
            return A.ABSENT_EXCUSED, 0, "Not started yet: orientation booked."
        return A.ABSENT_UNEXCUSED, 0, "Not started yet; no answer to calls."
    if person.started and day < person.started:
        return A.ABSENT_EXCUSED, 0, f"Orientation; starts group {person.started:%b %-d}."
    if person.gap and person.gap[0] <= day <= person.gap[1]:
        if day == person.gap[0]:
            return A.ABSENT_EXCUSED, 0, "Called in sick."
        return A.ABSENT_UNEXCUSED, 0, ""
    if person.pattern == FADING and person.fade_from and day >= person.fade_from:
        end = person.until or today
        if (end - day).days <= 6:
            return A.ABSENT_UNEXCUSED, 0, ""
        share = (day - person.fade_from).days / max((end - person.fade_from).days, 1)
        if rng.random() < 0.2 + 0.6 * share:
            return A.ABSENT_UNEXCUSED, 0, rng.choice(["", "", "No call."])
        if rng.random() < 0.3:
            return A.LATE, rng.randint(15, 30), ""
    roll = rng.random()
    if roll < 0.04:
        return A.LATE, rng.randint(10, 25), rng.choice(LATE_NOTES)
    if roll < 0.055:
        return A.LEFT_EARLY, rng.randint(10, 20), "Left for work."
    if roll < 0.085:
        return A.ABSENT_EXCUSED, 0, rng.choice(EXCUSES)
    if roll < 0.095:
        return A.ABSENT_UNEXCUSED, 0, ""
    if person.remote and rng.random() < person.remote:
        return A.TELEHEALTH, 0, ""
    return A.PRESENT, 0, ""


def _entry(plan: tuple[str, int, str], session: Session, k: int, n: int) -> attendance.Entry:
    """The mark at the k-th of the n sessions of the person's day."""
    status, minutes, note = plan
    remote_only = session.modality == Modality.TELEHEALTH
    if (status == A.LATE and k > 0) or (status == A.LEFT_EARLY and k < n - 1):
        status, minutes, note = A.PRESENT, 0, ""
    if status == A.TELEHEALTH and session.modality == Modality.IN_PERSON:
        status = A.PRESENT
    if status in (A.LATE, A.LEFT_EARLY):
        minutes = min(minutes, session.minutes - 5)
    if status == A.PRESENT and remote_only:
        status = A.TELEHEALTH
    return attendance.Entry(status, minutes, note if k == 0 else "")


# ---------------------------------------------------------------- appointments


def _appointments(
    rng: random.Random,
    program: Program,
    staff: dict[str, User],
    people: dict[int, Person],
    today: dt.date,
) -> int:
    """Individual sessions with the primary counsellor (one past, one ahead) and two
    family sessions, at hours and in rooms that clash with nothing."""
    types = {t.name: t for t in SessionType.objects.filter(program=program)}
    rooms = {r.name: r for r in Room.objects.filter(site=program.site)}
    offices = [rooms["Counselling Office 1"], rooms["Counselling Office 2"]]
    taken: set[tuple[Any, dt.date, int]] = set()
    closed = set()
    for closure in Closure.objects.filter(program=program, retired=False):
        closed |= {
            closure.first_day + dt.timedelta(days=n)
            for n in range((closure.last_day - closure.first_day).days + 1)
        }
    made = 0

    def appoint(
        person: Person, day: dt.date, kind: str, who: User, telehealth: bool = False
    ) -> None:
        nonlocal made
        while day.weekday() > 4 or day in closed:
            day += dt.timedelta(days=1)
        if not person.started or day <= person.started or day == today:
            return
        family = kind == SessionKind.FAMILY
        hours = [16] if family else [13, 14, 15]
        places: list[Room | None] = [rooms["Family Room"]] if family else list(offices)
        if telehealth:
            places = [None]
        for hour in hours:
            free = [r for r in places if (r, day, hour) not in taken]
            if not free or (who.pk, day, hour) in taken:
                continue
            room = free[0]
            end = dt.time(hour + 1, 0) if family else dt.time(hour, 50)
            scheduling.create_session(
                scheduling.SessionInput(
                    program=program,
                    session_type=types["Family session" if family else "Individual counselling"],
                    kind=kind,
                    title="Family session" if family else "Individual counselling",
                    day=day,
                    start=dt.time(hour, 0),
                    end=end,
                    facilitator=who,
                    room=room,
                    modality=Modality.TELEHEALTH if telehealth else Modality.IN_PERSON,
                    join_link=f"{TELEHEALTH}/individual-{person.episode.pk}" if telehealth else "",
                ),
                actor=who,
                episodes=[person.episode],
            )
            taken.update({(room, day, hour), (who.pk, day, hour)})
            made += 1
            return

    active = [p for p in people.values() if p.episode.status == S.ACTIVE and p.started]
    for n, person in enumerate(active[:8]):
        who = person.episode.primary_counsellor or staff["counsellor"]
        past = today - dt.timedelta(days=rng.randint(3, 20))
        appoint(person, past, SessionKind.INDIVIDUAL, who)
        ahead = today + dt.timedelta(days=rng.randint(1, 12))
        appoint(person, ahead, SessionKind.INDIVIDUAL, who, telehealth=n % 4 == 3)
    family = [p for p in active if p.pattern in (STEADY, REMOTE)][:2]
    for k, person in enumerate(family):
        day = today + dt.timedelta(days=rng.randint(2, 8)) if k == 0 else today - dt.timedelta(10)
        appoint(person, day, SessionKind.FAMILY, staff["mreyes"])
    return made


# ---------------------------------------------------------------- attendance, check-ins


def _attend(
    rng: random.Random,
    program: Program,
    staff: dict[str, User],
    people: dict[int, Person],
    first: dt.date,
    today: dt.date,
    summary: Summary,
) -> None:
    """Attendance for every past session, walk-ins, and check-ins, one day at a time."""
    by_day: dict[dt.date, list[Session]] = defaultdict(list)
    for session in (
        Session.objects.filter(program=program, date__gte=first, date__lt=today, voided=False)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("program", "facilitator")
        .order_by("starts_at", "pk")
    ):
        by_day[session.date].append(session)
    walk_ins = _walk_ins(people, by_day, today)
    for person in people.values():
        if person.slip == dt.date.max:
            days = [
                d
                for d, sessions in by_day.items()
                if any(s.track_id == person.episode.track_id for s in sessions)
            ]
            person.slip = max(days, default=None)
            if person.slip:
                person.plans[person.slip] = (A.PRESENT, 0, "")
    # Who is expected where, read once (the same rules as the roster; nobody has a mark yet).
    every = [s for sessions in by_day.values() for s in sessions]
    enrolled = enrolments_for_tracks({s.track_id for s in every if s.track_id}, first, today)
    booked = bookings_for_sessions(s.pk for s in every)
    for day in sorted(by_day):
        sessions = by_day[day]
        rosters = {s.pk: expected_episodes(s, enrolled, booked) for s in sessions}
        mine: dict[int, list[Session]] = defaultdict(list)
        for s in sessions:
            for episode in rosters[s.pk]:
                mine[episode.pk].append(s)
        for session in sessions:
            entries = {}
            for episode in rosters[session.pk]:
                person = people.setdefault(episode.pk, Person(episode))
                plan = _plan(rng, person, day, today)
                own = mine[episode.pk]
                entries[episode.pk] = _entry(plan, session, own.index(session), len(own))
            if entries:
                summary.marks += len(entries)
                attendance.record_attendance(
                    session, entries, actor=session.facilitator or staff["counsellor"]
                )
            for episode_pk, target in walk_ins.get(day, []):
                if target.pk == session.pk:
                    attendance.add_walk_in(
                        session,
                        people[episode_pk].episode,
                        actor=session.facilitator,
                        capacity_override="Walk-in from the morning track.",
                    )
                    summary.walk_ins += 1
        summary.check_ins += _check_ins(rng, people, mine, day)
        raise_engagement_alerts(now=_at(program, day, dt.time(22, 0)))


def _walk_ins(
    people: dict[int, Person],
    by_day: dict[dt.date, list[Session]],
    today: dt.date,
) -> dict[dt.date, list[tuple[int, Session]]]:
    """Two morning regulars who, kept from the morning group by work, came that evening."""
    regulars = [
        p
        for p in people.values()
        if p.pattern in (STEADY, RETURNING)
        and p.episode.status == S.ACTIVE
        and p.episode.track
        and p.episode.track.name.startswith("Morning")
        and p.started
    ]
    out: dict[dt.date, list[tuple[int, Session]]] = defaultdict(list)
    for back in (24, 10):
        for day in sorted(by_day, reverse=True):
            if day > today - dt.timedelta(days=back):
                continue
            evening = [
                s
                for s in by_day[day]
                if s.kind == SessionKind.GROUP
                and s.local_start().hour >= 18
                and s.title == "Process group"
            ]
            morning = [s for s in by_day[day] if s.local_start().hour < 12]
            who = [
                p
                for p in regulars
                if p.started
                and p.started < day
                and not (p.gap and p.gap[0] <= day <= p.gap[1])
                and all(k != day for k in p.plans)
            ]
            if evening and morning and who:
                person = who[0]
                regulars.remove(person)
                person.plans[day] = (
                    A.ABSENT_EXCUSED,
                    0,
                    "Work shift moved; came to the evening group instead.",
                )
                out[day].append((person.episode.pk, evening[0]))
                break
    return out


def _check_ins(
    rng: random.Random,
    people: dict[int, Person],
    mine: dict[int, list[Session]],
    day: dt.date,
) -> int:
    """Check-ins before the first session of the day, from people in care who came."""
    made = 0
    for episode_pk, sessions in mine.items():
        person = people.get(episode_pk)
        if person is None or person.episode.status not in IN_CARE or not person.started:
            continue
        status = person.plans.get(day, (A.ABSENT_UNEXCUSED, 0, ""))[0]
        if status not in rules.PRESENT_STATUSES:
            continue
        if rng.random() > 0.85 and person.slip != day:
            continue
        first = sessions[0]
        used, what, note = False, "", rng.choice(CHECK_IN_NOTES) if rng.random() < 0.2 else ""
        if person.slip and day >= person.slip and "slip" not in person.told:
            used, what, note = True, "alcohol", "Drank at a family party; told the group."
            person.told.add("slip")
        if person.gap and day > person.gap[1] and "gap" not in person.told:
            used, what, note = True, "alcohol", "Back after a week away; drank twice."
            person.told.add("gap")
        if (
            person.pattern == FADING
            and person.fade_from
            and day >= person.fade_from + dt.timedelta(days=7)
            and "fade" not in person.told
        ):
            used, what, note = True, "cannabis", "Smoked over the weekend; feeling low."
            person.told.add("fade")
        values = _values(rng, person, day, used, what)
        attendance.record_check_in(
            person.episode,
            values,
            actor=first.facilitator,
            note=note,
            session=first,
            day=day,
            at=first.starts_at - dt.timedelta(minutes=rng.randint(5, 20)),
        )
        made += 1
    return made


def _values(
    rng: random.Random, person: Person, day: dt.date, used: bool, what: str
) -> rules.CheckInValues:
    """Mood, craving, stress and sleep drifting better with time in care, worse when
    someone is fading or just back from a gap."""
    start = person.started or day
    progress = min(max((day - start).days / 56, 0.0), 1.0)
    strain = 0.0
    if person.pattern == FADING and person.fade_from and day >= person.fade_from:
        strain = min((day - person.fade_from).days / 14, 1.0)
    if used:
        strain = max(strain, 0.6)
    top = 8 if strain >= 0.5 else 6

    def scale(base: float, low: int, high: int) -> int:
        return min(max(round(base + rng.gauss(0, 0.8)), low), high)

    sleep = 6 + 1.5 * progress - 1.5 * strain + rng.gauss(0, 0.5)
    return rules.CheckInValues(
        mood=scale(5 + 2.5 * progress - 3 * strain, 1, 10),
        craving=scale(5 - 3 * progress + 4 * strain, 0, top),
        used=used,
        substances=what,
        stress=scale(6 - 2 * progress + 3 * strain, 0, 10),
        sleep_hours=Decimal(min(max(round(sleep * 2) / 2, 3.0), 10.0)).quantize(Decimal("0.1")),
    )


def _answer_old_alerts(rng: random.Random, program: Program, today: dt.date) -> None:
    """The counsellor has answered the alerts of past weeks, and those explained by excused
    absences; the current ones (an absence run that goes on, last week's hours, this
    week's check-ins) stay open for the today board."""
    recent = today - dt.timedelta(days=3)
    alerts = list(
        EngagementAlert.objects.filter(episode__program=program, resolved_at__isnull=True)
        .select_related("episode__primary_counsellor")
        .order_by("raised_on", "pk")
    )
    marks = marks_for({a.episode_id for a in alerts})
    for alert in alerts:
        about = _marks_about(alert, marks.get(alert.episode_id, []))
        absent = [m for m in about if not m.attended]
        if absent and all(m.status == A.ABSENT_EXCUSED for m in absent):
            note = "The absences were excused (orientation or called ahead); nothing to do."
        elif alert.raised_on >= recent:
            continue
        elif alert.kind == "absences" and not any(m.attended for m in about):
            continue  # the run goes on: still the counsellor's to answer
        else:
            note = rng.choice(RESOLUTIONS[alert.kind])
        attendance.resolve_alert(alert, actor=alert.episode.primary_counsellor, note=note)


def _marks_about(alert: EngagementAlert, marks: list[rules.Mark]) -> list[rules.Mark]:
    """The marks an absence or hours alert is about: the run of absences from its first
    (and the first attended mark after it, if any), or the week it names."""
    if alert.kind == "absences":
        start = dt.datetime.strptime(alert.key.removeprefix("run-") + "Z", "%Y%m%dT%H%M%z")
        after = [m for m in marks if m.starts_at >= start]
        run = []
        for mark in after:
            run.append(mark)
            if mark.attended:
                break
        return run
    if alert.kind == "below_minimum":
        week = dt.date.fromisoformat(alert.key.removeprefix("week-"))
        return [m for m in marks if rules.week_start(m.day) == week]
    return []
