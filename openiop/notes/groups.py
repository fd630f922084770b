"""Group notes: one narrative for the session, an entry for each participant who
attended (prefilled from attendance), written on one screen and signed together.

Absent members get no entry. The entries follow the attendance marks each time the note
is opened (`open_group_note`): someone marked as attending after the note was started
gets a new draft entry; a draft entry whose member is no longer marked as attending is
voided (kept, never deleted). Entries already signed, and a signed narrative, are never
touched: they keep their signature, and "Sign all" signs only what is still a draft.

Every write is atomic and audited. Edits carry the group note's version: a colleague's
save in between is refused (`DraftConflict`, with their text), never overwritten.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.attendance.choices import ATTENDED, AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.scheduling.choices import SessionKind, SessionStatus
from openiop.scheduling.models import Session

from .choices import REQUIRED_GROUP, SECTIONS, GroupModality, NoteFormat, NoteStatus
from .goals import addressable_goals
from .models import GroupNote, Note, SignedRecordError
from .services import LATE_AFTER_DAYS, MAX_SECTION, DraftConflict, NoteError, clean_sections

GROUP_SECTIONS = SECTIONS[NoteFormat.GROUP]
GROUP_KEYS = [key for key, _label, _prompt in GROUP_SECTIONS]

# What the participation box starts with, from the attendance mark.
PARTICIPATION: dict[str, str] = {
    AttendanceStatus.PRESENT: "Present for the whole session.",
    AttendanceStatus.TELEHEALTH: "Attended by telehealth for the whole session.",
    AttendanceStatus.LATE: "Arrived {missed} minutes late.",
    AttendanceStatus.LEFT_EARLY: "Left {missed} minutes early.",
}


class GroupInputError(NoteError):
    """The posted text cannot be saved (bad input, answered with 400)."""


def participation_text(mark: Attendance) -> str:
    return PARTICIPATION.get(mark.status, "").format(missed=mark.minutes_missed)


def field_name(entry: Note | int, key: str) -> str:
    """The form field of an entry's section: entry_<note id>_<key>."""
    pk = entry if isinstance(entry, int) else entry.pk
    return f"entry_{pk}_{key}"


def check_can_open(session: Session) -> None:
    """NoteError saying why this session cannot have a group note (yet)."""
    if session.kind != SessionKind.GROUP:
        raise NoteError(
            "Group notes are for group sessions: write an individual note for an appointment."
        )
    if session.status == SessionStatus.CANCELLED:
        raise NoteError("This session was cancelled: there is nothing to document.")
    if session.attendance_taken_at is None:
        raise NoteError(
            "Take attendance first: the group note has an entry for each person who attended."
        )


def _attended(session: Session) -> list[Attendance]:
    return list(
        Attendance.objects.filter(session=session, voided=False, status__in=sorted(ATTENDED))
    )


