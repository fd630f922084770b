"""The concurrent-review packet of an authorisation (issue 11, point 5): what a payer's
reviewer asks for every few days to approve more days.

`assemble(authorisation, today=…)` gathers, from the record:

* the participant (name, date of birth, record number) and the coverage (payer, member
  id); the authorisation (number, dates, units used and left, as `days.authorisation_usage`
  counts them), the diagnoses and the level of care;
* attendance and hours week by week (Monday to Sunday) since the authorisation started
  (or since admission when that is later), against the program's weekly minimum
  (`Program.min_weekly_hours`; ASAM level 2.1 is at least 9 hours a week for adults,
  DOMAIN.md §1);
* the ASAM dimension ratings at admission (the first signed assessment of the episode)
  and now (the latest signed reassessment) side by side, with the levels recommended;
* instrument trends with reliable change (`discharge.summary.instrument_facts`);
* the drug screens of the period with their dates and results (negative, unexpected
  positive, refused, no-show, invalid specimen);
* the treatment plan's goals and their status (`discharge.summary.plan_facts`) and
  whether a signed relapse-prevention plan exists.

A packet sent to a payer is a disclosure for payment (42 CFR Part 2, DOMAIN.md §2):
`make_packet` renders the PDF with the §2.32 notice, records it through `gate.disclose`
and keeps a `ReviewPacket` with the PDF's SHA-256, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from openiop.attendance.choices import ATTENDED, AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.records import StaleEdit
from openiop.discharge.summary import diagnosis_facts, instrument_facts, plan_facts
from openiop.intake import asam
from openiop.intake.choices import AssessmentKind, AssessmentStatus
from openiop.intake.models import Assessment
from openiop.privacy import gate
from openiop.privacy.choices import Channel, InfoCategory, Purpose, RecipientKind
from openiop.programs.choices import LevelOfCare
from openiop.relapse.choices import PlanStatus as RelapseStatus
from openiop.relapse.models import RelapsePlan
from openiop.scheduling.choices import SessionStatus
from openiop.screening.choices import OrderStatus, Validity
from openiop.screening.models import Order
from openiop.screening.queries import decisive_unexpected

from . import days as billing_days
from .models import Authorisation, ReviewPacket

PDF_TEMPLATE = "billing/packet/pdf.html"
# What a packet tells the payer (the consent must cover every one of them).
INFORMATION = (
    InfoCategory.ENROLMENT,
    InfoCategory.ATTENDANCE,
    InfoCategory.DIAGNOSIS,
    InfoCategory.ASSESSMENT,
    InfoCategory.SCREENING,
    InfoCategory.PLAN,
)
MISSED = (AttendanceStatus.ABSENT_EXCUSED, AttendanceStatus.ABSENT_UNEXCUSED)


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _level(code: str) -> str:
    return str(LevelOfCare(code).label) if code in LevelOfCare.values else (code or "")


def disclosure_request(authorisation: Authorisation) -> gate.DisclosureRequest:
    payer = authorisation.coverage.payer
    return gate.DisclosureRequest(
        participant=authorisation.participant,
        recipient_kind=RecipientKind.PAYER,
        recipient_name=payer.name if payer else "Payer",
        purpose=Purpose.PAYMENT,
        information=INFORMATION,
        channel=Channel.EXPORT,
        description=f"Concurrent-review packet, authorisation {authorisation.reference_number}",
        reference=authorisation.reference_number[:40],
    )


def period_of(authorisation: Authorisation, today: dt.date) -> tuple[dt.date, dt.date]:
    """From the authorisation's start (or admission, when later) to today (or the
    authorisation's end, when earlier)."""
    admitted = authorisation.episode.admission_date
    start = max(authorisation.start_date, admitted) if admitted else authorisation.start_date
    end = min(today, authorisation.end_date)
    return start, max(start, end)


