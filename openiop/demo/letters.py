"""The demo's attendance letters (issue 9): a letter produced under an employer consent
with a verification code anyone can check on /verify/ (printed in
docs/user-guide/attendance-letters.md), a request waiting that a consent covers, one
waiting that none does (producing it shows the refusal), and a declined one.

Made through the letters' services after the privacy demo (whose consents they rely on).
Without WeasyPrint the letter cannot be made: its request is left waiting instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

from openiop.core.pdf import PdfUnavailable
from openiop.letters import services, verify
from openiop.letters.choices import RequestedVia, letter_kind_of
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.privacy import gate
from openiop.privacy.choices import RecipientKind
from openiop.privacy.models import Consent

log = logging.getLogger(__name__)


def _in_force(program: Any, kind: str, today: dt.date) -> list[Consent]:
    consents = (
        Consent.objects.filter(
            participant__program=program,
            participant__current_episode__status=S.ACTIVE,
            recipient_kind=kind,
            voided=False,
        )
        .select_related("participant", "participant__program")
        .order_by("pk")
    )
    return [c for c in consents if gate.consent_status(c, today)[0]]


def build(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> int:
    """Returns the number of letter requests made."""
    counsellor = staff["counsellor"]
    code = verify.new_code(rng)
    made = 0
    employer = _in_force(program, RecipientKind.EMPLOYER, today)
    legal = _in_force(program, RecipientKind.LEGAL, today)
    if employer:
        consent = employer[0]
        person = consent.participant
        asked = services.request_letter(
            person,
            actor=None,
            recipient_kind=letter_kind_of(consent.recipient_kind),
            recipient_name=consent.recipient_name,
            recipient_address=consent.recipient_address,
            period_start=today - dt.timedelta(days=28),
            period_end=today - dt.timedelta(days=1),
            note="For my supervisor; they need it by Friday.",
            via=RequestedVia.PORTAL,
            on=today,
        )
        made += 1
        try:
            services.produce(
                person,
                recipient_kind=asked.recipient_kind,
                recipient_name=asked.recipient_name,
                recipient_address=asked.recipient_address,
                period_start=asked.period_start,
                period_end=asked.period_end,
                actor=counsellor,
                letter_request=asked,
                code=code,
                on=today,
            )
        except PdfUnavailable as exc:  # pragma: no cover - depends on the machine
            log.warning("demo letter left waiting: PDFs cannot be made here (%s)", exc)
    if legal:
        consent = legal[0]
        services.request_letter(
            consent.participant,
            actor=None,
            recipient_kind=letter_kind_of(consent.recipient_kind),
            recipient_name=consent.recipient_name,
            recipient_address=consent.recipient_address,
            period_start=today - dt.timedelta(days=rng.choice((14, 21, 30))),
            period_end=today - dt.timedelta(days=1),
            note="My next check-in with probation is on Monday.",
            via=RequestedVia.PORTAL,
            on=today,
        )
        made += 1
    named = {c.participant_id for c in employer + legal}
    others = list(
        Participant.objects.filter(program=program, voided=False, current_episode__status=S.ACTIVE)
        .exclude(pk__in=named)
        .order_by("pk")[:2]
    )
    if others:
        # Asked for a letter to an employer no consent names: producing it is refused.
        services.request_letter(
            others[0],
            actor=None,
            recipient_kind="employer",
            recipient_name="Northside Diner",
            period_start=today - dt.timedelta(days=14),
            period_end=today - dt.timedelta(days=1),
            via=RequestedVia.PORTAL,
            on=today,
        )
        made += 1
    if len(others) > 1:
        declined = services.request_letter(
            others[1],
            actor=None,
            recipient_kind="other",
            recipient_name="Harbor Housing Authority",
            period_start=today - dt.timedelta(days=30),
            period_end=today - dt.timedelta(days=1),
            via=RequestedVia.PORTAL,
            on=today,
        )
        services.decline(
            declined,
            actor=counsellor,
            reason="There is no consent for the Housing Authority yet: we will sign one at "
            "your next session, then ask again.",
        )
        made += 1
    return made
