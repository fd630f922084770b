"""FHIR Bulk Data `$export` (HL7 Bulk Data Access IG v2.0.0, "bulk-data export").

    GET  /fhir/R4/$export                 kick-off, system level (every participant)
    GET  /fhir/R4/Patient/$export         kick-off, Patient level (the patient compartment)
    GET  /fhir/R4/$export-status/<id>     202 while queued or running, 200 and the manifest
    DELETE /fhir/R4/$export-status/<id>   cancel (the files' content is cleared)
    GET  /fhir/R4/$export-file/<id>/<f>   one NDJSON file (application/fhir+ndjson)

The kick-off only checks the request and queues a `BulkExport`; the worker job
(`jobs.py`, every minute) makes the files, one export at a time, each in its own savepoint
so a failing export is marked failed and the others go on. The files are made with the
same machinery as a search (`api.scoped`: program, patient context, and the consent gate
for an outside client) and `api.finish` (ids, lastUpdated, the Part 2 labels); each
participant whose data went out gets one audit event per export, and for an outside
client one disclosure per export (the accounting of disclosures, 42 CFR §2.25).

Choices where the IG leaves room (documented here):
* `_type` naming a type this server does not serve → 400; a served type the token's
  scopes do not cover → 403, as everywhere else in this API (a scope failure is a 403).
* `_since` is an instant with a time zone; resources whose lastUpdated is at or after
  it go out (at: so an export since the last one's `transactionTime` misses nothing).
  A source without an update time is exported whole.
* Status and files answer only the client that kicked the export off (another → 404),
  with a token that still covers the export's types (403 otherwise). A kick-off with
  an Accept other than FHIR JSON → 406; more than MAX_ACTIVE waiting exports → 429.
* Kick-off parameters are strict: anything else (`_typeFilter`, `_elements`, `patient`…)
  → 400, whatever `Prefer: handling` says.
* A failed export: the status answers 422 with an OperationOutcome (issue code
  `exception`, not a transient code: polling again will not help, start a new export).
  The IG allows a 4XX or 5XX here; a 500 would say the poll itself broke. An export is
  all or nothing (one savepoint), so there is no partial manifest with an error list.
* The manifest's `error` array carries, for an outside client, one informational
  OperationOutcome saying that only consented participants' records are included; it
  neither names nor counts the others (acknowledging them would itself be a disclosure,
  42 CFR §2.13(c)).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import traceback
import uuid
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.models import Participant
from openiop.privacy import gate

from . import api
from .auth import ApiActor
from .errors import FhirError
from .models import ApiToken, BulkExport, BulkExportFile, ExportStatus
from .registry import REGISTRY, known_types
from .scopes import parse_all

log = logging.getLogger(__name__)

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
KICK_OFF_PARAMS = frozenset({"_type", "_since", "_outputFormat", "_format"})
ACCEPTABLE = frozenset({"application/fhir+json", "application/json", "application/*", "*/*"})
CHUNK = 500  # rows read at a time (and prefetched together)
RETRY_AFTER = 60  # seconds: the worker job runs every minute
MAX_ACTIVE = 5  # queued or running exports per client (more → 429)
MAX_REQUEST_URL = 500  # BulkExport.request_url
ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)
_INSTANT = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_FILE_NAME = re.compile(r"(output|error)-([A-Z][A-Za-z]{0,39})\.ndjson", re.ASCII)


# --- kick-off ---------------------------------------------------------------------------


def parse_since(values: list[str]) -> dt.datetime | None:
    """`_since`: one FHIR instant (seconds and a time zone required), or a 400."""
    if not values:
        return None
    if len(values) > 1:
        raise FhirError(400, "invalid", "Give _since once.")
    # An unencoded "+" in a query string arrives as a space.
    text = values[0].strip().replace(" ", "+")
    m = _INSTANT.fullmatch(text)
    if m is None:
        raise FhirError(
            400,
            "invalid",
            "_since must be a FHIR instant with seconds and a time zone, "
            "such as 2026-01-31T14:00:00Z.",
        )
    whole, fraction, zone = m.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    try:
        value = dt.datetime.fromisoformat(f"{whole}.{micro}{'+00:00' if zone == 'Z' else zone}")
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise FhirError(400, "invalid", "_since is not a date and time that exists.") from None


def parse_output_format(values: list[str]) -> str:
    if not values:
        return NDJSON
    if len(values) > 1 or values[0] not in OUTPUT_FORMATS:
        raise FhirError(
            400,
            "not-supported",
            "_outputFormat must be one of " + ", ".join(sorted(OUTPUT_FORMATS)) + ".",
        )
    return NDJSON


def patient_pk_for(ctx: api.ApiContext, resource_type: str, level: str) -> int | None:
    """The participant a patient/ scope limits the type to (None: the whole program);
    403 unless the token may export the type at this level."""
    pk = ctx.patient_only(resource_type, search=True)
    if pk is not None and level == BulkExport.Level.SYSTEM:
        raise FhirError(
            403,
            "forbidden",
            f"A system-level export of {resource_type} needs system/{resource_type}.read "
            "(with a patient/ scope, use Patient/$export).",
        )
    return pk


def exportable(resource_type: str, level: str) -> bool:
    provider = REGISTRY.get(resource_type)
    if provider is None:
        return False
    return level == BulkExport.Level.SYSTEM or provider.in_patient_compartment


def parse_types(values: list[str], ctx: api.ApiContext, level: str) -> list[str]:
    """The types to export: those named in `_type` (each checked), or by default every
    type of the level the token's scopes cover."""
    if not values:
        types = []
        for rtype in sorted(REGISTRY):
            if not exportable(rtype, level):
                continue
            if REGISTRY[rtype].internal_only and ctx.client.outside:
                continue
            try:
                patient_pk_for(ctx, rtype, level)
            except FhirError:
                continue
            types.append(rtype)
        if not types:
            raise FhirError(
                403,
                "forbidden",
                "The token's scopes allow no export at this level (ask for system/*.read, "
                "or patient/*.read for Patient/$export).",
            )
        return types
    types = []
    for text in values:
        for raw in text.split(","):
            name = raw.strip()
            if not name:
                raise FhirError(400, "invalid", "_type has an empty item.")
            if name not in REGISTRY:
                raise FhirError(
                    400,
                    "not-supported",
                    f"This server has no resource type “{name[:40]}” to export "
                    "(see /fhir/R4/metadata).",
                )
            if not exportable(name, level):
                raise FhirError(
                    400,
                    "not-supported",
                    f"{name} is not in the patient compartment: use the system-level $export.",
                )
            if name not in types:
                types.append(name)
    for rtype in types:
        patient_pk_for(ctx, rtype, level)
    return types


