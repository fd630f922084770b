"""The participant portal's pages (issue 9, point 1): home, the daily check-in, due
questionnaires, my plan, my progress, settings — and accepting an invitation.

Each page goes through `portal_view(PARTICIPANT)` (signed-in participant, audited GETs,
the account's language) and reads only the signed-in participant's own record. Every
string the participant reads is translated (en/es)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from openiop.attendance import services as attendance
from openiop.attendance.choices import CheckInSource
from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.instruments import services as instruments
from openiop.instruments.models import Mode
from openiop.participants.choices import IN_CARE

from . import progress as read
from . import services
from .access import PARTICIPANT, PortalRequest, portal_public, portal_view
from .forms import AcceptForm, LanguageForm, PortalCheckInForm, QuestionnaireForm
from .models import Language
from .nav import PARTICIPANT_NAV
from .questionnaires import due_items, due_one, plain_name, self_administered
from .views import home_url

CRISIS = "988"  # the US Suicide & Crisis Lifeline: call or text, any time


def _context(request: PortalRequest) -> dict[str, Any]:
    """The participant, their current episode (one query) and the program day."""
    participant = request.portal.participant
    episode = read.episode_of(participant)
    return {
        "participant": participant,
        "first_name": participant.preferred_name or participant.legal_first_name,
        "episode": episode,
        "in_care": episode is not None and episode.status in IN_CARE,
        "today": participant.program.today(),
    }


def _letters_url() -> str:
    """The letters page the letters app adds to the portal's navigation, if any."""
    for _label, name in PARTICIPANT_NAV:
        if name.startswith("portal_letters:"):
            try:
                return reverse(name)
            except NoReverseMatch:
                return ""
    return ""


@portal_view(PARTICIPANT)
def home(request: PortalRequest) -> HttpResponse:
    ctx = _context(request)
    episode, today = ctx["episode"], ctx["today"]
    today_rows, later_rows = read.upcoming(episode, today)
    ctx.update(
        {
            "today_sessions": today_rows,
            "later_sessions": later_rows,
            "checked_in": read.check_in_today(episode, today) if ctx["in_care"] else None,
            "due": due_items(episode) if ctx["in_care"] else [],
            "letters_url": _letters_url(),
            "days": read.UPCOMING_DAYS,
        }
    )
    return render(request, "portal/home.html", ctx)


def _refused(request: HttpRequest, title: str, message: str, status: int = 409) -> HttpResponse:
    return render(
        request, "portal/refused.html", {"title": title, "message": message}, status=status
    )


