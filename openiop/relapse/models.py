"""Relapse-prevention plans: versioned, signed, then locked.

A plan belongs to an episode of care and has a number (version 1, 2, …). A draft is
edited; once the clinician signs it, it cannot change. That is enforced here, in the
model layer, as for progress notes (`openiop.notes.models`): `save()` refuses to write
a signed row's content, the queryset's `update()` and `delete()` refuse to touch signed
rows, and the support people of a signed plan cannot be added, changed or removed. The
participant's signature may be added to a signed plan once, and is then locked too.
Signing version N+1 marks version N superseded (the only status change a signed plan
may take). Changes are new versions: a draft copy of the latest signed one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from openiop.core.models import ClinicalRecord, SignedRecordError
from openiop.participants.models import Contact

from .choices import PlanStatus

PARTICIPANT_SIGNATURE = frozenset(
    {
        "participant_signed_name",
        "participant_signed_at",
        "participant_signature",
        "participant_signature_taken_by",
    }
)
# Fields that may still be written on a signed plan: the participant's signature (once),
# superseding it, voiding it, and the bookkeeping every save does.
AFTER_SIGNING = PARTICIPANT_SIGNATURE | {
    "status",
    "superseded_at",
    "voided",
    "voided_at",
    "voided_by",
    "void_reason",
    "version",
    "updated_at",
    "updated_by",
}
LOCKED = (PlanStatus.SIGNED, PlanStatus.SUPERSEDED)
REFUSAL = "A signed relapse-prevention plan cannot be changed; start a new version."


def _check_write(locked: bool, participant_signed: bool, fields: set[str], status: Any) -> None:
    """Refuse a write of `fields` to signed rows (see the module docstring). `locked`: a
    row written is signed; `participant_signed`: one carries the participant's signature;
    `status`: the status being written, if any."""
    if locked and fields - AFTER_SIGNING:
        raise SignedRecordError(REFUSAL)
    if locked and "status" in fields and status != PlanStatus.SUPERSEDED:
        raise SignedRecordError(REFUSAL)
    if participant_signed and fields & PARTICIPANT_SIGNATURE:
        raise SignedRecordError("The participant has signed this plan; it cannot change.")


class RelapsePlanQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        locked = self.filter(status__in=LOCKED)
        fields = set(kwargs)
        _check_write(
            locked.exists(),
            bool(fields & PARTICIPANT_SIGNATURE)
            and locked.filter(participant_signed_at__isnull=False).exists(),
            fields,
            kwargs.get("status"),
        )
        return super().update(**kwargs)

    def delete(self) -> Any:
        if self.filter(status__in=LOCKED).exists():
            raise SignedRecordError(REFUSAL)
        raise TypeError("Relapse-prevention plans are clinical records: void them, never delete.")


class RelapsePlan(ClinicalRecord):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(help_text="Version 1, 2, … within the episode.")
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The signed version this one was copied from.",
    )
    # The sections: JSON lists of short strings (validated by services.clean_items).
    reasons = models.JSONField(default=list, blank=True)
    triggers = models.JSONField(default=list, blank=True)
    high_risk = models.JSONField(default=list, blank=True)
    warning_signs = models.JSONField(default=list, blank=True)
    coping = models.JSONField(default=list, blank=True)
    craving_steps = models.JSONField(default=list, blank=True)
    support: models.ManyToManyField[Contact, SupportPerson] = models.ManyToManyField(
        "participants.Contact", through="SupportPerson", related_name="+", blank=True
    )
    # The clinician's signature locks the plan.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_name = models.CharField(max_length=200, blank=True)
    signed_credential = models.CharField(max_length=100, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # The participant's signature: a typed name and, optionally, a drawn signature.
    participant_signed_name = models.CharField(max_length=200, blank=True)
    participant_signed_at = models.DateTimeField(null=True, blank=True)
    participant_signature = models.TextField(
        blank=True, help_text="The drawn signature as a PNG data: URL (size-limited)."
    )
    participant_signature_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = RelapsePlanQuerySet.as_manager()

    class Meta:
        ordering = ["episode", "-number"]
        constraints = [
            # Version numbers are unique within an episode.
            models.UniqueConstraint(
                fields=["episode", "number"], name="relapseplan_episode_number"
            ),
            # One draft at a time per episode.
            models.UniqueConstraint(
                fields=["episode"],
                condition=models.Q(status="draft", voided=False),
                name="relapseplan_one_draft_per_episode",
            ),
        ]
        indexes = [
            # The chart and the portal: a participant's plans by status, newest first.
            models.Index(fields=["participant", "status"], name="relapseplan_participant"),
        ]

    def __str__(self) -> str:
        return f"Relapse-prevention plan v{self.number}"

    def audit_label(self) -> str:
        return f"relapse plan {self.pk} v{self.number}"

    @property
    def is_signed(self) -> bool:
        return self.status in LOCKED

    @property
    def is_draft(self) -> bool:
        return self.status == PlanStatus.DRAFT

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            touches = set(fields) if fields is not None else {"*"}
            row = (
                type(self)
                .objects.filter(pk=self.pk, status__in=LOCKED)
                .values("participant_signed_at")
                .first()
            )
            if row is not None:
                _check_write(True, row["participant_signed_at"] is not None, touches, self.status)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if (
            self.pk is not None
            and type(self).objects.filter(pk=self.pk, status__in=LOCKED).exists()
        ):
            raise SignedRecordError(REFUSAL)
        return super().delete(*args, **kwargs)


def _plans_locked(plan_ids: Any) -> bool:
    return RelapsePlan.objects.filter(pk__in=plan_ids, status__in=LOCKED).exists()


class SupportPersonQuerySet(models.QuerySet):
    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        objs = list(objs)
        if _plans_locked({o.plan_id for o in objs}):
            raise SignedRecordError(REFUSAL)
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        if _plans_locked(self.values("plan_id")):
            raise SignedRecordError(REFUSAL)
        return super().update(**kwargs)

    def delete(self) -> Any:
        if _plans_locked(self.values("plan_id")):
            raise SignedRecordError(REFUSAL)
        return super().delete()


class SupportPerson(models.Model):
    """A contact named on a plan, and the part they play ("call when a craving hits")."""

    plan = models.ForeignKey(RelapsePlan, on_delete=models.PROTECT, related_name="support_people")
    contact = models.ForeignKey("participants.Contact", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = SupportPersonQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "contact"], name="supportperson_once_per_plan"),
        ]

    def __str__(self) -> str:
        return f"support person {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if _plans_locked([self.plan_id]):
            raise SignedRecordError(REFUSAL)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if _plans_locked([self.plan_id]):
            raise SignedRecordError(REFUSAL)
        return super().delete(*args, **kwargs)
