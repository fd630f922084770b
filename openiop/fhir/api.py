"""The FHIR R4 request machinery shared by every resource type.

For each request: the bearer token (`auth.authenticate`), the scope for the type and
the interaction, the program's scope and the token's patient context, the consent gate
for outside clients (their reads are disclosures: 42 CFR §2.31, §2.33), search and
paging, the security labels, an audit event per participant whose data went out, and a
disclosure per participant for outside clients. Every error is an OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.models import Participant
from openiop.privacy import gate
from openiop.privacy.choices import Channel
from openiop.privacy.models import Consent

from . import search as s
from .auth import ApiActor, authenticate
from .errors import FhirError, error_response, fhir_json, issue, outcome
from .labels import security_labels
from .models import ApiClient, ApiToken
from .registry import REGISTRY, Provider, Source
from .scopes import Scope, parse_all

FHIR_VERSION = "4.0.1"
COMMON_PARAMS = {"_id", "_lastUpdated", "_count", "_offset", "_format"}
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}


@dataclass
class ApiContext:
    token: ApiToken
    client: ApiClient
    scopes: list[Scope]
    base: str  # ".../fhir/R4", no trailing slash
    tz: zoneinfo.ZoneInfo
    actor: ApiActor
    path: str = ""
    _allowed: dict[str, set[int]] = field(default_factory=dict)
    _refusals: dict[tuple[int, str], list[str]] = field(default_factory=dict)

    @property
    def program_id(self) -> int:
        return int(self.client.program_id)

    def patient_only(self, resource_type: str, *, search: bool) -> int | None:
        """Raise 403 unless a scope covers the interaction; the participant the scope
        limits it to (a patient/ scope), or None (a system/ scope: the whole program)."""
        provider = REGISTRY.get(resource_type)
        if provider is not None and provider.internal_only and self.client.outside:
            raise FhirError(
                403,
                "forbidden",
                f"{resource_type} is for the program's own systems, not outside clients.",
                after=self._denied(resource_type, "outside client"),
            )
        covering = [sc for sc in self.scopes if sc.covers(resource_type, search=search)]
        if any(sc.context == "system" for sc in covering):
            return None
        if (
            covering
            and self.client.participant_id
            and (provider is None or provider.in_patient_compartment)
        ):
            return int(self.client.participant_id)
        what = "search" if search else "read"
        raise FhirError(
            403,
            "forbidden",
            f"The token's scopes do not allow a {what} of {resource_type}: "
            f"ask for system/{resource_type}.read (granted: "
            f"{' '.join(str(sc) for sc in self.scopes) or 'none'}).",
            after=self._denied(resource_type, f"no scope for a {what}"),
        )

    def _denied(self, resource_type: str, reason: str) -> Callable[[], None]:
        """An audit event for a refused request (written after the rollback)."""

        def record() -> None:
            audit.record(
                AuditAction.DENIED,
                actor=self.actor,
                object_type=f"fhir.{resource_type}",
                changes={"client": self.client.client_id},
                reason=reason,
            )

        return record

    def allowed_participants(self, category: str) -> set[int] | None:
        """For an outside client, the participants whose consent in force covers this
        client, its purpose and `category` (None: an internal client, no gate)."""
        if not self.client.outside:
            return None
        if category not in self._allowed:
            candidates = list(
                Participant.objects.filter(
                    program_id=self.program_id,
                    pk__in=Consent.objects.filter(voided=False).values("participant_id"),
                )
            )
            decisions = gate.check_many(
                [self.request_for(p, (category,)) for p in candidates],
                on=timezone.now().astimezone(self.tz).date(),
            )
            self._allowed[category] = {
                p.pk for p, d in zip(candidates, decisions, strict=True) if d.allowed
            }
        return self._allowed[category]

    def request_for(
        self, participant: Any, categories: tuple[str, ...], description: str = ""
    ) -> gate.DisclosureRequest:
        client = self.client
        return gate.DisclosureRequest(
            participant=participant,
            recipient_kind=client.recipient_kind,
            recipient_name=client.recipient_name or client.name,
            purpose=client.purpose,
            information=categories,
            channel=Channel.API,
            description=description or f"FHIR API read by {client.name}",
            reference=f"api:{client.client_id}"[:40],
        )

    def refuse_unless_consented(self, participant_pk: int, category: str) -> None:
        """403 with the gate's reasons when an outside client asks for a participant
        whose consent does not cover it."""
        allowed = self.allowed_participants(category)
        if allowed is None or participant_pk in allowed:
            return
        participant = Participant.objects.get(pk=participant_pk)
        decision = gate.check(
            self.request_for(participant, (category,)),
            on=timezone.now().astimezone(self.tz).date(),
        )

        def record_refusal() -> None:
            # After the request's transaction has rolled back: the refusal stays logged.
            audit.record(
                AuditAction.DISCLOSURE_REFUSED,
                actor=self.actor,
                object_type="fhir.read",
                participant_id=participant_pk,
                changes={"client": self.client.client_id, "category": category},
                reason="; ".join(decision.reasons)[:500],
            )

        raise FhirError(
            403,
            "suppressed",
            "No consent in force lets this participant's records go to "
            f"{self.client.recipient_name or self.client.name}: "
            + "; ".join(decision.reasons or ["no consent"])
            + " (42 CFR §2.31).",
            after=record_refusal,
        )


def context_for(request: HttpRequest, token: ApiToken) -> ApiContext:
    client = token.client
    from .registry import known_types

    try:
        scopes = parse_all(token.scopes, known_types=known_types())
    except ValueError:
        scopes = []
    base = request.build_absolute_uri("/fhir/R4").rstrip("/")
    try:
        tz = zoneinfo.ZoneInfo(client.program.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return ApiContext(
        token=token,
        client=client,
        scopes=scopes,
        base=base,
        tz=tz,
        actor=ApiActor(client),
        path=request.path,
    )


def api_view(
    *, public: bool = False, methods: tuple[str, ...] = ("GET",)
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Declare a FHIR endpoint: errors become OperationOutcomes; the URL test reads
    `openiop_api_view` (and `openiop_public` for the CapabilityStatement and token)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return error_response(
                    FhirError(
                        405,
                        "not-supported",
                        f"{request.method} is not supported here (use {', '.join(methods)}).",
                        headers={"Allow": ", ".join(methods)},
                    )
                )
            try:
                fmt = request.GET.getlist("_format")
                if fmt and any(f not in JSON_FORMATS for f in fmt):
                    raise FhirError(406, "not-supported", "This server speaks JSON only.")
                return view(request, *args, **kwargs)
            except FhirError as exc:
                if exc.after is not None:
                    exc.after()
                return error_response(exc)
            except gate.DisclosureRefused as exc:
                return error_response(
                    FhirError(403, "suppressed", "Refused by the consent gate: " + str(exc))
                )

        wrapper.openiop_api_view = True  # type: ignore[attr-defined]
        if public:
            wrapper.openiop_public_api = True  # type: ignore[attr-defined]
        return csrf_exempt(wrapper)

    return decorator


def provider_for(resource_type: str) -> Provider:
    provider = REGISTRY.get(resource_type)
    if provider is None:
        raise FhirError(
            404,
            "not-supported",
            f"This server has no resource type “{resource_type[:40]}”: see /fhir/R4/metadata.",
        )
    return provider


# --- resources --------------------------------------------------------------------------


def instant(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def finish(source: Source, obj: Any, ctx: ApiContext, resource_type: str) -> dict[str, Any]:
    """The resource of a row, with its id, lastUpdated and security labels."""
    resource = source.to_resource(obj, ctx)
    resource["resourceType"] = resource_type
    resource["id"] = source.fhir_id(obj)
    meta = dict(resource.get("meta") or {})
    updated = source.last_updated(obj)
    if updated is not None:
        meta["lastUpdated"] = instant(updated)
    meta["security"] = security_labels() + list(meta.get("security", []))
    resource["meta"] = meta
    ordered = {"resourceType": resource_type, "id": resource["id"], "meta": meta}
    ordered.update({k: v for k, v in resource.items() if k not in ordered})
    return ordered


def scoped(source: Source, ctx: ApiContext, patient_pk: int | None) -> Any:
    qs = source.queryset().filter(source.program_q([ctx.program_id]))
    if patient_pk is not None:
        qs = qs.filter(source.participant_pk_q([patient_pk]))
    allowed = ctx.allowed_participants(source.category)
    if allowed is not None:
        qs = qs.filter(source.participant_pk_q(sorted(allowed)))
    return qs


@dataclass
class Found:
    source: Source
    obj: Any
    resource: dict[str, Any]


def record_reads(ctx: ApiContext, resource_type: str, found: list[Found], what: str) -> None:
    """An audit event per participant whose data went out (ASTM E2147 §7.1.9: the
    category is named), and for an outside client a disclosure per participant through
    the consent gate (accounting of disclosures, §2.25)."""
    by_participant: dict[int, list[Found]] = {}
    for f in found:
        by_participant.setdefault(f.source.participant_id_of(f.obj), []).append(f)
    if not by_participant:
        audit.record(
            AuditAction.VIEW,
            actor=ctx.actor,
            object_type=f"fhir.{resource_type}",
            changes={"client": ctx.client.client_id, "interaction": what, "resources": 0},
        )
        return
    participants = Participant.objects.in_bulk(list(by_participant)) if ctx.client.outside else {}
    events = []
    for pk, items in by_participant.items():
        categories = sorted({f.source.category for f in items})
        ids = [f.resource["id"] for f in items]
        if ctx.client.outside:
            gate.disclose(
                ctx.request_for(
                    participants[pk],
                    tuple(categories),
                    f"FHIR API {what}: {len(items)} {resource_type} "
                    f"resource{'s' if len(items) != 1 else ''}",
                ),
                actor=ctx.actor,
                on=timezone.now().astimezone(ctx.tz).date(),
                short_notice=True,
            )
        events.append(
            {
                "object_type": f"fhir.{resource_type}",
                "object_id": ids[0] if len(ids) == 1 else "",
                "participant_id": pk,
                "changes": {
                    "client": ctx.client.client_id,
                    "interaction": what,
                    "resources": len(items),
                    "categories": categories,
                },
            }
        )
    # One chain write for the page, whatever the number of participants on it.
    audit.record_many(AuditAction.VIEW, actor=ctx.actor, events=events)


# --- search -----------------------------------------------------------------------------


@dataclass
class SearchResult:
    found: list[Found]
    total: int
    count: int
    offset: int
    unknown: list[str]


def allowed_params(provider: Provider) -> set[str]:
    names = set(COMMON_PARAMS) | provider.extra_param_names()
    if provider.has_patient:
        names.add("patient")
    if provider.has_date:
        names.add("date")
    if provider.has_status:
        names.add("status")
    return names


def _uuids(values: list[str]) -> list[uuid.UUID]:
    out = []
    for v in values:
        try:
            out.append(uuid.UUID(v))
        except ValueError:
            continue
    return out


def filtered(
    source: Source,
    ctx: ApiContext,
    provider: Provider,
    params: QueryDict,
    patient_pk: int | None,
) -> Any | None:
    """The source's rows that match the parameters (None: none can)."""
    qs = scoped(source, ctx, patient_pk)
    ids = [v for text in params.getlist("_id") for v in s.split_values(text, "_id")]
    if ids:
        q = source.id_q(ids)
        if q is None:
            return None
        qs = qs.filter(q)
    for text in params.getlist("patient"):
        refs = [s.parse_reference(v, "Patient") for v in s.split_values(text, "patient")]
        qs = qs.filter(source.participant_uuid_q(_uuids(refs)))
    if params.getlist("date"):
        if not source.date_field:
            return None
        qs = qs.filter(
            s.date_filter(params.getlist("date"), source.date_field, source.date_kind, ctx.tz)
        )
    if params.getlist("_lastUpdated"):
        if not source.updated_field:
            return None
        qs = qs.filter(
            s.date_filter(
                params.getlist("_lastUpdated"),
                source.updated_field,
                "datetime",
                ctx.tz,
                "_lastUpdated",
            )
        )
    for text in params.getlist("status"):
        if source.status_filters is None:
            return None
        codes = [s.parse_token(v) for v in s.split_values(text, "status")]
        known = [source.status_filters[c] for c in codes if c in source.status_filters]
        if not known:
            return None
        any_of = known[0]
        for q in known[1:]:
            any_of |= q
        qs = qs.filter(any_of)
    for name in provider.extra_param_names():
        values = params.getlist(name)
        if not values:
            continue
        if name not in source.extra_params:
            return None
        qs = source.extra_params[name](qs, values, ctx)
    return qs.order_by("pk")


