"""Every write of instrument answers, program instrument settings and safety alerts.

Each function is atomic and writes its audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from . import catalogue
from .models import AlertRisk, InstrumentResponse, InstrumentSetting, Mode, SafetyAlert
from .scoring import score


class AlertAlreadyResolved(Exception):
    pass


def record_response(
    participant: Any,
    *,
    actor: Any,
    instrument: str,
    answers: Sequence[int] | Mapping[str, int],
    administered_on: dt.date,
    occasion: str,
    mode: str = Mode.STAFF,
    note: str = "",
    sex: str | None = None,
    episode: Any = None,
    at: dt.datetime | None = None,
) -> InstrumentResponse:
    """Score and keep one administration; a safety flag raises an alert in the same step.

    Raises ValueError (from `score`) for answers that do not fit the instrument, and for
    an instrument the participant's program has switched off.
    """
    definition = catalogue.get(instrument)
    program = participant.program
    if not catalogue.enabled_for(program, definition.code):
        raise ValueError(f"{definition.short_name} is switched off for {program.name}.")
    result = score(definition.code, answers, sex=sex)
    if administered_on > program.today():
        raise ValueError("The date given cannot be in the future.")
    at = at or timezone.now()
    episode = episode if episode is not None else participant.current_episode
    with transaction.atomic():
        response = InstrumentResponse.objects.create(
            participant=participant,
            episode=episode,
            instrument=definition.code,
            answers=list(result.answers),
            total=result.total,
            band=result.band.label if result.band else "",
            severity=result.band.severity if result.band else None,
            subscales=dict(result.subscales),
            flags=[
                {"code": f.code, "message": f.message, "safety": f.safety, "risk": f.risk}
                for f in result.flags
            ],
            administered_on=administered_on,
            occasion=occasion,
            mode=mode,
            administered_by=actor if getattr(actor, "is_authenticated", False) else None,
            note=note.strip(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            updated_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=at,
            updated_at=at,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=response,
            changes={"instrument": [None, definition.code], "total": [None, result.total]},
        )
        for flag in result.flags:
            if flag.safety:
                raise_alert(
                    participant,
                    actor=actor,
                    episode=episode,
                    source=f"{definition.short_name}" + (f" item {flag.item}" if flag.item else ""),
                    risk=flag.risk if flag.risk in AlertRisk.values else AlertRisk.HIGH,
                    message=flag.message,
                    response=response,
                    at=at,
                )
    return response


def raise_alert(
    participant: Any,
    *,
    actor: Any,
    source: str,
    risk: str,
    message: str,
    episode: Any = None,
    response: InstrumentResponse | None = None,
    at: dt.datetime | None = None,
) -> SafetyAlert:
    at = at or timezone.now()
    with transaction.atomic():
        alert = SafetyAlert.objects.create(
            participant=participant,
            episode=episode,
            program=participant.program,
            response=response,
            source=source[:120],
            risk=risk,
            message=message[:300],
            raised_at=at,
            created_at=at,
            updated_at=at,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            updated_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=alert,
            changes={"risk": [None, risk], "source": [None, source]},
        )
    return alert


def respond_to_alert(
    alert: SafetyAlert,
    *,
    actor: Any,
    actions: list[str],
    risk_after: str,
    note: str,
    at: dt.datetime | None = None,
) -> SafetyAlert:
    """Document the clinical response; the alert leaves the board. Kept, never deleted."""
    note = note.strip()
    if not note:
        raise ValueError("Describe the response: what was assessed and what was done.")
    if risk_after not in AlertRisk.values:
        raise ValueError("Choose the risk level after your assessment.")
    at = at or timezone.now()
    with transaction.atomic():
        current = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if current.resolved_at is not None:
            raise AlertAlreadyResolved(
                f"{current.resolved_by_name or 'A colleague'} already documented a response "
                f"at {timezone.localtime(current.resolved_at):%H:%M}."
            )
        current.resolved_at = at
        current.resolved_by = actor
        current.resolved_by_name = _name(actor)
        current.actions = list(actions)
        current.risk_after = risk_after
        current.response_note = note
        current.version += 1
        current.updated_by = actor
        current.updated_at = at
        current.save(
            update_fields=[
                "resolved_at",
                "resolved_by",
                "resolved_by_name",
                "actions",
                "risk_after",
                "response_note",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"resolved": [False, True], "risk_after": [None, risk_after]},
        )
    return current


def save_settings(program: Any, *, actor: Any, rows: dict[str, dict[str, Any]]) -> int:
    """Set each instrument's enabled / routine / interval for a program. Returns changes."""
    changed = 0
    with transaction.atomic():
        existing = {
            s.instrument: s
            for s in InstrumentSetting.objects.select_for_update().filter(program=program)
        }
        for code, values in rows.items():
            definition = catalogue.get(code)
            current = existing.get(definition.code)
            before = catalogue.setting_values(program, definition.code, existing)
            after: dict[str, Any] = {
                "enabled": bool(values["enabled"]),
                "routine": bool(values["routine"]) and bool(values["enabled"]),
                "interval_days": int(values["interval_days"]),
            }
            if before == after:
                continue
            if current is None:
                current = InstrumentSetting(program=program, instrument=definition.code)
            current.enabled = after["enabled"]
            current.routine = after["routine"]
            current.interval_days = after["interval_days"]
            current.updated_at = timezone.now()
            current.save()
            audit.record(
                AuditAction.CHANGE,
                actor=actor,
                object_type="instruments.instrumentsetting",
                object_id=f"{program.pk}:{definition.code}",
                object_repr=f"{definition.short_name} in {program.name}",
                changes=audit.diff(before, after),
            )
            changed += 1
    return changed


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", "") or getattr(actor, "username", "") or "system")
