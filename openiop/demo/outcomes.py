"""A year of past episodes for the outcomes dashboard (issue 10, point 6).

The main demo (builder.py) is a program as it stands today: people being referred,
assessed, in care, and a few recently discharged. Directors judge a program over a
year, so this adds about three admissions a month over the past thirteen months, each
taken through referral, assessment and admission, measured with the instruments, and
discharged for one of every reason TEDS knows, with an aftercare plan, TEDS items, and
the follow-up calls that have fallen due since (some reached, some not).

The story the figures tell: most people complete (a little over half); those who leave
early do so in the first month (the retention curve drops early and then flattens);
people who complete mostly stay sober at 30 and 90 days; those who left early are
harder to reach and more often back to using. Numbers are deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from openiop.alumni import services as alumni_services
from openiop.alumni.models import FollowUp
from openiop.demo import clinical
from openiop.demo import privacy as privacy_demo
from openiop.discharge import aftercare_services
from openiop.discharge import services as discharge_services
from openiop.discharge.models import AftercarePlan, DischargeSummary
from openiop.intake import services as intake_services
from openiop.intake import teds_services
from openiop.intake.models import Diagnosis
from openiop.participants import contact_services
from openiop.participants import services as participant_services
from openiop.participants import teds_codes as teds
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.choices import ReferralSource
from openiop.participants.models import Episode, Participant
from openiop.programs.choices import LevelOfCare

# How many past episodes, and over how many days before today they were admitted.
HISTORY = 36
SPAN_DAYS = 395
# The main demo's recent weeks (schedule, screening): past episodes end before them.
RECENT_DAYS = 63

FIRST = [
    "Aaron", "Bianca", "Carlos", "Dana", "Eli", "Fatima", "Gavin", "Hana", "Isaac",
    "Jasmine", "Kofi", "Lena", "Mateo", "Nina", "Owen", "Paula", "Quinn", "Rosa",
]  # fmt: skip
LAST = [
    "Abbott", "Bishop", "Carver", "Delgado", "Emerson", "Foster", "Grant", "Hayes",
    "Ingram", "Jensen", "Keller", "Lowry", "Mendez", "Nolan", "Ortiz", "Pruitt",
]  # fmt: skip

# (reason, weight): about 55% complete; early leavers are the next largest group.
REASONS: list[tuple[str, int]] = [
    ("completed", 20),
    ("against_advice", 7),
    ("administrative", 2),
    ("step_up", 2),
    ("step_down", 2),
    ("incarcerated", 1),
    ("died", 1),
    ("other", 1),
]
# Days in the program for each reason (a completer stays 6–12 weeks; an early leaver
# goes in the first month or so).
STAY: dict[str, tuple[int, int]] = {
    "completed": (42, 98),
    "against_advice": (4, 40),
    "administrative": (15, 50),
    "step_up": (8, 35),
    "step_down": (35, 70),
    "incarcerated": (10, 45),
    "died": (20, 60),
    "other": (10, 60),
}
DETAIL: dict[str, str] = {
    "completed": "Met the goals of the treatment plan; aftercare arranged.",
    "against_advice": "Stopped attending; two outreach calls and a letter went unanswered.",
    "administrative": "Discharged after repeated violations of the program agreement.",
    "step_up": "Return to daily use despite added sessions; needs residential care.",
    "step_down": "Stable for six weeks; stepping down to weekly outpatient therapy.",
    "incarcerated": "Detained on an old warrant; program informed by probation.",
    "died": "The program was told by the family; the care team debriefed.",
    "other": "Moved out of state for family reasons.",
}


def _reasons(rng: random.Random) -> list[str]:
    """The reasons of the HISTORY episodes, shuffled (every reason at least once)."""
    pool = [reason for reason, weight in REASONS for _ in range(weight)]
    total = sum(weight for _, weight in REASONS)
    reasons = (pool * (HISTORY // total + 1))[:HISTORY]
    rng.shuffle(reasons)
    return reasons


def build(
    rng: random.Random, program: Any, tracks: list[Any], staff: dict[str, Any], today: dt.date
) -> list[Episode]:
    """Admit HISTORY people in the past and keep them in care until their discharge day.

    Returns the episodes, still ACTIVE, with `demo_reason` and `demo_end` set on each:
    `discharge_all` discharges them once the rest of the demo is in place.
    """
    counsellors = [staff["counsellor"], staff["mreyes"], staff["jharper"], staff["counsellor"]]
    intake, supervisor = staff["intake"], staff["supervisor"]
    tz = program.tz
    taken = set(Participant.objects.values_list("legal_first_name", "legal_last_name"))
    names = [(f, ln) for f in FIRST for ln in LAST if (f, ln) not in taken]
    rng.shuffle(names)
    reasons = _reasons(rng)
    episodes: list[Episode] = []
    for k in range(HISTORY):
        first, last = names[k]
        reason = reasons[k]
        counsellor = counsellors[k % len(counsellors)]
        track = tracks[k % len(tracks)]
        # Admissions spread evenly over the span, oldest first, with a little jitter.
        admitted_on = today - dt.timedelta(
            days=SPAN_DAYS - k * (SPAN_DAYS - 60) // HISTORY + rng.randint(-3, 3)
        )
        stay = rng.randint(*STAY[reason])
        # Discharged before the main demo's eight weeks of groups, so no past session of
        # the schedule lists someone it has no attendance mark for.
        admitted_on = min(admitted_on, today - dt.timedelta(days=RECENT_DAYS + stay))
        end = admitted_on + dt.timedelta(days=stay)
        referral_day = admitted_on - dt.timedelta(days=rng.randint(3, 12))

        def at(day: dt.date, hour: int) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59)), tzinfo=tz)

        dob = dt.date(today.year - rng.randint(20, 62), rng.randint(1, 12), rng.randint(1, 28))
        source = rng.choice(ReferralSource.values)
        referral = intake_services.create_referral(
            actor=intake,
            program=program,
            referral_source=source,
            referral_date=referral_day,
            details=clinical.referral_details(rng, source, k, intake),
            identity={
                "legal_first_name": first,
                "legal_last_name": last,
                "date_of_birth": dob,
                "phone": f"(207) 555-{rng.randint(1000, 9999)}",
                "email": f"{first.lower()}.{last.lower()}@example.org",
                "city": rng.choice(["Portland", "Biddeford", "Saco", "Gorham", "Windham"]),
                "state": "ME",
                "preferred_language": "English",
                "emergency_contact_name": f"{rng.choice(FIRST)} {last}",
                "emergency_contact_relationship": "Family",
                "emergency_contact_phone": f"(207) 555-{rng.randint(1000, 9999)}",
            },
            at=at(referral_day, 9),
        )
        participant, episode = referral.participant, referral.episode
        contact_services.add_contact(
            participant,
            actor=intake,
            values={
                "name": participant.emergency_contact_name,
                "relationship": "other_family",
                "phone": participant.emergency_contact_phone,
                "is_emergency": True,
                "is_support": False,
                "notes": "",
            },
        )
        screened_on = referral_day + dt.timedelta(days=1)
        intake_services.record_prescreen(
            episode,
            actor=intake,
            answers=clinical.screen_answers(False, rng),
            screened_on=screened_on,
            at=at(screened_on, 13),
        )
        episode.refresh_from_db()
        assessed_on = min(screened_on + dt.timedelta(days=1), admitted_on)
        clinical.assess(episode, actor=intake, day=assessed_on, i=k, at=at(assessed_on, 14))
        clinical.admit(
            episode,
            actor=intake,
            track=track,
            counsellor=counsellor,
            supervisor=supervisor,
            day=admitted_on,
            i=k,
            signature=f"{first} {last}",
            at=at(admitted_on, 15),
        )
        privacy_demo.tpo_consent(participant, program, intake, admitted_on)
        started = min(admitted_on + dt.timedelta(days=1), end)
        episode = participant_services.transition_episode(
            episode,
            S.ACTIVE,
            actor=counsellor,
            effective_date=started,
            today=today,
            at=at(started, 11),
        )
        # Completers mostly improve; early leavers mostly do not.
        if reason in ("completed", "step_down"):
            course = "flat" if k % 6 == 1 else "better"
        else:
            course = "worse" if k % 2 else "flat"
        clinical.instrument_history(
            participant,
            episode,
            counsellor,
            start=admitted_on,
            end=end,
            rng=rng,
            course=course,
            at_discharge=reason in ("completed", "step_down"),
            tz=tz,
        )
        episode.demo_reason = reason  # type: ignore[attr-defined]
        episode.demo_end = end  # type: ignore[attr-defined]
        episode.demo_counsellor = counsellor  # type: ignore[attr-defined]
        episodes.append(episode)
    return episodes


# --- discharge, aftercare, TEDS items and follow-ups ---------------------------------------

# Primary diagnosis (ICD-10-CM F1x) → TEDS primary substance (DOMAIN.md §8.1).
SUBSTANCE_FOR_CODE = {
    "F10": teds.Substance.ALCOHOL,
    "F11": teds.Substance.OTHER_OPIATES,
    "F12": teds.Substance.MARIJUANA,
    "F13": teds.Substance.BENZODIAZEPINES,
    "F14": teds.Substance.COCAINE,
    "F15": teds.Substance.METHAMPHETAMINE,
}
ROUTE_FOR_SUBSTANCE = {
    teds.Substance.ALCOHOL: teds.Route.ORAL,
    teds.Substance.OTHER_OPIATES: teds.Route.ORAL,
    teds.Substance.MARIJUANA: teds.Route.SMOKING,
    teds.Substance.BENZODIAZEPINES: teds.Route.ORAL,
    teds.Substance.COCAINE: teds.Route.INHALATION,
    teds.Substance.METHAMPHETAMINE: teds.Route.SMOKING,
}
NEXT_LEVEL = {"step_up": LevelOfCare.E3_3_5, "step_down": LevelOfCare.E3_1}
RECEIVING = {
    "step_up": ("Bayview Residential (Level 3.5)", "Admissions, (207) 555-0140"),
    "step_down": ("Harborview Counseling (weekly outpatient)", "Intake, (207) 555-0188"),
}
# (kind, provider, contact, who arranges it)
AFTERCARE = [
    ("therapy", "Harborview Counseling", "(207) 555-0188", "counsellor"),
    ("alumni_group", "OpenIOP alumni group, Thursdays 6 pm", "Main site, room 2", "participant"),
    ("mutual_help", "SMART Recovery, Tuesday 7 pm", "St. Luke's hall, 143 State St", "participant"),
    ("mutual_help", "AA home group, Saturday 9 am", "Woodfords Club", "participant"),
    ("sober_living", "Casco Bay Recovery Residence", "(207) 555-0177", "case_manager"),
    ("maud", "Naltrexone with Dr. Patel (primary care)", "(207) 555-0123", "counsellor"),
    ("moud", "Buprenorphine with Community Health Bridge", "(207) 555-0160", "counsellor"),
]


def _teds_items(rng: random.Random, episode: Episode, k: int) -> dict[str, Any]:
    """TEDS admission items consistent with the episode's primary diagnosis and age."""
    code = (
        Diagnosis.objects.filter(episode=episode, primary=True, voided=False)
        .values_list("code", flat=True)
        .first()
        or "F10.20"
    )
    sub1 = SUBSTANCE_FOR_CODE.get(code[:3], teds.Substance.ALCOHOL)
    age = episode.participant.age_on(episode.admission_date or episode.referral_date)
    sex = teds.Sex.FEMALE if k % 2 else teds.Sex.MALE
    values: dict[str, Any] = {
        "sex": sex,
        "race": rng.choice([teds.Race.WHITE] * 6 + [teds.Race.BLACK, teds.Race.TWO_OR_MORE]),
        "ethnicity": rng.choice([teds.Ethnicity.NOT_HISPANIC] * 5 + [teds.Ethnicity.MEXICAN]),
        "marital_status": rng.choice(teds.MaritalStatus.values),
        "education": rng.choice([2, 3, 3, 4, 4, 5]),
        "employment": rng.choice([1, 1, 2, 3, 4]),
        "living": rng.choice([teds.Living.INDEPENDENT] * 4 + [teds.Living.DEPENDENT]),
        "veteran": teds.YesNo.YES if k % 9 == 4 else teds.YesNo.NO,
        "pregnant": teds.YesNo.NO if sex == teds.Sex.FEMALE else None,
        "arrests": teds.Arrests.ONCE if k % 8 == 3 else teds.Arrests.NONE,
        "psychiatric_problem": teds.YesNo.YES if k % 3 == 0 else teds.YesNo.NO,
        "prior_treatment": rng.choice([0, 0, 1, 1, 2, 3]),
        "methuse": teds.YesNo.YES if sub1 == teds.Substance.OTHER_OPIATES else teds.YesNo.NO,
        "self_help": rng.choice([1, 1, 2, 5]),
        "sub1": sub1,
        "route1": ROUTE_FOR_SUBSTANCE[sub1],
        "freq1": rng.choice([teds.Frequency.SOME_USE, teds.Frequency.DAILY]),
        "frstuse1": min(age, rng.randint(13, 22)),
    }
    if k % 3 == 1 and sub1 != teds.Substance.MARIJUANA:
        values.update(
            sub2=teds.Substance.MARIJUANA,
            route2=teds.Route.SMOKING,
            freq2=teds.Frequency.SOME_USE,
            frstuse2=min(age, rng.randint(14, 20)),
        )
    return values


