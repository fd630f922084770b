"""The demo's progress notes (issue 6, point 9): a history of signed notes.

* Group notes for the group sessions of the last three weeks with attendance taken: a
  narrative in keeping with the session (process, CBT, MI, relapse prevention,
  psychoeducation on the curriculum's topic, DBT skills, mindfulness), an entry for each
  member who attended (participation prefilled from the mark, a short response), signed
  by the facilitator the same evening. A couple were signed days later (late entries).
* The demo counsellor's group notes of their last two program days are still drafts,
  half written, and so is their latest individual note: the "Unsigned work" page and
  the today board's "My unsigned notes" have something to show.
* A DAP, BIRP or SOAP note for every past individual or family appointment that was
  attended, by its counsellor; if the participant has a signed treatment plan when this
  runs, the note addresses one of its goals and objectives. One carries an addendum.
* A counsellor in training ("supervisee", notes co-signed) whose signed notes wait in
  the supervisor's co-signature queue, one of them co-signed already.

Seeded and built through the notes services, so the audit trail looks like real work.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance.choices import ATTENDED
from openiop.attendance.models import Attendance
from openiop.notes import groups
from openiop.notes import services as notes
from openiop.notes.choices import GroupModality as GM
from openiop.notes.choices import NoteFormat
from openiop.notes.goals import addressable_goals
from openiop.notes.models import Note
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode
from openiop.programs.models import Program
from openiop.scheduling.choices import SessionKind, SessionStatus
from openiop.scheduling.models import Session

NOTES_DAYS = 21  # group notes for the last three weeks of sessions
DRAFT_DAYS = 2  # the demo counsellor's last program days left unsigned
LATE_GROUPS = 2
SUPERVISEE = "supervisee"

# ---------------------------------------------------------------- group narratives

# modality → (openings, middles, closings); {n} members attended, {topic}, {about}.
NARRATIVES: dict[str, tuple[list[str], list[str], list[str]]] = {
    GM.PROCESS: (
        [
            "Process group opened with a check-in round on the week's cravings, mood and "
            "sleep; {n} members attended.",
            "{n} members attended. In the check-in several members named stress at work and "
            "at home as this week's main trigger.",
            "Group opened with a mindful minute and a check-in round ({n} members present).",
        ],
        [
            "Discussion centred on shame after a return to use and how secrecy feeds it; "
            "members supported one another without judgement.",
            "A member's account of a family conflict led to a discussion of boundaries with "
            "people who still use; members practised refusal statements in pairs.",
            "The group processed the weekend's high-risk situations (parties, payday, being "
            "alone) and what each member did instead of using.",
            "Members discussed rebuilding trust with family and the difference between "
            "apologising and making amends.",
        ],
        [
            "Group closed with each member naming one coping skill to use before the next "
            "session.",
            "Facilitator summarised the themes and reminded members of the craving plan and "
            "the crisis line. No safety concerns raised.",
            "Closed with a gratitude round; members exchanged numbers for support between "
            "sessions.",
        ],
    ),
    GM.CBT: (
        [
            "CBT-focused process group; {n} members attended.",
            "{n} members attended a process group using a cognitive-behavioural frame.",
        ],
        [
            "Facilitator introduced the thought record (situation, automatic thought, "
            "feeling, urge, alternative thought) and members worked through a recent "
            "craving each.",
            "Members identified thinking errors behind recent urges ('I deserve it', 'one "
            "won't hurt') and practised balanced responses.",
        ],
        [
            "Homework: one thought record before the next group.",
            "Members left with a blank thought record and a plan to use it at the next "
            "craving. No safety concerns raised.",
        ],
    ),
    GM.MI: (
        [
            "Process group using motivational interviewing; {n} members attended.",
            "{n} members attended. Group focused on motivation and ambivalence.",
        ],
        [
            "Members completed a decisional balance on their use and shared one reason for "
            "change; facilitator used open questions and reflections to draw out change "
            "talk.",
            "Members rated the importance of change and their confidence (0-10) and "
            "discussed what would move each number up by one.",
        ],
        [
            "Group closed with each member stating one step toward their goal this week.",
            "Facilitator summarised the change talk heard in the room. No safety concerns "
            "raised.",
        ],
    ),
    GM.RELAPSE_PREVENTION: (
        [
            "Relapse-prevention group; {n} members attended.",
            "{n} members attended a session on relapse prevention.",
        ],
        [
            "Members mapped their personal warning signs (emotional, mental, physical) and "
            "the early steps of a return to use, and shared one each.",
            "Members reviewed their relapse-prevention plans in pairs: triggers, "
            "high-risk situations, coping responses and people to call.",
        ],
        [
            "Members agreed to share their plan with one support person this week.",
            "Closed with a review of the craving plan and the crisis line. No safety "
            "concerns raised.",
        ],
    ),
    GM.PSYCHOEDUCATION: (
        [
            'Psychoeducation on "{topic}" ({about}); {n} members attended.',
            '{n} members attended the psychoeducation session "{topic}": {about}',
        ],
        [
            "Facilitator presented the material with a handout and a short video; members "
            "applied it to their own histories of use.",
            "Members completed a worksheet on the topic and shared one example each; "
            "questions were answered about medication for addiction treatment.",
            "Interactive discussion: members compared the material with their own "
            "experience of early recovery.",
        ],
        [
            "Understanding checked with teach-back; members took the handout home.",
            "Homework: practise one idea from the session and report back at the next group.",
        ],
    ),
    GM.DBT: (
        [
            "DBT skills workshop on distress tolerance (TIPP and STOP); {n} members attended.",
            "DBT skills workshop on emotion regulation (check the facts, opposite action); "
            "{n} members attended.",
            "DBT skills workshop on interpersonal effectiveness (DEAR MAN); {n} members "
            "attended.",
        ],
        [
            "Skill taught with examples, then practised in the room with situations members "
            "expect this week.",
            "Diary cards reviewed: urges to use rated and linked to the emotions before them; "
            "members chose where the skill could have helped.",
        ],
        [
            "Homework: use the skill once and note it on the diary card.",
            "Members named one situation this week to use the skill. No safety concerns " "raised.",
        ],
    ),
    GM.HOLISTIC: (
        [
            "Mindfulness and movement; {n} members attended.",
            "{n} members attended mindfulness and movement.",
        ],
        [
            "Guided body scan followed by gentle stretching and chair yoga.",
            "Mindful breathing and an urge-surfing practice, then a short movement sequence.",
            "Five-senses grounding exercise and slow walking practice.",
        ],
        [
            "Members rated their stress before and after; most reported a drop.",
            "Members were encouraged to use the practice at home before bed.",
        ],
    ),
}
PROCESS_MODALITIES = [GM.PROCESS, GM.PROCESS, GM.CBT, GM.MI, GM.RELAPSE_PREVENTION]

RESPONSES = [
    "Shared a trigger from the week (conflict at work) and how the craving plan helped; "
    "supportive of peers.",
    "Quiet at first; opened up after the check-in and named loneliness in the evenings as "
    "a risk.",
    "Actively participated; gave feedback to a peer and named calling a sponsor as a "
    "coping skill.",
    "Reported cravings easing this week; practised urge surfing in group.",
    "Engaged; spoke about rebuilding trust with family and will try the communication "
    "skill at home.",
    "Attentive; completed the worksheet and named two high-risk situations (payday, old "
    "friends).",
    "Described a stressful week without use; receptive to feedback on a sleep routine.",
    "Little verbal participation but attentive; agreed to check in with the counsellor "
    "after group.",
    "Shared progress toward 30 days without use and encouraged newer members.",
    "Identified all-or-nothing thinking in a recent situation and reframed it with the "
    "group's help.",
    "Expressed ambivalence about stopping cannabis; explored pros and cons; open to "
    "continuing the discussion.",
    "Practised the skill in the role-play; said it felt awkward but useful.",
    "Asked questions about the material and related it to their own history of use.",
    "On topic and engaged; set a goal to attend a mutual-support meeting this weekend.",
    "Appeared tired and reported poor sleep; participated when prompted.",
    "Supportive of peers; shared a plan for an upcoming family gathering.",
]
HOLISTIC_RESPONSES = [
    "Took part in the whole practice; reported feeling calmer afterwards.",
    "Found it hard to settle into the practice; stayed with it and said the breathing " "helped.",
    "Participated fully; plans to use the breathing practice before bed.",
    "Engaged in the movement; reported less tension in the shoulders afterwards.",
]
TAILS = ["", "", "", " No safety concerns.", " Denied use since the last group."]

# ---------------------------------------------------------------- individual notes

PRESENTATION = [
    "Arrived on time, casually dressed, good eye contact; mood euthymic, affect congruent.",
    "Presented tired but engaged; described mood as 'stressed'.",
    "Alert and oriented, calm and cooperative, speech normal in rate and volume.",
    "Appeared anxious at the start and settled as the session went on.",
]
REPORTS = [
    "Reported no alcohol or drug use since the last session; cravings mostly mild, "
    "strongest in the evenings after work.",
    "Described a family gathering where alcohol was offered; left early and called a "
    "peer from group.",
    "Named conflict with their partner over money as this week's main trigger.",
    "Said a change of shifts at work has made sleeping and getting to group harder.",
    "Reported going to two mutual-support meetings and asking someone to be a sponsor.",
    "Shared worry about an upcoming court date and how it has raised cravings.",
    "Talked about boredom on weekends and old friends who still use.",
]
QUOTES = [
    '"I\'m sleeping better, but evenings are still hard."',
    '"I didn\'t think I could say no, and I did."',
    '"Work is the thing that keeps me going right now."',
    '"My family is starting to trust me again."',
]
INTERVENTIONS = [
    "Motivational interviewing: open questions, reflections and affirmations to explore "
    "ambivalence and strengthen change talk.",
    "CBT: completed a thought record on a recent craving, identified the automatic "
    "thought 'one won't hurt' and generated alternatives.",
    "Reviewed and updated the relapse-prevention plan: triggers, warning signs, coping "
    "responses and people to call.",
    "Taught and rehearsed urge surfing and delay-and-distract for evening cravings.",
    "Role-played refusal skills for an upcoming work event.",
    "Problem-solved the schedule change at work; discussed joining the evening track by "
    "telehealth on late-shift weeks.",
    "Reviewed the week's check-ins and progress on treatment-plan goals together.",
]
RESPONSES_1 = [
    "Receptive; identified two coping skills to practise and rated confidence 7/10.",
    "Engaged throughout; voiced change talk about wanting to be present for their " "children.",
    "Completed the thought record with some prompting; said reframing 'felt possible'.",
    "Guarded at first, then open; agreed to the plan.",
    "Practised the refusal statement twice; said it felt more natural the second time.",
]
OBSERVED = [
    "Alert, oriented x3, cooperative; speech normal; thought process linear; no signs "
    "of intoxication or withdrawal.",
    "Well groomed, good eye contact, affect full range; attending group regularly.",
    "Restless at times, affect anxious but appropriate; no signs of intoxication.",
]
ASSESSMENTS = [
    "Making steady progress toward goals: cravings decreasing and coping skills used "
    "consistently. Risk of return to use moderate.",
    "Motivation moving from contemplation toward action; work and money remain the main "
    "stressors.",
    "Engaged in treatment; early recovery with sleep and stress as areas of concern. "
    "Denied suicidal or homicidal ideation.",
    "Stable, making good use of supports; family relationships improving. Continue the "
    "current level of care.",
    "Some ambivalence persists and responds to an MI approach; access to alcohol at home "
    "keeps the risk of return to use moderate.",
]
PLANS = [
    "Continue IOP three days a week. Practise urge surfing daily and log cravings. Next "
    "individual session in one week.",
    "Attend two mutual-support meetings before the next session; bring the updated "
    "relapse-prevention plan to group.",
    "Homework: thought records for two cravings this week; review at the next appointment.",
    "Talk with their partner about joining a family session; schedule it at group.",
    "Continue the current plan; coordinate with the primary care provider about sleep. "
    "Next session as scheduled.",
]
FAMILY = [
    "Family session with the participant and their {who}. Discussed how substance use "
    "has affected the household and what support looks like now.",
    "Family session with the participant and their {who}, who described the worry of "
    "the last year; the participant listened and reflected it back.",
]
FAMILY_WHO = ["partner", "mother", "sister", "father", "spouse"]
FAMILY_ASSESSMENT = [
    "Family supportive and open; some mistrust remains, as expected at this stage. "
    "Communication improved during the session.",
    "Family engaged and wants to help; enabling patterns discussed and understood.",
]
FAMILY_PLAN = [
    "Family given information on Al-Anon and the program's family education evening. "
    "Follow-up family session in three weeks.",
    "Family to practise the agreed check-in conversation weekly; review at the next "
    "family session.",
]
# The formats each counsellor usually writes in (a quarter of the time another one).
PREFERRED = {"counsellor": NoteFormat.BIRP, "mreyes": NoteFormat.SOAP, "jharper": NoteFormat.DAP}
ADDENDUM = (
    "Addendum: the participant called the next morning to say the family event was "
    "cancelled; the refusal plan stays in place for the work event. Plan unchanged."
)


@dataclass
class NotesSummary:
    group_notes: int = 0
    entries: int = 0
    individual: int = 0
    drafts: int = 0
    late: int = 0
    cosign_waiting: int = 0


def build_notes(
    rng: random.Random, program: Program, staff: dict[str, User], today: dt.date
) -> NotesSummary:
    """The demo's notes (after the schedule and attendance, and after the treatment plans
    if the demo has them, so notes can address their goals)."""
    summary = NotesSummary()
    now = timezone.now()
    _group_notes(rng, program, staff, today, now, summary)
    _individual_notes(rng, program, staff, today, now, summary)
    _supervisee_notes(rng, program, staff, today, now, summary)
    return summary


def _signed_at(session: Session, rng: random.Random, now: dt.datetime) -> dt.datetime:
    """The same evening as the session, never after the demo is loaded."""
    return min(session.ends_at + dt.timedelta(minutes=rng.randint(15, 150)), now)


def _late_at(program: Program, day: dt.date, rng: random.Random, now: dt.datetime):
    """Four to six days after the service: a late entry."""
    at = dt.datetime.combine(
        day + dt.timedelta(days=rng.randint(4, 6)),
        dt.time(16, rng.randint(0, 59)),
        tzinfo=program.tz,
    )
    return min(at, now)


# ---------------------------------------------------------------- group notes


def _modality(rng: random.Random, session: Session) -> str:
    name = session.session_type.name
    if name.startswith("DBT"):
        return GM.DBT
    if name.startswith("Mindfulness"):
        return GM.HOLISTIC
    if session.topic_id:
        if session.topic and session.topic.title == "Relapse prevention":
            return GM.RELAPSE_PREVENTION
        return GM.PSYCHOEDUCATION
    return rng.choice(PROCESS_MODALITIES)


def _narrative(rng: random.Random, modality: str, session: Session, n: int) -> str:
    openings, middles, closings = NARRATIVES[modality]
    topic = session.topic
    about = topic.description.rstrip(".").lower() if topic else ""
    parts = [rng.choice(openings), rng.choice(middles), rng.choice(closings)]
    text = " ".join(parts)
    return text.format(n=n, topic=topic.title if topic else session.title, about=about)


def _responses(rng: random.Random, modality: str, count: int) -> list[str]:
    """A response for each of `count` members, as varied as the bank allows."""
    bank = HOLISTIC_RESPONSES if modality == GM.HOLISTIC else RESPONSES
    order = rng.sample(bank, len(bank))
    return [order[i % len(order)] + rng.choice(TAILS) for i in range(count)]


def _group_notes(
    rng: random.Random,
    program: Program,
    staff: dict[str, User],
    today: dt.date,
    now: dt.datetime,
    summary: NotesSummary,
) -> None:
    sessions = list(
        Session.objects.filter(
            program=program,
            kind=SessionKind.GROUP,
            date__gte=today - dt.timedelta(days=NOTES_DAYS),
            date__lt=today,
            voided=False,
            attendance_taken_at__isnull=False,
        )
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("program", "facilitator", "topic", "session_type")
        .order_by("starts_at", "pk")
    )
    attended = Counter(
        Attendance.objects.filter(
            session__in=sessions, voided=False, status__in=sorted(ATTENDED)
        ).values_list("session_id", flat=True)
    )
    sessions = [s for s in sessions if attended[s.pk] and s.facilitator_id]
    counsellor = staff["counsellor"]
    # The demo counsellor's last program days: still drafts. Older ones a week or more
    # ago: a couple signed late.
    their_days = sorted({s.date for s in sessions if s.facilitator_id == counsellor.pk})
    draft_days = set(their_days[-DRAFT_DAYS:])
    older = [
        s for s in sessions if s.date <= today - dt.timedelta(days=7) and s.date not in draft_days
    ]
    mine = [s for s in older if s.facilitator_id == counsellor.pk]
    late: set[int] = set()
    if mine:
        late.add(rng.choice(mine).pk)
    others = [s for s in older if s.pk not in late]
    rng.shuffle(others)
    late |= {s.pk for s in others[: max(LATE_GROUPS - len(late), 0)]}
    for session in sessions:
        author = session.facilitator or counsellor
        draft = session.facilitator_id == counsellor.pk and session.date in draft_days
        modality = _modality(rng, session)
        group = groups.open_group_note(session, actor=author)
        entries = groups.entries_of(group)
        narrative = _narrative(rng, modality, session, len(entries))
        written = entries
        if draft:
            # Half written: the latest day has the narrative only.
            written = [] if session.date == max(draft_days) else entries[: len(entries) // 2]
        group = groups.save_group_draft(
            group,
            actor=author,
            expected_version=group.version,
            narrative=narrative,
            modality=modality,
            entries={
                e.pk: {"response": text}
                for e, text in zip(written, _responses(rng, modality, len(written)), strict=True)
            },
        )
        summary.group_notes += 1
        summary.entries += len(entries)
        if draft:
            summary.drafts += len(entries)
            continue
        if session.pk in late:
            at = _late_at(program, session.date, rng, now)
            summary.late += len(entries)
        else:
            at = _signed_at(session, rng, now)
        groups.sign_group(group, actor=author, expected_version=group.version, now=at)


# ---------------------------------------------------------------- individual notes


def _sections(rng: random.Random, fmt: str, family: bool, goal: Any = None) -> dict[str, str]:
    """A note's sections from the phrase banks; `goal` (a plan goal) named in the plan."""
    presentation, report = rng.choice(PRESENTATION), rng.choice(REPORTS)
    intervention, response = rng.choice(INTERVENTIONS), rng.choice(RESPONSES_1)
    assessment, plan = rng.choice(ASSESSMENTS), rng.choice(PLANS)
    if family:
        report = rng.choice(FAMILY).format(who=rng.choice(FAMILY_WHO))
        assessment, plan = rng.choice(FAMILY_ASSESSMENT), rng.choice(FAMILY_PLAN)
    if goal is not None:
        plan += f' Worked on the treatment-plan goal "{goal.text.strip()[:160]}".'
    if fmt == NoteFormat.DAP:
        return {
            "data": f"{report} {presentation}",
            "assessment": f"{assessment} {response}",
            "plan": plan,
        }
    if fmt == NoteFormat.BIRP:
        return {
            "behavior": f"{presentation} {report}",
            "intervention": intervention,
            "response": response,
            "plan": plan,
        }
    return {
        "subjective": f"{report} Stated: {rng.choice(QUOTES)}",
        "objective": rng.choice(OBSERVED),
        "assessment": assessment,
        "plan": plan,
    }


