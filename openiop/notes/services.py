"""Every write to notes: start a draft (or return to the one already open), autosave it
with a version check, sign it, add an addendum, co-sign it. Atomic and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.choices import IN_CARE

from .choices import SECTIONS, NoteFormat, NoteStatus
from .models import Addendum, Note, SignedRecordError

# A note signed more than this many days after the service is flagged as a late entry.
# Programs commonly require documentation within 72 hours of the service; the flag tells
# a reviewer (and a payer) the note was written from memory, it does not block signing.
LATE_AFTER_DAYS = 3
MAX_SECTION = 20000
MAX_MINUTES = 600
GROUP_ENTRY = (
    "This entry is part of a group note: write and sign it on the group note's screen "
    "(from the session's roster)."
)


class NoteError(Exception):
    """A request refused; the message says why."""


class DraftConflict(Exception):
    """Someone else saved the draft since this copy was loaded: nothing was written.
    `theirs` is the saved text, `version` its version, to show beside the author's."""

    def __init__(self, theirs: dict[str, str], version: int, by: str):
        self.theirs = theirs
        self.version = version
        self.by = by
        super().__init__(
            f"{by} saved this draft while you were typing. Your text was not saved over "
            "theirs: both are shown; copy what you need and save again."
        )


def section_keys(fmt: str) -> list[str]:
    return [key for key, _label, _prompt in SECTIONS[NoteFormat(fmt)]]


def clean_sections(fmt: str, sections: dict[str, Any]) -> dict[str, str]:
    """Only the format's sections, as text, each within the size limit."""
    out = {}
    for key in section_keys(fmt):
        value = sections.get(key, "")
        # Browsers send a textarea's line breaks as CRLF: keep them as "\n".
        text = (value if isinstance(value, str) else "").replace("\r\n", "\n")
        if "\x00" in text:
            raise NoteError("The text contains a character that cannot be saved (NUL).")
        if len(text) > MAX_SECTION:
            raise NoteError(f"A section can hold at most {MAX_SECTION:,} characters.")
        out[key] = text
    return out


def start_note(
    episode: Any,
    *,
    actor: Any,
    fmt: str,
    service_date: dt.date,
    minutes: int,
    session: Any = None,
) -> tuple[Note, bool]:
    """A new draft, or the author's draft already open for the same session (a returning
    author is taken back to it). Returns (note, created)."""
    if fmt not in NoteFormat.values or fmt == NoteFormat.GROUP:
        raise NoteError("Choose DAP, BIRP or SOAP.")
    if not 0 < minutes <= MAX_MINUTES:
        raise NoteError(f"The duration must be between 1 and {MAX_MINUTES} minutes.")
    if episode.status not in IN_CARE and episode.admission_date is None:
        raise NoteError("Progress notes are for participants admitted to the program.")
    if service_date > episode.program.today():
        raise NoteError("A note documents a service that happened: the date is in the future.")
    with transaction.atomic():
        if session is not None:
            open_draft = Note.objects.filter(
                session=session,
                episode=episode,
                author=actor,
                status=NoteStatus.DRAFT,
                voided=False,
                group_note__isnull=True,  # a group entry is written on the group's screen
            ).first()
            if open_draft is not None:
                return open_draft, False
        note = Note.objects.create(
            participant_id=episode.participant_id,
            episode=episode,
            program_id=episode.program_id,
            session=session,
            format=fmt,
            service_date=service_date,
            minutes=minutes,
            sections={key: "" for key in section_keys(fmt)},
            author=actor,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=note,
            changes={"format": fmt, "service_date": service_date.isoformat()},
        )
    return note, True


def save_draft(
    note: Note,
    *,
    actor: Any,
    sections: dict[str, Any],
    expected_version: int,
    service_date: dt.date | None = None,
    minutes: int | None = None,
    addressed: tuple[list[int], list[int]] | None = None,
) -> Note:
    """Autosave: the draft's text (and date, duration, and the plan's goals and
    objectives addressed, as (goal ids, objective ids)). A stale version is refused with
    the saved text (DraftConflict), never overwritten."""
    with transaction.atomic():
        current = Note.objects.select_for_update().get(pk=note.pk)
        if current.status == NoteStatus.SIGNED:
            raise SignedRecordError("This note is signed: add an addendum instead.")
        if current.voided:
            raise NoteError("This note was voided.")
        if current.group_note_id is not None:
            raise NoteError(GROUP_ENTRY)
        if current.version != expected_version:
            by = current.updated_by.display_name if current.updated_by else "Someone"
            raise DraftConflict(dict(current.sections), current.version, by)
        cleaned = clean_sections(current.format, sections)
        fields = ["sections"]
        if service_date is not None:
            if service_date > current.program.today():
                raise NoteError("The service date is in the future.")
            current.service_date = service_date
            fields.append("service_date")
        if minutes is not None:
            if not 0 < minutes <= MAX_MINUTES:
                raise NoteError(f"The duration must be between 1 and {MAX_MINUTES} minutes.")
            current.minutes = minutes
            fields.append("minutes")
        if addressed is not None:
            _set_addressed(current, *addressed)
        current.sections = cleaned
        current.version += 1
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
        # Autosaves are frequent: audited as changes without the text (the text is PHI
        # and is in the note itself).
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"draft_saved": current.version},
        )
    return current