def run_search(
    request: HttpRequest, ctx: ApiContext, provider: Provider, params: QueryDict
) -> SearchResult:
    patient_pk = ctx.patient_only(provider.resource_type, search=True)
    known = allowed_params(provider)
    unknown = sorted({name for name in params if name not in known})
    if unknown and "handling=strict" in request.META.get("HTTP_PREFER", "").replace(" ", ""):
        raise FhirError(
            400,
            "not-supported",
            f"Unknown search parameter(s) for {provider.resource_type}: {', '.join(unknown)} "
            f"(supported: {', '.join(sorted(known))}).",
        )
    count = s.parse_count(params.getlist("_count")) if "_count" in params else s.DEFAULT_COUNT
    offset = s.parse_offset(params.getlist("_offset")) if "_offset" in params else 0
    # An outside client naming participants must have consent for each of them.
    if ctx.client.outside and "patient" in params:
        refs = [
            s.parse_reference(v, "Patient")
            for text in params.getlist("patient")
            for v in s.split_values(text, "patient")
        ]
        for participant in Participant.objects.filter(
            program_id=ctx.program_id, uuid__in=_uuids(refs)
        ):
            for category in sorted({src.category for src in provider.sources}):
                ctx.refuse_unless_consented(participant.pk, category)
    querysets = []
    for source in provider.sources:
        qs = filtered(source, ctx, provider, params, patient_pk)
        if qs is not None:
            querysets.append((source, qs))
    counts = [qs.count() for _, qs in querysets]
    total = sum(counts)
    found: list[Found] = []
    skip, want = offset, count
    for (source, qs), n in zip(querysets, counts, strict=True):
        if want <= 0:
            break
        if skip >= n:
            skip -= n
            continue
        for obj in qs[skip : skip + want]:
            found.append(Found(source, obj, finish(source, obj, ctx, provider.resource_type)))
        want -= min(n - skip, want)
        skip = 0
    return SearchResult(found, total, count, offset, unknown)


