"""Relapse-prevention plans: the plan in force, the draft editor, versions with what
changed, the clinician's signature, the participant's signature on a tablet, the PDF.

A refusal of a state change (a signed plan, a stale version, a plan not ready to sign)
answers 409 with the reason; an invalid form answers 400 with its errors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from openiop.core.access import StaffRequest, staff_view
from openiop.core.forms import posted
from openiop.core.models import SignedRecordError
from openiop.core.pdf import pdf_response
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Contact

from . import services
from .access import participant_for, plan_for
from .choices import SECTIONS, PlanStatus
from .diff import diff_plans
from .forms import ParticipantSignForm, PlanDraftForm, SignForm, StartForm
from .models import LOCKED, RelapsePlan
from .queries import content_of, current_plan, open_draft, with_support


def sections_of(plan: RelapsePlan) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "mine": mine, "items": getattr(plan, key)}
        for key, label, _prompt, mine in SECTIONS
    ]


def signatures_of(plan: RelapsePlan, participant: Any) -> list[dict[str, Any]]:
    """The signature block: the participant (typed name, drawn image) and the clinician."""
    return [
        {
            "role": "Participant",
            "name": plan.participant_signed_name or participant.display_name,
            "credential": "",
            "at": plan.participant_signed_at,
            "image": plan.participant_signature,
        },
        {
            "role": "Clinician",
            "name": plan.signed_name or "",
            "credential": plan.signed_credential,
            "at": plan.signed_at,
        },
    ]


def _previous(plan: RelapsePlan) -> RelapsePlan | None:
    if plan.previous_id is None:
        return None
    return with_support(RelapsePlan.objects.filter(pk=plan.previous_id)).first()


def _plan_page(
    request: StaffRequest,
    participant: Any,
    plan: RelapsePlan,
    *,
    error: str = "",
    status: int = 200,
    template: str = "relapse/version.html",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    previous = _previous(plan)
    return render(
        request,
        template,
        {
            "participant": participant,
            "plan": plan,
            "previous": previous,
            "sections": sections_of(plan),
            "diff": diff_plans(content_of(previous), content_of(plan)),  # type: ignore[arg-type]
            "signatures": signatures_of(plan, participant),
            "can_write": request.user.has_perm_code(Perm.PLAN_WRITE),
            "error": error,
            **(extra or {}),
        },
        status=status,
    )


@staff_view(Perm.CLINICAL_VIEW)
def current(request: StaffRequest, pk: int) -> HttpResponse:
    """The plan in force for the current episode, and a way to the draft."""
    participant = participant_for(request, pk, Perm.CLINICAL_VIEW, "relapse.current")
    episode = participant.current_episode
    plan = current_plan(episode)
    draft = open_draft(episode)
    return render(
        request,
        "relapse/current.html",
        {
            "participant": participant,
            "episode": episode,
            "plan": plan,
            "draft": draft,
            "sections": sections_of(plan) if plan else [],
            "signatures": signatures_of(plan, participant) if plan else [],
            "can_write": request.user.has_perm_code(Perm.PLAN_WRITE),
            "in_care": episode is not None and episode.status in IN_CARE,
        },
    )


@staff_view(Perm.PLAN_WRITE)
def new(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: what starting a version does. POST: start it (or return to the open draft)."""
    participant = participant_for(request, pk, Perm.PLAN_WRITE, "relapse.new")
    episode = participant.current_episode
    latest = current_plan(episode)
    draft = open_draft(episode)
    from_number = latest.number if latest else 0
    form = StartForm(posted(request), initial={"from_number": from_number})
    refusal = ""
    status = 200
    if episode is None or episode.status not in IN_CARE:
        refusal = (
            "Relapse-prevention plans are written for participants in care (admitted or active)."
        )
    if request.method == "POST":
        status = 400
        if refusal:
            status = 409
        elif form.is_valid():
            if draft is None and form.cleaned_data["from_number"] != from_number:
                refusal = (
                    f"Version {from_number} was signed since this page was opened: "
                    "review it, then start a new version from it."
                )
                status = 409
            else:
                try:
                    plan, created = services.start_draft(episode, actor=request.user)
                except services.RelapseError as exc:
                    refusal, status = str(exc), 409
                else:
                    if not created:
                        messages.info(request, "A draft was already open: here it is.")
                    return redirect("relapse:edit", pk=participant.pk, plan_pk=plan.pk)
    return render(
        request,
        "relapse/new.html",
        {
            "participant": participant,
            "latest": latest,
            "draft": draft,
            "form": form,
            "refusal": refusal,
            "next_number": (latest.number + 1) if latest else 1,
        },
        status=status,
    )


def _contacts(participant: Any) -> Any:
    return Contact.objects.filter(participant=participant, voided=False).order_by(
        "-is_support", "name", "pk"
    )


def _editor_initial(plan: RelapsePlan) -> dict[str, Any]:
    initial: dict[str, Any] = {"version": plan.version}
    for key, *_ in SECTIONS:
        initial[f"section_{key}"] = "\n".join(getattr(plan, key))
    people = list(plan.support_people.all())
    initial["support"] = [p.contact_id for p in people]
    for p in people:
        initial[f"role_{p.contact_id}"] = p.role
    return initial


