from __future__ import annotations

from django.db import models


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent (see within 48 hours)"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"
    REFERRER = "referrer", "Through the referrer"


class ContactOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    LEFT_MESSAGE = "left_message", "Left a message"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number / bounced"
    SCHEDULED = "scheduled", "Reached; assessment scheduled"
    DECLINED = "declined", "Reached; declined services"


class Outcome(models.TextChoices):
    ADMITTED = "admitted", "Admitted"
    NOT_ADMITTED = "not_admitted", "Not admitted"
    REFERRED_ELSEWHERE = "referred_elsewhere", "Referred elsewhere"


class NotAdmittedReason(models.TextChoices):
    UNREACHABLE = "unreachable", "Could not be reached"
    DECLINED = "declined", "Declined services"
    NO_SHOW = "no_show", "Did not attend the assessment"
    LEVEL = "level", "Needs a different level of care"
    CRITERIA = "criteria", "No substance use disorder diagnosis"
    FINANCIAL = "financial", "Insurance or financial"
    SCHEDULE = "schedule", "Schedule or transport"
    OTHER = "other", "Other"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class AssessmentKind(models.TextChoices):
    INITIAL = "initial", "Initial assessment"
    REASSESSMENT = "reassessment", "Reassessment"


class FormSource(models.TextChoices):
    OPENIOP = "openiop", "OpenIOP assessment form"
    LICENSED = "licensed", "The program's licensed ASAM tool"
