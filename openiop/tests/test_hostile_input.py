"""Malformed and hostile input to every form: a form error or a 4xx, never a 500, and
nothing changes.

Acceptance: "Posting malformed or hostile data to every form (wrong types, huge strings,
missing fields, another program's ids) gives a form error or a 4xx, never a 500, and
changes nothing."

Each endpoint below has a payload that succeeds (`test_the_valid_payload_succeeds`, so a
rejected mutation is known to be rejected *for the mutation*) and a set of mutations of
it: generic ones derived from the kinds of its fields (missing, blank, NUL, 100,000
characters, wrong types, out-of-range numbers, a list where one value is expected, a
JSON body, too many fields, a body over the upload limit) and hostile ones specific to
it (another program's ids, end before start, a date of birth in the future, a stale
version...). The test client re-raises server errors, so a 500 fails with its traceback.

"Changes nothing" is checked with `fingerprint()`: every row of the records a form can
write. Audit events are not in it: views and refusals are audited, as they should be.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openiop.accounts import lockout as account_lockout
from openiop.accounts import mfa as account_mfa
from openiop.accounts import services as account_services
from openiop.accounts.models import (
    AccountLock,
    PasswordHistory,
    RecoveryCode,
    RoleAssignment,
    SecurityPolicy,
    TotpDevice,
    User,
)
from openiop.attendance import services as attendance_services
from openiop.attendance.models import Attendance, CheckIn, EngagementAlert
from openiop.core.models import AuditEvent, Sequence
from openiop.family.models import EducationArticle, FamilyAttendance, FamilyInvitation
from openiop.instruments import services as instrument_services
from openiop.instruments.definitions import all_definitions
from openiop.instruments.models import InstrumentResponse, InstrumentSetting, SafetyAlert
from openiop.intake import prescreen as prescreen_questions
from openiop.intake import services as intake_services
from openiop.intake.models import (
    Admission,
    Assessment,
    ContactAttempt,
    Diagnosis,
    PreScreen,
    Referral,
    TedsAdmission,
)
from openiop.letters.models import LetterRequest, LetterVerification
from openiop.notes import groups as group_notes
from openiop.notes.models import Addendum, GroupNote, Note
from openiop.notify.models import Preference as NotifyPreference
from openiop.participants import services as participant_services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Contact, Episode, EpisodeTransition, Participant
from openiop.participants.services import PARTICIPANT_FIELDS
from openiop.plans.models import (
    Goal,
    InterventionTemplate,
    Objective,
    PlanIntervention,
    PlanSignature,
    Problem,
    TreatmentPlan,
)
from openiop.portal.models import Invitation as PortalInvitation
from openiop.portal.models import OneTapLink, PortalAccount
from openiop.privacy import emergency as privacy_emergency
from openiop.privacy.models import AmendmentRequest, Consent, Disclosure, EmergencyAccess
from openiop.programs.models import Program, Room, SessionType, Site, Topic, Track
from openiop.relapse.models import RelapsePlan, SupportPerson
from openiop.scheduling.models import (
    Booking,
    Closure,
    CurriculumItem,
    Enrolment,
    FeedToken,
    Session,
    TemplateSlot,
    TopicAssignment,
)
from openiop.screening import services as screening_services
from openiop.screening.models import (
    Analyte,
    Collection,
    CustodyEvent,
    ExpectedMedication,
    Order,
    Panel,
    PanelAnalyte,
    Result,
    Review,
    ScreeningPolicy,
    SelectionDay,
)
from openiop.testing import (
    CLEAR_SCREEN,
    PASSWORD,
    TOTP_SECRET,
    World,
    add_privacy,
    add_screening_orders,
    add_screening_review,
    add_selection_days,
    assess,
    employer_consent_input,
    give,
    give_totp_device,
    make_participant,
    make_program,
    make_signed_plan,
    make_user,
    refer,
    totp_code_for,
)

HUGE = "x" * 100_000
TOO_BIG_INT = "99999999999999999999"  # beyond a 64-bit integer
NEW_PASSWORD = "plum-harbor-lantern-42"

# --- what the database holds ---------------------------------------------------------


def discharge_models() -> list[Any]:
    from openiop.discharge.models import Discharge, DischargeSummary, SummaryAddendum

    return [Discharge, DischargeSummary, SummaryAddendum]


def billing_claim_models() -> list[Any]:
    from openiop.billing.models import Claim, ClaimBatch, ClaimLine

    return [Claim, ClaimLine, ClaimBatch]


def aftercare_alumni_models() -> list[Any]:
    from openiop.alumni.models import AlumniAttendance, AlumniEvent, FollowUp, FollowUpAttempt
    from openiop.discharge.models import AftercarePlan, AftercareReferral

    return [
        AftercarePlan,
        AftercareReferral,
        FollowUp,
        FollowUpAttempt,
        AlumniEvent,
        AlumniAttendance,
    ]


def billing_coverage_models() -> list[Any]:
    from openiop.billing.models import (
        Authorisation,
        BillingProfile,
        Coverage,
        Payer,
        SlidingFeeTier,
    )

    return [BillingProfile, SlidingFeeTier, Payer, Coverage, Authorisation]


def billing_packet_models() -> list[Any]:
    from openiop.billing.models import ReviewPacket

    return [ReviewPacket]


def api_client_models() -> list[Any]:
    from openiop.fhir.models import ApiClient, ApiToken

    return [ApiClient, ApiToken]


FINGERPRINTED = [
    Participant,
    Contact,
    RelapsePlan,
    SupportPerson,
    Episode,
    Episode.care_team.through,
    EpisodeTransition,
    Site,
    Program,
    Track,
    Room,
    SessionType,
    Topic,
    User,
    User.programs.through,
    RoleAssignment,
    Sequence,
    Referral,
    ContactAttempt,
    PreScreen,
    Assessment,
    Diagnosis,
    Admission,
    InstrumentResponse,
    InstrumentSetting,
    SafetyAlert,
    TemplateSlot,
    Session,
    Closure,
    Enrolment,
    Booking,
    CurriculumItem,
    TopicAssignment,
    FeedToken,
    Attendance,
    CheckIn,
    EngagementAlert,
    Note,
    Addendum,
    GroupNote,
    TreatmentPlan,
    Problem,
    Goal,
    Objective,
    PlanIntervention,
    PlanSignature,
    Order,
    Collection,
    CustodyEvent,
    Result,
    Review,
    ExpectedMedication,
    ExpectedMedication.analytes.through,
    ScreeningPolicy,
    SelectionDay,
    Analyte,
    Panel,
    PanelAnalyte,
    # --- lead: privacy (disclosures, emergency access) ---
    Disclosure,
    EmergencyAccess,
    # --- H1: sign-in security (LoginAttempt is not here: refused sign-ins are counted) ---
    TotpDevice,
    RecoveryCode,
    SecurityPolicy,
    AccountLock,
    PasswordHistory,
    # --- H5: amendment requests ---
    AmendmentRequest,
    # --- H6: consents ---
    Consent,
    # --- B: family involvement (and the family portal's invitations) ---
    FamilyInvitation,
    FamilyAttendance,
    EducationArticle,
    PortalInvitation,
    # --- D: attendance letters (requests and what each letter states) ---
    LetterRequest,
    LetterVerification,
    # --- C: notification preferences ---
    NotifyPreference,
    # --- A: portal accounts (language, ended) and one-tap links (used) ---
    PortalAccount,
    OneTapLink,
    # --- Issue 10, discharge: the discharge, its summary and addenda ---
    *discharge_models(),
    # --- H4 (issue 10): TEDS admission items ---
    TedsAdmission,
    # --- Issue 10, aftercare plans and alumni follow-ups, events and attendance ---
    *aftercare_alumni_models(),
    # --- Issue 11, helper C: concurrent-review packets ---
    *billing_packet_models(),
    # --- Issue 11, helper B: billing set-up, coverage and authorisations ---
    *billing_coverage_models(),
    # --- Issue 11, helper A: claims, their lines and claim files ---
    *billing_claim_models(),
    # --- Issue 12, H5: API clients and their tokens ---
    *api_client_models(),
]


def fingerprint() -> dict[str, list[dict[str, Any]]]:
    """Every row of every record a form can write (users without last_login)."""
    out = {}
    for model in FINGERPRINTED:
        names = [f.attname for f in model._meta.concrete_fields if f.name != "last_login"]
        out[model._meta.label] = list(model.objects.order_by("pk").values(*names))
    return out


def changed_tables(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


# --- field kinds and the generic mutations they get -------------------------------------

TEXT = "text"  # a bounded text field (100,000 characters must be refused)
PASSWORD_KIND = "password"  # text without a maximum (long passphrases are fine)
DATE = "date"
TIME = "time"
INT = "int"
DECIMAL = "decimal"
CHOICE = "choice"
SCALE = "scale"  # a choice among whole numbers where 0 is a valid answer (ratings, items)
FK = "fk"  # one id
M2M = "m2m"  # several ids
MULTI = "multi"  # several choices
BOOL = "bool"  # a checkbox: any value is "on", so nothing to mutate

LIST_KINDS = {M2M, MULTI}

WRONG_VALUES: dict[str, list[Any]] = {
    DATE: ["not-a-date", "2026-13-45", "2026-02-30", "99999-01-01", "-1", "1990/05/17x"],
    TIME: ["25:00", "12:61", "noon", "-1"],
    INT: ["abc", "1.5", "1e3", "0x10"],
    DECIMAL: ["abc", "NaN", "Infinity", "-Infinity", "-1", "1e400", "99999", "9.99999"],
    CHOICE: ["bogus", "0", "<script>"],
    SCALE: ["bogus", "-1", "99", "1.5", "1e0", "<script>"],
    FK: ["abc", "-1", "0", "1.5", TOO_BIG_INT, f"-{TOO_BIG_INT}"],
    M2M: [["abc"], ["-1"], ["0"], [TOO_BIG_INT], ["1", "abc"]],
    MULTI: [["bogus"], ["99"], ["-1"]],
}
# The last of several values is the one a form reads: make it a wrong one.
WRONG_LAST = {
    TEXT: "\x00",
    PASSWORD_KIND: "\x00",
    DATE: "not-a-date",
    TIME: "noon",
    INT: "abc",
    DECIMAL: "abc",
    CHOICE: "bogus",
    SCALE: "bogus",
    FK: "abc",
}

AS = "__as__"  # post as another persona
KW = "__kwargs__"  # URL kwargs replacing the endpoint's
URL = "__url__"  # a URL name replacing the endpoint's
JSON_BODY = "__json__"  # send the payload as JSON instead of a form

Payload = dict[str, Any]
Case = Callable[[World, Payload], Payload]


@dataclass(frozen=True)
class Endpoint:
    url: str
    persona: str | None  # None: anonymous
    kwargs: Callable[[World], dict[str, Any]]
    fields: dict[str, str]
    required: tuple[str, ...]
    valid: Callable[[World], Payload]
    cases: dict[str, Case] = field(default_factory=dict)
    # Django's own auth views re-render an invalid form with 200 (the form error is the
    # refusal); every OpenIOP view answers 400.
    form_error_200: bool = False


def nul_of(value: Any) -> Any:
    if isinstance(value, list):
        return [f"{v}\x00" for v in value] or ["\x00"]
    return f"{value}\x00"


def generic_cases(ep: Endpoint) -> dict[str, Case]:
    cases: dict[str, Case] = {
        "empty POST": lambda w, v: {},
        "every field 100,000 characters": lambda w, v: {
            k: [HUGE] if isinstance(val, list) else HUGE for k, val in v.items()
        },
        "JSON body": lambda w, v: {**v, JSON_BODY: True},
        "1,500 fields": lambda w, v: {**v, **{f"extra{i}": "1" for i in range(1500)}},
        "3 MB body": lambda w, v: {**v, "padding": "x" * 3_000_000},
    }
    for name, kind in ep.fields.items():
        if kind == BOOL:
            continue
        cases[f"{name}: NUL"] = lambda w, v, n=name: {**v, n: nul_of(v[n])}
        if kind == TEXT:
            cases[f"{name}: 100,000 characters"] = lambda w, v, n=name: {**v, n: HUGE}
        for i, wrong in enumerate(WRONG_VALUES.get(kind, [])):
            cases[f"{name}: wrong value {i} {wrong!r}"[:80]] = lambda w, v, n=name, x=wrong: {
                **v,
                n: x,
            }
        if kind not in LIST_KINDS:
            cases[f"{name}: several values"] = lambda w, v, n=name, k=kind: {
                **v,
                n: [v[n], "1", WRONG_LAST[k]],
            }
        if name in ep.required:
            cases[f"{name}: missing"] = lambda w, v, n=name: {
                k: val for k, val in v.items() if k != n
            }
            cases[f"{name}: blank"] = lambda w, v, n=name, k=kind: {
                **v,
                n: [] if k in LIST_KINDS else "   ",
            }
    return {**cases, **ep.cases}


# --- helpers for the payloads -------------------------------------------------------------


def today(w: World) -> dt.date:
    return w.program.today()


def day(w: World, offset: int) -> str:
    return (today(w) + dt.timedelta(days=offset)).isoformat()


def replace(**changes: Any) -> Case:
    """A case setting fields; a callable value is called with the world."""

    def case(w: World, v: Payload) -> Payload:
        return {**v, **{k: c(w) if callable(c) else c for k, c in changes.items()}}

    return case


def ep_kwargs(name: str, **more: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {
        "pk": w.participants[name].pk,
        "episode_pk": w.participants[name].current_episode_id,
        **more,
    }


def group_entry(w: World, key: str) -> str:
    """The form field of world.active's entry in the group note of world.session."""
    entry = Note.objects.get(group_note=w.group_note, participant=w.active, voided=False)
    return group_notes.field_name(entry, key)


def other_track(w: World) -> int:
    return w.other_program.tracks.first().pk


# --- the schedule's payloads ---------------------------------------------------------------


def morning(w: World) -> Track:
    return w.program.tracks.get(name="Morning")


SLOT_KINDS = {
    "weekday": INT,  # a choice of 0–6: Monday (0) is a real answer
    "start_time": TIME,
    "end_time": TIME,
    "session_type": FK,
    "title": TEXT,
    "facilitator": FK,
    "room": FK,
    "modality": CHOICE,
    "join_link": TEXT,
    "capacity": INT,
    "topic": FK,
    "uses_curriculum": BOOL,
}


def slot_valid(w: World) -> Payload:
    return {
        "weekday": "3",
        "start_time": "12:15",
        "end_time": "13:00",
        "session_type": w.program.session_types.get(name="Process group").pk,
        "title": "Mindfulness",
        "facilitator": w.supervisor.pk,
        "room": w.program.site.rooms.get(name="Group Room").pk,
        "modality": "in_person",
        "join_link": "",
        "capacity": "8",
        "topic": "",
    }


def appointment_valid(w: World) -> Payload:
    return {
        "kind": "individual",
        "episode": w.active.current_episode_id,
        "session_type": w.program.session_types.get(name="Individual").pk,
        "title": "",
        "day": w.appointment.date.isoformat(),
        "start": "16:00",
        "end": "17:00",
        "facilitator": w.intake.pk,
        "room": w.program.site.rooms.get(name="Group Room").pk,
        "modality": "in_person",
        "join_link": "",
        "capacity": "",
        "capacity_override": "",
    }


# --- the endpoints --------------------------------------------------------------------

IDENTITY_KINDS = {name: (DATE if name == "date_of_birth" else TEXT) for name in PARTICIPANT_FIELDS}
IDENTITY_REQUIRED = ("legal_first_name", "legal_last_name", "date_of_birth", "preferred_language")


def identity(p: Participant | None = None) -> Payload:
    if p is None:
        return {
            "legal_first_name": "Robin",
            "legal_last_name": "Hostile",
            "preferred_name": "Rob",
            "pronouns": "they/them",
            "date_of_birth": "1985-03-02",
            "phone": "(207) 555-0199",
            "email": "robin@example.org",
            "address_line1": "1 Main St",
            "address_line2": "Apt 2",
            "city": "Portland",
            "state": "ME",
            "postal_code": "04101",
            "preferred_language": "English",
            "emergency_contact_name": "Sam",
            "emergency_contact_relationship": "sibling",
            "emergency_contact_phone": "(207) 555-0100",
        }
    out = {}
    for name in PARTICIPANT_FIELDS:
        value = getattr(p, name)
        out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


DOB_CASES: dict[str, Case] = {
    "date of birth in the future": replace(date_of_birth=lambda w: day(w, 365)),
    "date of birth tomorrow": replace(date_of_birth=lambda w: day(w, 2)),
    "date of birth over 120 years ago": replace(date_of_birth="1850-01-01"),
    "date of birth in year 1": replace(date_of_birth="0001-01-01"),
    "email not an email": replace(email="not-an-email"),
    "email with a newline": replace(email="a@example.org\nBcc: b@example.org"),
}


def participant_new(w: World) -> Payload:
    return {
        **identity(),
        "program": w.program.pk,
        "referral_source": "self",
        "referral_date": day(w, -1),
    }


def participant_edit(w: World) -> Payload:
    p = w.referred
    return {**identity(p), "legal_first_name": "Patricia", "version": p.version}


def episode_edit_valid(w: World) -> Payload:
    return {
        "level_of_care": "3:2.1",
        "track": w.program.tracks.get(name="Morning").pk,
        "primary_counsellor": w.counsellor.pk,
        "care_team": [w.supervisor.pk, w.director.pk],
        "version": w.referred.current_episode.version,
    }


def staff_valid(w: World) -> Payload:
    return {
        "username": "newstaff",
        "first_name": "Nova",
        "last_name": "Staff",
        "email": "nova@example.org",
        "credentials": "LADC",
        "is_active": "on",
        "roles": ["counsellor"],
        "programs": [w.program.pk],
        "password": NEW_PASSWORD,
    }


def staff_edit_valid(w: World) -> Payload:
    u = w.counsellor
    return {
        "username": u.username,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "email": "counsellor@example.org",
        "credentials": "CADC-II",
        "is_active": "on",
        "roles": ["counsellor"],
        "programs": [w.program.pk],
        "password": "",
    }


def admin_self(w: World, **changes: Any) -> Payload:
    u = w.admin
    return {
        KW: {"pk": u.pk},
        "username": u.username,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "email": "",
        "credentials": "",
        "is_active": "on",
        "roles": ["admin"],
        "programs": [],
        **changes,
    }


PARTICIPANT_EPISODE_KINDS = {"referral_source": CHOICE, "referral_date": DATE}
TRANSITION_KINDS = {"effective_date": DATE, "reason": TEXT}
ADMISSION_KINDS = {**TRANSITION_KINDS, "level_of_care": CHOICE, "track": FK}
ADMISSION_KINDS["primary_counsellor"] = FK

SITE_KINDS = {"name": TEXT, "address": TEXT, "phone": TEXT, "retired": BOOL}
PROGRAM_KINDS = {
    "name": TEXT,
    "site": FK,
    "time_zone": CHOICE,
    "level_of_care": CHOICE,
    "population": CHOICE,
    "min_weekly_hours": DECIMAL,
    "counsellors_see_care_team_only": BOOL,
    "idle_timeout_minutes": INT,  # H2: automatic sign-out, 2..120 (blank: 15)
    "retired": BOOL,
}
TRACK_KINDS = {
    "name": TEXT,
    "days": MULTI,
    "start_time": TIME,
    "end_time": TIME,
    "modality": CHOICE,
    "description": TEXT,
    "retired": BOOL,
}
ROOM_KINDS = {"name": TEXT, "capacity": INT, "retired": BOOL}
SESSIONTYPE_KINDS = {"name": TEXT, "category": CHOICE, "default_minutes": INT, "retired": BOOL}
TOPIC_KINDS = {"title": TEXT, "description": TEXT, "sequence": INT, "retired": BOOL}
STAFF_KINDS = {
    "username": TEXT,
    "first_name": TEXT,
    "last_name": TEXT,
    "email": TEXT,
    "credentials": TEXT,
    "is_active": BOOL,
    "roles": MULTI,
    "programs": M2M,
    "password": PASSWORD_KIND,
}


def site_of(w: World) -> Site:
    return w.program.site


def program_valid(w: World, name: str = "Seaside IOP") -> Payload:
    return {
        "name": name,
        "site": w.program.site_id,
        "time_zone": "America/Chicago",
        "level_of_care": "3:2.1",
        "population": "adult",
        "min_weekly_hours": "9.5",
        "counsellors_see_care_team_only": "on",
        "idle_timeout_minutes": "20",
        "retired": "",
    }


def track_valid(w: World) -> Payload:
    return {
        "name": "Noon",
        "days": ["1", "4"],
        "start_time": "12:00",
        "end_time": "13:30",
        "modality": "hybrid",
        "description": "Lunch-hour group",
        "retired": "",
    }


TRACK_CASES: dict[str, Case] = {
    "end time before start time": replace(start_time="14:00", end_time="13:00"),
    "end time equal to start time": replace(start_time="14:00", end_time="14:00"),
    "days outside the week": replace(days=["0", "7"]),
    "days negative": replace(days=["-1"]),
    "days huge": replace(days=[TOO_BIG_INT]),
}
ROOM_CASES: dict[str, Case] = {
    "capacity 0": replace(capacity="0"),
    "capacity negative": replace(capacity="-5"),
    "capacity over 500": replace(capacity="501"),
    "capacity huge": replace(capacity=TOO_BIG_INT),
    "capacity negative huge": replace(capacity=f"-{TOO_BIG_INT}"),
}
SESSIONTYPE_CASES: dict[str, Case] = {
    "minutes 0": replace(default_minutes="0"),
    "minutes 4": replace(default_minutes="4"),
    "minutes 601": replace(default_minutes="601"),
    "minutes negative": replace(default_minutes="-60"),
    "minutes huge": replace(default_minutes=TOO_BIG_INT),
}
TOPIC_CASES: dict[str, Case] = {
    "sequence negative": replace(sequence="-1"),
    "sequence huge": replace(sequence=TOO_BIG_INT),
    "description over 2000": replace(description="d" * 2001),
}
PROGRAM_CASES: dict[str, Case] = {
    "hours below the ASAM 2.1 floor": replace(min_weekly_hours="8.5"),
    "hours over 60": replace(min_weekly_hours="60.5"),
    "hours huge": replace(min_weekly_hours=TOO_BIG_INT),
    "time zone not a zone": replace(time_zone="Mars/Olympus_Mons"),
    "time zone path": replace(time_zone="../../etc/passwd"),
    # H2: automatic sign-out between 2 and 120 minutes (170.315(d)(5)).
    "sign-out after 1 minute": replace(idle_timeout_minutes="1"),
    "sign-out after 0 minutes": replace(idle_timeout_minutes="0"),
    "sign-out after 121 minutes": replace(idle_timeout_minutes="121"),
    "sign-out huge": replace(idle_timeout_minutes=TOO_BIG_INT),
}


# --- intake payloads -------------------------------------------------------------------


def episode_of(name: str) -> Callable[[World], dict[str, Any]]:
    """Intake URLs name only the episode."""
    return lambda w: {"episode_pk": w.participants[name].current_episode_id}


def referral_of(w: World, name: str) -> Referral:
    return Referral.objects.get(episode_id=w.participants[name].current_episode_id)


REFERRAL_DETAIL_KINDS = {
    "urgency": CHOICE,
    "referrer_name": TEXT,
    "referrer_organisation": TEXT,
    "referrer_phone": TEXT,
    "referrer_email": TEXT,
    "reason": TEXT,
    "insurance_payer": TEXT,
    "insurance_member_id": TEXT,
    "insurance_verified": BOOL,
    "assigned_to": FK,
}
NEW_REFERRAL_KINDS = {
    "program": FK,
    "legal_first_name": TEXT,
    "legal_last_name": TEXT,
    "preferred_name": TEXT,
    "date_of_birth": DATE,
    "phone": TEXT,
    "email": TEXT,
    "referral_source": CHOICE,
    "referral_date": DATE,
    **REFERRAL_DETAIL_KINDS,
    "existing": INT,
    "confirm_new": BOOL,
}


def referral_details(w: World) -> Payload:
    return {
        "urgency": "urgent",
        "referrer_name": "Dr Ames",
        "referrer_organisation": "Bayside Hospital ED",
        "referrer_phone": "(207) 555-0177",
        "referrer_email": "ames@example.org",
        "reason": "Seen in the ED after a fall while intoxicated.",
        "insurance_payer": "Anthem",
        "insurance_member_id": "ANT-123",
        "insurance_verified": "on",
        "assigned_to": w.intake.pk,
    }


def referral_new_valid(w: World) -> Payload:
    return {
        "program": w.program.pk,
        "legal_first_name": "Robin",
        "legal_last_name": "Hostile",
        "preferred_name": "Rob",
        "date_of_birth": "1985-03-02",
        "phone": "(207) 555-0199",
        "email": "robin@example.org",
        "referral_source": "hospital",
        "referral_date": day(w, -1),
        **referral_details(w),
        "existing": "",
        "confirm_new": "",
    }


# make_participant's people are born on 1990-05-17: the same surname is a possible duplicate.
MAKE_PARTICIPANT_DOB = "1990-05-17"


def referral_edit_valid(w: World) -> Payload:
    return {
        **referral_details(w),
        "reason": "Self-referred after a DUI; wants evening groups.",
        "version": referral_of(w, "screening").version,
    }


CLOSE_KINDS = {
    "outcome": CHOICE,
    "not_admitted_reason": CHOICE,
    "referred_to": TEXT,
    "note": TEXT,
    "effective_date": DATE,
}
CLOSE_CASES: dict[str, Case] = {
    "outcome admitted (admission has its own form)": replace(outcome="admitted"),
    "date before the referral": replace(effective_date=lambda w: day(w, -7)),
    "date tomorrow": replace(effective_date=lambda w: day(w, 1)),
    "date in a month": replace(effective_date=lambda w: day(w, 30)),
    "note over 2000": replace(note="n" * 2001),
    "referred to over 200": replace(referred_to="r" * 201),
    "an active episode": replace(**{KW: episode_of("active")}),
    "an episode closed on the chart": replace(**{KW: episode_of("closed")}),
    "a referral already closed here": replace(**{KW: episode_of("declined")}),
    "another program's episode": replace(**{KW: episode_of("foreign")}),
    "episode that does not exist": replace(**{KW: {"episode_pk": int(TOO_BIG_INT)}}),
    "as supervisor": replace(**{AS: "supervisor"}),
    "as lab": replace(**{AS: "lab"}),
}

SCREEN_KINDS = {
    f"q_{q.code}": SCALE if q.kind == "scale" else CHOICE for q in prescreen_questions.QUESTIONS
}
SCREEN_KINDS.update({"screened_on": DATE, "note": TEXT})


def prescreen_valid(w: World) -> Payload:
    return {
        **{f"q_{code}": str(answer) for code, answer in CLEAR_SCREEN.items()},
        "screened_on": day(w, 0),
        "note": "Phone screen; wants the evening track.",
    }


ASSESSMENT_KINDS: dict[str, str] = {
    "assessed_on": DATE,
    "form_source": CHOICE,
    "licensed_tool": TEXT,
    "licensed_reference": TEXT,
    "summary": TEXT,
    "chosen_level": CHOICE,
    "override_reason": TEXT,
}
for _n in range(1, 7):
    ASSESSMENT_KINDS[f"rating_{_n}"] = SCALE
    ASSESSMENT_KINDS[f"narrative_{_n}"] = TEXT


def assessment_valid(w: World, action: str, **more: Any) -> Payload:
    payload: Payload = {
        "assessed_on": day(w, -1),
        "form_source": "openiop",
        "licensed_tool": "",
        "licensed_reference": "",
        "summary": "Moderate alcohol use disorder; IOP fits.",
        "chosen_level": "",
        "override_reason": "",
        "action": action,
        **more,
    }
    for n, rating in enumerate((1, 2, 1, 2, 1, 1), start=1):
        payload[f"rating_{n}"] = str(rating)
        payload[f"narrative_{n}"] = f"What was found for dimension {n}."
    return payload


def draft_edit_valid(w: World, action: str) -> Payload:
    draft = Assessment.objects.get(pk=w.draft_assessment.pk)
    return assessment_valid(
        w, action, assessed_on=draft.assessed_on.isoformat(), version=draft.version
    )


NO_RATINGS = {f"rating_{n}": "" for n in range(1, 7)}
ASSESSMENT_CASES: dict[str, Case] = {
    "rating 5 (ratings run 0 to 4)": replace(rating_3="5"),
    "rating negative": replace(rating_1="-1"),
    "rating 2.0": replace(rating_2="2.0"),
    "a level of the other edition": replace(chosen_level="4:2.1"),
    "a level that does not exist": replace(chosen_level="3:9.9"),
    "date in a month": replace(assessed_on=lambda w: day(w, 30)),
    "narrative over 8000": replace(narrative_4="n" * 8001),
    "summary over 8000": replace(summary="s" * 8001),
    "override reason over 4000": replace(override_reason="o" * 4001),
    "licensed tool over 120": replace(licensed_tool="t" * 121),
    "as lab": replace(**{AS: "lab"}),
    "as billing": replace(**{AS: "billing"}),
}
SIGN_CASES: dict[str, Case] = {
    "sign without ratings": replace(**NO_RATINGS),
    "sign with one rating missing": replace(rating_6=""),
    "sign with a dimension not written up": replace(narrative_3="   "),
    "sign an override without a reason": replace(chosen_level="3:2.5"),
    "sign an override with a reason of spaces": replace(
        chosen_level="3:1", override_reason="  \n "
    ),
    "sign licensed ratings without naming the tool": replace(form_source="licensed"),
    "sign dated tomorrow": replace(assessed_on=lambda w: day(w, 1)),
}

DIAGNOSIS_KINDS: dict[str, str] = {}
for _i in range(4):
    DIAGNOSIS_KINDS[f"dx_code_{_i}"] = TEXT
    DIAGNOSIS_KINDS[f"dx_description_{_i}"] = TEXT
ADMIT_KINDS = {
    **{f"id-{k}": kind for k, kind in IDENTITY_KINDS.items()},
    "version": INT,
    "level_of_care": CHOICE,
    "level_reason": TEXT,
    "track": FK,
    "primary_counsellor": FK,
    "admission_date": DATE,
    "primary_diagnosis": SCALE,
    **DIAGNOSIS_KINDS,
    "consent_signature": TEXT,
    "consent_signed_on": DATE,
    "notice_acknowledged": BOOL,
    "notice_given_on": DATE,
}
ADMIT_REQUIRED = (
    *[f"id-{k}" for k in IDENTITY_REQUIRED],
    "version",
    "level_of_care",
    "track",
    "primary_counsellor",
    "admission_date",
    "primary_diagnosis",
    "dx_code_0",
    "consent_signature",
    "consent_signed_on",
    "notice_given_on",
)


