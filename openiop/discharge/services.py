"""Discharge and the discharge summary: every write goes through here (atomic, audited).

    discharge_participant(episode, actor=..., reason=..., discharge_date=...,
                          last_contact_date=..., ...) -> Discharge
    save_summary / refresh_summary / sign_summary / add_addendum

A discharge moves the episode to Discharged (`participants.services.transition_episode`),
records the Discharge with its TEDS items, opens a draft summary with the facts assembled
from the record, and calls the discharge hooks (the alumni follow-ups), all in one
transaction: if any part is refused, nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, cast

from django.db import models, transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.models import SignedRecordError
from openiop.core.records import lock_for_edit, save_change
from openiop.core.roles import Perm
from openiop.participants import lifecycle
from openiop.participants.choices import EpisodeStatus
from openiop.participants.models import Episode
from openiop.participants.services import transition_episode

from . import hooks, rules, summary
from .choices import DischargeReason, SummaryStatus
from .models import Discharge, DischargeSummary, SummaryAddendum
from .rules import DischargeRefused

# The TEDS items asked again at discharge (DOMAIN.md §8.1), as Discharge fields.
TEDS_FIELDS = ("sub1_d", "freq1_d", "employ_d", "livarag_d", "arrests_d", "self_help_d")
# The counsellor's words on the summary.
TEXT_FIELDS = ("presenting_problem", "course", "progress", "condition", "recommendations")
MAX_ADDENDUM = 8000


def _name(actor: Any) -> str:
    full = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return str(full or getattr(actor, "username", "") or "system")


def _require(actor: Any) -> None:
    if not actor.has_perm_code(Perm.DISCHARGE_WRITE):
        raise DischargeRefused("Your roles do not allow discharging participants.")


def _clean_teds(teds: dict[str, Any] | None) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name, value in (teds or {}).items():
        if name not in TEDS_FIELDS:
            raise DischargeRefused(f"“{name}” is not a TEDS discharge item.")
        if value in (None, ""):
            out[name] = None
            continue
        field = cast(models.Field, Discharge._meta.get_field(name))
        valid = {code for code, _label in field.choices or ()}
        if isinstance(value, bool) or value not in valid:
            raise DischargeRefused(f"{value!r} is not a code of {field.verbose_name}.")
        out[name] = int(value)
    return out


def discharge_participant(
    episode: Episode,
    *,
    actor: Any,
    reason: str,
    discharge_date: dt.date,
    last_contact_date: dt.date,
    reason_detail: str = "",
    next_level: str = "",
    receiving_program: str = "",
    receiving_contact: str = "",
    teds: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Discharge:
    """Discharge the episode, or raise DischargeRefused (nothing saved)."""
    _require(actor)
    at = at or timezone.now()
    teds_values = _clean_teds(teds)
    transition = reason in rules.TRANSITION_REASONS
    with transaction.atomic():
        current = (
            Episode.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=episode.pk)
        )
        today = current.program.today(at)
        rules.check(
            rules.Proposed(
                status=current.status,
                admission_date=current.admission_date,
                level_of_care=current.level_of_care,
                today=today,
                discharge_date=discharge_date,
                last_contact_date=last_contact_date,
                reason=reason,
                reason_detail=reason_detail,
                next_level=next_level,
                receiving_program=receiving_program,
                already_discharged=Discharge.objects.filter(episode=current).exists(),
            )
        )
        label = DischargeReason(reason).label
        detail = reason_detail.strip()
        try:
            current = transition_episode(
                current,
                EpisodeStatus.DISCHARGED,
                actor=actor,
                effective_date=discharge_date,
                reason=f"{label}: {detail}" if detail else label,
                today=today,
                at=at,
            )
        except lifecycle.TransitionRefused as exc:
            raise DischargeRefused(str(exc)) from None
        discharge = Discharge.objects.create(
            episode=current,
            participant_id=current.participant_id,
            program_id=current.program_id,
            discharge_date=discharge_date,
            last_contact_date=last_contact_date,
            reason=reason,
            reason_detail=detail,
            level_at_discharge=current.level_of_care,
            next_level=next_level if transition else "",
            receiving_program=receiving_program.strip() if transition else "",
            receiving_contact=receiving_contact.strip() if transition else "",
            discharged_by=actor,
            discharged_by_name=_name(actor),
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
            **teds_values,
        )
        facts = summary.assemble(current, discharge)
        draft = DischargeSummary.objects.create(
            discharge=discharge,
            episode=current,
            participant_id=current.participant_id,
            facts=facts,
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
            **summary.prefilled_text(current, facts),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=discharge,
            participant_id=current.participant_id,
            changes={"reason": reason, "discharge_date": discharge_date.isoformat()},
        )
        audit.record(
            AuditAction.CREATE, actor=actor, obj=draft, participant_id=current.participant_id
        )
        hooks.discharged(discharge, actor=actor)
    return discharge


def _lock_draft(summary_pk: int, expected_version: int) -> DischargeSummary:
    current = lock_for_edit(
        DischargeSummary, summary_pk, expected_version, what="discharge summary"
    )
    if current.is_signed:
        raise SignedRecordError("This summary is signed and never changes; write an addendum.")
    if current.voided:
        raise DischargeRefused("This summary was voided.")
    return current


def save_summary(
    draft: DischargeSummary, *, actor: Any, expected_version: int, values: dict[str, str]
) -> DischargeSummary:
    """Save the counsellor's words on a draft; StaleEdit if a colleague saved in between."""
    _require(actor)
    fields = [f for f in TEXT_FIELDS if f in values]
    with transaction.atomic():
        current = _lock_draft(draft.pk, expected_version)
        before = audit.snapshot(current, fields)
        for name in fields:
            setattr(current, name, values[name].strip())
        save_change(
            current,
            actor=actor,
            fields=fields,
            changes=audit.diff(before, audit.snapshot(current, fields)),
        )
    return current


