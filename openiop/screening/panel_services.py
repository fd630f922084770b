"""Changing panels, their analyte lines and cut-offs, and the analytes themselves (issue 7,
point 1: panels are data, per device or lab; DOMAIN.md §5.2). Atomic and audited.

Validation errors raise `services.ScreeningInputError` (400); refusals because of the
record's state (retiring the policy's panel, removing a line results were read against)
raise `services.ScreeningError` (409).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .choices import SpecimenType, SubstanceClass, TestMethod
from .models import Analyte, Panel, PanelAnalyte, Result, ScreeningPolicy
from .services import ScreeningError, ScreeningInputError

# Cut-offs are stored with 3 decimals in 10 digits; no device reads a million ng/mL.
MAX_CUTOFF = Decimal("1000000")
MAX_UNIT = 20
MAX_PANEL_NAME = 120
MAX_DEVICE = 120
MAX_DESCRIPTION = 300
MAX_BILLING_CODE = 10
MAX_ANALYTE_CODE = 20
MAX_ANALYTE_NAME = 120
CODE = re.compile(r"[A-Z0-9]{1,20}")
BILLING_CODE = re.compile(r"[A-Z0-9]{1,10}")
# LOINC codes are digits, a dash and a check digit (e.g. 19295-5).
LOINC = re.compile(r"[0-9]{1,8}-[0-9]")
PANEL_FIELDS = ("name", "specimen_type", "method", "cpt_code", "device", "description")


# --- checks shared with the forms -----------------------------------------------------------


def check_cutoff(value: Any, label: str = "The cut-off") -> Decimal:
    """A cut-off above 0 and below 1,000,000 with at most 3 decimals."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ScreeningInputError(f"{label} must be a number.") from None
    if not number.is_finite() or not Decimal(0) < number < MAX_CUTOFF:
        raise ScreeningInputError(f"{label} must be above 0 and below 1,000,000.")
    if number != number.quantize(Decimal("0.001")):
        raise ScreeningInputError(f"{label} has at most 3 decimals.")
    return number


def _text(value: Any, label: str, limit: int, *, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ScreeningInputError(f"{label} is required.")
    if len(text) > limit:
        raise ScreeningInputError(f"{label} is limited to {limit} characters.")
    if "\x00" in text:
        raise ScreeningInputError(f"{label} contains a character that is not allowed.")
    return text


def _line_values(cutoff: Any, unit: Any, confirm_cutoff: Any) -> dict[str, Any]:
    confirm = None
    if confirm_cutoff not in (None, ""):
        confirm = check_cutoff(confirm_cutoff, "The definitive cut-off")
    return {
        "cutoff": check_cutoff(cutoff),
        "unit": _text(unit, "The unit", MAX_UNIT, required=True),
        "confirm_cutoff": confirm,
    }


def _panel_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(PANEL_FIELDS)
    if unknown:
        raise TypeError(f"Not a panel field: {sorted(unknown)}")
    out = {
        "name": _text(values.get("name"), "The name", MAX_PANEL_NAME, required=True),
        "specimen_type": values.get("specimen_type"),
        "method": values.get("method"),
        "cpt_code": _text(values.get("cpt_code"), "The billing code", MAX_BILLING_CODE).upper(),
        "device": _text(values.get("device"), "The device or laboratory", MAX_DEVICE),
        "description": _text(values.get("description"), "The description", MAX_DESCRIPTION),
    }
    if out["specimen_type"] not in SpecimenType.values:
        raise ScreeningInputError("Choose a specimen type.")
    if out["method"] not in TestMethod.values:
        raise ScreeningInputError("Choose a method.")
    if out["cpt_code"] and not BILLING_CODE.fullmatch(out["cpt_code"]):
        raise ScreeningInputError("A billing code is letters and digits (e.g. 80305).")
    return out


def _name_free(name: str, panel: Panel | None = None) -> None:
    taken = Panel.objects.filter(name__iexact=name)
    if panel is not None:
        taken = taken.exclude(pk=panel.pk)
    if taken.exists():
        raise ScreeningInputError(f"A panel named “{name}” already exists; choose another name.")


def policies_using(panel: Panel) -> list[str]:
    """The names of the programs whose screening policy tests with this panel."""
    return list(
        ScreeningPolicy.objects.filter(random_panel=panel)
        .order_by("program__name")
        .values_list("program__name", flat=True)
    )


def analytes_with_results(panel: Panel) -> set[int]:
    """Analyte ids with a result on a specimen collected for an order of this panel."""
    return set(
        Result.objects.filter(collection__order__panel=panel)
        .order_by()
        .values_list("analyte_id", flat=True)
        .distinct()
    )


# --- panels ---------------------------------------------------------------------------------


def create_panel(*, actor: Any, **values: Any) -> Panel:
    data = _panel_values(values)
    with transaction.atomic():
        _name_free(data["name"])
        try:
            with transaction.atomic():
                panel = Panel.objects.create(**data)
        except IntegrityError:  # pragma: no cover  (the same name saved at the same time)
            raise ScreeningInputError(f"A panel named “{data['name']}” already exists.") from None
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=panel,
            changes={k: [None, audit._jsonable(v)] for k, v in data.items() if v},
        )
    return panel


