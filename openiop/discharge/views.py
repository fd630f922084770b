"""Discharge pages: the discharge form (read-only once discharged), the discharge summary
with its editor, refresh, signature and addenda, and its PDF.

A refusal of a state change (already discharged, a signed summary, a stale version)
answers 409 with the reason; an invalid form answers 400 with its errors."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.models import SignedRecordError
from openiop.core.pdf import pdf_response
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Participant
from openiop.programs.choices import level_short

from . import services, summary
from .choices import TEDS_REASON, TRANSITION_REASONS
from .forms import AddendumForm, DischargeForm, SignForm, SummaryForm
from .models import Discharge, DischargeSummary
from .services import TEDS_FIELDS, TEXT_FIELDS


def _day(value: Any) -> Any:
    """An ISO date (or date-time) kept in the facts, as a date to format; else as it is."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    except ValueError:
        return value


def display_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts with their dates as dates (the JSON keeps ISO strings)."""
    out = copy.deepcopy(facts)
    for key in ("admission", "discharge", "last_contact"):
        if key in out.get("dates", {}):
            out["dates"][key] = _day(out["dates"][key])
    for row in out.get("instruments", []):
        row["first_on"], row["last_on"] = _day(row.get("first_on")), _day(row.get("last_on"))
    if out.get("plan"):
        out["plan"]["signed_on"] = _day(out["plan"].get("signed_on"))
    for row in out.get("aftercare", []):
        row["appointment"] = _day(row.get("appointment"))
    return out


def _label(name: str) -> str:
    return str(cast(models.Field, DischargeSummary._meta.get_field(name)).verbose_name)


def participant_for(
    request: StaffRequest, pk: int, perm: str, what: str, action: str = AuditAction.VIEW
) -> Participant:
    queryset = visible_participants(request.user).select_related(
        "program", "current_episode", "current_episode__program"
    )
    return get_participant_for(request, pk, perm, action=action, what=what, queryset=queryset)


def _teds_rows(record: Discharge) -> list[dict[str, Any]]:
    rows = []
    for name in TEDS_FIELDS:
        field = cast(models.Field, Discharge._meta.get_field(name))
        value = getattr(record, name)
        label = getattr(record, f"get_{name}_display")() if value is not None else ""
        rows.append({"label": str(field.verbose_name), "value": value, "display": label})
    return rows


@staff_view(Perm.DISCHARGE_WRITE)
def discharge(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: the discharge form for an episode in care (or the record once discharged);
    POST: discharge."""
    participant = participant_for(request, pk, Perm.DISCHARGE_WRITE, "discharge.discharge")
    episode = participant.current_episode
    record = (
        Discharge.objects.filter(episode=episode).select_related("summary").first()
        if episode is not None
        else None
    )
    if record is not None or episode is None or episode.status not in IN_CARE:
        refusal = ""
        if record is None:
            refusal = (
                "Only a participant in care (admitted or active) can be discharged; "
                "this participant's episode is not in care."
            )
        elif request.method == "POST":
            refusal = "This episode has already been discharged: here is its discharge record."
        return render(
            request,
            "discharge/record.html",
            {
                "participant": participant,
                "record": record,
                "teds_rows": _teds_rows(record) if record else [],
                "teds_reason": TEDS_REASON[record.reason] if record else None,
                "refusal": refusal,
            },
            status=409 if request.method == "POST" or (refusal and record is None) else 200,
        )
    today = episode.program.today()
    from openiop.intake.models import TedsAdmission

    initial: dict[str, Any] = {
        "discharge_date": today,
        "last_contact_date": summary.last_attended_day(episode),
        "sub1_d": TedsAdmission.objects.filter(episode=episode)
        .values_list("sub1", flat=True)
        .first(),
    }
    form = DischargeForm(posted(request), episode=episode, today=today, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.discharge_participant(
                    episode,
                    actor=request.user,
                    reason=data["reason"],
                    discharge_date=data["discharge_date"],
                    last_contact_date=data["last_contact_date"],
                    reason_detail=data["reason_detail"],
                    next_level=data["next_level"],
                    receiving_program=data["receiving_program"],
                    receiving_contact=data["receiving_contact"],
                    teds=form.teds(),
                )
            except services.DischargeRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"{participant.display_name} is discharged. Review the summary and sign it.",
                )
                return redirect("discharge:summary", pk=participant.pk)
    return render(
        request,
        "discharge/form.html",
        {
            "participant": participant,
            "episode": episode,
            "form": form,
            "warnings": summary.open_items(episode),
            "level": level_short(episode.level_of_care),
            "transition_reasons": sorted(TRANSITION_REASONS),
        },
        status=status,
    )


def _summary_of(participant: Participant) -> DischargeSummary | None:
    """The summary of the participant's latest discharge."""
    return (
        DischargeSummary.objects.filter(participant=participant, voided=False)
        .select_related("discharge", "episode", "episode__program", "signed_by")
        .order_by("-discharge__discharge_date", "-pk")
        .first()
    )


