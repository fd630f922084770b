"""Panel set-up: the panels with their analytes and cut-offs, and the analytes (issue 7,
point 1; DOMAIN.md §5.2: cut-offs are data, per device or lab).

Everyone with screening.view reads these pages; changing them needs program.configure
(directors). Panels are shared by every program, so the pages are not program-scoped.
Bad input answers 400 with the form's errors; a refused state (retiring the policy's
panel, removing a line results were read against) 409 with the reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.forms import posted
from openiop.core.roles import Perm

from . import panel_services, services
from .models import Analyte, Panel, PanelAnalyte, ScreeningPolicy
from .panel_forms import (
    AddLineForm,
    AnalyteForm,
    LineForm,
    PanelActionForm,
    PanelForm,
    RemoveLineForm,
    plain,
)

WHAT = "screening.panel"


def _int(raw: str | None) -> int | None:
    # isascii: "²".isdigit() is True but int("²") raises.
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _can_edit(request: StaffRequest) -> bool:
    return request.user.has_perm_code(Perm.PROGRAM_CONFIGURE)


# --- the panels -----------------------------------------------------------------------------


@staff_view(Perm.SCREENING_VIEW, audit_page="screening.panels")
def panels(request: StaffRequest) -> HttpResponse:
    """Every panel with its specimen, method, code, device and number of analytes; a
    director adds a panel here (its analytes are added on the panel's page)."""
    if request.method == "POST":
        require_perm(request, Perm.PROGRAM_CONFIGURE, what="screening.panels")
    form = PanelForm(posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                panel = panel_services.create_panel(actor=request.user, **form.cleaned_data)
            except services.ScreeningInputError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Panel {panel.name} added: now add its analytes.")
                return redirect("screening:panel", pk=panel.pk)
        status = 400
    rows = list(Panel.objects.annotate(line_count=Count("lines")).order_by("retired", "name"))
    in_policy = set(
        ScreeningPolicy.objects.filter(random_panel__isnull=False).values_list(
            "random_panel_id", flat=True
        )
    )
    return render(
        request,
        "screening/panel_list.html",
        {"panels": rows, "in_policy": in_policy, "form": form, "can_edit": _can_edit(request)},
        status=status,
    )


# --- one panel ------------------------------------------------------------------------------


def _page(
    request: StaffRequest,
    panel: Panel,
    *,
    failed: forms.Form | None = None,
    failed_line: int | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    can_edit = _can_edit(request)
    lines = list(
        PanelAnalyte.objects.filter(panel=panel)
        .select_related("analyte")
        .order_by("position", "pk")
    )
    used = panel_services.analytes_with_results(panel) if lines else set()
    rows = []
    for line in lines:
        form = None
        if can_edit:
            form = failed if failed_line == line.pk else LineForm(line=line)
        rows.append(
            {
                "line": line,
                "form": form,
                "removable": line.analyte_id not in used,
                "cutoff": plain(line.cutoff),
                "confirm_cutoff": plain(line.confirm_cutoff),
            }
        )
    details = PanelForm(initial=PanelForm.initial_of(panel))
    add = AddLineForm(panel=panel)
    if isinstance(failed, PanelForm):
        details = failed
    elif isinstance(failed, AddLineForm):
        add = failed
    if not can_edit:
        for field in details.fields.values():
            field.disabled = True
    context: dict[str, Any] = {
        "panel": panel,
        "rows": rows,
        "details_form": details,
        "add_form": add,
        "can_edit": can_edit,
        "policies": panel_services.policies_using(panel),
        "error": error,
        "form": failed,
        # A failed form shown nowhere else (a line that is not on the page, a bad action).
        "stray": failed is not None and failed not in (details, add) and failed_line is None,
    }
    return render(request, "screening/panel_detail.html", context, status=status)


@staff_view(Perm.SCREENING_VIEW, audit_page="screening.panel")
def panel(request: StaffRequest, pk: int) -> HttpResponse:
    found = Panel.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("No such panel.")
    if request.method != "POST":
        return _page(request, found)
    require_perm(request, Perm.PROGRAM_CONFIGURE, what=WHAT)
    chosen = PanelActionForm(request.POST)
    if not chosen.is_valid():
        return _page(request, found, failed=chosen, status=400)
    return _act(request, found, chosen.cleaned_data["action"])


def _line_of(panel: Panel, raw: str | None) -> PanelAnalyte | None:
    number = _int(raw)
    if number is None:
        return None
    return PanelAnalyte.objects.filter(panel=panel, pk=number).select_related("analyte").first()


def _act(request: StaffRequest, panel: Panel, action: str) -> HttpResponse:
    user = request.user
    form: forms.Form
    failed_line = None
    if action == "details":
        form = PanelForm(request.POST)
    elif action == "line":
        line = _line_of(panel, request.POST.get("line"))
        form = LineForm(request.POST, line=line)
        failed_line = line.pk if line is not None else None
    elif action == "add":
        form = AddLineForm(request.POST, panel=panel)
    elif action == "remove":
        form = RemoveLineForm(request.POST)
    else:
        form = PanelActionForm(request.POST)
    if not form.is_valid():
        return _page(request, panel, failed=form, failed_line=failed_line, status=400)
    data = form.cleaned_data
    anchor = ""
    try:
        if action == "details":
            panel_services.update_panel(panel, actor=user, **data)
            messages.success(request, "The panel's details are saved.")
        elif action in ("line", "remove"):
            line = _line_of(panel, str(data["line"]))
            if line is None:
                raise Http404("No such line on this panel.")
            if action == "line":
                panel_services.update_line(
                    line,
                    actor=user,
                    cutoff=data["cutoff"],
                    unit=data["unit"],
                    confirm_cutoff=data["confirm_cutoff"],
                )
                messages.success(request, f"The cut-off of {line.analyte.code} is saved.")
            else:
                panel_services.remove_line(line, actor=user)
                messages.success(request, f"{line.analyte.code} is removed from the panel.")
            anchor = "#lines"
        elif action == "add":
            made = panel_services.add_line(
                panel,
                actor=user,
                analyte=data["analyte"],
                cutoff=data["cutoff"],
                unit=data["unit"],
                confirm_cutoff=data["confirm_cutoff"],
            )
            messages.success(request, f"{made.analyte.code} is added to the panel.")
            anchor = "#lines"
        elif action == "retire":
            panel_services.retire_panel(panel, actor=user)
            messages.success(request, "The panel is retired: it can no longer be ordered.")
        else:
            panel_services.unretire_panel(panel, actor=user)
            messages.success(request, "The panel is in use again.")
    except services.ScreeningInputError as exc:
        form.add_error(None, str(exc))
        return _page(request, panel, failed=form, failed_line=failed_line, status=400)
    except services.ScreeningError as exc:
        panel.refresh_from_db()
        return _page(request, panel, error=str(exc), status=409)
    return redirect(reverse("screening:panel", kwargs={"pk": panel.pk}) + anchor)


# --- analytes -------------------------------------------------------------------------------


@staff_view(Perm.SCREENING_VIEW, audit_page="screening.analytes")
def analytes(request: StaffRequest) -> HttpResponse:
    """The analytes panels are made of; a director adds one here."""
    if request.method == "POST":
        require_perm(request, Perm.PROGRAM_CONFIGURE, what="screening.analytes")
    form = AnalyteForm(posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                made = panel_services.create_analyte(actor=request.user, **form.cleaned_data)
            except services.ScreeningInputError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Analyte {made.code} added.")
                return redirect("screening:analytes")
        status = 400
    rows = list(Analyte.objects.annotate(panel_count=Count("panels")).order_by("code"))
    return render(
        request,
        "screening/panel_analytes.html",
        {"analytes": rows, "form": form, "can_edit": _can_edit(request)},
        status=status,
    )
