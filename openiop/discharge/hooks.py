"""What other areas do when a participant is discharged.

    on_discharge(fn)                      # fn(discharge, actor), e.g. in an AppConfig.ready()
    discharged(discharge, actor=actor)    # called by discharge.services, in its transaction

The alumni area registers the scheduling of follow-ups here, so the discharge service
does not import it and a failing hook rolls the whole discharge back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What a hook answers is ignored.
Hook = Callable[[Any, Any], object]

_HOOKS: list[Hook] = []


def on_discharge(fn: Hook) -> Hook:
    """Register `fn(discharge, actor)` to run inside every discharge's transaction."""
    if fn not in _HOOKS:
        _HOOKS.append(fn)
    return fn


def discharged(discharge: Any, *, actor: Any) -> None:
    for fn in list(_HOOKS):
        fn(discharge, actor)
