"""The history generator (issue 13, point 1): years of synthetic history, fast.

`openiop generate --episodes N --seed S [--active A]` grows the demo program ("Harbor
Light IOP") to N episodes in all, admitted in a steady stream of about twelve a week
going back from today (N = 2,000 is about three years, N = 20,000 about thirty: scale L
is ten times the history of scale S with the same census), and tops the census up to A
participants in care today, whatever N is.

Every past episode goes the way the services take one: referral (with a contact
attempt), pre-screen, a signed ASAM assessment, admission (level, track, primary
counsellor, diagnoses, care team), a stay of six to sixteen weeks on a track, and a
discharge (completed, left against advice, administrative, transferred...) with its
signed summary and the alumni follow-ups fallen due. During the stay: the groups of
every week with an attendance mark each, check-ins, a signed group note with an entry
per attendee, individual notes every two weeks, drug screens with a result per analyte,
and the routine instruments at admission, every thirty days and at discharge.

Groups of a real size: IOP groups hold eight to fifteen people and the demo's rooms
twelve to fourteen, so a census of 150 cannot sit on the demo's two tracks. The generator
adds tracks ("Morning track B", "Evening track C"...) copied from the demo's weekly
templates and curricula, a morning and an evening track sharing a room of 14 and a
counsellor (`counsellor-b`...) who leads their groups, as many as the busiest day of the
history needs, and spreads every episode, past and in care, over all tracks so that no
group session has more people enrolled than its room holds (`assign_tracks`). The added
tracks' sessions run up to the demo's horizon, so today's and this week's rosters are of
that size too; today's census is shared evenly between the counsellors' caseloads.

Speed: the whole history is planned in Python from one seeded `random.Random` (same
seed and N, same data, dates relative to today), then written table by table as final
rows with `writer.TableWriter` (COPY on PostgreSQL, executemany on SQLite): no service
calls, no audit events per row. The cached figures the app keeps are written
consistently: `Participant.current_episode`, the record-number sequence, the referral's
days to admission, a session's attendance-taken stamp, the discharge summary's facts
and content hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
import random
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F
from django.utils.text import slugify

from openiop.accounts.models import User
from openiop.accounts.services import save_staff_user
from openiop.alumni.choices import FOLLOW_UP_DAYS
from openiop.alumni.models import FollowUp, FollowUpAttempt
from openiop.attendance.choices import ATTENDED
from openiop.attendance.choices import AttendanceStatus as A
from openiop.attendance.models import Attendance, CheckIn
from openiop.core.context import request_context
from openiop.core.models import Sequence
from openiop.core.roles import Role
from openiop.demo import builder, clinical
from openiop.demo import notes as notes_demo
from openiop.demo import outcomes as outcomes_demo
from openiop.demo import schedule as schedule_demo
from openiop.discharge.choices import TEDS_REASON, DischargeReason
from openiop.discharge.models import Discharge, DischargeSummary
from openiop.discharge.services import content_hash
from openiop.instruments import catalogue
from openiop.instruments.models import InstrumentResponse, Occasion
from openiop.instruments.rci import reliable_change
from openiop.instruments.scoring import score
from openiop.intake.models import (
    Admission,
    Assessment,
    ContactAttempt,
    Diagnosis,
    PreScreen,
    Referral,
)
from openiop.notes.choices import GroupModality as GM
from openiop.notes.choices import NoteFormat
from openiop.notes.models import GroupNote, Note
from openiop.participants.choices import IN_CARE, ReferralSource
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import (
    Episode,
    EpisodeTransition,
    Participant,
    format_record_number,
)
from openiop.programs.choices import LevelOfCare, Modality, level_short
from openiop.programs.models import Program, Room, Topic, Track
from openiop.scheduling import services as scheduling
from openiop.scheduling.models import Closure, CurriculumItem, Enrolment, Session, TemplateSlot
from openiop.screening.models import Collection, CustodyEvent, Order, PanelAnalyte, Result, Review

from .writer import (
    Stats,
    TableWriter,
    hours,
    make_uuid,
    next_id,
    prepare_connection,
    reset_sequences,
)

ADMISSIONS_PER_WEEK = 12
DEFAULT_ACTIVE = 150
RETURN_RATE = 0.12  # share of admissions that are a participant's second or third episode
INSTRUMENT_EVERY = 30  # days between routine instrument administrations
NOTE_EVERY = 14  # days between individual sessions (and their notes)
SCREEN_EVERY = (7, 14)  # days between random drug screens
INSTRUMENTS = ("PHQ-9", "GAD-7", "CRAVING", "BARC-10")  # plus the BAM, scored by subscale
# Issue 13, point 1: a group of a real size. The demo's largest group room holds 14, IOP
# groups are eight to fifteen people; every added track has a room of this size.
GROUP_SIZE = 14
# The counsellors who facilitate the added tracks (fictional; cycled if more are needed).
NEW_COUNSELLORS = [
    ("Tessa", "Marchetti", "LADC"),
    ("Owen", "Baptiste", "CADC"),
    ("Lucia", "Ferreira", "LCPC"),
    ("Martin", "Okonkwo", "LMSW"),
    ("Hannah", "Sato", "CADC-II"),
    ("Rashid", "Coleman", "LADC"),
    ("Ellen", "Novak", "LCSW"),
    ("Jonah", "Whitley", "CADC"),
    ("Paula", "Esposito", "LMFT"),
    ("Desmond", "Achebe", "LADC"),
    ("Greta", "Lindholm", "CADC-II"),
    ("Mateo", "Rinaldi", "LCPC"),
]

FIRST = sorted(
    set(builder.FIRST + outcomes_demo.FIRST)
    | {
        "Abigail",
        "Adrian",
        "Alicia",
        "Amir",
        "Beatriz",
        "Brandon",
        "Camila",
        "Cody",
        "Darius",
        "Delia",
        "Eamon",
        "Erin",
        "Felix",
        "Gloria",
        "Hector",
        "Ivy",
        "Jada",
        "Joel",
        "Kara",
        "Kenji",
        "Layla",
        "Logan",
        "Malik",
        "Mei",
        "Nora",
        "Oscar",
        "Petra",
        "Ravi",
        "Renee",
        "Selena",
        "Tobias",
        "Uma",
        "Vera",
        "Wyatt",
        "Ximena",
        "Yusuf",
        "Zoe",
        "Arjun",
        "Brianna",
        "Dylan",
        "Esme",
        "Graham",
        "Hollis",
        "Iris",
    }  # fmt: skip
)
LAST = sorted(
    set(builder.LAST + outcomes_demo.LAST)
    | {
        "Acosta",
        "Barrows",
        "Cormier",
        "Duval",
        "Eastman",
        "Flores",
        "Gagnon",
        "Holt",
        "Irving",
        "Jacobs",
        "Kim",
        "Landry",
        "Morin",
        "Nash",
        "Ouellette",
        "Pelletier",
        "Ramos",
        "Soucy",
        "Tran",
        "Vance",
        "Wells",
        "York",
        "Bouchard",
        "Cyr",
        "Dube",
        "Fortin",
        "Levesque",
        "Michaud",
        "Roy",
        "Thibodeau",
        "Whitaker",
        "Chaves",
    }  # fmt: skip
)
CITIES = ["Portland", "South Portland", "Westbrook", "Biddeford", "Saco", "Gorham", "Windham"]

# (reason, weight, stay in days): about half complete; early leavers go in the first weeks.
REASONS: list[tuple[str, int, tuple[int, int]]] = [
    ("completed", 50, (56, 112)),
    ("against_advice", 22, (42, 70)),
    ("administrative", 7, (42, 84)),
    ("step_up", 8, (42, 70)),
    ("step_down", 10, (56, 98)),
    ("other", 3, (42, 84)),
]
RECEIVING = {
    "step_up": (
        LevelOfCare.E3_3_5,
        "Bayview Residential (Level 3.5)",
        "Admissions, (207) 555-0140",
    ),
    "step_down": (LevelOfCare.E3_1, "Harborview Counseling (weekly outpatient)", "(207) 555-0188"),
}
COMPLETED = ("completed", "step_down")

EXCUSES = schedule_demo.EXCUSES
LATE_NOTES = schedule_demo.LATE_NOTES
CHECK_IN_NOTES = schedule_demo.CHECK_IN_NOTES
PARTICIPATION: dict[str, str] = {
    A.PRESENT: "Present for the whole session.",
    A.TELEHEALTH: "Attended by telehealth for the whole session.",
    A.LATE: "Arrived {m} minutes late.",
    A.LEFT_EARLY: "Left {m} minutes early.",
}


def _at(tz: Any, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A program wall-clock time as an aware UTC datetime (what the writer expects)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz).astimezone(dt.UTC)


@dataclass
class Plan:
    """One generated episode, decided before anything is written."""

    pk: int
    participant: int  # participant pk
    k: int  # index in the stream, 0 = the most recent admission
    track: Track
    counsellor: User
    source: str
    referral: dt.date
    screened: dt.date
    assessed: dt.date
    admitted: dt.date
    started: dt.date
    end: dt.date | None  # discharge day; None: in care today
    reason: str = ""
    alumni: dt.date | None = None
    fading_from: dt.date | None = None
    attended: int = 0
    missed: int = 0
    excused: int = 0
    minutes: int = 0
    screens: dict[str, int] = field(default_factory=dict)
    firsts: dict[str, tuple[int, dt.date, int, dt.date, int]] = field(default_factory=dict)
    diagnoses: list[tuple[str, bool]] = field(default_factory=list)
    referral_reason: str = ""


@dataclass
class Person:
    pk: int
    first: str
    last: str
    dob: dt.date
    episodes: int = 0
    last_end: dt.date | None = None
    current: int | None = None


@dataclass
class Report:
    episodes: int = 0
    generated: int = 0
    active: int = 0
    participants: int = 0
    seconds: float = 0.0
    tables: dict[str, list[float]] = field(default_factory=dict)


class HistoryExists(Exception):
    """The demo program already has generated history (run on a fresh demo)."""


class Generator:
    def __init__(self, *, episodes: int, seed: int, active: int, out: Callable[[str], None]):
        self.rng = random.Random(seed)  # noqa: S311  (synthetic data, seeded on purpose)
        self.seed = seed
        self.total = episodes
        self.active = active
        self.out = out
        self.stats = Stats()
        self.started = time.perf_counter()

    # ------------------------------------------------------------------ helpers

    def say(self, text: str) -> None:
        self.out(f"[{time.perf_counter() - self.started:7.1f}s] {text}")

    def uuid(self) -> Any:
        return make_uuid(self.rng.getrandbits(128))

    def writer(self, model: Any, fields: list[str]) -> TableWriter:
        return TableWriter(model, fields, self.stats)

    def name(self, user: User, credentials: bool = True) -> str:
        full = f"{user.first_name} {user.last_name}".strip()
        return f"{full}, {user.credentials}" if credentials and user.credentials else full

    # ------------------------------------------------------------------ context

    def load(self) -> None:
        self.program = Program.objects.get(name=builder.DEMO_PROGRAM, is_demo=True)
        self.tz = self.program.tz
        self.today = self.program.today()
        self.staff = {u.username: u for u in User.objects.all()}
        # Caseloads go to the demo's counsellors and to those of the added tracks.
        self.counsellors = [self.staff[n] for n in ("counsellor", "mreyes", "jharper")] + [
            u for name, u in sorted(self.staff.items()) if name.startswith("counsellor-")
        ]
        self.intake = self.staff["intake"]
        self.supervisor = self.staff["supervisor"]
        self.lab = self.staff["lab"]
        self.director = self.staff["director"]
        self.topics = {t.pk: t for t in Topic.objects.filter(program=self.program)}
        self.load_tracks()
        # The demo's own groups cover its last eight weeks; anything older is history
        # generated before (refused: running twice would double it).
        floor = self.today - dt.timedelta(weeks=schedule_demo.PAST_WEEKS, days=7)
        if Session.objects.filter(program=self.program, date__lt=floor).exists():
            raise HistoryExists("This demo program already has a generated history.")
        firsts = Session.objects.filter(program=self.program, template_slot__isnull=False)
        self.window = min(firsts.values_list("date", flat=True), default=self.today)
        # The demo's groups run two weeks ahead: the added tracks' sessions run as far.
        self.horizon = max(firsts.values_list("date", flat=True), default=self.today)
        # Enrolments already there (the demo's own): fixed on their tracks, and counted
        # when the generated episodes are spread over the tracks.
        self.enrolled = list(
            Enrolment.objects.filter(track__in=self.tracks, episode__voided=False).values_list(
                "track_id", "start_date", "end_date"
            )
        )
        self.closed = {
            c.first_day + dt.timedelta(days=n)
            for c in Closure.objects.filter(program=self.program, retired=False)
            for n in range((c.last_day - c.first_day).days + 1)
        }
        self.existing = Episode.objects.filter(program=self.program).count()
        self.in_care = Episode.objects.filter(program=self.program, status__in=IN_CARE).count()
        self.analytes = list(
            PanelAnalyte.objects.filter(panel__name="12-panel urine cup")
            .select_related("analyte", "panel")
            .order_by("position")
        )
        self.panel = self.analytes[0].panel

    def load_tracks(self) -> None:
        """The program's tracks with their weekly templates and curricula (again after
        tracks are added)."""
        self.tracks = list(Track.objects.filter(program=self.program, retired=False).order_by("pk"))
        self.slots = {
            t.pk: list(
                TemplateSlot.objects.filter(track=t, retired=False)
                .select_related("session_type", "room")
                .order_by("weekday", "start_time")
            )
            for t in self.tracks
        }
        self.curriculum = {
            t.pk: [
                self.topics[c.topic_id]
                for c in CurriculumItem.objects.filter(track=t).order_by("position")
            ]
            or sorted(self.topics.values(), key=lambda x: (x.sequence, x.title))
            for t in self.tracks
        }

    def capacity(self, track: Track) -> int:
        """The most people a track's groups can hold: its smallest group slot's limit (the
        slot's own, else its room's; the demo's half-hour groups meet in a room of ten)."""
        limits = [
            slot.capacity or (slot.room.capacity if slot.room else GROUP_SIZE)
            for slot in self.slots[track.pk]
        ]
        return min(limits, default=GROUP_SIZE)

    # ------------------------------------------------------------------ tracks

    def spread(self, raw: list[dict[str, Any]]) -> list[Track]:
        """The track of each planned episode (`raw`, oldest first), adding tracks until
        every group fits its room on the busiest day (issue 13, point 1)."""
        index = {t.pk: j for j, t in enumerate(self.tracks)}
        fixed = [
            (start, end or self.horizon, index[track])
            for track, start, end in self.enrolled
            if track in index
        ]
        spans = [(r["admitted"], r["end"] or self.horizon) for r in raw]
        caps = [self.capacity(t) for t in self.tracks]
        # Enough seats for the busiest day, then one more track at a time if the greedy
        # spread still finds a day with no seat (the demo's own people are fixed).
        peak = busiest_day([(s, e) for s, e, _ in fixed] + spans)
        added = max(math.ceil((peak - sum(caps)) / GROUP_SIZE), 0)
        while True:
            chosen, overfull = assign_tracks(spans, fixed, caps + [GROUP_SIZE] * added)
            if not overfull or added > len(spans):
                break
            added += 1
        self.say(
            f"{peak} in care on the busiest day: {len(caps) + added} tracks "
            f"({added} added), {overfull} enrolments over a room's capacity"
        )
        if added:
            with transaction.atomic(), request_context(source="generate"):
                self.add_tracks(added)
            self.load_tracks()
        return [self.tracks[j] for j in chosen]

    def add_tracks(self, count: int) -> None:
        """Tracks copied from the demo's (morning, evening, morning...). A morning and an
        evening track share a room and a counsellor, who facilitates all their groups (as
        the demo's counsellors lead both morning and evening groups) and carries a
        caseload like theirs."""
        base = self.tracks[:]
        types = {slot.session_type_id: slot.session_type for slots in self.slots.values()
                 for slot in slots}  # fmt: skip
        for i in range(count):
            k = len(base) - 2 + i  # 0 for the first track added to the demo's two
            template = base[k % len(base)]
            label = _letters(k + 1)  # B, C, D...
            room, _ = Room.objects.get_or_create(
                site=self.program.site,
                name=f"Group Room {_letters(2 + k // 2)}",  # C, C, D, D...
                defaults={"capacity": GROUP_SIZE},
            )
            pair = k // 2
            username = f"counsellor-{_letters(1 + pair).lower()}"  # b, b, c, c...
            counsellor = self.staff.get(username)
            if counsellor is None:
                first, last, credentials = NEW_COUNSELLORS[pair % len(NEW_COUNSELLORS)]
                if pair >= len(NEW_COUNSELLORS):
                    last = f"{last}-{_letters(1 + pair)}"
                counsellor = save_staff_user(
                    User(
                        username=username,
                        first_name=first,
                        last_name=last,
                        credentials=credentials,
                        email=f"{username}@harborlight.example",
                    ),
                    actor=None,
                    roles=[Role.COUNSELLOR],
                    programs=[self.program],
                )
                self.staff[username] = counsellor
                self.counsellors.append(counsellor)
            track = Track.objects.create(
                program=self.program,
                name=f"{template.name.split(' track')[0]} track {label}",
                days=template.days,
                start_time=template.start_time,
                end_time=template.end_time,
                modality=template.modality,
                description=template.description,
            )
            for slot in self.slots[template.pk]:
                kind = types[slot.session_type_id].name
                TemplateSlot.objects.create(
                    track=track,
                    weekday=slot.weekday,
                    start_time=slot.start_time,
                    end_time=slot.end_time,
                    session_type_id=slot.session_type_id,
                    title=slot.title,
                    facilitator=counsellor,
                    room=room,
                    modality=slot.modality,
                    join_link=(
                        f"{schedule_demo.TELEHEALTH}/{slugify(track.name)}-{slugify(kind)}"
                        if slot.join_link
                        else ""
                    ),
                    capacity=slot.capacity,
                    topic_id=slot.topic_id,
                    uses_curriculum=slot.uses_curriculum,
                )
            scheduling.set_curriculum(track, self.curriculum[template.pk], actor=self.director)

    # ------------------------------------------------------------------ the plan

    def plan(self) -> None:
        """Decide every episode: who, when, which track and counsellor, how it ends."""
        rng = self.rng
        top_up = max(self.active - self.in_care, 0)
        generated = self.total - self.existing
        if generated < top_up:
            raise ValueError(
                f"--episodes {self.total} is too few: the demo has {self.existing} episodes "
                f"and {top_up} more are needed in care to reach --active {self.active}."
            )
        self.top_up = top_up
        gap = 7 / ADMISSIONS_PER_WEEK
        weights = [w for _, w, _ in REASONS]
        raw: list[dict[str, Any]] = []
        for k in range(generated):
            if k < top_up:
                # In care today: admitted over the last weeks, the newest yesterday.
                admitted = self.today - dt.timedelta(days=1 + int(k * gap) + rng.randint(0, 1))
                reason, end = "", None
            else:
                admitted = self.today - dt.timedelta(days=int(k * gap) + rng.randint(0, 2))
                reason, _, stay = REASONS[rng.choices(range(len(REASONS)), weights)[0]]
                end = admitted + dt.timedelta(days=rng.randint(*stay))
                last_day = self.today - dt.timedelta(days=1 + rng.randint(0, 3))
                if end > last_day:  # recent admissions are discharged before today
                    end = max(last_day, admitted + dt.timedelta(days=2))
                    if end >= self.today:
                        admitted, end = admitted - dt.timedelta(days=7), last_day
            raw.append({"k": k, "admitted": admitted, "reason": reason, "end": end})
        raw.reverse()  # oldest first: participants return in the order of time
        tracks = self.spread(raw)
        caseload = defaultdict(
            int,
            Episode.objects.filter(program=self.program, status__in=IN_CARE)
            .values("primary_counsellor")
            .annotate(n=Count("pk"))
            .values_list("primary_counsellor", "n"),
        )
        self.people: list[Person] = []
        pool: list[Person] = []  # discharged long enough ago to come back
        waiting: list[tuple[dt.date, int, Person]] = []
        first_pid = next_id(Participant)
        first_eid = next_id(Episode)
        self.plans: list[Plan] = []
        for n, r in enumerate(raw):
            admitted = r["admitted"]
            referral = admitted - dt.timedelta(days=rng.randint(4, 14))
            waiting.sort(key=lambda w: (w[0], w[1]))
            while waiting and waiting[0][0] < referral - dt.timedelta(days=60):
                pool.append(waiting.pop(0)[2])
            if pool and rng.random() < RETURN_RATE:
                person = pool.pop(rng.randrange(len(pool)))
            else:
                age = rng.randint(19, 64)
                person = Person(
                    pk=first_pid + len(self.people),
                    first=rng.choice(FIRST),
                    last=rng.choice(LAST),
                    dob=dt.date(admitted.year - age, rng.randint(1, 12), rng.randint(1, 28)),
                )
                self.people.append(person)
            person.episodes += 1
            track = tracks[n]
            if r["end"] is None:
                # In care today: to the counsellor with the smallest caseload (the demo's
                # own first), so caseloads are even and `counsellor` has a real one.
                counsellor = min(self.counsellors, key=lambda u: caseload[u.pk])
                caseload[counsellor.pk] += 1
            else:
                counsellor = self.counsellors[rng.randrange(len(self.counsellors))]
            screened = referral + dt.timedelta(days=rng.randint(1, 2))
            assessed = min(screened + dt.timedelta(days=rng.randint(1, 3)), admitted)
            started = admitted + dt.timedelta(days=1)
            end = r["end"]
            if end is not None and end < started:
                started = end
            plan = Plan(
                pk=first_eid + n,
                participant=person.pk,
                k=r["k"],
                track=track,
                counsellor=counsellor,
                source=rng.choice(ReferralSource.values),
                referral=referral,
                screened=screened,
                assessed=assessed,
                admitted=admitted,
                started=started,
                end=end,
                reason=r["reason"],
            )
            primary, other = clinical.DIAGNOSES[rng.randrange(len(clinical.DIAGNOSES))]
            plan.diagnoses = [(primary, True)] + ([(other, False)] if other else [])
            plan.referral_reason = clinical.REASONS[rng.randrange(len(clinical.REASONS))]
            if end is not None:
                if plan.reason in ("against_advice", "administrative"):
                    plan.fading_from = end - dt.timedelta(days=18)
                if plan.reason in COMPLETED and rng.random() < 0.4:
                    alumni = end + dt.timedelta(days=rng.randint(1, 10))
                    plan.alumni = alumni if alumni < self.today else None
                person.last_end = end
                if person.episodes < 3:
                    waiting.append((end, person.pk, person))
            person.current = plan.pk
            self.plans.append(plan)
        oldest = self.plans[0].referral if self.plans else "-"
        self.say(
            f"planned {len(self.plans)} episodes of {len(self.people)} new participants "
            f"({self.top_up} in care today), back to {oldest}"
        )

    # ------------------------------------------------------------------ people and intake

    def write_people(self) -> None:
        rng = self.rng
        prog, intake = self.program.pk, self.intake
        seq = Sequence.objects.filter(name="participant").values_list("value", flat=True).first()
        seq = seq or 0
        first_admission: dict[int, Plan] = {}
        for p in self.plans:
            first_admission.setdefault(p.participant, p)
        participants = self.writer(
            Participant,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "record_number", "program_id", "legal_first_name", "legal_last_name", "pronouns",
             "date_of_birth", "phone", "email", "address_line1", "city", "state", "postal_code",
             "preferred_language", "emergency_contact_name", "emergency_contact_relationship",
             "emergency_contact_phone", "current_episode_id"],
        )  # fmt: skip
        for person in self.people:
            first = first_admission[person.pk]
            seq += 1
            when = _at(self.tz, first.referral, 9, rng.randint(0, 59))
            participants.add(
                (person.pk, self.uuid(), when, when, intake.pk, intake.pk,
                 format_record_number(seq), prog, person.first, person.last,
                 rng.choice(builder.PRONOUNS), person.dob, f"(207) 555-{rng.randint(1000, 9999)}",
                 f"{person.first.lower()}.{person.last.lower()}{person.pk % 97}@example.org",
                 f"{rng.randint(10, 999)} {rng.choice(builder.STREETS)}", rng.choice(CITIES),
                 "ME", f"04{rng.randint(100, 199)}",
                 "Spanish" if rng.random() < 0.1 else "English",
                 f"{rng.choice(FIRST)} {person.last}", rng.choice(builder.RELATIONS),
                 f"(207) 555-{rng.randint(1000, 9999)}", person.current)
            )  # fmt: skip
        participants.flush()
        Sequence.objects.update_or_create(name="participant", defaults={"value": seq})

        episodes = self.writer(
            Episode,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "version", "participant_id", "program_id", "status", "status_changed_at",
             "status_date", "level_of_care", "track_id", "primary_counsellor_id",
             "referral_source", "referral_date", "admission_date", "discharge_date"],
        )  # fmt: skip
        transitions = self.writer(
            EpisodeTransition,
            ["episode_id", "from_status", "to_status", "effective_date", "at", "by_id",
             "by_name", "reason"],
        )  # fmt: skip
        team = self.writer(Episode.care_team.through, ["episode_id", "user_id"])
        referrals = self.writer(
            Referral,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "version",
             "episode_id", "participant_id", "program_id", "received_at", "urgency",
             "referrer_name", "referrer_organisation", "referrer_phone", "reason",
             "insurance_payer", "insurance_member_id", "insurance_verified", "assigned_to_id",
             "outcome", "closed_at", "days_to_admission"],
        )  # fmt: skip
        attempts = self.writer(
            ContactAttempt, ["referral_id", "at", "method", "outcome", "note", "by_id", "by_name"]
        )
        prescreens = self.writer(
            PreScreen,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "episode_id", "participant_id", "screened_on", "screened_by_id", "answers",
             "flags", "fits", "note"],
        )  # fmt: skip
        assessment_fields = [
            "id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
            "version", "episode_id", "participant_id", "kind", "edition", "assessed_on",
            "form_source", "summary", "recommended_level", "rules_fired", "chosen_level",
            "status", "signed_at", "signed_by_id", "signed_by_name", "signed_credential",
            *[f"rating_{n}" for n in range(1, 7)], *[f"narrative_{n}" for n in range(1, 7)],
        ]  # fmt: skip
        assessments = self.writer(Assessment, assessment_fields)
        admissions = self.writer(
            Admission,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "episode_id",
             "participant_id", "assessment_id", "treatment_consent_signed_on",
             "treatment_consent_signature", "notice_given_on", "notice_acknowledged",
             "witnessed_by_id"],
        )  # fmt: skip
        diagnoses = self.writer(
            Diagnosis,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "episode_id",
             "participant_id", "code", "description", "primary", "noted_on"],
        )  # fmt: skip
        enrolments = self.writer(
            Enrolment,
            ["episode_id", "track_id", "start_date", "end_date", "created_at", "ended_at",
             "ended_by_id"],
        )  # fmt: skip
        from openiop.intake import icd10

        names = {p.pk: p for p in self.people}
        referral_id = next_id(Referral)
        assessment_id = next_id(Assessment)
        in_name = self.name(intake)
        for i, p in enumerate(self.plans):
            c = p.counsellor
            person = names[p.participant]
            full = f"{person.first} {person.last}"
            t_ref = _at(self.tz, p.referral, 9, rng.randint(0, 59))
            t_scr = _at(self.tz, p.screened, 13, rng.randint(0, 59))
            t_ass = _at(self.tz, p.assessed, 14, rng.randint(0, 59))
            t_adm = _at(self.tz, p.admitted, 15, rng.randint(0, 59))
            t_act = _at(self.tz, p.started, 11, rng.randint(0, 59))
            steps = [
                ("", S.REFERRED, p.referral, t_ref, intake, ""),
                (S.REFERRED, S.SCREENING, p.screened, t_scr, intake, ""),
                (S.SCREENING, S.ASSESSED, p.assessed, t_ass, intake, ""),
                (S.ASSESSED, S.ADMITTED, p.admitted, t_adm, intake, ""),
                (S.ADMITTED, S.ACTIVE, p.started, t_act, c, ""),
            ]
            status, changed, status_day = S.ACTIVE, t_act, p.started
            t_end = None
            if p.end is not None:
                t_end = _at(self.tz, p.end, 16, rng.randint(0, 59))
                label = DischargeReason(p.reason).label
                detail = outcomes_demo.DETAIL[p.reason]
                steps.append((S.ACTIVE, S.DISCHARGED, p.end, t_end, c, f"{label}: {detail}"))
                status, changed, status_day = S.DISCHARGED, t_end, p.end
                if p.alumni:
                    t_alu = _at(self.tz, p.alumni, 11, rng.randint(0, 59))
                    steps.append((S.DISCHARGED, S.ALUMNI, p.alumni, t_alu, c, ""))
                    status, changed, status_day = S.ALUMNI, t_alu, p.alumni
            episodes.add(
                (p.pk, self.uuid(), t_ref, changed, intake.pk, c.pk, len(steps) + 2,
                 p.participant, self.program.pk, status, changed, status_day,
                 LevelOfCare.E3_2_1, p.track.pk, c.pk, p.source, p.referral, p.admitted, p.end)
            )  # fmt: skip
            for frm, to, day, when, who, why in steps:
                transitions.add((p.pk, frm, to, day, when, who.pk, self.name(who), why))
            team.add((p.pk, self.supervisor.pk))
            team.add((p.pk, c.pk))
            ref_name, ref_org = clinical.REFERRERS.get(p.source, ("", ""))
            payer = clinical.PAYERS[i % len(clinical.PAYERS)]
            referrals.add(
                (referral_id, self.uuid(), t_ref, t_adm, intake.pk, intake.pk, 2, p.pk,
                 p.participant, self.program.pk, t_ref, "urgent" if i % 9 == 4 else "routine",
                 ref_name, ref_org, f"(207) 555-{rng.randint(1000, 9999)}" if ref_name else "",
                 p.referral_reason, payer,
                 "" if payer == "Self-pay" else f"M{rng.randint(10**7, 10**8 - 1)}",
                 i % 3 != 0, intake.pk, "admitted", t_adm, (p.admitted - p.referral).days)
            )  # fmt: skip
            attempts.add(
                (referral_id, t_ref + dt.timedelta(hours=3), "phone", "scheduled",
                 "Assessment booked.", intake.pk, in_name)
            )  # fmt: skip
            referral_id += 1
            answers = clinical.screen_answers(False, rng)
            prescreens.add(
                (self.uuid(), t_scr, t_scr, intake.pk, intake.pk, p.pk, p.participant,
                 p.screened, intake.pk, answers, [], True, "")
            )  # fmt: skip
            values = clinical.assessment_values(p.assessed, i, severe=False)
            ratings = [values[f"rating_{n}"] for n in range(1, 7)]
            narratives = [values[f"narrative_{n}"] for n in range(1, 7)]
            assessments.add(
                (assessment_id, self.uuid(), t_ass, t_ass, intake.pk, intake.pk, 2, p.pk,
                 p.participant, "initial", "3", p.assessed, "openiop", values["summary"],
                 LevelOfCare.E3_2_1, ["3-any-2-or-d4-3"], LevelOfCare.E3_2_1, "signed", t_ass,
                 intake.pk, self.name(intake, credentials=False), intake.credentials,
                 *ratings, *narratives)
            )  # fmt: skip
            admissions.add(
                (self.uuid(), t_adm, t_adm, intake.pk, intake.pk, p.pk, p.participant,
                 assessment_id, p.admitted, full, p.admitted, True, intake.pk)
            )  # fmt: skip
            assessment_id += 1
            for code, primary in p.diagnoses:
                diagnoses.add(
                    (self.uuid(), t_adm, t_adm, intake.pk, intake.pk, p.pk, p.participant,
                     code, (icd10.describe(code) or code)[:250], primary, p.admitted)
                )  # fmt: skip
            enrolments.add(
                (p.pk, p.track.pk, p.admitted, p.end, t_adm, t_end, c.pk if t_end else None)
            )
        for w in (episodes, transitions, team, referrals, attempts, prescreens, assessments,
                  admissions, diagnoses, enrolments):  # fmt: skip
            w.flush()
        self.say(f"wrote {len(self.people)} participants and {len(self.plans)} episodes")

    # ------------------------------------------------------------------ schedule

    def write_sessions(self) -> None:
        """Closures and the weekly groups of every track before the demo's ten weeks; the
        added tracks' groups up to the demo's horizon (two weeks ahead) too."""
        first = min((p.admitted for p in self.plans), default=self.window)
        last = self.window - dt.timedelta(days=1)
        closed: set[dt.date] = set(self.closed)  # the demo's own closures, in its weeks
        scheduled = set(
            Session.objects.filter(
                program=self.program, template_slot__isnull=False, date__gte=self.window
            ).values_list("track_id", flat=True)
        )
        until = {t.pk: last if t.pk in scheduled else self.horizon for t in self.tracks}
        closures = self.writer(
            Closure, ["program_id", "first_day", "last_day", "reason", "created_at", "updated_at"]
        )
        stamp = _at(self.tz, first, 8)
        for start, end, reason in schedule_demo.holidays(first, last):
            if end > last:
                continue
            closures.add((self.program.pk, start, end, reason, stamp, stamp))
            closed |= {start + dt.timedelta(days=n) for n in range((end - start).days + 1)}
        closures.flush()
        sessions = self.writer(
            Session,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "program_id", "track_id", "template_slot_id", "kind", "session_type_id", "title",
             "date", "starts_at", "ends_at", "facilitator_id", "room_id", "modality",
             "join_link", "topic_id", "from_curriculum", "status", "attendance_taken_at",
             "attendance_taken_by_id"],
        )  # fmt: skip
        # (id, track, date, starts, minutes, facilitator, modality, type name, topic, new)
        self.sessions: list[tuple[Any, ...]] = []
        sid = next_id(Session)
        curriculum_pos = dict.fromkeys(self.curriculum, 0)
        day = first
        while day <= self.horizon:
            if day not in closed:
                for track in self.tracks:
                    if day > until[track.pk]:
                        continue
                    for slot in self.slots[track.pk]:
                        if slot.weekday != day.weekday():
                            continue
                        starts = _at(self.tz, day, slot.start_time.hour, slot.start_time.minute)
                        ends = _at(self.tz, day, slot.end_time.hour, slot.end_time.minute)
                        topic = slot.topic
                        if slot.uses_curriculum:
                            order = self.curriculum[track.pk]
                            topic = order[curriculum_pos[track.pk] % len(order)]
                            curriculum_pos[track.pk] += 1
                        past = day < self.today  # attendance is taken after the group
                        taken = ends + dt.timedelta(minutes=self.rng.randint(5, 40))
                        sessions.add(
                            (sid, self.uuid(), stamp, stamp, self.director.pk, self.director.pk,
                             self.program.pk, track.pk, slot.pk, "group", slot.session_type_id,
                             slot.title or slot.session_type.name, day, starts, ends,
                             slot.facilitator_id, slot.room_id, slot.modality, slot.join_link,
                             topic.pk if topic else None, slot.uses_curriculum, "scheduled",
                             taken if past else None, slot.facilitator_id if past else None)
                        )  # fmt: skip
                        minutes = int((ends - starts).total_seconds() // 60)
                        if past:
                            self.sessions.append(
                                (sid, track.pk, day, starts, minutes, slot.facilitator_id,
                                 slot.modality, slot.session_type.name, topic, True)
                            )  # fmt: skip
                        sid += 1
            day += dt.timedelta(days=1)
        sessions.flush()
        # The demo's own past groups: generated people enrolled then get marks there too.
        for s in (
            Session.objects.filter(
                program=self.program,
                track__in=scheduled,  # not the added tracks' (above)
                template_slot__isnull=False,
                date__gte=self.window,
                date__lt=self.today,
                voided=False,
                status="scheduled",
            )
            .select_related("session_type", "topic")
            .order_by("starts_at", "pk")
        ):
            self.sessions.append(
                (s.pk, s.track_id, s.date, s.starts_at, s.minutes, s.facilitator_id, s.modality,
                 s.session_type.name, s.topic, False)
            )  # fmt: skip
        self.say(f"wrote {sessions.count} sessions and {closures.count} closures")

    # ------------------------------------------------------------------ attendance

    def day_plan(self, p: Plan, day: dt.date) -> tuple[str, int, str]:
        rng = self.rng
        if p.fading_from and day >= p.fading_from and p.end:
            if (p.end - day).days <= 6:
                return A.ABSENT_UNEXCUSED, 0, ""
            share = (day - p.fading_from).days / max((p.end - p.fading_from).days, 1)
            if rng.random() < 0.2 + 0.6 * share:
                return A.ABSENT_UNEXCUSED, 0, ""
        roll = rng.random()
        if roll < 0.04:
            return A.LATE, rng.randint(10, 25), rng.choice(LATE_NOTES)
        if roll < 0.055:
            return A.LEFT_EARLY, rng.randint(10, 20), "Left for work."
        if roll < 0.085:
            return A.ABSENT_EXCUSED, 0, rng.choice(EXCUSES)
        if roll < 0.105:
            return A.ABSENT_UNEXCUSED, 0, ""
        if roll < 0.2 and p.track.modality != Modality.IN_PERSON:
            return A.TELEHEALTH, 0, ""
        return A.PRESENT, 0, ""

    def write_attendance(self) -> None:
        """Marks for every past group, check-ins, and a signed group note per new group."""
        rng = self.rng
        marks = self.writer(
            Attendance,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "session_id",
             "episode_id", "participant_id", "status", "minutes_missed", "minutes_attended",
             "note"],
        )  # fmt: skip
        checkins = self.writer(
            CheckIn,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "participant_id", "episode_id", "day", "at", "session_id", "mood", "craving",
             "used", "substances", "stress", "sleep_hours", "note", "source"],
        )  # fmt: skip
        groups = self.writer(
            GroupNote,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "version", "session_id", "program_id", "author_id", "topic_id", "modality",
             "narrative", "status", "signed_at", "signed_name"],
        )  # fmt: skip
        entries = self.writer(
            Note,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "version",
             "participant_id", "episode_id", "program_id", "session_id", "format",
             "service_date", "minutes", "sections", "author_id", "status", "signed_at",
             "signed_name", "group_note_id"],
        )  # fmt: skip
        users = {u.pk: u for u in self.staff.values()}
        signed_names = {pk: self.name(u) for pk, u in users.items()}
        group_id = next_id(GroupNote)
        # Who is enrolled on which track, by start day (an enrolment covers start..end).
        by_track: dict[int, list[Plan]] = defaultdict(list)
        for p in self.plans:
            by_track[p.track.pk].append(p)
        for plans in by_track.values():
            plans.sort(key=lambda p: p.admitted)
        starts = {t: [p.admitted for p in plans] for t, plans in by_track.items()}
        # Only those admitted within the longest stay before a day can be enrolled on it.
        longest = dt.timedelta(
            days=max(((p.end or self.today) - p.admitted).days for p in self.plans)
            if self.plans
            else 0
        )
        by_day: dict[tuple[dt.date, int], list[tuple[Any, ...]]] = defaultdict(list)
        for s in self.sessions:
            by_day[(s[2], s[1])].append(s)
        done = 0
        for day, track in sorted(by_day, key=lambda k: (k[0], k[1])):
            sessions = sorted(by_day[(day, track)], key=lambda s: s[3])
            plans = by_track.get(track, [])
            since = bisect_left(starts.get(track, []), day - longest)
            upto = bisect_right(starts.get(track, []), day)
            roster = [p for p in plans[since:upto] if p.end is None or day <= p.end]
            if not roster:
                continue
            came: dict[int, tuple[Plan, tuple[Any, ...]]] = {}
            day_marks: dict[int, list[tuple[Plan, str, int]]] = defaultdict(list)
            for p in roster:
                status, minutes, note = self.day_plan(p, day)
                n = len(sessions)
                for k, s in enumerate(sessions):
                    st, mi, no = status, minutes, note if k == 0 else ""
                    if (st == A.LATE and k > 0) or (st == A.LEFT_EARLY and k < n - 1):
                        st, mi = A.PRESENT, 0
                    if st == A.TELEHEALTH and s[6] == Modality.IN_PERSON:
                        st = A.PRESENT
                    mi = min(mi, s[4] - 5)
                    attended = st in ATTENDED
                    got = s[4] - mi if attended else 0
                    when = s[3] + dt.timedelta(minutes=s[4] + 10)
                    marks.add(
                        (self.uuid(), when, when, s[5], s[5], s[0], p.pk, p.participant, st,
                         mi if st in (A.LATE, A.LEFT_EARLY) else 0, got, no)
                    )  # fmt: skip
                    if attended:
                        p.attended += 1
                        p.minutes += got
                        day_marks[s[0]].append((p, st, mi))
                        came.setdefault(p.pk, (p, s))
                    else:
                        p.missed += 1
                        p.excused += st == A.ABSENT_EXCUSED
            for p, s in came.values():
                if rng.random() > 0.85:
                    continue
                progress = min(max((day - p.started).days / 56, 0.0), 1.0)
                strain = 0.0
                if p.fading_from and day >= p.fading_from:
                    strain = min((day - p.fading_from).days / 14, 1.0)
                used = strain > 0.5 and rng.random() < 0.3
                sleep = 6 + 1.5 * progress - 1.5 * strain + rng.gauss(0, 0.5)
                at = s[3] - dt.timedelta(minutes=rng.randint(5, 20))
                checkins.add(
                    (self.uuid(), at, at, s[5], s[5], p.participant, p.pk, day, at, s[0],
                     _scale(rng, 5 + 2.5 * progress - 3 * strain, 1, 10),
                     _scale(rng, 5 - 3 * progress + 4 * strain, 0, 8 if strain else 6), used,
                     "alcohol" if used else "", _scale(rng, 6 - 2 * progress + 3 * strain, 0, 10),
                     Decimal(min(max(round(sleep * 2) / 2, 3.0), 10.0)).quantize(Decimal("0.1")),
                     rng.choice(CHECK_IN_NOTES) if rng.random() < 0.2 else "", "staff")
                )  # fmt: skip
            for s in sessions:
                attendees = day_marks.get(s[0])
                if not s[9] or not attendees:
                    continue
                modality = _modality(rng, s)
                signed = s[3] + dt.timedelta(minutes=s[4] + rng.randint(60, 300))
                author = s[5]
                groups.add(
                    (group_id, self.uuid(), signed, signed, author, author, 3, s[0],
                     self.program.pk, author, s[8].pk if s[8] else None, modality,
                     _narrative(rng, modality, s, len(attendees)), "signed", signed,
                     signed_names[author])
                )  # fmt: skip
                responses = notes_demo._responses(rng, modality, len(attendees))
                for (p, st, mi), response in zip(attendees, responses, strict=True):
                    participation = PARTICIPATION[st].format(m=mi)
                    entries.add(
                        (self.uuid(), signed, signed, author, author, 3, p.participant, p.pk,
                         self.program.pk, s[0], NoteFormat.GROUP, day, s[4] - mi,
                         {"participation": participation, "response": response, "goal": ""},
                         author, "signed", signed, signed_names[author], group_id)
                    )  # fmt: skip
                group_id += 1
            done += 1
            if done % 2000 == 0:
                self.say(f"attendance: {marks.count + len(marks.rows)} marks, up to {day}")
        for w in (marks, checkins, groups, entries):
            w.flush()
        # A demo group that had nobody of the demo's own on its roster now has marks:
        # stamp it as taken, as recording them would have (sessions are not signed).
        Session.objects.filter(
            pk__in=[s[0] for s in self.sessions if not s[9]], attendance_taken_at__isnull=True
        ).filter(attendance__isnull=False).update(
            attendance_taken_at=F("ends_at"), attendance_taken_by=F("facilitator")
        )
        self.say(
            f"wrote {marks.count} marks, {checkins.count} check-ins, {groups.count} group "
            f"notes with {entries.count} entries"
        )

    # ------------------------------------------------------------------ clinical records

    def write_clinical(self) -> None:
        """Individual notes, instruments and drug screens of every episode."""
        rng = self.rng
        notes = self.writer(
            Note,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "version",
             "participant_id", "episode_id", "program_id", "format", "service_date", "minutes",
             "sections", "author_id", "status", "signed_at", "signed_name"],
        )  # fmt: skip
        responses = self.writer(
            InstrumentResponse,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "participant_id", "episode_id", "instrument", "answers", "total", "band",
             "severity", "subscales", "flags", "administered_on", "occasion", "mode",
             "administered_by_id"],
        )  # fmt: skip
        orders = self.writer(
            Order,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "version", "participant_id", "episode_id", "program_id", "day", "reason",
             "reason_detail", "panel_id", "status", "status_at", "status_by_id", "status_note"],
        )  # fmt: skip
        collections = self.writer(
            Collection,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "order_id", "participant_id", "specimen_id", "specimen_type", "collected_at",
             "collected_by_id", "observed", "temperature_in_range", "validity"],
        )  # fmt: skip
        results = self.writer(
            Result,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "collection_id", "participant_id", "analyte_id", "method", "outcome", "value",
             "unit", "cutoff", "interpretation", "source", "resulted_at"],
        )  # fmt: skip
        custody = self.writer(
            CustodyEvent,
            ["collection_id", "step", "at", "by_id", "by_name", "detail", "recorded_at",
             "recorded_by_id"],
        )  # fmt: skip
        reviews = self.writer(
            Review,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "version",
             "participant_id", "episode_id", "order_id", "reason", "detail", "assigned_to_id",
             "status", "outcome", "plan_change", "reviewed_at", "reviewed_by_id"],
        )  # fmt: skip
        scored: dict[tuple[str, tuple[int, ...]], Any] = {}
        definitions = {code: catalogue.get(code) for code in (*INSTRUMENTS, "BAM")}
        order_id, collection_id = next_id(Order), next_id(Collection)
        lab, lab_name = self.lab, self.name(self.lab, credentials=False)
        for p in self.plans:
            c = p.counsellor
            last = p.end or self.today - dt.timedelta(days=1)
            # Individual sessions every two weeks, documented and signed the same day.
            day = p.started + dt.timedelta(days=rng.randint(3, 10))
            while day <= last:
                fmt = notes_demo.PREFERRED.get(c.username, NoteFormat.DAP)
                signed = _at(self.tz, day, 15, rng.randint(0, 59))
                notes.add(
                    (self.uuid(), signed, signed, c.pk, c.pk, 3, p.participant, p.pk,
                     self.program.pk, fmt, day, 50, notes_demo._sections(rng, fmt, False),
                     c.pk, "signed", signed, self.name(c))
                )  # fmt: skip
                day += dt.timedelta(days=NOTE_EVERY + rng.randint(-2, 2))
            # Instruments at admission, every thirty days, and at discharge.
            days = [p.admitted]
            while days[-1] + dt.timedelta(days=INSTRUMENT_EVERY) < last:
                days.append(days[-1] + dt.timedelta(days=INSTRUMENT_EVERY))
            at_discharge = p.end is not None and p.reason in COMPLETED and p.end > p.admitted
            if at_discharge and days[-1] != p.end:
                days.append(p.end)  # type: ignore[arg-type]
            course = "better" if p.reason in COMPLETED or not p.end else "flat"
            if p.reason == "against_advice" and p.pk % 2:
                course = "worse"
            for k, day in enumerate(days):
                progress = k / max(len(days) - 1, 1) if len(days) > 1 else 0.0
                if course == "flat":
                    progress *= 0.25
                elif course == "worse":
                    progress = -0.5 * progress
                occasion = Occasion.ADMISSION if k == 0 else Occasion.SCHEDULED
                if at_discharge and k == len(days) - 1 and k > 0:
                    occasion = Occasion.DISCHARGE
                when = _at(self.tz, day, 10, rng.randint(0, 59))
                for code in (*INSTRUMENTS, "BAM"):
                    if code == "BAM":
                        answers = clinical.bam_answers(max(progress, 0.0), rng)
                    else:
                        start, best = clinical.TRAJECTORIES[code]
                        target = round(start + (best - start) * progress + rng.uniform(-1.5, 1.5))
                        answers = clinical.answers_for_total(definitions[code], target, rng)
                    key = (code, tuple(answers))
                    result = scored.get(key)
                    if result is None:
                        result = scored[key] = _scored(code, answers)
                    total, band, severity, subscales, flags = result
                    responses.add(
                        (self.uuid(), when, when, c.pk, c.pk, p.participant, p.pk, code,
                         answers, total, band, severity, subscales, flags, day, occasion,
                         "staff", c.pk)
                    )  # fmt: skip
                    if total is not None:
                        first = p.firsts.get(code)
                        p.firsts[code] = (
                            (first[0], first[1], total, day, first[4] + 1)
                            if first
                            else (total, day, total, day, 1)
                        )
            # Drug screens: at admission, then at random every one to two weeks.
            screens = dict.fromkeys(
                ("screens", "negative", "unexpected_positive", "invalid", "refused", "no_show"), 0
            )
            day, reason = p.admitted, "admission"
            while day <= last:
                if day.weekday() < 5:
                    roll = rng.random()
                    status = (
                        "collected" if roll < 0.92 else ("no_show" if roll < 0.97 else "refused")
                    )
                    t_col = _at(self.tz, day, 12, rng.randint(0, 59))
                    orders.add(
                        (order_id, self.uuid(), t_col, t_col, lab.pk, lab.pk, 2, p.participant,
                         p.pk, self.program.pk, day, reason, "", self.panel.pk, status, t_col,
                         lab.pk, "" if status == "collected" else "Did not come in on the day."
                         if status == "no_show" else "Declined to give a specimen.")
                    )  # fmt: skip
                    screens["screens"] += 1
                    if status != "collected":
                        screens[status] += 1
                    else:
                        collections.add(
                            (collection_id, self.uuid(), t_col, t_col, lab.pk, lab.pk, order_id,
                             p.participant, f"G{day:%y%m%d}{order_id:07d}", "urine", t_col,
                             lab.pk, False, True, "valid")
                        )  # fmt: skip
                        t_res = t_col + dt.timedelta(minutes=8)
                        positive = None
                        if rng.random() < (
                            0.12 if p.fading_from and day >= p.fading_from else 0.05
                        ):
                            positive = self.analytes[rng.randrange(len(self.analytes))].analyte_id
                        for line in self.analytes:
                            hit = line.analyte_id == positive
                            results.add(
                                (self.uuid(), t_res, t_res, lab.pk, lab.pk, collection_id,
                                 p.participant, line.analyte_id, "presumptive",
                                 "positive" if hit else "negative", None, line.unit, line.cutoff,
                                 "unexpected" if hit else "negative", "manual", t_res)
                            )  # fmt: skip
                        custody.add(
                            (collection_id, "collected", t_col, lab.pk, lab_name, "", t_col, lab.pk)
                        )
                        custody.add(
                            (collection_id, "resulted", t_res, lab.pk, lab_name,
                             f"{len(self.analytes)} results (manual)", t_res, lab.pk)
                        )  # fmt: skip
                        if positive is None:
                            screens["negative"] += 1
                        else:
                            screens["unexpected_positive"] += 1
                            t_rev = t_res + dt.timedelta(days=1)
                            code = next(
                                a.analyte.code for a in self.analytes if a.analyte_id == positive
                            )
                            reviews.add(
                                (self.uuid(), t_res, t_rev, lab.pk, c.pk, 2, p.participant, p.pk,
                                 order_id, "positive", code, c.pk, "done", "use",
                                 "Discussed in individual session; relapse-prevention plan "
                                 "updated.", t_rev, c.pk)
                            )  # fmt: skip
                        collection_id += 1
                    order_id += 1
                day += dt.timedelta(days=rng.randint(*SCREEN_EVERY))
                reason = "random"
            p.screens = screens
        for w in (notes, responses, orders, collections, results, custody, reviews):
            w.flush()
        self.say(
            f"wrote {notes.count} notes, {responses.count} instrument responses, "
            f"{orders.count} screen orders with {results.count} results"
        )

    # ------------------------------------------------------------------ discharges

    def write_discharges(self) -> None:
        rng = self.rng
        discharges = self.writer(
            Discharge,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "episode_id", "participant_id", "program_id", "discharge_date",
             "last_contact_date", "reason", "reason_detail", "level_at_discharge",
             "next_level", "receiving_program", "receiving_contact", "discharged_by_id",
             "discharged_by_name"],
        )  # fmt: skip
        summaries = self.writer(
            DischargeSummary,
            ["uuid", "created_at", "updated_at", "created_by_id", "updated_by_id", "version",
             "discharge_id", "episode_id", "participant_id", "status", "facts",
             "presenting_problem", "course", "progress", "condition", "recommendations",
             "signed_at", "signed_by_id", "signed_by_name", "signed_credential",
             "content_sha256"],
        )  # fmt: skip
        follow_ups = self.writer(
            FollowUp,
            ["id", "uuid", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "version", "discharge_id", "episode_id", "participant_id", "program_id",
             "day_mark", "due_date", "status", "assigned_to_id", "completed_at",
             "completed_by_id", "completed_by_name", "use_since_discharge",
             "days_used_past_30", "occupation", "housing", "readmitted", "readmitted_where",
             "quality_of_life", "in_aftercare"],
        )  # fmt: skip
        attempts = self.writer(
            FollowUpAttempt, ["follow_up_id", "at", "method", "reached", "note", "by_id", "by_name"]
        )
        discharge_id, follow_id = next_id(Discharge), next_id(FollowUp)
        for p in self.plans:
            if p.end is None:
                continue
            c = p.counsellor
            t_end = _at(self.tz, p.end, 16, rng.randint(0, 59))
            level, receiving, contact = RECEIVING.get(p.reason, ("", "", ""))
            detail = outcomes_demo.DETAIL[p.reason]
            discharges.add(
                (discharge_id, self.uuid(), t_end, t_end, c.pk, c.pk, p.pk, p.participant,
                 self.program.pk, p.end, p.end, p.reason, detail, LevelOfCare.E3_2_1, level,
                 receiving, contact, c.pk, self.name(c, credentials=False))
            )  # fmt: skip
            facts = self.facts(p, level, receiving)
            recorded = p.attended + p.missed
            facts["attendance"] = {
                "sessions_attended": p.attended,
                "sessions_missed": p.missed,
                "sessions_excused": p.excused,
                "hours_attended": hours(p.minutes),
                "attendance_pct": round(100 * p.attended / recorded) if recorded else None,
            }
            text = {
                "presenting_problem": p.referral_reason,
                "course": f"Attended {p.attended} session{'s' if p.attended != 1 else ''} "
                f"({hours(p.minutes)} hours) and missed {p.missed} over "
                f"{(p.end - p.admitted).days} days in the program.",
                "progress": "",
                "condition": "",
                "recommendations": "",
            }
            signed = t_end + dt.timedelta(hours=1, minutes=30)
            summary = DischargeSummary(facts=facts, **text)
            summaries.add(
                (self.uuid(), t_end, signed, c.pk, c.pk, 2, discharge_id, p.pk, p.participant,
                 "signed", facts, *text.values(), signed, c.pk, self.name(c, credentials=False),
                 c.credentials, content_hash(summary))
            )  # fmt: skip
            completed = p.reason in COMPLETED
            for mark in FOLLOW_UP_DAYS:
                due = p.end + dt.timedelta(days=mark)
                row: list[Any] = [
                    follow_id, self.uuid(), t_end, t_end, c.pk, c.pk, 1, discharge_id, p.pk,
                    p.participant, self.program.pk, mark, due, "pending", c.pk, None, None, "",
                    "", None, "", "", None, "", None, None,
                ]  # fmt: skip
                if due <= self.today - dt.timedelta(days=7):
                    when = _at(self.tz, due, 14)
                    row[3] = when
                    reach = (0.8 if completed else 0.45) - (0.15 if mark >= 180 else 0)
                    if rng.random() < reach:
                        o = outcomes_demo._outcomes(rng, completed, mark)
                        row[6], row[13], row[15:18] = 2, "reached", [when, c.pk, self.name(c)]
                        row[18:26] = [
                            o["use_since_discharge"], o["days_used_past_30"], o["occupation"],
                            o["housing"], o["readmitted"], o["readmitted_where"],
                            o["quality_of_life"], o["in_aftercare"],
                        ]  # fmt: skip
                        attempts.add((follow_id, when, "phone", True, "", c.pk, self.name(c)))
                    else:
                        closed = when + dt.timedelta(days=14)
                        row[3], row[6], row[13] = closed, 4, "not_reached"
                        row[15:18] = [closed, c.pk, self.name(c)]
                        attempts.add(
                            (follow_id, when, "phone", False, "No answer; left a message.",
                             c.pk, self.name(c))
                        )  # fmt: skip
                        attempts.add(
                            (follow_id, when + dt.timedelta(days=3), "text", False,
                             "No reply to the text.", c.pk, self.name(c))
                        )  # fmt: skip
                follow_ups.add(row)
                follow_id += 1
            discharge_id += 1
        for w in (discharges, summaries, follow_ups, attempts):
            w.flush()
        self.say(f"wrote {discharges.count} discharges and {follow_ups.count} follow-ups")

    def facts(self, p: Plan, level: str, receiving: str) -> dict[str, Any]:
        """The discharge summary's facts, in the shape `discharge.summary.assemble` gives."""
        instruments = []
        for code in sorted(p.firsts):
            a, a_day, b, b_day, times = p.firsts[code]
            verdict = ""
            if times > 1:
                try:
                    change = reliable_change(code, a, b)
                except ValueError:
                    change = None
                verdict = change.label if change is not None else "No published reliability"
            instruments.append(
                {
                    "code": code,
                    "name": catalogue.get(code).short_name,
                    "times": times,
                    "first": a,
                    "first_on": a_day.isoformat(),
                    "last": b,
                    "last_on": b_day.isoformat(),
                    "change": b - a,
                    "verdict": verdict,
                }
            )
        from openiop.intake import icd10

        return {
            "dates": {
                "admission": p.admitted.isoformat(),
                "discharge": p.end.isoformat() if p.end else None,
                "last_contact": p.end.isoformat() if p.end else None,
                "length_of_stay_days": (p.end - p.admitted).days if p.end else None,
            },
            "discharge": {
                "reason": p.reason,
                "reason_label": DischargeReason(p.reason).label,
                "teds_reason": int(TEDS_REASON[p.reason]),
                "level": level_short(LevelOfCare.E3_2_1),
                "next_level": level_short(level) if level else "",
                "receiving_program": receiving,
            },
            "attendance": {},
            "screens": p.screens,
            "instruments": instruments,
            "plan": None,
            "diagnoses": [
                {"code": code, "description": icd10.describe(code) or code, "primary": primary}
                for code, primary in p.diagnoses
            ],
            "aftercare": [],
        }

    # ------------------------------------------------------------------ the run

    def run(self) -> Report:
        prepare_connection()
        self.load()
        self.plan()
        steps = [
            ("people and intake", self.write_people),
            ("schedule", self.write_sessions),
            ("attendance, check-ins, group notes", self.write_attendance),
            ("notes, instruments, screens", self.write_clinical),
            ("discharges and follow-ups", self.write_discharges),
        ]
        for title, step in steps:
            self.say(f"{title}...")
            with transaction.atomic():
                step()
                started = time.perf_counter()
                if self.stats.set_aside:
                    self.stats.check_foreign_keys()
                    self.say(f"checked foreign keys in {time.perf_counter() - started:.1f}s")
        models: list[Any] = [
            Participant, Episode, EpisodeTransition, Episode.care_team.through, Referral,
            ContactAttempt, PreScreen, Assessment, Admission, Diagnosis, Enrolment, Closure,
            Session, Attendance, CheckIn, GroupNote, Note, InstrumentResponse, Order,
            Collection, Result, CustodyEvent, Review, Discharge, DischargeSummary, FollowUp,
            FollowUpAttempt,
        ]  # fmt: skip
        reset_sequences(models)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        report = Report(
            episodes=Episode.objects.filter(program=self.program).count(),
            generated=len(self.plans),
            active=Episode.objects.filter(program=self.program, status__in=IN_CARE).count(),
            participants=Participant.objects.filter(program=self.program).count(),
            seconds=time.perf_counter() - self.started,
            tables=self.stats.tables,
        )
        return report


