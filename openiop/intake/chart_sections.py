"""The chart's Intake section: how the current episode began (referral, screening,
assessment) and what admission recorded (diagnoses, consents)."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .choices import AssessmentStatus
from .models import Admission, Assessment, Diagnosis, PreScreen, Referral


def intake_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None:
        return None
    referral = Referral.objects.filter(episode=episode).select_related("assigned_to").first()
    screen = PreScreen.objects.filter(episode=episode, voided=False).first()
    assessment = (
        Assessment.objects.filter(episode=episode, voided=False, status=AssessmentStatus.SIGNED)
        .order_by("-signed_at")
        .first()
    )
    diagnoses = list(Diagnosis.objects.filter(episode=episode, voided=False))
    admission = Admission.objects.filter(episode=episode).first()
    return {
        "referral": referral,
        "screen": screen,
        "assessment": assessment,
        "diagnoses": diagnoses,
        "admission": admission,
        "can_intake": request.user.has_perm_code(Perm.INTAKE_VIEW),
    }


register_section(
    Section(
        "intake",
        "Intake and admission",
        Perm.CLINICAL_VIEW,
        "intake/sections/intake.html",
        intake_context,
        order=15,
    )
)
