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
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openiop.accounts.models import RoleAssignment, User
from openiop.core.models import Sequence
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode, EpisodeTransition, Participant
from openiop.participants.services import PARTICIPANT_FIELDS
from openiop.programs.models import Program, Room, SessionType, Site, Topic, Track
from openiop.testing import PASSWORD, World, make_participant, make_program, make_user

HUGE = "x" * 100_000
TOO_BIG_INT = "99999999999999999999"  # beyond a 64-bit integer
NEW_PASSWORD = "plum-harbor-lantern-42"

# --- what the database holds ---------------------------------------------------------

FINGERPRINTED = [
    Participant,
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


def other_track(w: World) -> int:
    return w.other_program.tracks.first().pk


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
}


def edit_of(kind: str, obj: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"kind_name": kind, "pk": obj(w).pk}


ENDPOINTS: dict[str, Endpoint] = {
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
    "participants:episode_transition[admitted]": Endpoint(
        "participants:episode_transition",
        "counsellor",
        ep_kwargs("assessed", to_status="admitted"),
        ADMISSION_KINDS,
        ("effective_date", "level_of_care", "track", "primary_counsellor"),
        lambda w: {
            "effective_date": day(w, -1),
            "reason": "",
            "level_of_care": "3:2.1",
            "track": w.program.tracks.get(name="Evening").pk,
            "primary_counsellor": w.supervisor.pk,
        },
        {
            "another program's track": replace(track=other_track),
            "a retired track": replace(track=lambda w: w.program.tracks.get(retired=True).pk),
            "outsider as counsellor": replace(primary_counsellor=lambda w: w.outsider.pk),
            "lab (not clinical) as counsellor": replace(primary_counsellor=lambda w: w.lab.pk),
            "date in the future": replace(effective_date=lambda w: day(w, 2)),
            "date before the referral": replace(effective_date=lambda w: day(w, -31)),
        },
    ),
    "participants:episode_transition[discharged]": Endpoint(
        "participants:episode_transition",
        "counsellor",
        ep_kwargs("active", to_status="discharged"),
        TRANSITION_KINDS,
        ("effective_date", "reason"),
        lambda w: {"effective_date": day(w, -1), "reason": "Completed the program"},
        {
            "reason only spaces": replace(reason=" \t\n "),
            "date before the admission": replace(effective_date=lambda w: day(w, -29)),
            "date in the future": replace(effective_date=lambda w: day(w, 2)),
            "reason over 2000": replace(reason="r" * 2001),
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
        lambda w: {"title": "Relapse prevention", "description": "Triggers", "sequence": "2"},
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
        },
        form_error_200=True,
    ),
}


# --- the world and the requests --------------------------------------------------------


@pytest.fixture
def hostile_world(world: World) -> World:
    """The shared world plus the records the cases need (all before any fingerprint)."""
    intake = world.intake
    world.participants["assessed"] = make_participant(
        world.program, intake, last="Assessed", status=S.ASSESSED
    )
    world.participants["closed"] = make_participant(
        world.program, intake, last="Closed", status=S.NOT_ADMITTED
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
    User.objects.filter(pk=world.inactive.pk).update(is_active=False)
    return world


def send(client, login, world: World, ep: Endpoint, payload: Payload):
    payload = dict(payload)
    persona = payload.pop(AS, ep.persona)
    kwargs = payload.pop(KW, None)
    kwargs = kwargs(world) if callable(kwargs) else kwargs
    as_json = payload.pop(JSON_BODY, False)
    url_name = payload.pop(URL, ep.url)
    client.logout()
    if persona is not None:
        login(world.users[persona])
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
        if not form.is_bound or not form.errors:
            return "400 without a form error"
        return None
    if code in (400, 403, 404, 409):
        return None
    if code == 200 and ep.form_error_200:
        form = response.context["form"] if response.context else None
        if form is not None and form.errors:
            return None
        return "200 without a form error"
    where = f" to {response['Location']}" if code in (301, 302) else ""
    return f"status {code}{where}"


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
