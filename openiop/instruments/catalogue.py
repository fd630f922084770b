"""Which instruments a program offers, which it gives routinely, and how often.

A program without a saved setting for an instrument gets the defaults: every instrument
offered (licence-limited ones say so on the set-up page and can be switched off), the
routine set of `DEFAULT_ROUTINE` every `DEFAULT_INTERVAL_DAYS` days.
"""

from __future__ import annotations

from typing import Any

from .definitions import Instrument, all_definitions
from .definitions import get as get_definition
from .models import DEFAULT_INTERVAL_DAYS, DEFAULT_ROUTINE, InstrumentSetting


def get(code: str) -> Instrument:
    return get_definition(code)


def default_values(code: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "routine": code in DEFAULT_ROUTINE,
        "interval_days": DEFAULT_INTERVAL_DAYS,
    }


def setting_values(
    program: Any, code: str, existing: dict[str, InstrumentSetting] | None = None
) -> dict[str, Any]:
    if existing is None:
        existing = {
            s.instrument: s
            for s in InstrumentSetting.objects.filter(program=program, instrument=code)
        }
    setting = existing.get(code)
    if setting is None:
        return default_values(code)
    return {
        "enabled": setting.enabled,
        "routine": setting.routine,
        "interval_days": setting.interval_days,
    }


def program_settings(program_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """{program id: {instrument code: values}} for every instrument, in one query."""
    saved: dict[int, dict[str, InstrumentSetting]] = {pid: {} for pid in program_ids}
    for s in InstrumentSetting.objects.filter(program_id__in=program_ids):
        saved.setdefault(s.program_id, {})[s.instrument] = s
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for pid, existing in saved.items():
        out[pid] = {d.code: setting_values(None, d.code, existing) for d in all_definitions()}
    return out


def enabled_for(program: Any, code: str) -> bool:
    return bool(setting_values(program, code)["enabled"])


def enabled_definitions(program: Any) -> list[Instrument]:
    values = program_settings([program.pk])[program.pk]
    return [d for d in all_definitions() if values[d.code]["enabled"]]
