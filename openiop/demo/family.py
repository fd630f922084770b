"""The demo's family involvement (issue 9): family members of six active participants —
four with a consent in force for family involvement (one also covering attendance), one
whose consent has expired, one with none — weekly family workshops on Tuesday evenings
(six weeks past with invitations and family attendance, two ahead), education and "how
to support" articles in English and Spanish, and the family portal login `family`
(Marisol Vega, mother of the first participant; the demo password), made by accepting a
portal invitation as a family member would."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from openiop.family import services as family
from openiop.participants import contact_services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.privacy import services as privacy
from openiop.privacy.choices import ConsentKind, InfoCategory, Purpose, RecipientKind
from openiop.programs.models import Room, SessionType
from openiop.scheduling import services as schedule
from openiop.scheduling.choices import SessionKind
from openiop.scheduling.conflicts import Refused

FAMILY_LOGIN = "family"
# (name, relationship, language of their account) of the family members, in the order of
# the active participants they belong to.
RELATIVES = [
    ("Marisol Vega", "parent", "es"),
    ("Tom Becker", "partner", "en"),
    ("Aisha Grant", "sibling", "en"),
    ("Linda Park", "parent", "en"),
    ("Ray Dubois", "partner", "en"),  # consent expired
    ("Nora Quinn", "other_family", "en"),  # no consent
]
WORKSHOP_TOPICS = [
    "Understanding addiction",
    "Communication without blame",
    "Boundaries that help",
    "Relapse: warning signs",
    "Looking after yourself",
    "Rebuilding trust",
    "Planning for high-risk days",
    "Celebrating progress",
]


def build(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> int:
    """Returns the number of family invitations made."""
    counsellor = staff["counsellor"]
    therapist = staff.get("mreyes") or counsellor
    director = staff["director"]
    people = list(
        Participant.objects.filter(
            program=program, voided=False, current_episode__status=S.ACTIVE
        ).order_by("pk")[: len(RELATIVES)]
    )
    contacts = []
    for person, (name, relationship, _lang) in zip(people, RELATIVES, strict=False):
        contacts.append(
            contact_services.add_contact(
                person,
                actor=counsellor,
                values={
                    "name": name,
                    "relationship": relationship,
                    "phone": f"(207) 555-{rng.randint(2000, 8999)}",
                    "email": f"{name.split()[0].lower()}@example.org",
                    "is_support": True,
                    "is_emergency": False,
                    "notes": "",
                },
            )
        )
    consented = []
    for n, contact in enumerate(contacts[:5]):
        info: tuple[str, ...] = (InfoCategory.ENROLMENT,)
        if n == 0:
            info = (InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE)
        signed = today - dt.timedelta(days=rng.randint(50, 60))
        privacy.record_consent(
            contact.participant,
            privacy.ConsentInput(
                kind=ConsentKind.SPECIFIC,
                discloser=program.name,
                recipient_kind=RecipientKind.FAMILY,
                recipient_name=contact.name,
                contact_id=contact.pk,
                purposes=(Purpose.FAMILY,),
                information=info,
                information_detail=(
                    "That I am in the program, the family sessions I invite them to"
                    + (", and the dates and hours I attend" if n == 0 else "")
                ),
                signed_by=contact.participant.display_name,
                signed_on=signed,
                revocation_explained=True,
                # Ray's consent was for a month and has run out; the others last until
                # the end of treatment.
                expires_on=signed + dt.timedelta(days=30) if n == 4 else None,
                expiry_event="" if n == 4 else "end_of_treatment",
            ),
            actor=counsellor,
        )
        if n != 4:
            consented.append(contact)
    invitations = _workshops(rng, program, therapist, consented, contacts, today)
    _articles(program, director)
    if consented:
        _family_login(consented[0], counsellor)
    return invitations


def _workshops(
    rng: random.Random,
    program: Any,
    therapist: Any,
    consented: list[Any],
    contacts: list[Any],
    today: dt.date,
) -> int:
    session_type, _ = SessionType.objects.get_or_create(
        program=program,
        name="Family workshop",
        defaults={"category": "family", "default_minutes": 90},
    )
    room, _ = Room.objects.get_or_create(
        site=program.site, name="Family Room", defaults={"capacity": 20}
    )
    this_tuesday = today - dt.timedelta(days=(today.weekday() - 1) % 7)
    made = 0
    for week, topic in zip(range(-6, 2), WORKSHOP_TOPICS, strict=False):
        day = this_tuesday + dt.timedelta(weeks=week)
        try:
            session = schedule.create_session(
                schedule.SessionInput(
                    program=program,
                    session_type=session_type,
                    kind=SessionKind.FAMILY_WORKSHOP,
                    title=f"Family workshop: {topic}",
                    day=day,
                    start=dt.time(18),
                    end=dt.time(19, 30),
                    facilitator=therapist,
                    room=room,
                    capacity=20,
                ),
                actor=therapist,
            )
        except Refused:
            continue  # a clash in the demo's own schedule: skip that week
        past = day < today
        invited = [c for c in consented if not past or rng.random() < 0.85]
        if not invited:
            continue
        family.invite_to_session(
            session,
            invited,
            actor=therapist,
            today=min(day, today) - dt.timedelta(days=7) if past else today,
            notify=not past,
        )
        made += len(invited)
        if past:
            marks = {
                c.pk: family.Entry(rng.choices(["present", "absent", "excused"], [7, 1, 2])[0])
                for c in invited
            }
            family.record_family_attendance(session, marks, actor=therapist)
    return made


def _family_login(contact: Any, actor: Any) -> None:
    """The published family login: invited and accepted as a family member would."""
    from openiop.demo.builder import DEMO_PASSWORD
    from openiop.portal import services as portal

    language = next((lang for name, _r, lang in RELATIVES if name == contact.name), "en")
    _invitation, raw = portal.invite(
        contact.participant,
        kind="family",
        contact=contact,
        channel="printed",
        language=language,
        actor=actor,
    )
    portal.accept(raw, username=FAMILY_LOGIN, password=DEMO_PASSWORD, language="en")


# --- education ----------------------------------------------------------------------------

CRISIS_EN = (
    "If you are worried about someone's safety right now, call or text 988 (the Suicide "
    "and Crisis Lifeline) or 911. The SAMHSA National Helpline, 1-800-662-4357, is free, "
    "confidential and open every day."
)
CRISIS_ES = (
    "Si le preocupa la seguridad de alguien en este momento, llame o envíe un mensaje al "
    "988 (Línea de Prevención del Suicidio y Crisis; pida atención en español) o al 911. "
    "La Línea Nacional de Ayuda de SAMHSA, 1-800-662-4357, es gratuita, confidencial y "
    "atiende todos los días."
)

ARTICLES: list[dict[str, Any]] = [
    {
        "section": "education",
        "language": "en",
        "position": 10,
        "title": "Addiction is a health condition",
        "summary": "Why willpower alone is not enough, and why treatment works.",
        "body": (
            "Substance use disorder is a health condition that changes how the brain "
            "handles reward, stress and self-control. It is not a lack of love for the "
            "people around them, and it is not a choice someone keeps making on purpose.\n\n"
            "Like other long-term conditions, it can be treated. People do recover, most "
            "often with a mix of counselling, support from others and, for some, "
            "medication.\n\n"
            "Recovery is rarely a straight line. Cravings, hard days and even slips can "
            "happen. They are a signal to adjust the plan, not proof that treatment failed."
        ),
    },
    {
        "section": "education",
        "language": "en",
        "position": 20,
        "title": "What happens in an intensive outpatient program",
        "summary": "Groups several days a week, while living at home.",
        "body": (
            "In an intensive outpatient program people come to groups three to five days "
            "a week, for about three hours at a time, and go home afterwards. Many keep "
            "working or studying.\n\n"
            "Groups teach skills: handling cravings and stress, spotting warning signs, "
            "communicating, planning for risky situations. Each person also has a "
            "counsellor and a treatment plan.\n\n"
            "Families are invited to family sessions and workshops when the participant "
            "agrees. What is said in the participant's own groups stays private."
        ),
    },
    {
        "section": "education",
        "language": "en",
        "position": 30,
        "title": "Relapse: warning signs and what to do",
        "summary": "Changes to notice early, and how to respond calmly.",
        "body": (
            "Warning signs often come before any use: skipping groups, old friends or "
            "places coming back, poor sleep, strong moods, or saying that they have it "
            "all under control now.\n\n"
            "If you notice them, say what you see, calmly and without blame, and ask how "
            "you can help. Encourage a call to their counsellor.\n\n" + CRISIS_EN
        ),
    },
    {
        "section": "support",
        "language": "en",
        "position": 10,
        "title": "Listening without judging",
        "summary": "Small ways of talking that make it easier to stay in recovery.",
        "body": (
            "Ask open questions (How was today? What helped?) and listen to the answer "
            "before giving advice.\n\n"
            "Notice effort, not only results: going to group on a hard day counts.\n\n"
            "Talk about the person's behaviour, not their character: 'I was worried when "
            "you came home late' rather than 'you are irresponsible'."
        ),
    },
    {
        "section": "support",
        "language": "en",
        "position": 20,
        "title": "Looking after yourself",
        "summary": "You cannot pour from an empty cup.",
        "body": (
            "Supporting someone in recovery is tiring. Keep time for your own sleep, "
            "friends and interests.\n\n"
            "Support groups for families (such as Al-Anon, Nar-Anon or SMART Recovery "
            "Family & Friends) can help you feel less alone.\n\n" + CRISIS_EN
        ),
    },
    {
        "section": "support",
        "language": "en",
        "position": 30,
        "title": "Boundaries that help",
        "summary": "Caring for someone without taking over their recovery.",
        "body": (
            "A boundary says what you will do, not what they must do: 'I will not lend "
            "money right now' or 'I will leave if there is drinking at dinner'.\n\n"
            "Keep boundaries few, clear and calm, and keep them. They protect the "
            "relationship as much as they protect you."
        ),
    },
    {
        "section": "education",
        "language": "es",
        "position": 10,
        "title": "La adicción es una condición de salud",
        "summary": "Por qué la fuerza de voluntad no basta, y por qué el tratamiento funciona.",
        "body": (
            "El trastorno por consumo de sustancias es una condición de salud que cambia "
            "la forma en que el cerebro maneja la recompensa, el estrés y el autocontrol. "
            "No es falta de cariño hacia los demás, ni una decisión que la persona toma a "
            "propósito una y otra vez.\n\n"
            "Como otras condiciones de larga duración, tiene tratamiento. Las personas se "
            "recuperan, casi siempre con una combinación de terapia, apoyo de otros y, en "
            "algunos casos, medicamentos.\n\n"
            "La recuperación casi nunca es una línea recta. Los antojos, los días difíciles "
            "e incluso las recaídas pueden ocurrir: son una señal para ajustar el plan, no "
            "una prueba de que el tratamiento fracasó."
        ),
    },
    {
        "section": "education",
        "language": "es",
        "position": 20,
        "title": "Qué pasa en un programa intensivo ambulatorio",
        "summary": "Grupos varios días a la semana, viviendo en casa.",
        "body": (
            "En un programa intensivo ambulatorio las personas asisten a grupos de tres a "
            "cinco días por semana, unas tres horas cada vez, y después vuelven a casa. "
            "Muchas siguen trabajando o estudiando.\n\n"
            "En los grupos se aprenden habilidades: manejar los antojos y el estrés, "
            "reconocer señales de alerta, comunicarse, planificar situaciones de riesgo. "
            "Cada persona tiene además un consejero y un plan de tratamiento.\n\n"
            "Las familias son invitadas a sesiones y talleres familiares cuando el "
            "participante lo acepta. Lo que se dice en los grupos del participante es "
            "privado."
        ),
    },
    {
        "section": "support",
        "language": "es",
        "position": 10,
        "title": "Escuchar sin juzgar",
        "summary": "Pequeñas formas de hablar que ayudan a mantener la recuperación.",
        "body": (
            "Haga preguntas abiertas (¿Cómo te fue hoy? ¿Qué te ayudó?) y escuche la "
            "respuesta antes de dar consejos.\n\n"
            "Reconozca el esfuerzo, no solo los resultados: ir al grupo en un día difícil "
            "cuenta.\n\n"
            "Hable de la conducta, no de la persona: 'Me preocupé cuando llegaste tarde' en "
            "lugar de 'eres un irresponsable'."
        ),
    },
    {
        "section": "support",
        "language": "es",
        "position": 20,
        "title": "Cuidarse a uno mismo",
        "summary": "Nadie puede dar lo que no tiene.",
        "body": (
            "Apoyar a alguien en recuperación cansa. Reserve tiempo para su propio "
            "descanso, sus amistades y sus intereses.\n\n"
            "Los grupos de apoyo para familias (como Al-Anon o Nar-Anon, que tienen "
            "reuniones en español) pueden ayudarle a sentirse menos solo.\n\n" + CRISIS_ES
        ),
    },
]


def _articles(program: Any, director: Any) -> None:
    for values in ARTICLES:
        article = family.save_article(
            None, program=program, values={"audience": "family", **values}, actor=director
        )
        family.set_article_state(article, "publish", actor=director)
    # A draft the director is still writing.
    family.save_article(
        None,
        program=program,
        values={
            "section": "support",
            "audience": "family",
            "language": "en",
            "position": 40,
            "title": "Holidays and family gatherings",
            "summary": "Draft: planning ahead for busy, emotional days.",
            "body": "Talk about the plan before the day: who will be there, and a way out.",
        },
        actor=director,
    )
