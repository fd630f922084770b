"""The TEDS admission items of an episode (`teds_items:edit`, /participants/<pk>/teds/).

Reading needs clinical.view or intake.view; saving needs teds.record. The page shows the
current episode's items (or, with ?episode=<id>, an earlier admitted episode of the same
participant, which the TEDS export links to), the items derived from the record, and
what the export would still refuse. An episode not yet admitted answers 409; an invalid
form 400 with its errors; a stale version is a form error.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from openiop.core.access import StaffRequest, staff_view
from openiop.core.forms import MAX_ID, posted
from openiop.core.records import StaleEdit
from openiop.core.roles import Perm
from openiop.participants.access import get_episode_for, get_participant_for, visible_participants
from openiop.participants.models import Episode, Participant

from . import teds_services as rules
from .models import TedsAdmission
from .teds_forms import CODES, GROUPS, TedsItemsForm, label_for


def _participant(request: StaffRequest, pk: int) -> Participant:
    user = request.user
    if request.method == "POST":
        perm = Perm.TEDS_RECORD
    else:
        perm = Perm.CLINICAL_VIEW if user.has_perm_code(Perm.CLINICAL_VIEW) else Perm.INTAKE_VIEW
    queryset = visible_participants(user).select_related(
        "program", "current_episode", "current_episode__program"
    )
    return get_participant_for(request, pk, perm, what="intake.tedsadmission", queryset=queryset)


def _episode(request: StaffRequest, participant: Participant) -> Episode | None:
    wanted = request.GET.get("episode")
    episode: Episode | None
    if wanted:
        try:
            number = int(wanted)
        except ValueError:
            raise Http404("No such episode for this participant") from None
        if not 0 < number <= MAX_ID:
            raise Http404("No such episode for this participant")
        episode = get_episode_for(request, participant, number)
    else:
        episode = participant.current_episode
    if episode is not None:
        episode.participant = participant
    return episode


def _status(items: TedsAdmission | None, problems: list[rules.Problem]) -> dict[str, Any]:
    applicable = rules.applicable_fields(items)
    recorded = [f for f in applicable if getattr(items, f, None) is not None]
    return {
        "recorded": len(recorded),
        "expected": len(applicable),
        "missing": [p for p in problems if p.missing],
        "wrong": [p for p in problems if not p.missing],
    }


def _shown(items: TedsAdmission | None) -> list[dict[str, Any]]:
    """The items as read-only text, grouped as the form groups them (for readers)."""
    out = []
    for title, names in GROUPS:
        rows = []
        for name in names:
            value = getattr(items, name, None) if items is not None else None
            codes_class = CODES.get(name)
            shown = "" if value is None else str(value)
            if codes_class is not None and value is not None:
                shown = rules.label_of(codes_class, value)
            rows.append((label_for(name), shown))
        out.append({"title": title, "rows": rows})
    return out


@staff_view(Perm.PARTICIPANT_VIEW)
def edit(request: StaffRequest, pk: int) -> HttpResponse:
    participant = _participant(request, pk)
    episode = _episode(request, participant)
    context: dict[str, Any] = {"participant": participant, "episode": episode}
    if (
        episode is None
        or episode.status not in rules.ADMITTED_OR_LATER
        or episode.admission_date is None
    ):
        context["refusal"] = (
            "TEDS admission items are recorded once the participant is admitted; "
            "this episode has not been admitted."
        )
        return render(request, "intake/teds_items.html", context, status=409)
    items = TedsAdmission.objects.filter(episode=episode).first()
    age = rules.age_at_admission(episode)
    if age is not None and not 0 <= age <= rules.OLDEST:
        age = None
    initial: dict[str, Any] = {"version": items.version if items else 0}
    if items is not None:
        initial.update({f: getattr(items, f) for f in rules.ITEM_FIELDS})
    form = TedsItemsForm(posted(request), initial=initial, age=age)
    can_record = request.user.has_perm_code(Perm.TEDS_RECORD)
    here = reverse("teds_items:edit", kwargs={"pk": participant.pk})
    if episode.pk != participant.current_episode_id:
        here += f"?episode={episode.pk}"
    if request.method == "POST" and form.is_valid():
        try:
            rules.record_teds_items(
                episode,
                actor=request.user,
                values={f: form.cleaned_data.get(f) for f in rules.ITEM_FIELDS},
                expected_version=form.cleaned_data["version"],
            )
        except (StaleEdit, rules.TedsRefused) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "TEDS items saved.")
            return redirect(here)
    derived, derived_problems = rules.derived_items(episode)
    problems = derived_problems + rules.check_items(items, age=age)
    context.update(
        {
            "form": form,
            "items": items,
            "derived": derived,
            "status": _status(items, problems),
            "can_record": can_record,
            "here": here,
            "shown": _shown(items) if not can_record else [],
        }
    )
    return render(
        request,
        "intake/teds_items.html",
        context,
        status=400 if request.method == "POST" else 200,
    )
