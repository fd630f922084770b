"""The chart's Coverage section (issue 11): the primary payer and member id in force, the
live authorisation with the units left and its alerts, and the way to the participant's
billing page.

Queries: the program's billing profile, the participant's coverages with their payers,
the authorisations in force or ahead; with an authorisation, three more to count what it
used (`days.authorisation_usage`). Fixed whatever the size of the record."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from . import days
from .choices import CoverageKind
from .models import Authorisation, BillingProfile, Coverage


def coverage_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    today = participant.program.today()
    profile = BillingProfile.objects.filter(program_id=participant.program_id).first()
    coverages = list(
        Coverage.objects.filter(participant=participant, voided=False).select_related("payer")
    )
    primary, _, _ = days.primary_coverage(coverages, today)
    auths = list(
        Authorisation.objects.filter(
            participant=participant, voided=False, end_date__gte=today
        ).order_by("start_date", "pk")
    )
    # The authorisation in force today (the earliest-starting one), else the next one.
    current = next((a for a in auths if a.start_date <= today), auths[0] if auths else None)
    usage = None
    if current is not None:
        usage = days.authorisation_usage([current], today=today, profile=profile).get(current.pk)
    return {
        "coverage_primary": primary,
        "coverage_self_pay": primary is not None and primary.kind == CoverageKind.SELF_PAY,
        "coverage_count": len(coverages),
        "coverage_auth": current,
        "coverage_usage": usage,
        "can_record_coverage": request.user.has_perm_code(Perm.COVERAGE_RECORD),
    }


register_section(
    Section(
        "coverage",
        "Coverage",
        Perm.COVERAGE_VIEW,
        "billing/coverage/chart_section.html",
        coverage_context,
        order=97,
    )
)
