"""Amendment requests (HIPAA §164.526, ONC 170.315(d)(4)): a participant's requests and
their decisions, the compliance worklist of requests waiting for a decision.

Reading needs clinical.view or consent.view: a compliance officer (consent.view, no
clinical.view) handles requests without reading the notes they concern, so the record
is named by its label and linked only for those who may open it. Logging a request and
filing a statement of disagreement need amendment.record; accepting, denying and voiding
need amendment.decide.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.core import audit
from openiop.core.access import AccessDenied, StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.roles import Perm, roles_with
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant

from . import amendment_services as services
from .amendment_forms import AcceptForm, DenyForm, DisagreementForm, RequestForm, VoidForm
from .choices import AmendmentStatus
from .models import AmendmentRequest

READ_PERMS = (Perm.CLINICAL_VIEW, Perm.CONSENT_VIEW)
WORKLIST_LIMIT = 200

# Who may open each kind of record a request names (the link on the request's page).
TARGET_LINKS: dict[str, tuple[str, str]] = {
    # record type → (the permission to open it, its page)
    "notes.note": (Perm.CLINICAL_VIEW, "notes:detail"),
    "plans.treatmentplan": (Perm.CLINICAL_VIEW, "plans:version"),
    "intake.assessment": (Perm.CLINICAL_VIEW, "intake:assessment"),
    "instruments.instrumentresponse": (Perm.CLINICAL_VIEW, "measures:response"),
    "screening.order": (Perm.SCREENING_VIEW, "participant_screening:order"),
}


def can_read(user: Any) -> bool:
    return any(user.has_perm_code(p) for p in READ_PERMS)


def require_reader(request: StaffRequest) -> None:
    """403 (audited) unless the user holds clinical.view or consent.view."""
    if can_read(request.user):
        return
    audit.record(
        AuditAction.DENIED,
        actor=request.user,
        object_type="privacy.amendmentrequest",
        object_id=" or ".join(READ_PERMS),
        reason="missing permission",
    )
    holders = sorted({r for p in READ_PERMS for r in roles_with(p)})
    raise AccessDenied(
        "Your roles do not allow this: amendment requests are read with “"
        f"{Perm.CLINICAL_VIEW.label}” or “{Perm.CONSENT_VIEW.label}”. Roles that can: "
        f"{', '.join(holders)}. Ask an administrator if your work needs it."
    )


def reader_view(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """`staff_view` for the reading pages: signed in, then clinical.view or consent.view."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        require_reader(request)  # type: ignore[arg-type]
        return view(request, *args, **kwargs)

    return staff_view(None)(checked)


def _participant(request: StaffRequest, pk: int, perm: str | None = None) -> Participant:
    user = request.user
    if perm is None:
        perm = Perm.CONSENT_VIEW if user.has_perm_code(Perm.CONSENT_VIEW) else Perm.CLINICAL_VIEW
    return get_participant_for(request, pk, perm, what="privacy.amendmentrequest")


def _request(participant: Participant, request_pk: int) -> AmendmentRequest:
    try:
        return AmendmentRequest.objects.select_related("decided_by", "created_by").get(
            pk=request_pk, participant=participant, voided=False
        )
    except AmendmentRequest.DoesNotExist:
        raise Http404("No such amendment request for this participant") from None


def target_url(amendment: AmendmentRequest, user: Any) -> str:
    """The record's page, for a user who may open it; "" otherwise."""
    link = TARGET_LINKS.get(amendment.target_type)
    if link is None or not amendment.target_id.isdigit():
        return ""
    perm, name = link
    if not user.has_perm_code(perm):
        return ""
    pk, target = amendment.participant_id, int(amendment.target_id)
    if name == "intake:assessment":
        return reverse(name, args=[target])
    return reverse(name, args=[pk, target])


@reader_view
def request_list(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    rows = services.with_due(
        AmendmentRequest.objects.filter(participant=participant, voided=False)
        .select_related("decided_by")
        .order_by("-received_on", "-pk"),
        participant.program.today(),
    )
    return render(
        request,
        "privacy/amendments/list.html",
        {
            "participant": participant,
            "rows": rows,
            "can_record": request.user.has_perm_code(Perm.AMENDMENT_RECORD),
        },
    )


@staff_view(Perm.AMENDMENT_RECORD)
def new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk, Perm.AMENDMENT_RECORD)
    today = participant.program.today()
    targets = services.targets_for(participant)
    form = RequestForm(posted(request), choices=services.target_choices(targets), today=today)
    if request.method == "GET":
        form.initial.update({"received_on": today, "requested_by": participant.display_name})
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            amendment = services.log_request(
                participant,
                actor=request.user,
                received_on=data["received_on"],
                requested_by=data["requested_by"],
                target=data["target"],
                other_label=data["other_label"],
                requested_change=data["requested_change"],
            )
        except services.AmendmentError as exc:
            refusal = str(exc)
        else:
            messages.success(
                request,
                f"Request logged. A decision is due by {services.due_by(amendment):%b %-d, %Y}.",
            )
            return redirect("amendments:detail", pk=participant.pk, request_pk=amendment.pk)
    return render(
        request,
        "privacy/amendments/new.html",
        {"participant": participant, "form": form, "refusal": refusal},
        status=409 if refusal else 400 if request.method == "POST" else 200,
    )


