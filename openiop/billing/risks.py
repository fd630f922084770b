"""Denial risks: the days of service a payer may refuse, why, and what to do about each
(issue 11, point 6; acceptance 1).

A day is **at risk** when it is not on a claim and `days.service_days` found at least one
`choices.Risk` standing between it and payment: a session without a signed (or
co-signed) note, no coverage or coverage ended, no authorisation or every one used up,
telehealth the payer does not pay, no diagnosis on the episode, no consent that lets the
program tell the payer (42 CFR Part 2, DOMAIN.md §2), or the payer's filing deadline
near (DOMAIN.md §6).

`days_at_risk(program, start, end, *, today)` answers a `RiskReport`: the days, one row
per risk with what to do (`fix`) and where to do it (`link`), and the count of days per
reason. It reads what `service_days` reads plus one query for the authors of the notes
to chase: a fixed number of queries whatever the number of days.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse

from openiop.notes.models import Note

from . import days as billing_days
from .choices import Risk
from .days import NoteState, ServiceDay

# The order reasons are listed in: what blocks the day before what delays it.
ORDER = [
    Risk.NOTE_MISSING,
    Risk.NOTE_UNSIGNED,
    Risk.NOTE_COSIGN,
    Risk.NO_COVERAGE,
    Risk.COVERAGE_ENDED,
    Risk.NO_AUTH,
    Risk.AUTH_EXHAUSTED,
    Risk.TELEHEALTH_NOT_COVERED,
    Risk.NO_DIAGNOSIS,
    Risk.NO_CONSENT,
    Risk.FILING_LIMIT,
]
NOTE_STATE_OF: dict[str, str] = {
    Risk.NOTE_MISSING: NoteState.MISSING,
    Risk.NOTE_UNSIGNED: NoteState.UNSIGNED,
    Risk.NOTE_COSIGN: NoteState.COSIGN,
}


@dataclass(frozen=True)
class RiskRow:
    day: ServiceDay
    code: str
    message: str
    fix: str
    link: str = ""
    link_text: str = ""

    @property
    def label(self) -> str:
        return str(Risk(self.code).label)


@dataclass
class RiskReport:
    start: dt.date
    end: dt.date
    days: list[ServiceDay] = field(default_factory=list)
    rows: list[RiskRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def by_reason(self) -> list[tuple[str, str, int]]:
        """(code, label, days) of every reason with at least one day, in ORDER."""
        return [(code, str(Risk(code).label), self.counts[code]) for code in ORDER if code in self]

    def __contains__(self, code: object) -> bool:
        return bool(self.counts.get(str(code)))


def _url(name: str, *args: Any) -> str:
    """The address of a page another part of billing provides; blank while it has none."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def at_risk(days: Iterable[ServiceDay]) -> list[ServiceDay]:
    """The days not on a claim with at least one risk."""
    return [d for d in days if not d.claimed and d.risks]


def fix_for(
    day: ServiceDay, code: str, message: str, authors: dict[int, str]
) -> tuple[str, str, str]:
    """(what to do, link, link text) for one risk of one day."""
    pid = day.participant_id
    payer = day.payer
    if code in NOTE_STATE_OF:
        state = NOTE_STATE_OF[code]
        part = next((p for p in day.parts if p.note == state), None)
        title = part.title if part else "the session"
        if code == Risk.NOTE_MISSING:
            return (
                f"Write the note for {title} of {day.day:%b} {day.day.day}",
                _url("notes:new", pid),
                "New note",
            )
        note_id = part.note_id if part else None
        link = _url("notes:detail", pid, note_id) if note_id else ""
        if code == Risk.NOTE_UNSIGNED:
            author = authors.get(note_id or 0, "its author")
            return f"Ask {author} to sign the note of {title}", link, "Open the note"
        return f"Ask a supervisor to co-sign the note of {title}", link, "Open the note"
    overview = _url("coverage:overview", pid)
    if code == Risk.NO_COVERAGE:
        return "Verify benefits and record the coverage (or self-pay)", overview, "Coverage"
    if code == Risk.COVERAGE_ENDED:
        return "Verify benefits: record the new coverage or self-pay", overview, "Coverage"
    if code == Risk.NO_AUTH:
        return (
            f"Ask {payer or 'the payer'} for an authorisation and record it",
            overview,
            ("Authorisations"),
        )
    if code == Risk.AUTH_EXHAUSTED:
        return (
            f"Request more days from {payer or 'the payer'} in concurrent review and record "
            "the renewal",
            overview,
            "Authorisations",
        )
    if code == Risk.TELEHEALTH_NOT_COVERED:
        return (
            f"Check {payer or 'the payer'}'s telehealth policy; bill the day to another payer "
            "or as self-pay",
            overview,
            "Coverage",
        )
    if code == Risk.NO_DIAGNOSIS:
        return "Record the diagnosis on the episode", _url("participants:chart", pid), "Chart"
    if code == Risk.NO_CONSENT:
        return (
            "Ask the participant to sign a consent for payment (42 CFR Part 2, DOMAIN.md §2)",
            _url("consents:list", pid),
            "Consents",
        )
    return "Put the day on a claim and submit it now", _url("billing:claims"), "Claims"


def report_for(
    days: Sequence[ServiceDay], start: dt.date, end: dt.date, *, fixes: bool = True
) -> RiskReport:
    """The report of days already computed by `service_days`. With `fixes`, one query
    more: the authors of the unsigned notes to chase (none when there is none); without,
    only the counts are meant to be read (the rows carry no advice)."""
    risky = at_risk(days)
    note_ids = {
        p.note_id for d in risky for p in d.parts if p.note_id and p.note == NoteState.UNSIGNED
    }
    authors: dict[int, str] = {}
    if fixes and note_ids:
        for pk, first, last, username in Note.objects.filter(pk__in=note_ids).values_list(
            "pk", "author__first_name", "author__last_name", "author__username"
        ):
            authors[pk] = f"{first} {last}".strip() or username
    rows: list[RiskRow] = []
    counts: Counter[str] = Counter()
    for d in risky:
        seen: set[str] = set()
        for code, message in d.risks:
            if fixes:
                fix, link, link_text = fix_for(d, code, message, authors)
                rows.append(RiskRow(d, code, message, fix, link, link_text))
            if code not in seen:
                counts[code] += 1
                seen.add(code)
    return RiskReport(start=start, end=end, days=risky, rows=rows, counts=dict(counts))


def days_at_risk(
    program: Any,
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date,
    participant_ids: Iterable[int] | None = None,
) -> RiskReport:
    """The service days of the program from `start` to `end` not on a claim with at least
    one risk, what to do about each, and how many days each reason touches."""
    days = billing_days.service_days(
        program, start, end, today=today, participant_ids=participant_ids
    )
    return report_for(days, start, end)