def _discharge_items(rng: random.Random, reason: str, sub1: Any) -> dict[str, Any]:
    completed = reason in ("completed", "step_down")
    return {
        "sub1_d": sub1,
        "freq1_d": teds.Frequency.NO_USE if completed else rng.choice([2, 2, 3]),
        "employ_d": rng.choice([1, 1, 2, 4]) if completed else rng.choice([1, 3, 3, 4]),
        "livarag_d": teds.Living.INDEPENDENT if completed else rng.choice([1, 2, 3, 3]),
        "arrests_d": teds.Arrests.NONE if reason != "incarcerated" else teds.Arrests.ONCE,
        "self_help_d": rng.choice([3, 4, 4]) if completed else rng.choice([1, 1, 2]),
    }


def _aftercare(
    rng: random.Random, episode: Episode, actor: Any, end: dt.date, tz: Any, k: int
) -> None:
    plan, _ = aftercare_services.start_plan(episode, actor=actor)
    plan = aftercare_services.save_plan(
        plan,
        actor=actor,
        values={
            "goals": "Keep the routine that worked in the program: meetings, exercise, "
            "weekly therapy, and calling my sponsor before a hard day.",
            "warning_signs": "Skipping meetings, isolating, old friends calling. Then: call "
            "my sponsor, go to a meeting that day, tell my therapist.",
            "crisis_plan": "988 Suicide & Crisis Lifeline (call or text 988), day and night. "
            "Program on-call line (207) 555-0100. Emergency: 911.",
        },
        expected_version=plan.version,
    )
    picks = [AFTERCARE[k % 2], AFTERCARE[2 + k % 2], AFTERCARE[4 + k % 3]]
    for n, (kind, provider, contact, who) in enumerate(picks):
        day = end + dt.timedelta(days=3 + 4 * n)
        booked = kind in ("therapy", "maud", "moud", "sober_living")
        aftercare_services.add_referral(
            plan,
            actor=actor,
            values={
                "kind": kind,
                "provider": provider,
                "contact": contact,
                "appointment_at": dt.datetime.combine(day, dt.time(10 + n), tzinfo=tz)
                if booked
                else None,
                "responsible": who,
                "responsible_name": "Maya, case manager" if who == "case_manager" else "",
                "status": "booked" if booked else "planned",
                "notes": "",
            },
        )


