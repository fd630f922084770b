"""The facts of a discharge summary, assembled from the record (issue 10, point 1).

`assemble(episode, discharge)` answers a JSON-safe dict, kept on the summary as `facts`
and frozen at signing. A fixed number of queries, whatever the number of sessions,
screens or scores (each is one aggregate or one list query):

    attendance   one aggregate over the episode's attendance
    screens      one grouped count of the episode's closed orders
    instruments  the episode's scored responses, oldest first (first and last per code)
    plan         the latest signed treatment plan, then its problems with their goals
    diagnoses    the episode's diagnoses
    aftercare    the episode's aftercare referrals (none before the plan exists)

`open_items(episode)` lists what is still open before a discharge (warnings only).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum

from openiop.attendance.choices import ATTENDED, AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.instruments.definitions import UnknownInstrument, get
from openiop.instruments.models import InstrumentResponse
from openiop.instruments.rci import reliable_change
from openiop.intake.models import Diagnosis
from openiop.plans.choices import PlanStatus
from openiop.plans.models import Goal, TreatmentPlan
from openiop.programs.choices import level_short
from openiop.scheduling.choices import SessionStatus
from openiop.screening.choices import OrderStatus, Validity
from openiop.screening.models import Order
from openiop.screening.queries import decisive_unexpected

from .choices import TEDS_REASON
from .models import AftercareReferral, Discharge

MISSED = (AttendanceStatus.ABSENT_EXCUSED, AttendanceStatus.ABSENT_UNEXCUSED)


def _hours(minutes: int) -> str:
    return str((Decimal(minutes) / 60).quantize(Decimal("0.1"), ROUND_HALF_UP))


def attendance_facts(episode: Any) -> dict[str, Any]:
    rows = Attendance.objects.filter(episode=episode, voided=False).exclude(
        session__status=SessionStatus.CANCELLED
    )
    agg = rows.aggregate(
        attended=Count("pk", filter=Q(status__in=sorted(ATTENDED))),
        missed=Count("pk", filter=Q(status__in=MISSED)),
        excused=Count("pk", filter=Q(status=AttendanceStatus.ABSENT_EXCUSED)),
        minutes=Sum("minutes_attended", filter=Q(status__in=sorted(ATTENDED))),
    )
    attended, missed = agg["attended"] or 0, agg["missed"] or 0
    recorded = attended + missed
    return {
        "sessions_attended": attended,
        "sessions_missed": missed,
        "sessions_excused": agg["excused"] or 0,
        "hours_attended": _hours(agg["minutes"] or 0),
        "attendance_pct": round(100 * attended / recorded) if recorded else None,
    }


def screen_facts(episode: Any) -> dict[str, Any]:
    """Screens are collected specimens: negative when valid and nothing unexpected
    (a definitive result decides over a presumptive one, `screening.queries`)."""
    grouped = (
        Order.objects.filter(
            episode=episode,
            voided=False,
            status__in=[OrderStatus.COLLECTED, OrderStatus.REFUSED, OrderStatus.NO_SHOW],
        )
        .annotate(unexpected=Exists(decisive_unexpected().filter(collection__order=OuterRef("pk"))))
        .values("status", "collection__validity", "unexpected")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out = {"screens": 0, "negative": 0, "unexpected_positive": 0, "invalid": 0, "refused": 0}
    out["no_show"] = 0
    for row in grouped:
        n = row["n"]
        if row["status"] == OrderStatus.REFUSED:
            out["refused"] += n
        elif row["status"] == OrderStatus.NO_SHOW:
            out["no_show"] += n
        else:
            out["screens"] += n
            if row["unexpected"]:
                out["unexpected_positive"] += n
            elif row["collection__validity"] in (None, "", Validity.VALID):
                out["negative"] += n
            else:
                out["invalid"] += n
    return out


def instrument_facts(episode: Any) -> list[dict[str, Any]]:
    responses = (
        InstrumentResponse.objects.filter(episode=episode, voided=False, total__isnull=False)
        .order_by("administered_on", "pk")
        .values_list("instrument", "total", "administered_on")
    )
    first: dict[str, tuple[int, dt.date]] = {}
    last: dict[str, tuple[int, dt.date]] = {}
    counts: dict[str, int] = {}
    for code, total, day in responses:
        score = int(total or 0)  # never None: filtered above
        first.setdefault(code, (score, day))
        last[code] = (score, day)
        counts[code] = counts.get(code, 0) + 1
    out = []
    for code in sorted(first):
        (a, a_day), (b, b_day) = first[code], last[code]
        try:
            name = get(code).short_name
        except UnknownInstrument:
            name = code
        verdict = ""
        if counts[code] > 1:
            try:
                change = reliable_change(code, a, b)
            except (UnknownInstrument, ValueError):
                change = None
            verdict = change.label if change is not None else "No published reliability"
        out.append(
            {
                "code": code,
                "name": name,
                "times": counts[code],
                "first": a,
                "first_on": a_day.isoformat(),
                "last": b,
                "last_on": b_day.isoformat(),
                "change": b - a,
                "verdict": verdict,
            }
        )
    return out


def plan_facts(episode: Any) -> dict[str, Any] | None:
    plan = (
        TreatmentPlan.objects.filter(episode=episode, voided=False, status=PlanStatus.SIGNED)
        .order_by("-number")
        .first()
    )
    if plan is None:
        return None
    goals = (
        Goal.objects.filter(plan=plan)
        .select_related("problem")
        .order_by("problem__order", "order", "pk")
    )
    return {
        "number": plan.number,
        "signed_on": (
            plan.signed_at.astimezone(episode.program.tz).date().isoformat()
            if plan.signed_at
            else ""
        ),
        "goals": [
            {
                "text": g.text,
                "status": g.status,
                "status_label": g.get_status_display(),
                "problem": g.problem.statement,
            }
            for g in goals
        ],
    }


def diagnosis_facts(episode: Any) -> list[dict[str, Any]]:
    return [
        {"code": d.code, "description": d.description, "primary": d.primary}
        for d in Diagnosis.objects.filter(episode=episode, voided=False)
    ]


def aftercare_facts(episode: Any) -> list[dict[str, Any]]:
    referrals = AftercareReferral.objects.filter(
        plan__episode=episode, plan__voided=False, voided=False
    ).order_by("appointment_at", "pk")
    return [
        {
            "kind": r.get_kind_display(),
            "provider": r.provider,
            "contact": r.contact,
            "appointment": r.appointment_at.isoformat() if r.appointment_at else "",
            "responsible": r.get_responsible_display(),
            "status": r.get_status_display(),
        }
        for r in referrals
    ]


def assemble(episode: Any, discharge: Discharge) -> dict[str, Any]:
    """The facts of the summary (JSON-safe: dates as ISO strings)."""
    admitted = episode.admission_date
    days = (discharge.discharge_date - admitted).days if admitted else None
    return {
        "dates": {
            "admission": admitted.isoformat() if admitted else "",
            "discharge": discharge.discharge_date.isoformat(),
            "last_contact": discharge.last_contact_date.isoformat(),
            "length_of_stay_days": days,
        },
        "discharge": {
            "reason": discharge.reason,
            "reason_label": discharge.get_reason_display(),
            "teds_reason": TEDS_REASON[discharge.reason],
            "level": level_short(discharge.level_at_discharge),
            "next_level": level_short(discharge.next_level),
            "receiving_program": discharge.receiving_program,
        },
        "attendance": attendance_facts(episode),
        "screens": screen_facts(episode),
        "instruments": instrument_facts(episode),
        "plan": plan_facts(episode),
        "diagnoses": diagnosis_facts(episode),
        "aftercare": aftercare_facts(episode),
    }


def prefilled_text(episode: Any, facts: dict[str, Any]) -> dict[str, str]:
    """The summary's text fields, started from what the record already says."""
    from openiop.intake.models import Referral

    reason = Referral.objects.filter(episode=episode).values_list("reason", flat=True).first() or ""
    att = facts["attendance"]
    attended, missed = att["sessions_attended"], att["sessions_missed"]
    course = (
        f"Attended {attended} session{'s' if attended != 1 else ''} "
        f"({att['hours_attended']} hours) and missed {missed}"
    )
    days = facts["dates"]["length_of_stay_days"]
    if days is not None:
        course += f" over {days} days in the program"
    course += "."
    plan = facts["plan"]
    progress = (
        "\n".join(f"{g['text'].rstrip('.')}: {g['status_label']}." for g in plan["goals"])
        if plan
        else ""
    )
    recommendations = "\n".join(
        f"{r['kind']}: {r['provider']}" + (f" ({r['contact']})" if r["contact"] else "")
        for r in facts["aftercare"]
    )
    return {
        "presenting_problem": reason,
        "course": course,
        "progress": progress,
        "recommendations": recommendations,
    }


