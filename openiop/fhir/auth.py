"""Client credentials and bearer tokens.

`POST /fhir/R4/auth/token` with `grant_type=client_credentials`, the client's id and
secret (HTTP Basic or form fields) and the scopes wanted answers a bearer token (RFC
6749 §4.4, SMART-style scopes). Errors follow RFC 6749 §5.2. Secrets and tokens are
random (256 bits) and stored as SHA-256 digests.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from . import scopes as scope_rules
from .errors import FhirError
from .models import ApiClient, ApiToken
from .registry import known_types

TOKEN_BYTES = 32


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_client_id() -> str:
    return "oi_" + secrets.token_hex(12)


def new_secret() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def set_secret(client: ApiClient) -> str:
    """A new secret for the client (the old one stops working); returned once."""
    secret = new_secret()
    client.secret_sha256 = digest(secret)
    client.secret_hint = secret[:4]
    return secret


@dataclass
class ApiActor:
    """Who the audit log and the accounting of disclosures name for an API read."""

    client: ApiClient
    is_authenticated: bool = False
    pk: None = None

    @property
    def username(self) -> str:
        return f"api:{self.client.client_id}"

    @property
    def display_name(self) -> str:
        return f"API client “{self.client.name}”"

    def __str__(self) -> str:
        return self.display_name


class TokenError(Exception):
    """RFC 6749 §5.2 error: `error` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _credentials(request: HttpRequest) -> tuple[str, str]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise TokenError(
                "invalid_client", "The Basic credentials are not valid base64.", 401
            ) from None
        client_id, sep, secret = raw.partition(":")
        if not sep:
            raise TokenError("invalid_client", "Basic credentials are client_id:secret.", 401)
        return client_id, secret
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def issue_token(request: HttpRequest) -> tuple[ApiToken, str]:
    """Check the request and issue a token; raises TokenError."""
    if request.POST.get("grant_type") != "client_credentials":
        raise TokenError(
            "unsupported_grant_type", "Only grant_type=client_credentials is supported."
        )
    client_id, secret = _credentials(request)
    if not client_id or not secret:
        raise TokenError("invalid_client", "Give the client id and secret.", 401)
    client = ApiClient.objects.filter(client_id=client_id[:64]).select_related("program").first()
    if client is None or not hmac.compare_digest(client.secret_sha256, digest(secret)):
        audit.record(
            AuditAction.DENIED,
            actor=None,
            object_type="fhir.token",
            object_id=client_id[:64],
            reason="unknown client or wrong secret",
        )
        raise TokenError("invalid_client", "Unknown client or wrong secret.", 401)
    actor = ApiActor(client)
    if not client.active:
        audit.record(
            AuditAction.DENIED, actor=actor, object_type="fhir.token", reason="client retired"
        )
        raise TokenError("invalid_client", "This client has been retired.", 401)
    try:
        granted = scope_rules.grantable(
            request.POST.get("scope", ""),
            client.allowed_scopes,
            known_types=known_types(),
            has_patient=client.participant_id is not None,
        )
    except scope_rules.ScopeError as exc:
        audit.record(
            AuditAction.DENIED, actor=actor, object_type="fhir.token", reason=str(exc)[:500]
        )
        raise TokenError("invalid_scope", str(exc)) from None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        row = ApiToken.objects.create(
            client=client,
            token_sha256=digest(token),
            scopes=" ".join(granted),
            issued_at=now,
            expires_at=now + dt.timedelta(minutes=client.token_minutes),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=row,
            object_repr=f"Token for {client.name}",
            changes={"scopes": granted, "expires_at": row.expires_at.isoformat()},
        )
    return row, token


def authenticate(request: HttpRequest) -> ApiToken:
    """The bearer token of a request, or a 401 OperationOutcome."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    challenge = {"WWW-Authenticate": 'Bearer realm="openiop-fhir"'}
    if not header.lower().startswith("bearer "):
        raise FhirError(
            401,
            "login",
            "Send a bearer token (Authorization: Bearer …) from POST /fhir/R4/auth/token.",
            headers=challenge,
        )
    token = header[7:].strip()
    row = (
        ApiToken.objects.filter(token_sha256=digest(token))
        .select_related("client", "client__program", "client__participant")
        .first()
    )
    bad = {"WWW-Authenticate": 'Bearer realm="openiop-fhir", error="invalid_token"'}
    if row is None:
        raise FhirError(401, "login", "The token is not valid.", headers=bad)
    if row.revoked_at is not None or not row.client.active:
        raise FhirError(401, "login", "The token has been revoked.", headers=bad)
    if row.expires_at <= timezone.now():
        raise FhirError(401, "expired", "The token has expired: ask for a new one.", headers=bad)
    return row