def _format(rng: random.Random, author: User) -> str:
    usual = PREFERRED.get(author.username, NoteFormat.DAP)
    if rng.random() < 0.25:
        return rng.choice([NoteFormat.DAP, NoteFormat.BIRP, NoteFormat.SOAP])
    return usual


def _goal_choice(rng: random.Random, goals: list[Any]) -> tuple[Any, tuple[list[int], list[int]]]:
    """One goal of the participant's signed plan (and one of its objectives, if any)."""
    goal = rng.choice(goals)
    objectives = list(goal.objectives.all())
    chosen = [rng.choice(objectives).pk] if objectives else []
    return goal, ([goal.pk], chosen)


def _in_force(plan: Any, day: dt.date) -> bool:
    """Whether the signed plan was in force on the day of the service."""
    start = plan.effective_date or (plan.signed_at.date() if plan.signed_at else None)
    return start is not None and start <= day


def _write(
    rng: random.Random,
    episode: Episode,
    author: User,
    day: dt.date,
    minutes: int,
    goals: dict[int, list[Any]],
    *,
    session: Session | None = None,
    family: bool = False,
) -> Note:
    """A drafted individual note, every section written."""
    fmt = NoteFormat.DAP if family else _format(rng, author)
    note, _created = notes.start_note(
        episode, actor=author, fmt=fmt, service_date=day, minutes=minutes, session=session
    )
    goal, addressed = None, None
    offered = [g for g in goals.get(episode.pk, []) if _in_force(g.plan, day)]
    if offered:
        goal, addressed = _goal_choice(rng, offered)
    return notes.save_draft(
        note,
        actor=author,
        sections=_sections(rng, fmt, family, goal),
        expected_version=note.version,
        addressed=addressed,
    )


