"""Staff pages of the attendance letters (`records.disclose`): the worklist of requests
waiting, a request with its produce and decline forms, and a letter from the chart without
a request. Producing goes through the consent gate: without a consent in force that covers
it the page answers 409 with the gate's reasons and a link to record a consent."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.db.models import Count, Window
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from openiop.core.access import StaffRequest, staff_view
from openiop.core.forms import posted
from openiop.core.pdf import PdfUnavailable
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant
from openiop.privacy import gate

from . import services
from .choices import LetterStatus
from .forms import DeclineForm, StaffLetterForm
from .models import LetterRequest

WORKLIST_LIMIT = 200
WHAT = "letters.letterrequest"


def pending_requests(user: Any, limit: int) -> tuple[list[LetterRequest], int]:
    """The oldest requests waiting among the participants the user may see, and how many
    there are: one query (the total is a window count)."""
    rows = list(
        LetterRequest.objects.filter(
            status=LetterStatus.PENDING,
            voided=False,
            participant__in=visible_participants(user),
        )
        .select_related("participant")
        .annotate(total=Window(Count("pk")))
        .order_by("requested_at", "pk")[:limit]
    )
    total = int(getattr(rows[0], "total", 0)) if rows else 0
    return cast(list[LetterRequest], rows), total


@staff_view(Perm.RECORDS_DISCLOSE, audit_page="letters.worklist")
def worklist(request: StaffRequest) -> HttpResponse:
    rows, total = pending_requests(request.user, WORKLIST_LIMIT)
    return render(
        request,
        "letters/worklist.html",
        {"rows": rows, "total": total, "more": total > len(rows)},
    )


def _participant(request: StaffRequest, pk: int) -> Participant:
    return get_participant_for(request, pk, Perm.RECORDS_DISCLOSE, what=WHAT)


def _request(participant: Participant, request_pk: int) -> LetterRequest:
    try:
        return (
            LetterRequest.objects.select_related(
                "requested_by", "decided_by", "disclosure", "disclosure__verification"
            )
            .defer("disclosure__document")
            .get(pk=request_pk, participant=participant, voided=False)
        )
    except LetterRequest.DoesNotExist:
        raise Http404("No such letter request for this participant") from None


def _consents_in_force(participant: Participant, today: dt.date) -> list[Any]:
    return [
        c
        for c in gate.candidate_consents(participant)
        if gate.consent_status(c, today)[0] and not c.is_tpo
    ]


def _default_start(participant: Participant, today: dt.date) -> dt.date:
    episode = participant.current_episode
    if episode is not None and episode.admission_date and episode.admission_date <= today:
        return episode.admission_date
    return today


def _produce(
    request: StaffRequest,
    participant: Participant,
    form: StaffLetterForm,
    letter_request: LetterRequest | None,
) -> tuple[HttpResponse | None, list[str], str]:
    """(a redirect when produced, the gate's reasons when refused, another refusal)."""
    data = form.cleaned_data
    try:
        disclosure = services.produce(
            participant,
            recipient_kind=data["recipient_kind"],
            recipient_name=data["recipient_name"],
            recipient_address=data.get("recipient_address") or "",
            period_start=data["period_start"],
            period_end=data["period_end"],
            actor=request.user,
            letter_request=letter_request,
        )
    except gate.DisclosureRefused as refused:
        return None, refused.reasons, ""
    except services.LetterError as exc:
        return None, [], str(exc)
    except PdfUnavailable as exc:
        return (
            HttpResponse(
                f"PDFs cannot be made on this server: WeasyPrint is not available ({exc}).",
                status=503,
                content_type="text/plain; charset=utf-8",
            ),
            [],
            "",
        )
    code = disclosure.verification.code_hint
    messages.success(
        request,
        f"Letter {disclosure.reference} produced under the participant's consent "
        f"(verification code {code}-…, printed on the letter).",
    )
    made = letter_request or disclosure.letter_request
    return redirect("participant_letters:detail", participant.pk, made.pk), [], ""


@staff_view(Perm.RECORDS_DISCLOSE)
def new(request: StaffRequest, pk: int) -> HttpResponse:
    """An attendance letter from the chart, without a request from the participant."""
    participant = _participant(request, pk)
    today = participant.program.today()
    consents = _consents_in_force(participant, today)
    form = StaffLetterForm(posted(request), consents=consents, today=today)
    if request.method == "GET":
        form.initial.update(
            {"period_start": _default_start(participant, today), "period_end": today}
        )
    refusal: list[str] = []
    error = ""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            response, refusal, error = _produce(request, participant, form, None)
            if response is not None:
                return response
            status = 409
    return render(
        request,
        "letters/new.html",
        {
            "participant": participant,
            "form": form,
            "has_consents": bool(form.consents),
            "refusal": refusal,
            "error": error,
        },
        status=status,
    )


def _detail(
    request: StaffRequest,
    participant: Participant,
    letter_request: LetterRequest,
    *,
    produce_form: StaffLetterForm | None = None,
    decline_form: DeclineForm | None = None,
    refusal: list[str] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    today = participant.program.today()
    context: dict[str, Any] = {
        "participant": participant,
        "letter": letter_request,
        "verification": getattr(letter_request.disclosure, "verification", None)
        if letter_request.disclosure_id
        else None,
        "refusal": refusal or [],
        "error": error,
    }
    if letter_request.pending:
        if produce_form is None:
            produce_form = StaffLetterForm(
                None, consents=_consents_in_force(participant, today), today=today
            )
            produce_form.initial.update(
                {
                    "recipient_kind": letter_request.recipient_kind,
                    "recipient_name": letter_request.recipient_name,
                    "recipient_address": letter_request.recipient_address,
                    "period_start": letter_request.period_start,
                    "period_end": min(letter_request.period_end, today),
                }
            )
        context["produce_form"] = produce_form
        context["has_consents"] = bool(produce_form.consents)
        context["decline_form"] = decline_form or DeclineForm()
        # The form that was posted, whose errors the page shows.
        if decline_form is not None:
            context["form"] = decline_form
        elif produce_form.is_bound:
            context["form"] = produce_form
    return render(request, "letters/detail.html", context, status=status)


@staff_view(Perm.RECORDS_DISCLOSE)
def detail(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    return _detail(request, participant, _request(participant, request_pk))


def _not_waiting(letter_request: LetterRequest) -> str:
    return f"This request is no longer waiting: it is “{letter_request.get_status_display()}”."


@staff_view(Perm.RECORDS_DISCLOSE)
def produce(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    letter_request = _request(participant, request_pk)
    if request.method != "POST":
        return _detail(request, participant, letter_request)
    if not letter_request.pending:
        return _detail(
            request, participant, letter_request, error=_not_waiting(letter_request), status=409
        )
    today = participant.program.today()
    form = StaffLetterForm(
        request.POST, consents=_consents_in_force(participant, today), today=today
    )
    if not form.is_valid():
        return _detail(request, participant, letter_request, produce_form=form, status=400)
    response, refusal, error = _produce(request, participant, form, letter_request)
    if response is not None:
        return response
    letter_request = _request(participant, request_pk)
    return _detail(
        request,
        participant,
        letter_request,
        produce_form=form if letter_request.pending else None,
        refusal=refusal,
        error=error,
        status=409,
    )


@staff_view(Perm.RECORDS_DISCLOSE)
def decline(request: StaffRequest, pk: int, request_pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    letter_request = _request(participant, request_pk)
    if request.method != "POST":
        return _detail(request, participant, letter_request)
    if not letter_request.pending:
        return _detail(
            request, participant, letter_request, error=_not_waiting(letter_request), status=409
        )
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _detail(request, participant, letter_request, decline_form=form, status=400)
    try:
        services.decline(letter_request, actor=request.user, reason=form.cleaned_data["reason"])
    except services.LetterError as exc:
        letter_request = _request(participant, request_pk)
        return _detail(request, participant, letter_request, error=str(exc), status=409)
    messages.success(request, "The request was declined; the participant sees the reason.")
    return redirect("participant_letters:detail", participant.pk, letter_request.pk)


def chart_rows(participant: Participant, limit: int) -> list[LetterRequest]:
    return cast(
        list[LetterRequest],
        list(
            LetterRequest.objects.filter(participant=participant, voided=False)
            .select_related("disclosure")
            .defer("disclosure__document")
            .order_by("-requested_at", "-pk")[:limit]
        ),
    )
