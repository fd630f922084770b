"""Treatment plans: problems (each on an ASAM dimension), goals in the participant's own
words, measurable objectives, and interventions from a library.

A plan is written as a draft; once the clinician signs it, that version is locked. The
lock lives here, in the model layer, not only in forms (same pattern as `notes.Note`):

- `TreatmentPlan.save()` refuses to write a locked row, except the fields listed in
  `AFTER_SIGNING` (the status becoming "superseded" when a newer version is signed,
  voiding, bookkeeping); `delete()` is refused.
- The QuerySets' `update()` and `delete()` refuse to touch locked plans or rows of
  locked plans.
- Problems, goals, objectives and interventions check their plan's status on every
  save and delete: rows cannot be added to, changed on, moved into or removed from a
  locked plan.
- Signatures are written once and never changed or deleted; the participant and the
  supervisor sign after the clinician, so adding their signature rows is allowed.

A change is a new version: a draft copy of the latest signed one, with the same `key`
on each goal and objective so versions can be compared.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord, ReferenceData, SignedRecordError
from openiop.intake import asam

from .choices import (
    ASAM_DIMENSION_CHOICES,
    LOCKED,
    GoalStatus,
    Modality,
    ObjectiveStatus,
    PlanReason,
    PlanStatus,
    SignatureRole,
)

__all__ = [
    "Goal",
    "InterventionTemplate",
    "Objective",
    "PlanIntervention",
    "PlanSignature",
    "Problem",
    "SignedRecordError",
    "TreatmentPlan",
]

LOCKED_VALUES = sorted(str(s) for s in LOCKED)

# Fields that may still be written on a signed plan: the status becoming "superseded"
# when a newer version is signed, voiding, and the bookkeeping fields.
AFTER_SIGNING = frozenset(
    {
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
)

# A drawn signature: a PNG data URL from the signature pad, at most this many characters.
MAX_SIGNATURE_IMAGE = 300_000
SIGNATURE_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

LOCKED_MESSAGE = "This plan version is signed and cannot be changed; start a new version."


def validate_signature_image(value: str) -> None:
    if not value:
        return
    if len(value) > MAX_SIGNATURE_IMAGE:
        raise ValidationError("The drawn signature is too large.")
    if not value.startswith(SIGNATURE_PREFIX):
        raise ValidationError("The drawn signature must be a PNG image.")
    body = value[len(SIGNATURE_PREFIX) :]
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The drawn signature could not be read.") from None
    if not data.startswith(PNG_MAGIC):
        raise ValidationError("The drawn signature must be a PNG image.")


class InterventionTemplate(ReferenceData):
    """The library of interventions a counsellor picks from, by modality. Not per
    participant: set-up data, retired rather than deleted."""

    modality = models.CharField(max_length=20, choices=Modality.choices)
    name = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["modality", "name"]
        constraints = [
            models.UniqueConstraint(fields=["modality", "name"], name="intervention_modality_name"),
        ]

    def __str__(self) -> str:
        return f"{self.get_modality_display()}: {self.name}"


# --- Locking helpers --------------------------------------------------------------------


def _plan_locked(plan_id: int | None) -> bool:
    if plan_id is None:
        return False
    return TreatmentPlan.objects.filter(pk=plan_id, status__in=LOCKED_VALUES).exists()


class PlanQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        locked = self.filter(status__in=LOCKED_VALUES)
        if set(kwargs) - AFTER_SIGNING and locked.exists():
            raise SignedRecordError(LOCKED_MESSAGE)
        if "status" in kwargs:
            new = kwargs["status"]
            # Signed may become superseded; nothing locked goes back to draft.
            if new != PlanStatus.SUPERSEDED and locked.exists():
                raise SignedRecordError(LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self) -> Any:
        if self.filter(status__in=LOCKED_VALUES).exists():
            raise SignedRecordError(LOCKED_MESSAGE)
        raise TypeError("Treatment plans are clinical records: void them, never delete them.")


class TreatmentPlan(ClinicalRecord):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey(
        "participants.Episode", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(help_text="Version 1, 2, ... within the episode.")
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The signed version this one was copied from.",
    )
    reason = models.CharField(max_length=12, choices=PlanReason.choices, default=PlanReason.INITIAL)
    change_summary = models.TextField(
        max_length=4000, blank=True, help_text="Why this version: what prompted it."
    )
    participant_statement = models.TextField(
        "in the participant's own words",
        max_length=4000,
        blank=True,
        help_text="What the participant wants from treatment, overall, in their words.",
    )
    effective_date = models.DateField(null=True, blank=True)
    review_due = models.DateField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The clinician who signed this version.",
    )
    signed_name = models.CharField(max_length=200, blank=True)
    signed_credential = models.CharField(max_length=100, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["episode", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "number"], name="plan_episode_number"),
            # One draft per episode at a time.
            models.UniqueConstraint(
                fields=["episode"],
                condition=models.Q(status="draft", voided=False),
                name="plan_one_draft_per_episode",
            ),
        ]
        indexes = [
            # Reviews due: a program's current signed plans by due date.
            models.Index(fields=["program", "status", "review_due"], name="plan_program_due"),
        ]

    def __str__(self) -> str:
        return f"Treatment plan v{self.number}"

    def audit_label(self) -> str:
        return f"treatment plan {self.pk} v{self.number}"

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED

    @property
    def is_draft(self) -> bool:
        return self.status == PlanStatus.DRAFT

    @property
    def edition(self) -> str:
        try:
            return asam.edition_of(self.program.level_of_care) or "3"
        except Exception:  # an unknown or empty level: the 3rd edition's names
            return "3"

    def dimension_label(self, number: int) -> str:
        for dim in asam.DIMENSIONS.get(self.edition, asam.DIMENSIONS["3"]):
            if dim.number == number:
                return f"{number}. {dim.name}"
        return f"Dimension {number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            row = type(self).objects.filter(pk=self.pk).values("status").first()
            if row is not None and row["status"] in LOCKED:
                fields = kwargs.get("update_fields")
                touches = set(fields) if fields is not None else {"*"}
                becoming_ok = self.status == row["status"] or (
                    row["status"] == PlanStatus.SIGNED and self.status == PlanStatus.SUPERSEDED
                )
                if touches - AFTER_SIGNING or not becoming_ok:
                    raise SignedRecordError(LOCKED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.pk is not None and _plan_locked(self.pk):
            raise SignedRecordError(LOCKED_MESSAGE)
        return super().delete(*args, **kwargs)


class PlanRowQuerySet(models.QuerySet):
    """Problems, goals, objectives and interventions: nothing on a locked plan changes.
    `plan_path` is the lookup from the row to its plan."""

    plan_path = "plan"
    # Foreign keys that move a row to another parent, with the lookup from that parent
    # to its plan.
    parents: dict[str, str] = {}

    def _touches_locked(self) -> bool:
        return self.filter(**{f"{self.plan_path}__status__in": LOCKED_VALUES}).exists()

    def _moves_into_locked(self, kwargs: dict[str, Any]) -> bool:
        for field, path in self.parents.items():
            for key in (field, f"{field}_id"):
                if key in kwargs and kwargs[key] is not None:
                    target = kwargs[key]
                    target_id = getattr(target, "pk", target)
                    model = self.model._meta.get_field(field).related_model
                    lookup = {"pk": target_id, f"{path}status__in": LOCKED_VALUES}
                    if model._default_manager.filter(**lookup).exists():
                        return True
        return False

    def update(self, **kwargs: Any) -> int:
        if self._touches_locked() or self._moves_into_locked(kwargs):
            raise SignedRecordError(LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self) -> Any:
        if self._touches_locked():
            raise SignedRecordError(LOCKED_MESSAGE)
        return super().delete()


class ProblemQuerySet(PlanRowQuerySet):
    plan_path = "plan"
    parents = {"plan": ""}


class GoalQuerySet(PlanRowQuerySet):
    plan_path = "plan"
    parents = {"plan": "", "problem": "plan__"}


class ObjectiveQuerySet(PlanRowQuerySet):
    plan_path = "goal__plan"
    parents = {"goal": "plan__"}


class InterventionQuerySet(PlanRowQuerySet):
    plan_path = "objective__goal__plan"
    parents = {"objective": "goal__plan__"}


class PlanRow(models.Model):
    """A row of a plan's content: locked with its plan."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_unlocked()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_unlocked()
        return super().delete(*args, **kwargs)

    def plan_ids(self) -> set[int]:
        """The plan this row belongs to, as saved and as it would be saved."""
        raise NotImplementedError

    def _check_unlocked(self) -> None:
        for plan_id in self.plan_ids():
            if _plan_locked(plan_id):
                raise SignedRecordError(LOCKED_MESSAGE)