def _individual_notes(
    rng: random.Random,
    program: Program,
    staff: dict[str, User],
    today: dt.date,
    now: dt.datetime,
    summary: NotesSummary,
) -> None:
    real_today = program.today(now)
    sessions = list(
        Session.objects.filter(
            program=program,
            kind__in=[SessionKind.INDIVIDUAL, SessionKind.FAMILY],
            date__lt=min(today, real_today + dt.timedelta(days=1)),
            voided=False,
            attendance_taken_at__isnull=False,
        )
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("program", "facilitator")
        .order_by("starts_at", "pk")
    )
    marks = defaultdict(list)
    for mark in (
        Attendance.objects.filter(session__in=sessions, voided=False, status__in=sorted(ATTENDED))
        .select_related("episode__program")
        .order_by("pk")
    ):
        marks[mark.session_id].append(mark)
    sessions = [s for s in sessions if marks[s.pk] and s.facilitator_id]
    goals = addressable_goals(m.episode_id for s in sessions for m in marks[s.pk])
    counsellor = staff["counsellor"]
    theirs = [s for s in sessions if s.facilitator_id == counsellor.pk]
    draft = theirs[-1].pk if len(theirs) > 1 else None
    with_addendum = theirs[0].pk if len(theirs) > 1 else None
    late = next((s.pk for s in reversed(sessions) if s.date <= today - dt.timedelta(7)), None)
    for session in sessions:
        author = session.facilitator or counsellor
        for mark in marks[session.pk]:
            note = _write(
                rng,
                mark.episode,
                author,
                session.date,
                mark.minutes_attended or session.minutes,
                goals,
                session=session,
                family=session.kind == SessionKind.FAMILY,
            )
            summary.individual += 1
            if session.pk == draft:
                # Still being written: the plan is not done yet.
                key = notes.section_keys(note.format)[-1]
                notes.save_draft(
                    note,
                    actor=author,
                    sections={**note.sections, key: ""},
                    expected_version=note.version,
                )
                summary.drafts += 1
                continue
            if session.pk == late:
                at = _late_at(program, session.date, rng, now)
                summary.late += 1
            else:
                at = _signed_at(session, rng, now)
            note = notes.sign_note(note, actor=author, expected_version=note.version, now=at)
            if session.pk == with_addendum:
                notes.add_addendum(note, actor=author, text=ADDENDUM)


