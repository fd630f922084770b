"""Every write of the family area: atomic, audited, taking the acting user.

* `invite_to_session` — family members to a family appointment or workshop, each only
  with a consent in force (asked of the gate at the moment of inviting), with a message
  to each (`notify.services.notify_contact`, which carries no clinical information);
* `cancel_invitation` — withdrawn with a reason, the row kept;
* `record_family_attendance` — present / absent / excused per invited family member,
  corrections audited with their before and after (as `attendance` does);
* `save_article`, `set_article_state` — education material, versioned, never deleted;
* `invite_to_portal` — a family portal invitation through the portal's `invite`,
  refused with the gate's reasons when no consent allows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Contact, Episode
from openiop.scheduling.choices import BookingStatus, SessionKind, SessionStatus
from openiop.scheduling.models import Booking, Session

from . import access
from .choices import FamilyAttendanceStatus, InvitationStatus
from .models import EducationArticle, FamilyAttendance, FamilyInvitation


class FamilyError(Exception):
    """A request refused; `reasons` say why (each a sentence for staff)."""

    def __init__(self, reasons: str | list[str]):
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__(" ".join(self.reasons))


# --- who may be invited -------------------------------------------------------------------


def session_participant_ids(session: Session) -> set[int] | None:
    """The participants whose family a session is for: a family appointment's booked
    participant(s); None for a workshop (any participant in care in the program)."""
    if session.kind == SessionKind.FAMILY_WORKSHOP:
        return None
    return set(
        Booking.objects.filter(
            session=session, status=BookingStatus.BOOKED, voided=False
        ).values_list("episode__participant_id", flat=True)
    )


def family_contacts_for(session: Session, participants: Any) -> Any:
    """Contacts who could be invited to `session`: family of its participants (a workshop:
    of participants in care in its program), among `participants` (the user's scope)."""
    ids = session_participant_ids(session)
    qs = Contact.objects.filter(
        voided=False,
        participant__in=participants,
        participant__program_id=session.program_id,
    )
    if ids is None:
        in_care = Episode.objects.filter(
            program_id=session.program_id, status__in=IN_CARE, voided=False
        ).values("participant_id")
        qs = qs.filter(participant_id__in=in_care)
    else:
        qs = qs.filter(participant_id__in=ids)
    return qs.select_related("participant").order_by(
        "participant__legal_last_name", "participant__legal_first_name", "name", "pk"
    )


def _check_open(session: Session, today: dt.date) -> None:
    if not session.is_family:
        raise FamilyError("Family members are invited to family appointments and workshops.")
    if session.voided or session.status == SessionStatus.CANCELLED:
        raise FamilyError("This session was cancelled: nobody can be invited to it.")
    if session.date < today:
        raise FamilyError(f"This session was on {session.date:%a %b %-d}: it is over.")


def invite_to_session(
    session: Session,
    contacts: Iterable[Contact],
    *,
    actor: Any,
    today: dt.date | None = None,
    notify: bool = True,
) -> list[FamilyInvitation]:
    """Invite family members: all or none. Each needs a consent in force naming them for
    family involvement (42 CFR §2.31, DOMAIN.md §2.3) — an invitation tells them the
    participant is in the program. Each invited person gets a message (no clinical
    information: a day, a time and a link if online). `today` and `notify=False` are for
    the demo's history (invitations made, as it were, on an earlier day)."""
    contacts = list(contacts)
    if not contacts:
        raise FamilyError("Choose whom to invite.")
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=session.pk)
        )
        today = today or locked.program.today()
        _check_open(locked, today)
        allowed_ids = session_participant_ids(locked)
        open_ids = set(
            FamilyInvitation.objects.filter(
                session=locked, status=InvitationStatus.INVITED, voided=False
            ).values_list("contact_id", flat=True)
        )
        problems: list[str] = []
        for contact in contacts:
            if contact.voided or contact.participant.program_id != locked.program_id:
                problems.append(f"{contact.name} is not a contact of this program's participants.")
            elif allowed_ids is not None and contact.participant_id not in allowed_ids:
                problems.append(
                    f"{contact.name} is not family of a participant booked for this session."
                )
            elif contact.pk in open_ids:
                problems.append(f"{contact.name} is already invited.")
            else:
                decision = access.family_decision(contact, on=today)
                if not decision.allowed:
                    why = access.decisions_for([contact], on=today)[contact.pk].reasons
                    problems.append(f"{contact.name} cannot be invited: " + " ".join(why))
        if problems:
            raise FamilyError(problems)
        made = []
        for contact in contacts:
            invitation = FamilyInvitation.objects.create(
                session=locked,
                contact=contact,
                participant_id=contact.participant_id,
                created_by=actor,
                updated_by=actor,
            )
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                obj=invitation,
                changes={"session": locked.pk, "contact": contact.pk},
            )
            if notify:
                _notify_invited(invitation, locked)
            made.append(invitation)
    return made