@staff_view(Perm.PLAN_WRITE)
def edit(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    participant, plan = plan_for(request, pk, plan_pk, Perm.PLAN_WRITE, "relapse.edit")
    if plan.is_signed:
        if request.method == "POST":
            return _plan_page(
                request,
                participant,
                plan,
                error="This plan is signed and cannot change: start a new version instead.",
                status=409,
            )
        return redirect("relapse:version", pk=participant.pk, plan_pk=plan.pk)
    form = PlanDraftForm(
        posted(request), initial=_editor_initial(plan), contacts=_contacts(participant)
    )
    error = ""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                plan = services.save_draft(
                    plan,
                    actor=request.user,
                    sections=form.sections(),
                    support=form.support(),
                    expected_version=form.cleaned_data["version"],
                )
            except (services.RelapseError, SignedRecordError, StaleEdit) as exc:
                error, status = str(exc), 409
            else:
                if request.POST.get("action") == "sign":
                    return redirect("relapse:sign", pk=participant.pk, plan_pk=plan.pk)
                messages.success(request, "Draft saved.")
                return redirect("relapse:edit", pk=participant.pk, plan_pk=plan.pk)
    return render(
        request,
        "relapse/edit.html",
        {
            "participant": participant,
            "plan": plan,
            "form": form,
            "section_fields": [form[f"section_{key}"] for key, *_ in SECTIONS],
            "support_rows": form.support_rows(),
            "error": error,
        },
        status=status,
    )


@staff_view(Perm.CLINICAL_VIEW)
def versions(request: StaffRequest, pk: int) -> HttpResponse:
    participant = participant_for(request, pk, Perm.CLINICAL_VIEW, "relapse.versions")
    plans = list(
        RelapsePlan.objects.filter(participant=participant, voided=False)
        .select_related("episode", "created_by")
        .order_by("-episode__referral_date", "-episode_id", "-number")
    )
    return render(
        request,
        "relapse/versions.html",
        {
            "participant": participant,
            "plans": plans,
            "several_episodes": len({p.episode_id for p in plans}) > 1,
        },
    )


@staff_view(Perm.CLINICAL_VIEW)
def version(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    participant, plan = plan_for(request, pk, plan_pk)
    return _plan_page(request, participant, plan)


@staff_view(Perm.PLAN_WRITE)
def sign(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """GET: the draft to review, with what changed; POST: the clinician signs it."""
    participant, plan = plan_for(request, pk, plan_pk, Perm.PLAN_WRITE, "relapse.sign")
    form = SignForm(posted(request), initial={"version": plan.version})
    error = ""
    status = 200
    if plan.is_signed:
        error = "This plan is already signed; start a new version to change it."
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.sign_plan(
                    plan, actor=request.user, expected_version=form.cleaned_data["version"]
                )
            except (services.RelapseError, StaleEdit, SignedRecordError) as exc:
                error, status = str(exc), 409
            else:
                messages.success(
                    request,
                    f"Version {plan.number} is signed and locked. The participant can sign it now.",
                )
                return redirect("relapse:current", pk=participant.pk)
    else:
        try:
            services.check_complete(plan)
        except services.RelapseError as exc:
            error = str(exc)
    return _plan_page(
        request,
        participant,
        plan,
        error=error,
        status=status,
        template="relapse/sign.html",
        extra={"form": form},
    )


@staff_view(Perm.PLAN_WRITE)
def participant_sign(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The tablet page: the participant reads their plan, types their name and signs."""
    participant, plan = plan_for(request, pk, plan_pk, Perm.PLAN_WRITE, "relapse.participant_sign")
    form = ParticipantSignForm(posted(request))
    refusal = ""
    if plan.status == PlanStatus.DRAFT:
        refusal = "The clinician signs the plan first; then the participant."
    elif plan.status == PlanStatus.SUPERSEDED:
        refusal = "A newer version of this plan was signed: the participant signs that one."
    elif plan.participant_signed_at is not None:
        refusal = "The participant has already signed this plan."
    status = 409 if refusal and request.method == "POST" else 200
    if request.method == "POST" and not refusal:
        status = 400
        if form.is_valid():
            try:
                services.sign_as_participant(
                    plan,
                    actor=request.user,
                    typed_name=form.cleaned_data["typed_name"],
                    image=form.cleaned_data["signature"],
                )
            except services.RelapseError as exc:
                refusal, status = str(exc), 409
            else:
                messages.success(
                    request, "Thank you: the plan is signed. Please hand the tablet back."
                )
                return redirect("relapse:current", pk=participant.pk)
    return render(
        request,
        "relapse/participant_sign.html",
        {
            "participant": participant,
            "plan": plan,
            "sections": sections_of(plan),
            "form": form,
            "refusal": refusal,
        },
        status=status,
    )


@staff_view(Perm.CLINICAL_VIEW)
def plan_pdf(request: StaffRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The wallet-style plan the participant takes home: their words first, the phone
    numbers of their support people, the signatures."""
    participant, plan = plan_for(request, pk, plan_pk)
    return pdf_response(
        request,
        "relapse/pdf/plan.html",
        {
            "title": f"My relapse-prevention plan (version {plan.number})",
            "program_name": plan.program.name,
            "header_right": f"{participant.display_name} · {participant.record_number}",
            "participant": participant,
            "plan": plan,
            "sections": sections_of(plan),
            "support": list(plan.support_people.all()),
            "signatures": signatures_of(plan, participant),
            "locked": plan.status in LOCKED,
        },
        f"relapse-plan-{participant.record_number}-v{plan.number}",
    )
