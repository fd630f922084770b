"""The demo's intake and measurement-based care: referral details, contact attempts,
pre-admission screens, signed ASAM assessments, admissions with diagnoses and consents,
and instrument histories whose trends look like real people in an IOP (most improve,
some do not, one needs a safety response today). Seeded; goes through the services."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from openiop.instruments import catalogue
from openiop.instruments import services as instrument_services
from openiop.instruments.definitions import Instrument
from openiop.instruments.models import Occasion
from openiop.intake import prescreen
from openiop.intake import services as intake_services
from openiop.intake.choices import ContactMethod, ContactOutcome, Urgency
from openiop.participants import services as participant_services
from openiop.programs.choices import LevelOfCare

REFERRERS = {
    "self": ("", ""),
    "family": ("", ""),
    "hospital": ("Dr. Ana Ruiz", "Maine Medical Center ED"),
    "step_down": ("Paul Lemieux, LADC", "Bayview Residential"),
    "detox": ("Kim Soto, RN", "Mercy Withdrawal Management Unit"),
    "court": ("Officer Dale Finch", "Cumberland County Probation"),
    "employer": ("Rachel Stone", "Casco Bay EAP"),
    "physician": ("Dr. Martin Cole", "Forest Ave Family Medicine"),
    "other": ("Jo Martel", "Preble Street Resource Center"),
}
REASONS = [
    "Daily alcohol use for 3 years, two DUIs; wants help keeping job.",
    "Opioid use disorder on buprenorphine; needs structured counselling alongside MOUD.",
    "Stepping down after 28 days residential; needs continuing structure.",
    "Cocaine and alcohol use escalating; family concerned; motivated after ED visit.",
    "Court-mandated treatment following possession charge; cannabis and alcohol.",
    "Relapse after 2 years sober; asking for more than weekly therapy.",
    "Methamphetamine use, anxiety; referred by primary care for IOP assessment.",
    "Benzodiazepine misuse after taper; needs support to stay off.",
]
PAYERS = ["MaineCare", "Anthem BCBS", "Harvard Pilgrim", "Aetna", "Self-pay", "Cigna"]
DIAGNOSES = [
    ("F10.20", "F41.1"),
    ("F11.20", ""),
    ("F10.20", "F32.1"),
    ("F14.20", "F10.10"),
    ("F12.20", ""),
    ("F10.21", "F43.10"),
    ("F15.20", "F41.1"),
    ("F13.20", ""),
]
NARRATIVES = [
    "No withdrawal signs today; last use 6 days ago. No history of seizures or DTs.",
    "Hypertension, managed by PCP. No acute medical needs.",
    "Moderate anxiety and low mood; not suicidal; engaged with outpatient psychiatry.",
    "Ambivalent but attending; identifies reasons to change; some external pressure.",
    "High relapse risk: cravings daily, limited coping skills, recent return to use.",
    "Lives with supportive partner; some using friends; stable housing and job.",
]


def referral_details(rng: random.Random, source: str, i: int, assignee: Any) -> dict[str, Any]:
    name, org = REFERRERS.get(source, ("", ""))
    payer = PAYERS[i % len(PAYERS)]
    return {
        "urgency": Urgency.URGENT if i % 9 == 4 else Urgency.ROUTINE,
        "referrer_name": name,
        "referrer_organisation": org,
        "referrer_phone": f"(207) 555-{rng.randint(1000, 9999)}" if name else "",
        "referrer_email": "",
        "reason": REASONS[i % len(REASONS)],
        "insurance_payer": payer,
        "insurance_member_id": "" if payer == "Self-pay" else f"M{rng.randint(10**7, 10**8 - 1)}",
        "insurance_verified": i % 3 != 0,
        "assigned_to": assignee,
    }


def contact_attempts(referral: Any, actor: Any, at: dt.datetime, rng: random.Random, n: int):
    outcomes = [ContactOutcome.NO_ANSWER, ContactOutcome.LEFT_MESSAGE, ContactOutcome.SCHEDULED]
    for k in range(n):
        outcome = outcomes[-1] if k == n - 1 else outcomes[k % 2]
        intake_services.log_contact(
            referral,
            actor=actor,
            method=ContactMethod.PHONE if k % 3 != 2 else ContactMethod.TEXT,
            outcome=outcome,
            note="Assessment booked." if outcome == ContactOutcome.SCHEDULED else "",
            at=at + dt.timedelta(hours=3 + 20 * k),
        )


def screen_answers(flagged: bool, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {q.code: "no" for q in prescreen.QUESTIONS}
    answers.update(
        stable_housing="yes",
        can_attend="yes",
        has_transport="yes" if rng.random() < 0.85 else "no",
        motivation=rng.randint(5, 9),
    )
    if flagged:
        answers.update(withdrawal_now="yes", stable_housing="no", motivation=3)
    return answers


def assessment_values(day: dt.date, i: int, severe: bool) -> dict[str, Any]:
    ratings = [1, 1, 2, 2, 2, 1] if i % 2 else [0, 1, 1, 2, 2, 2]
    if severe:
        ratings = [3, 1, 2, 2, 3, 3]
    values: dict[str, Any] = {
        "assessed_on": day,
        "form_source": "openiop",
        "summary": "Meets criteria for a moderate-to-severe substance use disorder; IOP "
        "offers the structure needed while the person keeps working and living at home.",
        "chosen_level": "",
        "override_reason": "",
    }
    for n, rating in enumerate(ratings, start=1):
        values[f"rating_{n}"] = rating
        values[f"narrative_{n}"] = NARRATIVES[n - 1]
    return values


def assess(episode: Any, *, actor: Any, day: dt.date, i: int, at: dt.datetime) -> None:
    """Write and sign the initial ASAM assessment (3rd edition) of an episode."""
    values = assessment_values(day, i, severe=False)
    assessment = intake_services.start_assessment(
        episode, actor=actor, values=values, kind="initial", edition="3"
    )
    intake_services.sign_assessment(
        assessment, actor=actor, values=values, expected_version=assessment.version, at=at
    )
    episode.refresh_from_db()


def admit(
    episode: Any,
    *,
    actor: Any,
    track: Any,
    counsellor: Any,
    supervisor: Any,
    day: dt.date,
    i: int,
    signature: str,
    at: dt.datetime,
) -> None:
    """Admit at Level 2.1 with the consent and notice signed that day; care team of the
    counsellor and the supervisor."""
    intake_services.admit(
        episode,
        actor=actor,
        identity={},
        level_of_care=LevelOfCare.E3_2_1,
        track=track,
        primary_counsellor=counsellor,
        admission_date=day,
        diagnoses=diagnoses(i),
        consent_signed_on=day,
        consent_signature=signature,
        notice_given_on=day,
        notice_acknowledged=True,
        at=at,
    )
    episode.refresh_from_db()
    participant_services.update_episode(
        episode,
        actor=actor,
        changes={},
        care_team=[supervisor, counsellor],
        expected_version=episode.version,
    )
    episode.refresh_from_db()


def diagnoses(i: int) -> list[intake_services.DiagnosisInput]:
    primary, other = DIAGNOSES[i % len(DIAGNOSES)]
    out = [intake_services.DiagnosisInput(code=primary, primary=True)]
    if other:
        out.append(intake_services.DiagnosisInput(code=other))
    return out


# --- instrument histories ---------------------------------------------------------------

# Starting totals and where they head for someone who improves; a few stay flat or worsen.
TRAJECTORIES = {
    "PHQ-9": (14, 5),
    "GAD-7": (12, 5),
    "CRAVING": (7, 2),
    "BARC-10": (34, 48),
}


def answers_for_total(definition: Instrument, target: int, rng: random.Random) -> list[int]:
    """Answers whose total is `target` (items with plain, non-reversed scoring)."""
    values = [min(o.value for o in item.options) for item in definition.items]
    maxima = [max(o.value for o in item.options) for item in definition.items]
    # PHQ-9 item 9 (self-harm) stays 0 unless a scenario sets it.
    locked = {len(values) - 1} if definition.code == "PHQ-9" else set()
    target = max(min(target, sum(maxima) - sum(maxima[i] for i in locked)), sum(values))
    while sum(values) < target:
        k = rng.randrange(len(values))
        if k not in locked and values[k] < maxima[k]:
            values[k] += 1
    return values


def bam_answers(progress: float, rng: random.Random) -> list[int]:
    """BAM in item order: use, risk and protective items that improve with `progress`."""
    definition = catalogue.get("BAM")
    use = max(0, round(3 * (1 - progress) + rng.uniform(-0.6, 0.6)))
    out = []
    for item in definition.items:
        top = max(o.value for o in item.options)
        if item.code in ("4", "5", "6"):
            value = use if item.code != "6" else max(0, use - 1)
        elif item.code.startswith("7"):
            value = 0
        elif item.code in ("9", "10", "12", "13", "14", "16", "17"):  # protective / progress
            value = round(1 + 3 * progress + rng.uniform(-0.5, 0.5))
        else:  # risk items
            value = round(3 * (1 - progress) + rng.uniform(-0.5, 0.5))
        wanted = min(max(value, 0), top)
        out.append(min((o.value for o in item.options), key=lambda v: abs(v - wanted)))
    return out


def instrument_history(
    participant: Any,
    episode: Any,
    actor: Any,
    *,
    start: dt.date,
    end: dt.date,
    rng: random.Random,
    course: str,
    at_discharge: bool,
    tz: Any,
) -> int:
    """PHQ-9, GAD-7, BAM, craving and BARC-10 at admission and every ~14 days to `end`."""
    days = []
    day = start
    while day <= end:
        days.append(day)
        day += dt.timedelta(days=rng.randint(12, 16))
    if at_discharge and days[-1] != end:
        days.append(end)
    given = 0
    for k, day in enumerate(days):
        progress = k / max(len(days) - 1, 1) if len(days) > 1 else 0.0
        if course == "flat":
            progress *= 0.25
        elif course == "worse":
            progress = -0.5 * progress
        occasion = Occasion.ADMISSION if k == 0 else Occasion.SCHEDULED
        if at_discharge and k == len(days) - 1 and k > 0:
            occasion = Occasion.DISCHARGE
        when = dt.datetime.combine(day, dt.time(10, rng.randint(0, 59)), tzinfo=tz)
        for code, (first, best) in TRAJECTORIES.items():
            definition = catalogue.get(code)
            target = round(first + (best - first) * progress + rng.uniform(-1.5, 1.5))
            instrument_services.record_response(
                participant,
                actor=actor,
                instrument=code,
                answers=answers_for_total(definition, target, rng),
                administered_on=day,
                occasion=occasion,
                episode=episode,
                at=when,
            )
            given += 1
        instrument_services.record_response(
            participant,
            actor=actor,
            instrument="BAM",
            answers=bam_answers(max(progress, 0.0), rng),
            administered_on=day,
            occasion=occasion,
            episode=episode,
            at=when,
        )
        given += 1
    return given


def safety_scenario(participant: Any, episode: Any, actor: Any, day: dt.date, tz: Any) -> None:
    """A PHQ-9 with item 9 answered "several days": an open alert for the demo counsellor."""
    answers = [2, 2, 1, 2, 1, 2, 1, 1, 1]
    instrument_services.record_response(
        participant,
        actor=actor,
        instrument="PHQ-9",
        answers=answers,
        administered_on=day,
        occasion=Occasion.SCHEDULED,
        episode=episode,
        at=dt.datetime.combine(day, dt.time(9, 40), tzinfo=tz),
    )
