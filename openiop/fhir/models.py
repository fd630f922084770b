"""API clients, their bearer tokens and bulk exports (issue 12).

A client belongs to one program. It is either the program's own system (a data
warehouse, a reporting tool: reads are uses inside the program, audited) or an outside
organisation (a hospital, a residential program stepping someone down, a state system:
every read is a disclosure and goes through the consent gate, 42 CFR §2.31/§2.33).
Secrets and tokens are stored as SHA-256 digests only; they are shown once.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.privacy.choices import Purpose, RecipientKind


class ClientKind(models.TextChoices):
    INTERNAL = "internal", "The program's own system (reads are audited uses)"
    OUTSIDE = "outside", "An outside organisation (reads are disclosures under consent)"


class ApiClient(models.Model):
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=ClientKind.choices)
    # For an outside client: who receives the records, and why (the consent gate's
    # recipient and purpose; a TPO consent covers providers and payers).
    recipient_kind = models.CharField(
        max_length=20, choices=RecipientKind.choices, default=RecipientKind.PROVIDER
    )
    recipient_name = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.TREATMENT)
    # The scopes the client may ask for (space separated, SMART style).
    allowed_scopes = models.TextField(default="system/*.read")
    # patient/ scopes need a patient context: the one participant this client reads.
    participant = models.ForeignKey(
        "participants.Participant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_clients",
    )
    token_minutes = models.PositiveSmallIntegerField(default=60)
    client_id = models.CharField(max_length=64, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    secret_hint = models.CharField(max_length=8, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retire_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.retired_at is None

    @property
    def outside(self) -> bool:
        return self.kind == ClientKind.OUTSIDE

    def scope_list(self) -> list[str]:
        return self.allowed_scopes.split()


class ApiToken(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="tokens")
    token_sha256 = models.CharField(max_length=64, unique=True)
    scopes = models.TextField()
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"Token of {self.client} until {self.expires_at:%Y-%m-%d %H:%M}"

    def scope_list(self) -> list[str]:
        return self.scopes.split()


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class BulkExport(models.Model):
    """A FHIR Bulk Data `$export` (kick-off → status polling → NDJSON files)."""

    class Level(models.TextChoices):
        SYSTEM = "system", "System (every participant the client may read)"
        PATIENT = "patient", "Patient (every participant, patient compartment)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="exports")
    token = models.ForeignKey(ApiToken, null=True, on_delete=models.SET_NULL, related_name="+")
    scopes = models.TextField()
    level = models.CharField(max_length=10, choices=Level.choices)
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The transaction time of the export (Bulk Data `transactionTime`).
    transaction_time = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"$export {self.uuid} ({self.get_status_display()})"


class BulkExportFile(models.Model):
    export = models.ForeignKey(BulkExport, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    # "output" (resources) or "error" (OperationOutcomes, e.g. participants without consent).
    kind = models.CharField(max_length=10, default="output")
    count = models.PositiveIntegerField(default=0)
    content = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["export", "kind", "resource_type", "id"]

    def __str__(self) -> str:
        return f"{self.resource_type}.ndjson ({self.count})"
