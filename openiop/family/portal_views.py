"""The family portal (issue 9, point 2): `/family/`, phone first, in the account's language.

Every page goes through `access.family_portal_view`: a family account, and a consent in
force that names this family member, checked at each request. Pages show the family
sessions and workshops the person is invited to, the ones they attended, education and
"how to support" articles, and — only when the consent covers attendance — the
participant's hours attended in recent weeks.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from openiop.core.forms import posted
from openiop.portal import services as portal_services
from openiop.portal.forms import LanguageForm
from openiop.portal.models import Language

from .access import FamilyPortalRequest, family_portal_view
from .choices import FAMILY_AUDIENCES, ArticleSection, FamilyAttendanceStatus, InvitationStatus
from .models import EducationArticle, FamilyAttendance, FamilyInvitation

UPCOMING_LIMIT = 20
ATTENDED_LIMIT = 10
ATTENDANCE_WEEKS = 4


def _render(request: FamilyPortalRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Times in the program's time zone (a family member may be anywhere)."""
    family = request.family
    with timezone.override(family.program.tz):
        return render(request, template, {"family": family, **context})


def first_name(participant: Any) -> str:
    return participant.preferred_name or participant.legal_first_name


@family_portal_view
def home(request: FamilyPortalRequest) -> HttpResponse:
    family = request.family
    now = timezone.now()
    upcoming = list(
        FamilyInvitation.objects.filter(
            contact=family.contact,
            status=InvitationStatus.INVITED,
            voided=False,
            session__voided=False,
            session__ends_at__gte=now,
        )
        .select_related("session", "session__room", "session__program__site")
        .order_by("session__starts_at", "pk")[:UPCOMING_LIMIT]
    )
    attended = list(
        FamilyAttendance.objects.filter(
            contact=family.contact,
            voided=False,
            status=FamilyAttendanceStatus.PRESENT,
            session__voided=False,
        )
        .select_related("session")
        .order_by("-session__starts_at", "-pk")[:ATTENDED_LIMIT]
    )
    weeks: list[Any] = []
    if family.shows_attendance:
        weeks = _attendance_weeks(family)
    return _render(
        request,
        "family/portal/home.html",
        {
            "upcoming": upcoming,
            "attended": attended,
            "weeks": weeks,
            "participant_name": first_name(family.participant),
        },
    )


def _attendance_weeks(family: Any) -> list[dict[str, Any]]:
    """The participant's hours attended, week by week (the last four, oldest first): the
    "dates and hours attended" an attendance consent covers, nothing more."""
    from openiop.attendance.hours import engagement_for
    from openiop.attendance.rules import hours

    episode = family.participant.current_episode
    if episode is None:
        return []
    info = engagement_for([episode], family.today, weeks=ATTENDANCE_WEEKS, whole_history=False).get(
        episode.pk
    )
    if info is None:
        return []
    return [{"week": w.week, "hours": hours(w.minutes)} for w in info.weeks]


def articles_for(request: FamilyPortalRequest, section: str) -> tuple[list[Any], bool]:
    """Published articles of the section for families, in the account's language; when
    there are none in it, the English ones (and True)."""
    family = request.family
    qs = _visible(family).filter(section=section)
    language = family.account.language
    found = list(qs.filter(language=language))
    if not found and language != "en":
        return list(qs.filter(language="en")), True
    return found, False


def _visible(family: Any) -> QuerySet[EducationArticle]:
    return EducationArticle.objects.filter(
        program_id=family.participant.program_id,
        published=True,
        retired=False,
        audience__in=FAMILY_AUDIENCES,
    ).order_by("position", "title", "pk")


@family_portal_view
def education(request: FamilyPortalRequest) -> HttpResponse:
    articles, fallback = articles_for(request, ArticleSection.EDUCATION)
    return _render(
        request,
        "family/portal/articles.html",
        {"articles": articles, "fallback": fallback, "section": "education"},
    )


@family_portal_view
def support(request: FamilyPortalRequest) -> HttpResponse:
    articles, fallback = articles_for(request, ArticleSection.SUPPORT)
    return _render(
        request,
        "family/portal/articles.html",
        {"articles": articles, "fallback": fallback, "section": "support"},
    )


@family_portal_view
def article(request: FamilyPortalRequest, pk: int) -> HttpResponse:
    found = _visible(request.family).filter(pk=pk).first()
    if found is None:
        # Unpublished, retired, another program's, or never there: the portal's own page.
        return render(request, "family/portal/not_found.html", status=404)
    return _render(request, "family/portal/article.html", {"article": found})


@family_portal_view
def settings(request: FamilyPortalRequest) -> HttpResponse:
    """The family member's language (the portal's own settings page and service)."""
    account = request.portal
    form = LanguageForm(posted(request), initial={"language": account.language})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            portal_services.set_language(account, form.cleaned_data["language"], actor=request.user)
            translation.activate(account.language)
            messages.success(
                request,
                _("Saved. Your portal is now in %(language)s.")
                % {"language": Language(account.language).label},
            )
            return redirect("family_portal:settings")
    return render(
        request,
        "portal/settings.html",
        {"form": form, "account": account, "username": request.user.username},
        status=status,
    )