def update_panel(panel: Panel, *, actor: Any, **values: Any) -> Panel:
    data = _panel_values(values)
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        _name_free(data["name"], panel)
        changes = {k: [getattr(panel, k), v] for k, v in data.items() if getattr(panel, k) != v}
        if not changes:
            return panel
        for name, value in data.items():
            setattr(panel, name, value)
        panel.updated_at = timezone.now()
        try:
            with transaction.atomic():
                panel.save()
        except IntegrityError:  # pragma: no cover  (the same name saved at the same time)
            raise ScreeningInputError(f"A panel named “{data['name']}” already exists.") from None
        audit.record(AuditAction.CHANGE, actor=actor, obj=panel, changes=changes)
    return panel


def retire_panel(panel: Panel, *, actor: Any) -> Panel:
    """A retired panel is kept for the tests done with it but cannot be ordered."""
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if panel.retired:
            raise ScreeningError("This panel is already retired.")
        programs = policies_using(panel)
        if programs:
            raise ScreeningError(
                "This panel is the random and scheduled test panel of the screening policy "
                f"of {', '.join(programs)}: choose another panel in the policy first."
            )
        now = timezone.now()
        panel.retired, panel.retired_at, panel.updated_at = True, now, now
        panel.save(update_fields=["retired", "retired_at", "updated_at"])
        audit.record(AuditAction.CHANGE, actor=actor, obj=panel, changes={"retired": [False, True]})
    return panel


def unretire_panel(panel: Panel, *, actor: Any) -> Panel:
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if not panel.retired:
            raise ScreeningError("This panel is in use already.")
        panel.retired, panel.retired_at, panel.updated_at = False, None, timezone.now()
        panel.save(update_fields=["retired", "retired_at", "updated_at"])
        audit.record(AuditAction.CHANGE, actor=actor, obj=panel, changes={"retired": [True, False]})
    return panel


# --- analyte lines --------------------------------------------------------------------------


def _describe(line: PanelAnalyte) -> str:
    text = f"{line.analyte.code} ≥ {line.cutoff} {line.unit}"
    return text + (f" (definitive {line.confirm_cutoff})" if line.confirm_cutoff else "")


def _touch(panel: Panel) -> None:
    Panel.objects.filter(pk=panel.pk).update(updated_at=timezone.now())