def _set_addressed(note: Note, goal_ids: list[int], objective_ids: list[int]) -> None:
    """Raises goals.GoalChoiceError (bad input: 400) for ids not on the signed plan."""
    from .goals import addressable_goals, check_choice

    offered = addressable_goals([note.episode_id])[note.episode_id]
    goals, objectives = check_choice(offered, goal_ids, objective_ids)
    if sorted(note.goals_addressed.values_list("pk", flat=True)) != goals:
        note.goals_addressed.set(goals)
    if sorted(note.objectives_addressed.values_list("pk", flat=True)) != objectives:
        note.objectives_addressed.set(objectives)


def check_complete(fmt: str, sections: dict[str, Any]) -> None:
    """NoteError naming the sections still empty, if any."""
    empty = [
        label
        for key, label, _prompt in SECTIONS[NoteFormat(fmt)]
        if not str(sections.get(key, "") or "").strip()
    ]
    if empty:
        raise NoteError("Write every section before signing: " + ", ".join(empty) + ".")


def sign_note(note: Note, *, actor: Any, expected_version: int, now: dt.datetime | None = None):
    """Sign: every section written, then locked for good. Late entries are flagged;
    a supervisee's note goes to the co-signature queue."""
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            Note.objects.select_for_update(of=("self",)).select_related("program").get(pk=note.pk)
        )
        if current.status == NoteStatus.SIGNED:
            raise NoteError("This note is already signed.")
        if current.version != expected_version:
            by = current.updated_by.display_name if current.updated_by else "Someone"
            raise DraftConflict(dict(current.sections), current.version, by)
        if current.group_note_id is not None:
            raise NoteError(GROUP_ENTRY)
        if current.author_id != actor.pk:
            raise NoteError("Only the author signs a note.")
        check_complete(current.format, current.sections)
        signed_day = current.program.today(now)
        current.status = NoteStatus.SIGNED
        current.signed_at = now
        current.signed_name = actor.display_name
        current.late_entry = (signed_day - current.service_date).days > LATE_AFTER_DAYS
        current.cosign_required = bool(getattr(actor, "notes_need_cosign", False))
        current.version += 1
        current.updated_by = actor
        current.updated_at = now
        current.save(
            update_fields=[
                "status",
                "signed_at",
                "signed_name",
                "late_entry",
                "cosign_required",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.SIGN,
            actor=actor,
            obj=current,
            changes={"late_entry": current.late_entry, "cosign_required": current.cosign_required},
        )
    return current


def add_addendum(note: Note, *, actor: Any, text: str) -> Addendum:
    text = text.strip()
    if "\x00" in text:
        raise NoteError("The text contains a character that cannot be saved (NUL).")
    if not text:
        raise NoteError("Write the addendum.")
    if len(text) > 10000:
        raise NoteError("An addendum can hold at most 10,000 characters.")
    with transaction.atomic():
        current = Note.objects.select_for_update().get(pk=note.pk)
        if current.status != NoteStatus.SIGNED:
            raise NoteError("A draft is edited directly; addenda are for signed notes.")
        addendum = Addendum.objects.create(
            note=current, text=text, author=actor, signed_name=actor.display_name
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=addendum,
            object_repr=f"addendum to note {current.pk}",
            participant_id=current.participant_id,
        )
    return addendum


def cosign_note(note: Note, *, actor: Any) -> Note:
    with transaction.atomic():
        current = Note.objects.select_for_update().get(pk=note.pk)
        if not current.awaiting_cosign:
            raise NoteError("This note is not waiting for a co-signature.")
        if current.author_id == actor.pk:
            raise NoteError("A co-signature is someone else's: ask your supervisor.")
        current.cosigned_at = timezone.now()
        current.cosigned_by = actor
        current.cosigned_name = actor.display_name
        current.version += 1
        current.save(update_fields=["cosigned_at", "cosigned_by", "cosigned_name", "version"])
        audit.record(AuditAction.SIGN, actor=actor, obj=current, changes={"cosigned": True})
    return current