# --- before a discharge ------------------------------------------------------------------


def last_attended_day(episode: Any) -> dt.date | None:
    """The last day the participant attended a session of this episode."""
    return (
        Attendance.objects.filter(episode=episode, voided=False, status__in=sorted(ATTENDED))
        .exclude(session__status=SessionStatus.CANCELLED)
        .order_by("-session__date")
        .values_list("session__date", flat=True)
        .first()
    )


def open_items(episode: Any) -> list[str]:
    """What is still open in the record (warnings only: none of them blocks a discharge)."""
    from openiop.notes.choices import NoteStatus
    from openiop.notes.models import Note

    from .choices import AftercareStatus
    from .models import AftercarePlan

    out = []
    drafts = Note.objects.filter(
        participant_id=episode.participant_id, voided=False, status=NoteStatus.DRAFT
    ).count()
    if drafts:
        out.append(f"{drafts} unsigned note{'s' if drafts != 1 else ''} of this participant.")
    plan = AftercarePlan.objects.filter(episode=episode, voided=False).first()
    if plan is None:
        out.append("No aftercare plan has been started.")
    elif plan.status != AftercareStatus.GIVEN:
        out.append("The aftercare plan has not been given to the participant yet.")
    orders = Order.objects.filter(episode=episode, voided=False, status=OrderStatus.OPEN).count()
    if orders:
        out.append(f"{orders} drug-screen order{'s' if orders != 1 else ''} still to collect.")
    return out
