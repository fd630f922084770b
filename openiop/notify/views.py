"""Staff pages: the outbox (what was sent to whom, and why something was not)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render

from openiop.core import audit
from openiop.core.access import StaffRequest, staff_view
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm
from openiop.participants.access import visible_participants

from . import render as message_render
from .forms import OutboxFilterForm
from .models import Message

PAGE_SIZE = 50


def visible_messages(request: StaffRequest) -> QuerySet[Message]:
    """Messages about participants the user may see, and the user's own staff emails."""
    user = request.user
    return Message.objects.filter(
        Q(participant__in=visible_participants(user)) | Q(staff_user=user)
    ).select_related("participant", "contact", "staff_user")


@staff_view(Perm.MESSAGES_VIEW, audit_page="notify.outbox")
def outbox(request: StaffRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    qs = visible_messages(request).order_by("-created_at", "-pk")
    if form.is_valid():
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["template"]:
            qs = qs.filter(template=form.cleaned_data["template"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "notify/outbox.html",
        {"form": form, "page": page, "querystring": params.urlencode()},
    )


@staff_view(Perm.MESSAGES_VIEW)
def message_detail(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        message = visible_messages(request).get(pk=pk)
    except Message.DoesNotExist:
        raise Http404("No such message") from None
    audit.record(
        AuditAction.VIEW, actor=request.user, obj=message, participant_id=message.participant_id
    )
    body = message.body.replace(message_render.LINK_PLACEHOLDER, "[link]")
    return render(
        request,
        "notify/message.html",
        {
            "message": message,
            "body": body,
            "template": message_render.TEMPLATES.get(message.template),
        },
    )