def _check_headers(request: HttpRequest) -> None:
    accept = request.META.get("HTTP_ACCEPT", "").strip()
    if accept:
        ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        if not ranges & ACCEPTABLE:
            raise FhirError(406, "not-supported", "A kick-off takes Accept: application/fhir+json.")
    prefer = request.META.get("HTTP_PREFER", "")
    tokens = {part.split(";")[0].strip().lower() for part in prefer.split(",")}
    if "respond-async" not in tokens:
        raise FhirError(
            400,
            "required",
            "A bulk export is asynchronous: send the header Prefer: respond-async.",
        )


def kick_off(request: HttpRequest, ctx: api.ApiContext, level: str) -> BulkExport:
    """Check a kick-off request and queue the export (400/403/429 OperationOutcomes)."""
    _check_headers(request)
    unknown = sorted(k for k in request.GET if k not in KICK_OFF_PARAMS)
    if unknown:
        raise FhirError(
            400,
            "not-supported",
            f"$export does not support the parameter(s) {', '.join(u[:40] for u in unknown)} "
            f"(supported: {', '.join(sorted(KICK_OFF_PARAMS - {'_format'}))}).",
        )
    parse_output_format(request.GET.getlist("_outputFormat"))
    since = parse_since(request.GET.getlist("_since"))
    types = parse_types(request.GET.getlist("_type"), ctx, level)
    request_url = request.build_absolute_uri()
    if len(request_url) > MAX_REQUEST_URL:
        raise FhirError(400, "too-long", "The kick-off URL is too long (name fewer types).")
    with transaction.atomic():
        active = BulkExport.objects.filter(client=ctx.client, status__in=ACTIVE).count()
        if active >= MAX_ACTIVE:
            raise FhirError(
                429,
                "throttled",
                f"This client has {active} exports waiting: wait for them, or cancel some.",
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        export = BulkExport.objects.create(
            client=ctx.client,
            token=ctx.token,
            scopes=ctx.token.scopes,
            level=level,
            types=types,
            since=since,
            request_url=request_url,
            progress="Queued",
        )
        audit.record(
            AuditAction.CREATE,
            actor=ctx.actor,
            obj=export,
            object_repr=f"$export {export.uuid}",
            changes={
                "client": ctx.client.client_id,
                "level": level,
                "types": types,
                "since": api.instant(since),
            },
        )
    return export


# --- status, cancel, files --------------------------------------------------------------


def find(ctx: api.ApiContext, export_id: str) -> BulkExport:
    """The client's own export (another client's, or a cancelled one → 404)."""
    try:
        key = uuid.UUID(export_id)
    except ValueError:
        key = None
    export = (
        BulkExport.objects.filter(uuid=key, client=ctx.client)
        .exclude(status=ExportStatus.CANCELLED)
        .first()
        if key is not None
        else None
    )
    if export is None:
        raise FhirError(404, "not-found", f"No export “{export_id[:40]}” of this client.")
    return export


def require_scopes(ctx: api.ApiContext, export: BulkExport, types: list[str]) -> None:
    """403 unless the token still covers these types at the export's level."""
    for rtype in types:
        if rtype in REGISTRY:
            patient_pk_for(ctx, rtype, export.level)


def file_name(row: BulkExportFile) -> str:
    return f"{row.kind}-{row.resource_type}.ndjson"


def file_url(base: str, export: BulkExport, row: BulkExportFile) -> str:
    return f"{base}/$export-file/{export.uuid}/{file_name(row)}"


def manifest(export: BulkExport, base: str) -> dict[str, Any]:
    rows = list(export.files.all())
    return {
        "transactionTime": api.instant(export.transaction_time),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": r.resource_type, "url": file_url(base, export, r), "count": r.count}
            for r in rows
            if r.kind == "output"
        ],
        "error": [
            {"type": r.resource_type, "url": file_url(base, export, r), "count": r.count}
            for r in rows
            if r.kind == "error"
        ],
    }


