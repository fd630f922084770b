"""A participant's contacts: family, friends, sponsors, professionals; who is a recovery
support person and who the emergency contact. Listed with `participant.view`, written
with `participant.change`; removed by voiding (signed plans keep naming them)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from openiop.core.access import StaffRequest, staff_view
from openiop.core.forms import posted
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm

from . import contact_services as services
from .access import get_participant_for
from .forms import ContactForm, ContactVoidForm
from .models import Contact, Participant


def _contact_of(participant: Participant, contact_pk: int) -> Contact:
    try:
        return Contact.objects.get(pk=contact_pk, participant=participant, voided=False)
    except Contact.DoesNotExist:
        raise Http404("No such contact for this participant") from None


@staff_view(Perm.PARTICIPANT_VIEW)
def contact_list(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, what="participants.contacts")
    contacts = list(Contact.objects.filter(participant=participant).select_related("voided_by"))
    return render(
        request,
        "participants/contacts/list.html",
        {
            "participant": participant,
            "contacts": [c for c in contacts if not c.voided],
            "removed": [c for c in contacts if c.voided],
            "can_edit": request.user.has_perm_code(Perm.PARTICIPANT_CHANGE),
            # Issue 9: family access under the consents, family portal invitations.
            "can_family": request.user.has_perm_code(Perm.FAMILY_MANAGE),
        },
    )


@staff_view(Perm.PARTICIPANT_CHANGE)
def contact_new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PARTICIPANT_CHANGE, what="contacts.new")
    form = ContactForm(posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                contact = services.add_contact(
                    participant,
                    actor=request.user,
                    values={k: form.cleaned_data[k] for k in services.CONTACT_FIELDS},
                )
            except services.ContactError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, f"{contact.name} was added to the contacts.")
                return redirect("contacts:list", pk=participant.pk)
    return render(
        request,
        "participants/contacts/form.html",
        {"participant": participant, "form": form, "creating": True},
        status=status,
    )


@staff_view(Perm.PARTICIPANT_CHANGE)
def contact_edit(request: StaffRequest, pk: int, contact_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PARTICIPANT_CHANGE, what="contacts.edit")
    contact = _contact_of(participant, contact_pk)
    form = ContactForm(posted(request), instance=contact, initial={"version": contact.version})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            version = form.cleaned_data.get("version")
            try:
                services.update_contact(
                    contact,
                    actor=request.user,
                    changes={k: form.cleaned_data[k] for k in services.CONTACT_FIELDS},
                    expected_version=version if version is not None else -1,
                )
            except (StaleEdit, services.ContactError) as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, "Contact saved.")
                return redirect("contacts:list", pk=participant.pk)
    return render(
        request,
        "participants/contacts/form.html",
        {"participant": participant, "form": form, "contact": contact, "creating": False},
        status=status,
    )


@staff_view(Perm.PARTICIPANT_CHANGE)
def contact_void(request: StaffRequest, pk: int, contact_pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.PARTICIPANT_CHANGE, what="contacts.void")
    contact = _contact_of(participant, contact_pk)
    form = ContactVoidForm(posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.void_contact(
                    contact, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except services.ContactError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, f"{contact.name} was removed from the contacts.")
                return redirect("contacts:list", pk=participant.pk)
    return render(
        request,
        "participants/contacts/void.html",
        {"participant": participant, "form": form, "contact": contact},
        status=status,
    )


# Under participants/<pk>/contacts/ (mounted in openiop/urls.py).
contact_patterns = (
    [
        path("", contact_list, name="list"),
        path("new/", contact_new, name="new"),
        path("<int:contact_pk>/edit/", contact_edit, name="edit"),
        path("<int:contact_pk>/void/", contact_void, name="void"),
    ],
    "contacts",
)
