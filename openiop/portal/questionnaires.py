"""Which questionnaires a participant answers alone in the portal, and which are due.

Self-report instruments only (DOMAIN.md §4): the PHQ-9, GAD-7, AUDIT, AUDIT-C, DAST-10,
BAM, PSS-10, PCL-5, PACS, the 0–10 craving rating and the BARC-10 are written to be
answered by the person. The C-SSRS screener is left out on purpose: it is an interview
with skip logic ("Ask questions 1 and 2…") and a positive answer needs a clinician in
the room, not a form on a phone. A safety answer on a self-report (PHQ-9 item 9) still
raises the same clinician alert as when staff enter it: answers go through
`instruments.services.record_response`.

What is due comes from `instruments.due` (the program's routine set and intervals): due
on or before today, not the "due soon" ones.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from openiop.instruments import catalogue
from openiop.instruments.definitions import Instrument, UnknownInstrument
from openiop.instruments.due import Due, due_for

SELF_ADMINISTERED = frozenset(
    {
        "PHQ-9",
        "GAD-7",
        "AUDIT",
        "AUDIT-C",
        "DAST-10",
        "BAM",
        "PSS-10",
        "PCL-5",
        "PACS",
        "CRAVING",
        "BARC-10",
    }
)

# The questionnaires in plain words, as the participant sees them.
PLAIN_NAMES = {
    "PHQ-9": gettext_lazy("Mood (PHQ-9)"),
    "GAD-7": gettext_lazy("Worry and anxiety (GAD-7)"),
    "AUDIT": gettext_lazy("Drinking (AUDIT)"),
    "AUDIT-C": gettext_lazy("Drinking (AUDIT-C)"),
    "DAST-10": gettext_lazy("Drug use (DAST-10)"),
    "PSS-10": gettext_lazy("Stress (PSS-10)"),
    "PCL-5": gettext_lazy("Stress after hard experiences (PCL-5)"),
    "PACS": gettext_lazy("Cravings over the past week (PACS)"),
    "CRAVING": gettext_lazy("Craving right now (0–10)"),
    "BARC-10": gettext_lazy("Recovery strengths (BARC-10)"),
    "BAM": gettext_lazy("Recovery check-up (BAM)"),
}


def plain_name(definition: Instrument) -> str:
    return str(PLAIN_NAMES.get(definition.code, definition.short_name))


def self_administered(program: Any, code: str) -> Instrument | None:
    """The instrument when the participant may answer it alone in this program."""
    if code not in SELF_ADMINISTERED:
        return None
    try:
        definition = catalogue.get(code)
    except UnknownInstrument:
        return None
    if not catalogue.enabled_for(program, definition.code):
        return None
    return definition


def due_now(episode: Any) -> list[Due]:
    """The episode's self-report questionnaires due today or overdue (two queries)."""
    if episode is None:
        return []
    return [
        d
        for d in due_for([episode], soon_days=0)
        if d.instrument.code in SELF_ADMINISTERED and d.due_on <= d.today
    ]


def due_one(episode: Any, code: str) -> Due | None:
    for due in due_now(episode):
        if due.instrument.code == code:
            return due
    return None


def due_items(episode: Any) -> list[dict[str, Any]]:
    """What the pages list: each due questionnaire's code, plain name and length."""
    return [
        {
            "code": d.instrument.code,
            "name": plain_name(d.instrument),
            "questions": len(d.instrument.items),
            "overdue": d.state == "overdue",
        }
        for d in due_now(episode)
    ]
