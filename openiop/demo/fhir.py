"""Demo API clients (issue 12): the program's data warehouse (internal) and a hospital
that refers people up and down the levels of care (outside: its reads are disclosures
and need the participant's consent). Their secrets are published, like the demo
password, so the API can be tried at once (docs/api.md)."""

from __future__ import annotations

from typing import Any

from openiop.fhir.auth import digest
from openiop.fhir.models import ApiClient, ClientKind
from openiop.privacy.choices import Purpose, RecipientKind

WAREHOUSE_ID = "demo-warehouse"
WAREHOUSE_SECRET = "openiop-demo-warehouse"  # noqa: S105  (a published demo secret)
HOSPITAL_ID = "demo-hospital"
HOSPITAL_SECRET = "openiop-demo-hospital"  # noqa: S105  (a published demo secret)


def build(program: Any, staff: dict[str, Any]) -> list[ApiClient]:
    admin = staff.get("admin")
    made = []
    for client_id, secret, name, kind, recipient_kind in (
        (
            WAREHOUSE_ID,
            WAREHOUSE_SECRET,
            "Harbor Light data warehouse",
            ClientKind.INTERNAL,
            RecipientKind.PROVIDER,
        ),
        (
            HOSPITAL_ID,
            HOSPITAL_SECRET,
            "Maine Medical Center (referrals)",
            ClientKind.OUTSIDE,
            RecipientKind.PROVIDER,
        ),
    ):
        made.append(
            ApiClient.objects.create(
                program=program,
                name=name,
                kind=kind,
                recipient_kind=recipient_kind,
                recipient_name=name,
                purpose=Purpose.TREATMENT,
                allowed_scopes="system/*.read",
                client_id=client_id,
                secret_sha256=digest(secret),
                secret_hint=secret[:4],
                contact="it-integration@example.org",
                created_by=admin,
            )
        )
    return made