def refresh_summary(
    draft: DischargeSummary, *, actor: Any, expected_version: int
) -> DischargeSummary:
    """Assemble the facts again from the record (a draft only; the text stays)."""
    _require(actor)
    with transaction.atomic():
        current = _lock_draft(draft.pk, expected_version)
        episode = Episode.objects.get(pk=current.episode_id)
        discharge = Discharge.objects.get(pk=current.discharge_id)
        before = current.facts
        current.facts = summary.assemble(episode, discharge)
        changed = before != current.facts
        current.version += 1
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.save(update_fields=["facts", "version", "updated_by", "updated_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"facts": ["refreshed", "changed" if changed else "unchanged"]},
        )
    return current


def content_hash(s: DischargeSummary) -> str:
    content = {"facts": s.facts, **{name: getattr(s, name) for name in TEXT_FIELDS}}
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def sign_summary(
    draft: DischargeSummary, *, actor: Any, expected_version: int, at: dt.datetime | None = None
) -> DischargeSummary:
    """Sign the summary with the signer's name and credential: read-only from then on."""
    _require(actor)
    at = at or timezone.now()
    with transaction.atomic():
        current = _lock_draft(draft.pk, expected_version)
        current.status = SummaryStatus.SIGNED
        current.signed_at = at
        current.signed_by = actor
        current.signed_by_name = _name(actor)
        current.signed_credential = str(getattr(actor, "credentials", "") or "")
        current.content_sha256 = content_hash(current)
        current.version += 1
        current.updated_by = actor
        current.updated_at = at
        # The row is still a draft in the database, so the model lets this save through.
        current.save(
            update_fields=[
                "status",
                "signed_at",
                "signed_by",
                "signed_by_name",
                "signed_credential",
                "content_sha256",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.SIGN, actor=actor, obj=current, changes={"sha256": current.content_sha256}
        )
    return current


def add_addendum(
    signed: DischargeSummary, *, actor: Any, text: str, at: dt.datetime | None = None
) -> SummaryAddendum:
    """A later note on a signed summary, signed by its author when saved."""
    _require(actor)
    at = at or timezone.now()
    text = (text or "").strip()
    if not text:
        raise DischargeRefused("Write the addendum.")
    if len(text) > MAX_ADDENDUM:
        raise DischargeRefused(f"An addendum is at most {MAX_ADDENDUM} characters.")
    with transaction.atomic():
        current = DischargeSummary.objects.select_for_update().get(pk=signed.pk)
        if not current.is_signed:
            raise DischargeRefused("Addenda are written on a signed summary; edit the draft.")
        addendum = SummaryAddendum.objects.create(
            summary=current,
            text=text,
            signed_by=actor,
            signed_by_name=_name(actor),
            signed_at=at,
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
        )
        audit.record(
            AuditAction.CREATE, actor=actor, obj=addendum, participant_id=current.participant_id
        )
    return addendum


def summaries_to_sign(user: Any) -> Any:
    """Draft summaries of the user's caseload (their primary episodes), oldest first."""
    return (
        DischargeSummary.objects.filter(
            status=SummaryStatus.DRAFT,
            voided=False,
            episode__primary_counsellor=user,
            episode__program_id__in=user.program_ids,
        )
        .select_related("participant", "discharge")
        .order_by("discharge__discharge_date", "pk")
    )