def add_line(
    panel: Panel,
    *,
    actor: Any,
    analyte: Analyte,
    cutoff: Any,
    unit: Any = "ng/mL",
    confirm_cutoff: Any = None,
) -> PanelAnalyte:
    data = _line_values(cutoff, unit, confirm_cutoff)
    with transaction.atomic():
        panel = Panel.objects.select_for_update().get(pk=panel.pk)
        if analyte.retired:
            raise ScreeningInputError("Choose an analyte that is in use.")
        if PanelAnalyte.objects.filter(panel=panel, analyte=analyte).exists():
            raise ScreeningInputError(f"{analyte.code} is on this panel already.")
        last = PanelAnalyte.objects.filter(panel=panel).aggregate(m=Max("position"))["m"]
        line = PanelAnalyte.objects.create(
            panel=panel, analyte=analyte, position=(last or 0) + 1, **data
        )
        _touch(panel)
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=panel,
            changes={f"{analyte.code} line": [None, _describe(line)]},
        )
    return line


def update_line(
    line: PanelAnalyte, *, actor: Any, cutoff: Any, unit: Any, confirm_cutoff: Any
) -> PanelAnalyte:
    """Change a line's cut-offs. Results already recorded keep the cut-off they were read
    against (`Result.cutoff`)."""
    data = _line_values(cutoff, unit, confirm_cutoff)
    with transaction.atomic():
        line = (
            PanelAnalyte.objects.select_for_update()
            .select_related("panel", "analyte")
            .get(pk=line.pk)
        )
        changes = {
            k: [audit._jsonable(getattr(line, k)), audit._jsonable(v)]
            for k, v in data.items()
            if getattr(line, k) != v
        }
        if not changes:
            return line
        for name, value in data.items():
            setattr(line, name, value)
        line.save(update_fields=list(data))
        _touch(line.panel)
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=line.panel,
            changes={f"{line.analyte.code} {k}": v for k, v in changes.items()},
        )
    return line


def remove_line(line: PanelAnalyte, *, actor: Any) -> None:
    """Take an analyte off a panel, only while no result was read for it on a specimen of
    this panel (the results must still show against the panel they came from)."""
    with transaction.atomic():
        line = (
            PanelAnalyte.objects.select_for_update()
            .select_related("panel", "analyte")
            .get(pk=line.pk)
        )
        used = Result.objects.filter(
            collection__order__panel=line.panel, analyte=line.analyte
        ).exists()
        if used:
            raise ScreeningError(
                f"{line.analyte.code} cannot be removed: results were recorded for it on "
                "specimens tested with this panel. Retire the panel and make a new one instead."
            )
        panel, code, before = line.panel, line.analyte.code, _describe(line)
        line.delete()
        _touch(panel)
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=panel,
            changes={f"{code} line": [before, None]},
            reason="analyte removed from the panel",
        )


# --- analytes -------------------------------------------------------------------------------


def create_analyte(*, actor: Any, code: Any, name: Any, substance: Any, loinc: Any = "") -> Analyte:
    code = _text(code, "The code", MAX_ANALYTE_CODE, required=True).upper()
    if not CODE.fullmatch(code):
        raise ScreeningInputError("The code is upper-case letters and digits only (e.g. THC).")
    name = _text(name, "The name", MAX_ANALYTE_NAME, required=True)
    if substance not in SubstanceClass.values:
        raise ScreeningInputError("Choose a substance class.")
    loinc = _text(loinc, "The LOINC code", 20)
    if loinc and not LOINC.fullmatch(loinc):
        raise ScreeningInputError("A LOINC code is digits, a dash and a check digit (19295-5).")
    with transaction.atomic():
        if Analyte.objects.filter(code=code).exists():
            raise ScreeningInputError(f"An analyte with the code {code} already exists.")
        try:
            with transaction.atomic():
                analyte = Analyte.objects.create(
                    code=code, name=name, substance=substance, loinc=loinc
                )
        except IntegrityError:  # pragma: no cover  (the same code saved at the same time)
            raise ScreeningInputError(f"An analyte with the code {code} already exists.") from None
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=analyte,
            changes={"code": [None, code], "name": [None, name], "substance": [None, substance]},
        )
    return analyte
