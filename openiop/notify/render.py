"""What a message says: its template, in the recipient's language and time zone.

Messages carry no clinical information (issue 9, point 4; DOMAIN.md §2.x: Part 2
protects even the fact that someone is in a substance-use program, and a phone's lock
screen is not a private place). So a template gets only neutral values — a first name,
a date and time, a link — and never a diagnosis, a result, a session's clinical title or
the program's name, unless the participant opted in to the program's name. Every
template is listed in `TEMPLATES`; the forbidden-words test renders each one.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template import Context, Engine
from django.utils import timezone, translation
from django.utils.translation import gettext

# A one-tap or invitation link is made only when the message goes out; the stored body
# holds this marker in its place.
LINK_PLACEHOLDER = "[[link]]"

# Plain text: no HTML escaping. Only the i18n tags are loaded.
ENGINE = Engine(
    dirs=[str(Path(__file__).parent / "templates")],
    autoescape=False,
    libraries={"i18n": "django.templatetags.i18n"},
)


@dataclass(frozen=True)
class Template:
    name: str
    audience: str  # participant, contact, staff
    description: str
    reminder: bool = False  # turned off by "session reminders: off"


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in [
        Template(
            "session_reminder",
            "participant",
            "The afternoon before a day with sessions: when, and the video link for telehealth.",
            reminder=True,
        ),
        Template(
            "screen_call_in",
            "participant",
            "The morning a participant is picked at random: stop at the front desk today.",
        ),
        Template("portal_invitation", "participant", "A link to make a portal account."),
        Template("family_invitation", "contact", "A family member's link to the portal."),
        Template("family_session_invite", "contact", "A family member invited to a session."),
        Template("check_in_link", "participant", "The daily one-tap check-in link (opt-in)."),
        Template(
            "instrument_due",
            "participant",
            "A one-tap link to a questionnaire that is due.",
            reminder=True,
        ),
        Template("letter_ready", "participant", "A letter the participant asked for is ready."),
        Template("staff_digest", "staff", "The daily counts of what waits for a staff member."),
    ]
}


def participant_language(participant: Any) -> str:
    from openiop.portal.models import PortalAccount

    account = (
        PortalAccount.objects.filter(
            participant=participant, kind="participant", ended_at__isnull=True
        )
        .order_by("-pk")
        .first()
    )
    if account is not None:
        return account.language
    from openiop.portal.services import language_for_participant

    return str(language_for_participant(participant))


def contact_language(contact: Any) -> str:
    """A family member's portal language if they have an account, else English (the
    contact record holds no language)."""
    from openiop.portal.models import PortalAccount

    account = (
        PortalAccount.objects.filter(contact=contact, ended_at__isnull=True).order_by("-pk").first()
    )
    return account.language if account is not None else "en"


def first_name(participant: Any) -> str:
    return participant.preferred_name or participant.legal_first_name


def contact_first_name(contact: Any) -> str:
    return (contact.name or "").split(" ")[0]


def public_base() -> str:
    """settings.OPENIOP_PUBLIC_URL; unset: https:// and the first plain host name of
    ALLOWED_HOSTS, else the demo's http://127.0.0.1:8000."""
    if settings.OPENIOP_PUBLIC_URL:
        return settings.OPENIOP_PUBLIC_URL.rstrip("/")
    for host in settings.ALLOWED_HOSTS:
        wildcard = not host or host.startswith(".") or "*" in host
        address = re.fullmatch(r"[\d.]+|\[?[0-9a-fA-F:]*:[0-9a-fA-F:]*\]?", host)
        if not wildcard and not address and host != "localhost":
            return f"https://{host}"
    return "http://127.0.0.1:8000"


def site_url(path: str = "") -> str:
    """An absolute link for a message (messages leave the site, so links must be whole)."""
    return public_base() + path


def program_tz(program: Any) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(program.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def sender_name(program: Any, show_program_name: bool) -> str:
    """The neutral sender, in the active language, unless the participant opted in."""
    if show_program_name and program is not None:
        return program.name
    return gettext("Your care team")


def contact_sender_name(program: Any, show_program_name: bool, participant_first_name: str) -> str:
    """A family member hears from the participant's care team, not "your" care team."""
    if show_program_name and program is not None:
        return program.name
    return gettext("%(name)s's care team") % {"name": participant_first_name}


def spec(name: str) -> Template:
    if name not in TEMPLATES:
        raise ValueError(f"Unknown message template {name!r}")
    return TEMPLATES[name]


def render(
    name: str, context: dict[str, Any], *, language: str, tz: dt.tzinfo | None = None
) -> tuple[str, str]:
    """(subject, body) of template `name` in `language`, dates in `tz`."""
    spec(name)
    with translation.override(language), timezone.override(tz or timezone.get_default_timezone()):
        ctx = Context({"link": LINK_PLACEHOLDER, **context}, autoescape=False)
        raw_subject = str(ENGINE.get_template(f"notify/messages/{name}.subject.txt").render(ctx))
        raw_body = str(ENGINE.get_template(f"notify/messages/{name}.txt").render(ctx))
    subject = " ".join(raw_subject.split())
    # Tidy the template's blank lines: at most one empty line between paragraphs.
    body = re.sub(r"[ \t]+\n", "\n", raw_body.strip())
    body = re.sub(r"\n{3,}", "\n\n", body)
    return subject, body
