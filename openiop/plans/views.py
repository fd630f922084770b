"""Treatment plans: the plan page, the draft editor, versions and what changed, signing
(clinician, participant on the tablet, supervisor), the PDF, and reviews due.

Every page reaches the plan through its participant (`participants.access`): scoped,
permission-checked, audited. Edits to a signed version answer 409 with the reason; bad
input answers 400 with the form's errors, the editor shown again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.accounts.models import User
from openiop.core.access import StaffRequest, staff_view
from openiop.core.forms import posted
from openiop.core.pdf import pdf_response
from openiop.core.roles import Perm, Role, roles_with
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant
from openiop.programs.models import Program

from . import services
from .choices import Modality, PlanStatus, SignatureRole
from .forms import (
    GoalForm,
    InterventionForm,
    NewVersionForm,
    ObjectiveForm,
    ParticipantSignForm,
    PlanForm,
    ProblemForm,
    SignForm,
)
from .models import (
    Goal,
    InterventionTemplate,
    Objective,
    PlanIntervention,
    Problem,
    SignedRecordError,
    TreatmentPlan,
)

WHAT = "plans.plan"


# --- Lookups ------------------------------------------------------------------------------


def _participant(request: StaffRequest, pk: int, perm: str = Perm.CLINICAL_VIEW) -> Participant:
    return get_participant_for(request, pk, perm, what=WHAT)


def _plan(participant: Participant, plan_pk: int) -> TreatmentPlan:
    try:
        return services.plan_queryset().get(pk=plan_pk, participant=participant, voided=False)
    except (TreatmentPlan.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such plan for this participant") from None


def _staff(plan: TreatmentPlan) -> QuerySet[User]:
    """Who can be responsible for an intervention: active clinical staff of the program."""
    return (
        User.objects.filter(
            is_active=True,
            programs=plan.program_id,
            role_assignments__role__in=roles_with(Perm.PLAN_WRITE),
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def _dimensions(plan: TreatmentPlan) -> list[tuple[int, str]]:
    return [(n, plan.dimension_label(n)) for n in range(1, 7)]


def _signatures(plan: TreatmentPlan) -> list[dict[str, Any]]:
    """The signature block, in order: participant, clinician, supervisor."""
    by_role = services.signatures_by_role(plan)
    rows = []
    for role, label in SignatureRole.choices:
        sig = by_role.get(role)
        rows.append(
            {
                "role": label,
                "key": role,
                "name": (sig.typed_name or sig.name) if sig else "",
                "credential": sig.credential if sig else "",
                "at": sig.at if sig else None,
                "image": sig.image if sig else "",
                "witness": (
                    sig.witnessed_by.display_name
                    if sig is not None and sig.witnessed_by is not None
                    else ""
                ),
            }
        )
    return rows


def _grouped(plan: TreatmentPlan) -> list[dict[str, Any]]:
    """Problems grouped by ASAM dimension (only the dimensions with problems)."""
    groups: OrderedDict[int, list[Problem]] = OrderedDict()
    for problem in plan.problems.all():
        groups.setdefault(problem.asam_dimension, []).append(problem)
    return [
        {"number": n, "label": plan.dimension_label(n), "problems": problems}
        for n, problems in sorted(groups.items())
    ]


def _plan_context(request: StaffRequest, participant: Participant, plan: TreatmentPlan) -> dict:
    user = request.user
    sigs = services.signatures_by_role(plan)
    is_current = plan.status == PlanStatus.SIGNED
    return {
        "participant": participant,
        "plan": plan,
        "groups": _grouped(plan),
        "signatures": _signatures(plan),
        "can_write": user.has_perm_code(Perm.PLAN_WRITE),
        "can_participant_sign": is_current
        and user.has_perm_code(Perm.PLAN_WRITE)
        and SignatureRole.PARTICIPANT not in sigs,
        "can_supervisor_sign": is_current
        and user.has_perm_code(Perm.PLAN_APPROVE)
        and SignatureRole.SUPERVISOR not in sigs
        and plan.clinician_id != user.pk,
    }


def _refused(
    request: StaffRequest,
    participant: Participant,
    plan: TreatmentPlan,
    reason: str,
    status: int = 409,
) -> HttpResponse:
    """The version page with the reason a change was refused."""
    context = _plan_context(request, participant, plan)
    context.update({"error": reason, "diff": None, "since": None})
    return render(request, "plans/version.html", context, status=status)


# --- Reading ------------------------------------------------------------------------------


@staff_view(Perm.CLINICAL_VIEW)
def current(request: StaffRequest, pk: int) -> HttpResponse:
    """The plan in force (the newest signed version), with the draft in progress if any."""
    participant = _participant(request, pk)
    episode = participant.current_episode
    plan = draft = None
    if episode is not None:
        found = services.current_plan(episode)
        plan = services.plan_queryset().get(pk=found.pk) if found else None
        draft = services.draft_of(episode)
    context: dict[str, Any] = {"participant": participant, "episode": episode, "draft": draft}
    if plan is not None:
        context.update(_plan_context(request, participant, plan))
    else:
        context.update(
            {
                "plan": None,
                "can_write": request.user.has_perm_code(Perm.PLAN_WRITE),
                "in_care": episode is not None and episode.is_open and episode.admission_date,
            }
        )
    return render(request, "plans/current.html", context)


@staff_view(Perm.CLINICAL_VIEW)
def versions(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    plans = list(
        TreatmentPlan.objects.filter(participant=participant, voided=False)
        .select_related("episode", "clinician")
        .prefetch_related("signatures")
        .order_by("-episode__referral_date", "-episode_id", "-number")
    )
    rows = []
    for plan in plans:
        roles = {s.role for s in plan.signatures.all()}
        rows.append({"plan": plan, "roles": roles})
    return render(
        request,
        "plans/versions.html",
        {"participant": participant, "rows": rows},
    )


@staff_view(Perm.CLINICAL_VIEW)
def version(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """One version; with "what changed since version N" (the previous one by default,
    another with ?since=N)."""
    participant = _participant(request, pk)
    plan = _plan(participant, plan_pk)
    context = _plan_context(request, participant, plan)
    since = None
    raw = request.GET.get("since", "")
    qs = services.plan_queryset().filter(episode_id=plan.episode_id, voided=False)
    if raw.isascii() and raw.isdigit() and len(raw) < 6:
        since = qs.filter(number=int(raw)).exclude(pk=plan.pk).first()
    elif plan.previous_id:
        since = qs.filter(pk=plan.previous_id).first()
    diff = services.diff(since, plan) if since is not None else None
    context.update(
        {
            "since": since,
            "diff": diff,
            "added": diff.keys("added") if diff else set(),
            "changed": diff.keys("changed") if diff else set(),
            "others": list(
                qs.exclude(pk=plan.pk).order_by("number").values_list("number", flat=True)
            ),
        }
    )
    return render(request, "plans/version.html", context)


@staff_view(Perm.CLINICAL_VIEW)
def plan_pdf(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    plan = _plan(participant, plan_pk)
    title = f"Treatment plan, version {plan.number}"
    return pdf_response(
        request,
        "plans/pdf/plan.html",
        {
            "title": title,
            "program_name": plan.program.name,
            "header_right": f"{participant.display_name} · {participant.record_number}",
            "participant": participant,
            "plan": plan,
            "groups": _grouped(plan),
            "signatures": _signatures(plan),
        },
        f"treatment-plan-{participant.record_number}-v{plan.number}",
    )


# --- Starting and editing -----------------------------------------------------------------


@staff_view(Perm.PLAN_WRITE)
def start(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: start the first plan, or say why a new version is written; POST: do it (or
    go back to the draft already open)."""
    participant = _participant(request, pk, Perm.PLAN_WRITE)
    episode = participant.current_episode
    signed = services.current_plan(episode) if episode is not None else None
    form = NewVersionForm(posted(request)) if signed is not None else None
    refusal = ""
    if request.method == "POST":
        if form is not None and not form.is_valid():
            return render(
                request,
                "plans/start.html",
                {"participant": participant, "form": form, "signed": signed},
                status=400,
            )
        try:
            if episode is None:
                raise services.PlanError("There is no episode to write a plan for.")
            if signed is None:
                plan = services.start_plan(episode, request.user)
            else:
                assert form is not None  # noqa: S101
                plan = services.new_version(
                    signed,
                    request.user,
                    form.cleaned_data["reason"],
                    form.cleaned_data["change_summary"],
                )
        except services.PlanInputError as exc:
            if form is not None:
                form.add_error(None, str(exc))
            return render(
                request,
                "plans/start.html",
                {"participant": participant, "form": form, "signed": signed},
                status=400,
            )
        except services.PlanError as exc:
            refusal = str(exc)
        else:
            return redirect("plans:edit", pk=participant.pk, plan_pk=plan.pk)
    draft = services.draft_of(episode) if episode is not None else None
    return render(
        request,
        "plans/start.html",
        {
            "participant": participant,
            "form": form,
            "signed": signed,
            "draft": draft,
            "refusal": refusal,
        },
        status=409 if refusal else 200,
    )


