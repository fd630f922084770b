"""The clinician's side of drug screening: review tasks and the review page, a
participant's results and recovery timeline, expected medications, the program's
screening policy and its statistics.

Participant pages reach their records through the participant (`participants.access`):
scoped (404 outside the user's programs or care teams), permission-checked (403) and
audited. A review is opened by the counsellor it is assigned to, or by a director or
supervisor (escalated and unassigned reviews). Bad input answers 400 with the form's
errors; a refused state (a review already done, a stale form) 409 with the reason.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.charts import line_chart_svg
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for
from openiop.participants.models import Participant
from openiop.programs.models import Program
from openiop.scheduling.access import programs_of

from . import queries, services
from .choices import CountsAs, ReviewStatus
from .clinical_forms import EndMedicationForm, MedicationForm, PolicyForm, RangeForm, ReviewForm
from .models import ExpectedMedication, Result, Review

WHAT = "screening.clinical"
# How a refusal, no-show or invalid specimen counts, in the statistics' own words.
COUNTS_AS_WORDS = {
    CountsAs.POSITIVE: "a positive",
    CountsAs.MISSED: "a missed test (left out)",
    CountsAs.RETEST: "nothing until the retest (left out)",
}


def _int(raw: str | None) -> int | None:
    # isascii: "²".isdigit() is True but int("²") raises.
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _program(request: StaffRequest) -> tuple[list[Program], Program | None]:
    """The user's programs and the one chosen with ?program= (the first by default)."""
    programs = list(programs_of(request.user).order_by("name"))
    wanted = _int(request.GET.get("program"))
    chosen = next((p for p in programs if p.pk == wanted), programs[0] if programs else None)
    return programs, chosen


def _participant(request: StaffRequest, pk: int, perm: str = Perm.SCREENING_VIEW) -> Participant:
    return get_participant_for(request, pk, perm, what=WHAT)


# --- review tasks ---------------------------------------------------------------------------