def discharge_all(
    rng: random.Random, program: Any, staff: dict[str, Any], episodes: list[Episode], today: dt.date
) -> None:
    """Discharge the past episodes `build` made, with TEDS items, aftercare and follow-ups."""
    tz = program.tz
    for k, episode in enumerate(episodes):
        reason: str = episode.demo_reason  # type: ignore[attr-defined]
        end: dt.date = episode.demo_end  # type: ignore[attr-defined]
        counsellor = episode.demo_counsellor  # type: ignore[attr-defined]
        episode.refresh_from_db()
        # Three admissions without their TEDS items, so the state-reporting page has
        # problems to show.
        items = _teds_items(rng, episode, k)
        if k % 12 != 5:
            teds_services.record_teds_items(
                episode, actor=staff["intake"], values=items, expected_version=0
            )
        if reason in ("completed", "step_down"):
            _aftercare(rng, episode, counsellor, end, tz, k)
        discharge_services.discharge_participant(
            episode,
            actor=counsellor,
            reason=reason,
            discharge_date=end,
            last_contact_date=end,
            reason_detail=DETAIL[reason],
            next_level=NEXT_LEVEL.get(reason, ""),
            receiving_program=RECEIVING.get(reason, ("", ""))[0],
            receiving_contact=RECEIVING.get(reason, ("", ""))[1],
            teds=_discharge_items(rng, reason, items["sub1"]),
            at=dt.datetime.combine(end, dt.time(16, rng.randint(0, 59)), tzinfo=tz),
        )
        summary = DischargeSummary.objects.get(episode=episode)
        discharge_services.sign_summary(
            summary,
            actor=counsellor,
            expected_version=summary.version,
            at=dt.datetime.combine(end, dt.time(17, 30), tzinfo=tz),
        )
        _follow_ups(rng, episode, reason, counsellor, today, tz)


