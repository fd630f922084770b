"""What a message must never say (issue 9, acceptance 3), and a world that tempts it.

`clinical_terms_in(text, extra)` finds the forbidden terms in a text: a fixed list of
clinical words in English and Spanish, plus `extra` — the terms of one participant
(their diagnoses' codes and words, their program's name, their sessions' and
instruments' names, their screening panels and medications).

`produce_every_message(world)` makes every kind of message for world.active through the
same code paths the jobs and the other areas use, with the richest data the world can
hold (diagnoses, positive screens, a safety alert, a relapse plan, telehealth sessions,
a family member with a consent), sends them, and returns what went out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Matched at the start of a word, case and accents ignored: "diagnos" finds "diagnosis"
# and "diagnóstico", "counsel" finds "counsellor". Multi-word terms match as phrases.
FORBIDDEN_EN = [
    "drug",
    "alcohol",
    "substance",
    "addict",
    "treatment",
    "therapy",
    "therapist",
    "counsel",
    "rehab",
    "recovery",
    "relapse",
    "sober",
    "sobriety",
    "IOP",
    "intensive outpatient",
    "outpatient",
    "diagnos",
    "screen",
    "test result",
    "tested",
    "testing",
    "drug test",
    "result",
    "urine",
    "specimen",
    "positive",
    "negative",
    "medication",
    "methadone",
    "buprenorphine",
    "suboxone",
    "naloxone",
    "opioid",
    "opiate",
    "detox",
    "withdrawal",
    "overdose",
    "craving",
    "use disorder",
    "mental health",
    "psychiatr",
    "depress",
    "anxiety",
    "suicid",
    "PHQ",
    "GAD-7",
    "AUDIT-C",
    "DAST",
    "ASAM",
    "clinic",
    "patient",
    "symptom",
    "breathalyz",
    "toxicolog",
    "safety plan",
    "SUD",
    "F1",
]
FORBIDDEN_ES = [
    "droga",
    "alcohol",
    "sustancia",
    "adiccion",
    "adicto",
    "tratamiento",
    "terapia",
    "terapeuta",
    "consejer",
    "rehabilitacion",
    "recuperacion",
    "recaida",
    "sobrio",
    "sobriedad",
    "ambulatorio intensivo",
    "diagnostic",
    "prueba",
    "analisis",
    "resultado",
    "orina",
    "muestra",
    "positivo",
    "negativo",
    "medicamento",
    "medicacion",
    "metadona",
    "buprenorfina",
    "naloxona",
    "opioide",
    "opiaceo",
    "desintoxicacion",
    "abstinencia",
    "sobredosis",
    "ansia",
    "salud mental",
    "psiqui",
    "depresion",
    "ansiedad",
    "suicid",
    "paciente",
    "clinica",
    "sintoma",
]
FORBIDDEN = FORBIDDEN_EN + FORBIDDEN_ES
URL = re.compile(r"https?://\S+")
STOP_WORDS = {"with", "without", "other", "unspecified", "current", "mild", "severe"}


def fold(text: str) -> str:
    """Lower case, accents removed: "Diagnóstico" → "diagnostico"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in fold(term).split()]
    # Acronyms and codes (IOP, F1, SUD) match whole words only; words match at their start.
    whole = term.isupper() or any(ch.isdigit() for ch in term) or "-" in term
    tail = r"\b" if whole else ""
    return re.compile(r"(?<![\w])" + r"\s+".join(words) + tail)


