"""The chart's "Messages" section: the participant's notification choices (read-only:
they are the participant's to change, in the portal) and, for outbox readers, the
latest messages. Two queries."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .models import Message, Preference
from .sms import normalise_phone

LATEST = 5


def messages_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    pref = Preference.objects.filter(participant=participant).first()
    latest: list[Message] = []
    if request.user.has_perm_code(Perm.MESSAGES_VIEW):
        latest = list(
            Message.objects.filter(participant=participant).order_by("-created_at", "-pk")[:LATEST]
        )
    return {
        "notify_pref": pref or Preference(participant=participant),
        "notify_chosen": pref is not None,
        "notify_latest": latest,
        "notify_can_see_outbox": request.user.has_perm_code(Perm.MESSAGES_VIEW),
        "notify_has_mobile": bool(normalise_phone(participant.phone)),
    }


register_section(
    Section(
        "messages",
        "Messages",
        Perm.PARTICIPANT_VIEW,
        "notify/chart/section.html",
        messages_context,
        order=90,
    )
)