def admit_valid(w: World) -> Payload:
    p = Participant.objects.get(pk=w.assessed.pk)
    return {
        **{f"id-{k}": v for k, v in identity(p).items()},
        "id-email": "pat.assessed@example.org",  # completed at admission
        "version": p.version,
        "level_of_care": "3:2.1",
        "level_reason": "",
        "track": w.program.tracks.get(name="Evening").pk,
        "primary_counsellor": w.supervisor.pk,
        "admission_date": day(w, 0),
        "primary_diagnosis": "0",
        "dx_code_0": "f1020",
        "dx_description_0": "",
        "dx_code_1": "F41.1",
        "dx_description_1": "",
        "dx_code_2": "",
        "dx_description_2": "",
        "dx_code_3": "",
        "dx_description_3": "",
        "consent_signature": "Pat Assessed",
        "consent_signed_on": day(w, 0),
        "notice_acknowledged": "on",
        "notice_given_on": day(w, 0),
    }


def current(obj: Any) -> Any:
    """The row as it is now (an earlier case may have changed it)."""
    return type(obj).objects.get(pk=obj.pk)


def without(*names: str) -> Case:
    return lambda w, v: {k: x for k, x in v.items() if k not in names}


# --- measures payloads -------------------------------------------------------------------


def instrument_kinds(code: str) -> dict[str, str]:
    definition = next(d for d in all_definitions() if d.code == code)
    kinds = {f"item_{item.code}": SCALE for item in definition.items}
    kinds.update({"administered_on": DATE, "occasion": CHOICE, "note": TEXT})
    return kinds


def give_valid(w: World, answers: list[int], **more: Any) -> Payload:
    return {
        **{f"item_{n}": str(a) for n, a in enumerate(answers, start=1)},
        "administered_on": day(w, 0),
        "occasion": "scheduled",
        "note": "Given in the group room.",
        **more,
    }


def give_kwargs(name: str, code: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.participants[name].pk, "code": code}


GIVE_CASES: dict[str, Case] = {
    "date in a month": replace(administered_on=lambda w: day(w, 30)),
    "date tomorrow": replace(administered_on=lambda w: day(w, 1)),
    "note over 2000": replace(note="n" * 2001),
    "unknown instrument code in the URL": replace(
        **{KW: lambda w: {"pk": w.active.pk, "code": "NOPE-1"}}
    ),
    "an instrument switched off for the program": replace(
        **{KW: lambda w: {"pk": w.active.pk, "code": "PACS"}}
    ),
    "another program's participant": replace(**{KW: give_kwargs("foreign", "PHQ-9")}),
    "participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT), "code": "PHQ-9"}}),
    "as lab": replace(**{AS: "lab"}),
    "as billing": replace(**{AS: "billing"}),
    "as the outsider": replace(**{AS: "outsider"}),
}

SETTINGS_KINDS: dict[str, str] = {}
for _d in all_definitions():
    SETTINGS_KINDS[f"{_d.code}__enabled"] = BOOL
    SETTINGS_KINDS[f"{_d.code}__routine"] = BOOL
    SETTINGS_KINDS[f"{_d.code}__interval_days"] = INT


def settings_valid(w: World) -> Payload:
    payload: Payload = {}
    routine = {"PHQ-9", "GAD-7", "BAM", "CRAVING", "BARC-10"}
    for d in all_definitions():
        if d.code != "PACS":  # PACS is switched off for the program in hostile_world
            payload[f"{d.code}__enabled"] = "on"
        if d.code in routine:
            payload[f"{d.code}__routine"] = "on"
        payload[f"{d.code}__interval_days"] = "14"
    payload["CRAVING__interval_days"] = "7"  # the change
    payload["DAST-10__routine"] = "on"
    return payload


def edit_of(kind: str, obj: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"kind_name": kind, "pk": obj(w).pk}


# --- contacts and relapse-prevention plans ----------------------------------------------

CONTACT_KINDS = {
    "name": TEXT,
    "relationship": CHOICE,
    "phone": TEXT,
    "email": TEXT,
    "is_support": BOOL,
    "is_emergency": BOOL,
    "notes": TEXT,
}


def contact_valid(w: World) -> Payload:
    return {
        "name": "Jordan Hostile",
        "relationship": "sponsor",
        "phone": "(207) 555-0188",
        "email": "jordan@example.org",
        "is_support": "on",
        "is_emergency": "",
        "notes": "Call after 5 pm.",
    }


CONTACT_CASES: dict[str, Case] = {
    "support person without phone or email": replace(phone="", email=""),
    "email not an email": replace(email="not-an-email"),
    "phone without digits": replace(phone="call me maybe"),
    "phone over 30": replace(phone="5" * 31),
    "notes over 1000": replace(notes="n" * 1001),
    "a relationship that is not one": replace(relationship="enemy"),
    "as lab": replace(**{AS: "lab"}),
    "as billing": replace(**{AS: "billing"}),
    "as the outsider": replace(**{AS: "outsider"}),
}


def contact_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.active.pk, "contact_pk": w.contact.pk}


def plan_kwargs(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.active.pk, "plan_pk": w.records[name].pk}


def plan_row(w: World, model: Any, name: str) -> int:
    """The first problem, goal or objective of a treatment plan version."""
    path = "goal__plan" if model is Objective else "plan"
    return model.objects.filter(**{path: w.records[name]}).order_by("pk").first().pk


# Edits to a treatment plan version that is signed, of someone else, or not ours to make.
PLAN_LOCK_CASES: dict[str, Case] = {
    "the signed version": replace(**{KW: plan_kwargs("plan")}),
    "another participant's plan": replace(
        **{KW: lambda w: {"pk": w.referred.pk, "plan_pk": w.draft_plan.pk}}
    ),
    "plan that does not exist": replace(
        **{KW: lambda w: {"pk": w.active.pk, "plan_pk": int(TOO_BIG_INT)}}
    ),
    "as billing": replace(**{AS: "billing"}),
    "as lab": replace(**{AS: "lab"}),
    "as the outsider": replace(**{AS: "outsider"}),
}


def role_of(w: World) -> str:
    return f"role_{w.contact.pk}"


RELAPSE_SECTION_KINDS = {
    f"section_{key}": TEXT
    for key in ("reasons", "triggers", "high_risk", "warning_signs", "coping", "craving_steps")
}


def relapse_edit_valid(w: World) -> Payload:
    return {
        "version": RelapsePlan.objects.get(pk=w.relapse_draft.pk).version,
        "section_reasons": "My kids.\nI want to keep my job.",
        "section_triggers": "Payday Fridays\n- Arguments at home\nThe old crew",
        "section_high_risk": "Being alone on a Friday night",
        "section_warning_signs": "Skipping group\nNot sleeping",
        "section_coping": "Urge surfing\nWalk the dog",
        "section_craving_steps": "1. Wait 15 minutes\n2. Call Dana\n3. Go to a meeting",
        "support": [w.contact.pk],
        role_of(w): "Call when a craving hits; drive me to a meeting",
    }


# A 1x1 PNG, as a drawn signature arrives from the signature pad.
SIGNATURE_PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


# --- drug screening, the lab: world.screen_random (today's random selection, to collect),
# world.screen_for_cause (breath alcohol today, to collect), world.screen_collected
# (yesterday's 12-panel cup, collected an hour ago as WORLD-0001) --------------------------


def screen_kwargs(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.active.pk, "order_pk": w.records[name].pk}