def clinical_terms_in(text: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The forbidden terms found in `text` (links left out: a one-tap token is random)."""
    plain = fold(URL.sub(" ", text))
    found = []
    for term in [*FORBIDDEN, *extra]:
        if term and _pattern(term).search(plain):
            found.append(term)
    return found


def participant_terms(participant: Any, *, include_program: bool = True) -> list[str]:
    """The words that would give away this participant's care: diagnoses (codes and
    words), the program and site names, their sessions' titles, types and topics, the
    instruments they were given, their screening panels and expected medications."""
    from openiop.instruments import catalogue
    from openiop.instruments.models import InstrumentResponse
    from openiop.intake.models import Diagnosis
    from openiop.scheduling.models import Session
    from openiop.screening.models import ExpectedMedication, Order, Result

    terms: set[str] = set()
    for diagnosis in Diagnosis.objects.filter(participant=participant):
        terms.add(diagnosis.code)
        terms.update(
            w
            for w in re.findall(r"[^\W\d_]{5,}", diagnosis.description)
            if w.lower() not in STOP_WORDS
        )
    program = participant.program
    if include_program:
        terms.add(program.name)
        terms.update(w for w in program.name.split() if len(w) >= 3)
        terms.add(program.site.name)
    episode_ids = list(participant.episodes.values_list("pk", flat=True))
    for session in Session.objects.filter(program=program).select_related("session_type", "topic"):
        terms.add(session.title)
        if session.session_type_id:
            terms.add(session.session_type.name)
        if session.topic_id:
            terms.add(session.topic.title)
    for code in InstrumentResponse.objects.filter(episode_id__in=episode_ids).values_list(
        "instrument", flat=True
    ):
        instrument = catalogue.get(code)
        terms.update({instrument.code, instrument.name})
    for order in Order.objects.filter(participant=participant).select_related("panel"):
        terms.add(order.panel.name)
    for med in ExpectedMedication.objects.filter(participant=participant):
        terms.update(w for w in re.findall(r"[^\W\d_]{4,}", med.name))
    for result in Result.objects.filter(collection__participant=participant).select_related(
        "analyte"
    ):
        terms.update({result.analyte.name, result.analyte.code})
    return sorted(t for t in terms if t and t.strip())


@dataclass
class Produced:
    template: str
    language: str
    subject: str
    stored: str  # the body as the outbox keeps it
    sent: str  # what went out (links filled in)


def tempt(world: Any, *, language: str) -> None:
    """Give world.active everything a careless message could leak."""
    from openiop.intake.models import Diagnosis
    from openiop.portal.models import PortalAccount
    from openiop.testing import (
        add_family_portal,
        add_portal,
        add_screening_orders,
        add_screening_review,
    )

    add_screening_orders(world)
    add_screening_review(world)
    add_portal(world)
    add_family_portal(world)
    participant = world.active
    episode = participant.current_episode
    for i, (code, words) in enumerate(
        [
            ("F10.20", "Alcohol use disorder, moderate"),
            ("F11.20", "Opioid use disorder, moderate"),
            ("F41.1", "Generalized anxiety disorder"),
        ]
    ):
        if not Diagnosis.objects.filter(participant=participant, code=code).exists():
            Diagnosis.objects.create(
                episode=episode,
                participant=participant,
                code=code,
                description=words,
                primary=i == 0,
                noted_on=episode.admission_date,
                created_by=world.counsellor,
            )
    participant.phone = "(207) 555-0101"
    participant.email = "pat.active@example.org"
    participant.save(update_fields=["phone", "email"])
    PortalAccount.objects.filter(participant=participant).update(language=language)
    # Telehealth sessions: their join links go into reminders.
    from openiop.scheduling.models import Session

    Session.objects.filter(program=world.program).update(
        modality="telehealth", join_link="https://video.example.org/j/123456"
    )


def produce_every_message(world: Any, *, language: str = "en") -> list[Produced]:
    """Every template, made and sent through the real code paths for world.active."""
    from openiop.notify import delivery
    from openiop.notify.models import Message

    # Keep what goes out (invitations go at once, the rest when delivered below).
    sent: dict[int, str] = {}
    real_send = delivery._send

    def capture(message: Message, body: str) -> str:
        sent[message.pk] = f"{message.subject}\n{body}"
        return real_send(message, body)

    delivery._send = capture  # type: ignore[assignment]
    try:
        _produce(world, language)
    finally:
        delivery._send = real_send  # type: ignore[assignment]
    return [
        Produced(m.template, m.language, m.subject, m.body, sent.get(m.pk, ""))
        for m in Message.objects.order_by("pk")
    ]


def _produce(world: Any, language: str) -> None:
    from django.utils import timezone

    from openiop.notify import delivery, digest, makers, services
    from openiop.notify.models import Message, Preference
    from openiop.portal.models import Invitation
    from openiop.scheduling.models import Session

    tempt(world, language=language)
    participant = world.active
    program = world.program
    tz = program.tz
    today = program.today()
    Preference.objects.update_or_create(
        participant=participant, defaults={"check_in_links_on": True}
    )

    # The afternoon before the next session of the participant's track.
    future = (
        Session.objects.filter(track__name="Morning", date__gt=today, voided=False)
        .order_by("starts_at")
        .first()
    )
    assert future is not None
    before = dt.datetime.combine(future.date - dt.timedelta(days=1), dt.time(15, 30), tzinfo=tz)
    makers.session_reminders(before)
    # The morning of today's random selection; today's check-in link and questionnaire.
    morning = dt.datetime.combine(today, dt.time(6, 30), tzinfo=tz)
    makers.screen_call_ins(morning)
    makers.check_in_links(dt.datetime.combine(today, dt.time(9, 30), tzinfo=tz))
    services.notify_participant(
        participant,
        "instrument_due",
        {"one_tap": "instrument", "instrument_code": "PHQ-9", "day": today},
        key=f"instrument_due:{participant.current_episode_id}:PHQ-9:{today}",
    )
    # What the letters area sends when a letter is ready.
    services.notify_participant(participant, "letter_ready", {}, key="letter-ready:1")
    # Portal invitations, for the participant and for the family member.
    contact = world.family_contact
    for kind, who, to in (
        ("participant", None, "pat.active@example.org"),
        ("family", contact, "(207) 555-0123"),
    ):
        invitation = Invitation.objects.create(
            kind=kind,
            participant=participant,
            contact=who,
            token_hash=f"{kind}-hash".ljust(64, "0"),
            hint="abcd",
            channel="email" if who is None else "sms",
            sent_to=to,
            language=language,
            created_by=world.counsellor,
            expires_at=timezone.now() + dt.timedelta(days=7),
        )
        services.send_invitation(invitation, f"raw-token-{kind}", actor=world.counsellor)
    # add_family_portal invited the family member to a session (family.services), before
    # their account's language was set: the same invitation again, in that language.
    session = world.family_session
    services.notify_contact(
        contact,
        "family_session_invite",
        {"when": session.starts_at, "join_link": session.join_link},
        key="family-session-invite:again",
    )
    # The staff digest of the counsellor (open alerts, drafts, reviews in the world).
    # (The test persona's first name is its role, "Counsellor"; a person's is a name.)
    world.counsellor.email = "robin@example.org"
    world.counsellor.first_name = "Robin"
    world.counsellor.save(update_fields=["email", "first_name"])
    digest.send_digests(today)

    # Send everything still queued, each at a time it may go out.
    for message in Message.objects.filter(status="queued"):
        delivery.deliver(message, now=_a_time_it_may_go(message, tz))


def _a_time_it_may_go(message: Any, tz: Any) -> dt.datetime:
    """Not before it is due, outside quiet hours (10:00), before it lapses."""
    from django.utils import timezone

    at = max(message.send_after, timezone.now())
    local = at.astimezone(tz)
    if not 8 <= local.hour < 21:
        at = dt.datetime.combine(local.date(), dt.time(10), tzinfo=tz)
        if at < message.send_after:
            at += dt.timedelta(days=1)
    if message.stale_after and at >= message.stale_after:
        at = message.send_after
    return at