def _follow_ups(
    rng: random.Random, episode: Episode, reason: str, actor: Any, today: dt.date, tz: Any
) -> None:
    """Calls for every follow-up that has fallen due; the last week's are left to do."""
    completed = reason in ("completed", "step_down")
    for follow_up in FollowUp.objects.filter(episode=episode).order_by("due_date"):
        if follow_up.due_date > today - dt.timedelta(days=7):
            break
        when = dt.datetime.combine(follow_up.due_date, dt.time(14), tzinfo=tz)
        reach = 0.8 if completed else 0.45
        if follow_up.day_mark >= 180:
            reach -= 0.15
        if rng.random() < reach:
            outcomes = _outcomes(rng, completed, follow_up.day_mark)
            alumni_services.log_attempt(
                follow_up,
                actor=actor,
                method="phone",
                reached=True,
                outcomes=outcomes,
                expected_version=follow_up.version,
                at=when,
            )
        else:
            follow_up = alumni_services.log_attempt(
                follow_up,
                actor=actor,
                method="phone",
                reached=False,
                note="No answer; left a message.",
                expected_version=follow_up.version,
                at=when,
            )
            follow_up = alumni_services.log_attempt(
                follow_up,
                actor=actor,
                method="text",
                reached=False,
                note="No reply to the text.",
                expected_version=follow_up.version,
                at=when + dt.timedelta(days=3),
            )
            alumni_services.close_follow_up(
                follow_up,
                actor=actor,
                status="not_reached",
                note="Two tries, no answer.",
                expected_version=follow_up.version,
                at=when + dt.timedelta(days=14),
            )


