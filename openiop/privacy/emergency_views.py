"""Break-the-glass pages: the form a counsellor sees outside their care team, and the
compliance review of every emergency access (ONC 170.315(d)(6))."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from openiop.core import audit
from openiop.core.access import StaffRequest, is_signed_in, require_perm, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.models import AuditEvent
from openiop.core.roles import Perm
from openiop.participants.access import visible_participants
from openiop.participants.models import Participant

from . import emergency
from .forms import BreakGlassForm, EndForm, ReviewForm
from .models import EmergencyAccess


def _in_program(request: StaffRequest, pk: int) -> Participant:
    try:
        return Participant.objects.select_related("program").get(
            pk=pk, voided=False, program_id__in=request.user.program_ids
        )
    except (Participant.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such participant in your programs") from None


def _safe_next(request: HttpRequest, participant: Participant, value: str) -> str:
    chart = reverse("participants:chart", args=[participant.pk])
    prefix = f"/participants/{participant.pk}/"
    if (
        value
        and value.startswith(prefix)
        and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()})
    ):
        return value
    return chart


def break_glass_page(
    request: HttpRequest, pk: int, form: BreakGlassForm | None = None, *, status: int = 403
) -> HttpResponse:
    """The form, shown in place of a participant page outside the user's care team (403),
    or opened on purpose (200)."""
    if not is_signed_in(request):
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    participant = _in_program(request, pk)
    next_url = request.get_full_path() if form is None else form.data.get("next", "")
    form = form or BreakGlassForm(initial={"next": next_url})
    audit.record(
        AuditAction.DENIED if status == 403 else AuditAction.VIEW,
        actor=request.user,
        object_type="privacy.break_glass",
        participant_id=participant.pk,
        reason="outside the care team",
    )
    return render(
        request,
        "privacy/break_glass.html",
        {"participant": participant, "form": form},
        status=status,
    )


@staff_view(Perm.EMERGENCY_ACCESS)
def break_glass(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _in_program(request, pk)
    if visible_participants(request.user).filter(pk=participant.pk).exists():
        active = EmergencyAccess.objects.filter(
            user=request.user,
            participant=participant,
            ended_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).first()
        if active and request.method == "POST" and "end" in request.POST:
            emergency.end(active, user=request.user)
            messages.success(request, "Emergency access ended.")
            return redirect("participants:list")
        # Either running under a grant, or on the care team already: nothing to break.
        if active is not None:
            audit.record(AuditAction.VIEW, actor=request.user, obj=active)
        else:
            audit.record(
                AuditAction.VIEW,
                actor=request.user,
                object_type="privacy.break_glass",
                participant_id=participant.pk,
            )
        return render(
            request,
            "privacy/break_glass_active.html",
            {"participant": participant, "access": active, "end_form": EndForm()},
        )
    form = BreakGlassForm(posted(request))
    if request.method != "POST":
        return break_glass_page(
            request, participant.pk, BreakGlassForm(initial={"next": ""}), status=200
        )
    if form.is_valid():
        try:
            access = emergency.grant(
                participant,
                user=request.user,
                reason_kind=form.cleaned_data["reason_kind"],
                reason=form.cleaned_data["reason"],
                minutes=form.cleaned_data["minutes"],
            )
        except emergency.EmergencyAccessError as exc:
            for field, message in exc.problems.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            until = timezone.localtime(access.expires_at)
            messages.warning(
                request,
                f"Emergency access until {until:%-I:%M %p}. Every page you open is recorded "
                "and reviewed by compliance.",
            )
            return redirect(_safe_next(request, participant, form.cleaned_data.get("next", "")))
    return render(
        request,
        "privacy/break_glass.html",
        {"participant": participant, "form": form},
        status=400,
    )


def _reviewable(request: StaffRequest):
    return EmergencyAccess.objects.filter(
        participant__program_id__in=request.user.program_ids
    ).select_related("user", "participant", "reviewed_by")


@staff_view(Perm.EMERGENCY_REVIEW, audit_page="privacy.emergency_list")
def review_list(request: StaffRequest) -> HttpResponse:
    show = request.GET.get("show", "to_review")
    qs = _reviewable(request)
    if show == "to_review":
        qs = qs.filter(reviewed_at__isnull=True)
    elif show == "reviewed":
        qs = qs.filter(reviewed_at__isnull=False)
    else:
        show = "all"
    page = Paginator(qs.order_by("-started_at", "-id"), 50).get_page(request.GET.get("page"))
    grants = list(page.object_list)
    reasons = [f"emergency access #{g.pk}" for g in grants]
    counts = dict(
        AuditEvent.objects.filter(reason__in=reasons)
        .values_list("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
    )
    rows = [(g, counts.get(f"emergency access #{g.pk}", 0)) for g in grants]
    return render(
        request,
        "privacy/emergency_list.html",
        {"page": page, "rows": rows, "show": show, "now": timezone.now()},
    )


@staff_view(Perm.EMERGENCY_REVIEW)
def review(request: StaffRequest, access_pk: int) -> HttpResponse:
    try:
        access = _reviewable(request).get(pk=access_pk)
    except (EmergencyAccess.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such emergency access in your programs") from None
    require_perm(request, Perm.EMERGENCY_REVIEW)
    form = ReviewForm(posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                emergency.review(access, reviewer=request.user, note=form.cleaned_data["note"])
            except emergency.EmergencyAccessError as exc:
                form.add_error(None, " ".join(exc.problems.values()))
                status = 409
            else:
                messages.success(request, "Review recorded.")
                return redirect("privacy:emergency_list")
    else:
        audit.record(AuditAction.VIEW, actor=request.user, obj=access)
    events = list(
        AuditEvent.objects.filter(reason=f"emergency access #{access.pk}").order_by("at", "id")[
            :500
        ]
    )
    return render(
        request,
        "privacy/emergency_review.html",
        {"access": access, "events": events, "form": form, "now": timezone.now()},
        status=status,
    )