def _detail(
    request: StaffRequest,
    participant: Participant,
    amendment: AmendmentRequest,
    *,
    bound: tuple[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    services.with_due([amendment], participant.program.today())
    forms: dict[str, Any] = {
        "accept_form": AcceptForm(),
        "deny_form": DenyForm(),
        "disagreement_form": DisagreementForm(),
        "void_form": VoidForm(),
    }
    context: dict[str, Any] = {}
    if bound is not None:
        forms[bound[0]] = bound[1]
        context["form"] = bound[1]  # the form that was posted (its errors are shown)
        context["posted"] = bound[0]
    pending = amendment.status == AmendmentStatus.PENDING
    can_decide = user.has_perm_code(Perm.AMENDMENT_DECIDE)
    context.update(
        {
            "participant": participant,
            "amendment": amendment,
            "target_url": target_url(amendment, user),
            "error": error,
            "can_decide": can_decide and pending,
            "can_void": can_decide,
            "can_disagree": user.has_perm_code(Perm.AMENDMENT_RECORD)
            and amendment.status == AmendmentStatus.DENIED
            and not amendment.disagreement,
            **forms,
        }
    )
    return render(request, "privacy/amendments/detail.html", context, status=status)


@reader_view
def detail(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    return _detail(request, participant, _request(participant, request_pk))


def _act(
    request: StaffRequest,
    pk: int,
    request_pk: int,
    perm: str,
    key: str,
    form_class: type,
    act: Callable[[AmendmentRequest, Any, dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """GET shows the request; POST validates `form_class` (400), calls `act` (409 on a
    refusal) and goes back to the request."""
    participant = _participant(request, pk, perm)
    amendment = _request(participant, request_pk)
    if request.method != "POST":
        return _detail(request, participant, amendment)
    form = form_class(request.POST)
    if not form.is_valid():
        return _detail(request, participant, amendment, bound=(key, form), status=400)
    try:
        act(amendment, request.user, form.cleaned_data)
    except services.AmendmentError as exc:
        amendment = _request(participant, request_pk)
        return _detail(
            request, participant, amendment, bound=(key, form), error=str(exc), status=409
        )
    messages.success(request, done)
    if key == "void_form":
        return redirect("amendments:list", pk=participant.pk)
    return redirect("amendments:detail", pk=participant.pk, request_pk=amendment.pk)


@staff_view(Perm.AMENDMENT_DECIDE)
def accept(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        request_pk,
        Perm.AMENDMENT_DECIDE,
        "accept_form",
        AcceptForm,
        lambda a, user, data: services.accept(a, actor=user, amendment_text=data["amendment_text"]),
        "Accepted: the amendment is now shown with the record. Tell the participant, and "
        "the people they named who should know (HIPAA §164.526(c)).",
    )


@staff_view(Perm.AMENDMENT_DECIDE)
def deny(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        request_pk,
        Perm.AMENDMENT_DECIDE,
        "deny_form",
        DenyForm,
        lambda a, user, data: services.deny(
            a, actor=user, ground=data["ground"], explanation=data["explanation"]
        ),
        "Denied: the request and the reason are shown with the record. Give the "
        "participant the written denial (HIPAA §164.526(d)).",
    )


@staff_view(Perm.AMENDMENT_RECORD)
def disagreement(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        request_pk,
        Perm.AMENDMENT_RECORD,
        "disagreement_form",
        DisagreementForm,
        lambda a, user, data: services.add_disagreement(a, actor=user, text=data["text"]),
        "The statement of disagreement is filed and shown with the record.",
    )


@staff_view(Perm.AMENDMENT_DECIDE)
def void(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        request_pk,
        Perm.AMENDMENT_DECIDE,
        "void_form",
        VoidForm,
        lambda a, user, data: services.void_request(a, actor=user, reason=data["reason"]),
        "The request was voided.",
    )


def pending_requests(user: Any, limit: int) -> tuple[list[AmendmentRequest], int]:
    """The oldest requests waiting for a decision among the participants the user may
    see, and how many there are: one query (the total is a window count)."""
    from django.db.models import Count, Window

    rows = list(
        AmendmentRequest.objects.filter(
            status=AmendmentStatus.PENDING,
            voided=False,
            participant__in=visible_participants(user),
        )
        .select_related("participant", "participant__program")
        .annotate(total=Window(Count("pk")))
        .order_by("received_on", "pk")[:limit]
    )
    total = int(getattr(rows[0], "total", 0)) if rows else 0
    for r in rows:
        services.with_due([r], r.participant.program.today())
    return cast(list[AmendmentRequest], rows), total


@staff_view(Perm.AMENDMENT_DECIDE, audit_page="privacy.amendments")
def worklist(request: StaffRequest) -> HttpResponse:
    """Every request waiting for a decision, oldest first, overdue ones flagged."""
    rows, total = pending_requests(request.user, WORKLIST_LIMIT)
    return render(
        request,
        "privacy/amendments/worklist.html",
        {
            "rows": rows,
            "total": total,
            "overdue": sum(1 for r in rows if getattr(r, "overdue", False)),
            "more": total > len(rows),
            "days": services.DECISION_DAYS,
        },
    )
