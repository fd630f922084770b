"""A note as PDF: its sections, the group narrative for a group entry, the signature
block (author, co-signer) and every addendum with its signature."""

from __future__ import annotations

from django.http import HttpResponse

from openiop.core.access import StaffRequest, staff_view
from openiop.core.pdf import pdf_response
from openiop.core.roles import Perm

from .access import note_for
from .choices import SECTIONS, NoteFormat
from .goals import addressed_by


def signatures_of(note) -> list[dict]:
    """The signature block of a note: the author and, when required, the co-signer."""
    rows = [
        {
            "role": "Author",
            "name": note.signed_name or note.author.display_name,
            "credential": "",
            "at": note.signed_at,
        }
    ]
    if note.cosign_required:
        rows.append(
            {
                "role": "Clinical supervisor (co-signature)",
                "name": note.cosigned_name,
                "credential": "",
                "at": note.cosigned_at,
            }
        )
    return rows


@staff_view(Perm.CLINICAL_VIEW)
def note_pdf(request: StaffRequest, pk: int, note_pk: int) -> HttpResponse:
    participant, note = note_for(request, pk, note_pk)
    rows = [
        {"label": label, "text": note.sections.get(key, "")}
        for key, label, _prompt in SECTIONS[NoteFormat(note.format)]
    ]
    group = None
    if note.group_note_id:
        group = note.group_note
    return pdf_response(
        request,
        "notes/pdf/note.html",
        {
            "title": f"{note.get_format_display()} {note.service_date:%Y-%m-%d}",
            "program_name": note.program.name,
            "header_right": f"{participant.display_name} · {participant.record_number}",
            "participant": participant,
            "note": note,
            "group": group,
            "rows": rows,
            "addenda": list(note.addenda.all()),
            "addressed_goals": addressed_by(note),
            "signatures": signatures_of(note),
        },
        f"note-{participant.record_number}-{note.service_date:%Y-%m-%d}",
    )
