"""Who sees which open safety alert: the participant's primary counsellor and care team,
the program's supervisors and directors, and — before anyone is the counsellor (a
referral) — the intake staff of the program."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from openiop.core.roles import Perm, Role
from openiop.participants.access import on_care_team, visible_participants

from .models import SafetyAlert


def open_alerts_for(user: Any) -> QuerySet[SafetyAlert]:
    if not user.has_perm_code(Perm.CLINICAL_VIEW):
        return SafetyAlert.objects.none()
    qs = SafetyAlert.objects.filter(
        resolved_at__isnull=True,
        voided=False,
        program_id__in=user.program_ids,
        participant__in=visible_participants(user),
    )
    if user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR}:
        return qs
    mine = on_care_team(user, via="episode__") | Q(created_by=user)
    if user.has_perm_code(Perm.INTAKE_MANAGE):
        mine |= Q(episode__primary_counsellor__isnull=True)
    return qs.filter(mine)