class Problem(PlanRow):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="problems")
    asam_dimension = models.PositiveSmallIntegerField(
        "ASAM dimension",
        choices=ASAM_DIMENSION_CHOICES,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
    )
    statement = models.TextField(max_length=2000)
    key = models.UUIDField(
        default=uuid.uuid4, help_text="The same problem across versions keeps its key."
    )
    order = models.PositiveIntegerField(default=0)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        ordering = ["asam_dimension", "order", "pk"]

    def __str__(self) -> str:
        return f"problem {self.pk} (dimension {self.asam_dimension})"

    def plan_ids(self) -> set[int]:
        ids = {self.plan_id}
        if self.pk is not None:
            ids |= set(Problem.objects.filter(pk=self.pk).values_list("plan_id", flat=True))
        return ids

    @property
    def dimension_label(self) -> str:
        return self.plan.dimension_label(self.asam_dimension)


class Goal(PlanRow):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="goals")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="goals")
    text = models.TextField(max_length=2000, help_text="The goal in the participant's own words.")
    status = models.CharField(max_length=14, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    key = models.UUIDField(
        default=uuid.uuid4, help_text="The same goal across versions keeps its key."
    )
    order = models.PositiveIntegerField(default=0)

    objects = GoalQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="goal_plan_key"),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    def plan_ids(self) -> set[int]:
        ids = {self.plan_id}
        if self.problem_id is not None:
            ids |= set(Problem.objects.filter(pk=self.problem_id).values_list("plan_id", flat=True))
        if self.pk is not None:
            ids |= set(Goal.objects.filter(pk=self.pk).values_list("plan_id", flat=True))
        return ids

    def clean(self) -> None:
        if self.problem_id and self.plan_id and self.problem.plan_id != self.plan_id:
            raise ValidationError("The goal's problem belongs to another plan.")


