"""Panels of the today board. Apps register what a user should see first thing:

    register_panel(Panel("caseload", "My caseload", None, "participants/panels/caseload.html",
                         caseload_context, order=20))

A panel whose permission the user lacks is not shown. A context function returning None
hides the panel (nothing to show for this user). Each must run a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from .access import StaffRequest


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    perm: str | None
    template: str
    context: Callable[[StaffRequest], dict[str, Any] | None]
    order: int = 100
    wide: bool = False


PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> Panel:
    PANELS[panel.key] = panel
    return panel


def panels_for(request: StaffRequest) -> list[dict[str, Any]]:
    out = []
    for panel in sorted(PANELS.values(), key=lambda p: (p.order, p.key)):
        if panel.perm and not request.user.has_perm_code(panel.perm):
            continue
        context = panel.context(request)
        if context is not None:
            html = render_to_string(panel.template, context, request=request)
            out.append({"panel": panel, "html": html})
    return out