def _rows(reviews: list[Review], now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for review in reviews:
        tz = review.participant.program.tz
        end = review.reviewed_at or now
        rows.append(
            {
                "review": review,
                "test_day": queries.day_of_test(review, tz),
                "days_open": max((end - review.created_at).days, 0),
            }
        )
    return rows


@staff_view(Perm.SCREENING_REVIEW, audit_page="screening.reviews")
def reviews(request: StaffRequest) -> HttpResponse:
    """Open reviews assigned to me (for directors and supervisors also the escalated and
    unassigned ones of their programs), oldest first; below, those done in 30 days."""
    now = timezone.now()
    open_, done = queries.review_lists(request.user, now)
    return render(
        request,
        "screening/clinical_reviews.html",
        {
            "open_rows": _rows(open_, now),
            "done_rows": _rows(done, now),
            "oversees": queries.oversees(request.user),
            "window": queries.DONE_WINDOW_DAYS,
        },
    )


def _review_for(request: StaffRequest, participant: Participant, review_pk: int) -> Review:
    """The participant's review, if this user is to do it (assigned, or overseeing)."""
    try:
        return queries.reviews_for(request.user).get(
            pk=review_pk, participant=participant, voided=False
        )
    except (Review.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such review for you") from None


@staff_view(Perm.SCREENING_REVIEW)
def review(request: StaffRequest, pk: int, review_pk: int) -> HttpResponse:
    """A review: the order, the specimen and its results, the expected medications, a
    link to the treatment plan, and (while open) the clinician's conclusion."""
    participant = _participant(request, pk, Perm.SCREENING_REVIEW)
    found = _review_for(request, participant, review_pk)
    form = ReviewForm(posted(request), reason=found.reason, initial={"version": found.version})
    status, refusal = 200, ""
    if request.method == "POST":
        if found.status == ReviewStatus.DONE:
            status, refusal = 409, "This review is already done."
        elif not form.is_valid():
            status = 400
        else:
            try:
                services.complete_review(
                    found,
                    actor=request.user,
                    outcome=form.cleaned_data["outcome"],
                    plan_change=form.cleaned_data["plan_change"],
                    expected_version=form.cleaned_data["version"],
                )
            except services.ScreeningInputError as exc:
                form.add_error(None, str(exc))
                status = 400
            except services.ScreeningError as exc:
                status, refusal = 409, str(exc)
            else:
                messages.success(request, f"Review of {participant.display_name} recorded.")
                return redirect("screening:reviews")
        found = _review_for(request, participant, review_pk)
    order = found.order
    collection = getattr(order, "collection", None)
    results = (
        list(
            Result.objects.filter(collection=collection, voided=False)
            .select_related("analyte", "explained_by")
            .order_by("analyte__name", "method", "pk")
        )
        if collection is not None
        else []
    )
    program = participant.program
    today = program.today()
    medications = services.medications_for(participant.pk)
    return render(
        request,
        "screening/clinical_review.html",
        {
            "participant": participant,
            "review": found,
            "order": order,
            "collection": collection,
            "results": results,
            "medications": medications,
            "active_ids": {m.pk for m in queries.medications_active(medications, today)},
            "test_day": queries.day_of_test(found, program.tz),
            "form": form,
            "refusal": refusal,
            "can_complete": found.status == ReviewStatus.OPEN,
        },
        status=status,
    )


# --- a participant's timeline ---------------------------------------------------------------


def history_for(request: StaffRequest, participant: Participant) -> queries.History:
    program = participant.program
    return queries.screening_history(
        participant,
        user=request.user,
        today=program.today(),
        tz=program.tz,
        clinical=request.user.has_perm_code(Perm.CLINICAL_VIEW),
    )


@staff_view(Perm.SCREENING_VIEW)
def timeline(request: StaffRequest, pk: int) -> HttpResponse:
    """Every screen with its results; for clinical staff also reported use and reviews
    on one time line, with the days since the last known use."""
    participant = _participant(request, pk)
    history = history_for(request, participant)
    today = participant.program.today()
    medications = services.medications_for(participant.pk)
    return render(
        request,
        "screening/clinical_timeline.html",
        {
            "participant": participant,
            "history": history,
            "medications": queries.medications_active(medications, today),
            "today": today,
            "can_order": request.user.has_perm_code(Perm.SCREENING_ORDER),
            "can_review": request.user.has_perm_code(Perm.SCREENING_REVIEW),
        },
    )


# --- expected medications -------------------------------------------------------------------


def _medication_page(
    request: StaffRequest, participant: Participant, form: MedicationForm, status: int = 200
) -> HttpResponse:
    today = participant.program.today()
    medications = services.medications_for(participant.pk)
    medications.sort(key=lambda m: (m.end_date is not None, -m.start_date.toordinal(), m.pk))
    return render(
        request,
        "screening/clinical_medications.html",
        {
            "participant": participant,
            "medications": medications,
            "active_ids": {m.pk for m in queries.medications_active(medications, today)},
            "form": form,
            "can_order": request.user.has_perm_code(Perm.SCREENING_ORDER),
            "today": today,
        },
        status=status,
    )


@staff_view(Perm.SCREENING_VIEW)
def medications(request: StaffRequest, pk: int) -> HttpResponse:
    """The participant's expected medications (a positive they explain is expected, not
    use); adding one needs screening.order."""
    if request.method == "POST":
        require_perm(request, Perm.SCREENING_ORDER, what=WHAT)
    participant = _participant(request, pk)
    form = MedicationForm(posted(request), today=participant.program.today())
    if request.method != "POST":
        return _medication_page(request, participant, form)
    if not form.is_valid():
        return _medication_page(request, participant, form, status=400)
    data = form.cleaned_data
    try:
        medication = services.add_expected_medication(
            participant,
            actor=request.user,
            name=data["name"],
            analytes=list(data["analytes"]),
            start_date=data["start_date"],
            end_date=data.get("end_date"),
            prescriber=data.get("prescriber", ""),
            note=data.get("note", ""),
        )
    except services.ScreeningInputError as exc:
        form.add_error(None, str(exc))
        return _medication_page(request, participant, form, status=400)
    messages.success(
        request, f"{medication.name} added: a matching positive will show as expected."
    )
    return redirect("participant_screening:medications", pk=participant.pk)


@staff_view(Perm.SCREENING_ORDER)
def medication_end(request: StaffRequest, pk: int, med_pk: int) -> HttpResponse:
    """Record the last day a medication is taken (GET: the form)."""
    participant = _participant(request, pk, Perm.SCREENING_ORDER)
    try:
        medication = ExpectedMedication.objects.get(
            pk=med_pk, participant=participant, voided=False
        )
    except (ExpectedMedication.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such medication for this participant") from None
    today = participant.program.today()
    form = EndMedicationForm(
        posted(request),
        today=today,
        initial={"version": medication.version, "end_date": medication.end_date or today},
    )
    status, refusal = 200, ""
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif form.cleaned_data["version"] != medication.version:
            status, refusal = 409, "Someone else changed this medication; reload the page."
        else:
            try:
                services.end_expected_medication(
                    medication, actor=request.user, end_date=form.cleaned_data["end_date"]
                )
            except services.ScreeningInputError as exc:
                form.add_error("end_date", str(exc))
                status = 400
            else:
                messages.success(request, f"{medication.name}: end date recorded.")
                return redirect("participant_screening:medications", pk=participant.pk)
    return render(
        request,
        "screening/clinical_medication_end.html",
        {
            "participant": participant,
            "medication": medication,
            "form": form,
            "refusal": refusal,
        },
        status=status,
    )


# --- policy ---------------------------------------------------------------------------------


@staff_view(Perm.SCREENING_VIEW, audit_page="screening.policy")
def policy(request: StaffRequest) -> HttpResponse:
    """The program's screening policy with what it means: the daily chance, the tests a
    participant can expect per week and the monthly cost for today's census. Everyone
    with screening.view reads it; program.configure changes it."""
    can_edit = request.user.has_perm_code(Perm.PROGRAM_CONFIGURE)
    if request.method == "POST":
        require_perm(request, Perm.PROGRAM_CONFIGURE, what="screening.policy")
    programs, program = _program(request)
    if program is None:
        return render(request, "screening/clinical_policy.html", {"program": None})
    current = services.policy_for(program)
    # The form works on a copy: a ModelForm writes the posted values into its instance,
    # and update_policy compares them with the saved ones to audit what changed.
    form = PolicyForm(posted(request), instance=copy.copy(current))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in PolicyForm.Meta.fields}
            services.update_policy(current, actor=request.user, **values)
            messages.success(request, f"Screening policy of {program.name} saved.")
            url = reverse("screening:policy")
            return redirect(f"{url}?program={program.pk}" if len(programs) > 1 else url)
        status = 400
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    count = queries.census(program)
    return render(
        request,
        "screening/clinical_policy.html",
        {
            "programs": programs,
            "program": program,
            "policy": current,
            "form": form,
            "can_edit": can_edit,
            "census": count,
            "daily_pct": (current.daily_probability * 100).quantize(Decimal("0.1")),
            "per_week": queries.expected_tests_per_week(current),
            "monthly_cost": queries.monthly_cost(current, count),
        },
        status=status,
    )


# --- statistics -----------------------------------------------------------------------------


@staff_view(Perm.SCREENING_VIEW, audit_page="screening.stats")
def stats(request: StaffRequest) -> HttpResponse:
    """Negative tests per week, positivity by substance, and tests per participant per
    week against the policy, over a date range (the last 12 weeks by default)."""
    programs, program = _program(request)
    if program is None:
        return render(request, "screening/clinical_stats.html", {"program": None})
    today = program.today()
    first, last = queries.default_range(today)
    given = "first" in request.GET or "last" in request.GET
    form = RangeForm(
        request.GET if given else None, today=today, initial={"first": first, "last": last}
    )
    if given:
        if not form.is_valid():
            return render(
                request,
                "screening/clinical_stats.html",
                {"programs": programs, "program": program, "form": form, "stats": None},
                status=400,
            )
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    policy_ = services.policy_for(program)
    figures = queries.program_stats(program, policy_, first, last, user=request.user, today=today)
    negative_chart = line_chart_svg(
        [(w.week, float(w.negative_pct)) for w in figures.weeks if w.negative_pct is not None],
        y_min=0,
        y_max=100,
        title="Negative tests per week (%)",
        y_label="% negative",
        height=200,
    )
    thresholds = [(float(figures.expected_per_week), "policy")]
    if figures.minimum_per_week == figures.expected_per_week:
        thresholds = [(float(figures.expected_per_week), "policy and insurer minimum")]
    elif figures.minimum_per_week is not None:
        thresholds.append((float(figures.minimum_per_week), "insurer minimum"))
    rates = [
        (w.week, float(w.per_participant)) for w in figures.weeks if w.per_participant is not None
    ]
    top = max([v for _d, v in rates] + [v for v, _l in thresholds] + [1.0])
    rate_chart = line_chart_svg(
        rates,
        y_min=0,
        y_max=round(top * 1.25, 2),
        title="Tests per participant per week",
        y_label="tests",
        thresholds=thresholds,
        height=200,
    )
    return render(
        request,
        "screening/clinical_stats.html",
        {
            "programs": programs,
            "program": program,
            "form": form,
            "stats": figures,
            "policy": policy_,
            "counts_as": COUNTS_AS_WORDS,
            "negative_chart": negative_chart,
            "rate_chart": rate_chart,
        },
    )
