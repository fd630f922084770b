"""The demo's billing (issue 11, point 7): the program's billing profile and sliding-fee
scale, four payers, coverage for everyone admitted, authorisations renewed in concurrent
review (two near their limit, one used up) and the claims of the weeks whose notes are
all in: built, sent as an 837P, most paid, two denied, one still waiting for the payer,
and a draft to review. The last days are left to build.

The story the billing board tells: the things that cost an IOP money (DOMAIN.md §6.4)
all show at once. A participant has no coverage on file yet; one's plan ended last week;
one was admitted before the payer approved any days; the Medicare Advantage plan does
not pay program days by telehealth; two participants left care and their TPO consents
ended with treatment (42 CFR Part 2, DOMAIN.md §2), so their last days cannot be billed
until they sign again; and the notes of the weeks before the notes demo began were
never written.

Runs last in the demo builder, on its own random stream, and reads the rest of the demo
without changing it: every other figure of the demo stays as it was.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F

from openiop.attendance.choices import AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.billing import coverage_services, days
from openiop.billing.choices import (
    CoverageKind,
    DenialReason,
    PayerKind,
    Priority,
    Relationship,
    ServiceCode,
    Sex,
    TelehealthModifier,
)
from openiop.billing.models import (
    Authorisation,
    BillingProfile,
    Claim,
    Coverage,
    Payer,
    SlidingFeeTier,
)
from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.demo.notes import NOTES_DAYS
from openiop.intake.models import Referral
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode

# A fictional NPI: 123456789 with its Luhn check digit 3 over the prefix 80840 (the CMS
# NPI standard's check).
DEMO_NPI = "1234567893"

# (up to % of the poverty guideline, fee a day); None: every income above the others.
SLIDING_SCALE: list[tuple[int | None, str]] = [
    (100, "10.00"),
    (150, "25.00"),
    (200, "50.00"),
    (250, "100.00"),
    (None, "250.00"),
]

COMMERCIAL = "Harbor Health Plan"
MEDICAID = "Casco Bay Community Care"
MEDICARE = "Seaside Medicare Advantage"
BLUE = "Blue Harbor BCBS"

PAYERS: list[dict[str, Any]] = [
    {
        "name": COMMERCIAL,
        "payer_id": "HHP01",
        "kind": PayerKind.COMMERCIAL,
        "address_line": "PO Box 4410",
        "city": "Portland",
        "state": "ME",
        "postal_code": "041124410",
        "phone": "(800) 555-0181",
        "timely_filing_days": 90,
    },
    {
        "name": MEDICAID,
        "payer_id": "CBCC7",
        "kind": PayerKind.MEDICAID_MCO,
        "address_line": "PO Box 1200",
        "city": "Augusta",
        "state": "ME",
        "postal_code": "043321200",
        "phone": "(800) 555-0162",
        "timely_filing_days": 365,
    },
    {
        # Whether Medicare pays IOP days given remotely is not settled (DOMAIN.md §6.3):
        # this plan's policy says it does not.
        "name": MEDICARE,
        "payer_id": "SMA44",
        "kind": PayerKind.MEDICARE_ADVANTAGE,
        "address_line": "PO Box 9080",
        "city": "Bangor",
        "state": "ME",
        "postal_code": "044029080",
        "phone": "(800) 555-0127",
        "covers_telehealth": False,
        "timely_filing_days": 365,
    },
    {
        # Two half-day units a program day and the legacy GT modifier (DOMAIN.md §6.3).
        "name": BLUE,
        "payer_id": "BHB22",
        "kind": PayerKind.BLUE_CROSS,
        "address_line": "PO Box 7007",
        "city": "South Portland",
        "state": "ME",
        "postal_code": "041067007",
        "phone": "(800) 555-0199",
        "units_per_day": 2,
        "telehealth_modifier": TelehealthModifier.GT,
        "timely_filing_days": 180,
    },
]
# The referral's insurance (demo/clinical.py) → the payer the coverage is with.
REFERRAL_PAYER = {
    "MaineCare": MEDICAID,
    "Anthem BCBS": BLUE,
    "Harvard Pilgrim": COMMERCIAL,
    "Aetna": COMMERCIAL,
    "Cigna": COMMERCIAL,
}
# Self-pay households: (size, income a year). With the 2025 guideline of the billing
# profile these fall at 89%, 105% and 284% of poverty: $10, $25 and the full $250.
HOUSEHOLDS = [(1, "14000"), (3, "28000"), (2, "60000")]
# Days (and units) a payer approves at a time, and for how long; renewed in concurrent
# review a few days before the end.
AUTH_DAYS = 12
AUTH_WEEKS = 4
# Discharged this recently: the last days may still be billed.
RECENT = dt.timedelta(days=60)
PLAN_NAMES = {
    COMMERCIAL: "Choice PPO",
    MEDICAID: "MaineCare managed care",
    MEDICARE: "Seaside Advantage HMO",
    BLUE: "Blue Harbor Select",
}
REVIEWERS = ["J. Pelletier, RN", "M. Ouellette, LCPC", "S. Boucher, RN"]
# What each payer pays of the charge.
PAID_SHARE = {
    COMMERCIAL: Decimal("0.80"),
    MEDICAID: Decimal("0.62"),
    MEDICARE: Decimal("0.70"),
    BLUE: Decimal("0.85"),
}


def build(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> dict:
    """Returns what was made, by kind (for the tests and the command's summary)."""
    biller, intake = staff["billing"], staff["intake"]
    profile = _profile(program, biller)
    _sliding_scale(program, biller)
    payers = _payers(program, biller)
    episodes = _people(program)
    roles = Roles(episodes, today)
    coverages = _coverages(rng, episodes, roles, payers, intake, today)
    auths = _authorisations(rng, profile, episodes, roles, coverages, biller, today)
    claims = _claims(rng, program, payers, biller, today)
    return {
        "payers": len(payers),
        "coverages": sum(len(c) for c in coverages.values()),
        "authorisations": len(auths),
        "claims": claims,
    }


def _created(obj: Any, actor: Any) -> None:
    audit.record(AuditAction.CREATE, actor=actor, obj=obj)


def _profile(program: Any, actor: Any) -> BillingProfile:
    profile = BillingProfile.objects.create(
        program=program,
        billing_name="Harbor Light Recovery Center LLC",
        npi=DEMO_NPI,
        tax_id="471234567",
        address_line="120 Water St",
        city="Portland",
        state="ME",
        postal_code="041014012",
        phone="2075550140",
        submitter_id="HARBORLIGHT01",
        receiver_id="DEMOCLEAR",
        receiver_name="Demo Clearinghouse",
        contact_name="Bea Lindqvist",
        service_code=ServiceCode.H0015,
        # H0015 is a day of at least three hours (DOMAIN.md §6.1); the tracks run 3 hours.
        billable_minimum_minutes=180,
        daily_charge=Decimal("250.00"),
    )
    _created(profile, actor)
    return profile


def _sliding_scale(program: Any, actor: Any) -> None:
    for limit, fee in SLIDING_SCALE:
        tier = SlidingFeeTier.objects.create(
            program=program, up_to_percent=limit, fee_per_day=Decimal(fee)
        )
        audit.record(AuditAction.CREATE, actor=actor, obj=tier, object_repr=str(tier))


def _payers(program: Any, actor: Any) -> dict[str, Payer]:
    out = {}
    for spec in PAYERS:
        payer = Payer.objects.create(program=program, **spec)
        _created(payer, actor)
        out[payer.name] = payer
    return out


def _people(program: Any) -> list[Episode]:
    """The current episodes of everyone admitted to the demo program."""
    return list(
        Episode.objects.filter(
            program=program,
            admission_date__isnull=False,
            participant__current_episode_id=F("pk"),
        )
        .select_related("participant")
        .order_by("pk")
    )


def _recent(episode: Episode, today: dt.date) -> bool:
    """In care, or discharged in the last two months: days still being billed."""
    return episode.discharge_date is None or episode.discharge_date >= today - RECENT


def _telehealth_days(episodes: list[Episode], today: dt.date) -> Counter:
    return Counter(
        Attendance.objects.filter(
            episode__in=episodes,
            status=AttendanceStatus.TELEHEALTH,
            session__date__gte=today - dt.timedelta(days=NOTES_DAYS),
            session__date__lte=today,
        ).values_list("episode_id", flat=True)
    )


class Roles:
    """Who plays which part in the billing story: the fourteen people in active care, by
    how long they have been in it (so the same seed always tells the same story)."""

    def __init__(self, episodes: list[Episode], today: dt.date) -> None:
        active = [e for e in episodes if e.status == S.ACTIVE]
        tele = _telehealth_days(active, today)
        # The Medicare Advantage member: the one who joins most often by telehealth.
        self.medicare = max(active, key=lambda e: (tele[e.pk], -e.pk))
        others = sorted(
            (e for e in active if e != self.medicare),
            key=lambda e: (e.admission_date or today, e.pk),
        )
        half = len(others) // 2
        longer, newer = others[:half], others[half:]
        # The longest stay's current renewal is used up (the next one asked for).
        self.exhausted = longer[0]
        self.near_limit = [longer[2], newer[0]]
        self.coverage_ended = longer[3]  # the employer plan ended last week
        self.secondary = [longer[4], newer[1]]
        self.self_pay = newer[2:5]
        # Admitted last week: the payer has not answered the request for days yet.
        self.no_auth_yet = others[-2]
        # The newest: intake has not recorded coverage yet.
        self.no_coverage: Episode | None = others[-1]
        # These are insured whatever the referral said.
        self.insured = {
            e.pk
            for e in [
                self.medicare,
                self.exhausted,
                self.no_auth_yet,
                *self.near_limit,
                self.coverage_ended,
                *self.secondary,
            ]
        }


def _coverage_values(**given: Any) -> dict[str, Any]:
    """Every field the coverage service sets, with the blanks of a form left empty."""
    values: dict[str, Any] = {name: None for name in coverage_services.COVERAGE_FIELDS}
    values.update(priority=Priority.PRIMARY, relationship=Relationship.SELF, end_date=None)
    values.update(given)
    return values


def _coverages(
    rng: random.Random,
    episodes: list[Episode],
    roles: Roles,
    payers: dict[str, Payer],
    actor: Any,
    today: dt.date,
) -> dict[int, list[Coverage]]:
    """Coverage of every admitted participant of the demo program, by episode: the plan
    the referral named (checked by intake the day before admission), self-pay with the
    household assessed for a few, a second plan for three."""
    referrals = {r.episode_id: r for r in Referral.objects.filter(episode__in=episodes)}
    out: dict[int, list[Coverage]] = {}
    households = iter(HOUSEHOLDS)
    for episode in episodes:
        person = episode.participant
        admitted = episode.admission_date or today
        if roles.no_coverage is not None and episode.pk == roles.no_coverage.pk:
            continue  # intake is still checking the plan: days show "no coverage"
        referral = referrals.get(episode.pk)
        said = referral.insurance_payer if referral else ""
        sex = {"she/her": Sex.FEMALE, "he/him": Sex.MALE}.get(person.pronouns, Sex.UNKNOWN)
        checked = admitted - dt.timedelta(days=1)
        wanted: list[dict[str, Any]] = []
        if episode in roles.self_pay or (said == "Self-pay" and episode.pk not in roles.insured):
            size, income = next(households, (4, "41000"))
            wanted.append(
                _coverage_values(
                    kind=CoverageKind.SELF_PAY,
                    patient_sex=sex,
                    start_date=admitted,
                    household_size=size,
                    annual_income=Decimal(income),
                )
            )
        else:
            name = MEDICARE if episode == roles.medicare else REFERRAL_PAYER.get(said, COMMERCIAL)
            payer = payers[name]
            member = (referral.insurance_member_id if referral else "") or (
                f"{payer.payer_id[:3]}{rng.randint(10**7, 10**8 - 1)}"
            )
            wanted.append(
                _coverage_values(
                    kind=CoverageKind.INSURANCE,
                    payer=payer,
                    member_id=member,
                    group_number=""
                    if payer.kind == PayerKind.MEDICAID_MCO
                    else f"G{rng.randint(1000, 9999)}",
                    plan_name=PLAN_NAMES[name],
                    patient_sex=sex,
                    start_date=admitted - dt.timedelta(days=rng.randint(30, 700)),
                    # The employer plan of one participant ended last week.
                    end_date=today - dt.timedelta(days=7)
                    if episode == roles.coverage_ended
                    else None,
                )
            )
            if episode in roles.secondary or episode == roles.medicare:
                # A second plan: the spouse's Blue Harbor plan, or Medicaid for a person
                # who has Medicare too (dual eligible).
                spouse = episode != roles.medicare
                second = payers[BLUE if spouse else MEDICAID]
                wanted.append(
                    _coverage_values(
                        kind=CoverageKind.INSURANCE,
                        payer=second,
                        priority=Priority.SECONDARY,
                        member_id=f"{second.payer_id[:3]}{rng.randint(10**7, 10**8 - 1)}",
                        group_number=f"G{rng.randint(1000, 9999)}" if spouse else "",
                        plan_name=PLAN_NAMES[second.name],
                        relationship=Relationship.SPOUSE if spouse else Relationship.SELF,
                        subscriber_first_name=rng.choice(["Pat", "Chris", "Robin"]),
                        subscriber_last_name=person.legal_last_name,
                        subscriber_date_of_birth=person.date_of_birth
                        + dt.timedelta(days=rng.randint(-900, 900)),
                        subscriber_sex=Sex.UNKNOWN,
                        patient_sex=sex,
                        start_date=admitted - dt.timedelta(days=rng.randint(30, 400)),
                    )
                )
        out[episode.pk] = [
            coverage_services.create_coverage(
                person, actor=actor, values=values, verified=True, full_fee=False, today=checked
            )
            for values in wanted
        ]
    return out


def _days_used(
    program: Any, profile: BillingProfile, episode: Episode, start: dt.date, today: dt.date
) -> int:
    """Days from `start` to today that reach the billable minimum (an authorisation's
    units are counted from them, signed or not: days.py)."""
    return sum(
        1
        for d in days.service_days(
            program, start, today, today=today, participant_ids=[episode.participant_id]
        )
        if d.meets_minimum and d.episode_id == episode.pk
    )


def _authorisations(
    rng: random.Random,
    profile: BillingProfile,
    episode_list: list[Episode],
    roles: Roles,
    coverages: dict[int, list[Coverage]],
    actor: Any,
    today: dt.date,
) -> list[Authorisation]:
    """Four-week authorisations of twelve days from admission, each renewed in concurrent
    review a few days before it ended. Two of the current ones are near their limit and
    one is used up (renewal asked for, not answered yet), so the board has alerts."""
    episodes = {e.pk: e for e in episode_list if _recent(e, today)}
    made: list[Authorisation] = []
    number = 40000 + rng.randint(100, 900)
    # Units to leave on the current authorisation: two (under the alert threshold), or
    # two days' worth fewer than used (used up).
    tight = {e.pk: 2 for e in roles.near_limit} | {roles.exhausted.pk: -2}
    for episode_id, covs in coverages.items():
        episode = episodes.get(episode_id)
        if episode is None:
            continue  # left care long ago: billed and closed before the demo's weeks
        primary = covs[0] if covs else None
        if primary is None or primary.kind != CoverageKind.INSURANCE or primary.payer is None:
            continue
        if episode_id == roles.no_auth_yet.pk:
            continue  # the payer has not answered the request: days show "no authorisation"
        payer = primary.payer
        start = max(episode.admission_date or today, primary.start_date)
        stop = min(
            d
            for d in (episode.discharge_date, primary.end_date, today + dt.timedelta(days=60))
            if d
        )
        previous = None
        while start <= min(today, stop):
            end = min(start + dt.timedelta(weeks=AUTH_WEEKS, days=-1), stop)
            number += rng.randint(3, 40)
            units = AUTH_DAYS * payer.units_per_day
            review = None
            if end >= today:
                # The current one's next review: due this week at the latest.
                review = min(max(end - dt.timedelta(days=3), today), end)
                if episode_id in tight:
                    used = _days_used(episode.program, profile, episode, start, today)
                    spare = tight[episode_id]
                    per_day = payer.units_per_day
                    units = max(1, used * per_day + (spare if spare > 0 else spare * per_day))
            auth = coverage_services.create_authorisation(
                episode.participant,
                actor=actor,
                values={
                    "coverage": primary,
                    "service_code": profile.service_code,
                    "units": units,
                    "start_date": start,
                    "end_date": end,
                    "reference_number": f"{payer.payer_id[:3]}-{number}",
                    "next_review_on": review,
                    "reviewer": rng.choice(REVIEWERS),
                    "notes": "Renewed after concurrent review: attending and engaged; "
                    "ASAM dimensions 2 and 5 still moderate."
                    if previous
                    else "Initial authorisation on admission.",
                },
                renews=previous,
            )
            made.append(auth)
            previous = auth
            start = end + dt.timedelta(days=1)
    return made


def claim_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The days billed and paid by now: from the first day the notes demo wrote notes
    for to the Sunday of the week before last."""
    end = today - dt.timedelta(days=today.weekday() + 8)
    start = today - dt.timedelta(days=NOTES_DAYS)
    return start, end


def _claims(
    rng: random.Random, program: Any, payers: dict[str, Payer], actor: Any, today: dt.date
) -> int:
    """Claims of the claim period built and sent two days after it, paid within the week
    but for two denials and one the payer has not answered; a draft of last week for one
    payer; the rest of the days left to build."""
    from openiop.billing import claims as claim_services

    start, end = claim_period(today)
    if end < start:
        return 0
    built_on = end + dt.timedelta(days=2)
    tz = program.tz
    sent: list[Claim] = []
    for name in (COMMERCIAL, MEDICAID, MEDICARE, BLUE):
        result = claim_services.build_claims(
            program, payers[name], start, end, actor=actor, today=built_on
        )
        made = list(result.claims)
        if made:
            claim_services.submit_claims(
                made,
                actor=actor,
                at=dt.datetime.combine(built_on, dt.time(10, rng.randint(0, 59)), tzinfo=tz),
            )
            sent.extend(made)
    count = len(sent)
    sent.sort(key=lambda c: c.number)
    waiting = next((c for c in sent if c.payer.name == MEDICARE), None)
    denials = [
        (MEDICAID, DenialReason.NO_AUTH, "The payer has no authorisation on file for the dates."),
        (
            COMMERCIAL,
            DenialReason.MISSING_INFO,
            "Subscriber's group number missing; corrected and rebilled.",
        ),
    ]
    denied: set[int] = set()
    for payer_name, code, reason in denials:
        claim = next((c for c in sent if c.payer.name == payer_name and c.pk not in denied), None)
        if claim is None:
            continue
        claim.refresh_from_db()
        claim_services.mark_denied(
            claim,
            actor=actor,
            code=code,
            reason=reason,
            denied_on=min(today - dt.timedelta(days=1), built_on + dt.timedelta(days=6)),
            expected_version=claim.version,
        )
        denied.add(claim.pk)
    for claim in sent:
        if claim.pk in denied or (waiting is not None and claim.pk == waiting.pk):
            continue
        claim.refresh_from_db()
        share = PAID_SHARE[claim.payer.name]
        paid_on = min(today - dt.timedelta(days=1), built_on + dt.timedelta(days=rng.randint(4, 6)))
        claim_services.mark_paid(
            claim,
            actor=actor,
            amount=(claim.total_charge * share).quantize(Decimal("0.01"), ROUND_HALF_UP),
            paid_on=paid_on,
            payer_claim_number=f"{claim.payer.payer_id[:3]}{rng.randint(10**9, 10**10 - 1)}",
            expected_version=claim.version,
        )
    # Last week's days for the BCBS plan, built and waiting for the biller's review.
    draft = claim_services.build_claims(
        program,
        payers[BLUE],
        end + dt.timedelta(days=1),
        end + dt.timedelta(days=7),
        actor=actor,
        today=today,
    )
    count += len(draft.claims)
    return count