@portal_view(PARTICIPANT)
def check_in(request: PortalRequest) -> HttpResponse:
    ctx = _context(request)
    episode = ctx["episode"]
    if not ctx["in_care"]:
        return _refused(
            request,
            _("Daily check-in"),
            _("Check-ins are for people taking part in the program now."),
        )
    form = PortalCheckInForm(posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                saved = attendance.record_check_in(
                    episode,
                    form.values(),
                    actor=request.user,
                    note=form.cleaned_data.get("note", ""),
                    source=CheckInSource.PORTAL,
                )
            except attendance.AttendanceError:
                return _refused(
                    request,
                    _("Daily check-in"),
                    _("Your check-in could not be saved. Please tell your counsellor."),
                )
            messages.success(request, _("Thank you. Your check-in is saved."))
            if saved.used or saved.craving >= episode.program.craving_alert_at:
                messages.info(request, _support_message())
            return redirect("portal:home")
    ctx.update({"form": form, "checked_in": read.check_in_today(episode, ctx["today"])})
    return render(request, "portal/check_in.html", ctx, status=status)


def _support_message() -> str:
    return _(
        "Thank you for being honest. Your counsellor will see this and reach out. If you "
        "need to talk to someone now, call or text %(crisis)s, any time."
    ) % {"crisis": CRISIS}


def _safety_message() -> str:
    return _(
        "Thank you for telling us. Your counsellor will contact you soon. If you might hurt "
        "yourself, call or text %(crisis)s now (any time, free), or call 911 in an emergency."
    ) % {"crisis": CRISIS}


@portal_view(PARTICIPANT)
def questionnaires(request: PortalRequest) -> HttpResponse:
    ctx = _context(request)
    ctx["due"] = due_items(ctx["episode"]) if ctx["in_care"] else []
    return render(request, "portal/questionnaires.html", ctx)


@portal_view(PARTICIPANT)
def questionnaire(request: PortalRequest, code: str) -> HttpResponse:
    ctx = _context(request)
    participant, episode = ctx["participant"], ctx["episode"]
    definition = self_administered(participant.program, code)
    if definition is None:
        return _refused(
            request, _("Questionnaire"), _("There is no such questionnaire."), status=404
        )
    due = due_one(episode, definition.code) if ctx["in_care"] else None
    if due is None:
        return _refused(
            request,
            definition.short_name,
            _("This questionnaire is not due now. Thank you — nothing to do here."),
        )
    form = QuestionnaireForm(posted(request), instrument=definition)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                response = instruments.record_response(
                    participant,
                    actor=request.user,
                    instrument=definition.code,
                    answers=form.answers(),
                    administered_on=ctx["today"],
                    occasion=due.occasion,
                    mode=Mode.SELF,
                    episode=episode,
                )
            except ValueError:
                form.add_error(None, _("Your answers could not be saved. Please try again."))
            else:
                if any(f.get("safety") for f in response.flags):
                    messages.warning(request, _safety_message())
                else:
                    messages.success(request, _("Thank you. Your answers are saved."))
                return redirect("portal:questionnaires")
    ctx.update({"definition": definition, "form": form, "name": plain_name(definition)})
    return render(request, "portal/questionnaire.html", ctx, status=status)


@portal_view(PARTICIPANT)
def plan(request: PortalRequest) -> HttpResponse:
    ctx = _context(request)
    ctx.update(
        {
            "treatment_plan": read.treatment_plan(ctx["episode"]),
            "relapse": read.relapse_plan(ctx["episode"]),
        }
    )
    return render(request, "portal/plan.html", ctx)


@portal_view(PARTICIPANT)
def my_progress(request: PortalRequest) -> HttpResponse:
    ctx = _context(request)
    ctx["progress"] = read.progress(ctx["episode"], ctx["today"])
    return render(request, "portal/progress.html", ctx)


@portal_view(PARTICIPANT)
def settings(request: PortalRequest) -> HttpResponse:
    account = request.portal
    form = LanguageForm(posted(request), initial={"language": account.language})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            services.set_language(account, form.cleaned_data["language"], actor=request.user)
            translation.activate(account.language)
            messages.success(
                request,
                _("Saved. Your portal is now in %(language)s.")
                % {"language": Language(account.language).label},
            )
            return redirect("portal:settings")
    return render(
        request,
        "portal/settings.html",
        {"form": form, "account": account, "username": request.user.username},
        status=status,
    )


# --- accepting an invitation (public: the person holding the link) ----------------------------


def _unusable(request: HttpRequest, problem: services.InvitationUnusable) -> HttpResponse:
    status = 404 if problem.reason == "unknown" else 410
    response = render(
        request,
        "portal/accept_refused.html",
        {"message": str(problem), "reason": problem.reason},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@portal_public
def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.find_invitation(token)
    except services.InvitationUnusable as problem:
        return _unusable(request, problem)
    if "lang" not in request.GET:  # the invitation's language, unless the visitor chose
        translation.activate(invitation.language)
        request.LANGUAGE_CODE = invitation.language
    form = AcceptForm(posted(request), initial={"language": invitation.language})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.accept(
                    token,
                    username=data["username"],
                    password=data["password"],
                    language=data["language"],
                )
            except services.InvitationUnusable as problem:
                return _unusable(request, problem)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                translation.activate(data["language"])
                messages.success(request, _("Welcome! Your account is ready."))
                return redirect(home_url(user))
    else:
        audit.record(
            AuditAction.VIEW,
            actor=None,
            obj=invitation,
            object_type="portal.accept",
            participant_id=invitation.participant_id,
        )
    contact = invitation.contact
    name = (
        contact.name.split()[0]
        if contact is not None and contact.name.split()
        else invitation.participant.preferred_name or invitation.participant.legal_first_name
    )
    response = render(
        request,
        "portal/accept.html",
        {"form": form, "first_name": name, "family": invitation.kind == "family"},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
