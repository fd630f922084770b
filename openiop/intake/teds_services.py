"""The TEDS admission items of an episode: their rules and the one way to record them.

The items are SAMHSA TEDS admission elements (DOMAIN.md §8.1) recorded at intake as codes
(`intake.models.TedsAdmission`). The rules here are pure functions used by both the form
(cross-field errors) and the TEDS export (`outcomes.teds`, which lists every problem of a
record and leaves the record out of the file), so the two cannot disagree:

- a value that is not one of its element's codes;
- a missing value (the form lets intake save what is known; the export refuses it);
- pregnancy recorded for a male, or missing for a female;
- a primary substance of "None" (that code is for co-dependents, who are not reported);
- SUB2 given without SUB1 (or SUB3 without SUB2); SUB2 or SUB3 equal to SUB1 or each other;
- route, frequency or age at first use missing for a substance, or given for "None";
- age at first use greater than the age at admission.

`record_teds_items` writes the items: version-checked (core.records), audited with the
values before and after, in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.records import StaleEdit, lock_for_edit, save_change
from openiop.participants import teds_codes as codes
from openiop.participants.choices import IN_CARE, TEDS_PSOURCE, EpisodeStatus
from openiop.participants.models import Episode

from .models import TedsAdmission

# Ages beyond this are not a person's age (age at first use when the age at admission is
# not known).
OLDEST = 120


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one element of a TEDS record."""

    element: str  # the element's public-use-file name, e.g. "SUB2"
    value: str  # the value found, "" when nothing is recorded
    why: str
    field: str = ""  # the form field to fix it in (intake's items), "" for derived items
    missing: bool = False  # nothing recorded (the form allows saving without it)


# Model field → (PUF element, code table). Order: the form's and the file's order.
DEMOGRAPHICS: tuple[tuple[str, str, type[models.IntegerChoices]], ...] = (
    ("sex", "GENDER", codes.Sex),
    ("race", "RACE", codes.Race),
    ("ethnicity", "ETHNIC", codes.Ethnicity),
    ("marital_status", "MARSTAT", codes.MaritalStatus),
    ("education", "EDUC", codes.Education),
    ("employment", "EMPLOY", codes.Employment),
    ("living", "LIVARAG", codes.Living),
    ("veteran", "VET", codes.YesNo),
    ("pregnant", "PREG", codes.YesNo),
)
HISTORY: tuple[tuple[str, str, type[models.IntegerChoices]], ...] = (
    ("prior_treatment", "NOPRIOR", codes.PriorTreatment),
    ("methuse", "METHUSE", codes.YesNo),
    ("self_help", "FREQ_ATND_SELF_HELP", codes.SelfHelp),
)
LEGAL: tuple[tuple[str, str, type[models.IntegerChoices]], ...] = (
    ("arrests", "ARRESTS", codes.Arrests),
)
MENTAL_HEALTH: tuple[tuple[str, str, type[models.IntegerChoices]], ...] = (
    ("psychiatric_problem", "PSYPROB", codes.YesNo),
)
SUBSTANCE_NUMBERS = (1, 2, 3)
ORDINAL = {1: "primary", 2: "secondary", 3: "tertiary"}

# Referral source → PSOURCE (participants.choices), keyed by the stored value.
PSOURCE: dict[str, int] = {str(source): code for source, code in TEDS_PSOURCE.items()}

# Every recordable item: model field → PUF element.
ELEMENT: dict[str, str] = {
    **{f: e for f, e, _ in (*DEMOGRAPHICS, *HISTORY, *LEGAL, *MENTAL_HEALTH)},
    **{f"{k}{n}": f"{k.upper()}{n}" for n in SUBSTANCE_NUMBERS for k in ("sub", "route", "freq")},
    **{f"frstuse{n}": f"FRSTUSE{n}" for n in SUBSTANCE_NUMBERS},
}
ITEM_FIELDS: tuple[str, ...] = tuple(
    [f for f, _, _ in (*DEMOGRAPHICS, *HISTORY, *LEGAL, *MENTAL_HEALTH)]
    + [f"{k}{n}" for n in SUBSTANCE_NUMBERS for k in ("sub", "route", "freq", "frstuse")]
)
# The statuses whose episode has been admitted: the items belong to an admission.
ADMITTED_OR_LATER = frozenset(IN_CARE | {EpisodeStatus.DISCHARGED, EpisodeStatus.ALUMNI})


