"""Test helpers of the FHIR API: clients, tokens, requests and validation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client
from django.utils import timezone

from openiop.privacy.choices import Purpose, RecipientKind

from .auth import digest, new_client_id, set_secret
from .models import ApiClient, ApiToken, ClientKind

# R4 required bindings that the fhir.resources models do not check (they check types,
# cardinality and unknown elements). A status outside these is a broken resource.
REQUIRED_CODES: dict[tuple[str, str], set[str]] = {
    ("Observation", "status"): {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    ("Encounter", "status"): {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    ("Appointment", "status"): {
        "proposed",
        "pending",
        "booked",
        "arrived",
        "fulfilled",
        "cancelled",
        "noshow",
        "entered-in-error",
        "checked-in",
        "waitlist",
    },
    ("EpisodeOfCare", "status"): {
        "planned",
        "waitlist",
        "active",
        "onhold",
        "finished",
        "cancelled",
        "entered-in-error",
    },
    ("CarePlan", "status"): {
        "draft",
        "active",
        "on-hold",
        "revoked",
        "completed",
        "entered-in-error",
        "unknown",
    },
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("Goal", "lifecycleStatus"): {
        "proposed",
        "planned",
        "accepted",
        "active",
        "on-hold",
        "completed",
        "cancelled",
        "entered-in-error",
        "rejected",
    },
    ("QuestionnaireResponse", "status"): {
        "in-progress",
        "completed",
        "amended",
        "entered-in-error",
        "stopped",
    },
    ("Consent", "status"): {
        "draft",
        "proposed",
        "active",
        "rejected",
        "inactive",
        "entered-in-error",
    },
    ("AuditEvent", "action"): {"C", "R", "U", "D", "E"},
    ("AuditEvent", "outcome"): {"0", "4", "8", "12"},
    ("Bundle", "type"): {"searchset", "collection", "batch-response", "transaction-response"},
}


def validate(resource: dict[str, Any]) -> Any:
    """Parse with the fhir.resources R4 (4.0.1) model of its type (raises on an unknown
    element, a wrong type or a missing required element) and check required codes."""
    from fhir.resources import construct_fhir_element

    rtype = resource["resourceType"]
    model = construct_fhir_element(rtype, resource)
    for (t, element), codes in REQUIRED_CODES.items():
        if t == rtype and element in resource and resource[element] not in codes:
            raise AssertionError(f"{rtype}.{element} = {resource[element]!r}")
    return model


def make_client(
    program: Any,
    *,
    kind: str = ClientKind.INTERNAL,
    scopes: str = "system/*.read",
    participant: Any = None,
    name: str = "Warehouse",
    recipient_kind: str = RecipientKind.PROVIDER,
    recipient_name: str = "",
    purpose: str = Purpose.TREATMENT,
) -> tuple[ApiClient, str]:
    """A registered client and its secret."""
    client = ApiClient(
        program=program,
        name=name,
        kind=kind,
        allowed_scopes=scopes,
        participant=participant,
        recipient_kind=recipient_kind,
        recipient_name=recipient_name or name,
        purpose=purpose,
        client_id=new_client_id(),
    )
    secret = set_secret(client)
    client.save()
    return client, secret


def make_token(client: ApiClient, scopes: str | None = None, *, minutes: int = 60) -> str:
    """A bearer token for the client (issued directly, as the token endpoint would)."""
    token = f"test-{client.pk}-{ApiToken.objects.count()}-{timezone.now().timestamp()}"
    ApiToken.objects.create(
        client=client,
        token_sha256=digest(token),
        scopes=scopes if scopes is not None else client.allowed_scopes,
        expires_at=timezone.now() + dt.timedelta(minutes=minutes),
    )
    return token


def get(path: str, token: str | None, **params: Any) -> Any:
    """GET an API path (relative to /fhir/R4/) with the token; the response has `.data`."""
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response: Any = Client().get(f"/fhir/R4/{path.lstrip('/')}", params, **headers)
    try:
        response.data = json.loads(response.content) if response.content else None
    except ValueError:
        response.data = None
    return response


def token_for(world: Any, **kw: Any) -> str:
    """A token of a new client of world.program (`make_client` keywords)."""
    client, _ = make_client(world.program, **kw)
    return make_token(client)


def resources(response: Any) -> list[dict[str, Any]]:
    """The matches of a search answer, each validated and labelled (the Bundle too)."""
    from .labels import has_part2_labels

    if response.status_code != 200:
        raise AssertionError(f"{response.status_code}: {response.content[:300]!r}")
    validate(response.data)
    out = [e["resource"] for e in response.data["entry"] if e["search"]["mode"] == "match"]
    for resource in out:
        validate(resource)
        if not has_part2_labels(resource):
            raise AssertionError(f"{resource['resourceType']}/{resource['id']} unlabelled")
    return out


def ids(response: Any) -> set[str]:
    return {r["id"] for r in resources(response)}