def local_time(w: World, minutes: int) -> str:
    """A `datetime-local` value on the program's clock, `minutes` from now."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return at.astimezone(w.program.tz).strftime("%Y-%m-%dT%H:%M")


COLLECT_KINDS = {
    "action": CHOICE,
    "specimen_id": TEXT,
    "collected_at": DATE,  # a datetime-local value: the date mutations are wrong for it too
    "observed": BOOL,
    "observed_reason": TEXT,
    "temperature": CHOICE,
    "validity": CHOICE,
    "remarks": TEXT,
}


def collect_valid(w: World) -> Payload:
    return {
        "action": "collect",
        "specimen_id": "HOSTILE-1",
        "collected_at": local_time(w, -5),
        "observed_reason": "",
        "temperature": "yes",
        "validity": "valid",
        "remarks": "Clear, no foreign matter.",
    }


SCREEN_ORDER_CASES: dict[str, Case] = {
    "as the counsellor (a hidden random selection)": replace(**{AS: "counsellor"}),
    "as billing": replace(**{AS: "billing"}),
    "as the outsider": replace(**{AS: "outsider"}),
    "another participant's order": replace(
        **{KW: lambda w: {"pk": w.referred.pk, "order_pk": w.screen_random.pk}}
    ),
    "an order that does not exist": replace(
        **{KW: lambda w: {"pk": w.active.pk, "order_pk": int(TOO_BIG_INT)}}
    ),
    "an order already collected": replace(**{KW: screen_kwargs("screen_collected")}),
}

# --- drug screening, lab results imported from a file: world.screen_collected's specimen
# WORLD-0001 has no result yet; WORLD-R001 has presumptive THC and BUP results ------------

IMPORT_KINDS = {"format": CHOICE, "action": CHOICE, "content": TEXT}


def import_csv(*rows: str) -> str:
    return "specimen_id,analyte,outcome,value,method,resulted_at\n" + "\n".join(rows) + "\n"


def import_valid(w: World) -> Payload:
    return {
        "format": "auto",
        "action": "import",
        "content": import_csv("WORLD-0001,COC,NEG,,,", "WORLD-0001,THC,POS,62,,"),
    }


# --- drug screening, clinical -----------------------------------------------------------


def review_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.active.pk, "review_pk": w.screen_review.pk}


def medication_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.active.pk, "med_pk": w.medication.pk}


POLICY_KINDS = {
    "random_rate": DECIMAL,
    "draw_days_per_week": INT,
    "random_panel": FK,
    "test_at_admission": BOOL,
    # A choice of 0-6 (Monday is 0) or blank for none.
    "scheduled_weekday": SCALE,
    "scheduled_every_days": INT,
    "minimum_per_week": DECIMAL,
    "handling": CHOICE,
    "refusal_counts_as": CHOICE,
    "no_show_counts_as": CHOICE,
    "dilute_counts_as": CHOICE,
    "adulterated_counts_as": CHOICE,
    "price_per_test": DECIMAL,
}


def policy_valid(w: World) -> Payload:
    return {
        "random_rate": "1.50",
        "draw_days_per_week": "4",
        "random_panel": Panel.objects.get(name="12-panel urine cup").pk,
        "test_at_admission": "on",
        "scheduled_weekday": "0",
        "scheduled_every_days": "",
        "minimum_per_week": "1.00",
        "handling": "strict",
        "refusal_counts_as": "positive",
        "no_show_counts_as": "missed",
        "dilute_counts_as": "retest",
        "adulterated_counts_as": "positive",
        "price_per_test": "15.00",
    }


# --- drug screening, panels and analytes: the seeded library; world.active has results for
# THC, BUP and COC on a 12-panel cup (the policy's panel); world.retired_panel is retired --


def panel_kwargs(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": Panel.objects.get(name=name).pk}


def panel_line(panel: str, code: str) -> int:
    return PanelAnalyte.objects.get(panel__name=panel, analyte__code=code).pk


PANEL_KINDS = {
    "name": TEXT,
    "specimen_type": CHOICE,
    "method": CHOICE,
    "cpt_code": TEXT,
    "device": TEXT,
    "description": TEXT,
}
PANEL_REQUIRED = ("name", "specimen_type", "method")


def panel_valid(w: World) -> Payload:
    return {
        "name": "Oral fluid 10-panel",
        "specimen_type": "oral_fluid",
        "method": "cup",
        "cpt_code": "80305",
        "device": "Acme OralTox",
        "description": "Saliva swab; 10 minutes.",
    }


# A cut-off is text to the generic cases: the generic decimal 99999 is a valid cut-off
# (anything above 0 and below 1,000,000); the wrong decimals are the cases below.
CUTOFF_KINDS = {"cutoff": TEXT, "unit": TEXT, "confirm_cutoff": TEXT}


def cutoff_cases(field: str) -> dict[str, Case]:
    wrong = ["abc", "NaN", "Infinity", "-Infinity", "-1", "0", "1e400", "9.99999", "1000000"]
    return {f"{field}: {value!r}": replace(**{field: value}) for value in wrong}


PANEL_AS_OTHERS: dict[str, Case] = {
    "as the counsellor (reads only)": replace(**{AS: "counsellor"}),
    "as lab (reads only)": replace(**{AS: "lab"}),
    "as billing": replace(**{AS: "billing"}),
    "as admin (no screening.view)": replace(**{AS: "admin"}),
    "a panel that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
}


# --- H5: amendment requests ---------------------------------------------------------------
H5_REQUEST_KINDS = {
    "received_on": DATE,
    "requested_by": TEXT,
    "target": CHOICE,
    "other_label": TEXT,
    "requested_change": TEXT,
}


def h5_request_valid(w: World) -> Payload:
    return {
        "received_on": day(w, -2),
        "requested_by": "Pat Active",
        "target": f"notes.note:{w.signed_note.pk}",
        "other_label": "",
        "requested_change": "I said I had a craving at home, not at work.",
    }


def h5_kwargs(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.active.pk, "request_pk": w.records[name].pk}


H5_ELSEWHERE: dict[str, Case] = {
    "another participant in the URL": replace(
        **{KW: lambda w: {"pk": w.referred.pk, "request_pk": w.amendment.pk}}
    ),
    "a request that does not exist": replace(
        **{KW: lambda w: {"pk": w.active.pk, "request_pk": int(TOO_BIG_INT)}}
    ),
    "another program's participant": replace(
        **{KW: lambda w: {"pk": w.foreign.pk, "request_pk": w.amendment.pk}}
    ),
    "as billing": replace(**{AS: "billing"}),
}


# --- H6: consents (42 CFR §2.31). world.consent (employer, Acme Logistics) and
# world.tpo_consent of world.active (`add_privacy`); world.used_consent has a disclosure
# (cannot be voided); world.void_consent is void (cannot be revoked) ----------------------
H6_CONSENT_KINDS = {
    "discloser": TEXT,
    "recipient_kind": CHOICE,
    "recipient_name": TEXT,
    "recipient_address": TEXT,
    "purposes": MULTI,
    "purpose_detail": TEXT,
    "information": MULTI,
    "information_detail": TEXT,
    "expires_on": DATE,
    "expiry_event": CHOICE,
    "revocation_explained": BOOL,
    "signed_by": TEXT,
    "signer_role": CHOICE,
    "signed_on": DATE,
    "signature_method": CHOICE,
}
# (recipient_name is not required of a family consent: the chosen contact names them)
H6_REQUIRED = (
    "discloser",
    "recipient_kind",
    "purposes",
    "information",
    "information_detail",
    "signed_by",
    "signer_role",
    "signed_on",
    "signature_method",
)


def h6_specific_valid(w: World) -> Payload:
    return {
        "discloser": "Harbor IOP",
        "recipient_kind": "family",
        "contact": w.contact.pk,
        "recipient_name": "",
        "recipient_address": "",
        "purposes": ["FAMRQT"],
        "purpose_detail": "",
        "information": ["attendance", "progress"],
        "information_detail": "Whether I attend and how I am doing, in general terms",
        "expires_on": day(w, 90),
        "expiry_event": "",
        "revocation_explained": "on",
        "signed_by": "Pat Active",
        "signer_role": "self",
        "signed_on": day(w, 0),
        "signature_method": "paper",
    }


def h6_tpo_valid(w: World) -> Payload:
    return {
        **h6_specific_valid(w),
        "recipient_kind": "tpo_class",
        "contact": "",
        "recipient_name": "My treating providers, health plans and program operations",
        "purposes": ["TREAT", "HPAYMT", "HOPERAT"],
        "information": ["attendance", "plan", "diagnosis"],
        "expires_on": "",
        "expiry_event": "end_of_treatment",
        "refusal_consequences_stated": "on",
        "redisclosure_stated": "on",
    }


def h6_consent(name: str, participant: str = "active") -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.participants[participant].pk, "consent_pk": w.records[name].pk}


H6_ELSEWHERE: dict[str, Case] = {
    "another participant in the URL": replace(**{KW: h6_consent("consent", "referred")}),
    "another program's participant": replace(**{KW: h6_consent("consent", "foreign")}),
    "a consent that does not exist": replace(
        **{KW: lambda w: {"pk": w.active.pk, "consent_pk": int(TOO_BIG_INT)}}
    ),
    "as billing": replace(**{AS: "billing"}),
    "as lab": replace(**{AS: "lab"}),
    "as the outsider": replace(**{AS: "outsider"}),
}
H6_RECORD_ELSEWHERE: dict[str, Case] = {
    "another program's participant": replace(
        **{KW: lambda w: {"pk": w.foreign.pk, "kind": "specific"}}
    ),
    "a participant that does not exist": replace(
        **{KW: {"pk": int(TOO_BIG_INT), "kind": "specific"}}
    ),
    "a kind that does not exist": replace(**{KW: lambda w: {"pk": w.active.pk, "kind": "x"}}),
    "as billing": replace(**{AS: "billing"}),
    "as lab": replace(**{AS: "lab"}),
    "as the outsider": replace(**{AS: "outsider"}),
}


ENDPOINTS: dict[str, Endpoint] = {
    # --- lead: privacy, releasing records through the consent gate (world.consent names
    # Acme Logistics, employer, for employment: enrolment and attendance) -------------
    "participant_privacy:release": Endpoint(
        "participant_privacy:release",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {
            "document": CHOICE,
            "recipient_kind": CHOICE,
            "recipient_name": TEXT,
            "recipient_address": TEXT,
            "purpose": CHOICE,
            "purpose_detail": TEXT,
            "period_start": DATE,
            "period_end": DATE,
        },
        ("document", "purpose"),
        lambda w: {
            "document": "attendance_letter",
            "recipient_kind": "employer",
            "recipient_name": "Acme Logistics",
            "recipient_address": "12 Dock Road",
            "purpose": "employment",
            "purpose_detail": "",
            "period_start": "",
            "period_end": "",
        },
        {
            "a recipient the consent does not name": replace(recipient_name="Beta Foods"),
            "a purpose the consent does not cover": replace(purpose="legal"),
            "test results the consent does not cover": replace(
                document="record_summary", summary_information=["screening"]
            ),
            "counselling notes": replace(
                document="record_summary", summary_information=["counselling_notes"]
            ),
            "a consent of another participant": replace(consent=lambda w: 999999),
            "a period ending before it starts": replace(
                period_start="2026-10-02", period_end="2026-10-01"
            ),
            "a period in the future": replace(period_end="2999-01-01"),
            "as billing": replace(**{AS: "billing"}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
        },
    ),
    "privacy:emergency_review": Endpoint(
        "privacy:emergency_review",
        "compliance",
        lambda w: {"access_pk": w.emergency_access.pk},
        {"note": TEXT},
        ("note",),
        lambda w: {"note": "Confirmed with the supervisor on call."},
        {
            "as the person who opened it": replace(**{AS: "director"}),
            "as a counsellor": replace(**{AS: "counsellor"}),
            "an access that does not exist": replace(**{KW: {"access_pk": int(TOO_BIG_INT)}}),
        },
    ),
    # --- H6: the consent registry (42 CFR §2.31): recording each kind, revoking, voiding ---
    "consents:record[specific]": Endpoint(
        "consents:record",
        "counsellor",
        lambda w: {"pk": w.active.pk, "kind": "specific"},
        {**H6_CONSENT_KINDS, "contact": FK},
        H6_REQUIRED,
        h6_specific_valid,
        {
            **H6_RECORD_ELSEWHERE,
            "a family recipient without a contact": replace(contact=""),
            "another participant's contact": replace(contact=lambda w: w.h6_other_contact.pk),
            "another program's contact": replace(contact=lambda w: w.h6_foreign_contact.pk),
            "a removed contact": replace(contact=lambda w: w.h6_removed_contact.pk),
            "not told of the right to revoke": replace(revocation_explained=""),
            "no expiry date or event": replace(expires_on=""),
            "both an expiry date and an event": replace(expiry_event="end_of_treatment"),
            "no expiry (TPO only)": replace(expires_on="", expiry_event="none"),
            "signed tomorrow": replace(signed_on=lambda w: day(w, 1)),
            "expires before it was signed": replace(expires_on=lambda w: day(w, -1)),
            "other purpose undescribed": replace(purposes=["other"], purpose_detail=" "),
            "counselling notes on a specific consent": replace(
                information=["attendance", "counselling_notes"]
            ),
            "the TPO class on a specific consent": replace(recipient_kind="tpo_class"),
            "description only spaces": replace(information_detail="   "),
            "recipient over 200": replace(
                contact="", recipient_kind="employer", recipient_name="r" * 201
            ),
            "description over 500": replace(information_detail="d" * 501),
        },
    ),
    "consents:record[tpo]": Endpoint(
        "consents:record",
        "counsellor",
        lambda w: {"pk": w.active.pk, "kind": "tpo"},
        {**H6_CONSENT_KINDS, "refusal_consequences_stated": BOOL, "redisclosure_stated": BOOL},
        (*H6_REQUIRED, "recipient_name", "expiry_event"),
        h6_tpo_valid,
        {
            "a purpose beyond TPO": replace(purposes=["TREAT", "employment"]),
            "an employer as recipient": replace(recipient_kind="employer"),
            "a family member as recipient": replace(recipient_kind="family"),
            "refusal consequences not stated": replace(refusal_consequences_stated=""),
            "redisclosure not stated": replace(redisclosure_stated=""),
            "counselling notes in a TPO consent": replace(
                information=["attendance", "counselling_notes"]
            ),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "consents:record[counselling_notes]": Endpoint(
        "consents:record",
        "counsellor",
        lambda w: {"pk": w.active.pk, "kind": "counselling_notes"},
        {**H6_CONSENT_KINDS, "contact": FK},
        (*H6_REQUIRED, "recipient_name"),
        lambda w: {
            **h6_specific_valid(w),
            "recipient_kind": "provider",
            "contact": "",
            "recipient_name": "Dr. Rivera, Bayside Psychiatry",
            "purposes": ["COC"],
            "information": ["counselling_notes"],
            "information_detail": "My SUD counselling notes from group and individual sessions",
        },
        {
            "combined with attendance": replace(information=["counselling_notes", "attendance"]),
            "without the counselling notes": replace(information=["attendance"]),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "consents:revoke": Endpoint(
        "consents:revoke",
        "counsellor",
        h6_consent("consent"),
        {"revoked_on": DATE, "note": TEXT},
        ("revoked_on", "note"),
        lambda w: {"revoked_on": day(w, 0), "note": "Signed revocation handed in at group"},
        {
            **H6_ELSEWHERE,
            "revoked tomorrow": replace(revoked_on=lambda w: day(w, 1)),
            "revoked before it was signed": replace(revoked_on=lambda w: day(w, -400)),
            "note over 500": replace(note="n" * 501),
            "a void consent": replace(**{KW: h6_consent("void_consent")}),
        },
    ),
    "consents:void": Endpoint(
        "consents:void",
        "compliance",
        h6_consent("tpo_consent"),
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Recorded on the wrong participant's chart"},
        {
            **H6_ELSEWHERE,
            "records went out under it": replace(**{KW: h6_consent("used_consent")}),
            "already void": replace(**{KW: h6_consent("void_consent")}),
            "reason over 500": replace(reason="r" * 501),
        },
    ),
    # --- participants ---------------------------------------------------------------
    "participants:new": Endpoint(
        "participants:new",
        "intake",
        lambda w: {},
        {**IDENTITY_KINDS, "program": FK, **PARTICIPANT_EPISODE_KINDS},
        (*IDENTITY_REQUIRED, "program", "referral_source", "referral_date"),
        participant_new,
        {
            **DOB_CASES,
            "another program": replace(program=lambda w: w.other_program.pk),
            "a retired program": replace(program=lambda w: w.retired_program.pk),
            "referral date in the future": replace(referral_date=lambda w: day(w, 30)),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "participants:edit": Endpoint(
        "participants:edit",
        "counsellor",
        lambda w: {"pk": w.referred.pk},
        {**IDENTITY_KINDS, "version": INT},
        IDENTITY_REQUIRED,
        participant_edit,
        {
            **DOB_CASES,
            "no version": lambda w, v: {k: x for k, x in v.items() if k != "version"},
            "stale version": replace(version=lambda w: w.referred.version + 5),
            "version 0": replace(version="0"),
            "version negative": replace(version="-1"),
            "version huge": replace(version=TOO_BIG_INT),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "as lab": replace(**{AS: "lab"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "participants:episode_new": Endpoint(
        "participants:episode_new",
        "counsellor",
        lambda w: {"pk": w.closed.pk},
        PARTICIPANT_EPISODE_KINDS,
        ("referral_source", "referral_date"),
        lambda w: {"referral_source": "family", "referral_date": day(w, -1)},
        {
            "referral date in the future": replace(referral_date=lambda w: day(w, 30)),
            "participant with an open episode": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "participants:episode_edit": Endpoint(
        "participants:episode_edit",
        "counsellor",
        ep_kwargs("referred"),
        {
            "level_of_care": CHOICE,
            "track": FK,
            "primary_counsellor": FK,
            "care_team": M2M,
            "version": INT,
        },
        ("version",),
        episode_edit_valid,
        {
            "another program's track": replace(track=other_track),
            "a retired track": replace(track=lambda w: w.program.tracks.get(retired=True).pk),
            "outsider as counsellor": replace(primary_counsellor=lambda w: w.outsider.pk),
            "outsider on the care team": replace(
                care_team=lambda w: [w.supervisor.pk, w.outsider.pk]
            ),
            "lab (not clinical) as counsellor": replace(primary_counsellor=lambda w: w.lab.pk),
            "inactive counsellor": replace(primary_counsellor=lambda w: w.inactive.pk),
            "a thousand care-team ids": replace(care_team=[str(i) for i in range(1, 1200)]),
            "stale version": replace(version=lambda w: w.referred.current_episode.version + 1),
            "version negative": replace(version="-1"),
            "another participant's episode": replace(
                **{
                    KW: lambda w: {
                        "pk": w.referred.pk,
                        "episode_pk": w.active.current_episode_id,
                    }
                }
            ),
            "another program's episode": replace(
                **{
                    KW: lambda w: {
                        "pk": w.referred.pk,
                        "episode_pk": w.foreign.current_episode_id,
                    }
                }
            ),
            "another program's participant": replace(**{KW: ep_kwargs("foreign")}),
            "episode that does not exist": replace(
                **{KW: lambda w: {"pk": w.referred.pk, "episode_pk": int(TOO_BIG_INT)}}
            ),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "participants:episode_transition[screening]": Endpoint(
        "participants:episode_transition",
        "counsellor",
        ep_kwargs("referred", to_status="screening"),
        TRANSITION_KINDS,
        ("effective_date",),
        lambda w: {"effective_date": day(w, -1), "reason": "First call made"},
        {
            "date in the future": replace(effective_date=lambda w: day(w, 2)),
            "date before the referral": replace(effective_date=lambda w: day(w, -31)),
            "reason over 2000": replace(reason="r" * 2001),
            "another program's participant": replace(
                **{KW: ep_kwargs("foreign", to_status="screening")}
            ),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "participants:episode_transition[not_admitted]": Endpoint(
        "participants:episode_transition",
        "counsellor",
        ep_kwargs("referred", to_status="not_admitted"),
        TRANSITION_KINDS,
        ("effective_date", "reason"),
        lambda w: {"effective_date": day(w, -1), "reason": "Chose another provider"},
        {"reason only spaces": replace(reason="   ")},
    ),
    "participants:void": Endpoint(
        "participants:void",
        "director",
        lambda w: {"pk": w.referred.pk},
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Duplicate registration"},
        {
            "reason only spaces": replace(reason="   "),
            "reason over 500": replace(reason="r" * 501),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as a counsellor": replace(**{AS: "counsellor"}),
        },
    ),
    # --- intake ---------------------------------------------------------------------
    "intake:new": Endpoint(
        "intake:new",
        "intake",
        lambda w: {},
        NEW_REFERRAL_KINDS,
        (
            "program",
            "legal_first_name",
            "legal_last_name",
            "date_of_birth",
            "referral_source",
            "referral_date",
            "urgency",
            "reason",
        ),
        referral_new_valid,
        {
            **DOB_CASES,
            "another program": replace(program=lambda w: w.other_program.pk),
            "a retired program": replace(program=lambda w: w.retired_program.pk),
            "referral date tomorrow": replace(referral_date=lambda w: day(w, 1)),
            "referral date in a month": replace(referral_date=lambda w: day(w, 30)),
            "referral date before the birth date": replace(referral_date="1980-01-01"),
            "reason only spaces": replace(reason="   "),
            "reason over 4000": replace(reason="r" * 4001),
            "referrer email not an email": replace(referrer_email="ames at example"),
            "intake worker from another program": replace(assigned_to=lambda w: w.outsider.pk),
            "lab (not clinical) as intake worker": replace(assigned_to=lambda w: w.lab.pk),
            "inactive intake worker": replace(assigned_to=lambda w: w.inactive.pk),
            # Same surname and birth date as a participant on record.
            "a possible duplicate, not confirmed": replace(
                legal_last_name="referred", date_of_birth=MAKE_PARTICIPANT_DOB
            ),
            "linked to a record not among the possible duplicates": replace(
                existing=lambda w: w.closed.pk
            ),
            "linked to another program's participant": replace(
                legal_last_name="Foreign",
                date_of_birth=MAKE_PARTICIPANT_DOB,
                existing=lambda w: w.foreign.pk,
            ),
            "linked to a duplicate whose episode is open": replace(
                legal_last_name="Referred",
                date_of_birth=MAKE_PARTICIPANT_DOB,
                existing=lambda w: w.referred.pk,
            ),
            "linked to a record that does not exist": replace(
                legal_last_name="Closed", date_of_birth=MAKE_PARTICIPANT_DOB, existing="424242"
            ),
            "as supervisor (sees referrals, does not take them)": replace(**{AS: "supervisor"}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "intake:edit": Endpoint(
        "intake:edit",
        "intake",
        episode_of("screening"),
        {**REFERRAL_DETAIL_KINDS, "version": INT},
        ("urgency", "reason"),
        referral_edit_valid,
        {
            "stale version": replace(version=lambda w: referral_of(w, "screening").version + 1),
            "no version": without("version"),
            "version negative": replace(version="-1"),
            "version huge": replace(version=TOO_BIG_INT),
            "reason only spaces": replace(reason=" \t "),
            "reason over 4000": replace(reason="r" * 4001),
            "referrer email not an email": replace(referrer_email="not-an-email"),
            "referrer over 120": replace(referrer_name="n" * 121),
            "intake worker from another program": replace(assigned_to=lambda w: w.outsider.pk),
            "lab (not clinical) as intake worker": replace(assigned_to=lambda w: w.lab.pk),
            "a referral closed here (not admitted)": lambda w, v: {
                **v,
                KW: episode_of("declined")(w),
                "version": referral_of(w, "declined").version,
            },
            # Registered on the participants page, admitted there before intake existed.
            "an active episode": replace(**{KW: episode_of("active")}),
            "an episode closed on the chart": replace(**{KW: episode_of("closed")}),
            "another program's episode": replace(**{KW: episode_of("foreign")}),
            "episode that does not exist": replace(**{KW: {"episode_pk": int(TOO_BIG_INT)}}),
            "as supervisor": replace(**{AS: "supervisor"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "intake:contact": Endpoint(
        "intake:contact",
        "intake",
        episode_of("screening"),
        {"method": CHOICE, "outcome": CHOICE, "note": TEXT},
        ("method", "outcome"),
        lambda w: {"method": "phone", "outcome": "left_message", "note": "Voicemail, 10:15"},
        {
            "note over 500": replace(note="n" * 501),
            "a referral closed here (not admitted)": replace(**{KW: episode_of("declined")}),
            "an episode closed on the chart": replace(**{KW: episode_of("closed")}),
            "an active episode": replace(**{KW: episode_of("active")}),
            "another program's episode": replace(**{KW: episode_of("foreign")}),
            "episode that does not exist": replace(**{KW: {"episode_pk": int(TOO_BIG_INT)}}),
            "as supervisor": replace(**{AS: "supervisor"}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "intake:close[not_admitted]": Endpoint(
        "intake:close",
        "intake",
        episode_of("screening"),
        CLOSE_KINDS,
        ("outcome", "effective_date"),
        lambda w: {
            "outcome": "not_admitted",
            "not_admitted_reason": "declined",
            "referred_to": "",
            "note": "Wants to try outpatient counselling first.",
            "effective_date": day(w, 0),
        },
        {
            **CLOSE_CASES,
            "no reason": replace(not_admitted_reason=""),
            "reason other without a note": replace(not_admitted_reason="other", note=" "),
            # A referral registered on the participants page has no intake details yet.
            "no reason, on a referral without intake details": replace(
                not_admitted_reason="", **{KW: episode_of("referred")}
            ),
        },
    ),
    "intake:close[referred_elsewhere]": Endpoint(
        "intake:close",
        "intake",
        episode_of("screening"),
        CLOSE_KINDS,
        ("outcome", "effective_date"),
        lambda w: {
            "outcome": "referred_elsewhere",
            "not_admitted_reason": "",
            "referred_to": "Riverside Residential",
            "note": "Needs a 24-hour structured setting first.",
            "effective_date": day(w, 0),
        },
        {
            **CLOSE_CASES,
            "nowhere": replace(referred_to=""),
            "nowhere but spaces": replace(referred_to="   "),
            "no reason": replace(note=""),
            "nowhere, on a referral without intake details": replace(
                referred_to="", **{KW: episode_of("referred")}
            ),
        },
    ),
    "intake:prescreen": Endpoint(
        "intake:prescreen",
        "intake",
        episode_of("referred"),
        SCREEN_KINDS,
        (*[f"q_{q.code}" for q in prescreen_questions.QUESTIONS], "screened_on"),
        prescreen_valid,
        {
            "an answer that is not yes, no or unknown": replace(q_suicidal="maybe"),
            "motivation 11": replace(q_motivation="11"),
            "motivation negative": replace(q_motivation="-1"),
            "motivation 5.5": replace(q_motivation="5.5"),
            "date tomorrow": replace(screened_on=lambda w: day(w, 1)),
            "date in a month": replace(screened_on=lambda w: day(w, 30)),
            "date before the referral": replace(screened_on=lambda w: day(w, -31)),
            "note over 4000": replace(note="n" * 4001),
            "an active episode": replace(**{KW: episode_of("active")}),
            "an episode closed on the chart": replace(**{KW: episode_of("closed")}),
            "another program's episode": replace(**{KW: episode_of("foreign")}),
            "as supervisor": replace(**{AS: "supervisor"}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "intake:assessment_new[save]": Endpoint(
        "intake:assessment_new",
        "counsellor",
        episode_of("referred"),
        ASSESSMENT_KINDS,
        ("assessed_on", "form_source"),
        lambda w: assessment_valid(w, "save"),
        {
            **ASSESSMENT_CASES,
            "an episode closed on the chart": replace(**{KW: episode_of("closed")}),
            "another program's episode": replace(**{KW: episode_of("foreign")}),
            "episode that does not exist": replace(**{KW: {"episode_pk": int(TOO_BIG_INT)}}),
        },
    ),
    "intake:assessment_new[sign]": Endpoint(
        "intake:assessment_new",
        "counsellor",
        episode_of("referred"),
        ASSESSMENT_KINDS,
        ("assessed_on", "form_source"),
        lambda w: assessment_valid(w, "sign"),
        {
            **ASSESSMENT_CASES,
            "an episode closed on the chart": replace(**{KW: episode_of("closed")}),
            "another program's episode": replace(**{KW: episode_of("foreign")}),
        },
    ),
    "intake:assessment_edit[save]": Endpoint(
        "intake:assessment_edit",
        "counsellor",
        lambda w: {"pk": w.draft_assessment.pk},
        {**ASSESSMENT_KINDS, "version": INT},
        ("assessed_on", "form_source"),
        lambda w: draft_edit_valid(w, "save"),
        {
            **ASSESSMENT_CASES,
            "stale version": replace(version=lambda w: current(w.draft_assessment).version + 1),
            "no version": without("version"),
            "another program's assessment": replace(**{KW: lambda w: {"pk": w.foreign_draft.pk}}),
            "assessment that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "intake:assessment_edit[sign]": Endpoint(
        "intake:assessment_edit",
        "counsellor",
        lambda w: {"pk": w.draft_assessment.pk},
        {**ASSESSMENT_KINDS, "version": INT},
        ("assessed_on", "form_source"),
        lambda w: draft_edit_valid(w, "sign"),
        {
            **ASSESSMENT_CASES,
            **SIGN_CASES,
            "stale version": replace(version=lambda w: current(w.draft_assessment).version + 1),
            "another program's assessment": replace(**{KW: lambda w: {"pk": w.foreign_draft.pk}}),
        },
    ),
    "intake:admit": Endpoint(
        "intake:admit",
        "intake",
        episode_of("assessed"),
        ADMIT_KINDS,
        ADMIT_REQUIRED,
        admit_valid,
        {
            "identity: date of birth in the future": replace(
                **{"id-date_of_birth": lambda w: day(w, 365)}
            ),
            "identity: email not an email": replace(**{"id-email": "not-an-email"}),
            "identity: surname only spaces": replace(**{"id-legal_last_name": "   "}),
            "stale participant version": replace(version=lambda w: current(w.assessed).version + 1),
            "another program's track": replace(track=other_track),
            "a retired track": replace(track=lambda w: w.program.tracks.get(retired=True).pk),
            "outsider as counsellor": replace(primary_counsellor=lambda w: w.outsider.pk),
            "lab (not clinical) as counsellor": replace(primary_counsellor=lambda w: w.lab.pk),
            "inactive counsellor": replace(primary_counsellor=lambda w: w.inactive.pk),
            "a level of the other edition": replace(level_of_care="4:2.1"),
            "a level the assessment did not choose, without a reason": replace(
                level_of_care="3:2.5"
            ),
            "a primary diagnosis that is not a substance use disorder": replace(
                primary_diagnosis="1"
            ),
            "the same diagnosis twice": replace(dx_code_1="F10.20"),
            "a code that is not ICD-10-CM": replace(dx_code_1="XYZ"),
            "a code not in our list, without a description": replace(dx_code_1="F11.999"),
            "the primary row has no code": replace(primary_diagnosis="2"),
            "a primary diagnosis row that does not exist": replace(primary_diagnosis="4"),
            "no diagnosis at all": replace(dx_code_0="", dx_code_1=""),
            "admission date tomorrow": replace(admission_date=lambda w: day(w, 1)),
            "admission date in a month": replace(admission_date=lambda w: day(w, 30)),
            "admission date before the referral": replace(admission_date=lambda w: day(w, -30)),
            "consent dated tomorrow": replace(consent_signed_on=lambda w: day(w, 1)),
            "notice given in a month": replace(notice_given_on=lambda w: day(w, 30)),
            "consent signature only spaces": replace(consent_signature="   "),
            "notice not acknowledged": without("notice_acknowledged"),
            "notice acknowledgement blank": replace(notice_acknowledged=""),
            "a Screening episode": replace(**{KW: episode_of("screening")}),
            "an Assessed episode without a signed assessment": replace(
                **{KW: episode_of("assessed_unsigned")}
            ),
            "an active episode": replace(**{KW: episode_of("active")}),
            "another program's episode": replace(**{KW: episode_of("foreign")}),
            "as supervisor (no intake.manage)": replace(**{AS: "supervisor"}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    # --- measures -------------------------------------------------------------------
    "measures:give[PHQ-9]": Endpoint(
        "measures:give",
        "counsellor",
        give_kwargs("active", "PHQ-9"),
        instrument_kinds("PHQ-9"),
        (*[f"item_{n}" for n in range(1, 10)], "administered_on", "occasion"),
        lambda w: give_valid(w, [1, 1, 0, 2, 1, 0, 0, 1, 0]),
        {
            **GIVE_CASES,
            "an answer out of range": replace(item_4="4"),
            "an answer negative": replace(item_1="-1"),
            "an answer 1.0": replace(item_2="1.0"),
            "only eight answers": without("item_9"),
        },
    ),
    "measures:give[AUDIT-C]": Endpoint(
        "measures:give",
        "intake",
        give_kwargs("screening", "AUDIT-C"),
        {**instrument_kinds("AUDIT-C"), "sex": CHOICE},
        ("item_1", "item_2", "item_3", "administered_on", "occasion"),
        lambda w: give_valid(w, [2, 1, 0], occasion="admission", sex="female"),
        {
            **GIVE_CASES,
            "an answer out of range": replace(item_3="5"),
            "sex not one of the choices": replace(sex="other"),
            "sex abbreviated": replace(sex="m"),
            "sex given twice, the last one wrong": replace(sex=["female", "other"]),
        },
    ),
    "instruments:alert": Endpoint(
        "instruments:alert",
        "counsellor",
        lambda w: {"alert_pk": w.alert.pk},
        {"actions": MULTI, "risk_after": CHOICE, "note": TEXT},
        ("actions", "risk_after", "note"),
        lambda w: {
            "actions": ["assessed", "safety_plan", "crisis_line"],
            "risk_after": "low",
            "note": "Passive thoughts, no plan or intent; safety plan reviewed.",
        },
        {
            "note only spaces": replace(note=" \n\t "),
            "note over 5000": replace(note="n" * 5001),
            "an action that does not exist": replace(actions=["assessed", "hug"]),
            "risk after not a level": replace(risk_after="none"),
            "an alert already answered": replace(
                **{KW: lambda w: {"alert_pk": w.resolved_alert.pk}}
            ),
            "another program's alert": replace(**{KW: lambda w: {"alert_pk": w.foreign_alert.pk}}),
            "alert that does not exist": replace(**{KW: {"alert_pk": int(TOO_BIG_INT)}}),
            "as intake (reads alerts, does not answer them)": replace(**{AS: "intake"}),
            "as lab": replace(**{AS: "lab"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "instruments:settings": Endpoint(
        "instruments:settings",
        "director",
        lambda w: {"program_pk": w.program.pk},
        SETTINGS_KINDS,
        tuple(k for k, kind in SETTINGS_KINDS.items() if kind == INT),
        settings_valid,
        {
            "interval 6 days": replace(**{"PHQ-9__interval_days": "6"}),
            "interval 91 days": replace(**{"GAD-7__interval_days": "91"}),
            "interval 0": replace(**{"BAM__interval_days": "0"}),
            "interval negative": replace(**{"BAM__interval_days": "-14"}),
            "another program": replace(**{KW: lambda w: {"program_pk": w.other_program.pk}}),
            "program that does not exist": replace(**{KW: {"program_pk": int(TOO_BIG_INT)}}),
            "as counsellor": replace(**{AS: "counsellor"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    # --- schedule ---------------------------------------------------------------------
    "scheduling:template": Endpoint(
        "scheduling:template",
        "director",
        lambda w: {"pk": morning(w).pk},
        SLOT_KINDS,
        ("weekday", "start_time", "end_time", "session_type", "modality"),
        slot_valid,
        {
            "end before start": replace(start_time="13:00", end_time="12:15"),
            "a day the track does not meet": replace(weekday="2"),
            "telehealth without a join link": replace(modality="telehealth"),
            "a join link that is not a URL": replace(
                modality="telehealth", join_link="javascript:alert(1)"
            ),
            "larger than the room": replace(capacity="13"),
            "a fixed topic and the curriculum": replace(
                topic=lambda w: w.program.topics.first().pk, uses_curriculum="on"
            ),
            "another program's session type": replace(
                session_type=lambda w: w.other_program.session_types.first().pk
            ),
            "another site's room": replace(room=lambda w: w.other_program.site.rooms.first().pk),
            "another program's facilitator": replace(facilitator=lambda w: w.outsider.pk),
            "another program's track": replace(
                **{KW: lambda w: {"pk": w.other_program.tracks.first().pk}}
            ),
            "as counsellor": replace(**{AS: "counsellor"}),
        },
    ),
    "scheduling:generate": Endpoint(
        "scheduling:generate",
        "counsellor",
        lambda w: {"pk": morning(w).pk},
        {"first": DATE, "last": DATE},
        ("first", "last"),
        lambda w: {"first": day(w, 8), "last": day(w, 20)},
        {
            "last before first": replace(first=lambda w: day(w, 20), last=lambda w: day(w, 8)),
            "more than a year": replace(last=lambda w: day(w, 400)),
            "a track with no template": replace(
                **{KW: lambda w: {"pk": w.program.tracks.get(name="Evening").pk}}
            ),
            "a clash with the facilitator's appointment": replace(
                first=lambda w: w.clash_day.isoformat(), last=lambda w: w.clash_day.isoformat()
            ),
            "another program's track": replace(
                **{KW: lambda w: {"pk": w.other_program.tracks.first().pk}}
            ),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "scheduling:closures": Endpoint(
        "scheduling:closures",
        "director",
        lambda w: {"pk": w.program.pk},
        {"reason": TEXT, "first_day": DATE, "last_day": DATE},
        ("reason", "first_day"),
        lambda w: {"reason": "Winter break", "first_day": day(w, 50), "last_day": day(w, 52)},
        {
            "last day before the first": replace(last_day=lambda w: day(w, 49)),
            "more than 93 days": replace(last_day=lambda w: day(w, 150)),
            "reason over 120": replace(reason="r" * 121),
            "another program": replace(**{KW: lambda w: {"pk": w.other_program.pk}}),
            "as counsellor": replace(**{AS: "counsellor"}),
        },
    ),
    "scheduling:session_new": Endpoint(
        "scheduling:session_new",
        "intake",
        lambda w: {},
        {
            "kind": CHOICE,
            "episode": FK,
            "session_type": FK,
            "title": TEXT,
            "day": DATE,
            "start": TIME,
            "end": TIME,
            "facilitator": FK,
            "room": FK,
            "modality": CHOICE,
            "join_link": TEXT,
            "capacity": INT,
            "capacity_override": TEXT,
        },
        ("kind", "session_type", "day", "start", "end", "modality"),
        appointment_valid,
        {
            "end before start": replace(start="17:00", end="16:00"),
            "an appointment without a participant": replace(episode=""),
            "another program's participant": replace(
                episode=lambda w: w.foreign.current_episode_id
            ),
            "a participant not in care": replace(episode=lambda w: w.referred.current_episode_id),
            "telehealth without a join link": replace(modality="telehealth"),
            "in person without a room": replace(room=""),
            "the facilitator is already booked": replace(
                day=lambda w: w.appointment.date.isoformat(), start="14:30", end="15:30"
            ),
            "the participant is in group then": replace(
                day=lambda w: w.future_session.date.isoformat(),
                start="10:00",
                end="11:00",
                facilitator=lambda w: w.supervisor.pk,
                room=lambda w: w.program.site.rooms.get(name="Room B").pk,
            ),
            "capacity 0": replace(capacity="0"),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "scheduling:session_edit": Endpoint(
        "scheduling:session_edit",
        "counsellor",
        lambda w: {"pk": w.future_session.pk},
        {
            "version": INT,
            "title": TEXT,
            "day": DATE,
            "start": TIME,
            "end": TIME,
            "facilitator": FK,
            "room": FK,
            "modality": CHOICE,
            "join_link": TEXT,
            "capacity": INT,
            "capacity_override": TEXT,
        },
        ("version", "title", "day", "start", "end", "modality"),
        lambda w: {
            "version": Session.objects.get(pk=w.future_session.pk).version,
            "title": "Process group (late start)",
            "day": w.future_session.date.isoformat(),
            "start": "09:30",
            "end": "12:00",
            "facilitator": w.counsellor.pk,
            "room": w.program.site.rooms.get(name="Group Room").pk,
            "modality": "in_person",
            "join_link": "",
            "capacity": "",
            "capacity_override": "",
        },
        {
            "end before start": replace(start="12:00", end="09:30"),
            "a template session moved to another day": replace(
                day=lambda w: (w.future_session.date + dt.timedelta(days=1)).isoformat()
            ),
            "a stale version": replace(version=lambda w: w.future_session.version - 1),
            "telehealth without a join link": replace(modality="telehealth"),
            "another program's facilitator": replace(facilitator=lambda w: w.outsider.pk),
            "capacity 0": replace(capacity="0"),
            "a session that took place": replace(
                **{KW: lambda w: {"pk": w.session.pk}},
                version=lambda w: Session.objects.get(pk=w.session.pk).version,
                day=lambda w: w.session.date.isoformat(),
            ),
            "a cancelled session": replace(
                **{KW: lambda w: {"pk": w.cancelled_session.pk}},
                version=lambda w: Session.objects.get(pk=w.cancelled_session.pk).version,
                day=lambda w: w.cancelled_session.date.isoformat(),
            ),
            "another program's session": replace(**{KW: lambda w: {"pk": w.foreign_session.pk}}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "scheduling:session_cancel": Endpoint(
        "scheduling:session_cancel",
        "counsellor",
        lambda w: {"pk": w.future_session.pk},
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Facilitator ill; no cover."},
        {
            "reason over 300": replace(reason="r" * 301),
            "a session that took place": replace(**{KW: lambda w: {"pk": w.session.pk}}),
            "another program's session": replace(**{KW: lambda w: {"pk": w.foreign_session.pk}}),
            "a session that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "as lab": replace(**{AS: "lab"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "scheduling:session_topic": Endpoint(
        "scheduling:session_topic",
        "counsellor",
        lambda w: {"pk": w.session.pk},
        {"version": INT, "topic": FK},
        ("version",),
        lambda w: {
            "version": Session.objects.get(pk=w.session.pk).version,
            "topic": w.program.topics.exclude(pk=w.session.topic_id).first().pk,
        },
        {
            "a stale version": replace(version=lambda w: w.session.version - 1),
            "another program's topic": replace(topic=lambda w: w.other_program.topics.first().pk),
            "another program's session": replace(**{KW: lambda w: {"pk": w.foreign_session.pk}}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "scheduling:session_book": Endpoint(
        "scheduling:session_book",
        "counsellor",
        lambda w: {"pk": w.future_session.pk},
        {"episode": FK, "capacity_override": TEXT},
        ("episode",),
        lambda w: {
            "episode": w.evening.current_episode_id,
            "capacity_override": "",
            "reason": "make_up",
        },
        {
            "someone already on the roster": replace(episode=lambda w: w.active.current_episode_id),
            "someone not in care": replace(episode=lambda w: w.referred.current_episode_id),
            "another program's participant": replace(
                episode=lambda w: w.foreign.current_episode_id
            ),
            "a cancelled session": replace(**{KW: lambda w: {"pk": w.cancelled_session.pk}}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "check_ins:new": Endpoint(
        "check_ins:new",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {
            "mood": SCALE,
            "craving": SCALE,
            "used": CHOICE,
            "substances": TEXT,
            "stress": SCALE,
            "sleep_hours": DECIMAL,
            "note": TEXT,
        },
        ("mood", "craving", "used", "stress", "sleep_hours"),
        lambda w: {
            "mood": "6",
            "craving": "2",
            "used": "no",
            "substances": "",
            "stress": "3",
            "sleep_hours": "7.5",
            "note": "Steady week.",
        },
        {
            "mood 0": replace(mood="0"),
            "craving 11": replace(craving="11"),
            "sleep 25 hours": replace(sleep_hours="25"),
            "use without what": replace(used="yes"),
            "what without use": replace(substances="alcohol"),
            "substances over 200": replace(used="yes", substances="s" * 201),
            "someone not in care": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "attendance:alert": Endpoint(
        "attendance:alert",
        "counsellor",
        lambda w: {"pk": w.engagement_alert.pk},
        {"note": TEXT},
        ("note",),
        lambda w: {"note": "Called; agreed a plan for the weekend."},
        {
            "note over 500": replace(note="n" * 501),
            "an alert already answered": replace(
                **{KW: lambda w: {"pk": w.answered_engagement_alert.pk}}
            ),
            "another program's alert": replace(**{KW: lambda w: {"pk": w.foreign_engagement.pk}}),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    # --- notes ------------------------------------------------------------------------
    "notes:new": Endpoint(
        "notes:new",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {"format": CHOICE, "session": FK, "service_date": DATE, "minutes": INT},
        ("format", "service_date", "minutes"),
        lambda w: {"format": "soap", "session": "", "service_date": day(w, 0), "minutes": "45"},
        {
            "a date in the future": replace(service_date=lambda w: day(w, 1)),
            "601 minutes": replace(minutes="601"),
            "a session on another day": replace(
                session=lambda w: w.session.pk, service_date=lambda w: day(w, -30)
            ),
            "another participant's session": replace(session=lambda w: w.foreign_session.pk),
            "someone not admitted": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "notes:edit": Endpoint(
        "notes:edit",
        "counsellor",
        lambda w: {"pk": w.active.pk, "note_pk": w.draft_note.pk},
        {
            "version": INT,
            "section_behavior": TEXT,
            "section_intervention": TEXT,
            "section_response": TEXT,
            "section_plan": TEXT,
        },
        ("version",),
        lambda w: {
            "version": Note.objects.get(pk=w.draft_note.pk).version,
            "section_behavior": "Calm, on time.",
            "section_intervention": "MI: decisional balance.",
            "section_response": "Named two reasons to stay sober.",
            "section_plan": "Meet again next week.",
        },
        {
            "a stale version": replace(version=lambda w: w.draft_note.version - 1),
            "a section over 20,000": replace(section_plan="p" * 20001),
            "sign with empty sections": replace(
                action="sign", section_response="", section_plan=""
            ),
            "a signed note": replace(
                **{KW: lambda w: {"pk": w.active.pk, "note_pk": w.signed_note.pk}}
            ),
            "another participant's note": replace(
                **{KW: lambda w: {"pk": w.referred.pk, "note_pk": w.draft_note.pk}}
            ),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "notes:detail": Endpoint(
        "notes:detail",
        "counsellor",
        lambda w: {"pk": w.active.pk, "note_pk": w.signed_note.pk},
        {"text": TEXT},
        ("text",),
        lambda w: {"text": "Addendum: the plan was discussed with the participant."},
        {
            "text over 10,000": replace(text="t" * 10001),
            "an addendum to a draft": replace(
                **{KW: lambda w: {"pk": w.active.pk, "note_pk": w.draft_note.pk}}
            ),
            "as billing": replace(**{AS: "billing"}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "notes_home:group": Endpoint(
        "notes_home:group",
        "counsellor",
        lambda w: {"session_pk": w.session.pk},
        {"version": INT, "narrative": TEXT, "modality": CHOICE},
        ("version",),
        lambda w: {
            "version": GroupNote.objects.get(pk=w.group_note.pk).version,
            "narrative": "Relapse prevention: triggers and a plan for the weekend.",
            "modality": "cbt",
            group_entry(w, "response"): "Named payday as a trigger.",
        },
        {
            "a stale version": replace(
                version=lambda w: GroupNote.objects.get(pk=w.group_note.pk).version - 1
            ),
            "an entry's response with NUL": lambda w, v: {**v, group_entry(w, "response"): "\x00"},
            "an entry's response over 20,000": lambda w, v: {
                **v,
                group_entry(w, "response"): "r" * 20001,
            },
            "an entry's response, several values": lambda w, v: {
                **v,
                group_entry(w, "response"): ["ok", "\x00"],
            },
            "sign with an empty response": lambda w, v: {
                **v,
                group_entry(w, "response"): "",
                "action": "sign",
            },
            "sign as someone not the author": replace(action="sign", **{AS: "supervisor"}),
            "an unknown action": replace(action="delete"),
            "an individual appointment": replace(
                **{KW: lambda w: {"session_pk": w.appointment.pk}}
            ),
            "a cancelled session": replace(
                **{KW: lambda w: {"session_pk": w.cancelled_session.pk}}
            ),
            "before attendance is taken": replace(
                **{KW: lambda w: {"session_pk": w.future_session.pk}}
            ),
            "another program's session": replace(
                **{KW: lambda w: {"session_pk": w.foreign_session.pk}}
            ),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    # --- contacts ---------------------------------------------------------------------
    "contacts:new": Endpoint(
        "contacts:new",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        CONTACT_KINDS,
        ("name", "relationship"),
        contact_valid,
        {
            **CONTACT_CASES,
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
        },
    ),
    "contacts:edit": Endpoint(
        "contacts:edit",
        "counsellor",
        contact_kwargs,
        {**CONTACT_KINDS, "version": INT},
        ("name", "relationship"),
        lambda w: {
            **contact_valid(w),
            "name": "Dana Active-Smith",
            "relationship": "sibling",
            "version": Contact.objects.get(pk=w.contact.pk).version,
        },
        {
            **CONTACT_CASES,
            "no version": without("version"),
            "stale version": replace(version=lambda w: w.contact.version + 5),
            "version huge": replace(version=TOO_BIG_INT),
            "another participant's contact": replace(
                **{KW: lambda w: {"pk": w.referred.pk, "contact_pk": w.contact.pk}}
            ),
            "contact that does not exist": replace(
                **{KW: lambda w: {"pk": w.active.pk, "contact_pk": int(TOO_BIG_INT)}}
            ),
        },
    ),
    "contacts:void": Endpoint(
        "contacts:void",
        "counsellor",
        contact_kwargs,
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Entered twice."},
        {
            "reason over 500": replace(reason="r" * 501),
            "another participant's contact": replace(
                **{KW: lambda w: {"pk": w.referred.pk, "contact_pk": w.contact.pk}}
            ),
            "another program's participant": replace(
                **{KW: lambda w: {"pk": w.foreign.pk, "contact_pk": w.contact.pk}}
            ),
            "as lab": replace(**{AS: "lab"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    # --- relapse-prevention plans --------------------------------------------------------
    "relapse:new": Endpoint(
        "relapse:new",
        "counsellor",
        lambda w: {"pk": w.evening.pk},
        {"from_number": INT},
        ("from_number",),
        lambda w: {"from_number": "0"},
        {
            "from a version that was not signed": replace(from_number="3"),
            "from_number huge": replace(from_number=TOO_BIG_INT),
            "from_number negative": replace(from_number="-1"),
            "someone not in care": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "someone discharged": replace(**{KW: lambda w: {"pk": w.closed.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as billing": replace(**{AS: "billing"}),
            "as intake (no plan.write)": replace(**{AS: "intake"}),
        },
    ),
    "relapse:edit": Endpoint(
        "relapse:edit",
        "counsellor",
        plan_kwargs("relapse_draft"),
        {"version": INT, **RELAPSE_SECTION_KINDS, "support": M2M},
        ("version",),
        relapse_edit_valid,
        {
            "a stale version": replace(version=lambda w: w.relapse_draft.version - 1),
            "an item over 500 characters": replace(section_coping="c" * 501),
            "41 triggers": replace(section_triggers="\n".join(f"t{i}" for i in range(41))),
            "a role over 200": lambda w, v: {**v, role_of(w): "r" * 201},
            "a role with NUL": lambda w, v: {**v, role_of(w): "call\x00"},
            "a role, several values": lambda w, v: {**v, role_of(w): ["ok", "\x00"]},
            "support: a contact of another participant": replace(
                support=lambda w: [w.contact.pk, w.contact.pk + 1000]
            ),
            "a signed plan": replace(**{KW: plan_kwargs("relapse_plan")}),
            "another participant's plan": replace(
                **{KW: lambda w: {"pk": w.referred.pk, "plan_pk": w.relapse_draft.pk}}
            ),
            "plan that does not exist": replace(
                **{KW: lambda w: {"pk": w.active.pk, "plan_pk": int(TOO_BIG_INT)}}
            ),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "relapse:sign": Endpoint(
        "relapse:sign",
        "counsellor",
        plan_kwargs("relapse_draft"),
        {"version": INT},
        ("version",),
        lambda w: {"version": RelapsePlan.objects.get(pk=w.relapse_draft.pk).version},
        {
            "a stale version": replace(version=lambda w: w.relapse_draft.version + 3),
            "a signed plan": replace(
                version=lambda w: w.relapse_plan.version, **{KW: plan_kwargs("relapse_plan")}
            ),
            "as lab": replace(**{AS: "lab"}),
            "as compliance": replace(**{AS: "compliance"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "relapse:participant_sign": Endpoint(
        "relapse:participant_sign",
        "counsellor",
        plan_kwargs("relapse_plan"),
        {"typed_name": TEXT, "signature": TEXT},
        ("typed_name",),
        lambda w: {"typed_name": "Pat Active", "signature": SIGNATURE_PNG},
        {
            "typed name over 200": replace(typed_name="n" * 201),
            "signature an SVG": replace(
                signature="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmciLz4="
            ),
            "signature a PNG of garbage": replace(signature="data:image/png;base64,AAAA"),
            "signature not base64": replace(signature="data:image/png;base64,@@@@"),
            "signature a URL": replace(signature="https://example.org/sig.png"),
            "signature over the size limit": replace(
                signature="data:image/png;base64," + "A" * 200_000
            ),
            "a draft plan": replace(**{KW: plan_kwargs("relapse_draft")}),
            "as billing": replace(**{AS: "billing"}),
            "as lab": replace(**{AS: "lab"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    # --- treatment plans: world.plan is signed v1 of world.active's plan, world.draft_plan
    # its v2 draft; world.evening has a signed v1 and no draft --------------------------
    "plans:start": Endpoint(
        "plans:start",
        "counsellor",
        lambda w: {"pk": w.evening.pk},
        {"reason": CHOICE, "change_summary": TEXT},
        ("reason",),
        lambda w: {"reason": "review", "change_summary": "30-day review."},
        {
            "the reason of a first plan": replace(reason="initial"),
            "a summary over 4,000": replace(change_summary="s" * 4001),
            "someone not in care": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as billing": replace(**{AS: "billing"}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "plans:edit": Endpoint(
        "plans:edit",
        "counsellor",
        plan_kwargs("draft_plan"),
        {"participant_statement": TEXT, "reason": CHOICE, "change_summary": TEXT},
        ("reason",),
        lambda w: {
            "participant_statement": "I want to sleep again and keep my job.",
            "reason": "condition",
            "change_summary": "Lapsed after a night shift.",
        },
        {
            "a statement over 4,000": replace(participant_statement="p" * 4001),
            **PLAN_LOCK_CASES,
        },
    ),
    "plans:problem": Endpoint(
        "plans:problem",
        "counsellor",
        plan_kwargs("draft_plan"),
        {"action": CHOICE, "row": FK, "parent": FK, "asam_dimension": SCALE, "statement": TEXT},
        ("action", "asam_dimension", "statement"),
        lambda w: {
            "action": "add",
            "row": "",
            "parent": "",
            "asam_dimension": "3",
            "statement": "Low mood most days; sleeps four hours a night.",
        },
        {
            "dimension 0": replace(asam_dimension="0"),
            "dimension 7": replace(asam_dimension="7"),
            "a statement over 2,000": replace(statement="s" * 2001),
            "change without a row": replace(action="save"),
            "change a problem of the signed version": replace(
                action="save", row=lambda w: plan_row(w, Problem, "plan")
            ),
            "remove a problem of the signed version": replace(
                action="remove", row=lambda w: plan_row(w, Problem, "plan")
            ),
            **PLAN_LOCK_CASES,
        },
    ),
    "plans:goal": Endpoint(
        "plans:goal",
        "counsellor",
        plan_kwargs("draft_plan"),
        {"action": CHOICE, "row": FK, "parent": FK, "text": TEXT, "status": CHOICE},
        ("action", "parent", "text"),
        lambda w: {
            "action": "add",
            "row": "",
            "parent": plan_row(w, Problem, "draft_plan"),
            "text": "Sleep through the night most nights.",
            "status": "",
        },
        {
            "a goal over 2,000": replace(text="g" * 2001),
            "under a problem of the signed version": replace(
                parent=lambda w: plan_row(w, Problem, "plan")
            ),
            "remove a goal of the signed version": replace(
                action="remove", row=lambda w: plan_row(w, Goal, "plan")
            ),
            **PLAN_LOCK_CASES,
        },
    ),
    "plans:objective": Endpoint(
        "plans:objective",
        "counsellor",
        plan_kwargs("draft_plan"),
        {
            "action": CHOICE,
            "row": FK,
            "parent": FK,
            "text": TEXT,
            "target_date": DATE,
            "status": CHOICE,
        },
        ("action", "text"),
        lambda w: {
            "action": "save",
            "row": plan_row(w, Objective, "draft_plan"),
            "parent": "",
            "text": "Use a coping skill at each craving and log it, every day.",
            "target_date": day(w, 21),
            "status": "in_progress",
        },
        {
            "a target date ten years away": replace(target_date=lambda w: day(w, 3650)),
            "a target date two years ago": replace(target_date=lambda w: day(w, -730)),
            "an objective of the signed version": replace(
                row=lambda w: plan_row(w, Objective, "plan")
            ),
            "add under a goal of the signed version": replace(
                action="add", row="", parent=lambda w: plan_row(w, Goal, "plan")
            ),
            **PLAN_LOCK_CASES,
        },
    ),
    "plans:intervention": Endpoint(
        "plans:intervention",
        "counsellor",
        plan_kwargs("draft_plan"),
        {
            "action": CHOICE,
            "row": FK,
            "parent": FK,
            "template": FK,
            "description": TEXT,
            "frequency": TEXT,
            "responsible": FK,
        },
        ("action", "parent", "frequency"),
        lambda w: {
            "action": "add",
            "row": "",
            "parent": plan_row(w, Objective, "draft_plan"),
            "template": InterventionTemplate.objects.filter(modality="dbt").first().pk,
            "description": "",
            "frequency": "2 skills groups a week",
            "responsible": w.supervisor.pk,
        },
        {
            "custom without a description": replace(template="", description="  "),
            "a frequency over 120": replace(frequency="f" * 121),
            "responsible: another program's staff": replace(responsible=lambda w: w.outsider.pk),
            "responsible: someone without a clinical role": replace(
                responsible=lambda w: w.billing.pk
            ),
            "a retired library entry": replace(template=lambda w: w.retired_template.pk),
            "under an objective of the signed version": replace(
                parent=lambda w: plan_row(w, Objective, "plan")
            ),
            **PLAN_LOCK_CASES,
        },
    ),
    "plans:sign": Endpoint(
        "plans:sign",
        "counsellor",
        plan_kwargs("draft_plan"),
        {"version": INT},
        ("version",),
        lambda w: {"version": TreatmentPlan.objects.get(pk=w.draft_plan.pk).version},
        {
            "a stale version": replace(version=lambda w: w.draft_plan.version - 1),
            "version huge": replace(version=TOO_BIG_INT),
            "a signed version": replace(
                version=lambda w: w.plan.version, **{KW: plan_kwargs("plan")}
            ),
            "as lab": replace(**{AS: "lab"}),
            "as compliance": replace(**{AS: "compliance"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "plans:participant_sign": Endpoint(
        "plans:participant_sign",
        "counsellor",
        plan_kwargs("plan"),
        {"typed_name": TEXT, "image": TEXT, "agree": BOOL},
        ("typed_name",),
        lambda w: {"typed_name": "Pat Active", "image": SIGNATURE_PNG, "agree": "on"},
        {
            "not agreeing": lambda w, v: {k: x for k, x in v.items() if k != "agree"},
            "typed name over 200": replace(typed_name="n" * 201),
            "signature an SVG": replace(
                image="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmciLz4="
            ),
            "signature a PNG of garbage": replace(image="data:image/png;base64,AAAA"),
            "signature not base64": replace(image="data:image/png;base64,@@@@"),
            "signature a URL": replace(image="https://example.org/sig.png"),
            "signature over the size limit": replace(
                image="data:image/png;base64," + "A" * 400_000
            ),
            "a draft plan": replace(**{KW: plan_kwargs("draft_plan")}),
            "as billing": replace(**{AS: "billing"}),
            "as lab": replace(**{AS: "lab"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "plans:supervisor_sign": Endpoint(
        "plans:supervisor_sign",
        "supervisor",
        plan_kwargs("plan"),
        {"version": INT},
        ("version",),
        lambda w: {"version": TreatmentPlan.objects.get(pk=w.plan.pk).version},
        {
            "a stale version": replace(version=lambda w: w.plan.version + 2),
            "a draft plan": replace(
                version=lambda w: w.draft_plan.version, **{KW: plan_kwargs("draft_plan")}
            ),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    # --- drug screening, the lab -----------------------------------------------------------
    "participant_screening:order[collect]": Endpoint(
        "participant_screening:order",
        "lab",
        screen_kwargs("screen_random"),
        COLLECT_KINDS,
        ("action", "specimen_id", "collected_at", "temperature", "validity"),
        collect_valid,
        {
            "a specimen id used by another specimen": replace(specimen_id="WORLD-0001"),
            "a specimen id over 40": replace(specimen_id="s" * 41),
            "collected in two hours": replace(collected_at=lambda w: local_time(w, 120)),
            "collected in 1850": replace(collected_at="1850-01-01T09:00"),
            "collected in year 1": replace(collected_at="0001-01-01T00:00"),
            "observed without a reason": replace(observed="on", observed_reason="  "),
            "urine without its temperature": replace(temperature="na"),
            "breath alcohol with a temperature": replace(**{KW: screen_kwargs("screen_for_cause")}),
            **SCREEN_ORDER_CASES,
        },
    ),
    "participant_screening:order[refuse]": Endpoint(
        "participant_screening:order",
        "lab",
        screen_kwargs("screen_random"),
        {"action": CHOICE, "refuse-note": TEXT},
        ("action",),
        lambda w: {"action": "refuse", "refuse-note": "Would not give a specimen."},
        {"a note over 500": replace(**{"refuse-note": "n" * 501}), **SCREEN_ORDER_CASES},
    ),
    "participant_screening:order[no_show]": Endpoint(
        "participant_screening:order",
        "lab",
        screen_kwargs("screen_random"),
        {"action": CHOICE, "no_show-note": TEXT},
        ("action",),
        lambda w: {"action": "no_show", "no_show-note": "Did not come in."},
        {"a note over 500": replace(**{"no_show-note": "n" * 501}), **SCREEN_ORDER_CASES},
    ),
    "participant_screening:order[cancel]": Endpoint(
        "participant_screening:order",
        "lab",
        screen_kwargs("screen_for_cause"),
        {"action": CHOICE, "reason": TEXT},
        ("action", "reason"),
        lambda w: {"action": "cancel", "reason": "Ordered by mistake."},
        {
            "a reason over 500": replace(reason="r" * 501),
            "a random selection": replace(**{KW: screen_kwargs("screen_random")}),
            "an order already collected": replace(**{KW: screen_kwargs("screen_collected")}),
            "as billing": replace(**{AS: "billing"}),
            "as compliance": replace(**{AS: "compliance"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "participant_screening:order[custody]": Endpoint(
        "participant_screening:order",
        "lab",
        screen_kwargs("screen_collected"),
        {"action": CHOICE, "step": CHOICE, "at": DATE, "by_name": TEXT, "detail": TEXT},
        ("action", "step", "at"),
        lambda w: {
            "action": "custody",
            "step": "sealed",
            "at": local_time(w, -30),
            "by_name": "",
            "detail": "Seal 0042",
        },
        {
            "a step before the collection": replace(at=lambda w: local_time(w, -180)),
            "a step in two hours": replace(at=lambda w: local_time(w, 120)),
            "sent before sealed": replace(step="sent"),
            "collected again": replace(step="collected"),
            "resulted by hand": replace(step="resulted"),
            "a detail over 300": replace(detail="d" * 301),
            "who over 150": replace(by_name="w" * 151),
            "an order not collected": replace(**{KW: screen_kwargs("screen_for_cause")}),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "participant_screening:order[results]": Endpoint(
        "participant_screening:order",
        "lab",
        screen_kwargs("screen_collected"),
        # The value is a measured concentration: any size a lab reports is valid (the
        # DECIMAL mutations assume a small range), so it gets its own cases below.
        {
            "action": CHOICE,
            "method": CHOICE,
            "accession": TEXT,
            "outcome_COC": CHOICE,
            "value_COC": TEXT,
        },
        ("action", "method", "outcome_COC"),
        lambda w: {
            "action": "results",
            "method": "presumptive",
            "accession": "",
            "outcome_COC": "positive",
            "value_COC": "300",
        },
        {
            "a value below 0": replace(value_COC="-1"),
            "a value NaN": replace(value_COC="NaN"),
            "a value Infinity": replace(value_COC="Infinity"),
            "a value 1e400": replace(value_COC="1e400"),
            "a value with 4 decimals": replace(value_COC="1.2345"),
            "a value of 13 digits": replace(value_COC="1234567890123"),
            "a value without an outcome": lambda w, v: {
                **{k: x for k, x in v.items() if k != "outcome_COC"},
                "value_COC": "12",
            },
            "an analyte not on the panel": lambda w, v: {
                **{k: x for k, x in v.items() if k not in ("outcome_COC", "value_COC")},
                "outcome_ETG": "positive",
            },
            "an accession over 60": replace(accession="a" * 61),
            "an order not collected": replace(**{KW: screen_kwargs("screen_for_cause")}),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "participant_screening:order_new": Endpoint(
        "participant_screening:order_new",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {"panel": FK, "day": DATE, "reason_detail": TEXT},
        ("panel", "day", "reason_detail"),
        lambda w: {
            "panel": Panel.objects.get(name="EtG urine (send-out)").pk,
            "day": day(w, 1),
            "reason_detail": "Missed group; smelled of alcohol.",
        },
        {
            "a day in the past": replace(day=lambda w: day(w, -1)),
            "a day 61 days ahead": replace(day=lambda w: day(w, 61)),
            "a reason over 500": replace(reason_detail="r" * 501),
            "a retired panel": replace(panel=lambda w: w.retired_panel.pk),
            "the same test already to collect": replace(
                panel=lambda w: Panel.objects.get(name="Breath alcohol").pk,
                day=lambda w: day(w, 0),
            ),
            "someone not in care": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as billing": replace(**{AS: "billing"}),
            "as compliance": replace(**{AS: "compliance"}),
        },
    ),
    # --- drug screening, lab results imported from a file (all or nothing) ----------------
    "screening:import": Endpoint(
        "screening:import",
        "lab",
        lambda w: {},
        IMPORT_KINDS,
        ("format", "action", "content"),
        import_valid,
        {
            "an unknown specimen id": replace(content=import_csv("WORLD-9999,COC,NEG,,,")),
            "one good line and one unknown analyte": replace(
                content=import_csv("WORLD-0001,COC,NEG,,,", "WORLD-0001,KRATOM,POS,,,")
            ),
            "a result already recorded": replace(
                content=import_csv("WORLD-R001,THC,POS,,presumptive,")
            ),
            "the same result twice": replace(
                content=import_csv("WORLD-0001,COC,NEG,,,", "WORLD-0001,BZE,NEG,,,")
            ),
            "a value that is not a number": replace(content=import_csv("WORLD-0001,COC,,1e3,,")),
            "a negative value": replace(content=import_csv("WORLD-0001,COC,,-4,,")),
            "a huge value": replace(content=import_csv("WORLD-0001,COC,,9999999999999,,")),
            "a result dated in the future": replace(
                content=import_csv("WORLD-0001,COC,NEG,,,2099-01-01T09:00")
            ),
            "a header only": replace(content="specimen_id,analyte,outcome\n"),
            "no header": replace(content="WORLD-0001,COC,NEG\n"),
            "CSV chosen for an HL7 message": replace(
                format="csv", content="MSH|^~\\&|LAB|X|O|H|2026||ORU^R01|1|P|2.5\rOBX|1"
            ),
            "an HL7 message that is not ORU^R01": replace(
                content="MSH|^~\\&|REG|X|O|H|2026||ADT^A01|1|P|2.5\rPID|1||WORLD-0001\r"
            ),
            "an HL7 message without MSH": replace(
                format="hl7", content="OBR|1|WORLD-0001\rOBX|1|NM|COC||0|||N\r"
            ),
            "control characters": replace(content="\x01\x02\x03\x04"),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider (another program's specimen)": replace(**{AS: "outsider"}),
        },
    ),
    # --- drug screening, clinical: world.screen_review is the open review of world.active's
    # THC positive (assigned to the counsellor), world.medication its Suboxone (BUP) ---------
    "participant_screening:review": Endpoint(
        "participant_screening:review",
        "counsellor",
        review_kwargs,
        {"outcome": CHOICE, "plan_change": TEXT, "version": INT},
        ("outcome", "plan_change", "version"),
        lambda w: {
            "outcome": "use",
            "plan_change": "Weekly individual session added; relapse plan reviewed.",
            "version": Review.objects.get(pk=w.screen_review.pk).version,
        },
        {
            "a stale version": replace(version=lambda w: w.screen_review.version + 3),
            "version huge": replace(version=TOO_BIG_INT),
            "what changed over 4,000": replace(plan_change="p" * 4001),
            "noted: not a conclusion for a positive": replace(outcome="noted"),
            "another participant's review": replace(
                **{KW: lambda w: {"pk": w.referred.pk, "review_pk": w.screen_review.pk}}
            ),
            "a review that does not exist": replace(
                **{KW: lambda w: {"pk": w.active.pk, "review_pk": int(TOO_BIG_INT)}}
            ),
            "as lab": replace(**{AS: "lab"}),
            "as billing": replace(**{AS: "billing"}),
            "as intake (no screening.review)": replace(**{AS: "intake"}),
            "as the supervisor (not escalated)": replace(**{AS: "supervisor"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "participant_screening:medications": Endpoint(
        "participant_screening:medications",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {
            "name": TEXT,
            "analytes": M2M,
            "start_date": DATE,
            "end_date": DATE,
            "prescriber": TEXT,
            "note": TEXT,
        },
        ("name", "analytes", "start_date"),
        lambda w: {
            "name": "Methadone",
            "analytes": [a.pk for a in Analyte.objects.filter(code__in=["MTD", "EDDP"])],
            "start_date": day(w, -10),
            "end_date": "",
            "prescriber": "OTP clinic",
            "note": "80 mg daily",
        },
        {
            "end before start": replace(end_date=lambda w: day(w, -11)),
            "start 60 years ago": replace(start_date=lambda w: day(w, -365 * 60)),
            "start two years ahead": replace(start_date=lambda w: day(w, 730)),
            "an analyte id that does not exist": replace(analytes=[int(TOO_BIG_INT)]),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as billing": replace(**{AS: "billing"}),
            "as compliance": replace(**{AS: "compliance"}),
            "as intake (no screening.order)": replace(**{AS: "intake"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "participant_screening:medication_end": Endpoint(
        "participant_screening:medication_end",
        "counsellor",
        medication_kwargs,
        {"end_date": DATE, "version": INT},
        ("end_date", "version"),
        lambda w: {
            "end_date": day(w, 0),
            "version": ExpectedMedication.objects.get(pk=w.medication.pk).version,
        },
        {
            "end before start": replace(end_date=lambda w: day(w, -31)),
            "end two years ahead": replace(end_date=lambda w: day(w, 730)),
            "a stale version": replace(version=lambda w: w.medication.version + 2),
            "another participant's medication": replace(
                **{KW: lambda w: {"pk": w.referred.pk, "med_pk": w.medication.pk}}
            ),
            "as billing": replace(**{AS: "billing"}),
            "as compliance": replace(**{AS: "compliance"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "screening:policy": Endpoint(
        "screening:policy",
        "director",
        lambda w: {},
        POLICY_KINDS,
        ("random_rate", "draw_days_per_week", "random_panel", "handling", "price_per_test"),
        policy_valid,
        {
            "a rate above the program days": replace(random_rate="5", draw_days_per_week="4"),
            "8 program days a week": replace(draw_days_per_week="8"),
            "weekday 7": replace(scheduled_weekday="7"),
            "every 0 days": replace(scheduled_every_days="0"),
            "a minimum of 8 a week": replace(minimum_per_week="8"),
            "a retired panel": replace(random_panel=lambda w: w.retired_panel.pk),
            "as lab (reads, cannot change)": replace(**{AS: "lab"}),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as admin (no screening.view)": replace(**{AS: "admin"}),
        },
    ),
    "screening:panels": Endpoint(
        "screening:panels",
        "director",
        lambda w: {},
        PANEL_KINDS,
        PANEL_REQUIRED,
        panel_valid,
        {
            "a panel's name taken": replace(name="BREATH alcohol"),
            "a billing code with a space": replace(cpt_code="80 305"),
            "as the counsellor (reads only)": replace(**{AS: "counsellor"}),
            "as lab (reads only)": replace(**{AS: "lab"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "screening:panel[details]": Endpoint(
        "screening:panel",
        "director",
        panel_kwargs("Breath alcohol"),
        {"action": CHOICE, **PANEL_KINDS},
        ("action", *PANEL_REQUIRED),
        lambda w: {"action": "details", **panel_valid(w), "name": "Breath alcohol (Alco 2)"},
        {"another panel's name": replace(name="12-panel urine cup"), **PANEL_AS_OTHERS},
    ),
    "screening:panel[line]": Endpoint(
        "screening:panel",
        "director",
        panel_kwargs("12-panel urine cup"),
        {"action": CHOICE, "line": FK, **CUTOFF_KINDS},
        ("action", "line", "cutoff", "unit"),
        lambda w: {
            "action": "line",
            "line": panel_line("12-panel urine cup", "THC"),
            "cutoff": "20",
            "unit": "ng/mL",
            "confirm_cutoff": "15",
        },
        {
            **cutoff_cases("cutoff"),
            **cutoff_cases("confirm_cutoff"),
            "another panel's line": replace(line=lambda w: panel_line("Breath alcohol", "ETOH")),
            **PANEL_AS_OTHERS,
        },
    ),
    "screening:panel[add]": Endpoint(
        "screening:panel",
        "director",
        panel_kwargs("Breath alcohol"),
        {"action": CHOICE, "analyte": FK, **CUTOFF_KINDS},
        ("action", "analyte", "cutoff", "unit"),
        lambda w: {
            "action": "add",
            "analyte": Analyte.objects.get(code="ETG").pk,
            "cutoff": "500",
            "unit": "ng/mL",
            "confirm_cutoff": "",
        },
        {
            **cutoff_cases("cutoff"),
            **cutoff_cases("confirm_cutoff"),
            "an analyte on the panel already": replace(
                analyte=lambda w: Analyte.objects.get(code="ETOH").pk
            ),
            "an analyte that does not exist": replace(analyte="424242"),
            **PANEL_AS_OTHERS,
        },
    ),
    "screening:panel[remove]": Endpoint(
        "screening:panel",
        "director",
        panel_kwargs("12-panel urine cup"),
        {"action": CHOICE, "line": FK},
        ("action", "line"),
        lambda w: {"action": "remove", "line": panel_line("12-panel urine cup", "AMP")},
        {
            "a line with results": replace(line=lambda w: panel_line("12-panel urine cup", "THC")),
            "another panel's line": replace(line=lambda w: panel_line("Breath alcohol", "ETOH")),
            **PANEL_AS_OTHERS,
        },
    ),
    "screening:panel[retire]": Endpoint(
        "screening:panel",
        "director",
        panel_kwargs("Breath alcohol"),
        {"action": CHOICE},
        ("action",),
        lambda w: {"action": "retire"},
        {
            "the policy's panel": replace(**{KW: panel_kwargs("12-panel urine cup")}),
            "a retired panel": replace(**{KW: lambda w: {"pk": w.retired_panel.pk}}),
            **PANEL_AS_OTHERS,
        },
    ),
    "screening:panel[unretire]": Endpoint(
        "screening:panel",
        "director",
        lambda w: {"pk": w.retired_panel.pk},
        {"action": CHOICE},
        ("action",),
        lambda w: {"action": "unretire"},
        {"a panel in use": replace(**{KW: panel_kwargs("Breath alcohol")}), **PANEL_AS_OTHERS},
    ),
    "screening:analytes": Endpoint(
        "screening:analytes",
        "director",
        lambda w: {},
        {"code": TEXT, "name": TEXT, "substance": CHOICE, "loinc": TEXT},
        ("code", "name", "substance"),
        lambda w: {"code": "KRA", "name": "Kratom", "substance": "other", "loinc": ""},
        {
            "a code taken": replace(code="THC"),
            "a code taken, in lower case": replace(code="thc"),
            "a code with a space": replace(code="KR A"),
            "a code with a dash": replace(code="KR-A"),
            "a code of 21": replace(code="K" * 21),
            "a LOINC code that is not one": replace(loinc="abc"),
            "as the counsellor (reads only)": replace(**{AS: "counsellor"}),
            "as lab (reads only)": replace(**{AS: "lab"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    # --- drug screening, the selection log: world.selection_past is a past day's draw not
    # yet revealed (verifying reveals it), world.selection_today today's ------------------
    "screening:selection_verify": Endpoint(
        "screening:selection_verify",
        "lab",
        lambda w: {},
        {"program": FK, "day": DATE},
        ("program", "day"),
        lambda w: {"program": w.program.pk, "day": w.selection_past.day.isoformat()},
        {
            "today's draw (the day is not over)": replace(day=lambda w: day(w, 0)),
            "tomorrow": replace(day=lambda w: day(w, 1)),
            "a day without a draw": replace(day=lambda w: day(w, -400)),
            "year 1": replace(day="0001-01-01"),
            "another program": replace(program=lambda w: w.other_program.pk),
            "a retired program": replace(program=lambda w: w.retired_program.pk),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    # --- program set-up -------------------------------------------------------------
    "programs:create[site]": Endpoint(
        "programs:create",
        "admin",
        lambda w: {"kind_name": "site"},
        SITE_KINDS,
        ("name",),
        lambda w: {"name": "Bayside", "address": "2 Harbor Rd", "phone": "207-555-0111"},
        {
            "a site's name taken": replace(name=lambda w: w.other_program.site.name),
            "as director": replace(**{AS: "director"}),
            "with a parent": replace(
                **{
                    URL: "programs:create_in",
                    KW: lambda w: {"kind_name": "site", "parent_pk": w.program.pk},
                }
            ),
        },
    ),
    "programs:create[program]": Endpoint(
        "programs:create",
        "admin",
        lambda w: {"kind_name": "program"},
        PROGRAM_KINDS,
        ("name", "site", "time_zone", "level_of_care", "population", "min_weekly_hours"),
        program_valid,
        {
            **PROGRAM_CASES,
            "a program's name taken": replace(name=lambda w: w.other_program.name),
            "a site that does not exist": replace(site="424242"),
            "as director": replace(**{AS: "director"}),
            "unknown kind": replace(**{KW: {"kind_name": "participant"}}),
            "a kind with a parent, without one": replace(**{KW: {"kind_name": "track"}}),
        },
    ),
    "programs:create_in[track]": Endpoint(
        "programs:create_in",
        "director",
        lambda w: {"kind_name": "track", "parent_pk": w.program.pk},
        TRACK_KINDS,
        ("name", "days", "start_time", "end_time", "modality"),
        track_valid,
        {
            **TRACK_CASES,
            "a track's name taken": replace(name="Morning"),
            "under another program": replace(
                **{KW: lambda w: {"kind_name": "track", "parent_pk": w.other_program.pk}}
            ),
            "under a program that does not exist": replace(
                **{KW: {"kind_name": "track", "parent_pk": int(TOO_BIG_INT)}}
            ),
            "as counsellor": replace(**{AS: "counsellor"}),
        },
    ),
    "programs:create_in[sessiontype]": Endpoint(
        "programs:create_in",
        "director",
        lambda w: {"kind_name": "sessiontype", "parent_pk": w.program.pk},
        SESSIONTYPE_KINDS,
        ("name", "category", "default_minutes"),
        lambda w: {"name": "Family night", "category": "family", "default_minutes": "90"},
        {
            **SESSIONTYPE_CASES,
            "a session type's name taken": replace(name="Process group"),
            "under another program": replace(
                **{KW: lambda w: {"kind_name": "sessiontype", "parent_pk": w.other_program.pk}}
            ),
        },
    ),
    "programs:create_in[topic]": Endpoint(
        "programs:create_in",
        "director",
        lambda w: {"kind_name": "topic", "parent_pk": w.program.pk},
        TOPIC_KINDS,
        ("title", "sequence"),
        lambda w: {"title": "Sleep and recovery", "description": "Sleep hygiene", "sequence": "4"},
        {
            **TOPIC_CASES,
            "a topic's title taken": replace(title="Understanding addiction"),
            "under another program": replace(
                **{KW: lambda w: {"kind_name": "topic", "parent_pk": w.other_program.pk}}
            ),
        },
    ),
    "programs:create_in[room]": Endpoint(
        "programs:create_in",
        "director",
        lambda w: {"kind_name": "room", "parent_pk": w.program.site_id},
        ROOM_KINDS,
        ("name", "capacity"),
        lambda w: {"name": "Quiet room", "capacity": "6"},
        {
            **ROOM_CASES,
            "a room's name taken": replace(name="Group Room"),
            "under another program's site": replace(
                **{KW: lambda w: {"kind_name": "room", "parent_pk": w.other_program.site_id}}
            ),
            "under a program instead of a site": replace(
                **{KW: lambda w: {"kind_name": "room", "parent_pk": w.other_program.pk}}
            ),
        },
    ),
    "programs:edit[site]": Endpoint(
        "programs:edit",
        "director",
        edit_of("site", site_of),
        SITE_KINDS,
        ("name",),
        lambda w: {"name": "Harbor main site", "address": "3 Dock St", "phone": ""},
        {
            "a site's name taken": replace(name=lambda w: w.other_program.site.name),
            "another program's site": replace(
                **{KW: lambda w: {"kind_name": "site", "pk": w.other_program.site_id}}
            ),
        },
    ),
    "programs:edit[program]": Endpoint(
        "programs:edit",
        "director",
        edit_of("program", lambda w: w.program),
        PROGRAM_KINDS,
        ("name", "site", "time_zone", "level_of_care", "population", "min_weekly_hours"),
        lambda w: program_valid(w, name="Harbor IOP renamed"),
        {
            **PROGRAM_CASES,
            "a program's name taken": replace(name=lambda w: w.other_program.name),
            "moved to another program's site": replace(site=lambda w: w.other_program.site_id),
            "another program": replace(
                **{KW: lambda w: {"kind_name": "program", "pk": w.other_program.pk}}
            ),
            "unknown kind": replace(**{KW: lambda w: {"kind_name": "user", "pk": w.program.pk}}),
            "as counsellor": replace(**{AS: "counsellor"}),
        },
    ),
    "programs:edit[track]": Endpoint(
        "programs:edit",
        "director",
        edit_of("track", lambda w: w.program.tracks.get(name="Morning")),
        TRACK_KINDS,
        ("name", "days", "start_time", "end_time", "modality"),
        lambda w: {**track_valid(w), "name": "Morning (new time)"},
        {
            **TRACK_CASES,
            "a track's name taken": replace(name="Evening"),
            "another program's track": replace(
                **{KW: lambda w: {"kind_name": "track", "pk": other_track(w)}}
            ),
            "track that does not exist": replace(
                **{KW: {"kind_name": "track", "pk": int(TOO_BIG_INT)}}
            ),
        },
    ),
    "programs:edit[room]": Endpoint(
        "programs:edit",
        "director",
        edit_of("room", lambda w: w.program.site.rooms.get(name="Group Room")),
        ROOM_KINDS,
        ("name", "capacity"),
        lambda w: {"name": "Group Room", "capacity": "14", "retired": ""},
        {
            **ROOM_CASES,
            "a room's name taken": replace(name="Room B"),
            "another program's room": replace(
                **{
                    KW: lambda w: {
                        "kind_name": "room",
                        "pk": w.other_program.site.rooms.first().pk,
                    }
                }
            ),
        },
    ),
    "programs:edit[sessiontype]": Endpoint(
        "programs:edit",
        "director",
        edit_of("sessiontype", lambda w: w.program.session_types.get(name="Process group")),
        SESSIONTYPE_KINDS,
        ("name", "category", "default_minutes"),
        lambda w: {"name": "Process group", "category": "group_therapy", "default_minutes": "75"},
        {
            **SESSIONTYPE_CASES,
            "a session type's name taken": replace(name="Individual"),
            "another program's session type": replace(
                **{
                    KW: lambda w: {
                        "kind_name": "sessiontype",
                        "pk": w.other_program.session_types.first().pk,
                    }
                }
            ),
        },
    ),
    "programs:edit[topic]": Endpoint(
        "programs:edit",
        "director",
        edit_of("topic", lambda w: w.program.topics.get(title="Understanding addiction")),
        TOPIC_KINDS,
        ("title", "sequence"),
        lambda w: {"title": "Understanding addiction", "description": "Intro", "sequence": "3"},
        {
            **TOPIC_CASES,
            "a topic's title taken": replace(title="Coping skills"),
            "another program's topic": replace(
                **{
                    KW: lambda w: {
                        "kind_name": "topic",
                        "pk": w.other_program.topics.first().pk,
                    }
                }
            ),
        },
    ),
    # --- accounts -------------------------------------------------------------------
    "accounts:staff_new": Endpoint(
        "accounts:staff_new",
        "admin",
        lambda w: {},
        STAFF_KINDS,
        ("username", "first_name", "last_name", "password"),
        staff_valid,
        {
            "a username taken": replace(username="counsellor"),
            "a username with spaces": replace(username="new staff!"),
            "a role that does not exist": replace(roles=["superuser"]),
            "a retired program": replace(programs=lambda w: [w.retired_program.pk]),
            "a password too short": replace(password="short-1"),
            "a password all digits": replace(password="1234567890123456"),
            "a password too common": replace(password="password1234"),
            "a password like the username": replace(
                username="lanternplum", password="lanternplum1"
            ),
            "as director": replace(**{AS: "director"}),
        },
    ),
    "accounts:staff_edit": Endpoint(
        "accounts:staff_edit",
        "admin",
        lambda w: {"pk": w.counsellor.pk},
        STAFF_KINDS,
        ("username", "first_name", "last_name"),
        staff_edit_valid,
        {
            "a username taken": replace(username="intake"),
            "a role that does not exist": replace(roles=["counsellor", "root"]),
            "a retired program": replace(programs=lambda w: [w.retired_program.pk]),
            "a password too short": replace(password="short-1"),
            "a password like the new username": replace(
                username="lanternplum", password="lanternplum1"
            ),
            "user that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "admin deactivates themself": lambda w, v: {
                k: x for k, x in admin_self(w).items() if k != "is_active"
            },
            "admin drops their own admin role": lambda w, v: admin_self(w, roles=["director"]),
            "as director": replace(**{AS: "director"}),
        },
    ),
    "accounts:password_change": Endpoint(
        "accounts:password_change",
        "counsellor",
        lambda w: {},
        {
            "old_password": PASSWORD_KIND,
            "new_password1": PASSWORD_KIND,
            "new_password2": PASSWORD_KIND,
        },
        ("old_password", "new_password1", "new_password2"),
        lambda w: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        {
            "wrong old password": replace(old_password="not-the-password"),
            "new passwords differ": replace(new_password2=NEW_PASSWORD + "x"),
            "new password too short": replace(new_password1="short-1", new_password2="short-1"),
            "new password all digits": replace(
                new_password1="1234567890123456", new_password2="1234567890123456"
            ),
            "old password 100,000 characters": replace(old_password=HUGE),
        },
        form_error_200=True,
    ),
    "accounts:login": Endpoint(
        "accounts:login",
        None,
        lambda w: {},
        {"username": TEXT, "password": PASSWORD_KIND},
        ("username", "password"),
        lambda w: {"username": "counsellor", "password": PASSWORD},
        {
            "wrong password": replace(password="not-the-password"),
            "unknown user": replace(username="nobody"),
            "inactive user": replace(username="inactive"),
            "username in capitals": replace(username="COUNSELLOR"),
            "password 100,000 characters": replace(password=HUGE),
            # H1: no more than 128 characters may be set, but signing in with a longer
            # one is just a wrong password.
            "password 129 characters": replace(password="p" * 129),
        },
        form_error_200=True,
    ),
    # --- H1: sign-in security. A signed-in user's own two-factor pages (intake has an
    # authenticator, `hostile_world`), the security policy, an administrator's reset
    # (world.supervisor has a device) and unlock (world.lab is locked) ----------------
    "accounts:mfa_enrol": Endpoint(
        "accounts:mfa_enrol",
        "counsellor",
        lambda w: {},
        {"code": TEXT},
        ("code",),
        lambda w: {"code": h1_enrol_code(w.counsellor)},
        {
            "a wrong code": replace(code="000000"),
            "letters": replace(code="abcdef"),
            "seven digits": replace(code="1234567"),
            "a recovery-code shape": replace(code="abcde-fghjk"),
            "already on (intake)": replace(**{AS: "intake"}),
        },
    ),
    "accounts:mfa_recovery": Endpoint(
        "accounts:mfa_recovery",
        "intake",
        lambda w: {},
        {"code": TEXT},
        ("code",),
        lambda w: {"code": totp_code_for(w.intake)},
        {
            "a wrong code": replace(code="000000"),
            "a code already used": replace(code=lambda w: h1_used_code(w)),
            "no device (counsellor)": replace(**{AS: "counsellor"}),
        },
    ),
    "accounts:mfa_disable": Endpoint(
        "accounts:mfa_disable",
        "intake",
        lambda w: {},
        {"code": TEXT},
        ("code",),
        lambda w: {"code": totp_code_for(w.intake)},
        {
            "a wrong code": replace(code="999999"),
            "a code already used": replace(code=lambda w: h1_used_code(w)),
            "no device (counsellor)": replace(**{AS: "counsellor"}),
            # compliance must use MFA (default policy): refused even with a right code.
            "a required role": replace(
                code=lambda w: totp_code_for(w.compliance), **{AS: "compliance"}
            ),
        },
    ),
    "accounts:security_policy": Endpoint(
        "accounts:security_policy",
        "admin",
        lambda w: {},
        {"mfa_required_roles": MULTI, "version": TEXT},
        ("version",),
        # No policy saved yet in the world: the page's version is "default".
        lambda w: {"mfa_required_roles": ["admin", "counsellor"], "version": "default"},
        {
            "an unknown role": replace(mfa_required_roles=["admin", "root"]),
            "a stale version": replace(version="2026-01-01T00:00:00+00:00"),
            "as director": replace(**{AS: "director"}),
        },
    ),
    "accounts:staff_mfa_reset": Endpoint(
        "accounts:staff_mfa_reset",
        "admin",
        lambda w: {"pk": w.supervisor.pk},
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Lost phone; identity checked in person"},
        {
            "no device (lab)": replace(**{KW: lambda w: {"pk": w.lab.pk}}),
            "one's own": replace(**{KW: lambda w: {"pk": w.admin.pk}}),
            "no such account": replace(**{KW: {"pk": 987654}}),
            "as director": replace(**{AS: "director"}),
            "reason 501 characters": replace(reason="r" * 501),
        },
    ),
    "accounts:staff_unlock": Endpoint(
        "accounts:staff_unlock",
        "admin",
        lambda w: {"pk": w.lab.pk},
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Called from the lab phone; typed the old password"},
        {
            "not locked (counsellor)": replace(**{KW: lambda w: {"pk": w.counsellor.pk}}),
            "no such account": replace(**{KW: {"pk": 987654}}),
            "as director": replace(**{AS: "director"}),
        },
    ),
    # --- H5: amendment requests (HIPAA §164.526) of world.active (`add_amendment`):
    # world.amendment waits for a decision, world.denied_amendment was denied ---------
    "amendments:new": Endpoint(
        "amendments:new",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        H5_REQUEST_KINDS,
        ("received_on", "requested_by", "target", "requested_change"),
        h5_request_valid,
        {
            "a draft note": replace(target=lambda w: f"notes.note:{w.draft_note.pk}"),
            "a note that does not exist": replace(target=f"notes.note:{TOO_BIG_INT}"),
            "a record of another kind": replace(target="core.auditevent:1"),
            "another participant's note": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "received in the future": replace(received_on=lambda w: day(w, 30)),
            "another record without a description": replace(target="other", other_label=" "),
            "as billing": replace(**{AS: "billing"}),
            "as lab": replace(**{AS: "lab"}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "a participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
        },
    ),
    "amendments:accept": Endpoint(
        "amendments:accept",
        "supervisor",
        h5_kwargs("amendment"),
        {"amendment_text": TEXT},
        ("amendment_text",),
        lambda w: {"amendment_text": "The craving was at home, not at work."},
        {
            **H5_ELSEWHERE,
            "a denied request": replace(**{KW: h5_kwargs("denied_amendment")}),
            "as the counsellor (logs, does not decide)": replace(**{AS: "counsellor"}),
        },
    ),
    "amendments:deny": Endpoint(
        "amendments:deny",
        "compliance",
        h5_kwargs("amendment"),
        {"ground": CHOICE, "explanation": TEXT},
        ("ground", "explanation"),
        lambda w: {"ground": "accurate", "explanation": "The note records what was said."},
        {
            **H5_ELSEWHERE,
            "a denied request": replace(**{KW: h5_kwargs("denied_amendment")}),
            "as the counsellor (logs, does not decide)": replace(**{AS: "counsellor"}),
        },
    ),
    "amendments:disagreement": Endpoint(
        "amendments:disagreement",
        "counsellor",
        h5_kwargs("denied_amendment"),
        {"text": TEXT},
        ("text",),
        lambda w: {"text": "I only use cannabis; the goal is wrong."},
        {
            **H5_ELSEWHERE,
            "a request not denied": replace(**{KW: h5_kwargs("amendment")}),
            "as lab": replace(**{AS: "lab"}),
        },
    ),
    "amendments:void": Endpoint(
        "amendments:void",
        "director",
        h5_kwargs("amendment"),
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Logged for the wrong participant."},
        {**H5_ELSEWHERE, "as the counsellor": replace(**{AS: "counsellor"})},
    ),
}


# --- B: family involvement: a family session's invitations and family attendance, a
# withdrawn invitation, a family portal invitation, education articles. The records are
# made by `b_family_records` (hostile_world): world.active's family appointment in two days
# with Jordan (family_contact) invited (add_family_portal), Riley (b_riley) with a consent
# in force and not invited, Casey (b_casey) with no consent, Drew (b_drew) whose consent
# was revoked; a family workshop today with Jordan invited (b_today), one yesterday with
# Jordan marked present (b_attended), a cancelled one (b_cancelled); the articles of
# add_education -------------------------------------------------------------------------


def b_session(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.records[name].pk}


def b_invitation(session: str, invitation: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.records[session].pk, "invitation_pk": w.records[invitation].pk}


def b_contact(name: str, participant: str = "active") -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.participants[participant].pk, "contact_pk": w.records[name].pk}


def b_article(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.records[name].pk}


def b_mark(w: World, field: str) -> str:
    return f"{field}_{w.family_contact.pk}"


B_ARTICLE_KINDS = {
    "title": TEXT,
    "summary": TEXT,
    "body": TEXT,
    "section": CHOICE,
    "audience": CHOICE,
    "language": CHOICE,
    "position": INT,
}
B_ARTICLE_REQUIRED = ("title", "body", "section", "audience", "language", "position")


def b_article_valid(w: World) -> Payload:
    return {
        "title": "When someone you love is in treatment",
        "summary": "What to expect in the first weeks.",
        "body": "Treatment takes time.\n\nFamilies help most by listening.",
        "section": "education",
        "audience": "family",
        "language": "es",
        "position": "5",
    }


B_ARTICLE_CASES: dict[str, Case] = {
    "position over 1000": replace(position="1001"),
    "position negative": replace(position="-3"),
    "a title of spaces": replace(title="    "),
    "a body of spaces": replace(body="   \n  "),
    "a body over 20,000": replace(body="b" * 20001),
    "a title over 160": replace(title="t" * 161),
    "a summary over 300": replace(summary="s" * 301),
    "as the counsellor": replace(**{AS: "counsellor"}),
    "as the admin": replace(**{AS: "admin"}),
}

FAMILY_ENDPOINTS: dict[str, Endpoint] = {
    "family:session[invite]": Endpoint(
        "family:session",
        "counsellor",
        b_session("family_session"),
        {"action": CHOICE, "contacts": M2M},
        ("action", "contacts"),
        lambda w: {"action": "invite", "contacts": [w.b_riley.pk]},
        {
            "a family member without a consent": replace(contacts=lambda w: [w.b_casey.pk]),
            "a family member whose consent was revoked": replace(contacts=lambda w: [w.b_drew.pk]),
            "one allowed, one without consent": replace(
                contacts=lambda w: [w.b_riley.pk, w.b_casey.pk]
            ),
            "someone already invited": replace(contacts=lambda w: [w.family_contact.pk]),
            "another program's contact": replace(contacts=lambda w: [w.b_foreign_contact.pk]),
            "a removed contact": replace(contacts=lambda w: [w.b_removed_contact.pk]),
            "a session that is over": replace(**{KW: b_session("b_attended")}),
            "a cancelled session": replace(**{KW: b_session("b_cancelled")}),
            "a group session": replace(**{KW: b_session("session")}),
            "a session that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "another program's session": replace(**{KW: b_session("b_foreign_session")}),
            "an unknown action": replace(action="delete"),
            "as billing": replace(**{AS: "billing"}),
            "as intake": replace(**{AS: "intake"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "family:session[attendance]": Endpoint(
        "family:session",
        "counsellor",
        b_session("b_today"),
        {"action": CHOICE},
        ("action",),
        lambda w: {
            "action": "attendance",
            b_mark(w, "status"): "present",
            b_mark(w, "note"): "Came with the participant's sister.",
        },
        {
            "a mark that does not exist": lambda w, v: {**v, b_mark(w, "status"): "late"},
            "a mark with NUL": lambda w, v: {**v, b_mark(w, "status"): "present\x00"},
            "a mark, several values": lambda w, v: {**v, b_mark(w, "status"): ["present", "x"]},
            "a note with NUL": lambda w, v: {**v, b_mark(w, "note"): "ok\x00"},
            "a note over 300": lambda w, v: {**v, b_mark(w, "note"): "n" * 301},
            "a note of 100,000": lambda w, v: {**v, b_mark(w, "note"): HUGE},
            "a session in the future": replace(**{KW: b_session("family_session")}),
            "a cancelled session": replace(**{KW: b_session("b_cancelled")}),
            "a group session": replace(**{KW: b_session("session")}),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "family:cancel_invitation": Endpoint(
        "family:cancel_invitation",
        "counsellor",
        b_invitation("family_session", "family_invitation"),
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "The participant asked us not to invite them this week."},
        {
            "an invitation already withdrawn": replace(
                **{KW: b_invitation("b_today", "b_withdrawn")}
            ),
            "an invitation with attendance recorded": replace(
                **{KW: b_invitation("b_attended", "b_attended_invitation")}
            ),
            "another session's invitation": replace(
                **{KW: b_invitation("family_session", "b_today_invitation")}
            ),
            "an invitation that does not exist": replace(
                **{KW: lambda w: {"pk": w.family_session.pk, "invitation_pk": int(TOO_BIG_INT)}}
            ),
            "reason over 300": replace(reason="r" * 301),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "participant_family:portal_invite": Endpoint(
        "participant_family:portal_invite",
        "counsellor",
        b_contact("b_riley"),
        {"channel": CHOICE, "sent_to": TEXT, "language": CHOICE},
        ("channel", "language"),
        lambda w: {"channel": "printed", "sent_to": "", "language": "es"},
        {
            "a family member without a consent": replace(**{KW: b_contact("b_casey")}),
            "a family member whose consent was revoked": replace(**{KW: b_contact("b_drew")}),
            "a family member with an account": replace(**{KW: b_contact("family_contact")}),
            "another participant's contact": replace(
                **{KW: b_contact("b_riley", participant="referred")}
            ),
            "another program's contact": replace(
                **{KW: b_contact("b_foreign_contact", participant="foreign")}
            ),
            "a removed contact": replace(**{KW: b_contact("b_removed_contact")}),
            "email that is not an email": replace(channel="email", sent_to="not-an-email"),
            "a text without a number": replace(channel="sms", sent_to="call me"),
            "as billing": replace(**{AS: "billing"}),
            "as compliance": replace(**{AS: "compliance"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "education:new": Endpoint(
        "education:new",
        "director",
        lambda w: {},
        {**B_ARTICLE_KINDS, "program": FK},
        (*B_ARTICLE_REQUIRED, "program"),
        lambda w: {**b_article_valid(w), "program": w.program.pk},
        {
            **B_ARTICLE_CASES,
            "another program": replace(program=lambda w: w.other_program.pk),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "education:edit": Endpoint(
        "education:edit",
        "director",
        b_article("article"),
        {**B_ARTICLE_KINDS, "version": INT},
        B_ARTICLE_REQUIRED,
        lambda w: {**b_article_valid(w), "version": w.article.version},
        {
            **B_ARTICLE_CASES,
            "a stale version": replace(version=lambda w: w.article.version - 1),
            "no version": lambda w, v: {k: x for k, x in v.items() if k != "version"},
            "an article that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "another program's article": replace(**{KW: b_article("b_foreign_article")}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "education:state": Endpoint(
        "education:state",
        "director",
        b_article("article"),
        {"action": CHOICE},
        ("action",),
        lambda w: {"action": "unpublish"},
        {
            "publish what is published": replace(action="publish"),
            "restore what is not retired": replace(action="restore"),
            "publish a retired article": replace(
                action="publish", **{KW: b_article("retired_article")}
            ),
            "unpublish a draft": replace(**{KW: b_article("draft_article")}),
            "another program's article": replace(**{KW: b_article("b_foreign_article")}),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    # The family member's language, in the family portal (the portal's own form).
    "family_portal:settings": Endpoint(
        "family_portal:settings",
        "portal_family",
        lambda w: {},
        {"language": CHOICE},
        ("language",),
        lambda w: {"language": "es"},
        {
            "French": replace(language="fr"),
            "as a staff member": replace(**{AS: "counsellor"}),
            "as the participant": replace(**{AS: "portal_participant"}),
            "with no consent in force": replace(**{AS: "b_lapsed_family"}),
        },
    ),
}
ENDPOINTS.update(FAMILY_ENDPOINTS)


def b_family_records(world: World) -> None:
    """The family records the B endpoints need (see the comment above FAMILY_ENDPOINTS)."""
    from openiop.family import services as family
    from openiop.family.models import EducationArticle
    from openiop.privacy import services as privacy
    from openiop.testing import (
        add_education,
        add_family_portal,
        family_consent_input,
        make_family_session,
    )

    add_family_portal(world)
    add_education(world)
    counsellor, today = world.counsellor, world.program.today()

    def contact(name: str, participant: Participant, **extra: Any) -> Contact:
        return Contact.objects.create(
            participant=participant, name=name, relationship="sibling", **extra
        )

    riley = world.records["b_riley"] = contact("Riley Active", world.active)
    privacy.record_consent(world.active, family_consent_input(riley), actor=counsellor)
    world.records["b_casey"] = contact("Casey Active", world.active)
    drew = world.records["b_drew"] = contact("Drew Active", world.active)
    privacy.revoke_consent(
        privacy.record_consent(world.active, family_consent_input(drew), actor=counsellor),
        actor=counsellor,
        revoked_on=today,
        note="Revoked in writing at group",
    )
    world.records["b_removed_contact"] = contact("Gone Active", world.active, voided=True)
    world.records["b_foreign_contact"] = contact("Far Foreign", world.foreign)
    jordan = world.family_contact
    # A workshop today (Jordan invited, Riley's withdrawn), one yesterday (Jordan present),
    # a cancelled one tomorrow evening.
    today_session = world.records["b_today"] = make_family_session(
        world, day=today, kind="family_workshop", start=dt.time(0, 5)
    )
    world.records["b_today_invitation"], withdrawn = family.invite_to_session(
        today_session, [jordan, riley], actor=counsellor
    )
    world.records["b_withdrawn"] = family.cancel_invitation(
        withdrawn, actor=counsellor, reason="Could not come"
    )
    yesterday = world.records["b_attended"] = make_family_session(
        world, day=today - dt.timedelta(days=1), kind="family_workshop", start=dt.time(19)
    )
    # Invited the day before (a session that is over takes no new invitations).
    (world.records["b_attended_invitation"],) = family.invite_to_session(
        yesterday, [jordan], actor=counsellor, today=yesterday.date, notify=False
    )
    family.record_family_attendance(
        yesterday, {jordan.pk: family.Entry("present")}, actor=counsellor
    )
    cancelled = world.records["b_cancelled"] = make_family_session(
        world, day=today + dt.timedelta(days=1), kind="family_workshop", start=dt.time(19)
    )
    family.invite_to_session(cancelled, [jordan], actor=counsellor)
    from openiop.scheduling import services as schedule

    schedule.cancel_session(cancelled, actor=counsellor, reason="Facilitator ill")
    world.records["b_foreign_session"] = Session.objects.create(
        program=world.other_program,
        kind="family_workshop",
        session_type=SessionType.objects.create(
            program=world.other_program, name="Family", category="family"
        ),
        title="Their workshop",
        date=today + dt.timedelta(days=3),
        starts_at=Session.objects.get(pk=world.family_session.pk).starts_at + dt.timedelta(days=1),
        ends_at=Session.objects.get(pk=world.family_session.pk).ends_at + dt.timedelta(days=1),
    )
    # Drew's family portal account: Drew's consent was revoked.
    from openiop.testing import add_portal, make_portal_user

    add_portal(world)
    world.records["b_lapsed_family"] = make_portal_user(
        world.active, kind="family", contact=drew, username="b-lapsed-family"
    )
    world.records["b_foreign_article"] = EducationArticle.objects.create(
        program=world.other_program, title="Theirs", body="Their text."
    )


# --- D: attendance letters. world.consent (add_privacy) names Acme Logistics, employer, for
# employment, enrolment and attendance; `d_letter_records` (hostile_world) makes
# world.letter_request (waiting, asked in the portal by "portal_participant"),
# d_declined (declined), d_other (world.referred's, waiting) and d_foreign (another
# program's participant's, waiting) ------------------------------------------------------
# The public verification page (`verify_letter`) is not an Endpoint here: a genuine code
# answers 200 in place (the code never goes into a redirect's address) and unknown codes
# are counted for the throttle; its hostile input is in letters/tests/test_verify.py.


def day_fn(offset: int) -> Callable[[World], str]:
    return lambda w: day(w, offset)


def d_letter(name: str, participant: str = "active") -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.participants[participant].pk, "request_pk": w.records[name].pk}


D_STAFF_LETTER_KINDS = {
    "consent": FK,
    "recipient_kind": CHOICE,
    "recipient_name": TEXT,
    "recipient_address": TEXT,
    "period_start": DATE,
    "period_end": DATE,
}
D_STAFF_LETTER_REQUIRED = ("recipient_kind", "recipient_name", "period_start", "period_end")


def d_staff_letter_valid(w: World) -> Payload:
    return {
        "consent": "",
        "recipient_kind": "employer",
        "recipient_name": "Acme Logistics",
        "recipient_address": "12 Dock Road, Portland",
        "period_start": day(w, -14),
        "period_end": day(w, 0),
    }


D_STAFF_LETTER_CASES: dict[str, Case] = {
    "a recipient the consent does not name": replace(recipient_name="Beta Foods"),
    "a court the consent does not name": replace(
        recipient_kind="legal", recipient_name="County Adult Probation"
    ),
    "someone else, not named in a consent": replace(
        recipient_kind="other", recipient_name="Harbor Housing"
    ),
    "a consent of another participant": replace(consent=lambda w: 999999),
    "the TPO consent as recipient": replace(consent=lambda w: w.tpo_consent.pk),
    "a period ending before it starts": replace(period_start=day_fn(-1), period_end=day_fn(-2)),
    "a period ending tomorrow": replace(period_end=day_fn(1)),
    "a period of five years": replace(period_start=day_fn(-5 * 365)),
    "a recipient over 200": replace(recipient_name="r" * 201),
    "as billing": replace(**{AS: "billing"}),
    "as lab": replace(**{AS: "lab"}),
    "as the outsider": replace(**{AS: "outsider"}),
}

LETTER_ENDPOINTS: dict[str, Endpoint] = {
    "participant_letters:new": Endpoint(
        "participant_letters:new",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        D_STAFF_LETTER_KINDS,
        D_STAFF_LETTER_REQUIRED,
        d_staff_letter_valid,
        {
            **D_STAFF_LETTER_CASES,
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "a participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
        },
    ),
    "participant_letters:produce": Endpoint(
        "participant_letters:produce",
        "counsellor",
        d_letter("letter_request"),
        D_STAFF_LETTER_KINDS,
        D_STAFF_LETTER_REQUIRED,
        d_staff_letter_valid,
        {
            **D_STAFF_LETTER_CASES,
            "a declined request": replace(**{KW: d_letter("d_declined")}),
            "another participant's request": replace(
                **{KW: lambda w: {"pk": w.active.pk, "request_pk": w.d_other.pk}}
            ),
            "another program's request": replace(**{KW: d_letter("d_foreign", "foreign")}),
            "a request that does not exist": replace(
                **{KW: lambda w: {"pk": w.active.pk, "request_pk": int(TOO_BIG_INT)}}
            ),
        },
    ),
    "participant_letters:decline": Endpoint(
        "participant_letters:decline",
        "counsellor",
        d_letter("letter_request"),
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "There is no consent for this employer; Pat will sign one first."},
        {
            "a declined request": replace(**{KW: d_letter("d_declined")}),
            "another participant's request": replace(
                **{KW: lambda w: {"pk": w.active.pk, "request_pk": w.d_other.pk}}
            ),
            "another program's request": replace(**{KW: d_letter("d_foreign", "foreign")}),
            "a reason over 500": replace(reason="r" * 501),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "portal_letters:new": Endpoint(
        "portal_letters:new",
        "portal_participant",
        lambda w: {},
        {
            "recipient_kind": CHOICE,
            "recipient_name": TEXT,
            "recipient_address": TEXT,
            "period_start": DATE,
            "period_end": DATE,
            "note": TEXT,
        },
        ("recipient_kind", "recipient_name", "period_start", "period_end"),
        lambda w: {
            "recipient_kind": "legal",
            "recipient_name": "Officer T. Grant, County Adult Probation",
            "recipient_address": "County Justice Center",
            "period_start": day(w, -30),
            "period_end": day(w, 0),
            "note": "",
        },
        {
            "a kind the form does not offer": replace(recipient_kind="provider"),
            "a period ending before it starts": replace(
                period_start=day_fn(-1), period_end=day_fn(-2)
            ),
            "a period ending next year": replace(period_end=day_fn(365)),
            "a period of five years": replace(period_start=day_fn(-5 * 365)),
            "a note over 500": replace(note="n" * 501),
            "as a staff member": replace(**{AS: "counsellor"}),
        },
    ),
    "portal_letters:detail[withdraw]": Endpoint(
        "portal_letters:detail",
        "portal_participant",
        lambda w: {"request_pk": w.letter_request.pk},
        {"action": CHOICE},
        ("action",),
        lambda w: {"action": "withdraw"},
        {
            "a declined request": replace(**{KW: lambda w: {"request_pk": w.d_declined.pk}}),
            "another participant's request": replace(
                **{KW: lambda w: {"request_pk": w.d_other.pk}}
            ),
            "another program's request": replace(**{KW: lambda w: {"request_pk": w.d_foreign.pk}}),
            "a request that does not exist": replace(**{KW: {"request_pk": int(TOO_BIG_INT)}}),
            "as a staff member": replace(**{AS: "counsellor"}),
        },
    ),
}
ENDPOINTS.update(LETTER_ENDPOINTS)


# --- C: notifications. The participant's message preferences in the portal
# ("portal_participant", world.active's account) -------------------------------------------
NOTIFY_ENDPOINTS: dict[str, Endpoint] = {
    "portal_notify:preferences": Endpoint(
        "portal_notify:preferences",
        "portal_participant",
        lambda w: {},
        {
            "sms_on": BOOL,
            "email_on": BOOL,
            "reminders_on": BOOL,
            "check_in_links_on": BOOL,
            "quiet_start": CHOICE,
            "quiet_end": CHOICE,
            "show_program_name": BOOL,
        },
        ("quiet_start", "quiet_end"),
        lambda w: {
            "sms_on": "on",
            "reminders_on": "on",
            "check_in_links_on": "on",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
        {
            "quiet hours of 23 hours": replace(quiet_start="08:00", quiet_end="07:00"),
            "a time off the half hour": replace(quiet_start="22:15"),
            "an hour that does not exist": replace(quiet_end="25:00"),
            "a time with seconds": replace(quiet_end="07:00:00"),
            "as a staff member": replace(**{AS: "counsellor"}),
            "as the family account": replace(**{AS: "portal_family"}),
        },
    ),
}
ENDPOINTS.update(NOTIFY_ENDPOINTS)


# --- A: the participant portal. Made by `a_portal_records` (hostile_world): world.active's
# portal account ("portal_participant"), a one-tap check-in link and a GAD-7 link of
# world.active (GAD-7 is due), Ari (a_invitee, active, no account) with an unused
# printed invitation (a_invitation; its link a_invitation_raw). -----------------------------
A_CHECK_IN_KINDS = {
    "mood": SCALE,
    "craving": SCALE,
    "used": CHOICE,
    "substances": TEXT,
    "stress": SCALE,
    "sleep_hours": DECIMAL,
    "note": TEXT,
}
A_CHECK_IN_REQUIRED = ("mood", "craving", "used", "stress", "sleep_hours")
A_GAD7_KINDS = {f"item_{i}": SCALE for i in range(1, 8)}


def a_check_in_valid(w: World) -> Payload:
    return {
        "mood": "6",
        "craving": "2",
        "used": "no",
        "substances": "",
        "stress": "3",
        "sleep_hours": "7.5",
        "note": "Good day.",
    }


A_CHECK_IN_CASES: dict[str, Case] = {
    "use reported without what": replace(used="yes", substances=""),
    "what was used without use": replace(used="no", substances="beer"),
    "mood 0": replace(mood="0"),
    "sleep with two decimals": replace(sleep_hours="7.25"),
}


def a_onetap(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"token": w.records[name]}


def a_portal_records(world: World) -> None:
    from openiop.portal import onetap
    from openiop.portal import services as portal
    from openiop.testing import add_portal

    add_portal(world)
    for name, options in (
        ("a_onetap_check_in", {"purpose": "check_in"}),
        ("a_onetap_gad7", {"purpose": "instrument", "instrument_code": "GAD-7"}),
    ):
        world.records[name] = onetap.issue(world.active, **options)[3:]  # after "/t/"
    world.records["a_onetap_used"] = onetap.issue(world.active, purpose="check_in")[3:]
    OneTapLink.objects.filter(pk=OneTapLink.objects.latest("pk").pk).update(
        used_at=dt.datetime.now(tz=dt.UTC)
    )
    invitee = make_participant(
        world.program, world.intake, last="Invitee", first="Ari", status=S.ACTIVE
    )
    world.participants["a_invitee"] = invitee
    # The first invitation is withdrawn when the second is made.
    for name in ("a_invitation_withdrawn", "a_invitation_raw"):
        world.records["a_invitation"], world.records[name] = portal.invite(
            invitee, kind="participant", channel="printed", actor=world.counsellor
        )


A_ENDPOINTS: dict[str, Endpoint] = {
    "participant_portal:invite": Endpoint(
        "participant_portal:invite",
        "counsellor",
        lambda w: {"pk": w.a_invitee.pk},
        {"channel": CHOICE, "sent_to": TEXT, "language": CHOICE},
        ("channel", "language"),
        lambda w: {"channel": "printed", "sent_to": "", "language": "es"},
        {
            "email without an address": replace(channel="email", sent_to=""),
            "email to something that is not an address": replace(
                channel="email", sent_to="ari at home"
            ),
            "a text to a number too short": replace(channel="sms", sent_to="555"),
            "a language the portal does not speak": replace(language="fr"),
            "someone who already has an account": replace(**{KW: lambda w: {"pk": w.active.pk}}),
            "someone not in care": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as billing": replace(**{AS: "billing"}),
            "as the participant": replace(**{AS: "portal_participant"}),
        },
    ),
    "participant_portal:revoke": Endpoint(
        "participant_portal:revoke",
        "counsellor",
        lambda w: {"pk": w.a_invitee.pk, "invitation_pk": w.a_invitation.pk},
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Sent to the wrong number"},
        {
            "another participant's invitation": replace(
                **{KW: lambda w: {"pk": w.active.pk, "invitation_pk": w.a_invitation.pk}}
            ),
            "an invitation that does not exist": replace(
                **{KW: lambda w: {"pk": w.a_invitee.pk, "invitation_pk": int(TOO_BIG_INT)}}
            ),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "participant_portal:end": Endpoint(
        "participant_portal:end",
        "counsellor",
        lambda w: {"pk": w.active.pk, "account_pk": w.portal_participant.portal_account.pk},
        {"reason": TEXT},
        ("reason",),
        lambda w: {"reason": "Lost their phone"},
        {
            "another participant's account": replace(
                **{
                    KW: lambda w: {
                        "pk": w.a_invitee.pk,
                        "account_pk": w.portal_participant.portal_account.pk,
                    }
                }
            ),
            "a reason over 300 characters": replace(reason="x" * 301),
            "as billing": replace(**{AS: "billing"}),
            "as the participant": replace(**{AS: "portal_participant"}),
        },
    ),
    "portal:accept": Endpoint(
        "portal:accept",
        None,
        lambda w: {"token": w.a_invitation_raw},
        {
            "username": TEXT,
            "password": PASSWORD_KIND,
            "password_again": PASSWORD_KIND,
            "language": CHOICE,
        },
        ("username", "password", "password_again", "language"),
        lambda w: {
            "username": "ari.invitee",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "language": "en",
        },
        {
            "a username taken": replace(username="Counsellor"),
            "a username with spaces": replace(username="ari invitee"),
            "two different passwords": replace(password_again="plum-harbor-lantern-43"),
            "a common password": replace(password="password1234", password_again="password1234"),
            "a password of 129 characters": replace(password="p" * 129, password_again="p" * 129),
            "a made-up link": replace(**{KW: {"token": "x" * 43}}),
            "a withdrawn link": replace(
                **{KW: lambda w: {"token": w.records["a_invitation_withdrawn"]}}
            ),
        },
    ),
    "portal:check_in": Endpoint(
        "portal:check_in",
        "portal_participant",
        lambda w: {},
        A_CHECK_IN_KINDS,
        A_CHECK_IN_REQUIRED,
        a_check_in_valid,
        {**A_CHECK_IN_CASES, "as a staff member": replace(**{AS: "counsellor"})},
    ),
    "portal:questionnaire": Endpoint(
        "portal:questionnaire",
        "portal_participant",
        lambda w: {"code": "GAD-7"},
        A_GAD7_KINDS,
        tuple(A_GAD7_KINDS),
        lambda w: {name: "1" for name in A_GAD7_KINDS},
        {
            "an interview, not a self-report": replace(**{KW: {"code": "C-SSRS"}}),
            "a questionnaire not due": replace(**{KW: {"code": "PHQ-9"}}),
            "a questionnaire that does not exist": replace(**{KW: {"code": "NOPE"}}),
            "as a staff member": replace(**{AS: "counsellor"}),
        },
    ),
    "portal:settings": Endpoint(
        "portal:settings",
        "portal_participant",
        lambda w: {},
        {"language": CHOICE},
        ("language",),
        lambda w: {"language": "es"},
        {"French": replace(language="fr"), "as a staff member": replace(**{AS: "counsellor"})},
    ),
    "onetap[check_in]": Endpoint(
        "onetap",
        None,
        a_onetap("a_onetap_check_in"),
        A_CHECK_IN_KINDS,
        A_CHECK_IN_REQUIRED,
        a_check_in_valid,
        {
            **A_CHECK_IN_CASES,
            "a used link": replace(**{KW: a_onetap("a_onetap_used")}),
            "a made-up link": replace(**{KW: {"token": "y" * 43}}),
            "the questionnaire link with check-in answers": replace(
                **{KW: a_onetap("a_onetap_gad7")}
            ),
        },
    ),
    "onetap[instrument]": Endpoint(
        "onetap",
        None,
        a_onetap("a_onetap_gad7"),
        A_GAD7_KINDS,
        tuple(A_GAD7_KINDS),
        lambda w: {name: "1" for name in A_GAD7_KINDS},
        {
            "an answer out of range": replace(item_1="4"),
            "a used link": replace(**{KW: a_onetap("a_onetap_used")}),
            "a made-up link": replace(**{KW: {"token": "z" * 43}}),
        },
    ),
}
ENDPOINTS.update(A_ENDPOINTS)


# --- Issue 10: discharge. The discharge form of world.active (in care); the summary pages
# of world.discharged (`add_discharge`, made by the payload before any fingerprint; the
# addendum's payload signs the summary first) ---------------------------------------------


def discharge_valid(w: World) -> Payload:
    return {
        "reason": "completed",
        "discharge_date": day(w, 0),
        "last_contact_date": day(w, -1),
        "reason_detail": "",
        "next_level": "",
        "receiving_program": "",
        "receiving_contact": "",
        "sub1_d": "2",
        "freq1_d": "1",
        "employ_d": "1",
        "livarag_d": "3",
        "arrests_d": "0",
        "self_help_d": "2",
    }


def discharged_summary(w: World, *, signed: bool = False) -> Any:
    from openiop.discharge import services as discharge_services
    from openiop.testing import add_discharge

    add_discharge(w)
    summary = w.discharge_summary
    summary.refresh_from_db()
    if signed and not summary.is_signed:
        summary = discharge_services.sign_summary(
            summary, actor=w.counsellor, expected_version=summary.version
        )
    w.records["discharge_summary"] = summary
    return summary


def summary_valid(w: World) -> Payload:
    summary = discharged_summary(w)
    return {
        "version": summary.version,
        "presenting_problem": "Drinking daily.",
        "course": "Attended 30 sessions.",
        "progress": "Goal met.",
        "condition": "Sober 21 days.",
        "recommendations": "Weekly therapy.",
        "action": "save",
    }


DISCHARGE_ENDPOINTS: dict[str, Endpoint] = {
    "discharge:discharge": Endpoint(
        "discharge:discharge",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {
            "reason": CHOICE,
            "discharge_date": DATE,
            "last_contact_date": DATE,
            "reason_detail": TEXT,
            "next_level": CHOICE,
            "receiving_program": TEXT,
            "receiving_contact": TEXT,
            "sub1_d": CHOICE,
            "freq1_d": CHOICE,
            "employ_d": CHOICE,
            "livarag_d": CHOICE,
            "arrests_d": SCALE,  # 0 is a code (no arrests)
            "self_help_d": CHOICE,
        },
        ("reason", "discharge_date", "last_contact_date"),
        discharge_valid,
        {
            "discharge date in the future": replace(discharge_date=lambda w: day(w, 1)),
            "before the admission": replace(
                discharge_date=lambda w: day(w, -40), last_contact_date=lambda w: day(w, -40)
            ),
            "last contact after the discharge": replace(
                discharge_date=lambda w: day(w, -2), last_contact_date=lambda w: day(w, -1)
            ),
            "left against advice without what happened": replace(reason="against_advice"),
            "what happened only spaces": replace(reason="against_advice", reason_detail=" \t "),
            "a step up to a lower level": replace(
                reason="step_up", reason_detail="x", next_level="3:1", receiving_program="R"
            ),
            "a step down without a receiving program": replace(
                reason="step_down", reason_detail="x", next_level="3:1"
            ),
            "a step down to the same level in the other edition": replace(
                reason="step_down", reason_detail="x", next_level="4:2.1", receiving_program="R"
            ),
            "a participant not in care": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "a participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "as intake": replace(**{AS: "intake"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "discharge:summary": Endpoint(
        "discharge:summary",
        "counsellor",
        lambda w: {"pk": w.discharged.pk},
        {
            "version": INT,
            "presenting_problem": TEXT,
            "course": TEXT,
            "progress": TEXT,
            "condition": TEXT,
            "recommendations": TEXT,
            "action": CHOICE,
        },
        ("version",),
        summary_valid,
        {
            "another version than the current": lambda w, v: {**v, "version": v["version"] + 1},
            "a version too big": replace(version=TOO_BIG_INT),
            "a participant without a discharge": replace(**{KW: lambda w: {"pk": w.active.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as intake": replace(**{AS: "intake"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "discharge:sign": Endpoint(
        "discharge:sign",
        "counsellor",
        lambda w: {"pk": w.discharged.pk},
        {"version": INT, "attest": BOOL},
        ("version",),
        lambda w: {"version": discharged_summary(w).version, "attest": "on"},
        {
            "not attested": lambda w, v: {"version": v["version"]},
            "another version than the current": lambda w, v: {**v, "version": v["version"] + 1},
            "a participant without a discharge": replace(**{KW: lambda w: {"pk": w.active.pk}}),
            "as intake": replace(**{AS: "intake"}),
        },
    ),
    "discharge:addendum": Endpoint(
        "discharge:addendum",
        "counsellor",
        lambda w: {"pk": w.discharged.pk},
        {"text": TEXT},
        ("text",),
        lambda w: (discharged_summary(w, signed=True), {"text": "Called at 30 days."})[1],
        {
            "text over 8000": replace(text="t" * 8001),
            "a participant without a discharge": replace(**{KW: lambda w: {"pk": w.active.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as intake": replace(**{AS: "intake"}),
        },
    ),
}
ENDPOINTS.update(DISCHARGE_ENDPOINTS)


def d_letter_records(world: World) -> None:
    from openiop.letters import services as letters
    from openiop.testing import add_letter_request

    add_letter_request(world)
    today = world.program.today()

    def ask(participant: Participant) -> LetterRequest:
        return letters.request_letter(
            participant,
            actor=world.counsellor,
            recipient_kind="employer",
            recipient_name="Acme Logistics",
            period_start=today - dt.timedelta(days=7),
            period_end=today,
            via="staff",
        )

    world.records["d_declined"] = letters.decline(
        ask(world.active), actor=world.counsellor, reason="Asked twice by mistake."
    )
    world.records["d_other"] = ask(world.referred)
    world.records["d_foreign"] = ask(world.foreign)


# --- H1: helpers of the sign-in security endpoints -----------------------------------------


def h1_enrol_code(user: User) -> str:
    """A right code for the set-up page of `user` (the unconfirmed device it shows)."""
    import pyotp

    device = account_services.start_enrolment(user)
    return pyotp.TOTP(account_mfa.secret_of(device) or "").now()


def h1_used_code(w: World) -> str:
    """The code of the step intake's device last accepted (`hostile_world` uses it)."""
    import pyotp

    device = TotpDevice.objects.get(user=w.intake)
    return pyotp.TOTP(TOTP_SECRET).generate_otp(device.last_step)