class TedsRefused(Exception):
    """The items cannot be recorded for this episode (the message says why)."""


def label_of(codes_class: type[models.IntegerChoices], value: Any) -> str:
    """'2 (Alcohol)' for a known code, the bare value otherwise."""
    if value is None:
        return ""
    try:
        return f"{value} ({codes_class(value).label})"
    except ValueError:
        return str(value)


def _is_code(codes_class: type[models.IntegerChoices], value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in codes_class.values


def _coded(
    problems: list[Problem], field: str, codes_class: type[models.IntegerChoices], value: Any
) -> bool:
    """Record a problem unless `value` is one of the element's codes; True when it is."""
    element = ELEMENT[field]
    if value is None:
        problems.append(Problem(element, "", "not recorded", field, missing=True))
        return False
    if not _is_code(codes_class, value):
        allowed = ", ".join(str(v) for v in codes_class.values)
        problems.append(
            Problem(element, str(value), f"not one of the element's codes ({allowed})", field)
        )
        return False
    return True


def check_items(items: TedsAdmission | None, *, age: int | None) -> list[Problem]:
    """Every problem of an episode's TEDS admission items (None: nothing recorded yet).

    `age` is the age at admission (None when not known): ages at first use cannot exceed
    it. Never raises, whatever the values.
    """
    values: dict[str, Any] = {f: getattr(items, f, None) if items else None for f in ITEM_FIELDS}
    problems: list[Problem] = []
    for field, _element, codes_class in (*DEMOGRAPHICS, *HISTORY, *LEGAL, *MENTAL_HEALTH):
        if field == "pregnant":
            _pregnancy(problems, values["sex"], values["pregnant"])
        else:
            _coded(problems, field, codes_class, values[field])
    _substances(problems, values, age)
    return problems


def _pregnancy(problems: list[Problem], sex: Any, pregnant: Any) -> None:
    """PREG applies to women only: missing for a female, recorded for a male."""
    if pregnant is not None and not _is_code(codes.YesNo, pregnant):
        _coded(problems, "pregnant", codes.YesNo, pregnant)
    elif sex == codes.Sex.MALE and pregnant is not None:
        problems.append(
            Problem(
                "PREG",
                label_of(codes.YesNo, pregnant),
                "pregnancy is recorded only for a female (GENDER is male)",
                "pregnant",
            )
        )
    elif sex == codes.Sex.FEMALE and pregnant is None:
        problems.append(
            Problem("PREG", "", "pregnancy is missing for a female", "pregnant", missing=True)
        )


def _substances(problems: list[Problem], values: dict[str, Any], age: int | None) -> None:
    subs: dict[int, int | None] = {}  # n → a valid substance code (None: none to check)
    for n in SUBSTANCE_NUMBERS:
        field = f"sub{n}"
        value = values[field]
        valid = _coded(problems, field, codes.Substance, value)
        if value is None and n > 1:
            # Replace the generic "not recorded" with what to do about it.
            problems[-1] = Problem(
                f"SUB{n}",
                "",
                f"not recorded: choose None if there is no {ORDINAL[n]} substance",
                field,
                missing=True,
            )
        subs[n] = value if valid else None
    if subs[1] == codes.Substance.NONE:
        problems.append(
            Problem(
                "SUB1",
                label_of(codes.Substance, subs[1]),
                "a client admitted to treatment has a primary substance "
                "(None is for co-dependents, who are not reported)",
                "sub1",
            )
        )
    for n in (2, 3):
        if subs[n] in (None, codes.Substance.NONE):
            continue
        before = values[f"sub{n - 1}"]
        if subs[n - 1] in (None, codes.Substance.NONE):
            state = "not recorded" if before is None else f"is {label_of(codes.Substance, before)}"
            problems.append(
                Problem(
                    f"SUB{n}",
                    label_of(codes.Substance, subs[n]),
                    f"given without SUB{n - 1} (SUB{n - 1} {state})",
                    f"sub{n}",
                )
            )
    for n, m in ((2, 1), (3, 1), (3, 2)):
        if subs[n] not in (None, codes.Substance.NONE) and subs[n] == subs[m]:
            problems.append(
                Problem(
                    f"SUB{n}",
                    label_of(codes.Substance, subs[n]),
                    f"the same substance as SUB{m}",
                    f"sub{n}",
                )
            )
    for n in SUBSTANCE_NUMBERS:
        _substance_details(problems, n, subs[n], values, age)


def _substance_details(
    problems: list[Problem], n: int, sub: int | None, values: dict[str, Any], age: int | None
) -> None:
    """ROUTEn, FREQn and FRSTUSEn: required for a substance, empty for None."""
    for key, codes_class in (("route", codes.Route), ("freq", codes.Frequency)):
        field = f"{key}{n}"
        value = values[field]
        if value is not None and not _is_code(codes_class, value):
            _coded(problems, field, codes_class, value)
        elif sub == codes.Substance.NONE and value is not None:
            problems.append(
                Problem(
                    ELEMENT[field],
                    label_of(codes_class, value),
                    f"given for SUB{n} None (leave it empty)",
                    field,
                )
            )
        elif sub not in (None, codes.Substance.NONE) and value is None:
            problems.append(Problem(ELEMENT[field], "", f"missing for SUB{n}", field, missing=True))
    field = f"frstuse{n}"
    first = values[field]
    if first is not None and (
        not isinstance(first, int) or isinstance(first, bool) or not 0 <= first <= OLDEST
    ):
        problems.append(Problem(f"FRSTUSE{n}", str(first), f"not an age (0 to {OLDEST})", field))
    elif sub == codes.Substance.NONE and first is not None:
        problems.append(
            Problem(f"FRSTUSE{n}", str(first), f"given for SUB{n} None (leave it empty)", field)
        )
    elif sub not in (None, codes.Substance.NONE):
        if first is None:
            problems.append(Problem(f"FRSTUSE{n}", "", f"missing for SUB{n}", field, missing=True))
        elif age is not None and first > age:
            problems.append(
                Problem(
                    f"FRSTUSE{n}",
                    str(first),
                    f"greater than the age at admission ({age})",
                    field,
                )
            )


def applicable_fields(items: TedsAdmission | None) -> list[str]:
    """The items this episode needs: pregnancy only for a female (or sex not recorded);
    route, frequency and age at first use only for a substance other than None."""
    out = []
    for field in ITEM_FIELDS:
        if field == "pregnant" and getattr(items, "sex", None) == codes.Sex.MALE:
            continue
        substance = getattr(items, f"sub{field[-1]}", None)
        if field[:-1] in ("route", "freq", "frstuse") and substance == codes.Substance.NONE:
            continue
        out.append(field)
    return out


def age_at_admission(episode: Episode) -> int | None:
    """The participant's age on the admission date (None without one)."""
    if episode.admission_date is None:
        return None
    return episode.participant.age_on(episode.admission_date)


# --- writing ---------------------------------------------------------------------------


def record_teds_items(
    episode: Episode,
    *,
    actor: Any,
    values: Mapping[str, Any],
    expected_version: int,
) -> TedsAdmission:
    """Record (create or change) an episode's TEDS admission items.

    `expected_version` is the version the form was opened with (0: no items yet). Refused
    before admission (TedsRefused) and when someone saved in between (StaleEdit).
    """
    if episode.status not in ADMITTED_OR_LATER or episode.admission_date is None:
        raise TedsRefused(
            "TEDS admission items are recorded for an admitted episode; "
            "this one has not been admitted."
        )
    fields = [f for f in ITEM_FIELDS if f in values]
    with transaction.atomic():
        existing = (
            TedsAdmission.objects.select_for_update().filter(episode=episode).only("pk").first()
        )
        if existing is None:
            if expected_version != 0:
                raise StaleEdit(
                    "These TEDS items changed while you were editing. "
                    "Your changes were not saved; reload to see them."
                )
            items = TedsAdmission(
                episode=episode,
                participant_id=episode.participant_id,
                created_by=actor,
                updated_by=actor,
                **{f: values[f] for f in fields},
            )
            try:
                with transaction.atomic():
                    items.save()
            except IntegrityError:
                # A colleague created them a moment ago (one set of items per episode).
                raise StaleEdit(
                    "Someone else saved these TEDS items while you were editing. "
                    "Your changes were not saved; reload to see theirs."
                ) from None
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                obj=items,
                changes=audit.diff({}, audit.snapshot(items, list(ITEM_FIELDS))),
            )
            return items
        current = lock_for_edit(TedsAdmission, existing.pk, expected_version, what="TEDS items")
        before = audit.snapshot(current, list(ITEM_FIELDS))
        for field in fields:
            setattr(current, field, values[field])
        save_change(
            current,
            actor=actor,
            fields=fields,
            changes=audit.diff(before, audit.snapshot(current, list(ITEM_FIELDS))),
        )
    return current