def _summary_page(
    request: StaffRequest,
    participant: Participant,
    record: DischargeSummary | None,
    *,
    template: str = "discharge/summary.html",
    status: int = 200,
    error: str = "",
    **extra: Any,
) -> HttpResponse:
    addenda = list(record.addenda.filter(voided=False)) if record is not None else []
    return render(
        request,
        template,
        {
            "participant": participant,
            "summary": record,
            "record": record.discharge if record else None,
            "facts": display_facts(record.facts) if record else {},
            "addenda": addenda,
            "texts": [
                {
                    "label": _label(n),
                    "text": getattr(record, n),
                }
                for n in TEXT_FIELDS
            ]
            if record
            else [],
            "can_write": request.user.has_perm_code(Perm.DISCHARGE_WRITE),
            "error": error,
            **extra,
        },
        status=status,
    )


@staff_view(Perm.CLINICAL_VIEW)
def summary_page(request: StaffRequest, pk: int) -> HttpResponse:
    """The summary: facts, the counsellor's words (editable while a draft), addenda.
    POST saves the text (action=save) or assembles the facts again (action=refresh)."""
    perm = Perm.DISCHARGE_WRITE if request.method == "POST" else Perm.CLINICAL_VIEW
    participant = participant_for(request, pk, perm, "discharge.summary")
    record = _summary_of(participant)
    if record is None:
        return _summary_page(
            request, participant, None, status=409 if request.method == "POST" else 200
        )
    if record.is_signed:
        if request.method == "POST":
            return _summary_page(
                request,
                participant,
                record,
                status=409,
                error="This summary is signed and never changes: write an addendum instead.",
            )
        return _summary_page(request, participant, record, addendum_form=AddendumForm())
    form = SummaryForm(posted(request), instance=record, initial={"version": record.version})
    status = 200
    error = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            action = form.cleaned_data["action"] or "save"
            expected = form.cleaned_data["version"]
            try:
                if action == "refresh":
                    services.refresh_summary(record, actor=request.user, expected_version=expected)
                    messages.success(request, "The facts were assembled again from the record.")
                else:
                    services.save_summary(
                        record,
                        actor=request.user,
                        expected_version=expected,
                        values={n: form.cleaned_data[n] for n in TEXT_FIELDS},
                    )
                    messages.success(request, "Summary saved.")
            except (StaleEdit, SignedRecordError, services.DischargeRefused) as exc:
                error, status = str(exc), 409
                record.refresh_from_db()
            else:
                if action == "sign":
                    return redirect("discharge:sign", pk=participant.pk)
                return redirect("discharge:summary", pk=participant.pk)
    return _summary_page(request, participant, record, status=status, error=error, form=form)


@staff_view(Perm.DISCHARGE_WRITE)
def sign(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: the draft to review; POST: sign it (name and credential), read-only from then on."""
    participant = participant_for(request, pk, Perm.DISCHARGE_WRITE, "discharge.sign")
    record = _summary_of(participant)
    if record is None or record.is_signed:
        error = (
            "There is no discharge summary to sign."
            if record is None
            else "This summary is already signed; write an addendum instead."
        )
        return _summary_page(
            request,
            participant,
            record,
            template="discharge/sign.html",
            status=409 if request.method == "POST" else 200,
            error=error,
        )
    form = SignForm(posted(request), initial={"version": record.version})
    status = 200
    error = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.sign_summary(
                    record, actor=request.user, expected_version=form.cleaned_data["version"]
                )
            except (StaleEdit, SignedRecordError, services.DischargeRefused) as exc:
                error, status = str(exc), 409
            else:
                messages.success(request, "The discharge summary is signed and locked.")
                return redirect("discharge:summary", pk=participant.pk)
    return _summary_page(
        request,
        participant,
        record,
        template="discharge/sign.html",
        status=status,
        error=error,
        form=form,
    )


@staff_view(Perm.DISCHARGE_WRITE)
def addendum(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: the addendum form; POST: add a signed addendum to the signed summary."""
    participant = participant_for(request, pk, Perm.DISCHARGE_WRITE, "discharge.addendum")
    record = _summary_of(participant)
    form = AddendumForm(posted(request))
    error = ""
    status = 200
    if record is None or not record.is_signed:
        error = "Addenda are written on a signed summary: sign the summary first."
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.add_addendum(record, actor=request.user, text=form.cleaned_data["text"])
            except services.DischargeRefused as exc:
                error, status = str(exc), 409
            else:
                messages.success(request, "Addendum added.")
                return redirect("discharge:summary", pk=participant.pk)
    return _summary_page(
        request,
        participant,
        record,
        template="discharge/addendum.html",
        status=status,
        error=error,
        form=form,
    )


@staff_view(Perm.CLINICAL_VIEW)
def summary_pdf(request: StaffRequest, pk: int) -> HttpResponse:
    # A printout may leave the building: audited as an export.
    participant = participant_for(
        request, pk, Perm.CLINICAL_VIEW, "discharge.summary_pdf", AuditAction.EXPORT
    )
    record = _summary_of(participant)
    if record is None:
        raise Http404("This participant has no discharge summary")
    return pdf_response(
        request,
        "discharge/pdf/summary.html",
        {
            "title": "Discharge summary",
            "program_name": record.episode.program.name,
            "header_right": f"{participant.display_name} · {participant.record_number}",
            "participant": participant,
            "summary": record,
            "record": record.discharge,
            "facts": display_facts(record.facts),
            "addenda": list(record.addenda.filter(voided=False)),
            "texts": [
                {
                    "label": _label(n),
                    "text": getattr(record, n),
                }
                for n in TEXT_FIELDS
            ],
        },
        f"discharge-summary-{participant.record_number}",
    )