def open_group_note(session: Session, *, actor: Any) -> GroupNote:
    """The session's group note (started, with `actor` as its author, if there is none),
    its draft entries in step with attendance: a new draft for each participant who
    attended and has no entry; a draft voided when its member is no longer marked as
    attending. Signed entries are never touched. Runs a fixed number of queries when
    nothing changed."""
    with transaction.atomic():
        # The session's row serialises two people starting the note at the same moment.
        locked = Session.objects.select_for_update().get(pk=session.pk)
        check_can_open(locked)
        group = GroupNote.objects.filter(session=locked, voided=False).first()
        if group is None:
            group = GroupNote.objects.create(
                session=locked,
                program_id=locked.program_id,
                author=actor,
                topic_id=locked.topic_id,
                modality=(
                    GroupModality.PSYCHOEDUCATION if locked.topic_id else GroupModality.PROCESS
                ),
                created_by=actor,
                updated_by=actor,
            )
            audit.record(AuditAction.CREATE, actor=actor, obj=group, changes={"session": locked.pk})
        marks = {m.episode_id: m for m in _attended(locked)}
        existing = list(Note.objects.filter(group_note=group, voided=False))
        have = {e.episode_id for e in existing}
        now = timezone.now()
        for entry in existing:
            if entry.status == NoteStatus.DRAFT and entry.episode_id not in marks:
                entry.voided, entry.voided_at, entry.voided_by = True, now, actor
                entry.void_reason = "No longer marked as attending the session."
                entry.version += 1
                entry.updated_by, entry.updated_at = actor, now
                entry.save(
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
                audit.record(AuditAction.VOID, actor=actor, obj=entry, reason=entry.void_reason)
        new_marks = {e: m for e, m in marks.items() if e not in have}
        # Each new entry starts on the participant's first active goal (changeable).
        goals = addressable_goals(new_marks) if new_marks else {}
        for episode_id, mark in new_marks.items():
            entry = Note.objects.create(
                participant_id=mark.participant_id,
                episode_id=episode_id,
                program_id=locked.program_id,
                session=locked,
                group_note=group,
                format=NoteFormat.GROUP,
                service_date=locked.date,
                minutes=mark.minutes_attended,
                sections={
                    "participation": participation_text(mark),
                    "response": "",
                    "goal": "",
                },
                author_id=group.author_id,
                created_by=actor,
                updated_by=actor,
            )
            if goals.get(episode_id):
                entry.goals_addressed.set([goals[episode_id][0].pk])
            audit.record(
                AuditAction.CREATE, actor=actor, obj=entry, changes={"group_note": group.pk}
            )
    return group


def entries_of(group: GroupNote) -> list[Note]:
    """The group's entries (signed and drafts), by participant's name, with the plan goal
    each addressed."""
    return list(
        Note.objects.filter(group_note=group, voided=False)
        .select_related("participant")
        .prefetch_related("goals_addressed")
        .order_by("participant__legal_last_name", "participant__legal_first_name", "pk")
    )


# The form field of an entry's goal: a choice among the participant's active plan goals.
GOAL_CHOICE = "goal_id"


def _goal_choices(
    drafts: dict[int, Note], entries: dict[int, dict[str, Any]]
) -> dict[int, list[int]]:
    """{entry pk: [goal pk] or []} for the drafts whose goal was posted, checked against
    each participant's signed plan; GroupInputError otherwise."""
    posted = {
        pk: str(values[GOAL_CHOICE]).strip()
        for pk, values in entries.items()
        if pk in drafts and GOAL_CHOICE in values
    }
    if not posted:
        return {}
    offered = addressable_goals(drafts[pk].episode_id for pk in posted)
    out: dict[int, list[int]] = {}
    for pk, raw in posted.items():
        entry = drafts[pk]
        if raw == "":
            out[pk] = []
            continue
        allowed = {g.pk for g in offered.get(entry.episode_id, [])}
        if not (raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) in allowed):
            raise GroupInputError(
                f"{entry.participant.display_name}: choose the goal from their signed plan."
            )
        out[pk] = [int(raw)]
    return out


def _conflict(current: GroupNote, entries: list[Note]) -> DraftConflict:
    """What the colleague saved: the narrative and every draft entry, by form field."""
    theirs = {"narrative": current.narrative}
    for entry in entries:
        if entry.status == NoteStatus.DRAFT:
            for key in GROUP_KEYS:
                theirs[field_name(entry, key)] = str(entry.sections.get(key, ""))
    by = current.updated_by.display_name if current.updated_by else "Someone"
    return DraftConflict(theirs, current.version, by)


def clean_narrative(narrative: str) -> str:
    if "\x00" in narrative:
        raise GroupInputError("The narrative contains a character that cannot be saved (NUL).")
    narrative = narrative.replace("\r\n", "\n")
    if len(narrative) > MAX_SECTION:
        raise GroupInputError(f"The narrative can hold at most {MAX_SECTION:,} characters.")
    return narrative


