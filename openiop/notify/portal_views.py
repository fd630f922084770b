"""The participant's own page: how and when we may send messages (issue 9, point 4)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.portal.access import PARTICIPANT, PortalRequest, portal_view

from .forms import PreferenceForm
from .models import Preference
from .services import preference_for
from .sms import mask, normalise_phone

FIELDS = PreferenceForm.Meta.fields


@portal_view(PARTICIPANT, audit_page="portal.notifications")
def preferences(request: PortalRequest) -> HttpResponse:
    participant = request.portal.participant
    pref = preference_for(participant)
    status = 200
    if request.method == "POST":
        form = PreferenceForm(request.POST, instance=pref)
        if form.is_valid():
            with transaction.atomic():
                locked = (
                    Preference.objects.select_for_update().filter(participant=participant).first()
                )
                before = {f: getattr(locked or Preference(), f) for f in FIELDS}
                saved = locked or Preference(participant=participant)
                for field in FIELDS:
                    setattr(saved, field, form.cleaned_data[field])
                saved.updated_at = timezone.now()
                saved.updated_by = request.user
                saved.save()
                changes = audit.diff(
                    {f: str(v) for f, v in before.items()},
                    {f: str(getattr(saved, f)) for f in FIELDS},
                )
                audit.record(
                    AuditAction.CREATE if locked is None else AuditAction.CHANGE,
                    actor=request.user,
                    obj=saved,
                    participant_id=participant.pk,
                    changes=changes,
                )
            messages.success(request, _("Your choices are saved."))
            return redirect("portal_notify:preferences")
        status = 400
    else:
        form = PreferenceForm(instance=pref)
    phone = normalise_phone(participant.phone)
    return render(
        request,
        "notify/portal/preferences.html",
        {
            "form": form,
            "phone": mask(phone) if phone else "",
            "email": mask(participant.email),
            "time_zone": participant.program.time_zone,
        },
        status=status,
    )
