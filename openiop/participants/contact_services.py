"""Every write to a participant's contacts: add, change (with a version check), void.
Atomic and audited, like the rest of `participants.services`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.records import lock_for_edit, save_change

from .models import Contact, Participant

CONTACT_FIELDS = [
    "name",
    "relationship",
    "phone",
    "email",
    "is_support",
    "is_emergency",
    "notes",
]
# A person has a handful of people around them; a list longer than this is a mistake
# (or an attack), not a life.
MAX_CONTACTS = 50


class ContactError(Exception):
    """A request refused; the message says why."""


def active_contacts(participant: Participant) -> Any:
    return Contact.objects.filter(participant=participant, voided=False)


def add_contact(participant: Participant, *, actor: Any, values: dict[str, Any]) -> Contact:
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.voided:
            raise ContactError("This participant's record was voided.")
        if active_contacts(locked).count() >= MAX_CONTACTS:
            raise ContactError(f"A participant can have at most {MAX_CONTACTS} contacts.")
        contact = Contact(
            participant=locked,
            created_by=actor,
            updated_by=actor,
            **{k: values[k] for k in CONTACT_FIELDS if k in values},
        )
        contact.save()
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=contact,
            # Names and phone numbers are PHI: the event says what kind of contact it is.
            changes={
                "relationship": [None, contact.relationship],
                "is_support": [None, contact.is_support],
                "is_emergency": [None, contact.is_emergency],
            },
        )
    return contact


def update_contact(
    contact: Contact, *, actor: Any, changes: dict[str, Any], expected_version: int
) -> Contact:
    with transaction.atomic():
        current = lock_for_edit(Contact, contact.pk, expected_version, what="contact")
        if current.voided:
            raise ContactError("This contact was voided; add them again if needed.")
        before = audit.snapshot(current, CONTACT_FIELDS)
        fields = [k for k in CONTACT_FIELDS if k in changes]
        for key in fields:
            setattr(current, key, changes[key])
        delta = audit.diff(before, audit.snapshot(current, CONTACT_FIELDS))
        save_change(current, actor=actor, fields=fields, changes=delta)
    return current


def void_contact(contact: Contact, *, actor: Any, reason: str) -> Contact:
    """The contact leaves every list and editor; signed plans that named them keep
    naming them."""
    reason = reason.strip()
    if not reason:
        raise ContactError("A reason is required to remove a contact.")
    with transaction.atomic():
        current = Contact.objects.select_for_update().get(pk=contact.pk)
        if current.voided:
            raise ContactError("This contact was already removed.")
        current.voided = True
        current.voided_at = timezone.now()
        current.voided_by = actor
        current.void_reason = reason[:500]
        current.version += 1
        current.updated_by = actor
        current.updated_at = current.voided_at
        current.save(
            update_fields=[
                "voided",
                "voided_at",
                "voided_by",
                "void_reason",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(AuditAction.VOID, actor=actor, obj=current, reason=reason[:500])
    return current