def _link(ctx: ApiContext, resource_type: str, params: QueryDict, **over: int) -> str:
    pairs = [(k, v) for k in params for v in params.getlist(k) if k not in over]
    pairs += [(k, str(v)) for k, v in over.items()]
    return f"{ctx.base}/{resource_type}?{urlencode(pairs)}"


def bundle(ctx: ApiContext, resource_type: str, params: QueryDict, result: SearchResult) -> dict:
    links = [
        {
            "relation": "self",
            "url": _link(ctx, resource_type, params, _offset=result.offset, _count=result.count),
        }
    ]
    if result.count and result.offset + result.count < result.total:
        links.append(
            {
                "relation": "next",
                "url": _link(
                    ctx,
                    resource_type,
                    params,
                    _offset=result.offset + result.count,
                    _count=result.count,
                ),
            }
        )
    if result.offset > 0 and result.count:
        links.append(
            {
                "relation": "previous",
                "url": _link(
                    ctx,
                    resource_type,
                    params,
                    _offset=max(result.offset - result.count, 0),
                    _count=result.count,
                ),
            }
        )
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{ctx.base}/{resource_type}/{f.resource['id']}",
            "resource": f.resource,
            "search": {"mode": "match"},
        }
        for f in result.found
    ]
    if result.unknown:
        entries.append(
            {
                "resource": outcome(
                    [
                        issue(
                            "warning",
                            "not-supported",
                            f"Search parameter “{name}” is not supported for "
                            f"{resource_type} and was not applied.",
                        )
                        for name in result.unknown
                    ]
                ),
                "search": {"mode": "outcome"},
            }
        )
    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "meta": {"lastUpdated": instant(timezone.now())},
        "type": "searchset",
        "total": result.total,
        "link": links,
        "entry": entries,
    }