def weeks(
    episode: Any, start: dt.date, end: dt.date, minimum_hours: Decimal
) -> list[dict[str, Any]]:
    """Attendance week by week (weeks start on Monday): days and sessions attended,
    sessions missed, hours, and whether the week reached the program's minimum. A week
    cut by the period's start or end is marked partial. One query."""
    rows = (
        Attendance.objects.filter(
            episode=episode,
            voided=False,
            session__voided=False,
            session__date__gte=start,
            session__date__lte=end,
        )
        .exclude(session__status=SessionStatus.CANCELLED)
        .values_list("session__date", "status", "minutes_attended")
    )
    by_week: dict[dt.date, dict[str, Any]] = {}
    first_monday = start - dt.timedelta(days=start.weekday())
    monday = first_monday
    while monday <= end:
        by_week[monday] = {"days": set(), "sessions": 0, "missed": 0, "minutes": 0}
        monday += dt.timedelta(days=7)
    for day, status, minutes in rows:
        week = by_week[day - dt.timedelta(days=day.weekday())]
        if status in ATTENDED:
            week["days"].add(day)
            week["sessions"] += 1
            week["minutes"] += minutes or 0
        elif status in MISSED:
            week["missed"] += 1
    out = []
    for monday, week in by_week.items():
        sunday = monday + dt.timedelta(days=6)
        hours = _hours(week["minutes"])
        out.append(
            {
                "start": max(monday, start),
                "end": min(sunday, end),
                "partial": monday < start or sunday > end,
                "days": len(week["days"]),
                "sessions": week["sessions"],
                "missed": week["missed"],
                "hours": hours,
                "meets": hours >= minimum_hours,
            }
        )
    return out


def asam_facts(episode: Any) -> dict[str, Any]:
    """The ratings at admission (first signed assessment) and now (latest signed
    reassessment), dimension by dimension. One query."""
    signed = list(
        Assessment.objects.filter(
            episode=episode, voided=False, status=AssessmentStatus.SIGNED
        ).order_by("assessed_on", "pk")
    )
    then = signed[0] if signed else None
    later = [a for a in signed[1:] if a.kind == AssessmentKind.REASSESSMENT]
    now = later[-1] if later else None
    first = then or now
    edition = first.edition if first is not None else "3"
    try:
        dimensions = asam.DIMENSIONS[edition]
    except KeyError:
        dimensions = asam.DIMENSIONS["3"]
    rows = []
    for dim in dimensions:
        before = getattr(then, f"rating_{dim.number}", None) if then else None
        after = getattr(now, f"rating_{dim.number}", None) if now else None
        change = after - before if before is not None and after is not None else None
        rows.append(
            {"number": dim.number, "name": dim.name, "then": before, "now": after, "change": change}
        )

    def level(a: Assessment | None) -> dict[str, str]:
        if a is None:
            return {}
        return {
            "on": a.assessed_on.isoformat(),
            "recommended": _level(a.recommended_level),
            "chosen": _level(a.chosen_level or a.recommended_level),
        }

    return {"rows": rows, "then": level(then), "now": level(now), "has_now": now is not None}