def _notify_invited(invitation: FamilyInvitation, session: Session) -> None:
    from openiop.notify.services import notify_contact

    online = session.modality != "in_person" and session.join_link
    notify_contact(
        invitation.contact,
        "family_session_invite",
        {"when": session.starts_at, "join_link": session.join_link if online else ""},
        key=f"family-session-invite:{invitation.pk}",
    )


def cancel_invitation(invitation: FamilyInvitation, *, actor: Any, reason: str) -> FamilyInvitation:
    if not reason.strip():
        raise FamilyError("Say why the invitation is withdrawn.")
    with transaction.atomic():
        locked = FamilyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != InvitationStatus.INVITED or locked.voided:
            raise FamilyError("This invitation was already withdrawn.")
        if FamilyAttendance.objects.filter(
            session_id=locked.session_id, contact_id=locked.contact_id, voided=False
        ).exists():
            raise FamilyError("Attendance was recorded for this person: the invitation stays.")
        locked.status = InvitationStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.cancelled_by = actor
        locked.cancel_reason = reason.strip()[:300]
        locked.version += 1
        locked.updated_by = actor
        locked.updated_at = timezone.now()
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancel_reason",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=locked,
            changes={"status": [InvitationStatus.INVITED, InvitationStatus.CANCELLED]},
            reason=locked.cancel_reason,
        )
    return locked


# --- family attendance --------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    status: str
    note: str = ""


ATTENDANCE_FIELDS = ["status", "minutes_attended", "note"]


def record_family_attendance(session: Session, entries: dict[int, Entry], *, actor: Any) -> int:
    """Marks for family members invited to the session (contact id → entry). All or
    nothing. Present counts the whole session; absent and excused none. Returns how many
    marks were made or changed."""
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=session.pk)
        )
        if not locked.is_family:
            raise FamilyError("Family attendance is taken at family appointments and workshops.")
        if locked.voided or locked.status == SessionStatus.CANCELLED:
            raise FamilyError("This session was cancelled; there is no attendance to take.")
        if locked.date > locked.program.today():
            raise FamilyError(
                f"This session is on {locked.date:%a %b %-d}; attendance can be taken from "
                "that day."
            )
        invited = {
            inv.contact_id: inv
            for inv in FamilyInvitation.objects.filter(
                session=locked, status=InvitationStatus.INVITED, voided=False
            ).select_related("contact")
        }
        marks = {
            m.contact_id: m
            for m in FamilyAttendance.objects.select_for_update().filter(
                session=locked, voided=False
            )
        }
        changed = 0
        for contact_id, entry in entries.items():
            if contact_id not in invited and contact_id not in marks:
                raise FamilyError(
                    "Someone in the form is not invited to this session; reload the page."
                )
            if entry.status not in FamilyAttendanceStatus.values:
                raise FamilyError(f"“{entry.status}” is not a family attendance mark.")
            minutes = locked.minutes if entry.status == FamilyAttendanceStatus.PRESENT else 0
            note = entry.note.strip()[:300]
            mark = marks.get(contact_id)
            if mark is None:
                mark = FamilyAttendance.objects.create(
                    session=locked,
                    contact_id=contact_id,
                    participant_id=invited[contact_id].participant_id,
                    status=entry.status,
                    minutes_attended=minutes,
                    note=note,
                    created_by=actor,
                    updated_by=actor,
                )
                audit.record(
                    AuditAction.CREATE,
                    actor=actor,
                    obj=mark,
                    changes={"status": entry.status, "minutes": minutes},
                )
                changed += 1
                continue
            before = audit.snapshot(mark, ATTENDANCE_FIELDS)
            mark.status, mark.minutes_attended, mark.note = entry.status, minutes, note
            delta = audit.diff(before, audit.snapshot(mark, ATTENDANCE_FIELDS))
            if delta:
                mark.version += 1
                mark.updated_by = actor
                mark.updated_at = timezone.now()
                mark.save(update_fields=[*ATTENDANCE_FIELDS, "version", "updated_by", "updated_at"])
                audit.record(AuditAction.CHANGE, actor=actor, obj=mark, changes=delta)
                changed += 1
    return changed