class Objective(PlanRow):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="objectives")
    text = models.TextField(max_length=2000, help_text="Measurable: what, how much, by when.")
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=14, choices=ObjectiveStatus.choices, default=ObjectiveStatus.NOT_STARTED
    )
    key = models.UUIDField(
        default=uuid.uuid4, help_text="The same objective across versions keeps its key."
    )
    order = models.PositiveIntegerField(default=0)

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text[:60]

    def plan_ids(self) -> set[int]:
        ids: set[int] = set()
        if self.goal_id is not None:
            ids |= set(Goal.objects.filter(pk=self.goal_id).values_list("plan_id", flat=True))
        if self.pk is not None:
            ids |= set(Objective.objects.filter(pk=self.pk).values_list("goal__plan_id", flat=True))
        return ids


class PlanIntervention(PlanRow):
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="interventions")
    template = models.ForeignKey(
        InterventionTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="From the library; empty for a custom intervention.",
    )
    description = models.TextField(max_length=2000)
    frequency = models.CharField(max_length=120, help_text='For example "3 groups a week".')
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    order = models.PositiveIntegerField(default=0)

    objects = InterventionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.description[:60]

    def plan_ids(self) -> set[int]:
        ids: set[int] = set()
        if self.objective_id is not None:
            ids |= set(
                Objective.objects.filter(pk=self.objective_id).values_list(
                    "goal__plan_id", flat=True
                )
            )
        if self.pk is not None:
            ids |= set(
                PlanIntervention.objects.filter(pk=self.pk).values_list(
                    "objective__goal__plan_id", flat=True
                )
            )
        return ids

    @property
    def modality_label(self) -> str:
        return self.template.get_modality_display() if self.template else "Custom"


class SignatureQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise SignedRecordError("Signatures are written once and never changed.")

    def delete(self) -> Any:
        raise SignedRecordError("Signatures are part of the record and are never deleted.")


class PlanSignature(models.Model):
    """One signature on one plan version: participant, clinician or supervisor. Written
    once; never changed or deleted."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="signatures")
    role = models.CharField(max_length=12, choices=SignatureRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the participant. For the participant: the staff member present.",
    )
    name = models.CharField(max_length=200)
    credential = models.CharField(max_length=100, blank=True)
    typed_name = models.CharField(max_length=200, blank=True)
    image = models.TextField(
        blank=True,
        validators=[validate_signature_image],
        help_text="The drawn signature, a PNG data URL from the signature pad (optional).",
    )
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For the participant's signature: the staff member who handed the tablet.",
    )
    at = models.DateTimeField(default=timezone.now)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "role"], name="plansignature_one_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} signature on plan {self.plan_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise SignedRecordError("Signatures are written once and never changed.")
        if not _plan_locked(self.plan_id):
            raise SignedRecordError("The clinician signs the plan first.")
        validate_signature_image(self.image)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise SignedRecordError("Signatures are part of the record and are never deleted.")
