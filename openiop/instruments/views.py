"""Measurement-based care: give an instrument, see a participant's measures and trends,
the due list, safety alerts and their responses, and the program's instrument set-up."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from openiop.core.access import StaffRequest, staff_view
from openiop.core.charts import line_chart_svg
from openiop.core.forms import posted
from openiop.core.roles import CLINICAL_ROLES, Perm, Role
from openiop.participants.access import get_participant_for, on_care_team, visible_participants
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode
from openiop.programs.access import programs_for
from openiop.programs.models import Program

from . import catalogue, services
from .definitions import Instrument, UnknownInstrument
from .due import due_for
from .forms import ACTIONS, AlertResponseForm, ResponseForm, SettingsForm
from .models import InstrumentResponse, Occasion, SafetyAlert
from .rci import reliable_change

TONES = ["ok", "mild", "moderate", "severe", "severe", "severe"]


def _bands(definition: Instrument) -> list[tuple[float, float, str, str]]:
    if not definition.bands:
        return []
    top = max(b.severity for b in definition.bands) or 1
    out = []
    for b in definition.bands:
        # Severity is the level of concern whichever way the scale runs: map it onto tones.
        tone = TONES[round(3 * b.severity / top)]
        out.append((float(b.low), float(b.high), b.label, tone))
    return out


def _trend(definition: Instrument, rows: list[InstrumentResponse]) -> dict[str, Any]:
    """First and latest score, reliable change between them, and the SVG trend."""
    scored = [r for r in rows if r.total is not None]
    scored.sort(key=lambda r: (r.administered_on, r.pk))
    first = scored[0] if scored else None
    latest = scored[-1] if scored else (rows[0] if rows else None)
    change = None
    if (
        first is not None
        and latest is not None
        and latest.pk != first.pk
        and first.total is not None
        and latest.total is not None
    ):
        change = reliable_change(definition, first.total, latest.total)
    svg = None
    if scored and definition.has_total:
        svg = line_chart_svg(
            [(r.administered_on, float(r.total)) for r in scored],  # type: ignore[arg-type]
            y_min=float(definition.min_total),
            y_max=float(definition.max_total),
            bands=_bands(definition),
            title=f"{definition.short_name} over time",
            y_label="Total score",
        )
    return {
        "definition": definition,
        "rows": sorted(rows, key=lambda r: (r.administered_on, r.pk), reverse=True),
        "first": first,
        "latest": latest,
        "change": change,
        "svg": svg,
    }


@staff_view(Perm.CLINICAL_VIEW)
def measures(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.CLINICAL_VIEW, what="instruments.measures")
    responses = list(
        InstrumentResponse.objects.filter(participant=participant, voided=False).order_by(
            "administered_on", "pk"
        )
    )
    by_code: dict[str, list[InstrumentResponse]] = defaultdict(list)
    for r in responses:
        by_code[r.instrument].append(r)
    trends = []
    for code, rows in by_code.items():
        try:
            definition = catalogue.get(code)
        except UnknownInstrument:  # pragma: no cover - a definition removed from the code
            continue
        trends.append(_trend(definition, rows))
    trends.sort(key=lambda t: t["definition"].code)
    alerts = list(SafetyAlert.objects.filter(participant=participant, voided=False)[:20])
    due = []
    episode = participant.current_episode
    if episode is not None and episode.status in IN_CARE:
        due = due_for([Episode.objects.select_related("program", "participant").get(pk=episode.pk)])
    return render(
        request,
        "instruments/measures.html",
        {
            "participant": participant,
            "trends": trends,
            "alerts": alerts,
            "due": due,
            "can_give": request.user.has_perm_code(Perm.INSTRUMENT_GIVE),
            "can_respond": request.user.has_perm_code(Perm.SAFETY_RESPOND),
        },
    )


@staff_view(Perm.INSTRUMENT_GIVE)
def give_choose(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.INSTRUMENT_GIVE, what="instruments.give")
    definitions = catalogue.enabled_definitions(participant.program)
    return render(
        request,
        "instruments/give_choose.html",
        {"participant": participant, "definitions": definitions},
    )


@staff_view(Perm.INSTRUMENT_GIVE)
def give(request: StaffRequest, pk: int, code: str) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.INSTRUMENT_GIVE, what="instruments.give")
    try:
        definition = catalogue.get(code)
    except UnknownInstrument:
        raise Http404("No such instrument") from None
    if not catalogue.enabled_for(participant.program, definition.code):
        raise Http404(f"{definition.short_name} is switched off for this program")
    episode = participant.current_episode
    occasion = Occasion.AD_HOC
    if episode is not None and episode.status in IN_CARE:
        occasion = Occasion.SCHEDULED
    elif episode is not None and episode.is_open:
        occasion = Occasion.ADMISSION
    initial = {"administered_on": participant.program.today(), "occasion": occasion}
    form = ResponseForm(posted(request), instrument=definition, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            response = services.record_response(
                participant,
                actor=request.user,
                instrument=definition.code,
                answers=form.answers(),
                administered_on=data["administered_on"],
                occasion=data["occasion"],
                note=data["note"],
                sex=data.get("sex") or None,
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            if any(f.get("safety") for f in response.flags):
                messages.error(
                    request,
                    "Safety alert raised: a positive suicide-risk answer. The participant's "
                    "counsellor and supervisors see it now; document your response.",
                )
            else:
                messages.success(request, f"{definition.short_name} recorded.")
            return redirect("measures:response", pk=pk, response_pk=response.pk)
    return render(
        request,
        "instruments/give.html",
        {"participant": participant, "definition": definition, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.CLINICAL_VIEW)
def response_detail(request: StaffRequest, pk: int, response_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.CLINICAL_VIEW, what="instruments.response")
    try:
        response = InstrumentResponse.objects.select_related("administered_by").get(
            pk=response_pk, participant=participant, voided=False
        )
        definition = catalogue.get(response.instrument)
    except (InstrumentResponse.DoesNotExist, UnknownInstrument):
        raise Http404("No such response") from None
    items = []
    for item, value in zip(definition.items, response.answers, strict=False):
        label = next((o.label for o in item.options if o.value == value), str(value))
        items.append({"item": item, "value": value, "label": label})
    first = (
        InstrumentResponse.objects.filter(
            participant=participant, instrument=response.instrument, voided=False
        )
        .exclude(total=None)
        .order_by("administered_on", "pk")
        .first()
    )
    change = None
    if first and first.pk != response.pk and response.total is not None and first.total is not None:
        change = reliable_change(definition, first.total, response.total)
    alerts = list(SafetyAlert.objects.filter(response=response))
    return render(
        request,
        "instruments/response.html",
        {
            "participant": participant,
            "response": response,
            "definition": definition,
            "items": items,
            "first": first,
            "change": change,
            "alerts": alerts,
            "can_respond": request.user.has_perm_code(Perm.SAFETY_RESPOND),
        },
    )


@staff_view(Perm.CLINICAL_VIEW, audit_page="instruments.due")
def due_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    oversees = bool(user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR})
    who = request.GET.get("counsellor", "me" if user.has_role(Role.COUNSELLOR) else "all")
    episodes = Episode.objects.filter(
        status__in=IN_CARE, voided=False, participant__in=visible_participants(user)
    ).select_related("participant", "program", "primary_counsellor")
    if who == "me" or not oversees:
        who = "me"
        episodes = episodes.filter(on_care_team(user))
    elif who.isdigit():
        episodes = episodes.filter(primary_counsellor_id=int(who))
    items = due_for(episodes)
    counsellors = []
    if oversees:
        counsellors = list(
            get_user_model()
            .objects.filter(
                programs__in=user.program_ids,
                is_active=True,
                role_assignments__role__in=CLINICAL_ROLES,
            )
            .distinct()
            .order_by("last_name", "first_name")
        )
    return render(
        request,
        "instruments/due.html",
        {
            "items": items,
            "who": who,
            "oversees": oversees,
            "counsellors": counsellors,
            "overdue": sum(1 for d in items if d.state == "overdue"),
        },
    )


@staff_view(Perm.CLINICAL_VIEW)
def alert(request: StaffRequest, alert_pk: int) -> HttpResponse:
    try:
        found = SafetyAlert.objects.select_related("response").get(pk=alert_pk, voided=False)
    except SafetyAlert.DoesNotExist:
        raise Http404("No such alert") from None
    perm = Perm.SAFETY_RESPOND if request.method == "POST" else Perm.CLINICAL_VIEW
    participant = get_participant_for(request, found.participant_id, perm, what="instruments.alert")
    form = AlertResponseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.respond_to_alert(
                found,
                actor=request.user,
                actions=data["actions"],
                risk_after=data["risk_after"],
                note=data["note"],
            )
        except (services.AlertAlreadyResolved, ValueError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Response documented. The alert is closed.")
            return redirect("measures:list", pk=participant.pk)
    return render(
        request,
        "instruments/alert.html",
        {
            "participant": participant,
            "alert": found,
            "form": form,
            "action_labels": dict(ACTIONS),
            "can_respond": request.user.has_perm_code(Perm.SAFETY_RESPOND),
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.PROGRAM_CONFIGURE, audit_page="instruments.settings")
def program_settings(request: StaffRequest, program_pk: int) -> HttpResponse:
    try:
        program = programs_for(request.user).get(pk=program_pk)
    except Program.DoesNotExist:
        raise Http404("No such program") from None
    definitions = list(catalogue.all_definitions())
    values = catalogue.program_settings([program.pk])[program.pk]
    form = SettingsForm(posted(request), definitions=definitions, values=values)
    if request.method == "POST" and form.is_valid():
        changed = services.save_settings(program, actor=request.user, rows=form.values())
        messages.success(request, f"Instrument settings saved ({changed} changed).")
        return redirect("instruments:settings", program_pk=program.pk)
    return render(
        request,
        "instruments/settings.html",
        {"program": program, "form": form},
        status=400 if request.method == "POST" else 200,
    )
