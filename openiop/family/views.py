"""Staff pages of family involvement (English; `family.manage`):

* a family appointment's or workshop's family page — invite family members whose
  consent is in force (the others listed with the gate's reasons), withdraw an
  invitation, take family attendance;
* a participant's family page — each contact's family access under the consents, their
  portal account, and "Invite to the family portal" (`portal.invite`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Contact
from openiop.scheduling.access import session_for
from openiop.scheduling.choices import SessionStatus
from openiop.scheduling.models import Session

from . import access, services
from .choices import FamilyAttendanceStatus, InvitationStatus
from .forms import CancelInvitationForm, InviteForm, PortalInviteForm
from .models import FamilyAttendance, FamilyInvitation

# The session key holding a printed invitation's link until the family page shows it once.
LINK_KEY = "family_portal_link"


def family_session_for(request: StaffRequest, pk: int) -> Session:
    session = session_for(request.user, pk)
    if not session.is_family:
        raise Http404("Not a family appointment or workshop")
    return session


def _confirm(request: StaffRequest, **context: Any) -> HttpResponse:
    errors = context.get("errors") or []
    status = context.pop("status", 409 if errors else 200)
    return render(request, "scheduling/confirm.html", context, status=status)


# ---------------------------------------------------------------- a session's family


def _attendance_entries(
    request: StaffRequest, rows: list[dict[str, Any]]
) -> dict[int, services.Entry]:
    out = {}
    for row in rows:
        pk = row["contact"].pk
        status = request.POST.get(f"status_{pk}", "")
        if not status:
            continue
        if status not in FamilyAttendanceStatus.values:
            raise services.FamilyError(f"{row['contact'].name}: choose present, absent or excused.")
        note = request.POST.get(f"note_{pk}", "")
        if len(note) > 300 or "\x00" in note:
            raise services.FamilyError(
                f"{row['contact'].name}: keep the note under 300 characters."
            )
        out[pk] = services.Entry(status, note)
    return out


@staff_view(Perm.FAMILY_MANAGE)
def session_family(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: the page. POST action=invite (contacts) or action=attendance (marks)."""
    session = family_session_for(request, pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.method == "POST" and action not in ("invite", "attendance"):
        return render(request, "400.html", {"reason": "Unknown action."}, status=400)
    today = session.program.today()
    participants = visible_participants(request.user)
    invitations = list(
        FamilyInvitation.objects.filter(session=session, voided=False, participant__in=participants)
        .select_related("contact", "contact__participant", "created_by", "cancelled_by")
        .order_by("contact__name", "pk")
    )
    open_invites = [i for i in invitations if i.status == InvitationStatus.INVITED]
    invited_ids = {i.contact_id for i in open_invites}
    candidates = [
        c for c in services.family_contacts_for(session, participants) if c.pk not in invited_ids
    ]
    decisions = access.decisions_for([*candidates, *(i.contact for i in open_invites)], on=today)
    eligible = [c for c in candidates if decisions[c.pk].allowed]
    refused = [(c, decisions[c.pk].reasons) for c in candidates if not decisions[c.pk].allowed]
    marks = {
        m.contact_id: m
        for m in FamilyAttendance.objects.filter(session=session, voided=False).select_related(
            "updated_by"
        )
    }
    rows: list[dict[str, Any]] = [
        {
            "invitation": i,
            "contact": i.contact,
            "mark": marks.get(i.contact_id),
            "consent_in_force": decisions[i.contact_id].allowed,
        }
        for i in open_invites
    ]
    invite_form = InviteForm(
        request.POST if action == "invite" else None,
        contacts=Contact.objects.filter(pk__in=[c.pk for c in eligible]).select_related(
            "participant"
        ),
    )
    errors: list[str] = []
    status = 200
    if action == "invite":
        if invite_form.is_valid():
            try:
                made = services.invite_to_session(
                    session, invite_form.cleaned_data["contacts"], actor=request.user
                )
            except services.FamilyError as exc:
                errors, status = exc.reasons, 409
            else:
                names = ", ".join(i.contact.name for i in made)
                messages.success(request, f"Invited {names}. Each gets a message with the day.")
                return redirect("family:session", pk=session.pk)
        else:
            errors, status = [str(e) for es in invite_form.errors.values() for e in es], 400
    elif action == "attendance":
        try:
            entries = _attendance_entries(request, rows)
            changed = services.record_family_attendance(session, entries, actor=request.user)
        except services.FamilyError as exc:
            errors, status = exc.reasons, 400 if "note" in str(exc) else 409
        else:
            messages.success(request, f"Family attendance saved ({changed} changed).")
            return redirect("family:session", pk=session.pk)
    audit.record(
        AuditAction.VIEW,
        actor=request.user,
        obj=session,
        object_type="family.session",
        object_repr=f"family page of session {session.pk}",
    )
    posted_marks = request.POST if action == "attendance" else None
    for row in rows:
        key = row["contact"].pk
        mark = row["mark"]
        row["status"] = (
            posted_marks.get(f"status_{key}", "") if posted_marks else (mark.status if mark else "")
        )
        row["note"] = (
            posted_marks.get(f"note_{key}", "") if posted_marks else (mark.note if mark else "")
        )
    cancelled = session.status == SessionStatus.CANCELLED
    return render(
        request,
        "family/staff/session.html",
        {
            "session": session,
            "rows": rows,
            "withdrawn": [i for i in invitations if i.status == InvitationStatus.CANCELLED],
            "eligible": eligible,
            "refused": refused,
            "invite_form": invite_form,
            "errors": errors,
            "statuses": FamilyAttendanceStatus.choices,
            "cancelled": cancelled,
            "past": session.date < today,
            "future": session.date > today,
            "can_invite": not cancelled and session.date >= today,
            "workshop": session.kind == "family_workshop",
        },
        status=status,
    )


@staff_view(Perm.FAMILY_MANAGE)
def cancel_invitation(request: StaffRequest, pk: int, invitation_pk: int) -> HttpResponse:
    session = family_session_for(request, pk)
    invitation = (
        FamilyInvitation.objects.filter(
            pk=invitation_pk,
            session=session,
            voided=False,
            participant__in=visible_participants(request.user),
        )
        .select_related("contact")
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation")
    back = reverse("family:session", args=[session.pk])
    form = CancelInvitationForm(posted(request))
    title = f"Withdraw the invitation of {invitation.contact.name}"
    text = (
        f"To “{session.title}” on {session.date:%a %b %-d}. The invitation is kept as "
        "withdrawn; no message is sent."
    )
    if request.method != "POST" or not form.is_valid():
        if request.method == "GET":
            audit.record(AuditAction.VIEW, actor=request.user, obj=invitation)
        return _confirm(
            request,
            title=title,
            text=text,
            submit="Withdraw",
            back=back,
            form=form,
            status=400 if request.method == "POST" else 200,
        )
    try:
        services.cancel_invitation(
            invitation, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except services.FamilyError as exc:
        return _confirm(
            request,
            title=title,
            text=text,
            submit="Withdraw",
            back=back,
            form=form,
            errors=exc.reasons,
        )
    messages.success(request, f"The invitation of {invitation.contact.name} was withdrawn.")
    return redirect(back)


# ---------------------------------------------------------------- a participant's family


@staff_view(Perm.FAMILY_MANAGE)
def participant_family(request: StaffRequest, pk: int) -> HttpResponse:
    from openiop.portal.models import Invitation, PortalAccount

    participant = get_participant_for(request, pk, Perm.FAMILY_MANAGE, what="family.overview")
    today = participant.program.today()
    contacts = list(Contact.objects.filter(participant=participant, voided=False))
    decisions = access.decisions_for(contacts, on=today)
    accounts: dict[int, Any] = {}
    for account in (
        PortalAccount.objects.filter(participant=participant, kind="family")
        .select_related("user")
        .order_by("created_at", "pk")
    ):
        accounts[account.contact_id or 0] = account  # the latest of each contact
    waiting: dict[int, Any] = {}
    for invitation in Invitation.objects.filter(
        participant=participant,
        kind="family",
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).order_by("created_at", "pk"):
        if invitation.usable():
            waiting[invitation.contact_id or 0] = invitation
    rows = [
        {
            "contact": c,
            "access": decisions[c.pk],
            "account": accounts.get(c.pk),
            "waiting": waiting.get(c.pk),
        }
        for c in sorted(contacts, key=lambda c: (not decisions[c.pk].allowed, c.name.lower()))
    ]
    sessions = list(
        FamilyInvitation.objects.filter(participant=participant, voided=False)
        .select_related("session", "session__program", "contact")
        .order_by("-session__starts_at", "pk")[:40]
    )
    marks = {
        (m.session_id, m.contact_id): m
        for m in FamilyAttendance.objects.filter(
            participant=participant, voided=False, session_id__in=[i.session_id for i in sessions]
        )
    }
    history = [{"invitation": i, "mark": marks.get((i.session_id, i.contact_id))} for i in sessions]
    link = request.session.pop(LINK_KEY, None)
    if not (isinstance(link, dict) and link.get("participant") == participant.pk):
        link = None
    return render(
        request,
        "family/staff/participant.html",
        {
            "participant": participant,
            "rows": rows,
            "history": history,
            "today": today,
            "new_link": link,
            "can_invite": request.user.has_perm_code(Perm.PORTAL_INVITE),
        },
    )


@staff_view(Perm.PORTAL_INVITE)
def portal_invite(request: StaffRequest, pk: int, contact_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PORTAL_INVITE, what="family.portal_invite")
    contact = Contact.objects.filter(pk=contact_pk, participant=participant, voided=False).first()
    if contact is None:
        raise Http404("No such contact for this participant")
    today = participant.program.today()
    decision = access.decisions_for([contact], on=today)[contact.pk]
    form = PortalInviteForm(
        posted(request),
        contact=contact,
        initial={"sent_to": contact.email or contact.phone},
    )
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation, raw = services.invite_to_portal(
                    contact,
                    channel=data["channel"],
                    sent_to=data["sent_to"],
                    language=data["language"],
                    actor=request.user,
                )
            except services.FamilyError as exc:
                errors, status = exc.reasons, 409
            else:
                if invitation.channel == "printed":
                    request.session[LINK_KEY] = {
                        "participant": participant.pk,
                        "name": contact.name,
                        "url": request.build_absolute_uri(reverse("portal:accept", args=[raw])),
                        "expires": f"{timezone.localtime(invitation.expires_at):%b %-d, %Y}",
                    }
                    messages.success(
                        request, f"An invitation for {contact.name} is ready: give them the link."
                    )
                else:
                    messages.success(
                        request,
                        f"An invitation was sent to {contact.name} "
                        f"({invitation.get_channel_display().lower()}).",
                    )
                return redirect("participant_family:overview", pk=participant.pk)
    return render(
        request,
        "family/staff/portal_invite.html",
        {
            "participant": participant,
            "contact": contact,
            "access": decision,
            "form": form,
            "errors": errors,
        },
        status=status,
    )
