"""The lab's workflow: today's list, an order's page (collection, refusal, no-show,
cancel, chain of custody, results by hand) and for-cause orders.

Today's list shows who is selected, so only lab and director roles see it (issue 7,
point 3). An order page reaches the order through its participant (scoped, checked,
audited); a random selection stays hidden (404) from everyone else until the specimen is
collected or the day is over (`services.order_visible`). Bad input answers 400 with the
form's errors; a refused state 409 with the reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.forms import posted
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Participant
from openiop.scheduling.access import programs_of

from . import services
from .choices import (
    CustodyStep,
    Interpretation,
    OrderReason,
    OrderStatus,
    ResultMethod,
    SpecimenType,
)
from .lab_forms import (
    CUSTODY_STEPS,
    ActionForm,
    CancelForm,
    CollectForm,
    CustodyForm,
    ForCauseForm,
    NoteForm,
    ResultsForm,
)
from .models import Collection, CustodyEvent, Order, PanelAnalyte, Result, Review, SelectionDay

WHAT = "screening.order"


def _int(raw: str | None) -> int | None:
    # isascii: "²".isdigit() is True but int("²") raises.
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


# --- today's list -------------------------------------------------------------------------


@staff_view(Perm.SCREENING_COLLECT, audit_page="screening.today")
def today(request: StaffRequest) -> HttpResponse:
    """The program's tests to collect today, random and otherwise, then those done."""
    user = request.user
    programs = list(programs_of(user).order_by("name"))
    if not programs:
        return render(request, "screening/lab_today.html", {"programs": [], "program": None})
    program_id = _int(request.GET.get("program"))
    program = next((p for p in programs if p.pk == program_id), programs[0])
    day = program.today()
    orders = list(
        Order.objects.filter(
            program=program,
            day=day,
            voided=False,
            participant__in=visible_participants(user),
        )
        .select_related("participant", "panel", "collection")
        .order_by("participant__legal_last_name", "participant__legal_first_name", "pk")
    )
    # The seed stays in the database until the day is revealed: never read it here.
    selection = SelectionDay.objects.filter(program=program, day=day).defer("seed").first()
    return render(
        request,
        "screening/lab_today.html",
        {
            "programs": programs,
            "program": program,
            "day": day,
            "to_collect": [o for o in orders if o.status == OrderStatus.OPEN],
            "done": [o for o in orders if o.status != OrderStatus.OPEN],
            "selection": selection,
            "pool": len(selection.eligible) if selection else 0,
            "picked": len(selection.selected) if selection else 0,
        },
    )


# --- a participant's orders ---------------------------------------------------------------


def _participant(request: StaffRequest, pk: int, perm: str = Perm.SCREENING_VIEW) -> Participant:
    return get_participant_for(request, pk, perm, what=WHAT)


def _visible(request: StaffRequest, orders: list[Order]) -> list[Order]:
    today_by_program: dict[int, Any] = {}
    out = []
    for o in orders:
        if o.program_id not in today_by_program:
            today_by_program[o.program_id] = o.program.today()
        if services.order_visible(request.user, o, today_by_program[o.program_id]):
            out.append(o)
    return out


@staff_view(Perm.SCREENING_VIEW)
def orders(request: StaffRequest, pk: int) -> HttpResponse:
    """A participant's tests, newest first (a hidden random selection left out)."""
    participant = _participant(request, pk)
    found = list(
        Order.objects.filter(participant=participant, voided=False)
        .select_related("panel", "program", "collection")
        .order_by("-day", "-pk")[:200]
    )
    return render(
        request,
        "screening/lab_orders.html",
        {
            "participant": participant,
            "orders": _visible(request, found),
            "can_order": request.user.has_perm_code(Perm.SCREENING_ORDER),
        },
    )


@staff_view(Perm.SCREENING_ORDER)
def order_new(request: StaffRequest, pk: int) -> HttpResponse:
    """Order a for-cause test: panel, day, and why (required)."""
    participant = _participant(request, pk, Perm.SCREENING_ORDER)
    episode = participant.current_episode
    program = episode.program if episode is not None else participant.program
    form = ForCauseForm(posted(request), today=program.today())
    refusal = ""
    in_care = episode is not None and episode.status in IN_CARE and not episode.voided
    if episode is None or not in_care:
        refusal = "Tests are ordered only for participants in care (admitted or active)."
    elif request.method == "POST" and form.is_valid():
        try:
            created = services.order_test(
                episode,
                actor=request.user,
                day=form.cleaned_data["day"],
                reason=OrderReason.FOR_CAUSE,
                panel=form.cleaned_data["panel"],
                reason_detail=form.cleaned_data["reason_detail"],
            )
        except services.ScreeningInputError as exc:
            form.add_error(None, str(exc))
        except services.ScreeningError as exc:
            refusal = str(exc)
        else:
            messages.success(request, "The for-cause test is ordered.")
            return redirect("participant_screening:order", pk=participant.pk, order_pk=created.pk)
    status = 409 if refusal else 400 if request.method == "POST" else 200
    return render(
        request,
        "screening/lab_order_new.html",
        {"participant": participant, "form": form, "refusal": refusal, "in_care": in_care},
        status=status,
    )


