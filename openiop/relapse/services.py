"""Every write to relapse-prevention plans: start a new version (a draft copy of the
latest signed one), save the draft, sign it as the clinician, add the participant's
signature. Each is atomic, takes the acting user as `actor`, and writes its audit event
in the same transaction. The plan's text is PHI: audit events carry counts, not text."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.models import SignedRecordError
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Contact

from .choices import REQUIRED_SECTIONS, SECTION_KEYS, SECTION_LABELS, PlanStatus
from .models import LOCKED, REFUSAL, RelapsePlan, SupportPerson

MAX_ITEMS = 40
MAX_ITEM_CHARS = 500
MAX_SUPPORT = 20
MAX_ROLE_CHARS = 200
MAX_NAME_CHARS = 200
# A drawn signature as a PNG data: URL. A signature pad of 800 by 240 pixels in two colours
# compresses to a few kilobytes; this leaves room for a large tablet and refuses files.
MAX_SIGNATURE_CHARS = 200_000
MAX_SIGNATURE_PIXELS = 4000
PNG_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# A bullet or a number someone typed in front of an item ("- Call Dana", "2) Walk").
BULLET = re.compile(r"^(?:[-*•·–—]|\d{1,2}[.)])\s+")


class RelapseError(Exception):
    """A request refused; the message says why."""


# --- validation ---------------------------------------------------------------------------


def clean_items(items: Any, label: str = "This section") -> list[str]:
    """A section's items as saved: strings, stripped, without blanks or repeats, at most
    MAX_ITEMS of at most MAX_ITEM_CHARS each, no NUL. RelapseError otherwise."""
    if not isinstance(items, list | tuple):
        raise RelapseError(f"{label}: a list of items was expected.")
    out: list[str] = []
    for raw in items:
        if not isinstance(raw, str):
            raise RelapseError(f"{label}: every item must be text.")
        if "\x00" in raw:
            raise RelapseError(
                f"{label}: the text contains a character that cannot be saved (NUL)."
            )
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            raise RelapseError(
                f"{label}: the text contains a character that cannot be saved."
            ) from None
        item = " ".join(raw.split())
        if not item or item in out:
            continue
        if len(item) > MAX_ITEM_CHARS:
            raise RelapseError(
                f"{label}: an item can hold at most {MAX_ITEM_CHARS} characters "
                f"(one starting “{item[:40]}…” has {len(item):,})."
            )
        out.append(item)
        if len(out) > MAX_ITEMS:
            raise RelapseError(f"{label}: at most {MAX_ITEMS} items.")
    return out


def parse_items(text: Any, label: str = "This section") -> list[str]:
    """The items of a textarea, one per line (bullets and numbers typed in front of an
    item are dropped). Raises RelapseError, and nothing else, for any input."""
    if not isinstance(text, str):
        raise RelapseError(f"{label}: text was expected.")
    if "\x00" in text:
        raise RelapseError(f"{label}: the text contains a character that cannot be saved (NUL).")
    if len(text) > (MAX_ITEM_CHARS + 10) * MAX_ITEMS * 2:
        raise RelapseError(f"{label}: the text is too long for a plan (at most {MAX_ITEMS} items).")
    lines = [_without_bullets(line) for line in text.splitlines()]
    return clean_items([line for line in lines if line], label)


def _without_bullets(line: str) -> str:
    """The line without the bullets or numbers in front ("1. - Walk" → "Walk"), so that a
    saved item shown in the editor and saved again stays the same."""
    line = line.strip()
    while True:
        shorter = BULLET.sub("", line, count=1).strip()
        if shorter == line:
            return line
        line = shorter


def clean_sections(sections: dict[str, Any]) -> dict[str, list[str]]:
    return {key: clean_items(sections.get(key, []), SECTION_LABELS[key]) for key in SECTION_KEYS}


def clean_support(
    participant_id: int, support: Sequence[tuple[Any, Any]]
) -> list[tuple[Contact, str]]:
    """(contact, role) pairs: only the participant's active contacts, each once."""
    if len(support) > MAX_SUPPORT:
        raise RelapseError(f"At most {MAX_SUPPORT} support people on a plan.")
    ids: list[int] = []
    roles: dict[int, str] = {}
    for contact_id, role in support:
        if not isinstance(contact_id, int) or isinstance(contact_id, bool):
            raise RelapseError("Choose support people from the participant's contacts.")
        if not isinstance(role, str) or "\x00" in role:
            raise RelapseError("A support person's role contains a character that cannot be saved.")
        role = " ".join(role.split())
        if len(role) > MAX_ROLE_CHARS:
            raise RelapseError(
                f"A support person's role can hold at most {MAX_ROLE_CHARS} characters."
            )
        if contact_id not in roles:
            ids.append(contact_id)
        roles[contact_id] = role
    found = {
        c.pk: c
        for c in Contact.objects.filter(pk__in=ids, participant_id=participant_id, voided=False)
    }
    if len(found) != len(ids):
        raise RelapseError(
            "A support person is not among the participant's contacts (or was removed): "
            "reload the page."
        )
    return [(found[i], roles[i]) for i in ids]


