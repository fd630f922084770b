"""The Bulk Data `$export` endpoints (see export.py for the flow and the choices)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from . import export as bulk
from .api import api_view, context_for
from .auth import authenticate
from .errors import fhir_json, issue, outcome
from .models import BulkExport


def _kick_off(request: HttpRequest, level: str) -> HttpResponse:
    ctx = context_for(request, authenticate(request))
    export = bulk.kick_off(request, ctx, level)
    location = request.build_absolute_uri(
        reverse("fhir:export_status", kwargs={"export_id": str(export.uuid)})
    )
    body = outcome(
        [
            issue(
                "information",
                "informational",
                f"Export queued ({', '.join(export.types)}): poll {location}.",
            )
        ]
    )
    return fhir_json(body, 202, Content_Location=location)


@api_view()
def export(request: HttpRequest) -> HttpResponse:
    """System level: every participant of the program the client may read."""
    return _kick_off(request, BulkExport.Level.SYSTEM)


@api_view()
def patient_export(request: HttpRequest) -> HttpResponse:
    """Patient level: the patient compartment of every participant (or of the client's
    patient context, with patient/ scopes)."""
    return _kick_off(request, BulkExport.Level.PATIENT)


@api_view(methods=("GET", "DELETE"))
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    ctx = context_for(request, authenticate(request))
    export = bulk.find(ctx, export_id)
    if request.method == "DELETE":
        bulk.cancel(ctx, export)
        body = outcome([issue("information", "informational", "The export was cancelled.")])
        return fhir_json(body, 202)
    code, manifest = bulk.status(ctx, export)
    if manifest is None:
        # Waiting: no body is needed (Bulk Data IG), but an empty answer still says what
        # it is, so no client takes it for an HTML page.
        waiting = f"The export is {export.get_status_display().lower()}."
        response = fhir_json(outcome([issue("information", "informational", waiting)]), code)
        response["X-Progress"] = (export.progress or export.get_status_display())[:100]
        response["Retry-After"] = str(bulk.RETRY_AFTER)
        return response
    response = fhir_json(manifest, code)
    response["Content-Type"] = "application/json"
    return response


@api_view()
def export_file(request: HttpRequest, export_id: str, name: str) -> HttpResponse:
    ctx = context_for(request, authenticate(request))
    return bulk.download(ctx, export_id, name)
