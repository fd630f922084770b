"""Family involvement (issue 9): family members invited to family sessions and workshops,
their attendance, and the education material the family portal shows.

A family member is a participant's `Contact`. Nothing here grants access: the family
portal re-checks at every request that a consent in force names the contact for family
involvement (`family.access`, 42 CFR §2.31, DOMAIN.md §2.3). Invitations and attendance
are clinical records (voided, never deleted); articles are reference data (unpublished
or retired, never deleted).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord, ReferenceData
from openiop.portal.models import Language

from .choices import ArticleSection, Audience, FamilyAttendanceStatus, InvitationStatus


class FamilyInvitation(ClinicalRecord):
    """A family member invited to a family appointment or workshop. Withdrawing keeps the
    row (status "cancelled"); inviting again makes a new one."""

    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.PROTECT, related_name="family_invitations"
    )
    contact = models.ForeignKey(
        "participants.Contact", on_delete=models.PROTECT, related_name="family_invitations"
    )
    # The participant whose family member this is (the contact's; kept for the audit
    # trail and the participant's family page without a join).
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.INVITED
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            # Inviting twice makes no second invitation (a withdrawn one may be renewed).
            models.UniqueConstraint(
                fields=["session", "contact"],
                condition=models.Q(status="invited"),
                name="familyinvitation_one_open",
            ),
        ]
        indexes = [
            # The family portal's home: a contact's invitations.
            models.Index(fields=["contact", "status"], name="familyinv_contact_status"),
            # A participant's family page: the invitations of their family.
            models.Index(fields=["participant", "status"], name="familyinv_participant"),
        ]

    def __str__(self) -> str:
        return f"family invitation {self.pk}"

    def audit_label(self) -> str:
        return f"family invitation {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == InvitationStatus.INVITED


class FamilyAttendance(ClinicalRecord):
    """One family member at one family session. A correction changes the row with a new
    version and an audit event holding the before and after (as `attendance` does);
    `updated_by`/`updated_at` say who recorded the current mark and when."""

    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.PROTECT, related_name="family_attendance"
    )
    contact = models.ForeignKey(
        "participants.Contact", on_delete=models.PROTECT, related_name="family_attendance"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=FamilyAttendanceStatus.choices)
    minutes_attended = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "contact"], name="familyattendance_one_per_session"
            ),
        ]
        indexes = [
            # The family portal's "sessions you attended".
            models.Index(fields=["contact", "status"], name="familyatt_contact_status"),
            models.Index(fields=["participant"], name="familyatt_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.minutes_attended} min)"

    def audit_label(self) -> str:
        return f"family attendance {self.pk}"


class EducationArticle(ReferenceData):
    """Education for families (and participants): what addiction is, how treatment
    works, how to support someone in recovery. Written by staff with `education.edit`;
    plain text (paragraphs separated by a blank line), shown escaped. Families see it
    only once published; an article is unpublished or retired, never deleted."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="education_articles"
    )
    section = models.CharField(
        max_length=12, choices=ArticleSection.choices, default=ArticleSection.EDUCATION
    )
    audience = models.CharField(max_length=12, choices=Audience.choices, default=Audience.FAMILY)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    title = models.CharField(max_length=160)
    summary = models.CharField(max_length=300, blank=True, help_text="One or two sentences.")
    body = models.TextField(
        max_length=20000, help_text="Plain text. Leave a blank line between paragraphs."
    )
    position = models.PositiveSmallIntegerField(
        default=100, help_text="Lower numbers are listed first."
    )
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["program", "section", "position", "title", "pk"]
        indexes = [
            # The portal's lists: a program's published articles in one language.
            models.Index(
                fields=["program", "language", "published", "retired"],
                name="article_portal_list",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def audit_label(self) -> str:
        return f"education article {self.pk}"

    @property
    def visible(self) -> bool:
        return self.published and not self.retired

    def mark_published(self, published: bool) -> None:
        self.published = published
        if published and self.published_at is None:
            self.published_at = timezone.now()
