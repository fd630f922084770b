"""Intake: the referral pipeline, a referral's page, contact attempts, pre-admission
screening, ASAM assessments and the guided admission. Views are thin: a form, the access
helper, one service call."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.forms import posted
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants import lifecycle
from openiop.participants.access import visible_participants
from openiop.participants.choices import PRE_ADMISSION, EpisodeStatus
from openiop.participants.models import Episode
from openiop.participants.views import clinical_staff
from openiop.programs.choices import LevelOfCare
from openiop.programs.models import Program

from . import asam, icd10, services
from .access import assessment_for, episode_for
from .choices import AssessmentKind, AssessmentStatus, Outcome
from .forms import (
    AdmissionForm,
    AssessmentForm,
    CloseForm,
    ContactForm,
    NewReferralForm,
    PreScreenForm,
    ReferralDetailsForm,
)
from .models import Assessment, ContactAttempt, PreScreen, Referral

# The board shows admissions of the last two weeks and closures of the last month, so the
# team sees what came of recent referrals; older ones are in the participant list.
ADMITTED_WINDOW_DAYS = 14
CLOSED_WINDOW_DAYS = 30
BOARD_LIMIT = 300
# Median days from referral to admission, over admissions of the last quarter.
TIME_TO_ADMIT_WINDOW_DAYS = 90

COLUMNS = [
    ("new", "New", "Not yet contacted"),
    ("contacting", "Contacting", "Contact attempted, not yet screened"),
    ("screening", "Screening", "Pre-admission screening under way"),
    ("assessed", "Assessed", "Assessment signed: admit or close"),
    ("admitted", "Admitted", f"Admitted in the last {ADMITTED_WINDOW_DAYS} days"),
    ("closed", "Closed", f"Not admitted or referred elsewhere, last {CLOSED_WINDOW_DAYS} days"),
]


def _column(ep: Any) -> str:
    if ep.status == EpisodeStatus.REFERRED:
        return "contacting" if ep.attempt_count else "new"
    if ep.status in (EpisodeStatus.SCREENING, EpisodeStatus.ASSESSED):
        return str(ep.status)
    if ep.status in (EpisodeStatus.NOT_ADMITTED, EpisodeStatus.REFERRED_ELSEWHERE):
        return "closed"
    return "admitted"


@staff_view(Perm.INTAKE_VIEW, audit_page="intake.board")
def board(request: StaffRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    mine = request.GET.get("mine") == "1"
    flagged = PreScreen.objects.filter(episode=OuterRef("pk"), fits=False, voided=False)
    qs = (
        Episode.objects.filter(voided=False, participant__in=visible_participants(user))
        .filter(
            Q(status__in=PRE_ADMISSION)
            | Q(
                status__in=[EpisodeStatus.ADMITTED, EpisodeStatus.ACTIVE],
                admission_date__gte=today - dt.timedelta(days=ADMITTED_WINDOW_DAYS),
            )
            | Q(
                status__in=[EpisodeStatus.NOT_ADMITTED, EpisodeStatus.REFERRED_ELSEWHERE],
                status_date__gte=today - dt.timedelta(days=CLOSED_WINDOW_DAYS),
            )
        )
        .select_related("participant", "referral", "referral__assigned_to")
        .annotate(
            attempt_count=Count("referral__attempts"),
            last_attempt=Max("referral__attempts__at"),
            flagged=Exists(flagged),
        )
        .order_by("referral_date", "pk")
    )
    if mine:
        qs = qs.filter(referral__assigned_to=user)
    episodes = list(qs[:BOARD_LIMIT])
    columns: dict[str, list[dict[str, Any]]] = {key: [] for key, _, _ in COLUMNS}
    for ep in episodes:
        referral = getattr(ep, "referral", None)
        columns[_column(ep)].append(
            {
                "episode": ep,
                "participant": ep.participant,
                "referral": referral,
                "waiting": (today - ep.referral_date).days,
                "days_to_admission": referral.days_to_admission if referral else None,
            }
        )
    recent = list(
        Referral.objects.filter(
            program_id__in=user.program_ids,
            outcome=Outcome.ADMITTED,
            closed_at__gte=timezone.now() - dt.timedelta(days=TIME_TO_ADMIT_WINDOW_DAYS),
            days_to_admission__isnull=False,
            voided=False,
        ).values_list("days_to_admission", flat=True)
    )
    recent_days = [d for d in recent if d is not None]
    context = {
        "columns": [
            {"key": key, "title": title, "help": help_, "cards": columns[key]}
            for key, title, help_ in COLUMNS
        ],
        "truncated": len(episodes) >= BOARD_LIMIT,
        "limit": BOARD_LIMIT,
        "mine": mine,
        "median_days": statistics.median(recent_days) if recent_days else None,
        "admitted_count": len(recent_days),
        "window": TIME_TO_ADMIT_WINDOW_DAYS,
        "can_manage": user.has_perm_code(Perm.INTAKE_MANAGE),
    }
    return render(request, "intake/board.html", context)


@staff_view(Perm.INTAKE_MANAGE, audit_page="intake.new")
def referral_new(request: StaffRequest) -> HttpResponse:
    user = request.user
    programs = Program.objects.filter(pk__in=user.program_ids, retired=False)
    program = programs.first()
    staff = clinical_staff(program) if program else clinical_staff(None)
    form = NewReferralForm(posted(request), programs=programs, staff=staff)
    duplicates: list[Any] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        participant = None
        duplicates = list(
            services.possible_duplicates(
                sorted(user.program_ids),
                last_name=data["legal_last_name"],
                date_of_birth=data["date_of_birth"],
            )
        )
        existing = data.get("existing")
        if existing is not None:
            participant = next((p for p in duplicates if p.pk == existing), None)
            if participant is None:
                form.add_error(None, "Choose one of the records listed, or register a new person.")
        elif duplicates and not data.get("confirm_new"):
            form.add_error(
                None,
                "Someone with this surname and date of birth is already on record. Link the "
                "referral to their record, or confirm this is a different person.",
            )
        if not form.errors:
            try:
                referral = services.create_referral(
                    actor=user,
                    program=data["program"],
                    referral_source=data["referral_source"],
                    referral_date=data["referral_date"],
                    details={k: data[k] for k in services.REFERRAL_FIELDS},
                    identity=None if participant else form.identity(),
                    participant=participant,
                )
            except services.IntakeRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Referral recorded.")
                return redirect("intake:referral", episode_pk=referral.episode_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "intake/referral_new.html",
        {"form": form, "duplicates": duplicates},
        status=status,
    )


def _closed_refusal(episode: Episode) -> str | None:
    """Referral details, contact attempts and closing are for referrals still open."""
    if episode.status in PRE_ADMISSION:
        return None
    return f"This referral is no longer open ({episode.get_status_display()})."


@staff_view(Perm.INTAKE_VIEW)
def referral(request: StaffRequest, episode_pk: int) -> HttpResponse:
    participant, episode = episode_for(
        request, episode_pk, Perm.INTAKE_VIEW, what="intake.referral"
    )
    user = request.user
    ref = Referral.objects.select_related("assigned_to").filter(episode=episode).first()
    attempts = list(ContactAttempt.objects.filter(referral=ref)) if ref else []
    screens = list(PreScreen.objects.filter(episode=episode, voided=False)[:5])
    assessments = list(Assessment.objects.filter(episode=episode, voided=False))
    signed = next((a for a in assessments if a.is_signed), None)
    draft = next((a for a in assessments if not a.is_signed), None)
    can_manage = user.has_perm_code(Perm.INTAKE_MANAGE)
    context = {
        "participant": participant,
        "episode": episode,
        "referral": ref,
        "attempts": attempts,
        "screens": screens,
        "latest_screen": screens[0] if screens else None,
        "assessments": assessments,
        "signed": signed,
        "draft": draft,
        "open": episode.status in PRE_ADMISSION,
        "can_manage": can_manage,
        "can_assess": user.has_perm_code(Perm.ASSESSMENT_WRITE),
        "can_admit": can_manage
        and user.has_perm_code(Perm.EPISODE_TRANSITION)
        and episode.status == EpisodeStatus.ASSESSED,
        "contact_form": ContactForm(),
        "waiting": (participant.program.today() - episode.referral_date).days,
    }
    return render(request, "intake/referral.html", context)


@staff_view(Perm.INTAKE_MANAGE)
def referral_edit(request: StaffRequest, episode_pk: int) -> HttpResponse:
    participant, episode = episode_for(
        request, episode_pk, Perm.INTAKE_MANAGE, what="intake.referral"
    )
    refusal = _closed_refusal(episode)
    if refusal:
        return render(
            request,
            "intake/referral_edit.html",
            {"participant": participant, "episode": episode, "refusal": refusal},
            status=409,
        )
    ref = services.referral_for(episode, actor=request.user)
    form = ReferralDetailsForm(
        posted(request),
        instance=ref,
        initial={"version": ref.version},
        staff=clinical_staff(episode.program),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_referral(
                ref,
                actor=request.user,
                changes={k: form.cleaned_data[k] for k in services.REFERRAL_FIELDS},
                expected_version=form.cleaned_data.get("version") or 0,
            )
        except (StaleEdit, services.IntakeRefused) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Referral details saved.")
            return redirect("intake:referral", episode_pk=episode_pk)
    return render(
        request,
        "intake/referral_edit.html",
        {"form": form, "participant": participant, "episode": episode},
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.INTAKE_MANAGE)
def contact(request: StaffRequest, episode_pk: int) -> HttpResponse:
    participant, episode = episode_for(
        request, episode_pk, Perm.INTAKE_MANAGE, what="intake.referral"
    )
    form = ContactForm(posted(request))
    refusal = _closed_refusal(episode)
    if request.method == "POST" and refusal is None and form.is_valid():
        ref = services.referral_for(episode, actor=request.user)
        try:
            services.log_contact(
                ref,
                actor=request.user,
                method=form.cleaned_data["method"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except services.IntakeRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Contact attempt logged.")
            return redirect("intake:referral", episode_pk=episode_pk)
    return render(
        request,
        "intake/simple_form.html",
        {
            "form": form,
            "participant": participant,
            "episode": episode,
            "title": "Log a contact attempt",
            "submit": "Log attempt",
            "refusal": refusal,
        },
        status=409 if refusal else (400 if request.method == "POST" else 200),
    )


@staff_view(Perm.INTAKE_MANAGE)
def close(request: StaffRequest, episode_pk: int) -> HttpResponse:
    participant, episode = episode_for(
        request, episode_pk, Perm.INTAKE_MANAGE, what="intake.referral"
    )
    form = CloseForm(posted(request), initial={"effective_date": episode.program.today()})
    refusal = _closed_refusal(episode)
    if request.method == "POST" and refusal is None and form.is_valid():
        data = form.cleaned_data
        try:
            # A refused close leaves no empty referral behind for an episode without one.
            with transaction.atomic():
                ref = services.referral_for(episode, actor=request.user)
                services.close_referral(
                    ref,
                    actor=request.user,
                    outcome=data["outcome"],
                    effective_date=data["effective_date"],
                    reason_code=data["not_admitted_reason"],
                    referred_to=data["referred_to"],
                    note=data["note"],
                )
        except (services.IntakeRefused, lifecycle.TransitionRefused) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Referral closed.")
            return redirect("intake:referral", episode_pk=episode_pk)
    status = 409 if refusal else (400 if request.method == "POST" else 200)
    return render(
        request,
        "intake/close.html",
        {"form": form, "participant": participant, "episode": episode, "refusal": refusal},
        status=status,
    )


@staff_view(Perm.INTAKE_MANAGE)
def prescreen(request: StaffRequest, episode_pk: int) -> HttpResponse:
    participant, episode = episode_for(
        request, episode_pk, Perm.INTAKE_MANAGE, what="intake.prescreen"
    )
    form = PreScreenForm(posted(request), initial={"screened_on": episode.program.today()})
    refusal = None
    if episode.status not in PRE_ADMISSION:
        refusal = "Pre-admission screening is for referrals not yet admitted."
    if request.method == "POST" and refusal is None and form.is_valid():
        try:
            screen = services.record_prescreen(
                episode,
                actor=request.user,
                answers=form.answers(),
                screened_on=form.cleaned_data["screened_on"],
                note=form.cleaned_data["note"],
            )
        except (ValueError, services.IntakeRefused, lifecycle.TransitionRefused) as exc:
            form.add_error(None, str(exc))
        else:
            if screen.fits:
                messages.success(request, "Screening recorded: nothing points away from IOP.")
            else:
                messages.warning(
                    request,
                    "Screening recorded. Some answers point to another level of care: "
                    "review the flags before the assessment.",
                )
            return redirect("intake:referral", episode_pk=episode_pk)
    status = 409 if refusal else (400 if request.method == "POST" else 200)
    return render(
        request,
        "intake/prescreen.html",
        {"form": form, "participant": participant, "episode": episode, "refusal": refusal},
        status=status,
    )


def _edition(episode: Any) -> str:
    return asam.edition_of(episode.level_of_care or episode.program.level_of_care)


@staff_view(Perm.ASSESSMENT_WRITE)
def assessment_new(request: StaffRequest, episode_pk: int) -> HttpResponse:
    participant, episode = episode_for(
        request, episode_pk, Perm.ASSESSMENT_WRITE, what="intake.assessment"
    )
    draft = Assessment.objects.filter(
        episode=episode, status=AssessmentStatus.DRAFT, voided=False
    ).first()
    if draft is not None:
        return redirect("intake:assessment_edit", pk=draft.pk)
    edition = _edition(episode)
    form = AssessmentForm(
        posted(request),
        edition=edition,
        initial={"assessed_on": episode.program.today(), "form_source": "openiop"},
    )
    refusal = None
    if not episode.is_open:
        refusal = "This episode is closed: assessments are kept as they were."
    if request.method == "POST" and refusal is None and form.is_valid():
        kind = (
            AssessmentKind.INITIAL
            if episode.status in PRE_ADMISSION
            else AssessmentKind.REASSESSMENT
        )
        assessment = services.start_assessment(
            episode, actor=request.user, values=form.values(), kind=kind, edition=edition
        )
        if request.POST.get("action") == "sign":
            return _sign(request, assessment, form)
        messages.success(request, "Draft saved. Nothing is final until you sign.")
        return redirect("intake:assessment_edit", pk=assessment.pk)
    status = 409 if refusal else (400 if request.method == "POST" else 200)
    return render(
        request,
        "intake/assessment_form.html",
        _assessment_context(form, participant, episode, None, refusal),
        status=status,
    )


def _assessment_context(
    form: AssessmentForm, participant: Any, episode: Any, assessment: Any, refusal: Any
) -> dict[str, Any]:
    edition = form.edition
    return {
        "form": form,
        "participant": participant,
        "episode": episode,
        "assessment": assessment,
        "refusal": refusal,
        "rules": asam.rules_table(edition),
        "edition": edition,
        "program_level": episode.program.get_level_of_care_display(),
    }


def _sign(request: StaffRequest, assessment: Assessment, form: AssessmentForm) -> HttpResponse:
    try:
        services.sign_assessment(
            assessment,
            actor=request.user,
            values=form.values(),
            expected_version=assessment.version,
        )
    except (services.IntakeRefused, StaleEdit, lifecycle.TransitionRefused) as exc:
        messages.error(request, f"Saved as a draft, not signed: {exc}")
        return redirect("intake:assessment_edit", pk=assessment.pk)
    messages.success(request, "Assessment signed.")
    return redirect("intake:assessment", pk=assessment.pk)


@staff_view(Perm.ASSESSMENT_WRITE)
def assessment_edit(request: StaffRequest, pk: int) -> HttpResponse:
    participant, episode, assessment = assessment_for(request, pk, Perm.ASSESSMENT_WRITE)
    if assessment.is_signed:
        messages.info(request, "This assessment is signed and can no longer change.")
        return redirect("intake:assessment", pk=pk)
    initial = {
        "assessed_on": assessment.assessed_on,
        "form_source": assessment.form_source,
        "licensed_tool": assessment.licensed_tool,
        "licensed_reference": assessment.licensed_reference,
        "summary": assessment.summary,
        "chosen_level": assessment.chosen_level,
        "override_reason": assessment.override_reason,
        "version": assessment.version,
    }
    for n in range(1, 7):
        rating = getattr(assessment, f"rating_{n}")
        initial[f"rating_{n}"] = "" if rating is None else str(rating)
        initial[f"narrative_{n}"] = getattr(assessment, f"narrative_{n}")
    form = AssessmentForm(posted(request), edition=assessment.edition, initial=initial)
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data.get("version") or 0
        try:
            if request.POST.get("action") == "sign":
                services.sign_assessment(
                    assessment, actor=request.user, values=form.values(), expected_version=version
                )
                messages.success(request, "Assessment signed.")
                return redirect("intake:assessment", pk=pk)
            services.save_assessment(
                assessment, actor=request.user, values=form.values(), expected_version=version
            )
        except (services.IntakeRefused, StaleEdit, lifecycle.TransitionRefused) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Draft saved. Nothing is final until you sign.")
            return redirect("intake:assessment_edit", pk=pk)
    assessment.refresh_from_db()
    return render(
        request,
        "intake/assessment_form.html",
        _assessment_context(form, participant, episode, assessment, None),
        status=400 if request.method == "POST" else 200,
    )


@staff_view(Perm.CLINICAL_VIEW)
def assessment_detail(request: StaffRequest, pk: int) -> HttpResponse:
    participant, episode, assessment = assessment_for(request, pk, Perm.CLINICAL_VIEW)
    dims = asam.DIMENSIONS[assessment.edition]
    fired = set(assessment.rules_fired)
    rules = list(asam.RULES[assessment.edition])
    rows = [
        {
            "dimension": d,
            "rating": assessment.ratings[d.number - 1],
            "narrative": assessment.narratives[d.number - 1],
        }
        for d in dims
    ]
    return render(
        request,
        "intake/assessment_detail.html",
        {
            "participant": participant,
            "episode": episode,
            "assessment": assessment,
            "rows": rows,
            "rules": [
                {"rule": r, "fired": r.code in fired, "level": LevelOfCare(r.level).label}
                for r in rules
            ],
            "can_edit": request.user.has_perm_code(Perm.ASSESSMENT_WRITE)
            and not assessment.is_signed,
        },
    )


@staff_view(Perm.INTAKE_MANAGE)
def admit(request: StaffRequest, episode_pk: int) -> HttpResponse:
    participant, episode = episode_for(request, episode_pk, Perm.INTAKE_MANAGE, what="intake.admit")
    user = request.user
    require_perm(request, Perm.EPISODE_TRANSITION, what="intake.admit")
    program = episode.program
    staff = clinical_staff(program)
    assessment = (
        Assessment.objects.filter(episode=episode, status=AssessmentStatus.SIGNED, voided=False)
        .order_by("-signed_at")
        .first()
    )
    today = program.today()
    initial: dict[str, Any] = {
        "version": participant.version,
        "admission_date": today,
        "consent_signed_on": today,
        "notice_given_on": today,
        "level_of_care": (assessment.chosen_level if assessment else "") or program.level_of_care,
        "primary_diagnosis": 0,
    }
    if episode.track_id:
        initial["track"] = episode.track_id
    if episode.primary_counsellor_id:
        initial["primary_counsellor"] = episode.primary_counsellor_id
    form = AdmissionForm(
        posted(request), initial=initial, program=program, staff=staff, participant=participant
    )
    refusal = None
    if episode.status != EpisodeStatus.ASSESSED or assessment is None:
        refusal = (
            "Admission follows a signed ASAM assessment. This referral is "
            f"{episode.get_status_display()}"
            + ("" if assessment else " and has no signed assessment")
            + "."
        )
    if request.method == "POST" and refusal is None and form.is_valid():
        data = form.cleaned_data
        diagnoses = [
            services.DiagnosisInput(
                code=data[f"dx_code_{i}"],
                description=data[f"dx_description_{i}"],
                primary=i == data["primary_diagnosis"],
            )
            for i in range(4)
            if data.get(f"dx_code_{i}")
        ]
        try:
            services.admit(
                episode,
                actor=user,
                identity=form.identity(),
                level_of_care=data["level_of_care"],
                track=data["track"],
                primary_counsellor=data["primary_counsellor"],
                admission_date=data["admission_date"],
                diagnoses=diagnoses,
                consent_signed_on=data["consent_signed_on"],
                consent_signature=data["consent_signature"],
                notice_given_on=data["notice_given_on"],
                notice_acknowledged=data["notice_acknowledged"],
                level_reason=data["level_reason"],
                participant_version=data["version"],
            )
        except (services.IntakeRefused, StaleEdit, lifecycle.TransitionRefused) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{participant.display_name} is admitted.")
            return redirect("participants:chart", pk=participant.pk)
    status = 409 if refusal else (400 if request.method == "POST" else 200)
    return render(
        request,
        "intake/admit.html",
        {
            "form": form,
            "participant": participant,
            "episode": episode,
            "assessment": assessment,
            "refusal": refusal,
            "catalogue": icd10.CATALOGUE.items(),
        },
        status=status,
    )