def screens_in(episode: Any, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The episode's screens ordered for a day of the period: the date and the result.
    Two queries (the orders; the analytes of the unexpected results)."""
    orders = list(
        Order.objects.filter(
            episode=episode,
            voided=False,
            day__gte=start,
            day__lte=end,
            status__in=[OrderStatus.COLLECTED, OrderStatus.REFUSED, OrderStatus.NO_SHOW],
        )
        .annotate(unexpected=Exists(decisive_unexpected().filter(collection__order=OuterRef("pk"))))
        .select_related("collection")
        .order_by("day", "pk")
    )
    analytes: dict[int, set[str]] = defaultdict(set)
    unexpected_ids = [o.pk for o in orders if o.unexpected]
    if unexpected_ids:
        for order_id, name in (
            decisive_unexpected()
            .filter(collection__order_id__in=unexpected_ids)
            .values_list("collection__order_id", "analyte__name")
        ):
            analytes[order_id].add(name)
    out = []
    for order in orders:
        collection = getattr(order, "collection", None)
        if order.status == OrderStatus.REFUSED:
            result = "Refused"
        elif order.status == OrderStatus.NO_SHOW:
            result = "No-show"
        elif order.unexpected:
            result = "Unexpected positive: " + ", ".join(sorted(analytes[order.pk]))
        elif collection is not None and collection.validity not in ("", Validity.VALID):
            result = f"Specimen {collection.get_validity_display().lower()}"
        else:
            result = "Negative"
        day = order.day
        if collection is not None:
            day = collection.collected_at.astimezone(episode.program.tz).date()
        out.append({"day": day, "result": result})
    return out


def relapse_plan_facts(episode: Any) -> dict[str, Any] | None:
    plan = (
        RelapsePlan.objects.filter(
            episode=episode,
            voided=False,
            status__in=[RelapseStatus.SIGNED, RelapseStatus.SUPERSEDED],
        )
        .order_by("-number")
        .first()
    )
    if plan is None:
        return None
    return {
        "number": plan.number,
        "signed_on": plan.signed_at.astimezone(episode.program.tz).date()
        if plan.signed_at
        else None,
    }


def assemble(authorisation: Authorisation, *, today: dt.date) -> dict[str, Any]:
    """Everything the packet shows (see the module's docstring)."""
    episode = authorisation.episode
    program = episode.program
    participant = authorisation.participant
    coverage = authorisation.coverage
    profile = billing_days.profile_for(program)
    usage = billing_days.authorisation_usage([authorisation], today=today, profile=profile)
    use = usage.get(authorisation.pk)
    start, end = period_of(authorisation, today)
    minimum = Decimal(program.min_weekly_hours)
    week_rows = weeks(episode, start, end, minimum)
    full_weeks = [w for w in week_rows if not w["partial"]]
    renewals: list[Authorisation] = []
    previous = authorisation.renews
    while previous is not None and len(renewals) < 20:
        renewals.append(previous)
        previous = previous.renews
    return {
        "participant": participant,
        "episode": episode,
        "program": program,
        "coverage": coverage,
        "payer": coverage.payer,
        "authorisation": authorisation,
        "renews": renewals,
        "used": use.used if use else 0,
        "remaining": use.remaining if use else authorisation.units,
        "alerts": list(use.alerts) if use else [],
        "diagnoses": diagnosis_facts(episode),
        "level_of_care": _level(program.level_of_care),
        "start": start,
        "end": end,
        "minimum_hours": minimum,
        "weeks": week_rows,
        "total_hours": sum((w["hours"] for w in week_rows), Decimal("0")),
        "weeks_below": sum(1 for w in full_weeks if not w["meets"]),
        "asam": asam_facts(episode),
        "instruments": instrument_facts(episode),
        "screens": screens_in(episode, start, end),
        "plan": plan_facts(episode),
        "relapse_plan": relapse_plan_facts(episode),
        "today": today,
    }


def make_packet(
    authorisation: Authorisation,
    *,
    actor: Any,
    today: dt.date,
    expected_version: int,
    request: Any = None,
) -> ReviewPacket:
    """Render, disclose and keep the packet. Raises StaleEdit when the authorisation
    changed since the page was shown, gate.DisclosureRefused (audited by the gate) when no
    consent in force lets the program tell the payer, PdfUnavailable without WeasyPrint."""
    from openiop.core.pdf import render_pdf_bytes

    if authorisation.version != expected_version:
        raise StaleEdit(
            "This authorisation changed since the page was shown: look at it again "
            "before making the packet."
        )
    req = disclosure_request(authorisation)
    decision = gate.check(req, on=today)
    if not decision.allowed or decision.consent is None:
        # The gate refuses (and audits the refusal) without a consent.
        gate.disclose(req, actor=actor, on=today)
    facts = assemble(authorisation, today=today)
    context = {
        **facts,
        "facts": facts,
        "program_name": facts["program"].name,
        "header_right": f"Concurrent review · {authorisation.reference_number}",
        "notice": gate.notice_for(decision.consent),
        "part2_notice": gate.NOTICE_SHORT,
        "author": actor,
    }
    pdf = bytes(render_pdf_bytes(PDF_TEMPLATE, context, request))
    with transaction.atomic():
        locked = Authorisation.objects.select_for_update().get(pk=authorisation.pk)
        if locked.version != expected_version or locked.voided:
            raise StaleEdit("This authorisation changed while the packet was being made.")
        disclosure = gate.disclose(req, actor=actor, document=pdf, on=today)
        packet = ReviewPacket.objects.create(
            authorisation=authorisation,
            disclosure=disclosure,
            made_by=actor,
            sha256=hashlib.sha256(pdf).hexdigest(),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=packet,
            object_type="billing.reviewpacket",
            participant_id=authorisation.participant_id,
            changes={
                "authorisation": authorisation.pk,
                "disclosure": disclosure.pk,
                "sha256": packet.sha256,
            },
        )
    return packet
