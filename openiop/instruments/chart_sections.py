"""The chart's Measures section: open safety alerts first, then each instrument's latest
score, band, reliable change since the first score, and a sparkline."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.charts import sparkline_svg
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from . import catalogue
from .definitions import UnknownInstrument
from .models import InstrumentResponse, SafetyAlert
from .rci import reliable_change


def measures_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    rows = InstrumentResponse.objects.filter(participant=participant, voided=False).order_by(
        "administered_on", "pk"
    )
    series: dict[str, list[InstrumentResponse]] = defaultdict(list)
    for r in rows.only(
        "instrument", "total", "band", "severity", "administered_on", "flags", "subscales"
    ):
        series[r.instrument].append(r)
    measures = []
    for code in sorted(series):
        try:
            definition = catalogue.get(code)
        except UnknownInstrument:  # pragma: no cover - a definition removed from the code
            continue
        given = series[code]
        latest = given[-1]
        totals = [r.total for r in given if r.total is not None]
        change = None
        if len(totals) >= 2:
            change = reliable_change(definition, totals[0], totals[-1])
        spark = None
        if len(totals) >= 2 and definition.has_total:
            spark = sparkline_svg(
                [float(t) for t in totals],
                y_min=float(definition.min_total),
                y_max=float(definition.max_total),
                label=f"{definition.short_name} trend",
            )
        measures.append(
            {
                "definition": definition,
                "latest": latest,
                "count": len(given),
                "change": change,
                "spark": spark,
            }
        )
    alerts = list(
        SafetyAlert.objects.filter(participant=participant, resolved_at__isnull=True, voided=False)
    )
    return {
        "measures": measures,
        "open_alerts": alerts,
        "can_give": request.user.has_perm_code(Perm.INSTRUMENT_GIVE),
        "can_respond": request.user.has_perm_code(Perm.SAFETY_RESPOND),
    }


register_section(
    Section(
        "measures",
        "Measures",
        Perm.CLINICAL_VIEW,
        "instruments/sections/measures.html",
        measures_context,
        order=30,
    )
)
