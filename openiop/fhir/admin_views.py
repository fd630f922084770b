"""The API clients' pages (issue 12): register a client of the FHIR API, show its
secret once, see its tokens, reads and exports, give it a new secret, revoke its tokens
and retire it.

api.clients is the permission: administrators (in no program) manage the clients of
every program, as on program set-up (`programs.access.programs_for`); a director those of
their own programs. Another program's client is a 404. An invalid form answers 400 with
its errors; a refused change (a stale page, a retired client, a token already revoked)
409 with the reason. Every change is audited; a secret is never logged or kept in clear:
it is carried to the page that shows it encrypted in the session, and taken out there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from openiop.accounts import mfa
from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.models import AuditEvent
from openiop.core.roles import Perm
from openiop.participants.models import Participant
from openiop.programs.access import programs_for
from openiop.programs.models import Program

from .admin_forms import (
    ClientForm,
    NewSecretForm,
    RetireForm,
    RevokeAllForm,
    RevokeTokenForm,
    stamp_of,
)
from .auth import new_client_id, set_secret
from .models import ApiClient, ApiToken, BulkExport, ClientKind

RECENT_READS = 50
# What a client's audit events are about, in the page's words (else the resource type).
EVENT_WHAT = {
    "fhir.apitoken": "Token",
    "fhir.token": "Token request",
    "privacy.disclosure": "Disclosure",
}
RECENT_EXPORTS = 20
# The session key under which a new secret waits (encrypted) for the page showing it.
_SHOW_ONCE = "api_clients.show_once.{}"


class Refused(Exception):
    """A change the client's state does not allow (409)."""


def _programs(request: StaffRequest) -> QuerySet[Program]:
    return programs_for(request.user).order_by("name")


def _client(request: StaffRequest, pk: int) -> ApiClient:
    client = (
        ApiClient.objects.filter(pk=pk, program__in=_programs(request))
        .select_related("program", "participant", "created_by", "retired_by")
        .first()
    )
    if client is None:
        raise Http404("No such API client in your programs")
    return client