# --- read -------------------------------------------------------------------------------


def read_one(ctx: ApiContext, provider: Provider, fhir_id: str) -> Found:
    patient_pk = ctx.patient_only(provider.resource_type, search=False)
    for source in provider.sources:
        q = source.id_q([fhir_id])
        if q is None:
            continue
        base = source.queryset().filter(source.program_q([ctx.program_id])).filter(q)
        if patient_pk is not None:
            base = base.filter(source.participant_pk_q([patient_pk]))
        obj = base.first()
        if obj is not None:
            if ctx.client.outside:
                ctx.refuse_unless_consented(source.participant_id_of(obj), source.category)
            return Found(source, obj, finish(source, obj, ctx, provider.resource_type))
        model = source.model
        if any(f.name == "voided" for f in model._meta.get_fields()):
            gone = model._default_manager.filter(q, voided=True).filter(
                source.program_q([ctx.program_id])
            )
            if patient_pk is not None:
                gone = gone.filter(source.participant_pk_q([patient_pk]))
            if gone.exists():
                raise FhirError(
                    410,
                    "deleted",
                    f"{provider.resource_type}/{fhir_id} was voided (entered in error).",
                )
    raise FhirError(404, "not-found", f"No {provider.resource_type} with id “{fhir_id[:64]}”.")


# --- views ------------------------------------------------------------------------------


@api_view()
def search_view(request: HttpRequest, resource_type: str) -> HttpResponse:
    provider = provider_for(resource_type)
    ctx = context_for(request, authenticate(request))
    with transaction.atomic():
        result = run_search(request, ctx, provider, request.GET)
        record_reads(ctx, resource_type, result.found, "search")
    return fhir_json(bundle(ctx, resource_type, request.GET, result))


@api_view()
def read_view(request: HttpRequest, resource_type: str, fhir_id: str) -> HttpResponse:
    provider = provider_for(resource_type)
    ctx = context_for(request, authenticate(request))
    unknown = sorted(k for k in request.GET if k != "_format")
    if unknown:
        raise FhirError(
            400, "not-supported", f"A read takes no parameters (got {', '.join(unknown)})."
        )
    with transaction.atomic():
        found = read_one(ctx, provider, fhir_id)
        record_reads(ctx, resource_type, [found], "read")
    return fhir_json(found.resource)


@api_view(public=True, methods=("GET", "POST", "PUT", "PATCH", "DELETE"))
def no_such_endpoint(request: HttpRequest) -> HttpResponse:
    raise FhirError(
        404,
        "not-supported",
        "No such endpoint: use /fhir/R4/<Type>, /fhir/R4/<Type>/<id> or /fhir/R4/metadata.",
    )