def save_group_draft(
    group: GroupNote,
    *,
    actor: Any,
    expected_version: int,
    narrative: str | None = None,
    modality: str | None = None,
    entries: dict[int, dict[str, Any]] | None = None,
) -> GroupNote:
    """The narrative, the modality and the draft entries in one save. None (or a section
    left out) means unchanged. Text for a signed entry, another group's entry or the
    narrative once signed is ignored: signed means locked. A stale version is refused
    (DraftConflict), nothing written; bad input is refused (GroupInputError)."""
    if modality is not None and modality not in GroupModality.values:
        raise GroupInputError("Choose the group's modality from the list.")
    if narrative is not None:
        narrative = clean_narrative(narrative)
    with transaction.atomic():
        current = (
            GroupNote.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=group.pk, voided=False)
        )
        all_entries = entries_of(current)
        drafts = {e.pk: e for e in all_entries if e.status == NoteStatus.DRAFT}
        if current.is_signed and not drafts:
            raise SignedRecordError("This group note is signed: add an addendum to an entry.")
        if current.version != expected_version:
            raise _conflict(current, all_entries)
        goal_choices = _goal_choices(drafts, entries or {})
        changed: list[tuple[Note, dict[str, str]]] = []
        for pk, posted in (entries or {}).items():
            entry = drafts.get(pk)
            if entry is None:
                continue
            texts = {k: v for k, v in posted.items() if k != GOAL_CHOICE}
            try:
                sections = clean_sections(NoteFormat.GROUP, {**entry.sections, **texts})
            except NoteError as exc:
                raise GroupInputError(f"{entry.participant.display_name}: {exc}") from None
            if sections != entry.sections:
                changed.append((entry, sections))
        now = timezone.now()
        fields = ["version", "updated_by", "updated_at"]
        if not current.is_signed:
            if narrative is not None and narrative != current.narrative:
                current.narrative = narrative
                fields.append("narrative")
            if modality is not None and modality != current.modality:
                current.modality = modality
                fields.append("modality")
        current.version += 1
        current.updated_by, current.updated_at = actor, now
        current.save(update_fields=fields)
        for pk, goal_ids in goal_choices.items():
            entry = drafts[pk]
            if sorted(g.pk for g in entry.goals_addressed.all()) != goal_ids:
                entry.goals_addressed.set(goal_ids)
        for entry, sections in changed:
            entry.sections = sections
            entry.version += 1
            entry.updated_by, entry.updated_at = actor, now
            entry.save(update_fields=["sections", "version", "updated_by", "updated_at"])
            # Audited without the text (PHI, in the note itself), as individual drafts are.
            audit.record(
                AuditAction.CHANGE,
                actor=actor,
                obj=entry,
                changes={"draft_saved": entry.version, "group_note": current.pk},
            )
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"draft_saved": current.version, "entries": len(changed)},
        )
    return current


def missing_for_signing(narrative: str, entries: list[Note]) -> list[str]:
    """Who (or what) is not written yet, as a clinician reads it."""
    out = []
    if not narrative.strip():
        out.append("the group narrative")
    for entry in entries:
        if entry.status == NoteStatus.DRAFT and any(
            not str(entry.sections.get(key, "")).strip() for key in REQUIRED_GROUP
        ):
            out.append(entry.participant.display_name)
    return out


def sign_group(
    group: GroupNote, *, actor: Any, expected_version: int, now: dt.datetime | None = None
) -> int:
    """Sign the narrative (if it is not signed yet) and every draft entry, together: all
    or nothing. Refused, naming who, while an entry lacks participation or response.
    Only the author signs. A late entry is flagged; a supervisee's entries wait for a
    co-signature. Returns how many entries were signed."""
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            GroupNote.objects.select_for_update(of=("self",))
            .select_related("program", "session", "author", "updated_by")
            .get(pk=group.pk, voided=False)
        )
        entries = entries_of(current)
        if current.version != expected_version:
            raise _conflict(current, entries)
        if current.author_id != actor.pk:
            raise NoteError(
                f"Only the author of the group note ({current.author.display_name}) signs it."
            )
        drafts = [e for e in entries if e.status == NoteStatus.DRAFT]
        if current.is_signed and not drafts:
            raise NoteError("Everything in this group note is already signed.")
        if not drafts:
            raise NoteError("No one attended: there are no entries to sign.")
        missing = missing_for_signing(current.narrative, drafts)
        if missing:
            raise NoteError("Write participation and response for: " + ", ".join(missing) + ".")
        fields = ["version", "updated_by", "updated_at"]
        if not current.is_signed:
            current.status = NoteStatus.SIGNED
            current.signed_at = now
            current.signed_name = actor.display_name
            fields += ["status", "signed_at", "signed_name"]
        current.version += 1
        current.updated_by, current.updated_at = actor, now
        current.save(update_fields=fields)
        late = (current.program.today(now) - current.session.date).days > LATE_AFTER_DAYS
        cosign = bool(getattr(actor, "notes_need_cosign", False))
        for entry in drafts:
            entry.status = NoteStatus.SIGNED
            entry.signed_at = now
            entry.signed_name = actor.display_name
            entry.late_entry = late
            entry.cosign_required = cosign
            entry.version += 1
            entry.updated_by, entry.updated_at = actor, now
            entry.save(
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
                obj=entry,
                changes={
                    "group_note": current.pk,
                    "late_entry": late,
                    "cosign_required": cosign,
                },
            )
        audit.record(AuditAction.SIGN, actor=actor, obj=current, changes={"entries": len(drafts)})
    return len(drafts)