def _outcomes(rng: random.Random, completed: bool, mark: int) -> dict[str, Any]:
    sober = rng.random() < (0.75 - mark / 1500 if completed else 0.35)
    if sober:
        use, days = "none", 0
    else:
        use = "lapse" if rng.random() < 0.5 else "relapse"
        days = rng.randint(1, 4) if use == "lapse" else rng.randint(6, 25)
    readmitted = use == "relapse" and rng.random() < 0.4
    return {
        "use_since_discharge": use,
        "days_used_past_30": days,
        "occupation": rng.choice(
            ["full_time", "full_time", "part_time", "school"]
            if sober
            else ["full_time", "unemployed", "not_in_labour_force"]
        ),
        "housing": rng.choice(
            ["stable", "stable", "sober_living"] if sober else ["stable", "temporary", "homeless"]
        ),
        "readmitted": readmitted,
        "readmitted_where": "Bayview Residential" if readmitted else "",
        "quality_of_life": rng.randint(6, 9) if sober else rng.randint(2, 6),
        "in_aftercare": sober or rng.random() < 0.3,
        "notes": "",
    }


def build_all(
    rng: random.Random, program: Any, tracks: list[Any], staff: dict[str, Any], today: dt.date
) -> None:
    """Everything of issue 10's demo, after the rest of the demo program is in place."""
    recent = list(
        Episode.objects.filter(program=program, status__in=[S.DISCHARGED, S.ALUMNI])
        .select_related("discharge", "participant")
        .order_by("pk")
    )
    history = build(rng, program, tracks, staff, today)
    discharge_all(rng, program, staff, history, today)
    tz = program.tz
    # The recent discharges of the main demo: their TEDS items, aftercare plans (given),
    # follow-ups, and summaries refreshed now that their groups, notes and screens exist —
    # signed, but for two left for the counsellor to sign.
    drafts_left = 2
    for k, episode in enumerate(recent):
        discharge = episode.discharge
        counsellor = episode.primary_counsellor
        items = _teds_items(rng, episode, k)
        teds_services.record_teds_items(
            episode, actor=staff["intake"], values=items, expected_version=0
        )
        if discharge.reason in ("completed", "step_down"):
            _aftercare(rng, episode, counsellor, discharge.discharge_date, tz, k)
            plan = AftercarePlan.objects.get(episode=episode)
            aftercare_services.give_plan(
                plan,
                actor=counsellor,
                expected_version=plan.version,
                render=aftercare_services.render_plan_pdf,
            )
        _follow_ups(rng, episode, discharge.reason, counsellor, today, tz)
        summary = DischargeSummary.objects.get(discharge=discharge)
        summary = discharge_services.refresh_summary(
            summary, actor=counsellor, expected_version=summary.version
        )
        if counsellor is not None and counsellor.username == "counsellor" and drafts_left:
            drafts_left -= 1
            continue
        when = dt.datetime.combine(discharge.discharge_date, dt.time(17, 30), tzinfo=tz)
        discharge_services.sign_summary(
            summary, actor=counsellor, expected_version=summary.version, at=when
        )
    _events(rng, program, staff, today)


def _events(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> None:
    """A monthly alumni evening: six past ones with attendance, two coming up."""
    tz = program.tz
    next_thursday = today + dt.timedelta(days=(3 - today.weekday()) % 7 or 7)
    for n in range(-6, 2):
        day = next_thursday + dt.timedelta(weeks=4 * n)
        starts = dt.datetime.combine(day, dt.time(18), tzinfo=tz)
        event = alumni_services.create_event(
            program,
            actor=staff["counsellor"],
            values={
                "title": "Alumni evening" if n % 2 else "Alumni evening: recovery stories",
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=1, minutes=30),
                "location": "Main site, group room 2",
                "description": "Peer support, coffee, and a guest speaker from the alumni.",
                "facilitator": staff["counsellor"],
            },
        )
        if n >= 0:
            continue
        eligible = list(alumni_services.eligible_alumni(event))
        came = [p for p in eligible if rng.random() < 0.3]
        if came:
            alumni_services.record_attendance(
                event, came, actor=staff["counsellor"], eligible=eligible
            )
