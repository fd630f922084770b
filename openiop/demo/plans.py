"""Demo treatment plans, made through the services.

Each active participant gets a signed treatment plan a week or so after admission: two
or three problems on the ASAM dimensions, goals in their own words, measurable objectives
with target dates, interventions from the library. Most participants have signed it
(some with a drawn signature) and the supervisor has signed most; every fourth plan has
a second version after its 30-day review (an objective achieved, another added), one has
a new version in progress, and plans signed more than 30 days ago without a review are
overdue, as they would be. Deterministic for a given seed; its own random stream.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from openiop.demo.relapse import signature_png
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.plans import services as plans
from openiop.plans.models import InterventionTemplate, Objective

# (dimension, problem, goal in the participant's words, [(objective, days to target)],
#  [(modality, library entry, frequency)])
PROBLEMS = [
    (
        5,
        "Returns to use after stressful shifts; two lapses in the month before admission.",
        "I want to get through a work week without drinking.",
        [
            ("Use a coping skill at each craving and log it on the check-in, 5 days a week.", 30),
            ("Name three high-risk situations and a plan for each.", 21),
        ],
        [
            ("cbt", "Trigger and craving mapping", "3 groups a week"),
            ("psychoeducation", "Relapse warning signs", "weekly group"),
        ],
    ),
    (
        5,
        "Has not yet gone more than 10 days without using since age 19.",
        "Stay clean long enough to feel like myself again.",
        [("Go 30 days in a row without use, confirmed by screens.", 45)],
        [("dbt", "Distress tolerance skills", "2 skills groups a week")],
    ),
    (
        4,
        "Unsure whether to stop completely or cut down; misses sessions when ambivalent.",
        "Figure out what I really want.",
        [("Complete a change plan worksheet and review it with the counsellor.", 14)],
        [("mi", "Change plan worksheet", "weekly individual session")],
    ),
    (
        3,
        "Low mood most days and poor sleep (about 4 hours a night).",
        "Sleep through the night and stop feeling so flat.",
        [
            ("Sleep at least 6 hours on 5 nights a week, kept on a sleep log.", 30),
            ("PHQ-9 score below 10 at the 30-day review.", 30),
        ],
        [
            ("holistic", "Sleep routine", "daily, reviewed weekly"),
            ("cbt", "Behavioural activation", "weekly individual session"),
        ],
    ),
    (
        6,
        "Shares an apartment with a partner who drinks daily; no sober support outside group.",
        "Have people around me who don't use.",
        [("Attend two community recovery meetings a week and name one contact there.", 30)],
        [
            ("holistic", "Mutual-help meeting attendance", "2 meetings a week"),
            ("family", "Support person involvement", "monthly family session"),
        ],
    ),
    (
        3,
        "Startles easily and avoids the part of town where an assault happened; uses to sleep.",
        "Feel safe enough to go out in the evening.",
        [("Use a grounding skill when overwhelmed, at least once a day, logged.", 30)],
        [
            ("trauma", "Safety and stabilisation", "weekly individual session"),
            ("trauma", "Grounding skills practice", "daily"),
        ],
    ),
    (
        2,
        "Chronic back pain; has taken a relative's opioid tablets when pain flares.",
        "Handle my back pain without pills that aren't mine.",
        [("See the primary care doctor about a pain plan before the target date.", 21)],
        [("psychoeducation", "Health and harm reduction", "one session, then as needed")],
    ),
    (
        1,
        "Withdrawal tremor and sweating on admission, now easing; no medication follow-up yet.",
        "Get my body back on track.",
        [("Keep the medication appointment and take medication as prescribed.", 14)],
        [
            (
                "psychoeducation",
                "Medication for addiction treatment information",
                "one session",
            )
        ],
    ),
]

STATEMENTS = [
    "I want to be someone my kids can count on.",
    "I want to keep my job and my licence.",
    "I'm done losing weekends. I want my life back.",
    "I want my family to trust me again.",
    "My health. I want to be around for a long time.",
    "I want to finish what I started at school.",
]


def build(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> int:
    """Treatment plans for the active participants. Returns the versions signed."""
    tz = program.tz
    library = {(t.modality, t.name): t for t in InterventionTemplate.objects.all()}

    def at(day: dt.date, hour: int) -> dt.datetime:
        return dt.datetime.combine(min(day, today), dt.time(hour, rng.randint(0, 59)), tzinfo=tz)

    people = (
        Participant.objects.filter(program=program, voided=False, current_episode__status=S.ACTIVE)
        .exclude(current_episode__primary_counsellor=None)
        .select_related("current_episode", "current_episode__primary_counsellor")
        .order_by("pk")
    )
    signed = 0
    supervisor = staff["supervisor"]
    for n, person in enumerate(people):
        episode = person.current_episode
        if episode is None or episode.primary_counsellor is None:
            continue
        counsellor = episode.primary_counsellor
        start = (episode.admission_date or today) + dt.timedelta(days=rng.randint(3, 8))
        start = min(start, today)
        plan = plans.start_plan(episode, counsellor)
        plans.update_plan(plan, counsellor, participant_statement=rng.choice(STATEMENTS))
        chosen = rng.sample(PROBLEMS, rng.randint(2, 3))
        for dimension, statement, goal_text, objectives, interventions in sorted(
            chosen, key=lambda p: p[0]
        ):
            problem = plans.add_problem(
                plan, counsellor, asam_dimension=dimension, statement=statement
            )
            goal = plans.add_goal(problem, counsellor, text=goal_text)
            for i, (text, days) in enumerate(objectives):
                objective = plans.add_objective(
                    goal, counsellor, text=text, target_date=start + dt.timedelta(days=days)
                )
                modality, name, frequency = interventions[min(i, len(interventions) - 1)]
                plans.add_intervention(
                    objective,
                    counsellor,
                    template=library.get((modality, name)),
                    description="" if (modality, name) in library else name,
                    frequency=frequency,
                    responsible=counsellor,
                )
        plan = plans.sign_as_clinician(plan, counsellor, now=at(start, 15))
        signed += 1
        if n % 5 != 3:
            plans.sign_as_participant(
                plan,
                counsellor,
                typed_name=person.display_name,
                image=signature_png(rng) if n % 2 == 0 else "",
                now=at(start, 16),
            )
        if n % 3 != 1:
            plans.sign_as_supervisor(plan, supervisor, now=at(start + dt.timedelta(days=2), 11))
        review = start + dt.timedelta(days=program.plan_review_days - rng.randint(0, 3))
        if n % 4 == 0 and review < today:
            # The 30-day review: the first objective achieved, a new one added.
            draft = plans.new_version(plan, counsellor, "review", "30-day review.")
            first = Objective.objects.filter(goal__plan=draft).order_by("pk").first()
            assert first is not None  # noqa: S101  (every plan above has objectives)
            plans.change_objective(
                first,
                counsellor,
                text=first.text,
                target_date=first.target_date,
                status="achieved",
            )
            plans.add_objective(
                first.goal,
                counsellor,
                text="Keep the gains: one check-in a day and a weekly call with a sponsor.",
                target_date=review + dt.timedelta(days=30),
            )
            draft.refresh_from_db()
            v2 = plans.sign_as_clinician(draft, counsellor, now=at(review, 15))
            plans.sign_as_participant(
                v2, counsellor, typed_name=person.display_name, now=at(review, 16)
            )
            signed += 1
        elif n % 7 == 5:
            # A change in condition being written up now: a new version in progress.
            plans.new_version(plan, counsellor, "condition", "Lapse at a family wedding.")
    return signed
