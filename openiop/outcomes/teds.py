"""TEDS admission (TEDS-A) and discharge (TEDS-D) records, built and validated.

Pure functions: they read the objects they are given and run no query (the export page
loads every episode of a period in a fixed number of queries and hands them here).

A record is a row of values named by the public-use-file (PUF) element names of
DOMAIN.md §8.1, plus the list of its problems. Each problem names the element, the value
found and why it is wrong. A record with any problem is never written to the file: the
export page lists it for staff to fix instead (issue 10, point 5).

Where each value comes from:

- System Data Set (SDS): STFIPS, the state's FIPS code, from the setting
  `OPENIOP_TEDS_STATE` (a two-letter postal code, e.g. "ME"); PROVIDER_ID from
  `OPENIOP_TEDS_PROVIDER_ID` (the identifier the state gave the program); CLIENT_ID, a
  stable id that does not identify the person (`client_id`); CODEPEND 2 (the people
  reported are clients, not co-dependents); TRANTYPE "A" (an admission; transfers within
  an episode are not reported yet).
- From the episode: ADMDATE (the admission date: the day of the first direct service),
  SERVICES (the level of care through `teds_codes.SERVICE_FOR_LEVEL`), PSOURCE (the
  referral source through `participants.choices.TEDS_PSOURCE`), DAYWAIT (days from the
  referral to the admission, banded by `teds_codes.days_waiting_code`); AGE is the age on
  the admission date, from the date of birth.
- The admission items recorded at intake (`intake.models.TedsAdmission`, rules in
  `intake.teds_services.check_items`).
- A discharge: DISDATE and LASTCONTACT from the discharge record, LOS (days from
  admission to discharge, counting both: a same-day discharge is 1 ◐), SERVICES_D (the
  level of care at discharge, or the episode's), REASON (`Discharge.teds_reason`) and the
  items asked again at discharge.

Dates are written YYYYMMDD, codes as their numbers, and an element that does not apply
(route of a substance "None", pregnancy of a man) as an empty value.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

from openiop.intake import teds_services as items_rules
from openiop.intake.teds_services import Problem
from openiop.participants import teds_codes as codes

if TYPE_CHECKING:
    from openiop.discharge.models import Discharge
    from openiop.intake.models import TedsAdmission
    from openiop.participants.models import Episode, Participant

ADMISSIONS = "admissions"
DISCHARGES = "discharges"
KINDS = (ADMISSIONS, DISCHARGES)

SDS_COLUMNS = ("STFIPS", "PROVIDER_ID", "CLIENT_ID", "CODEPEND", "TRANTYPE")
ADMISSION_COLUMNS: tuple[str, ...] = (
    *SDS_COLUMNS,
    "ADMDATE",
    "SERVICES",
    "PSOURCE",
    "DAYWAIT",
    "AGE",
    *(element for _f, element, _c in items_rules.DEMOGRAPHICS),
    *(element for _f, element, _c in items_rules.LEGAL),
    *(element for _f, element, _c in items_rules.MENTAL_HEALTH),
    *(element for _f, element, _c in items_rules.HISTORY),
    *(
        f"{k}{n}"
        for n in items_rules.SUBSTANCE_NUMBERS
        for k in ("SUB", "ROUTE", "FREQ", "FRSTUSE")
    ),
)
# Discharge items (DOMAIN.md §8.1, "at discharge again"): Discharge field → element, codes.
DISCHARGE_ITEMS: tuple[tuple[str, str, type[models.IntegerChoices]], ...] = (
    ("sub1_d", "SUB1_D", codes.Substance),
    ("freq1_d", "FREQ1_D", codes.Frequency),
    ("employ_d", "EMPLOY_D", codes.Employment),
    ("livarag_d", "LIVARAG_D", codes.Living),
    ("arrests_d", "ARRESTS_D", codes.Arrests),
    ("self_help_d", "FREQ_ATND_SELF_HELP_D", codes.SelfHelp),
)
DISCHARGE_COLUMNS: tuple[str, ...] = (
    *SDS_COLUMNS,
    "ADMDATE",
    "DISDATE",
    "LASTCONTACT",
    "LOS",
    "SERVICES_D",
    "REASON",
    *(element for _f, element, _c in DISCHARGE_ITEMS),
)
COLUMNS = {ADMISSIONS: ADMISSION_COLUMNS, DISCHARGES: DISCHARGE_COLUMNS}

# State FIPS codes (the SDS state code), by postal abbreviation.
STATE_FIPS: dict[str, str] = {
    "AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09",
    "DE": "10", "DC": "11", "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17",
    "IN": "18", "IA": "19", "KS": "20", "KY": "21", "LA": "22", "ME": "23", "MD": "24",
    "MA": "25", "MI": "26", "MN": "27", "MS": "28", "MO": "29", "MT": "30", "NE": "31",
    "NV": "32", "NH": "33", "NJ": "34", "NM": "35", "NY": "36", "NC": "37", "ND": "38",
    "OH": "39", "OK": "40", "OR": "41", "PA": "42", "RI": "44", "SC": "45", "SD": "46",
    "TN": "47", "TX": "48", "UT": "49", "VT": "50", "VA": "51", "WA": "53", "WV": "54",
    "WI": "55", "WY": "56", "AS": "60", "GU": "66", "MP": "69", "PR": "72", "VI": "78",
}  # fmt: skip
PROVIDER_ID = re.compile(r"^[A-Za-z0-9-]{1,20}$")
CLIENT_ID_LENGTH = 16  # hex digits: 64 bits, no collision in any program's lifetime
CODEPEND_NO = "2"
ADMISSION_TRANSACTION = "A"


# --- the program's identity in the state's files ------------------------------------------


@dataclass(frozen=True)
class Provider:
    stfips: str  # "" when the state is not set or unknown
    provider_id: str
    client_key: bytes
    problems: tuple[Problem, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.problems


def provider_from_settings() -> Provider:
    """The SDS values from settings, and what is wrong with them (shown on the export page,
    which refuses to write a file until they are right)."""
    state = str(getattr(settings, "OPENIOP_TEDS_STATE", "") or "").strip().upper()
    provider_id = str(getattr(settings, "OPENIOP_TEDS_PROVIDER_ID", "") or "").strip()
    key = str(getattr(settings, "OPENIOP_TEDS_CLIENT_KEY", "") or settings.SECRET_KEY)
    problems = []
    if state not in STATE_FIPS:
        why = "OPENIOP_TEDS_STATE is not set" if not state else "not a US state or territory code"
        problems.append(Problem("STFIPS", state, f"{why}: set the program's state (e.g. ME)"))
    if not PROVIDER_ID.match(provider_id):
        why = (
            "OPENIOP_TEDS_PROVIDER_ID is not set"
            if not provider_id
            else "up to 20 letters, digits and dashes"
        )
        problems.append(
            Problem("PROVIDER_ID", provider_id, f"{why}: the identifier the state gave the program")
        )
    return Provider(
        stfips=STATE_FIPS.get(state, ""),
        provider_id=provider_id if PROVIDER_ID.match(provider_id) else "",
        client_key=key.encode(),
        problems=tuple(problems),
    )


def client_id(record_number: str, key: bytes) -> str:
    """A stable id for the state that does not identify the person: the first 16 hex digits
    of an HMAC-SHA256 of the record number under a secret key. The same participant gets
    the same id in every file (admissions and discharges match, readmissions link), and
    no one without the key can go from the id back to the record number."""
    digest = hmac.new(key, record_number.encode(), hashlib.sha256).hexdigest()
    return digest[:CLIENT_ID_LENGTH].upper()


# --- records ------------------------------------------------------------------------------


@dataclass
class TedsRecord:
    kind: str  # ADMISSIONS or DISCHARGES
    episode: Episode
    participant: Participant
    row: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


_date = items_rules.date_value


def _sds(participant: Participant, provider: Provider) -> dict[str, str]:
    return {
        "STFIPS": provider.stfips,
        "PROVIDER_ID": provider.provider_id,
        "CLIENT_ID": client_id(participant.record_number, provider.client_key),
        "CODEPEND": CODEPEND_NO,
        "TRANTYPE": ADMISSION_TRANSACTION,
    }


def _admission_date(episode: Episode, problems: list[Problem]) -> dt.date | None:
    if episode.admission_date is None:
        problems.append(Problem("ADMDATE", "", "the admission date is missing", missing=True))
    return episode.admission_date


def admission_record(
    episode: Episode, items: TedsAdmission | None, provider: Provider
) -> TedsRecord:
    """The TEDS-A record of an admitted episode (`items`: its TedsAdmission, or None)."""
    participant = episode.participant
    row = _sds(participant, provider)
    derived, problems = items_rules.derived_items(episode)
    row.update({d.element: d.value for d in derived})
    age = int(row["AGE"]) if row["AGE"] else None
    problems.extend(items_rules.check_items(items, age=age))
    applicable = set(items_rules.applicable_fields(items))
    for item_field, element in items_rules.ELEMENT.items():
        value = getattr(items, item_field, None) if items is not None else None
        row[element] = "" if value is None or item_field not in applicable else str(value)
    return TedsRecord(ADMISSIONS, episode, participant, row, _in_column_order(problems))


def discharge_record(
    episode: Episode, discharge: Discharge | None, provider: Provider
) -> TedsRecord:
    """The TEDS-D record of a discharged episode (`discharge`: its Discharge, or None
    when the episode was closed without one, which leaves the reason unrecorded)."""
    participant = episode.participant
    problems: list[Problem] = []
    row = _sds(participant, provider)
    admitted = _admission_date(episode, problems)
    row["ADMDATE"] = _date(admitted)
    discharged = discharge.discharge_date if discharge is not None else episode.discharge_date
    if discharged is None:
        problems.append(Problem("DISDATE", "", "the discharge date is missing", missing=True))
    elif discharge is not None and episode.discharge_date not in (None, discharged):
        problems.append(
            Problem(
                "DISDATE",
                _date(discharged),
                f"the episode was closed on another day ({_date(episode.discharge_date)})",
            )
        )
    row["DISDATE"] = _date(discharged)
    row["LOS"] = ""
    if admitted is not None and discharged is not None:
        if discharged < admitted:
            problems.append(
                Problem("DISDATE", _date(discharged), f"before the admission ({_date(admitted)})")
            )
        else:
            row["LOS"] = str((discharged - admitted).days + 1)
    level = episode.level_of_care
    if discharge is None:
        problems.append(
            Problem(
                "REASON",
                "",
                "no discharge is recorded for this episode: the reason is not recorded",
                missing=True,
            )
        )
        row["REASON"] = row["LASTCONTACT"] = ""
        row["SERVICES_D"] = items_rules.service_code(
            level, "SERVICES_D", problems, what="the level of care"
        )
        for _f, element, _c in DISCHARGE_ITEMS:
            problems.append(Problem(element, "", "not recorded (no discharge)", missing=True))
            row[element] = ""
        return TedsRecord(DISCHARGES, episode, participant, row, _in_column_order(problems))
    reason = _reason(discharge, problems)
    row["REASON"] = reason
    last = discharge.last_contact_date
    row["LASTCONTACT"] = _date(last)
    if last is None:
        problems.append(Problem("LASTCONTACT", "", "not recorded", missing=True))
    elif discharged is not None and last > discharged:
        problems.append(
            Problem("LASTCONTACT", _date(last), f"after the discharge ({_date(discharged)})")
        )
    elif admitted is not None and last < admitted:
        problems.append(
            Problem("LASTCONTACT", _date(last), f"before the admission ({_date(admitted)})")
        )
    row["SERVICES_D"] = items_rules.service_code(
        discharge.level_at_discharge or level,
        "SERVICES_D",
        problems,
        what="the level of care at discharge",
    )
    died = reason == str(int(codes.Reason.DEATH))
    for item_field, element, codes_class in DISCHARGE_ITEMS:
        value = getattr(discharge, item_field)
        row[element] = "" if value is None else str(value)
        if value is None:
            if died:
                continue  # nobody can be asked: the element stays empty
            if item_field == "freq1_d" and discharge.sub1_d == codes.Substance.NONE:
                continue  # no substance, no frequency
            problems.append(Problem(element, "", "not recorded", missing=True))
        elif not (isinstance(value, int) and value in codes_class.values):
            allowed = ", ".join(str(v) for v in codes_class.values)
            problems.append(
                Problem(element, str(value), f"not one of the element's codes ({allowed})")
            )
        elif item_field == "freq1_d" and discharge.sub1_d == codes.Substance.NONE:
            problems.append(Problem(element, str(value), "given for SUB1_D None (leave it empty)"))
    return TedsRecord(DISCHARGES, episode, participant, row, _in_column_order(problems))


def _reason(discharge: Discharge, problems: list[Problem]) -> str:
    try:
        return str(int(discharge.teds_reason))
    except KeyError:
        problems.append(
            Problem("REASON", str(discharge.reason), "the discharge reason maps to no REASON code")
        )
        return ""


_ORDER = {name: i for i, name in enumerate(dict.fromkeys(ADMISSION_COLUMNS + DISCHARGE_COLUMNS))}


def _in_column_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: _ORDER.get(p.element, len(_ORDER)))


# --- the file -----------------------------------------------------------------------------


def csv_text(kind: str, records: Iterable[TedsRecord]) -> str:
    """The CSV file of `kind`: a header of element names, then one row per VALID record.
    Records with problems are left out (the page lists them)."""
    columns = COLUMNS[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        if record.kind == kind and record.valid:
            writer.writerow([record.row[c] for c in columns])
    return out.getvalue()


def summary(records: list[TedsRecord]) -> dict[str, Any]:
    """Counts for the page and the audit event."""
    valid = sum(1 for r in records if r.valid)
    return {"records": len(records), "valid": valid, "with_problems": len(records) - valid}