# --- the items the record already holds ----------------------------------------------------


@dataclass(frozen=True)
class Derived:
    """An element taken from the record rather than asked: its value and where it comes
    from, for the form page (read-only) and the export."""

    element: str
    value: str  # the TEDS value as written to the file, "" when it cannot be derived
    shown: str  # the value with its label
    source: str


def date_value(value: dt.date | None) -> str:
    """TEDS dates: YYYYMMDD."""
    return value.strftime("%Y%m%d") if value else ""


def service_code(level: str, element: str, problems: list[Problem], *, what: str) -> str:
    """SERVICES / SERVICES_D of a level of care (teds_codes.SERVICE_FOR_LEVEL)."""
    if not level:
        problems.append(Problem(element, "", f"{what} is not recorded", missing=True))
        return ""
    service = codes.SERVICE_FOR_LEVEL.get(level)
    if service is None:
        problems.append(Problem(element, level, f"{what} {level} maps to no SERVICES code"))
        return ""
    return str(int(service))


def derived_items(episode: Episode) -> tuple[list[Derived], list[Problem]]:
    """ADMDATE, SERVICES, PSOURCE, DAYWAIT and AGE of an episode, and their problems.
    Reads the episode and its participant only (no query when they are loaded)."""
    problems: list[Problem] = []
    out: list[Derived] = []
    admitted = episode.admission_date
    if admitted is None:
        problems.append(Problem("ADMDATE", "", "the admission date is missing", missing=True))
    out.append(
        Derived(
            "ADMDATE",
            date_value(admitted),
            f"{admitted:%b} {admitted.day}, {admitted.year}" if admitted else "—",
            "the episode's admission date (the day of the first direct service)",
        )
    )
    services = service_code(episode.level_of_care, "SERVICES", problems, what="the level of care")
    out.append(
        Derived(
            "SERVICES",
            services,
            label_of(codes.Service, int(services)) if services else "—",
            f"the level of care ({episode.get_level_of_care_display() or 'not recorded'})",
        )
    )
    psource = PSOURCE.get(episode.referral_source)
    if psource is None:
        problems.append(
            Problem(
                "PSOURCE", str(episode.referral_source), "the referral source maps to no PSOURCE"
            )
        )
    out.append(
        Derived(
            "PSOURCE",
            str(psource) if psource is not None else "",
            label_of(codes.ReferralSource, psource) if psource is not None else "—",
            f"the referral source ({episode.get_referral_source_display()})",
        )
    )
    daywait = ""
    source = "days from the referral to the admission"
    if admitted is not None:
        wait = (admitted - episode.referral_date).days
        source = f"{wait} day{'s' if wait != 1 else ''} from the referral to the admission"
        if wait < 0:
            problems.append(
                Problem("DAYWAIT", str(wait), "the admission date is before the referral date")
            )
        else:
            daywait = str(int(codes.days_waiting_code(wait)))
    out.append(
        Derived(
            "DAYWAIT",
            daywait,
            label_of(codes.DaysWaiting, int(daywait)) if daywait else "—",
            source,
        )
    )
    age = age_at_admission(episode)
    shown_age = ""
    if age is not None:
        if 0 <= age <= OLDEST:
            shown_age = str(age)
        else:
            problems.append(
                Problem("AGE", str(age), "not an age: check the date of birth and admission date")
            )
    out.append(
        Derived("AGE", shown_age, shown_age or "—", "the date of birth, on the admission date")
    )
    return out, problems
