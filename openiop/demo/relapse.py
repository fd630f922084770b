"""Demo contacts and relapse-prevention plans, made through the services.

Every participant with an emergency contact on their details gets it as a contact (as
the data migration does for an existing database). Each active participant gets a
support person or two and a signed relapse-prevention plan in their own words; most have
signed it too (some with a drawn signature), some plans have a second version, and one
has a draft open. Deterministic for a given seed.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import struct
import zlib
from typing import Any

from openiop.participants import contact_services
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.relapse import services as relapse

RELATIONSHIPS = {
    "Mother": "parent",
    "Father": "parent",
    "Sister": "sibling",
    "Brother": "sibling",
    "Spouse": "partner",
    "Partner": "partner",
    "Friend": "friend",
    "Aunt": "other_family",
}
SUPPORTERS = [
    ("sponsor", "Call when a craving hits, day or night"),
    ("peer", "Meet for coffee after group on Thursdays"),
    ("friend", "Drive me to a meeting"),
    ("sponsor", "Text every morning; call if I go quiet"),
]
SUPPORT_FIRST = ["Ray", "Lena", "Tom", "Denise", "Marcus", "Joy", "Frank", "Rosa", "Wes", "Nia"]
SUPPORT_LAST = ["Okafor", "Brennan", "Castillo", "Dube", "Fitzgerald", "Haddad", "Lindqvist"]
FAMILY_ROLES = [
    "Call if I miss group",
    "Keep alcohol out of the house",
    "Watch the kids so I can go",
]

REASONS = [
    "I want to be there for my kids.",
    "I want to keep my job and my license.",
    "My health: my liver numbers are finally coming down.",
    "I'm tired of waking up ashamed.",
    "I want my family to trust me again.",
    "I want to finish my degree.",
    "I promised my mother I'd see this through.",
]
TRIGGERS = [
    "Payday Friday",
    "Arguments with my partner",
    "Driving past the liquor store on Forest Ave",
    "Feeling lonely in the evening",
    "Old friends calling to go out",
    "Stress at work after a double shift",
    "Watching the game at a bar",
    "Pain in my back",
    "Boredom on weekends",
    "Anniversaries and holidays",
]
HIGH_RISK = [
    "Being alone at home on a Friday night",
    "Work parties and weddings",
    "Having cash on me",
    "Visiting my brother's place",
    "Travelling for work and staying in a hotel",
    "After a fight, when I'm angry",
]
WARNING_SIGNS = [
    "Skipping group or making excuses",
    "Not sleeping more than a few hours",
    "Telling myself one won't hurt",
    "Isolating and not answering my phone",
    "Getting irritable with my kids",
    "Romanticising the old days",
    "Stopping my medication",
]
COPING = [
    "Urge surfing: ride it out for 20 minutes",
    "Walk the dog around the block",
    "Call someone on my list",
    "Go to a noon meeting",
    "Play guitar",
    "HALT check: hungry, angry, lonely, tired?",
    "Play the tape forward to the morning after",
    "Cold shower and a glass of water",
]
STEPS = [
    "Stop and breathe: four counts in, four out",
    "Wait 15 minutes before deciding anything",
    "Call my support person",
    "Leave the place I'm in",
    "Read my reasons on this card",
    "Go to a meeting or to group",
]


def signature_png(rng: random.Random, width: int = 600, height: int = 160) -> str:
    """A drawn-looking signature (a few looping strokes) as a PNG data: URL."""
    import math

    pixels = bytearray(b"\xff" * (width * height))
    phase, loops = rng.uniform(0, 3), rng.randint(5, 9)
    for i in range(1200):
        t = i / 1200
        x = int(width * (0.06 + 0.86 * t + 0.03 * math.sin(t * loops * 6.3 + phase)))
        y = int(height * (0.55 - 0.25 * math.sin(t * loops * 3.1 + phase) * (1 - 0.5 * t)))
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if 0 <= x + dx < width and 0 <= y + dy < height:
                    pixels[(y + dy) * width + x + dx] = 30
    raw = b"".join(b"\x00" + bytes(pixels[r * width : (r + 1) * width]) for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _sample(rng: random.Random, pool: list[str], low: int, high: int) -> list[str]:
    return rng.sample(pool, rng.randint(low, min(high, len(pool))))


def build(rng: random.Random, program: Any, today: dt.date) -> int:
    """Contacts for everyone, plans for the active participants. Returns the plans signed."""
    tz = program.tz

    def at(day: dt.date, hour: int) -> dt.datetime:
        return dt.datetime.combine(min(day, today), dt.time(hour, rng.randint(0, 59)), tzinfo=tz)

    people = (
        Participant.objects.filter(program=program, voided=False)
        .select_related("current_episode", "current_episode__primary_counsellor")
        .order_by("pk")
    )
    signed = 0
    for n, person in enumerate(people):
        episode = person.current_episode
        counsellor = episode.primary_counsellor if episode else None
        family = None
        if person.emergency_contact_name:
            relation = person.emergency_contact_relationship
            family = contact_services.add_contact(
                person,
                actor=person.created_by,
                values={
                    "name": person.emergency_contact_name,
                    "relationship": RELATIONSHIPS.get(relation, "other"),
                    "phone": person.emergency_contact_phone,
                    "is_emergency": True,
                    "is_support": episode is not None and episode.status == S.ACTIVE,
                    "notes": "" if relation in RELATIONSHIPS else f"Relationship: {relation}.",
                },
            )
        if episode is None or episode.status != S.ACTIVE or counsellor is None:
            continue
        kind, role = SUPPORTERS[n % len(SUPPORTERS)]
        helper = contact_services.add_contact(
            person,
            actor=counsellor,
            values={
                "name": f"{rng.choice(SUPPORT_FIRST)} {rng.choice(SUPPORT_LAST)}",
                "relationship": kind,
                "phone": f"(207) 555-{rng.randint(1000, 9999)}",
                "is_support": True,
                "notes": "Met at the Tuesday night meeting." if kind == "sponsor" else "",
            },
        )
        support = [(helper.pk, role)]
        if family is not None:
            support.append((family.pk, rng.choice(FAMILY_ROLES)))
        first_day = (episode.admission_date or today) + dt.timedelta(days=rng.randint(5, 12))
        plan, _ = relapse.start_draft(episode, actor=counsellor, at=at(first_day, 10))
        sections = {
            "reasons": _sample(rng, REASONS, 1, 3),
            "triggers": _sample(rng, TRIGGERS, 3, 5),
            "high_risk": _sample(rng, HIGH_RISK, 2, 3),
            "warning_signs": _sample(rng, WARNING_SIGNS, 2, 4),
            "coping": _sample(rng, COPING, 3, 5),
            "craving_steps": _sample(rng, STEPS, 3, 4),
        }
        plan = relapse.save_draft(
            plan,
            actor=counsellor,
            sections=sections,
            support=support[:1] if n % 3 == 0 else support,
            expected_version=plan.version,
            at=at(first_day, 11),
        )
        plan = relapse.sign_plan(
            plan, actor=counsellor, expected_version=plan.version, at=at(first_day, 12)
        )
        signed += 1
        if n % 4 != 1:
            plan = relapse.sign_as_participant(
                plan,
                actor=counsellor,
                typed_name=person.display_name,
                image=signature_png(rng) if n % 2 == 0 else "",
                at=at(first_day, 13),
            )
        later = first_day + dt.timedelta(days=rng.randint(14, 24))
        if later < today and n % 3 == 0:
            # A second version after a lapse or a review: a trigger learned, a person added.
            plan, _ = relapse.start_draft(episode, actor=counsellor, at=at(later, 14))
            plan = relapse.save_draft(
                plan,
                actor=counsellor,
                sections={
                    **sections,
                    "triggers": [*sections["triggers"][1:], "Getting paid in cash on Fridays"],
                    "coping": [*sections["coping"], "Leave work by the back door at 5"],
                },
                support=support,
                expected_version=plan.version,
                at=at(later, 14),
            )
            plan = relapse.sign_plan(
                plan, actor=counsellor, expected_version=plan.version, at=at(later, 15)
            )
            plan = relapse.sign_as_participant(
                plan, actor=counsellor, typed_name=person.display_name, at=at(later, 16)
            )
            signed += 1
        elif n % 5 == 2:
            relapse.start_draft(episode, actor=counsellor, at=at(today, 9))
    return signed