def _audit(ctx: api.ApiContext, action: str, export: BulkExport, **changes: Any) -> None:
    audit.record(
        action,
        actor=ctx.actor,
        object_type="fhir.bulkexport",
        object_id=str(export.pk),
        object_repr=f"$export {export.uuid}",
        changes={"client": ctx.client.client_id, **changes},
    )


def status(ctx: api.ApiContext, export: BulkExport) -> tuple[int, dict[str, Any] | None]:
    """(HTTP status, body): 202 and no body while it waits, 200 and the manifest, or
    raises the failed export's OperationOutcome."""
    require_scopes(ctx, export, list(export.types))
    _audit(ctx, AuditAction.VIEW, export, interaction="export-status", status=export.status)
    if export.status in ACTIVE:
        return 202, None
    if export.status == ExportStatus.FAILED:
        raise FhirError(
            422,
            "exception",
            f"The export failed on the server (reference {export.uuid}); "
            "start a new export. Polling again will not help.",
        )
    return 200, manifest(export, ctx.base)


def cancel(ctx: api.ApiContext, export: BulkExport) -> None:
    """Cancel: a waiting export is not made, a finished one's files are cleared (the
    rows stay, with their counts and digests, for the record)."""
    require_scopes(ctx, export, list(export.types))
    with transaction.atomic():
        # Waits for a worker that is making this export, then cancels what it made.
        locked = BulkExport.objects.select_for_update().get(pk=export.pk)
        if locked.status == ExportStatus.CANCELLED:
            raise FhirError(404, "not-found", f"No export “{export.uuid}” of this client.")
        before = locked.status
        locked.status = ExportStatus.CANCELLED
        locked.progress = "Cancelled"
        locked.finished_at = locked.finished_at or timezone.now()
        locked.save(update_fields=["status", "progress", "finished_at"])
        locked.files.update(content="")
        _audit(ctx, AuditAction.TRANSITION, locked, status=[before, ExportStatus.CANCELLED])