# --- one order ----------------------------------------------------------------------------


def _order(request: StaffRequest, participant: Participant, order_pk: int) -> Order:
    """The participant's order, if the user may know of it (404 otherwise, so a hidden
    selection is not revealed)."""
    try:
        found = Order.objects.select_related(
            "program", "panel", "episode", "status_by", "created_by"
        ).get(pk=order_pk, participant=participant, voided=False)
    except (Order.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such test for this participant") from None
    if not services.order_visible(request.user, found, found.program.today()):
        raise Http404("No such test for this participant")
    return found


def _collection(order: Order) -> Collection | None:
    return (
        Collection.objects.filter(order=order)
        .select_related("collected_by")
        .prefetch_related(
            Prefetch("custody", queryset=CustodyEvent.objects.order_by("at", "pk")),
            Prefetch(
                "results",
                queryset=Result.objects.filter(voided=False)
                .select_related("analyte", "explained_by")
                .order_by("method", "analyte__name", "pk"),
            ),
        )
        .first()
    )


def _lines(order: Order) -> list[PanelAnalyte]:
    return list(
        PanelAnalyte.objects.filter(panel=order.panel)
        .select_related("analyte")
        .order_by("position", "pk")
    )


def _can_cancel(user: Any, order: Order) -> bool:
    return order.reason != OrderReason.RANDOM and (
        user.has_perm_code(Perm.SCREENING_ORDER) or user.has_perm_code(Perm.SCREENING_COLLECT)
    )


def _forms(
    order: Order, lines: list[PanelAnalyte], data: Any = None, action: str = ""
) -> dict[str, Any]:
    """Each form of the order page, the posted one bound to `data`."""
    tz = order.program.tz

    def bound(name: str) -> Any:
        return data if name == action else None

    return {
        "collect": CollectForm(bound("collect"), specimen_type=order.panel.specimen_type, tz=tz),
        "refuse": NoteForm(bound("refuse"), prefix="refuse"),
        "no_show": NoteForm(bound("no_show"), prefix="no_show"),
        "cancel": CancelForm(bound("cancel")),
        "custody": CustodyForm(bound("custody"), tz=tz),
        "results": ResultsForm(bound("results"), lines=lines, panel=order.panel),
    }


def _page(
    request: StaffRequest,
    participant: Participant,
    order: Order,
    *,
    forms: dict[str, Any] | None = None,
    failed: Any = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    lines = _lines(order)
    forms = forms or _forms(order, lines)
    collection = _collection(order)
    results = list(collection.results.all()) if collection else []
    custody = list(collection.custody.all()) if collection else []
    if not forms["custody"].is_bound:
        # Offer the next step of the chain (sealed, sent, received) first.
        done = {e.step for e in custody}
        forms["custody"].fields["step"].initial = next(
            (s for s, _ in CUSTODY_STEPS if s not in done), CustodyStep.DISPOSED
        )
    can_collect = user.has_perm_code(Perm.SCREENING_COLLECT)
    is_open = order.status == OrderStatus.OPEN
    context = {
        "participant": participant,
        "order": order,
        "lines": lines,
        "collection": collection,
        "custody": custody,
        "results": results,
        "presumptive": [r for r in results if r.method == ResultMethod.PRESUMPTIVE],
        "definitive": [r for r in results if r.method == ResultMethod.DEFINITIVE],
        "unexpected": sum(1 for r in results if r.interpretation == Interpretation.UNEXPECTED),
        "reviews": list(
            Review.objects.filter(order=order, voided=False)
            .select_related("assigned_to")
            .order_by("created_at", "pk")
        ),
        "forms": forms,
        "results_rows": forms["results"].rows(),
        "can_collect": can_collect and is_open,
        "can_cancel": is_open and _can_cancel(user, order),
        "can_add": can_collect and collection is not None,
        "urine": order.panel.specimen_type == SpecimenType.URINE,
        "sees_today": services.sees_today_list(user),
        "error": error,
        # The form that failed, if any (for the page and for tests).
        "form": failed,
    }
    return render(request, "screening/lab_order.html", context, status=status)


@staff_view(Perm.SCREENING_VIEW)
def order(request: StaffRequest, pk: int, order_pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    found = _order(request, participant, order_pk)
    if request.method != "POST":
        return _page(request, participant, found)
    return _act(request, participant, found)


def _act(request: StaffRequest, participant: Participant, order: Order) -> HttpResponse:
    user = request.user
    chosen = ActionForm(request.POST)
    if not chosen.is_valid():
        return _page(request, participant, order, failed=chosen, status=400)
    action = chosen.cleaned_data["action"]
    if action == "cancel":
        if not _can_cancel(user, order):
            if order.reason == OrderReason.RANDOM:
                return _page(
                    request,
                    participant,
                    order,
                    error="A random selection cannot be cancelled; record a no-show.",
                    status=409,
                )
            require_perm(request, Perm.SCREENING_ORDER, what=WHAT)
    else:
        require_perm(request, Perm.SCREENING_COLLECT, what=WHAT)
    collection = Collection.objects.filter(order=order).first()
    if action in ("collect", "refuse", "no_show", "cancel") and order.status != OrderStatus.OPEN:
        return _page(
            request,
            participant,
            order,
            error=f"This test is already {order.get_status_display().lower()}.",
            status=409,
        )
    if action in ("custody", "results") and collection is None:
        return _page(request, participant, order, error="Record the collection first.", status=409)
    lines = _lines(order)
    forms = _forms(order, lines, request.POST, action)
    form = forms[action]
    # Typed times are on the program's clock.
    with timezone.override(order.program.tz):
        valid = form.is_valid()
    if not valid:
        return _page(request, participant, order, forms=forms, failed=form, status=400)
    data = form.cleaned_data
    anchor = "order"
    try:
        if action == "collect":
            made = services.record_collection(
                order,
                services.CollectionInput(
                    specimen_id=data["specimen_id"],
                    collected_at=data["collected_at"],
                    observed=data["observed"],
                    observed_reason=data["observed_reason"],
                    temperature_in_range=form.temperature_in_range(),
                    validity=data["validity"],
                    remarks=data["remarks"],
                ),
                actor=user,
            )
            messages.success(
                request, f"Specimen {made.specimen_id} recorded. Add the chain of custody below."
            )
            anchor = "custody"
        elif action == "refuse":
            services.record_refusal(order, actor=user, note=data["note"])
            messages.success(request, "The refusal is recorded.")
        elif action == "no_show":
            services.record_no_show(order, actor=user, note=data["note"])
            messages.success(request, "The no-show is recorded.")
        elif action == "cancel":
            services.cancel_order(order, actor=user, reason=data["reason"])
            messages.success(request, "The test is cancelled.")
        elif action == "custody":
            assert collection is not None  # noqa: S101
            event = services.add_custody(
                collection,
                actor=user,
                step=data["step"],
                at=data["at"],
                by_name=data["by_name"],
                detail=data["detail"],
            )
            messages.success(request, f"Custody step recorded: {event.get_step_display()}.")
            anchor = "custody"
        else:
            assert collection is not None  # noqa: S101
            method = data["method"]
            entries = [
                services.ResultInput(
                    analyte=line.analyte,
                    method=method,
                    outcome=outcome,
                    value=value,
                    unit=line.unit if value is not None else "",
                    cutoff=(
                        line.confirm_cutoff
                        if method == ResultMethod.DEFINITIVE and line.confirm_cutoff is not None
                        else line.cutoff
                    ),
                )
                for line, outcome, value in form.entries()
            ]
            made_results = services.record_results(
                collection, entries, actor=user, accession=data["accession"]
            )
            unexpected = [
                r.analyte.code
                for r in made_results
                if r.interpretation == Interpretation.UNEXPECTED
            ]
            text = f"{len(made_results)} results recorded."
            if unexpected:
                text += f" Unexpected: {', '.join(unexpected)}; the counsellor has a review to do."
            messages.success(request, text)
            anchor = "results"
    except services.ScreeningInputError as exc:
        form.add_error(None, str(exc))
        return _page(request, participant, order, forms=forms, failed=form, status=400)
    except services.ScreeningError as exc:
        order.refresh_from_db()
        return _page(request, participant, order, error=str(exc), status=409)
    url = reverse(
        "participant_screening:order", kwargs={"pk": participant.pk, "order_pk": order.pk}
    )
    return redirect(f"{url}#{anchor}")