def _editor(
    request: StaffRequest,
    participant: Participant,
    plan: TreatmentPlan,
    *,
    failed: Any = None,
    failed_title: str = "",
    plan_form: PlanForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    staff = _staff(plan)
    templates = list(InterventionTemplate.objects.filter(active=True, retired=False))
    library: OrderedDict[str, dict[str, Any]] = OrderedDict(
        (value, {"label": label, "items": []}) for value, label in Modality.choices
    )
    for t in templates:
        library[t.modality]["items"].append(t)
    if plan_form is None:
        plan_form = PlanForm(
            initial={
                "participant_statement": plan.participant_statement,
                "reason": plan.reason,
                "change_summary": plan.change_summary,
            }
        )
    context = _plan_context(request, participant, plan)
    context.update(
        {
            "plan_form": plan_form,
            "failed": failed,
            "failed_title": failed_title,
            "error": error,
            "dimensions": _dimensions(plan),
            "library": [v for v in library.values() if v["items"]],
            "staff": list(staff),
            "goal_statuses": Goal._meta.get_field("status").choices,
            "objective_statuses": Objective._meta.get_field("status").choices,
            "missing": services.missing_for_signature(plan),
            # The form that failed, if any (for the page and for tests).
            "form": failed if failed is not None else (plan_form if plan_form.is_bound else None),
        }
    )
    return render(request, "plans/edit.html", context, status=status)


def _draft_or_refuse(
    request: StaffRequest, pk: int, plan_pk: int
) -> tuple[Participant, TreatmentPlan, HttpResponse | None]:
    participant = _participant(request, pk, Perm.PLAN_WRITE)
    plan = _plan(participant, plan_pk)
    if request.method == "POST" and plan.is_locked:
        return (
            participant,
            plan,
            _refused(
                request,
                participant,
                plan,
                "This plan version is signed and cannot be changed; start a new version.",
            ),
        )
    return participant, plan, None


@staff_view(Perm.PLAN_WRITE)
def edit(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The draft editor (GET); POST saves the plan's own fields (statement, reason)."""
    participant, plan, refused = _draft_or_refuse(request, pk, plan_pk)
    if refused is not None:
        return refused
    if plan.is_locked:
        return redirect("plans:version", pk=participant.pk, plan_pk=plan.pk)
    if request.method != "POST":
        return _editor(request, participant, plan)
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _editor(request, participant, plan, plan_form=form, status=400)
    try:
        services.update_plan(
            plan,
            request.user,
            participant_statement=form.cleaned_data["participant_statement"],
            change_summary=form.cleaned_data["change_summary"],
            reason=form.cleaned_data["reason"],
        )
    except services.PlanInputError as exc:
        form.add_error(None, str(exc))
        return _editor(request, participant, plan, plan_form=form, status=400)
    except (services.PlanError, SignedRecordError) as exc:
        return _refused(request, participant, _plan(participant, plan.pk), str(exc))
    messages.success(request, "Saved.")
    return redirect("plans:edit", pk=participant.pk, plan_pk=plan.pk)


def _row_view(
    request: StaffRequest,
    pk: int,
    plan_pk: int,
    *,
    form_class: type,
    title: str,
    act: Any,
    form_kwargs: Any = None,
) -> HttpResponse:
    """The shared shape of the row endpoints: GET shows the editor; POST validates the
    form (400 with its errors), refuses a signed version (409), then calls
    `act(plan, data)`, which resolves the row within the plan."""
    participant, plan, refused = _draft_or_refuse(request, pk, plan_pk)
    if refused is not None:
        return refused
    if plan.is_locked:
        return redirect("plans:version", pk=participant.pk, plan_pk=plan.pk)
    if request.method != "POST":
        return _editor(request, participant, plan)
    extra = form_kwargs(plan) if form_kwargs else {}
    form = form_class(request.POST, **extra)
    if not form.is_valid():
        return _editor(request, participant, plan, failed=form, failed_title=title, status=400)
    try:
        act(plan, form.cleaned_data)
    except _NotInPlan as exc:
        form.add_error(None, str(exc))
        return _editor(request, participant, plan, failed=form, failed_title=title, status=400)
    except services.PlanInputError as exc:
        form.add_error(None, str(exc))
        return _editor(request, participant, plan, failed=form, failed_title=title, status=400)
    except (services.PlanError, SignedRecordError) as exc:
        return _refused(request, participant, _plan(participant, plan.pk), str(exc))
    return redirect(
        reverse("plans:edit", kwargs={"pk": participant.pk, "plan_pk": plan.pk})
        + f"#{form.cleaned_data.get('anchor', 'plan')}"
    )


class _NotInPlan(Exception):
    pass


def _get(model: Any, plan: TreatmentPlan, row_id: Any, path: str, what: str) -> Any:
    if row_id is None:
        raise _NotInPlan(f"Choose the {what}.")
    found = model.objects.filter(pk=row_id, **{path: plan}).first()
    if found is None:
        raise _NotInPlan(f"That {what} is not part of this plan: reload the page.")
    return found


@staff_view(Perm.PLAN_WRITE)
def problem(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    def act(plan: TreatmentPlan, data: dict[str, Any]) -> None:
        action = data["action"]
        if action == "add":
            row = services.add_problem(
                plan,
                request.user,
                asam_dimension=data["asam_dimension"],
                statement=data["statement"],
            )
            data["anchor"] = f"problem-{row.pk}"
            return
        row = _get(Problem, plan, data.get("row"), "plan", "problem")
        if action == "remove":
            services.remove_problem(row, request.user)
        else:
            services.change_problem(
                row,
                request.user,
                asam_dimension=data["asam_dimension"],
                statement=data["statement"],
            )
            data["anchor"] = f"problem-{row.pk}"

    return _row_view(
        request,
        pk,
        plan_pk,
        form_class=ProblemForm,
        title="The problem was not saved",
        act=act,
        form_kwargs=lambda plan: {"dimensions": _dimensions(plan)},
    )


@staff_view(Perm.PLAN_WRITE)
def goal(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    def act(plan: TreatmentPlan, data: dict[str, Any]) -> None:
        action = data["action"]
        if action == "add":
            parent = _get(Problem, plan, data.get("parent"), "plan", "problem")
            row = services.add_goal(parent, request.user, text=data["text"])
            data["anchor"] = f"goal-{row.pk}"
            return
        row = _get(Goal, plan, data.get("row"), "plan", "goal")
        if action == "remove":
            services.remove_goal(row, request.user)
        else:
            services.change_goal(
                row, request.user, text=data["text"], status=data.get("status") or None
            )
            data["anchor"] = f"goal-{row.pk}"

    return _row_view(
        request, pk, plan_pk, form_class=GoalForm, title="The goal was not saved", act=act
    )


@staff_view(Perm.PLAN_WRITE)
def objective(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    def act(plan: TreatmentPlan, data: dict[str, Any]) -> None:
        action = data["action"]
        if action == "add":
            parent = _get(Goal, plan, data.get("parent"), "plan", "goal")
            row = services.add_objective(
                parent, request.user, text=data["text"], target_date=data.get("target_date")
            )
            data["anchor"] = f"objective-{row.pk}"
            return
        row = _get(Objective, plan, data.get("row"), "goal__plan", "objective")
        if action == "remove":
            services.remove_objective(row, request.user)
        else:
            services.change_objective(
                row,
                request.user,
                text=data["text"],
                target_date=data.get("target_date"),
                status=data.get("status") or None,
            )
            data["anchor"] = f"objective-{row.pk}"

    return _row_view(
        request,
        pk,
        plan_pk,
        form_class=ObjectiveForm,
        title="The objective was not saved",
        act=act,
    )


@staff_view(Perm.PLAN_WRITE)
def intervention(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    def act(plan: TreatmentPlan, data: dict[str, Any]) -> None:
        action = data["action"]
        if action == "add":
            parent = _get(Objective, plan, data.get("parent"), "goal__plan", "objective")
            services.add_intervention(
                parent,
                request.user,
                template=data.get("template"),
                description=data.get("description") or "",
                frequency=data["frequency"],
                responsible=data.get("responsible"),
            )
            data["anchor"] = f"objective-{parent.pk}"
            return
        row = _get(PlanIntervention, plan, data.get("row"), "objective__goal__plan", "intervention")
        if action == "remove":
            services.remove_intervention(row, request.user)
        else:
            description = data.get("description") or ""
            if not description.strip() and data.get("template") is not None:
                description = data["template"].description or data["template"].name
            services.change_intervention(
                row,
                request.user,
                description=description,
                frequency=data["frequency"],
                responsible=data.get("responsible"),
            )
        data["anchor"] = f"objective-{row.objective_id}"

    return _row_view(
        request,
        pk,
        plan_pk,
        form_class=InterventionForm,
        title="The intervention was not saved",
        act=act,
        form_kwargs=lambda plan: {"staff": _staff(plan)},
    )


# --- Signing ------------------------------------------------------------------------------


@staff_view(Perm.PLAN_WRITE)
def sign(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The clinician's review of the draft before signing (GET); POST signs and locks."""
    participant = _participant(request, pk, Perm.PLAN_WRITE)
    plan = _plan(participant, plan_pk)
    if plan.is_locked:
        if request.method == "POST":
            return _refused(request, participant, plan, "This version is already signed.")
        return redirect("plans:version", pk=participant.pk, plan_pk=plan.pk)
    error = ""
    status = 200
    form = SignForm(posted(request), initial={"version": plan.version})
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                services.sign_as_clinician(
                    plan, request.user, expected_version=form.cleaned_data["version"]
                )
            except (services.PlanError, SignedRecordError) as exc:
                error, status = str(exc), 409
            else:
                messages.success(
                    request,
                    "Signed and locked. Hand the tablet to the participant to sign, "
                    "or print the plan.",
                )
                return redirect("plans:version", pk=participant.pk, plan_pk=plan.pk)
    plan = _plan(participant, plan.pk)
    context = _plan_context(request, participant, plan)
    context.update({"missing": services.missing_for_signature(plan), "error": error, "form": form})
    return render(request, "plans/sign.html", context, status=status)


@staff_view(Perm.PLAN_WRITE)
def participant_sign(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The tablet page: the plan in plain language, large type, a signature pad and the
    typed name. The clinician who hands the tablet is signed in; the participant signs."""
    participant = _participant(request, pk, Perm.PLAN_WRITE)
    plan = _plan(participant, plan_pk)
    form = ParticipantSignForm(posted(request))
    error = ""
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                services.sign_as_participant(
                    plan,
                    request.user,
                    typed_name=form.cleaned_data["typed_name"],
                    image=form.cleaned_data["image"],
                )
            except services.PlanInputError as exc:
                form.add_error(None, str(exc))
                status = 400
            except (services.PlanError, SignedRecordError) as exc:
                error, status = str(exc), 409
            else:
                return redirect("plans:signed", pk=participant.pk, plan_pk=plan.pk)
    sigs = services.signatures_by_role(plan)
    if not error and request.method != "POST":
        if plan.status == PlanStatus.DRAFT:
            error = "The clinician signs the plan first."
        elif plan.status == PlanStatus.SUPERSEDED:
            error = "A newer version has been signed: sign that one."
        elif SignatureRole.PARTICIPANT in sigs:
            error = "The participant has already signed this version."
    context = _plan_context(request, participant, plan)
    context.update({"form": form, "error": error, "can_sign_here": not error})
    return render(request, "plans/tablet.html", context, status=status)


@staff_view(Perm.PLAN_WRITE)
def signed(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The tablet's thank-you page after the participant signs (nothing of the plan on
    it, so the tablet can be handed back)."""
    participant = _participant(request, pk, Perm.PLAN_WRITE)
    plan = _plan(participant, plan_pk)
    return render(request, "plans/tablet_done.html", {"participant": participant, "plan": plan})


@staff_view(Perm.PLAN_APPROVE)
def supervisor_sign(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.PLAN_APPROVE)
    plan = _plan(participant, plan_pk)
    error = ""
    status = 200
    form = SignForm(posted(request), initial={"version": plan.version})
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                services.sign_as_supervisor(
                    plan, request.user, expected_version=form.cleaned_data["version"]
                )
            except (services.PlanError, SignedRecordError) as exc:
                error, status = str(exc), 409
            else:
                messages.success(request, "Signed as supervisor.")
                return redirect("plans:version", pk=participant.pk, plan_pk=plan.pk)
    plan = _plan(participant, plan.pk)
    context = _plan_context(request, participant, plan)
    context.update({"error": error, "form": form})
    return render(request, "plans/supervise.html", context, status=status)


# --- Reviews due --------------------------------------------------------------------------


@staff_view(Perm.PLAN_WRITE, audit_page="plans.reviews")
def reviews(request: StaffRequest) -> HttpResponse:
    """Plan reviews overdue or due within a week: my caseload; the whole program, with
    a filter by counsellor, for a director or supervisor."""
    user = request.user
    programs = list(Program.objects.filter(pk__in=user.program_ids).order_by("name"))
    oversees = bool(user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR})
    counsellors = (
        list(
            User.objects.filter(
                primary_episodes__program__in=programs, primary_episodes__voided=False
            )
            .distinct()
            .order_by("last_name", "first_name", "pk")
        )
        if oversees
        else []
    )
    chosen = None
    raw = request.GET.get("counsellor", "")
    if oversees and raw:
        chosen = next((c for c in counsellors if str(c.pk) == raw), None)
    whose = chosen if oversees else user
    rows = services.reviews_due(programs, counsellor=whose) if programs else []
    visible = set(
        visible_participants(user)
        .filter(pk__in=[r.plan.participant_id for r in rows])
        .values_list("pk", flat=True)
    )
    rows = [r for r in rows if r.plan.participant_id in visible]
    awaiting: list[TreatmentPlan] = []
    if user.has_perm_code(Perm.PLAN_APPROVE) and programs:
        awaiting = list(
            services.plans_needing_supervisor(programs)
            .filter(participant__in=visible_participants(user))
            .exclude(clinician=user)[:200]
        )
    return render(
        request,
        "plans/reviews.html",
        {
            "rows": rows,
            "overdue": [r for r in rows if r.overdue],
            "soon": [r for r in rows if not r.overdue],
            "oversees": oversees,
            "counsellors": counsellors,
            "chosen": chosen,
            "awaiting": awaiting,
        },
    )
