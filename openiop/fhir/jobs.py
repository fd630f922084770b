"""Worker jobs of the FHIR API (the bulk export runs here; see export.py)."""

from __future__ import annotations

from openiop.core.worker import Every, register_job

from . import export


@register_job("fhir.bulk_exports", Every(minutes=1))
def bulk_exports_job(period: str) -> str:
    """Make the queued FHIR bulk exports (each on its own: a failure fails only it)."""
    counts = export.run_queued()
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing queued"
