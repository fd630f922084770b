"""Notes are reached through their participant (scoped, permission-checked, audited)."""

from __future__ import annotations

from django.http import Http404

from openiop.core.access import StaffRequest
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for
from openiop.participants.models import Participant

from .models import Note


def note_for(
    request: StaffRequest, pk: int, note_pk: int, perm: str = Perm.CLINICAL_VIEW
) -> tuple[Participant, Note]:
    participant = get_participant_for(request, pk, perm, action=AuditAction.VIEW, what="notes.note")
    try:
        note = Note.objects.select_related("author", "session", "program", "cosigned_by").get(
            pk=note_pk, participant=participant, voided=False
        )
    except Note.DoesNotExist:
        raise Http404("No such note for this participant") from None
    return participant, note
