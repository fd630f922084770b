"""The rules of a discharge as plain functions, tested without HTTP or a database.

`problems(...)` answers every rule a discharge breaks as (field, message) pairs: the
form shows each beside its field, the service refuses with the first one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from openiop.participants.choices import IN_CARE

from .choices import TRANSITION_REASONS, DischargeReason


class DischargeRefused(Exception):
    """A discharge the rules do not allow; the message says why."""


def level_number(code: str) -> Decimal | None:
    """The ASAM number of a level-of-care code ('3:2.1' → 2.1, '4:4.0' → 4.0).

    The numbers are one scale across the 3rd and 4th editions (DOMAIN.md §1.1, §1.2),
    so a step up is a higher number whatever the edition of either level."""
    if not code:
        return None
    try:
        return Decimal(code.split(":", 1)[-1])
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Proposed:
    """A discharge as asked for, with what the rules need to know of the episode."""

    status: str  # the episode's status
    admission_date: dt.date | None
    level_of_care: str  # the episode's level
    today: dt.date  # the program's today
    discharge_date: dt.date
    last_contact_date: dt.date
    reason: str
    reason_detail: str = ""
    next_level: str = ""
    receiving_program: str = ""
    already_discharged: bool = False


def problems(d: Proposed) -> list[tuple[str | None, str]]:
    """Every rule `d` breaks, as (field or None, message)."""
    out: list[tuple[str | None, str]] = []
    if d.already_discharged:
        return [(None, "This episode has already been discharged: it has its discharge record.")]
    if d.status not in IN_CARE:
        return [
            (
                None,
                "Only an episode in care (admitted or active) can be discharged; "
                "this one is not.",
            )
        ]
    if d.reason not in DischargeReason.values:
        out.append(("reason", "Choose the reason for discharge."))
    if d.discharge_date > d.today:
        out.append(("discharge_date", "The discharge date cannot be in the future."))
    if d.last_contact_date > d.today:
        out.append(("last_contact_date", "The date of last contact cannot be in the future."))
    admitted = d.admission_date
    if admitted is not None:
        when = f"{admitted:%b %-d, %Y}"
        if d.discharge_date < admitted:
            out.append(
                ("discharge_date", f"The discharge date cannot be before the admission ({when}).")
            )
        if d.last_contact_date < admitted:
            out.append(
                (
                    "last_contact_date",
                    f"The date of last contact cannot be before the admission ({when}).",
                )
            )
    if d.last_contact_date > d.discharge_date:
        out.append(
            ("last_contact_date", "The date of last contact cannot be after the discharge date.")
        )
    if (
        d.reason != DischargeReason.COMPLETED
        and d.reason in DischargeReason.values
        and not d.reason_detail.strip()
    ):
        out.append(("reason_detail", "Say what happened: it is required unless completed."))
    if d.reason in TRANSITION_REASONS:
        out.extend(level_problems(d.reason, d.level_of_care, d.next_level))
        if not d.receiving_program.strip():
            out.append(("receiving_program", "Name the program that takes the participant on."))
    return out


def level_problems(reason: str, level: str, next_level: str) -> list[tuple[str | None, str]]:
    """A step up goes to a higher level of care, a step down to a lower one."""
    going = level_number(next_level)
    if going is None:
        return [("next_level", "Choose the level of care the participant goes to.")]
    here = level_number(level)
    if here is None:
        return []  # an episode without a level: nothing to compare with
    if reason == DischargeReason.STEP_UP and going <= here:
        return [
            (
                "next_level",
                f"A step up goes to a level higher than the current Level {here}.",
            )
        ]
    if reason == DischargeReason.STEP_DOWN and going >= here:
        return [
            (
                "next_level",
                f"A step down goes to a level lower than the current Level {here}.",
            )
        ]
    return []


def check(d: Proposed) -> None:
    """Raise DischargeRefused with the first problem, or return."""
    found = problems(d)
    if found:
        raise DischargeRefused(found[0][1])