def clean_signature_image(image: Any) -> str:
    """A drawn signature: empty, or a PNG data: URL within the size limits."""
    if image in (None, ""):
        return ""
    if not isinstance(image, str) or not image.startswith(PNG_PREFIX):
        raise RelapseError(
            "The drawn signature was not received as an image: clear it and sign again."
        )
    if len(image) > MAX_SIGNATURE_CHARS:
        raise RelapseError("The drawn signature is too large: clear it and sign again.")
    try:
        data = base64.b64decode(image[len(PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise RelapseError(
            "The drawn signature could not be read: clear it and sign again."
        ) from None
    if not data.startswith(PNG_MAGIC) or len(data) < 24 or data[12:16] != b"IHDR":
        raise RelapseError("The drawn signature could not be read: clear it and sign again.")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not (0 < width <= MAX_SIGNATURE_PIXELS and 0 < height <= MAX_SIGNATURE_PIXELS):
        raise RelapseError("The drawn signature is too large: clear it and sign again.")
    return image


# --- writes --------------------------------------------------------------------------------


def _latest_signed(episode: Any) -> RelapsePlan | None:
    """The version a new draft copies: the episode's latest signed plan, else the
    participant's latest from an earlier episode (a returning participant)."""
    plans = RelapsePlan.objects.filter(status__in=LOCKED, voided=False)
    return (
        plans.filter(episode=episode).order_by("-number").first()
        or plans.filter(participant_id=episode.participant_id)
        .exclude(episode=episode)
        .order_by("-signed_at", "-pk")
        .first()
    )


def start_draft(
    episode: Any, *, actor: Any, at: dt.datetime | None = None
) -> tuple[RelapsePlan, bool]:
    """The episode's open draft, or a new version: a copy of the latest signed plan (its
    support people who are still contacts included). Returns (plan, created)."""
    from openiop.participants.models import Episode

    at = at or timezone.now()
    with transaction.atomic():
        locked = Episode.objects.select_for_update().get(pk=episode.pk)
        if locked.voided or locked.status not in IN_CARE:
            raise RelapseError(
                "Relapse-prevention plans are written for participants in care "
                "(admitted or active)."
            )
        draft = RelapsePlan.objects.filter(
            episode=locked, status=PlanStatus.DRAFT, voided=False
        ).first()
        if draft is not None:
            return draft, False
        source = _latest_signed(locked)
        number = (
            RelapsePlan.objects.filter(episode=locked).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        plan = RelapsePlan.objects.create(
            participant_id=locked.participant_id,
            episode=locked,
            program_id=locked.program_id,
            number=number,
            previous=source,
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
            **{key: list(getattr(source, key)) if source else [] for key in SECTION_KEYS},
        )
        if source is not None:
            people = SupportPerson.objects.filter(plan=source, contact__voided=False)
            SupportPerson.objects.bulk_create(
                [
                    SupportPerson(plan=plan, contact_id=p.contact_id, role=p.role, position=i)
                    for i, p in enumerate(people)
                ]
            )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=plan,
            changes={
                "number": [None, number],
                "copied_from": [None, source.pk if source else None],
            },
        )
    return plan, True


def _counts(plan: RelapsePlan, support: int) -> dict[str, int]:
    return {**{key: len(getattr(plan, key)) for key in SECTION_KEYS}, "support": support}


def save_draft(
    plan: RelapsePlan,
    *,
    actor: Any,
    sections: dict[str, Any],
    support: Sequence[tuple[Any, Any]],
    expected_version: int,
    at: dt.datetime | None = None,
) -> RelapsePlan:
    """Save the draft's sections and support people. A signed plan is refused
    (SignedRecordError), a stale version too (StaleEdit): nothing is written."""
    at = at or timezone.now()
    with transaction.atomic():
        current = RelapsePlan.objects.select_for_update().get(pk=plan.pk)
        if current.is_signed:
            raise SignedRecordError(REFUSAL)
        if current.voided:
            raise RelapseError("This draft was discarded.")
        if current.version != expected_version:
            raise StaleEdit(
                "Someone else saved this draft while you were editing. Your changes were not "
                "saved; reload to see theirs."
            )
        cleaned = clean_sections(sections)
        people = clean_support(current.participant_id, support)
        before = _counts(current, current.support_people.count())
        for key, items in cleaned.items():
            setattr(current, key, items)
        current.support_people.all().delete()
        SupportPerson.objects.bulk_create(
            [
                SupportPerson(plan=current, contact=contact, role=role, position=i)
                for i, (contact, role) in enumerate(people)
            ]
        )
        current.version += 1
        current.updated_by = actor
        current.updated_at = at
        current.save(update_fields=[*SECTION_KEYS, "version", "updated_by", "updated_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes=audit.diff(before, _counts(current, len(people))),
        )
    return current


def check_complete(plan: RelapsePlan) -> None:
    """RelapseError naming the sections still empty, if any."""
    empty = [SECTION_LABELS[key] for key in REQUIRED_SECTIONS if not getattr(plan, key)]
    if empty:
        raise RelapseError("Write at least one item before signing in: " + ", ".join(empty) + ".")


def sign_plan(
    plan: RelapsePlan, *, actor: Any, expected_version: int, at: dt.datetime | None = None
) -> RelapsePlan:
    """The clinician signs: the plan is locked for good and the version it replaces is
    marked superseded."""
    at = at or timezone.now()
    if not actor.has_perm_code(Perm.PLAN_WRITE):
        raise RelapseError("Your roles do not allow signing relapse-prevention plans.")
    with transaction.atomic():
        current = RelapsePlan.objects.select_for_update().get(pk=plan.pk)
        if current.is_signed:
            raise RelapseError("This plan is already signed; start a new version to change it.")
        if current.voided:
            raise RelapseError("This draft was discarded.")
        if current.version != expected_version:
            raise StaleEdit(
                "Someone saved this draft after you opened it: review the plan again, then sign."
            )
        check_complete(current)
        removed = SupportPerson.objects.filter(plan=current, contact__voided=True)
        if removed.exists():
            raise RelapseError(
                "A support person on the plan was removed from the contacts: edit the draft "
                "and save it again before signing."
            )
        for old in RelapsePlan.objects.select_for_update().filter(
            episode_id=current.episode_id, status=PlanStatus.SIGNED
        ):
            old.status = PlanStatus.SUPERSEDED
            old.superseded_at = at
            old.version += 1
            old.updated_by = actor
            old.updated_at = at
            old.save(
                update_fields=["status", "superseded_at", "version", "updated_by", "updated_at"]
            )
            audit.record(
                AuditAction.CHANGE,
                actor=actor,
                obj=old,
                changes={"status": [PlanStatus.SIGNED, PlanStatus.SUPERSEDED]},
            )
        current.status = PlanStatus.SIGNED
        current.signed_by = actor
        current.signed_name = actor.display_name
        current.signed_credential = getattr(actor, "credentials", "") or ""
        current.signed_at = at
        current.version += 1
        current.updated_by = actor
        current.updated_at = at
        current.save(
            update_fields=[
                "status",
                "signed_by",
                "signed_name",
                "signed_credential",
                "signed_at",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(AuditAction.SIGN, actor=actor, obj=current, changes={"number": current.number})
    return current


def sign_as_participant(
    plan: RelapsePlan,
    *,
    actor: Any,
    typed_name: Any,
    image: Any = "",
    at: dt.datetime | None = None,
) -> RelapsePlan:
    """The participant signs the signed plan on a tablet: a typed name and, if drawn, a
    signature image. Once, and locked from then on."""
    at = at or timezone.now()
    if not isinstance(typed_name, str) or "\x00" in typed_name:
        raise RelapseError("Type your name as it should appear on the plan.")
    name = " ".join(typed_name.split())
    if not name:
        raise RelapseError("Type your name as it should appear on the plan.")
    if len(name) > MAX_NAME_CHARS:
        raise RelapseError(f"A name can hold at most {MAX_NAME_CHARS} characters.")
    drawn = clean_signature_image(image)
    with transaction.atomic():
        current = RelapsePlan.objects.select_for_update().get(pk=plan.pk)
        if current.voided:
            raise RelapseError("This plan was voided.")
        if current.status == PlanStatus.DRAFT:
            raise RelapseError("The clinician signs the plan first; then the participant.")
        if current.status == PlanStatus.SUPERSEDED:
            raise RelapseError("A newer version of this plan was signed: sign that one.")
        if current.participant_signed_at is not None:
            raise RelapseError("The participant has already signed this plan.")
        current.participant_signed_name = name
        current.participant_signed_at = at
        current.participant_signature = drawn
        current.participant_signature_taken_by = actor
        current.version += 1
        current.updated_by = actor
        current.updated_at = at
        current.save(
            update_fields=[
                "participant_signed_name",
                "participant_signed_at",
                "participant_signature",
                "participant_signature_taken_by",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.SIGN,
            actor=actor,
            obj=current,
            changes={"participant_signed": True, "drawn": bool(drawn)},
        )
    return current