def _supervisee_notes(
    rng: random.Random,
    program: Program,
    staff: dict[str, User],
    today: dt.date,
    now: dt.datetime,
    summary: NotesSummary,
) -> None:
    """Brief individual check-ins by the counsellor in training with active participants:
    four signed (co-signature required), the oldest already co-signed by the supervisor."""
    supervisee = staff.get(SUPERVISEE)
    if supervisee is None:
        return
    episodes = list(
        Episode.objects.filter(program=program, status=S.ACTIVE, admission_date__isnull=False)
        .select_related("program")
        .order_by("pk")
    )
    if not episodes:
        return
    rng.shuffle(episodes)
    last = min(today, program.today(now))
    goals = addressable_goals(e.pk for e in episodes)
    written: list[Note] = []
    for back in (12, 7, 5, 2):
        day = last - dt.timedelta(days=back)
        while day.weekday() > 4:
            day -= dt.timedelta(days=1)
        # Someone in care on that day (admitted before it), each seen once.
        episode = next((e for e in episodes if (e.admission_date or day) < day), None)
        if episode is None:
            continue
        episodes.remove(episode)
        note = _write(rng, episode, supervisee, day, 30, goals)
        at = min(dt.datetime.combine(day, dt.time(15, rng.randint(0, 59)), tzinfo=program.tz), now)
        note = notes.sign_note(note, actor=supervisee, expected_version=note.version, now=at)
        written.append(note)
        summary.individual += 1
    if written:
        notes.cosign_note(written[0], actor=staff["supervisor"])
    summary.cosign_waiting = max(len(written) - 1, 0)
