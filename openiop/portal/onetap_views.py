"""The public page of a one-tap link (`/t/<token>`, issue 9 point 1).

It shows only the one form the link is for — no navigation, no other data, at most the
participant's first name — in the participant's language, then a thank-you page. An
unknown token is 404; a used, expired or no longer valid one is 410 with a clear page.
Nobody is signed in and no session is made. Each opening and each answer is audited
with the participant (no actor: the link is the credential)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from openiop.attendance import services as attendance
from openiop.attendance.choices import CheckInSource
from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.instruments import services as instruments
from openiop.instruments.models import Mode

from . import onetap
from .access import portal_public
from .forms import PortalCheckInForm, QuestionnaireForm
from .models import OneTapLink, PortalAccount
from .participant_views import _safety_message, _support_message
from .questionnaires import due_one, self_administered
from .services import language_for_participant

# The thank-you page answers for a while after the link was used, then says it was used.
THANKS_FOR = dt.timedelta(hours=1)


def _language(link: OneTapLink) -> None:
    account = (
        PortalAccount.objects.filter(
            participant_id=link.participant_id, kind="participant", ended_at__isnull=True
        )
        .only("language")
        .first()
    )
    code = account.language if account else language_for_participant(link.participant)
    translation.activate(code)


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest, problem: str) -> HttpResponse:
    messages = {
        "unknown": _("This link is not valid. Please check that you opened the whole link."),
        "used": _("This link was already used. Thank you — there is nothing more to do."),
        "expired": _("This link has expired. Links from a message only work for a short time."),
        "ended": _("This link can no longer be used."),
    }
    status = 404 if problem == "unknown" else 410
    return _private(
        render(
            request,
            "portal/onetap/gone.html",
            {"message": messages.get(problem, messages["ended"])},
            status=status,
        )
    )


def _first_name(link: OneTapLink) -> str:
    participant = link.participant
    return participant.preferred_name or participant.legal_first_name


def _form(link: OneTapLink, data: Any = None) -> PortalCheckInForm | QuestionnaireForm | None:
    if link.purpose == OneTapLink.Purpose.CHECK_IN:
        return PortalCheckInForm(data)
    definition = self_administered(link.episode.program, link.instrument_code)
    if definition is None:
        return None
    return QuestionnaireForm(data, instrument=definition)


@portal_public
def onetap_page(request: HttpRequest, token: str) -> HttpResponse:
    found = onetap.find(token)
    if found.link is None or not found.usable:
        return _gone(request, found.problem)
    link = found.link
    _language(link)
    if request.method == "POST":
        return _answer(request, token)
    form = _form(link)
    if form is None:
        return _gone(request, "ended")
    audit.record(
        AuditAction.VIEW,
        actor=None,
        obj=link,
        object_type="portal.onetap",
        participant_id=link.participant_id,
    )
    return _page(request, link, form, 200)


def _page(request: HttpRequest, link: OneTapLink, form: object, status: int) -> HttpResponse:
    template = (
        "portal/onetap/check_in.html"
        if link.purpose == OneTapLink.Purpose.CHECK_IN
        else "portal/onetap/questionnaire.html"
    )
    return _private(
        render(
            request,
            template,
            {"form": form, "first_name": _first_name(link), "link": link},
            status=status,
        )
    )


def _answer(request: HttpRequest, token: str) -> HttpResponse:
    safety = False
    with transaction.atomic():
        found = onetap.find(token, lock=True)
        if found.link is None or not found.usable:
            return _gone(request, found.problem)
        link = found.link
        form = _form(link, posted(request))
        if form is None:
            return _gone(request, "ended")
        if not form.is_valid():
            return _page(request, link, form, 400)
        episode = link.episode
        if isinstance(form, PortalCheckInForm):
            try:
                saved = attendance.record_check_in(
                    episode,
                    form.values(),
                    actor=None,
                    note=form.cleaned_data.get("note", ""),
                    source=CheckInSource.LINK,
                    day=link.day,
                )
            except attendance.AttendanceError:
                return _gone(request, "ended")
            safety = saved.used or saved.craving >= episode.program.craving_alert_at
        else:
            due = due_one(episode, form.instrument.code)
            if due is None:
                return _gone(request, "used")
            try:
                response = instruments.record_response(
                    link.participant,
                    actor=None,
                    instrument=form.instrument.code,
                    answers=form.answers(),
                    administered_on=episode.program.today(),
                    occasion=due.occasion,
                    mode=Mode.SELF,
                    episode=episode,
                )
            except ValueError:
                form.add_error(None, _("Your answers could not be saved. Please try again."))
                return _page(request, link, form, 400)
            if any(f.get("safety") for f in response.flags):
                # Said at once, on this page: the thank-you page keeps nothing of the answers.
                onetap.mark_used(link)
                return _private(
                    render(
                        request,
                        "portal/onetap/thanks.html",
                        {"first_name": _first_name(link), "message": _safety_message()},
                    )
                )
        onetap.mark_used(link)
    if safety:
        return _private(
            render(
                request,
                "portal/onetap/thanks.html",
                {"first_name": _first_name(link), "message": _support_message()},
            )
        )
    return redirect("onetap_thanks", token=token)


@portal_public
def onetap_thanks(request: HttpRequest, token: str) -> HttpResponse:
    found = onetap.find(token)
    link = found.link
    if link is None:
        return _gone(request, "unknown")
    _language(link)
    if link.used_at is None:
        return redirect("onetap", token=token)
    if timezone.now() - link.used_at > THANKS_FOR:
        return _gone(request, "used")
    return _private(
        render(
            request,
            "portal/onetap/thanks.html",
            {"first_name": _first_name(link), "message": ""},
        )
    )