def download(ctx: api.ApiContext, export_id: str, name: str) -> HttpResponse:
    export = find(ctx, export_id)
    m = _FILE_NAME.fullmatch(name)
    row = (
        export.files.filter(kind=m.group(1), resource_type=m.group(2)).first()
        if m is not None and export.status == ExportStatus.COMPLETE
        else None
    )
    if row is None:
        raise FhirError(404, "not-found", f"The export has no file “{name[:60]}”.")
    require_scopes(ctx, export, [row.resource_type] if row.kind == "output" else export.types)
    _audit(
        ctx,
        AuditAction.EXPORT,
        export,
        interaction="export-file",
        file=file_name(row),
        resources=row.count,
    )
    response = HttpResponse(row.content.encode(), content_type=NDJSON)
    response["Cache-Control"] = "no-store"
    return response


# --- the work (in the worker) -----------------------------------------------------------


class ExportFailed(Exception):
    """An export that cannot be made as asked (the client retired, a type gone)."""


def _tz(program: Any) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(program.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def export_base(export: BulkExport) -> str:
    """Where the resources' URLs point: settings.OPENIOP_PUBLIC_URL when set, else the
    host the kick-off came to."""
    if settings.OPENIOP_PUBLIC_URL:
        return settings.OPENIOP_PUBLIC_URL.rstrip("/") + "/fhir/R4"
    return export.request_url.split("/$export", 1)[0].removesuffix("/Patient")


def export_context(export: BulkExport) -> api.ApiContext:
    """The request context of an export, without a request: the scopes the token had
    at the kick-off, the program's time zone, the client as the actor."""
    client = export.client
    try:
        scopes = parse_all(export.scopes, known_types=known_types())
    except ValueError as exc:
        raise ExportFailed("the export's scopes no longer parse") from exc
    return api.ApiContext(
        token=export.token or ApiToken(client=client, scopes=export.scopes),
        client=client,
        scopes=scopes,
        base=export_base(export),
        tz=_tz(client.program),
        actor=ApiActor(client),
        path="",
    )


@dataclass
class Tally:
    """What went out of one participant's record in one export."""

    categories: set[str] = field(default_factory=set)
    types: Counter[str] = field(default_factory=Counter)


def write_type(
    ctx: api.ApiContext, export: BulkExport, resource_type: str, tallies: dict[int, Tally]
) -> BulkExportFile | None:
    """The NDJSON file of one type (None: nothing to export)."""
    provider = REGISTRY.get(resource_type)
    if provider is None:
        raise ExportFailed(f"{resource_type} is no longer served")
    patient_pk = patient_pk_for(ctx, resource_type, export.level)
    lines: list[str] = []
    for source in provider.sources:
        qs = api.scoped(source, ctx, patient_pk)
        if export.since is not None and source.updated_field:
            qs = qs.filter(**{f"{source.updated_field}__gte": export.since})
        for obj in qs.order_by("pk").iterator(chunk_size=CHUNK):
            resource = api.finish(source, obj, ctx, resource_type)
            lines.append(json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
            tally = tallies.setdefault(source.participant_id_of(obj), Tally())
            tally.categories.add(source.category)
            tally.types[resource_type] += 1
    if not lines:
        return None
    return _store(export, "output", resource_type, lines)


def _store(export: BulkExport, kind: str, resource_type: str, lines: list[str]) -> BulkExportFile:
    content = "".join(line + "\n" for line in lines)
    return BulkExportFile.objects.create(
        export=export,
        resource_type=resource_type,
        kind=kind,
        count=len(lines),
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
    )


def _consent_notice(ctx: api.ApiContext) -> dict[str, Any]:
    recipient = ctx.client.recipient_name or ctx.client.name
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "information",
                "code": "suppressed",
                "diagnostics": (
                    "This export holds only the records of participants whose consent in "
                    f"force lets them go to {recipient}, for the categories it covers "
                    "(42 CFR §2.31). 42 CFR part 2 prohibits unauthorized use or "
                    "disclosure of these records."
                ),
            }
        ],
    }