def _letters(n: int) -> str:
    """0 → A, 1 → B, ..., 25 → Z, 26 → AA: the labels of added tracks and rooms."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def busiest_day(spans: list[tuple[dt.date, dt.date]]) -> int:
    """The most spans (first and last day, inclusive) covering one day."""
    change: dict[int, int] = defaultdict(int)
    for first, last in spans:
        change[first.toordinal()] += 1
        change[last.toordinal() + 1] -= 1
    peak = now = 0
    for day in sorted(change):
        now += change[day]
        peak = max(peak, now)
    return peak


def assign_tracks(
    spans: list[tuple[dt.date, dt.date]],
    fixed: list[tuple[dt.date, dt.date, int]],
    caps: list[int],
) -> tuple[list[int], int]:
    """Spread enrolments (first and last day, inclusive) over tracks of these capacities,
    around the `fixed` ones (first, last, track) already there: (track of each span, how
    many found no free seat).

    In order of start, each goes to the track with the most free seats over its whole
    stay: the capacity, less those of the spread still enrolled on its first day, less
    the most fixed ones on any day of the stay. Whoever joins later checks the same way,
    so on every day a track's roster stays within its capacity: its latest joiner saw
    everyone else of the spread enrolled on its first day, and the fixed ones at most.
    """
    # Fixed enrolments per track and day, over the days they cover.
    origin = min((first.toordinal() for first, _, _ in fixed), default=0)
    end = max((last.toordinal() for _, last, _ in fixed), default=-1)
    load: list[list[int] | None] = [None] * len(caps)
    for start, stop, track in fixed:
        days = load[track]
        if days is None:
            days = load[track] = [0] * (end - origin + 1)
        for d in range(start.toordinal() - origin, stop.toordinal() - origin + 1):
            days[d] += 1
    ends: list[list[int]] = [[] for _ in caps]  # last days of the spread, a heap per track
    chosen = [0] * len(spans)
    overfull = 0
    for i in sorted(range(len(spans)), key=lambda i: (spans[i][0], i)):
        first, last = spans[i][0].toordinal(), spans[i][1].toordinal()
        best, best_key = 0, (-(10**9), 0, 0)
        for track, cap in enumerate(caps):
            heap = ends[track]
            while heap and heap[0] < first:
                heapq.heappop(heap)
            free = cap - len(heap)
            days = load[track]
            if days is not None and first <= end and last >= origin:
                free -= max(days[max(first - origin, 0) : min(last, end) - origin + 1])
            key = (free, -len(heap), -track)
            if key > best_key:
                best, best_key = track, key
        if best_key[0] < 1:
            overfull += 1
        heapq.heappush(ends[best], last)
        chosen[i] = best
    return chosen, overfull


def _scale(rng: random.Random, base: float, low: int, high: int) -> int:
    return min(max(round(base + rng.gauss(0, 0.8)), low), high)


def _scored(code: str, answers: list[int]) -> tuple[Any, ...]:
    """What `instruments.services.record_response` keeps of a score."""
    result = score(code, answers)
    return (
        result.total,
        result.band.label if result.band else "",
        result.band.severity if result.band else None,
        dict(result.subscales),
        [
            {"code": f.code, "message": f.message, "safety": f.safety, "risk": f.risk}
            for f in result.flags
        ],
    )


def _modality(rng: random.Random, s: tuple[Any, ...]) -> str:
    name, topic = s[7], s[8]
    if name.startswith("DBT"):
        return GM.DBT
    if name.startswith("Mindfulness"):
        return GM.HOLISTIC
    if topic is not None:
        return GM.RELAPSE_PREVENTION if topic.title == "Relapse prevention" else GM.PSYCHOEDUCATION
    return rng.choice(notes_demo.PROCESS_MODALITIES)


def _narrative(rng: random.Random, modality: str, s: tuple[Any, ...], n: int) -> str:
    openings, middles, closings = notes_demo.NARRATIVES[modality]
    topic = s[8]
    about = topic.description.rstrip(".").lower() if topic else ""
    text = " ".join([rng.choice(openings), rng.choice(middles), rng.choice(closings)])
    return text.format(n=n, topic=topic.title if topic else s[7], about=about)


def generate(
    *, episodes: int, seed: int, active: int = DEFAULT_ACTIVE, out: Callable[[str], None] = print
) -> Report:
    """Build the demo program if needed, then add the history (see the module's doc)."""
    if not builder.demo_loaded():
        out("No demo program yet: building it first (openiop demo)...")
        builder.build()
    return Generator(episodes=episodes, seed=seed, active=active, out=out).run()


def fingerprint() -> str:
    """A digest of the demo program's history that ignores ids and wall-clock stamps of
    the demo itself: equal for two databases generated with the same seed and N on the
    same day."""
    digest = hashlib.sha256()
    rows = Episode.objects.order_by("referral_date", "participant__record_number").values_list(
        "participant__record_number",
        "participant__legal_first_name",
        "participant__legal_last_name",
        "participant__date_of_birth",
        "status",
        "referral_date",
        "admission_date",
        "discharge_date",
        "track__name",
        "primary_counsellor__username",
    )
    for row in rows:
        digest.update(repr(row).encode())
    # The tracks added for groups of a real size: their templates, rooms and facilitators.
    slots = TemplateSlot.objects.order_by("track__name", "weekday", "start_time").values_list(
        "track__name", "weekday", "start_time", "facilitator__username", "room__name"
    )
    digest.update(repr(list(slots)).encode())
    for model in (Attendance, CheckIn, Note, InstrumentResponse, Result, FollowUp, Session):
        digest.update(f"{model.__name__}={model._default_manager.count()}".encode())
    digest.update(
        repr(
            list(
                Attendance.objects.order_by(
                    "session__starts_at", "participant__record_number"
                ).values_list("participant__record_number", "session__starts_at", "status")[:5000]
            )
        ).encode()
    )
    return digest.hexdigest()
