"""The demo's privacy records (issue 8): a TPO consent for everyone admitted, signed at
admission; consents for an employer, a probation officer and a family member for a few
participants (one revoked), the letters released under them through the consent gate,
and two emergency accesses (one reviewed by compliance, one waiting)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.privacy import emergency, gate
from openiop.privacy import services as privacy
from openiop.privacy.choices import Channel, ConsentKind, InfoCategory, Purpose, RecipientKind

EMPLOYERS = ["Portside Logistics", "Harbor Hardware", "Bayview Medical Center billing office"]
TPO_INFO = tuple(c for c in InfoCategory.values if c != InfoCategory.COUNSELLING_NOTES)


def build(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> int:
    """Returns the number of consents recorded."""
    intake, counsellor = staff["intake"], staff["counsellor"]
    tz = program.tz
    people = list(
        Participant.objects.filter(
            program=program, voided=False, episodes__admission_date__isnull=False
        )
        .select_related("current_episode")
        .distinct()
        .order_by("pk")
    )
    count = 0
    for person in people:
        episode = person.current_episode
        admitted = episode.admission_date if episode and episode.admission_date else today
        tpo_consent(person, program, intake, admitted)
        count += 1
    in_care = [p for p in people if p.current_episode and p.current_episode.status == S.ACTIVE]
    for n, person in enumerate(in_care[: len(EMPLOYERS) + 2]):
        signed = today - dt.timedelta(days=rng.randint(10, 40))
        if n < len(EMPLOYERS):
            kind, name, purpose = RecipientKind.EMPLOYER, EMPLOYERS[n], Purpose.EMPLOYMENT
            address = f"{rng.randint(10, 900)} Harbor Way"
        else:
            kind, name, purpose = (
                RecipientKind.LEGAL,
                "Officer T. Grant, County Adult Probation",
                Purpose.LEGAL,
            )
            address = "County Justice Center, 2nd floor"
        consent = privacy.record_consent(
            person,
            privacy.ConsentInput(
                kind=ConsentKind.SPECIFIC,
                discloser=program.name,
                recipient_kind=kind,
                recipient_name=name,
                recipient_address=address,
                purposes=(purpose,),
                information=(InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
                information_detail="Dates of enrolment, and the dates and hours attended",
                signed_by=person.display_name,
                signed_on=signed,
                revocation_explained=True,
                expires_on=signed + dt.timedelta(days=180),
            ),
            actor=counsellor,
        )
        count += 1
        # A letter a week after signing (no PDF kept in the demo: the demo runs without
        # WeasyPrint; letters made in the demo keep theirs).
        sent = dt.datetime.combine(
            signed + dt.timedelta(days=7), dt.time(11, rng.randint(0, 59)), tzinfo=tz
        )
        gate.disclose(
            gate.DisclosureRequest(
                participant=person,
                recipient_kind=kind,
                recipient_name=name,
                recipient_address=address,
                purpose=purpose,
                information=(InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
                channel=Channel.LETTER,
                description="Attendance letter",
                reference=f"D-DEMO{n + 1:02d}",
            ),
            actor=counsellor,
            on=signed + dt.timedelta(days=7),
            at=sent,
        )
        if n == 1:
            privacy.revoke_consent(
                consent,
                actor=counsellor,
                revoked_on=today - dt.timedelta(days=2),
                note="Told the counsellor in individual session; signed a revocation form.",
            )
    # Emergency accesses: one reviewed, one waiting for compliance.
    if in_care:
        colleague = staff.get("jharper") or staff["supervisee"]
        done = emergency.grant(
            in_care[0],
            user=colleague,
            reason_kind="medical_emergency",
            reason="Participant collapsed in the lobby; needed medications and allergies for EMS.",
            minutes=60,
        )
        emergency.review(
            done,
            reviewer=staff["compliance"],
            note="Confirmed with the director: EMS called at 10:40; access appropriate.",
        )
        emergency.grant(
            in_care[-1],
            user=staff["supervisee"],
            reason_kind="coverage",
            reason="Covering group for Casey; participant asked about their plan goals.",
            minutes=30,
        )
    return count


def tpo_consent(person: Any, program: Any, actor: Any, signed_on: dt.date) -> Any:
    """The treatment, payment and operations consent signed at admission."""
    return privacy.record_consent(
        person,
        privacy.ConsentInput(
            kind=ConsentKind.TPO,
            discloser=program.name,
            recipient_kind=RecipientKind.TPO_CLASS,
            recipient_name=privacy.TPO_DEFAULT_RECIPIENTS,
            purposes=(Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS),
            information=TPO_INFO,
            information_detail=f"My substance use treatment records at {program.name}",
            signed_by=person.display_name,
            signed_on=signed_on,
            revocation_explained=True,
            expiry_event="end_of_treatment",
            refusal_consequences_stated=True,
            redisclosure_stated=True,
        ),
        actor=actor,
    )