def _disclose(ctx: api.ApiContext, participant: Participant, tally: Tally, what: str) -> None:
    """One disclosure for the export; if no single consent covers every category that
    went out (each was covered by one), one per category."""
    on = timezone.now().astimezone(ctx.tz).date()
    categories = tuple(sorted(tally.categories))
    request = ctx.request_for(participant, categories, what)
    if gate.check(request, on=on).allowed:
        gate.disclose(request, actor=ctx.actor, on=on, short_notice=True)
        return
    for category in categories:
        gate.disclose(
            ctx.request_for(participant, (category,), what),
            actor=ctx.actor,
            on=on,
            short_notice=True,
        )


def record_export(ctx: api.ApiContext, export: BulkExport, tallies: dict[int, Tally]) -> None:
    """An audit event per participant whose data went out (ASTM E2147 §7.1.9), and for
    an outside client one disclosure per participant through the consent gate
    (accounting of disclosures, 42 CFR §2.25)."""
    base = {"client": ctx.client.client_id, "interaction": "export", "level": export.level}
    if not tallies:
        audit.record(
            AuditAction.EXPORT,
            actor=ctx.actor,
            object_type="fhir.bulkexport",
            object_id=str(export.pk),
            object_repr=f"$export {export.uuid}",
            changes={**base, "resources": 0},
        )
        return
    participants = Participant.objects.in_bulk(list(tallies)) if ctx.client.outside else {}
    for pk in sorted(tallies):
        tally = tallies[pk]
        total = sum(tally.types.values())
        if ctx.client.outside:
            _disclose(
                ctx,
                participants[pk],
                tally,
                f"FHIR bulk export {export.uuid}: {total} resource{'s' if total != 1 else ''} "
                f"({', '.join(sorted(tally.types))})",
            )
        audit.record(
            AuditAction.EXPORT,
            actor=ctx.actor,
            object_type="fhir.bulkexport",
            object_id=str(export.pk),
            object_repr=f"$export {export.uuid}",
            participant_id=pk,
            changes={
                **base,
                "resources": dict(sorted(tally.types.items())),
                "categories": sorted(tally.categories),
            },
        )


def produce(export: BulkExport) -> None:
    """Make one export's files (the caller holds its row lock and a savepoint)."""
    now = timezone.now()
    export.status = ExportStatus.RUNNING
    export.started_at = now
    export.transaction_time = now
    export.save(update_fields=["status", "started_at", "transaction_time"])
    if not export.client.active:
        raise ExportFailed("the client was retired")
    ctx = export_context(export)
    tallies: dict[int, Tally] = {}
    total = 0
    for resource_type in export.types:
        row = write_type(ctx, export, resource_type, tallies)
        total += row.count if row is not None else 0
    if ctx.client.outside:
        _store(
            export,
            "error",
            "OperationOutcome",
            [json.dumps(_consent_notice(ctx), ensure_ascii=False, separators=(",", ":"))],
        )
    record_export(ctx, export, tallies)
    export.status = ExportStatus.COMPLETE
    export.finished_at = timezone.now()
    export.progress = f"Complete: {total} resources of {len(export.types)} types"
    export.save(update_fields=["status", "finished_at", "progress"])


def next_queued(tried: list[int]) -> BulkExport | None:
    return (
        BulkExport.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=ExportStatus.QUEUED)
        .exclude(pk__in=tried)
        .select_related("client", "client__program", "token")
        .order_by("requested_at", "pk")
        .first()
    )


def run_queued() -> Counter[str]:
    """Make every queued export, oldest first, one at a time; a failure marks that
    export failed (its writes rolled back) and the others go on. Returns counts."""
    counts: Counter[str] = Counter()
    tried: list[int] = []
    with transaction.atomic():
        while (export := next_queued(tried)) is not None:
            tried.append(export.pk)
            try:
                with transaction.atomic():
                    produce(export)
            except Exception as exc:  # a failing export must not stop the others
                # No traceback in the log (it may quote data); the row keeps it for admins.
                log.warning("bulk export %s failed: %s", export.uuid, type(exc).__name__)
                BulkExport.objects.filter(pk=export.pk).update(
                    status=ExportStatus.FAILED,
                    finished_at=timezone.now(),
                    progress="Failed",
                    error=traceback.format_exc()[-5000:],
                )
                counts["failed"] += 1
            else:
                counts["complete"] += 1
    return counts
