from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiop.testing import World, add_family_portal, family_consent_input


@pytest.fixture
def fam(world: World) -> World:
    """The test world with world.active's family member Jordan, a consent naming them for
    family involvement, their family portal account and a family session they are invited
    to (`testing.add_family_portal`)."""
    add_family_portal(world)
    return world


def new_contact(world: World, name: str, participant: Any = None, **extra: Any) -> Any:
    from openiop.participants.models import Contact

    return Contact.objects.create(
        participant=participant or world.active,
        name=name,
        relationship=extra.pop("relationship", "sibling"),
        created_by=world.counsellor,
        updated_by=world.counsellor,
        **extra,
    )


def consent_for(world: World, contact: Any, **overrides: Any) -> Any:
    """Record a family consent naming `contact` (signed by the contact's participant)."""
    from openiop.privacy import services as privacy

    overrides.setdefault("signed_by", contact.participant.display_name)
    return privacy.record_consent(
        contact.participant, family_consent_input(contact, **overrides), actor=world.counsellor
    )


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
