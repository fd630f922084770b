"""Codes of the attendance letters. Labels are translated: the participant sees them in
the portal (issue 9, point 6); staff pages show them in English."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from openiop.privacy.choices import Purpose, RecipientKind


class LetterRecipient(models.TextChoices):
    EMPLOYER = "employer", _("Employer")
    LEGAL = "legal", _("Court, probation or parole")
    OTHER = "other", pgettext_lazy("letter recipient", "Someone else")


# What the gate is asked for each kind of recipient (42 CFR §2.31(a)(4)-(5), DOMAIN.md
# §2.3): the recipient kind and the purpose a consent must name. For "someone else" the
# participant starts the request, and "at the request of the patient" is a purpose §2.31(a)(5)
# accepts.
GATE_TERMS: dict[str, tuple[str, str]] = {
    LetterRecipient.EMPLOYER: (RecipientKind.EMPLOYER, Purpose.EMPLOYMENT),
    LetterRecipient.LEGAL: (RecipientKind.LEGAL, Purpose.LEGAL),
    LetterRecipient.OTHER: (RecipientKind.OTHER, Purpose.PATIENT_REQUEST),
}


class LetterStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("letter request status", "Waiting")
    PRODUCED = "produced", pgettext_lazy("letter request status", "Ready")
    DECLINED = "declined", pgettext_lazy("letter request status", "Declined")
    WITHDRAWN = "withdrawn", pgettext_lazy("letter request status", "Withdrawn")


class RequestedVia(models.TextChoices):
    PORTAL = "portal", "The participant, in the portal"
    STAFF = "staff", "Staff, from the chart"


def letter_kind_of(recipient_kind: str) -> str:
    """The letter's recipient kind for a gate recipient kind (the reverse of GATE_TERMS)."""
    for letter_kind, (kind, _purpose) in GATE_TERMS.items():
        if kind == recipient_kind:
            return str(letter_kind)
    return str(LetterRecipient.OTHER)