def _active_tokens(client: ApiClient) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(
        client=client, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def _label(client: ApiClient) -> str:
    return f"API client {client.name}"[:200]


def keep_secret_to_show(request: StaffRequest, client: ApiClient, secret: str) -> None:
    """The next page shows the secret once: until then it waits in the session,
    encrypted (as new recovery codes do, `accounts.signin`)."""
    request.session[_SHOW_ONCE.format(client.pk)] = mfa.encrypt(secret)


def take_secret_to_show(request: StaffRequest, client: ApiClient) -> str:
    token = request.session.pop(_SHOW_ONCE.format(client.pk), None)
    secret = mfa.decrypt(token) if isinstance(token, str) else None
    return secret or ""


# --- the list and registering a client --------------------------------------------------


@staff_view(Perm.API_CLIENTS_MANAGE, audit_page="api_clients.list")
def client_list(request: StaffRequest) -> HttpResponse:
    now = timezone.now()
    rows = list(
        ApiClient.objects.filter(program__in=_programs(request))
        .select_related("program", "participant")
        .annotate(
            active_tokens=Count(
                "tokens",
                filter=Q(tokens__revoked_at__isnull=True, tokens__expires_at__gt=now),
            ),
            last_used=Max("tokens__last_used_at"),
        )
        .order_by("program__name", "name", "pk")
    )
    return render(
        request,
        "fhir/clients/list.html",
        {
            "active": [c for c in rows if c.retired_at is None],
            "retired": [c for c in rows if c.retired_at is not None],
        },
    )


@staff_view(Perm.API_CLIENTS_MANAGE, audit_page="api_clients.new")
def client_new(request: StaffRequest) -> HttpResponse:
    programs = _programs(request).filter(retired=False)
    template = "fhir/clients/form.html"
    form = ClientForm(posted(request), programs=programs)
    if request.method != "POST":
        return render(request, template, {"form": form})
    if not form.is_valid():
        return render(request, template, {"form": form}, status=400)
    data = form.cleaned_data
    outside = data["kind"] == ClientKind.OUTSIDE
    client = ApiClient(
        program=data["program"],
        name=data["name"],
        kind=data["kind"],
        allowed_scopes=" ".join(data["scopes"]),
        participant=form.participant,
        token_minutes=data["token_minutes"],
        contact=data["contact"],
        client_id=new_client_id(),
        created_by=request.user,
    )
    if outside:
        client.recipient_kind = data["recipient_kind"]
        client.recipient_name = data["recipient_name"]
        client.purpose = data["purpose"]
    else:
        client.recipient_name = data["name"]
    secret = set_secret(client)
    with transaction.atomic():
        client.save()
        audit.record(
            AuditAction.CREATE,
            actor=request.user,
            obj=client,
            object_repr=_label(client),
            changes={
                "client_id": client.client_id,
                "kind": client.kind,
                "scopes": client.scope_list(),
                "recipient_kind": client.recipient_kind if outside else "",
                "recipient_name": client.recipient_name if outside else "",
                "purpose": client.purpose if outside else "",
                "token_minutes": client.token_minutes,
            },
        )
    keep_secret_to_show(request, client, secret)
    messages.success(request, f"API client {client.name} registered.")
    return redirect("api_clients:credentials", pk=client.pk)


@staff_view(Perm.API_CLIENTS_MANAGE)
def credentials(request: StaffRequest, pk: int) -> HttpResponse:
    """The client id and, right after it was made, the secret: shown this once."""
    client = _client(request, pk)
    secret = take_secret_to_show(request, client) if client.active else ""
    audit.record(
        AuditAction.VIEW,
        actor=request.user,
        obj=client,
        object_type="api_clients.credentials",
        object_repr=_label(client),
        changes={"secret_shown": bool(secret)},
    )
    token_url = request.build_absolute_uri(reverse("fhir:token"))
    response = render(
        request,
        "fhir/clients/credentials.html",
        {
            "client": client,
            "secret": secret,
            "token_url": token_url,
            "base_url": token_url.rsplit("/auth/token", 1)[0],
            "example_scope": client.scope_list()[0] if client.scope_list() else "",
        },
    )
    response["Cache-Control"] = "no-store"
    return response


# --- one client ----------------------------------------------------------------------------


def _reads(client: ApiClient) -> list[dict[str, Any]]:
    events = list(
        AuditEvent.objects.filter(actor_username=f"api:{client.client_id}").order_by("-seq")[
            :RECENT_READS
        ]
    )
    pks = {e.participant_id for e in events if e.participant_id}
    records = dict(Participant.objects.filter(pk__in=pks).values_list("pk", "record_number"))
    rows = []
    for event in events:
        changes = event.changes if isinstance(event.changes, dict) else {}
        resources = changes.get("resources")
        if isinstance(resources, dict):  # an export: {type: count}
            resources = sum(v for v in resources.values() if isinstance(v, int))
        elif not isinstance(resources, int):
            resources = None
        rows.append(
            {
                "event": event,
                "what": EVENT_WHAT.get(event.object_type, event.object_type.removeprefix("fhir.")),
                "interaction": changes.get("interaction", ""),
                "resources": resources,
                "record_number": records.get(event.participant_id or 0, ""),
            }
        )
    return rows


@staff_view(Perm.API_CLIENTS_MANAGE)
def client_detail(request: StaffRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    tokens = list(_active_tokens(client).order_by("-issued_at", "-pk"))
    exports = list(
        BulkExport.objects.filter(client=client)
        .annotate(file_count=Count("files"))
        .order_by("-requested_at", "-pk")[:RECENT_EXPORTS]
    )
    audit.record(
        AuditAction.VIEW,
        actor=request.user,
        obj=client,
        object_type="api_clients.client",
        object_repr=_label(client),
    )
    return render(
        request,
        "fhir/clients/detail.html",
        {
            "client": client,
            "tokens": tokens,
            "reads": _reads(client),
            "exports": exports,
            "recent_reads": RECENT_READS,
            "stamp": stamp_of(client),
        },
    )


def _refuse_if_retired(client: ApiClient) -> None:
    if client.retired_at is not None:
        raise Refused(
            f"{client.name} was retired on {client.retired_at:%Y-%m-%d}: it is kept as it "
            "was and gets no new secret or token."
        )


def _revoke_all(client: ApiClient, now: dt.datetime, *, actor: Any, reason: str) -> int:
    """Revoke the client's active tokens, each with its audit event (inside the caller's
    transaction); how many."""
    tokens = list(_active_tokens(client).select_for_update())
    for token in tokens:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=token,
            object_repr=f"Token of {_label(client)}"[:200],
            changes={"revoked": [False, True]},
            reason=reason,
        )
    return len(tokens)


@staff_view(Perm.API_CLIENTS_MANAGE)
def new_secret(request: StaffRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    template = "fhir/clients/new_secret.html"
    if request.method != "POST":
        form = NewSecretForm(initial={"stamp": stamp_of(client)})
        audit.record(
            AuditAction.VIEW,
            actor=request.user,
            obj=client,
            object_type="api_clients.new_secret",
            object_repr=_label(client),
        )
        return render(request, template, {"client": client, "form": form})
    form = NewSecretForm(request.POST)
    if not form.is_valid():
        return render(request, template, {"client": client, "form": form}, status=400)
    try:
        with transaction.atomic():
            current = ApiClient.objects.select_for_update().get(pk=client.pk)
            _refuse_if_retired(current)
            if stamp_of(current) != form.cleaned_data["stamp"]:
                raise Refused(
                    "Someone else gave this client a new secret or retired it since you "
                    "opened the page. Nothing was changed; reload to see it as it is."
                )
            secret = set_secret(current)
            current.save(update_fields=["secret_sha256", "secret_hint"])
            revoked = 0
            if form.cleaned_data["revoke_tokens"]:
                revoked = _revoke_all(
                    current, timezone.now(), actor=request.user, reason="new secret issued"
                )
            audit.record(
                AuditAction.CHANGE,
                actor=request.user,
                obj=current,
                object_repr=_label(current),
                changes={"secret": ["replaced", "new"], "tokens_revoked": revoked},
                reason="new secret issued",
            )
    except Refused as exc:
        context = {"client": client, "form": form, "error": str(exc)}
        return render(request, template, context, status=409)
    keep_secret_to_show(request, current, secret)
    messages.success(request, f"New secret for {client.name}: the old one no longer works.")
    return redirect("api_clients:credentials", pk=client.pk)


@staff_view(Perm.API_CLIENTS_MANAGE)
def retire(request: StaffRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    template = "fhir/clients/retire.html"
    context: dict[str, Any] = {"client": client, "tokens": _active_tokens(client).count()}
    if request.method != "POST":
        audit.record(
            AuditAction.VIEW,
            actor=request.user,
            obj=client,
            object_type="api_clients.retire",
            object_repr=_label(client),
        )
        form = RetireForm(initial={"stamp": stamp_of(client)})
        return render(request, template, {**context, "form": form})
    form = RetireForm(request.POST)
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=400)
    try:
        with transaction.atomic():
            current = ApiClient.objects.select_for_update().get(pk=client.pk)
            _refuse_if_retired(current)
            if stamp_of(current) != form.cleaned_data["stamp"]:
                raise Refused("Someone else changed this client since you opened the page; reload.")
            now = timezone.now()
            current.retired_at = now
            current.retired_by = request.user
            current.retire_reason = form.cleaned_data["reason"]
            current.save(update_fields=["retired_at", "retired_by", "retire_reason"])
            revoked = _revoke_all(current, now, actor=request.user, reason="client retired")
            audit.record(
                AuditAction.CHANGE,
                actor=request.user,
                obj=current,
                object_repr=_label(current),
                changes={"retired": [False, True], "tokens_revoked": revoked},
                reason=current.retire_reason,
            )
    except Refused as exc:
        return render(request, template, {**context, "form": form, "error": str(exc)}, status=409)
    messages.success(request, f"{client.name} retired: its tokens no longer work.")
    return redirect("api_clients:detail", pk=client.pk)


@staff_view(Perm.API_CLIENTS_MANAGE)
def revoke_token(request: StaffRequest, pk: int, token_pk: int) -> HttpResponse:
    client = _client(request, pk)
    token = ApiToken.objects.filter(pk=token_pk, client=client).first()
    if token is None:
        raise Http404("No such token of this client")
    template = "fhir/clients/revoke.html"
    context: dict[str, Any] = {"client": client, "token": token}
    if request.method != "POST":
        audit.record(
            AuditAction.VIEW,
            actor=request.user,
            obj=token,
            object_repr=f"Token of {_label(client)}"[:200],
        )
        form = RevokeTokenForm(initial={"token": token.pk})
        return render(request, template, {**context, "form": form})
    form = RevokeTokenForm(request.POST)
    if not form.is_valid() or form.cleaned_data["token"] != token.pk:
        if form.is_valid():
            form.add_error("token", "The form is for another token: reload the page.")
        return render(request, template, {**context, "form": form}, status=400)
    try:
        with transaction.atomic():
            current = ApiToken.objects.select_for_update().get(pk=token.pk)
            if current.revoked_at is not None:
                raise Refused("This token was already revoked.")
            if current.expires_at <= timezone.now():
                raise Refused("This token has expired already: nothing to revoke.")
            current.revoked_at = timezone.now()
            current.save(update_fields=["revoked_at"])
            audit.record(
                AuditAction.CHANGE,
                actor=request.user,
                obj=current,
                object_repr=f"Token of {_label(client)}"[:200],
                changes={"revoked": [False, True]},
                reason="token revoked",
            )
    except Refused as exc:
        return render(request, template, {**context, "form": form, "error": str(exc)}, status=409)
    messages.success(request, "Token revoked: the API refuses it from now on.")
    return redirect("api_clients:detail", pk=client.pk)


@staff_view(Perm.API_CLIENTS_MANAGE)
def revoke_all(request: StaffRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    template = "fhir/clients/revoke_all.html"
    context: dict[str, Any] = {"client": client, "tokens": _active_tokens(client).count()}
    if request.method != "POST":
        audit.record(
            AuditAction.VIEW,
            actor=request.user,
            obj=client,
            object_type="api_clients.revoke_all",
            object_repr=_label(client),
        )
        form = RevokeAllForm(initial={"stamp": stamp_of(client)})
        return render(request, template, {**context, "form": form})
    form = RevokeAllForm(request.POST)
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=400)
    try:
        with transaction.atomic():
            current = ApiClient.objects.select_for_update().get(pk=client.pk)
            if stamp_of(current) != form.cleaned_data["stamp"]:
                raise Refused(
                    "Someone else gave this client a new secret or retired it since you "
                    "opened the page; reload to see it as it is."
                )
            revoked = _revoke_all(
                current, timezone.now(), actor=request.user, reason="every token revoked"
            )
            if not revoked:
                raise Refused("The client has no active token: nothing was revoked.")
    except Refused as exc:
        return render(request, template, {**context, "form": form, "error": str(exc)}, status=409)
    messages.success(request, f"{revoked} token{'s' if revoked != 1 else ''} revoked.")
    return redirect("api_clients:detail", pk=client.pk)