# --- the world and the requests --------------------------------------------------------


@pytest.fixture
def hostile_world(world: World) -> World:
    """The shared world plus the records the cases need (all before any fingerprint)."""
    intake, counsellor = world.intake, world.counsellor
    today = world.program.today()
    world.participants["closed"] = make_participant(
        world.program, intake, last="Closed", status=S.NOT_ADMITTED
    )
    # Moved to Assessed on the chart before assessments were signed in OpenIOP.
    world.participants["assessed_unsigned"] = make_participant(
        world.program, intake, last="Unsigned", status=S.ASSESSED
    )
    # A referral closed through the intake page (not admitted: declined).
    declined = refer(world.program, intake, last="Declined", days_ago=4)
    intake_services.close_referral(
        Referral.objects.get(participant=declined),
        actor=intake,
        outcome="not_admitted",
        effective_date=today,
        reason_code="declined",
    )
    world.participants["declined"] = declined
    # Another program's draft assessment and open alert.
    outsider = world.outsider
    world.records["foreign_draft"] = assess(
        world.foreign, outsider, day=today - dt.timedelta(days=1), sign=False
    )
    world.records["foreign_alert"] = give(
        world.foreign, outsider, "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 2], day=today
    ).alerts.get()
    # An alert a clinician has already answered.
    answered = give(world.active, counsellor, "PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, 1], day=today)
    world.records["resolved_alert"] = instrument_services.respond_to_alert(
        answered.alerts.get(),
        actor=world.supervisor,
        actions=["assessed"],
        risk_after="low",
        note="Seen the same day; no current intent.",
    )
    # The program does not offer PACS.
    instrument_services.save_settings(
        world.program,
        actor=world.director,
        rows={"PACS": {"enabled": False, "routine": False, "interval_days": 14}},
    )
    Track.objects.create(
        program=world.program,
        name="Retired track",
        days=[4],
        start_time=dt.time(13),
        end_time=dt.time(15),
        retired=True,
    )
    SessionType.objects.create(program=world.program, name="Individual", category="individual")
    Topic.objects.create(program=world.program, title="Coping skills", sequence=2)
    Room.objects.create(site=world.program.site, name="Room B", capacity=4)
    retired = make_program("Retired IOP")
    retired.retired = True
    retired.save(update_fields=["retired"])
    world.retired_program = retired
    world.users["inactive"] = make_user("inactive", ["counsellor"], [world.program])
    add_schedule_records(world)
    # Treatment plans: world.evening has a signed v1 and no draft; a retired library entry.
    world.records["evening_plan"] = make_signed_plan(world.evening, world.counsellor)
    world.records["retired_template"] = InterventionTemplate.objects.create(
        modality="holistic", name="Retired practice", active=False, retired=True
    )
    # The group note of world.session (attendance taken; world.active present).
    world.records["group_note"] = group_notes.open_group_note(world.session, actor=counsellor)
    # Drug screening: orders of world.active (`add_screening_orders`), a retired panel.
    add_screening_orders(world)
    # An open review of world.active's THC positive and an expected medication
    # (`add_screening_review`); the program's screening policy exists.
    add_screening_review(world)
    screening_services.policy_for(world.program)
    # Random draws: a past program day not yet revealed, and today (`add_selection_days`).
    add_selection_days(world)
    world.records["retired_panel"] = Panel.objects.create(
        name="Retired cup", specimen_type="urine", method="cup", retired=True
    )
    User.objects.filter(pk=world.inactive.pk).update(is_active=False)
    # --- H1: intake, supervisor and compliance have an authenticator (intake has just
    # used this step's code); lab is locked after five failed sign-ins ---
    for user in (world.intake, world.supervisor, world.compliance):
        give_totp_device(user)
    TotpDevice.objects.filter(user=world.intake).update(last_step=account_mfa.current_step())
    with override_settings(OPENIOP_LOCKOUT_FAILURES=5):  # (_h1_generous_lockout raised it)
        for _ in range(5):
            account_lockout.record_failure("lab", None, account_lockout.PASSWORD)
    # --- lead: privacy: world.consent (employer, world.active), an emergency access of
    # the director waiting for compliance's review ---
    add_privacy(world)
    world.records["emergency_access"] = privacy_emergency.grant(
        world.active,
        user=world.director,
        reason_kind="coverage",
        reason="Covering the caseload of a colleague who is ill",
        minutes=30,
    )
    # --- H6: consents of world.active besides add_privacy's: one with a disclosure made
    # under it, one void ---
    h6_consents(world)
    # --- H5: amendment requests of world.active: one waiting, one denied ---
    from openiop.testing import add_amendment

    add_amendment(world)
    # --- B: family sessions, invitations, attendance, family contacts, articles ---
    b_family_records(world)
    # --- D: attendance letter requests (waiting, declined, another participant's) ---
    d_letter_records(world)
    # --- A: portal invitations, accounts and one-tap links ---
    a_portal_records(world)
    # --- Issue 10: world.active's aftercare plan; discharged participants with follow-ups
    # and an alumni event (`add_aftercare`, `add_discharged`) ---
    from openiop.testing import add_aftercare, add_discharged

    add_aftercare(world)
    add_discharged(world)
    # --- Issue 12, H5: API clients (Harbor's with a token, a retired one, another
    # program's) ---
    api_records(world)
    return world


def h6_consents(world: World) -> None:
    from openiop.privacy import gate
    from openiop.privacy import services as privacy

    used = privacy.record_consent(
        world.active,
        employer_consent_input(recipient_name="Harbor Staffing Agency"),
        actor=world.counsellor,
    )
    gate.disclose(
        gate.DisclosureRequest(
            participant=world.active,
            recipient_kind="employer",
            recipient_name="Harbor Staffing Agency",
            purpose="employment",
            information=("attendance",),
            channel="letter",
            description="Attendance letter",
        ),
        actor=world.counsellor,
    )
    world.records["used_consent"] = used
    void = privacy.record_consent(
        world.active,
        employer_consent_input(recipient_name="Typo Employer"),
        actor=world.counsellor,
    )
    world.records["void_consent"] = privacy.void_consent(
        void, actor=world.counsellor, reason="Typed the wrong employer"
    )
    for name, participant, voided in (
        ("h6_other_contact", world.referred, False),
        ("h6_foreign_contact", world.foreign, False),
        ("h6_removed_contact", world.active, True),
    ):
        world.records[name] = Contact.objects.create(
            participant=participant, name="Sam Other", relationship="friend", voided=voided
        )


def send(client, login, world: World, ep: Endpoint, payload: Payload):
    payload = dict(payload)
    persona = payload.pop(AS, ep.persona)
    kwargs = payload.pop(KW, None)
    kwargs = kwargs(world) if callable(kwargs) else kwargs
    as_json = payload.pop(JSON_BODY, False)
    url_name = payload.pop(URL, ep.url)
    client.logout()
    if persona is not None:
        # Staff personas are world.users; a portal account is a record (e.g. D's
        # "portal_participant", add_portal), never a staff persona.
        login(world.users[persona] if persona in world.users else world.records[persona])
    url = reverse(url_name, kwargs=kwargs if kwargs is not None else ep.kwargs(world))
    if as_json:
        return client.post(url, data=json.dumps(payload), content_type="application/json")
    return client.post(
        url,
        data=urlencode(payload, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


def refusal_problem(ep: Endpoint, response) -> str | None:
    """None when the response refuses the post as it should; otherwise what is wrong."""
    code = response.status_code
    if code == 400 and response.context and "form" in response.context:
        # The form is shown again: it must say what is wrong, even for an empty POST.
        form = response.context["form"]
        # The admission form holds the identity form (fields prefixed "id-"): its errors
        # are shown beside its fields.
        inner = getattr(form, "identity_form", None)
        if not form.is_bound or not (form.errors or (inner is not None and inner.errors)):
            return "400 without a form error"
        return None
    # 410: a link that worked once and no longer does (A: a used or expired invitation or
    # one-tap link).
    if code in (400, 403, 404, 409, 410):
        return None
    if code == 200 and ep.form_error_200:
        form = response.context["form"] if response.context else None
        if form is not None and form.errors:
            return None
        return "200 without a form error"
    where = f" to {response['Location']}" if code in (301, 302) else ""
    return f"status {code}{where}"


# --- H4 (issue 10): the TEDS admission items of world.active's episode (intake records
# them; the valid payload is a first save, version 0). Codes where 0 is an answer
# (arrests, prior treatment) are SCALE, so "0" is not taken for a wrong value -----------
TEDS_ITEM_KINDS: dict[str, str] = {
    **{
        name: SCALE
        for name in (
            "sex",
            "race",
            "ethnicity",
            "marital_status",
            "education",
            "employment",
            "living",
            "veteran",
            "pregnant",
            "arrests",
            "psychiatric_problem",
            "prior_treatment",
            "methuse",
            "self_help",
        )
    },
    **{f"{k}{n}": SCALE for n in (1, 2, 3) for k in ("sub", "route", "freq")},
    **{f"frstuse{n}": INT for n in (1, 2, 3)},
}


def teds_items_valid(w: World) -> Payload:
    from openiop.testing import TEDS_ITEMS

    return {"version": "0", **{k: "" if v is None else str(v) for k, v in TEDS_ITEMS.items()}}


ENDPOINTS.update(
    {
        "teds_items:edit": Endpoint(
            "teds_items:edit",
            "intake",
            lambda w: {"pk": w.active.pk},
            {"version": INT, **TEDS_ITEM_KINDS},
            ("version",),
            teds_items_valid,
            {
                "a stale version": replace(version="3"),
                "version huge": replace(version=TOO_BIG_INT),
                "pregnancy recorded for a male": replace(sex="1", pregnant="2"),
                "SUB2 the same as SUB1": replace(sub2="2"),
                "route given for SUB3 None": replace(route3="1"),
                "SUB2 without SUB1": replace(sub1="", route1="", freq1="", frstuse1=""),
                "age at first use above the age at admission": replace(frstuse1="99"),
                "age at first use 121": replace(frstuse2="121"),
                "someone not admitted": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
                "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
                "a participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
                "as billing": replace(**{AS: "billing"}),
                "as compliance": replace(**{AS: "compliance"}),
                "as the supervisor (no teds.record)": replace(**{AS: "supervisor"}),
                "as the outsider": replace(**{AS: "outsider"}),
            },
        ),
    }
)

# --- Issue 10: the aftercare plan of world.active (`add_aftercare`: a plan with one booked
# referral) and the alumni follow-ups and event (`add_discharged`: world.follow_up, the
# 30-day call of world.alumnus, 5 days overdue; world.done_follow_up, reached;
# world.alumni_event, yesterday). The payloads make the records before any fingerprint ---


def aftercare_plan_of(w: World) -> Any:
    from openiop.discharge.models import AftercarePlan
    from openiop.testing import add_aftercare

    add_aftercare(w)
    return AftercarePlan.objects.get(pk=w.aftercare_plan.pk)


def aftercare_referral_of(w: World) -> Any:
    from openiop.discharge.models import AftercareReferral

    aftercare_plan_of(w)
    return AftercareReferral.objects.get(pk=w.aftercare_referral.pk)


def aftercare_ref_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.active.pk, "referral_pk": aftercare_referral_of(w).pk}


REFERRAL_KINDS = {
    "version": INT,
    "kind": CHOICE,
    "provider": TEXT,
    "contact": TEXT,
    "day": DATE,
    "time": TIME,
    "responsible": CHOICE,
    "responsible_name": TEXT,
    "status": CHOICE,
    "notes": TEXT,
}


def referral_payload(w: World, version: int) -> Payload:
    return {
        "version": str(version),
        "kind": "mutual_help",
        "provider": "SMART Recovery, Tuesdays",
        "contact": "smartrecovery.org",
        "day": day(w, 6),
        "time": "18:30",
        "responsible": "receiving",
        "responsible_name": "Alex, the facilitator",
        "status": "booked",
        "notes": "",
    }


REFERRAL_CASES: dict[str, Case] = {
    "booked without a date": replace(status="booked", day="", time=""),
    "a time without a date": replace(day=""),
    "arranged by the provider, unnamed": replace(responsible="receiving", responsible_name=" "),
    "a stale version": replace(version="99"),
    "version huge": replace(version=TOO_BIG_INT),
    "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
    "as intake (no discharge.write)": replace(**{AS: "intake"}),
    "as billing": replace(**{AS: "billing"}),
}


def follow_up_of(w: World, name: str = "follow_up") -> Any:
    from openiop.alumni.models import FollowUp
    from openiop.testing import add_discharged

    add_discharged(w)
    return FollowUp.objects.get(pk=w.records[name].pk)


def alumni_event_of(w: World) -> Any:
    from openiop.alumni.models import AlumniEvent
    from openiop.testing import add_discharged

    add_discharged(w)
    return AlumniEvent.objects.get(pk=w.alumni_event.pk)


def cancel_event_valid(w: World) -> Payload:
    alumni_event_of(w)  # made before any fingerprint
    return {"reason": "The room flooded"}


def attempt_valid(w: World) -> Payload:
    return {
        "version": str(follow_up_of(w).version),
        "method": "phone",
        "reached": "yes",
        "note": "Called back at lunch",
        "use_since_discharge": "relapse",
        "days_used_past_30": "6",
        "occupation": "unemployed",
        "housing": "temporary",
        "readmitted": "yes",
        "readmitted_where": "Harbor residential",
        "quality_of_life": "4",
        "in_aftercare": "no",
        "notes": "Wants to come back to the alumni group.",
    }


ISSUE10_AFTERCARE_ALUMNI_ENDPOINTS: dict[str, Endpoint] = {
    "aftercare:edit": Endpoint(
        "aftercare:edit",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {"version": INT, "goals": TEXT, "warning_signs": TEXT, "crisis_plan": TEXT},
        ("version",),
        lambda w: {
            "version": str(aftercare_plan_of(w).version),
            "goals": "Keep the job; see my kids on Sundays",
            "warning_signs": "Skipping meetings",
            "crisis_plan": "Call 988, or Dana at (207) 555-0142.",
        },
        {
            "a stale version": replace(version="1"),
            "version 0 when a plan exists": replace(version="0"),
            "version huge": replace(version=TOO_BIG_INT),
            "crisis plan over 2000": replace(crisis_plan="c" * 2001),
            "someone not in care": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "a participant that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "as intake (no discharge.write)": replace(**{AS: "intake"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "aftercare:referral_new": Endpoint(
        "aftercare:referral_new",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        REFERRAL_KINDS,
        ("version", "kind", "provider", "responsible", "status"),
        lambda w: referral_payload(w, aftercare_plan_of(w).version),
        {
            **REFERRAL_CASES,
            "someone without a plan": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
        },
    ),
    "aftercare:referral_edit": Endpoint(
        "aftercare:referral_edit",
        "counsellor",
        aftercare_ref_kwargs,
        REFERRAL_KINDS,
        ("version", "kind", "provider", "responsible", "status"),
        lambda w: referral_payload(w, aftercare_referral_of(w).version),
        {
            **REFERRAL_CASES,
            "another program's participant": replace(
                **{KW: lambda w: {**aftercare_ref_kwargs(w), "pk": w.foreign.pk}}
            ),
            "another participant's plan": replace(
                **{KW: lambda w: {**aftercare_ref_kwargs(w), "pk": w.referred.pk}}
            ),
            "a referral that does not exist": replace(
                **{KW: lambda w: {"pk": w.active.pk, "referral_pk": int(TOO_BIG_INT)}}
            ),
        },
    ),
    "aftercare:referral_void": Endpoint(
        "aftercare:referral_void",
        "counsellor",
        aftercare_ref_kwargs,
        {"version": INT, "reason": TEXT},
        ("version", "reason"),
        lambda w: {"version": str(aftercare_referral_of(w).version), "reason": "Entered twice"},
        {
            "a stale version": replace(version="99"),
            "reason over 500": replace(reason="r" * 501),
            "another participant's plan": replace(
                **{KW: lambda w: {**aftercare_ref_kwargs(w), "pk": w.referred.pk}}
            ),
            "as intake (no discharge.write)": replace(**{AS: "intake"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "aftercare:give": Endpoint(
        "aftercare:give",
        "counsellor",
        lambda w: {"pk": w.active.pk},
        {"version": INT},
        ("version",),
        lambda w: {"version": str(aftercare_plan_of(w).version)},
        {
            "a stale version": replace(version="1"),
            "version huge": replace(version=TOO_BIG_INT),
            "someone without a plan": replace(**{KW: lambda w: {"pk": w.referred.pk}}),
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
            "as intake (no discharge.write)": replace(**{AS: "intake"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "alumni:attempt": Endpoint(
        "alumni:attempt",
        "counsellor",
        lambda w: {"pk": follow_up_of(w).pk},
        {
            "version": INT,
            "method": CHOICE,
            "reached": CHOICE,
            "note": TEXT,
            "use_since_discharge": CHOICE,
            "days_used_past_30": INT,
            "occupation": CHOICE,
            "housing": CHOICE,
            "readmitted": CHOICE,
            "readmitted_where": TEXT,
            "quality_of_life": INT,
            "in_aftercare": CHOICE,
            "notes": TEXT,
        },
        ("version", "method", "reached"),
        attempt_valid,
        {
            "reached, quality of life missing": replace(quality_of_life=""),
            "reached, quality of life 11": replace(quality_of_life="11"),
            "reached, quality of life -1": replace(quality_of_life="-1"),
            "reached, 31 days of use": replace(days_used_past_30="31"),
            "reached, no use but 6 days": replace(use_since_discharge="none"),
            "reached, use not asked": replace(use_since_discharge=""),
            "reached, back in treatment, where not said": replace(readmitted_where=""),
            "reached, housing not asked": replace(housing=""),
            "a stale version": replace(version="7"),
            "a closed follow-up": replace(
                **{KW: lambda w: {"pk": follow_up_of(w, "done_follow_up").pk}}
            ),
            "another program's follow-up": replace(
                **{KW: lambda w: {"pk": follow_up_of(w, "foreign_follow_up").pk}}
            ),
            "a follow-up that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "as billing": replace(**{AS: "billing"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "alumni:close": Endpoint(
        "alumni:close",
        "counsellor",
        lambda w: {"pk": follow_up_of(w).pk},
        {"version": INT, "status": CHOICE, "note": TEXT},
        ("version", "status"),
        lambda w: {
            "version": str(follow_up_of(w).version),
            "status": "declined",
            "note": "Does not want calls",
        },
        {
            "not reached without an attempt": replace(status="not_reached"),
            "declined without a reason": replace(note="  "),
            "closed as reached (needs the outcomes)": replace(status="reached"),
            "back to pending": replace(status="pending"),
            "a stale version": replace(version="5"),
            "a closed follow-up": replace(
                **{KW: lambda w: {"pk": follow_up_of(w, "done_follow_up").pk}}
            ),
            "another program's follow-up": replace(
                **{KW: lambda w: {"pk": follow_up_of(w, "foreign_follow_up").pk}}
            ),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "alumni:event_new": Endpoint(
        "alumni:event_new",
        "counsellor",
        lambda w: {},
        {
            "program": FK,
            "title": TEXT,
            "day": DATE,
            "start": TIME,
            "end": TIME,
            "location": TEXT,
            "description": TEXT,
            "facilitator": FK,
        },
        ("program", "title", "day", "start", "end"),
        lambda w: {
            "program": str(w.program.pk),
            "title": "Alumni potluck",
            "day": day(w, 9),
            "start": "18:00",
            "end": "20:00",
            "location": "Group Room",
            "description": "Bring a dish.",
            "facilitator": str(w.counsellor.pk),
        },
        {
            "ends before it starts": replace(end="17:00"),
            "ends when it starts": replace(end="18:00"),
            "another program": replace(program=lambda w: str(w.other_program.pk)),
            "a facilitator of another program": replace(facilitator=lambda w: str(w.outsider.pk)),
            "a facilitator who is a portal account": replace(facilitator="999999"),
            "as billing": replace(**{AS: "billing"}),
            "as compliance": replace(**{AS: "compliance"}),
        },
    ),
    "alumni:event_attendance": Endpoint(
        "alumni:event_attendance",
        "counsellor",
        lambda w: {"pk": alumni_event_of(w).pk},
        {"version": INT, "attended": M2M},
        ("version",),
        lambda w: {
            "version": str(alumni_event_of(w).version),
            "attended": [str(follow_up_of(w).participant_id)],
        },
        {
            "someone in care (not an alumnus)": replace(attended=lambda w: [str(w.active.pk)]),
            "another program's participant": replace(attended=lambda w: [str(w.foreign.pk)]),
            "another program's alumnus": replace(
                attended=lambda w: [str(follow_up_of(w, "foreign_follow_up").participant_id)]
            ),
            "a stale version": replace(version="4"),
            "another program's event": replace(**{AS: "outsider"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
    "alumni:event_cancel": Endpoint(
        "alumni:event_cancel",
        "counsellor",
        lambda w: {"pk": alumni_event_of(w).pk},
        {"reason": TEXT},
        ("reason",),
        cancel_event_valid,
        {
            "reason over 500": replace(reason="r" * 501),
            "an event that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "another program's event": replace(**{AS: "outsider"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
}
ENDPOINTS.update(ISSUE10_AFTERCARE_ALUMNI_ENDPOINTS)


# --- Issue 11, helper C: making world.active's concurrent-review packet of
# world.authorisation (`add_review_packet_story`; the TPO consent lets it go to the payer).
# The form is the authorisation's version as the page showed it ---


def packet_kwargs(w: World) -> dict[str, Any]:
    from openiop.testing import add_review_packet_story

    add_review_packet_story(w)
    return {"pk": w.active.pk, "auth_pk": w.records["authorisation"].pk}


def packet_valid(w: World) -> Payload:
    from openiop.billing.models import Authorisation

    packet_kwargs(w)  # made before any fingerprint
    return {"version": str(Authorisation.objects.get(pk=w.records["authorisation"].pk).version)}


ENDPOINTS.update(
    {
        "coverage:packet": Endpoint(
            "coverage:packet",
            "billing",
            packet_kwargs,
            {"version": INT},
            ("version",),
            packet_valid,
            {
                "a stale version": replace(version="7"),
                "version 0": replace(version="0"),
                "version huge": replace(version=TOO_BIG_INT),
                "another program's participant": replace(
                    **{KW: lambda w: {**packet_kwargs(w), "pk": w.foreign.pk}}
                ),
                "another participant's authorisation": replace(
                    **{KW: lambda w: {**packet_kwargs(w), "pk": w.referred.pk}}
                ),
                "an authorisation that does not exist": replace(
                    **{KW: lambda w: {**packet_kwargs(w), "auth_pk": int(TOO_BIG_INT)}}
                ),
                "as intake (no review.packet)": replace(**{AS: "intake"}),
                "as the outsider": replace(**{AS: "outsider"}),
            },
        ),
    }
)


# --- Issue 11, helper B: billing set-up (payers, the billing profile, the sliding fee) and
# world.active's coverage and authorisations (`add_sliding_fee`: add_billing's payer,
# coverage and authorisation; world.spare_payer, used by no coverage; world.foreign_payer,
# of the other program; world.spare_coverage, world.referred's self-pay). The payloads
# make the records before any fingerprint ---


def billing_of(w: World) -> World:
    from openiop.testing import add_sliding_fee

    add_sliding_fee(w)
    return w


def billing_record(w: World, name: str) -> Any:
    billing_of(w)
    record = w.records[name]
    return type(record).objects.get(pk=record.pk)


PAYER_KINDS = {
    "name": TEXT,
    "payer_id": TEXT,
    "kind": CHOICE,
    "address_line": TEXT,
    "city": TEXT,
    "state": TEXT,
    "postal_code": TEXT,
    "phone": TEXT,
    "units_per_day": INT,
    "telehealth_modifier": CHOICE,
    "covers_telehealth": BOOL,
    "requires_authorisation": BOOL,
    "timely_filing_days": INT,
}
PAYER_REQUIRED = ("name", "payer_id", "kind", "units_per_day", "telehealth_modifier")


def payer_payload(w: World) -> Payload:
    billing_of(w)
    return {
        "name": "Casco Bay Health",
        "payer_id": "CBH01",
        "kind": "commercial",
        "address_line": "PO Box 9",
        "city": "Portland",
        "state": "ME",
        "postal_code": "04101",
        "phone": "800-555-0199",
        "units_per_day": "1",
        "telehealth_modifier": "95",
        "covers_telehealth": "on",
        "requires_authorisation": "on",
        "timely_filing_days": "180",
    }


def payer_stamp(w: World, name: str = "spare_payer") -> str:
    from openiop.billing.setup_forms import stamp_of

    return str(stamp_of(billing_record(w, name)))


PAYER_CASES: dict[str, Case] = {
    "units a day 5": replace(units_per_day="5"),
    "filing limit 29 days": replace(timely_filing_days="29"),
    "a state of three letters": replace(state="MEX"),
    "a ZIP code of 6 digits": replace(postal_code="041011"),
    "a payer id with spaces": replace(payer_id="CB H 01"),
    "the name of a payer the program has": replace(name="harbor health plan"),
    "as the director (no billing.manage)": replace(**{AS: "director"}),
    "as intake": replace(**{AS: "intake"}),
}

PROFILE_KINDS = {
    "version": INT,
    "billing_name": TEXT,
    "npi": TEXT,
    "tax_id": TEXT,
    "taxonomy_code": TEXT,
    "address_line": TEXT,
    "city": TEXT,
    "state": TEXT,
    "postal_code": TEXT,
    "phone": TEXT,
    "contact_name": TEXT,
    "submitter_id": TEXT,
    "receiver_id": TEXT,
    "receiver_name": TEXT,
    "production": BOOL,
    "service_code": CHOICE,
    "place_of_service": CHOICE,
    "telehealth_at_home": BOOL,
    "billable_minimum_minutes": INT,
    "daily_charge": DECIMAL,
    "alert_remaining_days": INT,
    "alert_end_days": INT,
    "poverty_base": INT,
    "poverty_per_person": INT,
}


def profile_payload(w: World) -> Payload:
    profile = billing_record(w, "billing_profile")
    return {
        "version": str(profile.version),
        "billing_name": "Harbor IOP LLC",
        "npi": "1234567893",
        "tax_id": "12-3456789",
        "taxonomy_code": "261QR0405X",
        "address_line": "14 Harbor Street",
        "city": "Portland",
        "state": "ME",
        "postal_code": "04101-1234",
        "phone": "207-555-0100",
        "contact_name": "Bea Biller",
        "submitter_id": "HARBOR01",
        "receiver_id": "CLEARHOUSE",
        "receiver_name": "Clearing House",
        "service_code": "H0015",
        "place_of_service": "57",
        "telehealth_at_home": "on",
        "billable_minimum_minutes": "180",
        "daily_charge": "260.00",
        "alert_remaining_days": "3",
        "alert_end_days": "5",
        "poverty_base": "15650",
        "poverty_per_person": "5500",
    }


def tier_payload(w: World) -> Payload:
    billing_of(w)  # the tiers up to 100% ($25), 200% ($75) and above ($250)
    return {"up_to_percent": "300", "fee_per_day": "150"}


COVERAGE_KINDS = {
    "kind": CHOICE,
    "payer": FK,
    "priority": CHOICE,
    "member_id": TEXT,
    "group_number": TEXT,
    "plan_name": TEXT,
    "relationship": CHOICE,
    "subscriber_first_name": TEXT,
    "subscriber_last_name": TEXT,
    "subscriber_date_of_birth": DATE,
    "subscriber_sex": CHOICE,
    "patient_sex": CHOICE,
    "start_date": DATE,
    "end_date": DATE,
    "verified": BOOL,
    "household_size": INT,
    "annual_income": INT,
    "full_fee": BOOL,
}
COVERAGE_REQUIRED = ("kind", "priority", "relationship", "patient_sex", "start_date")


def coverage_payload(w: World) -> Payload:
    billing_of(w)
    return {
        "kind": "insurance",
        "payer": str(w.records["spare_payer"].pk),
        "priority": "2",
        "member_id": "MCD-5555",
        "group_number": "",
        "plan_name": "MaineCare",
        "relationship": "18",
        "subscriber_first_name": "",
        "subscriber_last_name": "",
        "subscriber_date_of_birth": "",
        "subscriber_sex": "",
        "patient_sex": "F",
        "start_date": day(w, -10),
        "end_date": day(w, 200),
        "verified": "on",
        "household_size": "",
        "annual_income": "",
    }


def coverage_edit_payload(w: World) -> Payload:
    coverage = billing_record(w, "coverage")
    return {
        **coverage_payload(w),
        "version": str(coverage.version),
        "payer": str(coverage.payer_id),
        "priority": "1",
        "member_id": "HHP123456",
        "group_number": "GRP-78",
        "start_date": coverage.start_date.isoformat(),
        "end_date": "",
    }


COVERAGE_CASES: dict[str, Case] = {
    "ends before it starts": replace(end_date=lambda w: day(w, -11)),
    "insurance without a payer": replace(payer=""),
    "insurance without a member id": replace(member_id=" "),
    "a payer of another program": replace(payer=lambda w: str(w.records["foreign_payer"].pk)),
    "a spouse's plan without the subscriber": replace(relationship="01"),
    "a subscriber born tomorrow": replace(
        relationship="01",
        subscriber_first_name="Sam",
        subscriber_last_name="Rivera",
        subscriber_sex="M",
        subscriber_date_of_birth=lambda w: day(w, 1),
    ),
    "self-pay with a payer": replace(kind="self_pay", household_size="2", annual_income="1"),
    "self-pay with the size but not the income": replace(
        kind="self_pay", payer="", member_id="", household_size="2"
    ),
    "self-pay, neither household nor full fee": replace(kind="self_pay", payer="", member_id=""),
    "self-pay, household and full fee": replace(
        kind="self_pay",
        payer="",
        member_id="",
        household_size="2",
        annual_income="100",
        full_fee="on",
    ),
    "a household of 21": replace(kind="self_pay", payer="", household_size="21"),
    "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
    "as the counsellor (no coverage.record)": replace(**{AS: "counsellor"}),
    "as the outsider": replace(**{AS: "outsider"}),
}

AUTH_KINDS = {
    "coverage": FK,
    "service_code": CHOICE,
    "units": INT,
    "start_date": DATE,
    "end_date": DATE,
    "reference_number": TEXT,
    "next_review_on": DATE,
    "reviewer": TEXT,
    "notes": TEXT,
}
AUTH_REQUIRED = ("coverage", "service_code", "units", "start_date", "end_date", "reference_number")


def auth_payload(w: World) -> Payload:
    coverage = billing_record(w, "coverage")
    return {
        "coverage": str(coverage.pk),
        "service_code": "H0015",
        "units": "12",
        "start_date": day(w, 31),
        "end_date": day(w, 60),
        "reference_number": "AUTH-2002",
        "next_review_on": day(w, 40),
        "reviewer": "Dr Ames",
        "notes": "Approved after review.",
    }


def auth_edit_payload(w: World) -> Payload:
    auth = billing_record(w, "authorisation")
    return {
        **auth_payload(w),
        "version": str(auth.version),
        "start_date": auth.start_date.isoformat(),
        "end_date": auth.end_date.isoformat(),
        "reference_number": "AUTH-1001",
        "next_review_on": "",
        "units": "25",
    }


def auth_kwargs(w: World) -> dict[str, Any]:
    return {"pk": w.active.pk, "auth_pk": billing_record(w, "authorisation").pk}


AUTH_CASES: dict[str, Case] = {
    "1000 units": replace(units="1000"),
    "0 units": replace(units="0"),
    "ends before it starts": replace(end_date=lambda w: day(w, 30)),
    "starts before its coverage": replace(start_date=lambda w: day(w, -61)),
    "the next review before it starts": replace(next_review_on=lambda w: day(w, -100)),
    "a self-pay coverage of another participant": replace(
        coverage=lambda w: str(w.records["spare_coverage"].pk)
    ),
    "notes over 2000": replace(notes="n" * 2001),
    "another program's participant": replace(
        **{KW: lambda w: {**auth_kwargs(w), "pk": w.foreign.pk}}
    ),
    "as the counsellor (no coverage.record)": replace(**{AS: "counsellor"}),
    "as the outsider": replace(**{AS: "outsider"}),
}

VOID_CASES: dict[str, Case] = {
    "a stale version": replace(version="99"),
    "version huge": replace(version=TOO_BIG_INT),
    "reason over 500": replace(reason="r" * 501),
    "as the counsellor (no coverage.record)": replace(**{AS: "counsellor"}),
    "as the outsider": replace(**{AS: "outsider"}),
}


ISSUE11_B_ENDPOINTS: dict[str, Endpoint] = {
    "billing:payer_new": Endpoint(
        "billing:payer_new",
        "billing",
        lambda w: {},
        {"program": FK, **PAYER_KINDS},
        ("program", *PAYER_REQUIRED),
        lambda w: {**payer_payload(w), "program": str(w.program.pk)},
        {
            **PAYER_CASES,
            "another program": replace(program=lambda w: str(w.other_program.pk)),
        },
    ),
    "billing:payer_edit": Endpoint(
        "billing:payer_edit",
        "billing",
        lambda w: {"pk": billing_record(w, "spare_payer").pk},
        {"stamp": INT, **PAYER_KINDS},
        ("stamp", *PAYER_REQUIRED),
        lambda w: {**payer_payload(w), "stamp": payer_stamp(w)},
        {
            **PAYER_CASES,
            "a stale stamp": replace(stamp="1"),
            "another program's payer": replace(
                **{KW: lambda w: {"pk": w.records["foreign_payer"].pk}}
            ),
            "a payer that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
        },
    ),
    "billing:payer_retire": Endpoint(
        "billing:payer_retire",
        "billing",
        lambda w: {"pk": billing_record(w, "spare_payer").pk},
        {"stamp": INT},
        ("stamp",),
        lambda w: {"stamp": payer_stamp(w)},
        {
            "a stale stamp": replace(stamp="1"),
            "a payer a coverage in force uses": replace(
                stamp=lambda w: payer_stamp(w, "payer"),
                **{KW: lambda w: {"pk": w.records["payer"].pk}},
            ),
            "another program's payer": replace(
                **{KW: lambda w: {"pk": w.records["foreign_payer"].pk}}
            ),
            "as the director (no billing.manage)": replace(**{AS: "director"}),
        },
    ),
    "billing:profile": Endpoint(
        "billing:profile",
        "billing",
        lambda w: {},
        PROFILE_KINDS,
        tuple(n for n, k in PROFILE_KINDS.items() if k != BOOL and n not in ("taxonomy_code",)),
        profile_payload,
        {
            "an NPI whose check digit is wrong": replace(npi="1234567890"),
            "an EIN of 8 digits": replace(tax_id="12345678"),
            "a ZIP code without its +4": replace(postal_code="04101"),
            "a state of digits": replace(state="12"),
            "a billable minimum of 14": replace(billable_minimum_minutes="14"),
            "a billable minimum of 721": replace(billable_minimum_minutes="721"),
            "a name with a claim-file separator": replace(billing_name="Harbor~IOP"),
            "an alert of 61 days": replace(alert_end_days="61"),
            "a stale version": replace(version="7"),
            "version 0 when the profile exists": replace(version="0"),
            "as the director (no billing.manage)": replace(**{AS: "director"}),
        },
    ),
    "billing:sliding_fee": Endpoint(
        "billing:sliding_fee",
        "billing",
        lambda w: {},
        {"up_to_percent": INT, "fee_per_day": DECIMAL},
        ("fee_per_day",),
        tier_payload,
        {
            "a second open tier": replace(up_to_percent=""),
            "a limit the program has": replace(up_to_percent="200"),
            "a higher tier that costs less": replace(fee_per_day="50"),
            "a limit of 1001%": replace(up_to_percent="1001"),
            "a limit of 0%": replace(up_to_percent="0"),
            "as the director (no billing.manage)": replace(**{AS: "director"}),
        },
    ),
    "billing:tier_retire": Endpoint(
        "billing:tier_retire",
        "billing",
        lambda w: {"pk": billing_record(w, "sliding_tier").pk},
        {"tier": INT},
        ("tier",),
        lambda w: {"tier": str(billing_record(w, "sliding_tier").pk)},
        {
            "the form of another tier": replace(tier="1"),
            "a tier that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
            "as the director (no billing.manage)": replace(**{AS: "director"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "coverage:coverage_new": Endpoint(
        "coverage:coverage_new",
        "intake",
        lambda w: {"pk": w.active.pk},
        COVERAGE_KINDS,
        COVERAGE_REQUIRED,
        coverage_payload,
        {
            **COVERAGE_CASES,
            "a second primary insurance on the same days": replace(priority="1"),
        },
    ),
    "coverage:coverage_edit": Endpoint(
        "coverage:coverage_edit",
        "billing",
        lambda w: {"pk": w.active.pk, "coverage_pk": billing_record(w, "coverage").pk},
        {"version": INT, **COVERAGE_KINDS},
        ("version", *COVERAGE_REQUIRED),
        coverage_edit_payload,
        {
            **COVERAGE_CASES,
            "ends before it starts": replace(end_date=lambda w: day(w, -61)),
            "a stale version": replace(version="99"),
            "self-pay while authorisations belong to it": replace(
                kind="self_pay", payer="", member_id="", full_fee="on"
            ),
            "another participant's coverage": replace(
                **{
                    KW: lambda w: {
                        "pk": w.active.pk,
                        "coverage_pk": w.records["spare_coverage"].pk,
                    }
                }
            ),
            "another program's participant": replace(
                **{
                    KW: lambda w: {
                        "pk": w.foreign.pk,
                        "coverage_pk": billing_record(w, "coverage").pk,
                    }
                }
            ),
        },
    ),
    "coverage:coverage_void": Endpoint(
        "coverage:coverage_void",
        "billing",
        lambda w: {"pk": w.referred.pk, "coverage_pk": billing_record(w, "spare_coverage").pk},
        {"version": INT, "reason": TEXT},
        ("version", "reason"),
        lambda w: {
            "version": str(billing_record(w, "spare_coverage").version),
            "reason": "Entered twice",
        },
        {
            **VOID_CASES,
            "a coverage with authorisations": replace(
                **{
                    KW: lambda w: {
                        "pk": w.active.pk,
                        "coverage_pk": w.records["coverage"].pk,
                    }
                }
            ),
        },
    ),
    "coverage:authorisation_new": Endpoint(
        "coverage:authorisation_new",
        "billing",
        lambda w: {"pk": w.active.pk},
        AUTH_KINDS,
        AUTH_REQUIRED,
        auth_payload,
        {
            **AUTH_CASES,
            "another program's participant": replace(**{KW: lambda w: {"pk": w.foreign.pk}}),
        },
    ),
    "coverage:authorisation_edit": Endpoint(
        "coverage:authorisation_edit",
        "billing",
        auth_kwargs,
        {"version": INT, **AUTH_KINDS},
        ("version", *AUTH_REQUIRED),
        auth_edit_payload,
        {
            **AUTH_CASES,
            "ends before it starts": replace(end_date=lambda w: day(w, -31)),
            "a stale version": replace(version="99"),
            "another participant's authorisation": replace(
                **{KW: lambda w: {**auth_kwargs(w), "pk": w.referred.pk}}
            ),
        },
    ),
    "coverage:authorisation_renew": Endpoint(
        "coverage:authorisation_renew",
        "billing",
        auth_kwargs,
        AUTH_KINDS,
        AUTH_REQUIRED,
        lambda w: {**auth_payload(w), "reference_number": "AUTH-1002"},
        {
            **AUTH_CASES,
            "an authorisation that does not exist": replace(
                **{KW: lambda w: {"pk": w.active.pk, "auth_pk": int(TOO_BIG_INT)}}
            ),
        },
    ),
    "coverage:authorisation_void": Endpoint(
        "coverage:authorisation_void",
        "billing",
        auth_kwargs,
        {"version": INT, "reason": TEXT},
        ("version", "reason"),
        lambda w: {
            "version": str(billing_record(w, "authorisation").version),
            "reason": "Entered on the wrong coverage",
        },
        {
            **VOID_CASES,
            "another participant's authorisation": replace(
                **{KW: lambda w: {**auth_kwargs(w), "pk": w.referred.pk}}
            ),
        },
    ),
}
ENDPOINTS.update(ISSUE11_B_ENDPOINTS)


# --- Issue 11, helper A: claims. world.claim is a draft of world.active's billable day
# (`add_claim`), submitted in world.claim_batch by `add_claim_batch`. The payloads make
# the records before any fingerprint ---


def a_claim_of(w: World, *, submitted: bool = False) -> Any:
    from openiop.billing.models import Claim
    from openiop.testing import add_claim, add_claim_batch

    if submitted:
        add_claim_batch(w)
    else:
        add_claim(w)
    return Claim.objects.get(pk=w.claim.pk)


def a_build_payload(w: World) -> Payload:
    from openiop.testing import add_billing

    add_billing(w)
    return {"payer": str(w.payer.pk), "start": w.session.date.isoformat(), "end": day(w, 0)}


A_CLAIM_CASES: dict[str, Case] = {
    "a stale version": replace(version="99"),
    "version huge": replace(version=TOO_BIG_INT),
    "a claim that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
    "as the director (no billing.manage)": replace(**{AS: "director"}),
    "as the outsider": replace(**{AS: "outsider"}),
}

ISSUE11_A_ENDPOINTS: dict[str, Endpoint] = {
    "billing:build": Endpoint(
        "billing:build",
        "billing",
        lambda w: {},
        {"payer": FK, "start": DATE, "end": DATE},
        ("payer", "start", "end"),
        a_build_payload,
        {
            "ends before it starts": replace(end=lambda w: day(w, -400)),
            "ends tomorrow": replace(end=lambda w: day(w, 1)),
            "longer than a year": replace(start=lambda w: day(w, -400)),
            "a payer that does not exist": replace(payer="999999"),
            "as the director (no billing.manage)": replace(**{AS: "director"}),
            "as the outsider": replace(**{AS: "outsider"}),
        },
    ),
    "billing:submit": Endpoint(
        "billing:submit",
        "billing",
        lambda w: {},
        {"claims": M2M},
        ("claims",),
        lambda w: {"claims": [str(a_claim_of(w).pk)]},
        {
            "a claim that does not exist": replace(claims=["999999"]),
            "as the director (no billing.manage)": replace(**{AS: "director"}),
        },
    ),
    "billing:claim_submit": Endpoint(
        "billing:claim_submit",
        "billing",
        lambda w: {"pk": a_claim_of(w).pk},
        {"version": INT},
        ("version",),
        lambda w: {"version": str(a_claim_of(w).version)},
        A_CLAIM_CASES,
    ),
    "billing:claim_paid": Endpoint(
        "billing:claim_paid",
        "billing",
        lambda w: {"pk": a_claim_of(w, submitted=True).pk},
        {"version": INT, "amount": DECIMAL, "paid_on": DATE, "payer_claim_number": TEXT},
        ("version", "amount", "paid_on"),
        lambda w: {
            "version": str(a_claim_of(w, submitted=True).version),
            "amount": "200.00",
            "paid_on": day(w, 0),
            "payer_claim_number": "PCN-1",
        },
        {
            **A_CLAIM_CASES,
            "more than the charge": replace(amount="250.01"),
            "nothing paid": replace(amount="0"),
            "paid tomorrow": replace(paid_on=lambda w: day(w, 1)),
            "paid before it was submitted": replace(paid_on=lambda w: day(w, -3)),
        },
    ),
    "billing:claim_denied": Endpoint(
        "billing:claim_denied",
        "billing",
        lambda w: {"pk": a_claim_of(w, submitted=True).pk},
        {"version": INT, "code": CHOICE, "reason": TEXT, "denied_on": DATE},
        ("version", "code", "denied_on"),
        lambda w: {
            "version": str(a_claim_of(w, submitted=True).version),
            "code": "197",
            "reason": "No authorisation on file",
            "denied_on": day(w, 0),
        },
        {
            **A_CLAIM_CASES,
            "other without a reason": replace(code="other", reason=" "),
            "reason over 500": replace(reason="r" * 501),
            "denied tomorrow": replace(denied_on=lambda w: day(w, 1)),
        },
    ),
    "billing:claim_void": Endpoint(
        "billing:claim_void",
        "billing",
        lambda w: {"pk": a_claim_of(w).pk},
        {"version": INT, "reason": TEXT},
        ("version", "reason"),
        lambda w: {"version": str(a_claim_of(w).version), "reason": "Built in error"},
        {
            **A_CLAIM_CASES,
            "reason over 500": replace(reason="r" * 501),
        },
    ),
}
ENDPOINTS.update(ISSUE11_A_ENDPOINTS)


# --- Issue 12, H5: the API clients' pages. `api_records` makes, before any fingerprint,
# Harbor's client "api_client" with a token, a retired client, and "foreign_api_client"
# of the other program (with a token); the director of Harbor posts ---


def api_records(w: World) -> World:
    from openiop.fhir.testing import make_client, make_token

    if "api_client" in w.records:
        return w
    w.records["api_client"], _ = make_client(w.program, name="Warehouse")
    make_token(w.records["api_client"])
    retired, _ = make_client(w.program, name="Old warehouse")
    retired.retired_at = retired.created_at
    retired.retire_reason = "Replaced"
    retired.save()
    w.records["retired_api_client"] = retired
    w.records["foreign_api_client"], _ = make_client(w.other_program, name="Other warehouse")
    make_token(w.records["foreign_api_client"])
    return w


def api_record(w: World, name: str) -> Any:
    record = api_records(w).records[name]
    return type(record).objects.get(pk=record.pk)


def api_stamp(w: World, name: str = "api_client") -> str:
    from openiop.fhir.admin_forms import stamp_of

    return stamp_of(api_record(w, name))


def api_token_pk(w: World, name: str = "api_client") -> int:
    from openiop.fhir.models import ApiToken

    return ApiToken.objects.filter(client=api_record(w, name)).values_list("pk", flat=True)[0]


def api_kw(name: str = "api_client") -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": api_record(w, name).pk}


API_CLIENT_KINDS = {
    "program": FK,
    "name": TEXT,
    "kind": CHOICE,
    "recipient_kind": CHOICE,
    "recipient_name": TEXT,
    "purpose": CHOICE,
    "scopes": MULTI,
    "participant_record": TEXT,
    "token_minutes": INT,
    "contact": TEXT,
}


def api_client_payload(w: World) -> Payload:
    api_records(w)
    return {
        "program": str(w.program.pk),
        "name": "Mercy Hospital",
        "kind": "outside",
        "recipient_kind": "provider",
        "recipient_name": "Mercy Hospital",
        "purpose": "TREAT",
        "scopes": ["system/Patient.read"],
        "participant_record": "",
        "token_minutes": "60",
        "contact": "hie@mercy.example",
    }


API_AS_OTHERS: dict[str, Case] = {
    "as the counsellor (no api.clients)": replace(**{AS: "counsellor"}),
    "as the outsider (another program's director)": replace(**{AS: "outsider"}),
}

ISSUE12_H5_ENDPOINTS: dict[str, Endpoint] = {
    "api_clients:new": Endpoint(
        "api_clients:new",
        "director",
        lambda w: {},
        API_CLIENT_KINDS,
        ("program", "name", "kind", "scopes", "token_minutes"),
        api_client_payload,
        {
            **API_AS_OTHERS,
            "another program": replace(program=lambda w: str(w.other_program.pk)),
            "outside without the recipient's name": replace(recipient_name=" "),
            "outside without a purpose": replace(purpose=""),
            "patient/*.read without a participant": replace(scopes=["patient/*.read"]),
            "patient/*.read and system/ together": replace(
                scopes=["patient/*.read", "system/*.read"],
                participant_record=lambda w: w.active.record_number,
            ),
            "a participant of another program": replace(
                scopes=["patient/*.read"], participant_record=lambda w: w.foreign.record_number
            ),
            "a participant without patient/*.read": replace(
                participant_record=lambda w: w.active.record_number
            ),
            "a write scope": replace(scopes=["system/Patient.write"]),
            "AuditEvent for an outside client": replace(scopes=["system/AuditEvent.read"]),
            "a user/ scope": replace(scopes=["user/*.read"]),
            "a token for 4 minutes": replace(token_minutes="4"),
            "a token for 1441 minutes": replace(token_minutes="1441"),
            "the name of a client in use": replace(name="warehouse"),
            "a name over 120": replace(name="n" * 121),
        },
    ),
    "api_clients:new_secret": Endpoint(
        "api_clients:new_secret",
        "director",
        api_kw(),
        {"stamp": TEXT, "revoke_tokens": BOOL},
        ("stamp",),
        lambda w: {"stamp": api_stamp(w), "revoke_tokens": "on"},
        {
            **API_AS_OTHERS,
            "a stale stamp": replace(stamp="0" * 16),
            "a retired client": replace(
                stamp=lambda w: api_stamp(w, "retired_api_client"),
                **{KW: api_kw("retired_api_client")},
            ),
            "another program's client": replace(
                stamp=lambda w: api_stamp(w, "foreign_api_client"),
                **{KW: api_kw("foreign_api_client")},
            ),
            "a client that does not exist": replace(**{KW: {"pk": int(TOO_BIG_INT)}}),
        },
    ),
    "api_clients:retire": Endpoint(
        "api_clients:retire",
        "director",
        api_kw(),
        {"stamp": TEXT, "reason": TEXT},
        ("stamp", "reason"),
        lambda w: {"stamp": api_stamp(w), "reason": "Agreement ended"},
        {
            **API_AS_OTHERS,
            "a stale stamp": replace(stamp="0" * 16),
            "a reason over 300": replace(reason="r" * 301),
            "a client already retired": replace(
                stamp=lambda w: api_stamp(w, "retired_api_client"),
                **{KW: api_kw("retired_api_client")},
            ),
            "another program's client": replace(
                stamp=lambda w: api_stamp(w, "foreign_api_client"),
                **{KW: api_kw("foreign_api_client")},
            ),
        },
    ),
    "api_clients:revoke_all": Endpoint(
        "api_clients:revoke_all",
        "director",
        api_kw(),
        {"stamp": TEXT},
        ("stamp",),
        lambda w: {"stamp": api_stamp(w)},
        {
            **API_AS_OTHERS,
            "a stale stamp": replace(stamp="0" * 16),
            "a client without tokens": replace(
                stamp=lambda w: api_stamp(w, "retired_api_client"),
                **{KW: api_kw("retired_api_client")},
            ),
            "another program's client": replace(
                stamp=lambda w: api_stamp(w, "foreign_api_client"),
                **{KW: api_kw("foreign_api_client")},
            ),
        },
    ),
    "api_clients:revoke_token": Endpoint(
        "api_clients:revoke_token",
        "director",
        lambda w: {"pk": api_record(w, "api_client").pk, "token_pk": api_token_pk(w)},
        {"token": INT},
        ("token",),
        lambda w: {"token": str(api_token_pk(w))},
        {
            **API_AS_OTHERS,
            "the form of another token": replace(
                token=lambda w: str(api_token_pk(w, "foreign_api_client"))
            ),
            "another client's token in the address": replace(
                token=lambda w: str(api_token_pk(w, "foreign_api_client")),
                **{
                    KW: lambda w: {
                        "pk": api_record(w, "api_client").pk,
                        "token_pk": api_token_pk(w, "foreign_api_client"),
                    }
                },
            ),
            "another program's client": replace(
                token=lambda w: str(api_token_pk(w, "foreign_api_client")),
                **{
                    KW: lambda w: {
                        "pk": api_record(w, "foreign_api_client").pk,
                        "token_pk": api_token_pk(w, "foreign_api_client"),
                    }
                },
            ),
            "a token id beyond 64 bits": replace(token=TOO_BIG_INT),
        },
    ),
}
ENDPOINTS.update(ISSUE12_H5_ENDPOINTS)


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_the_valid_payload_succeeds(client, login, hostile_world, key):
    """The control: without a mutation the post is accepted, so a refusal below is real."""
    ep = ENDPOINTS[key]
    before = fingerprint()
    response = send(client, login, hostile_world, ep, ep.valid(hostile_world))
    context_errors = ""
    if response.status_code != 302 and response.context and "form" in response.context:
        context_errors = response.context["form"].errors.as_json()
    assert response.status_code == 302, (response.status_code, context_errors)
    if ep.url != "accounts:login":  # signing in changes only last_login and the session
        assert changed_tables(before, fingerprint()), "the valid payload changed nothing"


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_hostile_payloads_are_refused_and_change_nothing(client, login, hostile_world, key):
    ep = ENDPOINTS[key]
    valid = ep.valid(hostile_world)
    cases = generic_cases(ep)
    assert len(cases) > 5
    problems = []
    before = fingerprint()
    for name, case in cases.items():
        response = send(client, login, hostile_world, ep, case(hostile_world, valid))
        problem = refusal_problem(ep, response)
        after = fingerprint()
        if after != before:
            problem = (problem or "refused") + f", but changed {changed_tables(before, after)}"
            before = after
        if problem:
            problems.append(f"{name}: {problem}")
    assert not problems, f"{key}: {len(problems)} of {len(cases)} cases\n" + "\n".join(problems)


# --- H1: the sign-in steps after the password (the user is not signed in yet) -------------


@pytest.fixture(autouse=True)
def _h1_generous_lockout(settings):
    """The cases post many failed sign-ins and codes from one address: the lockout and the
    address limit would answer them (tested in accounts/tests/test_lockout.py)."""
    settings.OPENIOP_LOCKOUT_FAILURES = 10_000
    settings.OPENIOP_LOCKOUT_IP_FAILURES = 10_000


# url → the persona who typed the right password, and the endpoint posted next.
H1_PENDING: dict[str, Endpoint] = {
    # intake has an authenticator (`hostile_world`): the code step.
    "accounts:login_verify": Endpoint(
        "accounts:login_verify",
        "intake",
        lambda w: {},
        {"code": TEXT},
        ("code",),
        lambda w: {"code": totp_code_for(w.intake)},
        {
            "a wrong code": replace(code="000000"),
            "a code already used": replace(code=lambda w: h1_used_code(w)),
            "a made-up recovery code": replace(code="abcde-fghjk"),
            "another user's code": replace(code=lambda w: totp_code_for(w.supervisor)),
        },
    ),
    # compliance must use MFA and has none... in this endpoint's own world: forced set-up.
    "accounts:login_enrol": Endpoint(
        "accounts:login_enrol",
        "admin",
        lambda w: {},
        {"code": TEXT},
        ("code",),
        lambda w: {"code": h1_enrol_code(w.admin)},
        {"a wrong code": replace(code="000000"), "letters": replace(code="abcdef")},
    ),
}


def h1_send_pending(client, world: World, ep: Endpoint, payload: Payload):
    """Type the persona's password (which leaves them pending), then post `payload`."""
    payload = dict(payload)
    as_json = payload.pop(JSON_BODY, False)
    client.logout()
    step = client.post(
        reverse("accounts:login"),
        {"username": world.users[ep.persona].username, "password": PASSWORD},
    )
    assert step.status_code == 302 and step["Location"] == reverse(ep.url)
    url = reverse(ep.url)
    if as_json:
        return client.post(url, data=json.dumps(payload), content_type="application/json")
    return client.post(
        url,
        data=urlencode(payload, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


@pytest.mark.parametrize("key", sorted(H1_PENDING))
def test_h1_pending_sign_in_valid_payload_succeeds(client, hostile_world, key):
    ep = H1_PENDING[key]
    before = fingerprint()
    response = h1_send_pending(client, hostile_world, ep, ep.valid(hostile_world))
    assert response.status_code == 302, response.content[:500]
    assert "_auth_user_id" in client.session
    assert changed_tables(before, fingerprint())


@pytest.mark.parametrize("key", sorted(H1_PENDING))
def test_h1_pending_sign_in_hostile_payloads_are_refused(client, hostile_world, key):
    ep = H1_PENDING[key]
    valid = ep.valid(hostile_world)
    cases = generic_cases(ep)
    problems = []
    before = fingerprint()
    for name, case in cases.items():
        response = h1_send_pending(client, hostile_world, ep, case(hostile_world, valid))
        problem = refusal_problem(ep, response)
        if "_auth_user_id" in client.session:
            problem = (problem or "refused") + ", but signed in"
        after = fingerprint()
        if after != before:
            problem = (problem or "refused") + f", but changed {changed_tables(before, after)}"
            before = after
        if problem:
            problems.append(f"{name}: {problem}")
    assert not problems, f"{key}: {len(problems)} of {len(cases)} cases\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("participant", "to_status", "expected"),
    [
        ("referred", "bogus", 404),  # not a status at all
        ("referred", "ADMITTED", 404),  # statuses are lower case
        ("referred", "admitted%00", 404),
        ("referred", "x" * 2000, 404),
        ("referred", "admitted", 409),  # skips screening and assessment
        ("referred", "alumni", 409),
        ("referred", "referred", 409),  # already there
        ("active", "screening", 409),  # backwards
        ("closed", "screening", 409),  # a closed episode stays closed
        ("foreign", "screening", 404),  # another program's participant
        # Steps with their own form: Admitted through intake:admit (diagnoses, consents),
        # Assessed by signing an ASAM assessment. Refused here even when otherwise due.
        ("assessed", "admitted", 409),  # Assessed, with a signed assessment
        ("assessed_unsigned", "admitted", 409),
        ("screening", "assessed", 409),
    ],
)
def test_transition_to_a_status_that_is_not_allowed(
    client, login, hostile_world, participant, to_status, expected
):
    w = hostile_world
    p = w.participants[participant]
    url = reverse(
        "participants:episode_transition",
        kwargs={"pk": p.pk, "episode_pk": p.current_episode_id, "to_status": "screening"},
    ).replace("/to/screening/", f"/to/{to_status}/")
    login(w.counsellor)
    payload = {
        "effective_date": day(w, -1),
        "reason": "Because",
        "level_of_care": "3:2.1",
        "track": w.program.tracks.get(name="Morning").pk,
        "primary_counsellor": w.counsellor.pk,
    }
    before = fingerprint()
    response = client.post(url, payload)
    assert response.status_code == expected
    assert fingerprint() == before


# --- property: arbitrary text to the participant forms -----------------------------------

PARTICIPANT_FORM_FIELDS = [
    *PARTICIPANT_FIELDS,
    "program",
    "referral_source",
    "referral_date",
    "version",
]
# Values that make a field valid, so that some examples are accepted; {…} is filled in.
PLAUSIBLE = [
    "Robin",
    "English",
    "1990-05-17",
    "{today}",
    "self",
    "{program}",
    "{other_program}",
    "{version}",
    "",
    "1",
    "robin@example.org",
]


def fill(value: str, w: World, p: Participant) -> str:
    return (
        value.replace("{today}", day(w, 0))
        .replace("{program}", str(w.program.pk))
        .replace("{other_program}", str(w.other_program.pk))
        .replace("{version}", str(Participant.objects.get(pk=p.pk).version))
    )


@pytest.mark.parametrize("url_name", ["participants:new", "participants:edit"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start_valid=st.booleans(),
    data=st.dictionaries(
        st.one_of(st.sampled_from(PARTICIPANT_FORM_FIELDS), st.text(max_size=20)),
        st.one_of(st.text(), st.sampled_from(PLAUSIBLE)),
        max_size=25,
    ),
)
def test_arbitrary_text_never_breaks_the_participant_forms(
    client, login, hostile_world, url_name, start_valid, data
):
    w = hostile_world
    p = w.referred
    if url_name == "participants:new":
        login(w.intake)
        url = reverse(url_name)
        base = participant_new(w)
    else:
        login(w.counsellor)
        url = reverse(url_name, kwargs={"pk": p.pk})
        base = {**identity(Participant.objects.get(pk=p.pk)), "version": "{version}"}
    payload = {**base, **data} if start_valid else dict(data)
    payload = {k: fill(str(v), w, p) for k, v in payload.items()}
    before = fingerprint()
    response = client.post(
        url,
        data=urlencode(payload, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )
    event(f"status {response.status_code}")
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        assert response["Location"].startswith("/participants/")
    else:
        assert fingerprint() == before, changed_tables(before, fingerprint())


# --- intake and measures: what the generic cases cannot express ----------------------------


# Tables written as part of another record's audited change.
def add_schedule_records(world: World) -> None:
    """Another program's session and alert, a participant on the Evening track, a
    cancelled session, an answered engagement alert, a day the counsellor is booked."""
    from decimal import Decimal

    from openiop.attendance import rules
    from openiop.scheduling import services as schedule

    today = world.program.today()
    other = world.other_program
    outsider = world.outsider
    foreign_episode = world.foreign.current_episode
    world.records["foreign_session"] = schedule.create_session(
        schedule.SessionInput(
            program=other,
            session_type=other.session_types.first(),
            kind="individual",
            title="Individual",
            day=today + dt.timedelta(days=3),
            start=dt.time(10),
            end=dt.time(11),
            facilitator=outsider,
            room=other.site.rooms.first(),
        ),
        actor=outsider,
        episodes=[foreign_episode],
    )
    world.records["foreign_engagement"] = attendance_services.raise_alert(
        foreign_episode, "absences", "run-test", "2 absences in a row.", today
    )
    evening = make_participant(
        world.program, world.intake, last="Evening", status=S.ACTIVE, counsellor=world.counsellor
    )
    episode = evening.current_episode
    participant_services.update_episode(
        episode,
        actor=world.counsellor,
        changes={"track": world.program.tracks.get(name="Evening")},
        care_team=None,
        expected_version=episode.version,
        effective_date=episode.admission_date,
    )
    evening.refresh_from_db()
    world.participants["evening"] = evening
    cancelled = (
        Session.objects.filter(track__name="Morning", track__program=world.program, date__gt=today)
        .exclude(pk=world.future_session.pk)
        .order_by("starts_at")
        .first()
    )
    world.records["cancelled_session"] = schedule.cancel_session(
        cancelled, actor=world.counsellor, reason="Snow day"
    )
    answered = attendance_services.record_check_in(
        world.active.current_episode,
        rules.CheckInValues(
            mood=4, craving=9, used=False, substances="", stress=7, sleep_hours=Decimal("5")
        ),
        actor=world.counsellor,
    )
    alert = EngagementAlert.objects.get(key=f"checkin-{answered.pk}")
    world.records["answered_engagement_alert"] = attendance_services.resolve_alert(
        alert, actor=world.counsellor, note="Talked after group."
    )
    # The counsellor (the Morning facilitator) has an appointment on a day with no
    # Morning session in the generated range's future: generating that day clashes.
    clash_day = today + dt.timedelta(days=30)
    while clash_day.weekday() not in (0, 1, 3):
        clash_day += dt.timedelta(days=1)
    schedule.create_session(
        schedule.SessionInput(
            program=world.program,
            session_type=world.program.session_types.get(name="Individual"),
            kind="individual",
            title="Individual",
            day=clash_day,
            start=dt.time(11),
            end=dt.time(12),
            facilitator=world.counsellor,
            room=world.program.site.rooms.get(name="Room B"),
        ),
        actor=world.counsellor,
        episodes=[evening.current_episode],
    )
    world.records["clash_day"] = clash_day


AUDITED_AS = {
    "participants.episodetransition": "participants.episode",  # the "transition" event
    "core.sequence": "participants.participant",  # the record number of a registration
    "relapse.supportperson": "relapse.relapseplan",  # the plan's "change" event
    # A treatment plan's rows and signatures: the plan's "change" and "sign" events.
    "plans.problem": "plans.treatmentplan",
    "plans.goal": "plans.treatmentplan",
    "plans.objective": "plans.treatmentplan",
    "plans.planintervention": "plans.treatmentplan",
    "plans.plansignature": "plans.treatmentplan",
    # What an expected medication shows up as: its "create" event.
    "screening.expectedmedication_analytes": "screening.expectedmedication",
    # A panel's analyte lines: the panel's "change" event.
    "screening.panelanalyte": "screening.panel",
}
WRITES = {"create", "change", "transition", "sign", "void"}


@pytest.mark.parametrize(
    "key",
    sorted(
        k
        for k in ENDPOINTS
        if k.split(":")[0]
        in (
            "intake",
            "measures",
            "instruments",
            "scheduling",
            "check_ins",
            "attendance",
            "notes",
            "notes_home",
            "contacts",
            "relapse",
            "plans",
            "teds_items",
            "alumni",
            # Issue 12, H5: API clients and their tokens.
            "api_clients",
        )
        # The clinical screening forms (the lab's custody steps are audited with their
        # collection or results).
        or k
        in (
            "participant_screening:review",
            "participant_screening:medications",
            "participant_screening:medication_end",
            "screening:policy",
        )
        # Panel set-up: a panel's lines are audited as the panel's change.
        or k.startswith(("screening:panel", "screening:analytes"))
    ),
)
def test_every_record_the_valid_payload_writes_is_audited(client, login, hostile_world, key):
    ep = ENDPOINTS[key]
    before = fingerprint()
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = send(client, login, hostile_world, ep, ep.valid(hostile_world))
    assert response.status_code == 302
    events = AuditEvent.objects.filter(pk__gt=since, action__in=WRITES)
    assert {e.actor_id for e in events} == {hostile_world.users[ep.persona].pk}
    audited = set(events.values_list("object_type", flat=True))
    for label in changed_tables(before, fingerprint()):
        assert AUDITED_AS.get(label.lower(), label.lower()) in audited, (label, audited)


def post_new_referral(client, login, w: World, **changes: Any):
    login(w.intake)
    return client.post(reverse("intake:new"), {**referral_new_valid(w), **changes})


def test_a_possible_duplicate_is_shown_and_nothing_is_written(client, login, hostile_world):
    w = hostile_world
    before = fingerprint()
    response = post_new_referral(
        client, login, w, legal_last_name=" REFERRED ", date_of_birth=MAKE_PARTICIPANT_DOB
    )
    assert response.status_code == 400
    assert [p.pk for p in response.context["duplicates"]] == [w.referred.pk]
    assert b"already on record" in response.content
    assert fingerprint() == before


def test_a_different_person_with_the_same_name_and_birth_date_is_registered_when_confirmed(
    client, login, hostile_world
):
    w = hostile_world
    response = post_new_referral(
        client,
        login,
        w,
        legal_last_name="Referred",
        date_of_birth=MAKE_PARTICIPANT_DOB,
        confirm_new="on",
    )
    assert response.status_code == 302
    people = Participant.objects.filter(legal_last_name="Referred", date_of_birth="1990-05-17")
    assert people.count() == 2
    newcomer = people.exclude(pk=w.referred.pk).get()
    assert Referral.objects.get(participant=newcomer).urgency == "urgent"


def test_a_returning_person_is_referred_on_their_own_record(client, login, hostile_world):
    """Linking to the duplicate opens a new episode for them: no second participant."""
    w = hostile_world
    people = Participant.objects.count()
    response = post_new_referral(
        client,
        login,
        w,
        legal_last_name="Closed",
        date_of_birth=MAKE_PARTICIPANT_DOB,
        existing=w.closed.pk,
    )
    assert response.status_code == 302
    assert Participant.objects.count() == people
    closed = Participant.objects.get(pk=w.closed.pk)
    assert closed.episodes.count() == 2
    assert closed.current_episode.status == S.REFERRED
    assert Referral.objects.get(episode=closed.current_episode).reason


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        (NO_RATINGS, "Rate every dimension"),
        ({"chosen_level": "3:2.5"}, "write the reason"),
    ],
    ids=["without ratings", "override without a reason"],
)
def test_signing_a_new_assessment_that_cannot_be_signed_keeps_it_as_a_draft(
    client, login, hostile_world, changes, why
):
    """By design the new assessment is saved as a draft (nothing typed is lost), not
    signed, and the episode does not move; the message says what is missing."""
    w = hostile_world
    login(w.counsellor)
    episode_pk = w.referred.current_episode_id
    url = reverse("intake:assessment_new", kwargs={"episode_pk": episode_pk})
    response = client.post(url, {**assessment_valid(w, "sign"), **changes}, follow=True)
    draft = Assessment.objects.get(episode_id=episode_pk)
    assert response.redirect_chain[0][0] == reverse("intake:assessment_edit", args=[draft.pk])
    assert not draft.is_signed and draft.signed_at is None
    assert Episode.objects.get(pk=episode_pk).status == S.REFERRED
    assert why in response.content.decode()


def test_posting_to_a_signed_assessment_changes_nothing(client, login, hostile_world):
    w = hostile_world
    login(w.counsellor)
    signed = w.signed_assessment
    before = fingerprint()
    payload = {**assessment_valid(w, "save"), **NO_RATINGS, "version": signed.version}
    response = client.post(reverse("intake:assessment_edit", args=[signed.pk]), payload)
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:assessment", args=[signed.pk])
    assert fingerprint() == before


def test_posting_a_new_assessment_beside_a_draft_changes_nothing(client, login, hostile_world):
    """One draft per episode: the form sends the user to the draft instead."""
    w = hostile_world
    login(w.counsellor)
    before = fingerprint()
    response = client.post(
        reverse("intake:assessment_new", kwargs={"episode_pk": w.screening.current_episode_id}),
        assessment_valid(w, "sign"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:assessment_edit", args=[w.draft_assessment.pk])
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("sex", "band"),
    [("male", "Negative"), ("female", "Positive"), ("", "Positive")],
    ids=["male", "female", "not recorded (the lower cut-off)"],
)
def test_audit_c_cut_off_follows_the_sex_given(client, login, hostile_world, sex, band):
    w = hostile_world
    login(w.intake)
    url = reverse("measures:give", kwargs={"pk": w.screening.pk, "code": "AUDIT-C"})
    response = client.post(url, give_valid(w, [1, 1, 1], occasion="admission", sex=sex))
    assert response.status_code == 302
    given = InstrumentResponse.objects.filter(participant=w.screening).latest("pk")
    assert (given.instrument, given.total, given.band) == ("AUDIT-C", 3, band)


def test_a_documented_response_closes_the_alert_once(client, login, hostile_world):
    w = hostile_world
    ep = ENDPOINTS["instruments:alert"]
    assert send(client, login, w, ep, ep.valid(w)).status_code == 302
    alert = SafetyAlert.objects.get(pk=w.alert.pk)
    assert not alert.is_open and alert.resolved_by == w.counsellor
    assert alert.actions == ["assessed", "safety_plan", "crisis_line"]
    # A colleague answering the same alert a moment later is told, and changes nothing.
    before = fingerprint()
    response = send(client, login, w, ep, {**ep.valid(w), AS: "supervisor"})
    assert response.status_code == 400
    assert "already documented a response" in response.content.decode()
    assert fingerprint() == before


# --- H3: the audit log's filter form and its Verify button (issue 8, point 6). They write
# nothing but audit events, so they are not in ENDPOINTS (whose valid payload must change a
# record): a hostile filter is refused with a form error (400) or, when it leaves nothing
# to filter by, redirected to the log; never a 500, never a record number in the address.

H3_AUDIT: dict[str, Endpoint] = {
    "core:audit_log": Endpoint(
        "core:audit_log",
        "compliance",
        lambda w: {},
        {
            "participant": TEXT,
            "user": TEXT,
            "action": CHOICE,
            "date_from": DATE,
            "date_to": DATE,
            "sort": CHOICE,
        },
        (),
        lambda w: {
            "participant": w.active.record_number,
            "user": "counsellor",
            "action": "view",
            "date_from": "2020-01-01",
            "date_to": "2999-12-31",
            "sort": "-actor_username",
        },
        {
            "to before from": replace(date_from="2026-03-02", date_to="2026-03-01"),
            "year 1": replace(date_from="0001-01-01"),
            "year 9999": replace(date_to="9999-12-31"),
            "an unknown record number": replace(participant="OI-999999-0"),
            "an internal id for a record number": replace(participant=lambda w: w.active.pk),
            "SQL in the sort": replace(sort="at; DROP TABLE core_auditevent"),
            "a field that is not sortable": replace(sort="hash"),
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as the outsider": replace(**{AS: "outsider"}),
            "anonymous": replace(**{AS: None}),
        },
    ),
    "core:audit_verify": Endpoint(
        "core:audit_verify",
        "compliance",
        lambda w: {},
        {"anchor": TEXT},  # not a field of the button: ignored, whatever it holds
        (),
        lambda w: {},
        {
            "as the counsellor": replace(**{AS: "counsellor"}),
            "as billing": replace(**{AS: "billing"}),
        },
    ),
}


@pytest.mark.parametrize("key", sorted(H3_AUDIT))
def test_h3_audit_forms_refuse_hostile_input(client, login, hostile_world, key):
    w = hostile_world
    ep = H3_AUDIT[key]
    valid = {**ep.valid(w), "anchor": "x"} if key == "core:audit_verify" else ep.valid(w)
    log = reverse("core:audit_log")
    response = send(client, login, w, ep, valid)
    assert response.status_code == 302 and response["Location"].startswith(log)
    problems = []
    before = fingerprint()
    for name, case in generic_cases(ep).items():
        payload = case(w, valid)
        response = send(client, login, w, ep, payload)
        problem = refusal_problem(ep, response)
        if response.status_code == 302:
            location = response["Location"]
            anonymous = payload.get(AS, ep.persona) is None
            problem = None if location.startswith(log) or anonymous else problem
            if w.active.record_number.lower() in location.lower():
                problem = f"the record number reached the address: {location}"
        if fingerprint() != before:
            problem = (problem or "refused") + ", but changed a record"
        if problem:
            problems.append(f"{name}: {problem}")
    assert not problems, f"{key}: {len(problems)} problems\n" + "\n".join(problems)


# --- H2: automatic log-off, the idle script's endpoints (JSON answers, not forms) ----------
# Parking a page's forms and marking a parked form given back: hostile input is refused
# with 400 (or 404 for a draft that is not the user's), never a 500, and nothing is kept.


def _park_valid(w: World) -> Payload:
    path = reverse("participants:edit", args=[w.active.pk])
    fields = [["preferred_name", "Sam"], ["phone", "(207) 555-0101"]]
    return {"path": path, "forms": json.dumps([{"action": path, "index": 1, "fields": fields}])}


PARK_CASES: dict[str, Case] = {
    "empty POST": lambda w, v: {},
    "every field 100,000 characters": lambda w, v: {k: HUGE for k in v},
    "JSON body": lambda w, v: {**v, JSON_BODY: True},
    "1,500 fields": lambda w, v: {**v, **{f"extra{i}": "1" for i in range(1500)}},
    "3 MB body": lambda w, v: {**v, "padding": "x" * 3_000_000},
    "path: NUL": replace(path=lambda w: _park_valid(w)["path"] + "\x00"),
    "path: another site": replace(path="https://evil.example/participants/"),
    "path: protocol-relative": replace(path="//evil.example/"),
    "path: javascript": replace(path="javascript:alert(1)"),
    "path: several values": lambda w, v: {**v, "path": [v["path"], "https://evil.example/"]},
    "forms: not JSON": replace(forms="{"),
    "forms: NUL": replace(forms="\x00"),
    "forms: a number": replace(forms="1"),
    "forms: nested too deep": replace(forms="[" * 50_000 + "]" * 50_000),
    "forms: a field that is an object": replace(forms='[{"fields": [{"name": "a"}]}]'),
    "forms: values not strings": replace(forms='[{"fields": [["a", null]]}]'),
    "forms: 600 fields": replace(forms=json.dumps([{"fields": [["a", "b"]] * 600}])),
    "forms: 30 forms": replace(forms=json.dumps([{"fields": [["a", "b"]]}] * 30)),
}


def _send_idle(client, url: str, payload: Payload):
    payload = dict(payload)
    if payload.pop(JSON_BODY, False):
        return client.post(url, data=json.dumps(payload), content_type="application/json")
    return client.post(
        url, data=urlencode(payload, doseq=True), content_type="application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize("late", [False, True], ids=["signed in", "after the time-out"])
def test_hostile_park_payloads_are_refused_and_keep_nothing(client, world, late):
    from openiop.accounts.models import ParkedDraft

    url = reverse("core:park")
    client.force_login(world.counsellor)
    assert _send_idle(client, url, _park_valid(world)).json() == {"parked": True}
    ParkedDraft.objects.all().delete()
    problems = []
    for name, case in PARK_CASES.items():
        client.force_login(world.counsellor)
        if late:  # the session timed out: the middleware parks what arrives, or nothing
            session = client.session
            session["openiop_idle_last"] = session["openiop_idle_last"] - 3600
            session.save()
        response = _send_idle(client, url, case(world, _park_valid(world)))
        expected = (200, 400) if late else (400,)  # late: refused drafts are simply not kept
        if response.status_code not in expected:
            problems.append(f"{name}: {response.status_code}")
        if ParkedDraft.objects.exists():
            problems.append(f"{name}: a draft was kept")
            ParkedDraft.objects.all().delete()
    assert not problems, "\n".join(problems)


def test_hostile_restored_payloads_are_refused(client, world):
    from openiop.accounts.models import ParkedDraft

    theirs = ParkedDraft.objects.create(user=world.supervisor, path="/", data={"forms": []})
    client.force_login(world.counsellor)
    url = reverse("core:park_restored")
    for draft in ["", "abc", "-1", "1.5", "1e3", TOO_BIG_INT, "1\x00", HUGE, str(theirs.pk)]:
        response = _send_idle(client, url, {"draft": draft})
        assert response.status_code in (400, 404), (draft[:20], response.status_code)
    assert _send_idle(client, url, {JSON_BODY: True, "draft": theirs.pk}).status_code == 400
    assert ParkedDraft.objects.get(pk=theirs.pk).restored_at is None


def test_hostile_idle_logout_and_keepalive_input_is_harmless(client, world):
    for payload in (
        {"next": "https://evil.example/", "minutes": TOO_BIG_INT},
        {"next": "//evil.example", "minutes": "-1"},
        {"next": "/\x00", "minutes": "\x00"},
        {"next": HUGE, "minutes": HUGE},
        {"next": ["/a/", "https://evil.example/"]},
    ):
        client.force_login(world.counsellor)
        response = _send_idle(client, reverse("core:idle_logout"), payload)
        assert response.status_code == 302
        assert response["Location"] in (
            f"{reverse('accounts:login')}?next=/",
            f"{reverse('accounts:login')}?next=/a/",
        )
    client.force_login(world.counsellor)
    for payload in ({"poll": HUGE}, {"poll": ["1", "0"]}, {"poll": "\x00"}, {JSON_BODY: True}):
        response = _send_idle(client, reverse("core:keepalive"), payload)
        assert response.status_code == 200 and response.json()["remaining"] > 0


# --- Issue 10: the outcomes dashboard's filters and its CSVs (GET forms that write nothing
# but audit events, so not in ENDPOINTS). Hostile filters give the page with a form error
# (400), a plain-text 400 saying what is wrong for a CSV, or a 404 for an unknown figure;
# never a 500. A track of another program is not one of the choices.

OUTCOMES: dict[str, Endpoint] = {
    name: Endpoint(
        name,
        "director",
        kwargs,
        {"date_from": DATE, "date_to": DATE, "track": FK, "source": CHOICE, "program": FK},
        (),
        lambda w: {
            "date_from": "2026-01-01",
            "date_to": "2026-03-31",
            "track": w.program.tracks.get(name="Evening").pk,
            "source": "court",
            "program": w.program.pk,
        },
        {
            "to before from": replace(date_from="2026-03-02", date_to="2026-03-01"),
            "eleven years": replace(date_from="2010-01-01", date_to="2021-01-02"),
            "year 1": replace(date_from="0001-01-01"),
            "year 9999": replace(date_to="9999-12-31"),
            "another program's track": replace(track=lambda w: w.other_program.tracks.first().pk),
            "another program": replace(program=lambda w: w.other_program.pk),
        },
    )
    for name, kwargs in (
        ("outcomes:dashboard", lambda w: {}),
        ("outcomes:csv", lambda w: {"figure": "retention"}),
    )
}


def _get_outcomes(client, w: World, ep: Endpoint, payload: Payload, figure: str | None = None):
    payload = {k: (v(w) if callable(v) else v) for k, v in payload.items()}
    payload.pop(JSON_BODY, None)
    client.force_login(w.director)
    kwargs = ep.kwargs(w) if figure is None else {"figure": figure}
    return client.get(reverse(ep.url, kwargs=kwargs), payload)


@pytest.mark.parametrize("key", sorted(OUTCOMES))
def test_outcomes_filters_refuse_hostile_input(client, hostile_world, key):
    w = hostile_world
    ep = OUTCOMES[key]
    valid = ep.valid(w)
    assert _get_outcomes(client, w, ep, valid).status_code == 200
    cases = {
        name: case
        for name, case in {**generic_cases(ep), **ep.cases}.items()
        if name not in ("3 MB body", "JSON body", "empty POST")
    }
    problems = []
    for name, case in cases.items():
        response = _get_outcomes(client, w, ep, case(w, valid))
        if response.status_code != 400:
            problems.append(f"{name}: {response.status_code}")
        elif key == "outcomes:dashboard" and "1,500" not in name:
            form = response.context.get("form") if response.context else None
            if not (form is not None and form.errors) and not response.context.get("problem"):
                problems.append(f"{name}: 400 without a form error")
    for figure in ("nope", "../etc", "census\x00"):
        status = client.get(f"/outcomes/csv/{figure}/").status_code
        if status != 404:
            problems.append(f"figure {figure!r}: {status}")
    assert not problems, f"{key}: {len(problems)} problems\n" + "\n".join(problems)