# --- education ------------------------------------------------------------------------

ARTICLE_FIELDS = ["section", "audience", "language", "title", "summary", "body", "position"]


def save_article(
    article: EducationArticle | None,
    *,
    program: Any,
    values: dict[str, Any],
    actor: Any,
    expected_version: int | None = None,
) -> EducationArticle:
    """Create an article (a draft: unpublished), or change one. A change made from a form
    opened before someone else's save is refused (`expected_version`)."""
    with transaction.atomic():
        if article is None:
            article = EducationArticle(program=program, created_by=actor)
            before: dict[str, Any] = {}
        else:
            article = EducationArticle.objects.select_for_update().get(pk=article.pk)
            if expected_version is not None and article.version != expected_version:
                raise FamilyError(
                    "Someone else saved this article while you were editing. Your changes "
                    "were not saved; reload to see theirs."
                )
            before = audit.snapshot(article, ARTICLE_FIELDS)
        for name in ARTICLE_FIELDS:
            setattr(article, name, values[name])
        delta = audit.diff(before, audit.snapshot(article, ARTICLE_FIELDS))
        if article.pk is not None and not delta:
            return article
        created = article.pk is None
        if not created:
            article.version += 1
        article.updated_by = actor
        article.updated_at = timezone.now()
        article.save()
        audit.record(
            AuditAction.CREATE if created else AuditAction.CHANGE,
            actor=actor,
            obj=article,
            object_repr=article.title[:200],
            changes=delta,
        )
    return article


ARTICLE_ACTIONS = ("publish", "unpublish", "retire", "restore")


def set_article_state(article: EducationArticle, action: str, *, actor: Any) -> EducationArticle:
    """Publish, unpublish, retire (gone from every list, kept) or restore an article."""
    if action not in ARTICLE_ACTIONS:
        raise FamilyError("Unknown action.")
    with transaction.atomic():
        current = EducationArticle.objects.select_for_update().get(pk=article.pk)
        before = {"published": current.published, "retired": current.retired}
        if action == "publish":
            if current.retired:
                raise FamilyError("A retired article cannot be published; restore it first.")
            if current.published:
                raise FamilyError("This article is already published.")
            current.mark_published(True)
        elif action == "unpublish":
            if not current.published:
                raise FamilyError("This article is not published.")
            current.mark_published(False)
        elif action == "retire":
            if current.retired:
                raise FamilyError("This article is already retired.")
            current.retired, current.retired_at = True, timezone.now()
            current.mark_published(False)
        else:
            if not current.retired:
                raise FamilyError("This article is not retired.")
            current.retired, current.retired_at = False, None
        current.version += 1
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.save(
            update_fields=[
                "published",
                "published_at",
                "retired",
                "retired_at",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        after = {"published": current.published, "retired": current.retired}
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            object_repr=current.title[:200],
            changes=audit.diff(before, after),
            reason=action,
        )
    return current


# --- the family portal invitation -----------------------------------------------------------


def invite_to_portal(
    contact: Contact, *, channel: str, sent_to: str, language: str, actor: Any
) -> tuple[Any, str]:
    """A family portal invitation for `contact` through the portal's `invite` (which
    replaces an unused earlier link and sends email and texts). Refused, with the
    reasons about this person's consents, unless a consent in force names them for
    family involvement; refused too when they already have an account."""
    from openiop.portal import services as portal_services

    if contact.voided:
        raise FamilyError("This contact was removed.")
    today = contact.participant.program.today()
    if not access.family_decision(contact, on=today).allowed:
        reasons = access.decisions_for([contact], on=today)[contact.pk].reasons
        raise FamilyError([f"{contact.name} cannot be invited to the family portal:", *reasons])
    try:
        return portal_services.invite(
            contact.participant,
            kind="family",
            contact=contact,
            channel=channel,
            sent_to=sent_to,
            language=language,
            actor=actor,
        )
    except portal_services.PortalError as exc:
        raise FamilyError(str(exc)) from None
