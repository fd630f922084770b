"""Progress notes and their addenda.

A note is a draft until its author signs it; from then on it cannot change. That is
enforced here, in the model layer, not only in forms: `Note.save()` refuses to write a
row that is signed in the database (except the co-signature and void fields), and the
manager's `update()` refuses to touch signed rows. Corrections are addenda, each
signed by its author when saved.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord, SignedRecordError

from .choices import GroupModality, NoteFormat, NoteStatus

# Fields that may still be written on a signed note: the supervisor's co-signature, and
# voiding a note written for the wrong person (the note is kept, marked voided).
AFTER_SIGNING = frozenset(
    {
        "cosigned_at",
        "cosigned_by",
        "cosigned_name",
        "voided",
        "voided_at",
        "voided_by",
        "void_reason",
        "version",
        "updated_at",
        "updated_by",
    }
)


class NoteQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        if set(kwargs) - AFTER_SIGNING and self.filter(status=NoteStatus.SIGNED).exists():
            raise SignedRecordError("Signed notes cannot be changed; add an addendum.")
        return super().update(**kwargs)


class Note(ClinicalRecord):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "scheduling.Session",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notes",
        help_text="The appointment or session the note documents.",
    )
    format = models.CharField(max_length=8, choices=NoteFormat.choices)
    service_date = models.DateField()
    minutes = models.PositiveIntegerField(help_text="Duration of the service in minutes.")
    sections = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_notes"
    )
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_name = models.CharField(max_length=200, blank=True)
    late_entry = models.BooleanField(
        default=False, help_text="Signed later than the program's documentation window."
    )
    cosign_required = models.BooleanField(default=False)
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cosigned_name = models.CharField(max_length=200, blank=True)
    group_note = models.ForeignKey(
        "GroupNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        help_text="For a group entry: the session's shared narrative.",
    )

    goals_addressed = models.ManyToManyField(
        "plans.Goal",
        blank=True,
        related_name="+",
        help_text="Goals of the signed treatment plan this service worked on.",
    )
    objectives_addressed = models.ManyToManyField(
        "plans.Objective",
        blank=True,
        related_name="+",
        help_text="Objectives of the signed treatment plan this service worked on.",
    )

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-service_date", "-pk"]
        indexes = [
            # A participant's notes on the chart, newest first.
            models.Index(fields=["participant", "service_date"], name="note_participant_date"),
            # Unsigned work: an author's drafts.
            models.Index(fields=["author", "status"], name="note_author_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} note {self.service_date}"

    def audit_label(self) -> str:
        return f"note {self.pk}"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    @property
    def awaiting_cosign(self) -> bool:
        return self.is_signed and self.cosign_required and self.cosigned_at is None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            touches = set(fields) if fields is not None else {"*"}
            if touches - AFTER_SIGNING and (
                type(self).objects.filter(pk=self.pk, status=NoteStatus.SIGNED).exists()
            ):
                raise SignedRecordError("Signed notes cannot be changed; add an addendum.")
        super().save(*args, **kwargs)


def _refuse_changes_to_signed_notes(sender: Any, instance: Any, action: str, **kwargs: Any):
    """The goals and objectives a signed note addressed are part of it: locked too."""
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if isinstance(instance, Note):
        signed = Note.objects.filter(pk=instance.pk, status=NoteStatus.SIGNED).exists()
    else:  # changed from the goal's side: the notes named by pk_set
        pks = kwargs.get("pk_set") or set()
        signed = Note.objects.filter(pk__in=pks, status=NoteStatus.SIGNED).exists() or (
            action == "pre_clear"
        )
    if signed:
        raise SignedRecordError("Signed notes cannot be changed; add an addendum.")


models.signals.m2m_changed.connect(
    _refuse_changes_to_signed_notes, sender=Note.goals_addressed.through
)
models.signals.m2m_changed.connect(
    _refuse_changes_to_signed_notes, sender=Note.objectives_addressed.through
)


class GroupNote(ClinicalRecord):
    """One narrative for a group session; each participant who attended has an entry
    (a `Note` of format "group"). Signed together; locked like a note once signed."""

    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.PROTECT, related_name="group_notes"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(
        "programs.Topic", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    modality = models.CharField(
        max_length=20, choices=GroupModality.choices, default=GroupModality.PROCESS
    )
    narrative = models.TextField(blank=True, max_length=20000)
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_name = models.CharField(max_length=200, blank=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(voided=False),
                name="groupnote_one_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"group note {self.pk}"

    def audit_label(self) -> str:
        return f"group note {self.pk}"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            touches = set(fields) if fields is not None else {"*"}
            if touches - AFTER_SIGNING and (
                type(self).objects.filter(pk=self.pk, status=NoteStatus.SIGNED).exists()
            ):
                raise SignedRecordError("A signed group note cannot be changed.")
        super().save(*args, **kwargs)


class Addendum(models.Model):
    """A correction or late addition to a signed note, signed by its author when saved.
    Never changed or deleted."""

    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(max_length=10000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"addendum {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise SignedRecordError("An addendum is signed when saved; add another one.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise SignedRecordError("Addenda are part of the record and are never deleted.")
