"""Staff side of the portal (issue 9): invite a participant, see the link once, withdraw
an invitation, end portal access. Every page needs `portal.invite` and reaches the
participant through `get_participant_for` (scoped, audited). Staff pages are English."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.accounts.models import PortalKind
from openiop.core.access import StaffRequest, staff_view
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for
from openiop.participants.models import Participant

from . import services
from .forms import EndAccountForm, InviteForm, RevokeForm
from .models import Invitation, PortalAccount

# The raw link of a new invitation waits here until the next page shows it, once.
_SESSION_KEY = "portal-invitation-link:{}"


def _chart(participant: Participant) -> str:
    return reverse("participants:chart", args=[participant.pk]) + "#section-portal"


def invite_refusal(participant: Participant) -> str:
    """Why the participant cannot be invited now ('' when they can)."""
    if services.in_care_episode(participant) is None:
        return "Portal accounts are for participants in care (admitted or active)."
    if services.active_account(participant, kind=PortalKind.PARTICIPANT) is not None:
        return "The participant already has a portal account. End it first to invite again."
    return ""


def _invitation(participant: Participant, invitation_pk: int) -> Invitation:
    invitation = (
        Invitation.objects.select_related("contact", "created_by", "revoked_by")
        .filter(pk=invitation_pk, participant=participant)
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation for this participant")
    return invitation


def _account(participant: Participant, account_pk: int) -> PortalAccount:
    account = (
        PortalAccount.objects.select_related("user", "contact", "ended_by")
        .filter(pk=account_pk, participant=participant)
        .first()
    )
    if account is None:
        raise Http404("No such portal account for this participant")
    return account


@staff_view(Perm.PORTAL_INVITE)
def invite(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PORTAL_INVITE, what="portal.invite")
    refusal = invite_refusal(participant)
    if refusal:
        return render(
            request,
            "portal/staff/refused.html",
            {"participant": participant, "title": "Invite to the portal", "refusal": refusal},
            status=409,
        )
    phone, email = participant.phone.strip(), participant.email.strip()
    initial = {
        "channel": "sms" if phone else "email" if email else "printed",
        "sent_to": phone or email,
        "language": services.language_for_participant(participant),
    }
    form = InviteForm(posted(request), initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation, raw = services.invite(
                    participant,
                    kind=PortalKind.PARTICIPANT,
                    channel=data["channel"],
                    sent_to=data["sent_to"],
                    language=data["language"],
                    actor=request.user,
                )
            except services.PortalError as error:
                form.add_error("sent_to" if error.status == 400 else None, str(error))
                status = error.status
            else:
                request.session[_SESSION_KEY.format(invitation.pk)] = raw
                return redirect(
                    "participant_portal:invitation", pk=participant.pk, invitation_pk=invitation.pk
                )
    return render(
        request,
        "portal/staff/invite.html",
        {
            "participant": participant,
            "form": form,
            "phone": phone,
            "email": email,
            "days": services.INVITATION_DAYS,
        },
        status=status,
    )


@staff_view(Perm.PORTAL_INVITE)
def invitation(request: StaffRequest, pk: int, invitation_pk: int) -> HttpResponse:
    """An invitation's state; right after it was made, its link — shown this once."""
    participant = get_participant_for(request, pk, Perm.PORTAL_INVITE, what="portal.invitation")
    found = _invitation(participant, invitation_pk)
    raw = request.session.pop(_SESSION_KEY.format(found.pk), None)
    link = request.build_absolute_uri(reverse("portal:accept", args=[raw])) if raw else ""
    return render(
        request,
        "portal/staff/invitation.html",
        {
            "participant": participant,
            "invitation": found,
            "link": link,
            "chart": _chart(participant),
        },
    )


@staff_view(Perm.PORTAL_INVITE)
def revoke(request: StaffRequest, pk: int, invitation_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PORTAL_INVITE, what="portal.invitation")
    found = _invitation(participant, invitation_pk)
    form = RevokeForm(posted(request))
    refusal = ""
    if found.accepted_at is not None:
        refusal = "This invitation was already used to make an account; end the account instead."
    elif found.revoked_at is not None:
        refusal = "This invitation was already withdrawn."
    status = 409 if refusal else 200
    if request.method == "POST" and not refusal:
        status = 400
        if form.is_valid():
            try:
                services.revoke_invitation(
                    found, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except services.PortalError as error:
                refusal, status = str(error), error.status
            else:
                messages.success(
                    request, f"Invitation {found.hint}… withdrawn: its link no longer works."
                )
                return redirect(_chart(participant))
    return render(
        request,
        "portal/staff/revoke.html",
        {
            "participant": participant,
            "invitation": found,
            "form": form,
            "refusal": refusal,
            "chart": _chart(participant),
        },
        status=status,
    )


@staff_view(Perm.PORTAL_INVITE)
def end(request: StaffRequest, pk: int, account_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PORTAL_INVITE, what="portal.account")
    account = _account(participant, account_pk)
    form = EndAccountForm(posted(request))
    refusal = "This portal account has already ended." if account.ended_at else ""
    status = 409 if refusal else 200
    if request.method == "POST" and not refusal:
        status = 400
        if form.is_valid():
            try:
                services.end_account(
                    account, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except services.PortalError as error:
                refusal, status = str(error), error.status
            else:
                messages.success(request, "Portal access ended. They can no longer sign in.")
                return redirect(_chart(participant))
    return render(
        request,
        "portal/staff/end.html",
        {
            "participant": participant,
            "account": account,
            "form": form,
            "refusal": refusal,
            "chart": _chart(participant),
        },
        status=status,
    )
