"""Base models and the cross-cutting records every area uses (audit events, job runs)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .choices import AuditAction, JobStatus


class SignedRecordError(Exception):
    """An attempt to change a signed record (a note, a plan); write an addendum or a new
    version instead. Raised by the models themselves, so no path can skip the check."""


class ClinicalRecord(models.Model):
    """Clinical data: who made and changed it, a UUID for the outside world, and voiding.

    Clinical records are never hard-deleted: they are voided with a reason. `version`
    grows by one on every save, so a form can detect that someone else saved in between.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    version = models.PositiveIntegerField(default=1)
    voided = models.BooleanField(default=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    void_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is a clinical record: void it, never delete it.")


class ReferenceData(models.Model):
    """Set-up data (tracks, rooms, session types): retired, not deleted, so history holds."""

    retired = models.BooleanField(default=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is reference data: retire it, never delete it.")


class AuditEvent(models.Model):
    """One read or write of protected data, standing on its own.

    The actor is kept as a username copy so the event survives the account; the actor's
    id stays as recorded (no database constraint, nothing nulled when an account is
    removed: the row is never updated, and the id is part of its hash). The participant
    is stored by id (core does not depend on the participants app).

    Events form a hash chain (`seq`, `prev_hash`, `hash`; see `core.chain`), written only
    by `core.audit.record`; the database refuses UPDATE and DELETE (45 CFR
    170.315(d)(2), DOMAIN.md §3).
    """

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    participant_id = models.BigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=20, default="web")
    changes = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        # Newest first by chain position (the unique index on seq).
        ordering = ["-seq"]
        indexes = [
            # A participant's audit trail, newest first (compliance, accounting of access).
            models.Index(fields=["participant_id", "-at"], name="audit_participant_at"),
            # Everything one user did, newest first.
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            # The events about one object: a day's random draw (screening.selection), the
            # audit chain's verifications (the audit log page).
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events are written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are never deleted.")


class AuditChainHead(models.Model):
    """The end of the audit hash chain: the seq and hash of the last event.

    One row (id 1). `core.audit.record` locks it (SELECT … FOR UPDATE) before chaining an
    event, so writers on PostgreSQL take turns and cannot fork the chain; on SQLite the
    write transaction (BEGIN IMMEDIATE) already serialises them. Verification compares it
    with the last event, so events deleted at the end are noticed. The database lets it
    move only forward, one event at a time (`core.chain.install_triggers`).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="auditchainhead_one_row"),
        ]

    def __str__(self) -> str:
        return f"audit chain head: seq {self.seq}"


class Sequence(models.Model):
    """Named counters for human-facing numbers (record numbers), safe under concurrency."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"

    @classmethod
    def next_value(cls, name: str) -> int:
        with transaction.atomic():
            seq, _ = cls.objects.select_for_update().get_or_create(name=name)
            seq.value += 1
            seq.save(update_fields=["value"])
            return seq.value


class JobRun(models.Model):
    """One run of a periodic job for one period. The unique key makes each period run once."""

    job = models.CharField(max_length=100)
    period = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.RUNNING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    result = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "period"], name="jobrun_one_per_period"),
        ]
        indexes = [
            # The admin's list of recent failures.
            models.Index(fields=["status", "-started_at"], name="jobrun_status_started"),
        ]

    def __str__(self) -> str:
        return f"{self.job} [{self.period}] {self.status}"
