"""Progress notes: start, write with autosave, sign, amend, co-sign; unsigned work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from openiop.core import audit
from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.choices import AuditAction
from openiop.core.forms import posted
from openiop.core.roles import Perm, Role
from openiop.participants.access import get_participant_for, visible_participants
from openiop.scheduling.access import session_for
from openiop.scheduling.enrolment import sessions_expected_for

from . import groups, services
from .access import note_for
from .choices import SECTIONS, GroupModality, NoteFormat, NoteStatus
from .forms import AddendumForm, NewNoteForm
from .goals import GoalChoiceError, addressable_goals, addressed_by, ids_from
from .models import GroupNote, Note, SignedRecordError

RECENT_DAYS = 14


def _sessions(participant: Any) -> Any:
    from openiop.scheduling.models import Session

    episode = participant.current_episode
    if episode is None:
        return Session.objects.none()
    today = episode.program.today()
    expected = sessions_expected_for(
        [episode.pk], today - dt.timedelta(days=RECENT_DAYS), today
    ).get(episode.pk, [])
    ids = [s.pk for s in expected if not s.is_cancelled]
    return Session.objects.filter(pk__in=ids).select_related("program").order_by("-starts_at")


@staff_view(Perm.NOTE_WRITE)
def new(request: StaffRequest, pk: int) -> HttpResponse:
    participant = get_participant_for(request, pk, Perm.NOTE_WRITE, what="notes.new")
    episode = participant.current_episode
    refusal = ""
    form = NewNoteForm(posted(request), sessions=_sessions(participant))
    if request.method == "GET" and episode is not None:
        form.initial.update({"service_date": episode.program.today(), "minutes": 50})
    if request.method == "POST" and form.is_valid() and episode is not None:
        data = form.cleaned_data
        try:
            note, created = services.start_note(
                episode,
                actor=request.user,
                fmt=data["format"],
                service_date=data["service_date"],
                minutes=data["minutes"],
                session=data.get("session"),
            )
        except services.NoteError as exc:
            refusal = str(exc)
        else:
            if not created:
                messages.info(request, "You already have a draft for this session: here it is.")
            return redirect("notes:edit", pk=participant.pk, note_pk=note.pk)
    return render(
        request,
        "notes/new.html",
        {"participant": participant, "form": form, "refusal": refusal},
        status=409 if refusal else 400 if request.method == "POST" else 200,
    )


def _sections_from(request: StaffRequest, note: Note) -> dict[str, str]:
    return {
        key: request.POST.get(f"section_{key}", "") for key in services.section_keys(note.format)
    }


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@staff_view(Perm.NOTE_WRITE)
def edit(request: StaffRequest, pk: int, note_pk: int) -> HttpResponse:
    participant, note = note_for(request, pk, note_pk, Perm.NOTE_WRITE)
    if note.group_note_id is not None and not note.is_signed and request.method != "POST":
        return redirect("notes_home:group", session_pk=note.session_id)
    if note.is_signed:
        if request.method == "POST":
            return _detail(
                request,
                participant,
                note,
                AddendumForm(),
                "This note is signed and cannot change: add an addendum instead.",
                409,
            )
        return redirect("notes:detail", pk=participant.pk, note_pk=note.pk)
    error = ""
    conflict: services.DraftConflict | None = None
    status = 200
    sections = dict(note.sections)
    version = note.version
    chosen_goals = set(note.goals_addressed.values_list("pk", flat=True))
    chosen_objectives = set(note.objectives_addressed.values_list("pk", flat=True))
    if request.method == "POST":
        sections = _sections_from(request, note)
        version = _int(request.POST.get("version")) or 0
        action = request.POST.get("action", "save")
        try:
            addressed = _addressed_from(request)
            if addressed is not None:
                chosen_goals, chosen_objectives = set(addressed[0]), set(addressed[1])
            if action == "sign":
                # Refused before anything is saved: the text stays in the boxes.
                services.check_complete(note.format, sections)
            note = services.save_draft(
                note,
                actor=request.user,
                sections=sections,
                expected_version=version,
                addressed=addressed,
            )
            version = note.version
            if action == "sign":
                services.sign_note(note, actor=request.user, expected_version=note.version)
                messages.success(request, "The note is signed and locked.")
                return redirect("notes:detail", pk=participant.pk, note_pk=note.pk)
            messages.success(request, "Draft saved.")
            return redirect("notes:edit", pk=participant.pk, note_pk=note.pk)
        except services.DraftConflict as exc:
            conflict, status = exc, 409
        except GoalChoiceError as exc:
            error, status = str(exc), 400
        except (services.NoteError, SignedRecordError) as exc:
            error, status = str(exc), 409
            note.refresh_from_db()
            version = note.version
    rows = [
        {"key": key, "label": label, "prompt": prompt, "text": sections.get(key, "")}
        for key, label, prompt in SECTIONS[NoteFormat(note.format)]
    ]
    theirs = []
    if conflict is not None:
        theirs = [
            {"label": label, "text": conflict.theirs.get(key, "")}
            for key, label, _prompt in SECTIONS[NoteFormat(note.format)]
        ]
    return render(
        request,
        "notes/edit.html",
        {
            "participant": participant,
            "note": note,
            "rows": rows,
            "version": conflict.version if conflict else version,
            "error": error,
            "conflict": conflict,
            "theirs": theirs,
            "can_sign": note.author_id == request.user.pk,
            "goals": _goal_rows(note, chosen_goals, chosen_objectives),
        },
        status=status,
    )


def _addressed_from(request: StaffRequest) -> tuple[list[int], list[int]] | None:
    """The goals and objectives ticked, when the form carried the plan's list (an editor
    without it leaves the links as they are). GoalChoiceError on ids that are not."""
    if request.POST.get("addressed") != "1":
        return None
    return ids_from(request.POST.getlist("goal")), ids_from(request.POST.getlist("objective"))


def _goal_rows(note: Note, goals: set[int], objectives: set[int]) -> list[dict[str, Any]]:
    return [
        {
            "goal": goal,
            "checked": goal.pk in goals,
            "objectives": [
                {"objective": o, "checked": o.pk in objectives} for o in goal.objectives.all()
            ],
        }
        for goal in addressable_goals([note.episode_id])[note.episode_id]
    ]


@staff_view(Perm.NOTE_WRITE)
def autosave(request: StaffRequest, pk: int, note_pk: int) -> HttpResponse:
    """The editor's background save: JSON in, JSON out (409 with the saved text on a
    conflict). A GET answers the draft's current version."""
    participant, note = note_for(request, pk, note_pk, Perm.NOTE_WRITE)
    if request.method != "POST":
        return JsonResponse({"version": note.version, "status": note.status})
    version = _int(request.POST.get("version"))
    if version is None:
        return JsonResponse({"error": "The version is missing."}, status=400)
    try:
        saved = services.save_draft(
            note,
            actor=request.user,
            sections=_sections_from(request, note),
            expected_version=version,
            addressed=_addressed_from(request),
        )
    except GoalChoiceError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except services.DraftConflict as exc:
        return JsonResponse(
            {"error": str(exc), "theirs": exc.theirs, "version": exc.version}, status=409
        )
    except (services.NoteError, SignedRecordError) as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"version": saved.version, "saved_at": saved.updated_at.isoformat()})


def _detail(
    request: StaffRequest,
    participant: Any,
    note: Note,
    form: AddendumForm,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    rows = [
        {"label": label, "text": note.sections.get(key, "")}
        for key, label, _prompt in SECTIONS[NoteFormat(note.format)]
    ]
    return render(
        request,
        "notes/detail.html",
        {
            "participant": participant,
            "note": note,
            "rows": rows,
            "addenda": note.addenda.select_related("author"),
            "addressed_goals": addressed_by(note),
            "form": form,
            "error": error,
            "can_write": request.user.has_perm_code(Perm.NOTE_WRITE),
            "can_cosign": request.user.has_perm_code(Perm.NOTE_COSIGN)
            and note.awaiting_cosign
            and note.author_id != request.user.pk,
        },
        status=status,
    )


@staff_view(Perm.CLINICAL_VIEW)
def detail(request: StaffRequest, pk: int, note_pk: int) -> HttpResponse:
    participant, note = note_for(request, pk, note_pk)
    form = AddendumForm(posted(request))
    if request.method == "POST":
        require_perm(request, Perm.NOTE_WRITE, what="notes.addendum")
        if not form.is_valid():
            return _detail(request, participant, note, form, status=400)
        try:
            services.add_addendum(note, actor=request.user, text=form.cleaned_data["text"])
        except services.NoteError as exc:
            return _detail(request, participant, note, form, str(exc), 409)
        messages.success(request, "The addendum was added and signed.")
        return redirect("notes:detail", pk=participant.pk, note_pk=note.pk)
    return _detail(request, participant, note, form)


@staff_view(Perm.NOTE_COSIGN)
def cosign(request: StaffRequest, pk: int, note_pk: int) -> HttpResponse:
    """GET shows the note to review; POST co-signs it."""
    participant, note = note_for(request, pk, note_pk, Perm.NOTE_COSIGN)
    if request.method != "POST":
        return _detail(request, participant, note, AddendumForm())
    try:
        services.cosign_note(note, actor=request.user)
    except services.NoteError as exc:
        return _detail(request, participant, note, AddendumForm(), str(exc), 409)
    messages.success(request, "Co-signed.")
    return redirect("notes:detail", pk=participant.pk, note_pk=note.pk)


@staff_view(Perm.NOTE_WRITE, audit_page="notes.unsigned")
def unsigned(request: StaffRequest) -> HttpResponse:
    """My drafts and my notes waiting for a co-signature; the co-signature queue for
    supervisors; every unsigned note of the program for a director."""
    user = request.user
    visible = visible_participants(user)
    base = Note.objects.filter(voided=False, participant__in=visible).select_related(
        "participant", "author", "session"
    )
    mine = list(base.filter(author=user, status=NoteStatus.DRAFT).order_by("service_date")[:200])
    waiting = list(
        base.filter(author=user, status=NoteStatus.SIGNED, cosign_required=True)
        .filter(cosigned_at__isnull=True)
        .order_by("service_date")[:200]
    )
    queue: list[Note] = []
    if user.has_perm_code(Perm.NOTE_COSIGN):
        queue = list(
            base.filter(status=NoteStatus.SIGNED, cosign_required=True, cosigned_at__isnull=True)
            .exclude(author=user)
            .order_by("signed_at")[:200]
        )
    program_drafts: list[Note] = []
    if user.has_role(Role.DIRECTOR):
        program_drafts = list(
            base.filter(status=NoteStatus.DRAFT)
            .exclude(author=user)
            .filter(Q(program_id__in=user.program_ids))
            .order_by("service_date")[:300]
        )
    # Overdue treatment-plan reviews: my caseload's, and the program's for a director.
    from openiop.plans.services import reviews_due
    from openiop.programs.models import Program

    programs = list(Program.objects.filter(pk__in=user.program_ids))
    my_reviews = [r for r in reviews_due(programs, counsellor=user) if r.overdue]
    program_reviews = []
    if user.has_role(Role.DIRECTOR):
        program_reviews = [
            r
            for r in reviews_due(programs)
            if r.overdue and r.plan.episode.primary_counsellor_id != user.pk
        ]
    return render(
        request,
        "notes/unsigned.html",
        {
            "mine": mine,
            "waiting": waiting,
            "queue": queue,
            "program_drafts": program_drafts,
            "is_director": user.has_role(Role.DIRECTOR),
            "my_reviews": my_reviews,
            "program_reviews": program_reviews,
        },
    )


# ---------------------------------------------------------------- group notes


def _group_posted(
    request: StaffRequest, entries: list[Note]
) -> tuple[str | None, str | None, dict[int, dict[str, str]]]:
    """The narrative, modality and draft entries' sections in the POST; a field left out
    is None (unchanged), never blanked."""
    sections: dict[int, dict[str, str]] = {}
    for entry in entries:
        if entry.status != NoteStatus.DRAFT:
            continue
        posted = {
            key: request.POST[groups.field_name(entry, key)]
            for key in (*groups.GROUP_KEYS, groups.GOAL_CHOICE)
            if groups.field_name(entry, key) in request.POST
        }
        if posted:
            sections[entry.pk] = posted
    return request.POST.get("narrative"), request.POST.get("modality"), sections


def _group_page(
    request: StaffRequest,
    session: Any,
    note: GroupNote,
    entries: list[Note],
    *,
    posted: tuple[str | None, str | None, dict[int, dict[str, str]]] | None = None,
    error: str = "",
    conflict: services.DraftConflict | None = None,
    status: int = 200,
) -> HttpResponse:
    narrative, modality, sections = posted or (None, None, {})
    theirs = conflict.theirs if conflict else {}
    offered = addressable_goals(e.episode_id for e in entries)
    rows = []
    for entry in entries:
        texts = {**entry.sections, **sections.get(entry.pk, {})}
        chosen_goal = sections.get(entry.pk, {}).get(groups.GOAL_CHOICE)
        if chosen_goal is None:
            linked = [g.pk for g in entry.goals_addressed.all()]
            chosen_goal = str(linked[0]) if linked else ""
        fields = []
        for key, label, prompt in groups.GROUP_SECTIONS:
            name = groups.field_name(entry, key)
            text = str(texts.get(key, ""))
            saved = theirs.get(name)
            fields.append(
                {
                    "name": name,
                    "key": key,
                    "label": label,
                    "prompt": prompt,
                    "text": text,
                    "theirs": saved if saved is not None and saved != text else None,
                }
            )
        rows.append(
            {
                "entry": entry,
                "fields": fields,
                "goals": offered.get(entry.episode_id, []),
                "goal_field": groups.field_name(entry, groups.GOAL_CHOICE),
                "goal_chosen": str(chosen_goal),
                "goals_addressed": list(entry.goals_addressed.all()),
            }
        )
    narrative = note.narrative if narrative is None or note.is_signed else narrative
    their_narrative = theirs.get("narrative")
    drafts = sum(1 for e in entries if e.status == NoteStatus.DRAFT)
    return render(
        request,
        "notes/group_edit.html",
        {
            "session": session,
            "note": note,
            "rows": rows,
            "narrative": narrative,
            "their_narrative": their_narrative if their_narrative != narrative else None,
            "modality": modality if modality in GroupModality.values else note.modality,
            "modalities": GroupModality.choices,
            "version": note.version,
            "error": error,
            "conflict": conflict,
            "drafts": drafts,
            "can_sign": note.author_id == request.user.pk and drafts > 0,
        },
        status=status,
    )


def _group_note_of(session: Any) -> GroupNote | None:
    return (
        GroupNote.objects.select_related("author", "topic", "updated_by")
        .filter(session=session, voided=False)
        .first()
    )


@staff_view(Perm.NOTE_WRITE)
def group(request: StaffRequest, session_pk: int) -> HttpResponse:
    """One screen for the whole group: the narrative, then an entry per participant who
    attended. GET opens the note, bringing its entries in step with attendance (a member
    marked present since gets a new draft entry; signed entries are untouched); POST
    starts it, or saves it, or saves and signs it all."""
    session = session_for(request.user, session_pk)
    audit.record(AuditAction.VIEW, actor=request.user, obj=session, object_type="notes.group")
    note = _group_note_of(session)
    if note is None:
        refusal = ""
        try:
            groups.check_can_open(session)
            if request.method == "POST":
                groups.open_group_note(session, actor=request.user)
                return redirect("notes_home:group", session_pk=session.pk)
        except services.NoteError as exc:
            refusal = str(exc)
        return render(
            request,
            "notes/group_start.html",
            {"session": session, "error": refusal},
            status=409 if refusal and request.method == "POST" else 200,
        )
    if request.method != "POST":
        error = ""
        try:
            groups.open_group_note(session, actor=request.user)
        except services.NoteError as exc:
            # A session cancelled after its note was started: shown as it is.
            error = str(exc)
        return _group_page(request, session, note, groups.entries_of(note), error=error)

    entries = groups.entries_of(note)
    action = request.POST.get("action", "save")
    version = _int(request.POST.get("version"))
    posted = _group_posted(request, entries)
    refusal = ""
    if action not in ("save", "sign"):
        refusal = "Unknown action: use Save draft or Sign all."
    elif version is None:
        refusal = "The form has lost its version number: reload the page (your text is below)."
    if refusal:
        return _group_page(
            request, session, note, entries, posted=posted, error=refusal, status=400
        )
    narrative, modality, sections = posted
    try:
        # All or nothing: a refused signature saves nothing (the text stays in the boxes).
        with transaction.atomic():
            saved = groups.save_group_draft(
                note,
                actor=request.user,
                expected_version=version or 0,
                narrative=narrative,
                modality=modality,
                entries=sections,
            )
            if action == "sign":
                signed = groups.sign_group(
                    saved, actor=request.user, expected_version=saved.version
                )
    except services.DraftConflict as exc:
        error, conflict, status = "", exc, 409
    except groups.GroupInputError as exc:
        error, conflict, status = str(exc), None, 400
    except (services.NoteError, SignedRecordError) as exc:
        error, conflict, status = str(exc), None, 409
    else:
        if action == "sign":
            messages.success(
                request,
                f"Signed: {signed} entr{'y' if signed == 1 else 'ies'}"
                + ("" if note.is_signed else " and the narrative")
                + ".",
            )
        else:
            messages.success(request, "Draft saved.")
        return redirect("notes_home:group", session_pk=session.pk)
    fresh = _group_note_of(session) or note
    return _group_page(
        request,
        session,
        fresh,
        groups.entries_of(fresh),
        posted=posted,
        error=error,
        conflict=conflict,
        status=status,
    )


@staff_view(Perm.NOTE_WRITE)
def group_autosave(request: StaffRequest, session_pk: int) -> HttpResponse:
    """The group screen's background save: the form in, JSON out (409 with the saved
    text on a conflict). A GET answers the note's current version."""
    session = session_for(request.user, session_pk)
    note = _group_note_of(session)
    if request.method != "POST":
        audit.record(
            AuditAction.VIEW,
            actor=request.user,
            obj=note or session,
            object_type="notes.group",
        )
        if note is None:
            return JsonResponse({"version": None, "status": "not started"})
        return JsonResponse({"version": note.version, "status": note.status})
    if note is None:
        return JsonResponse({"error": "Start the group note first."}, status=409)
    version = _int(request.POST.get("version"))
    if version is None:
        return JsonResponse({"error": "The version is missing."}, status=400)
    narrative, modality, sections = _group_posted(request, groups.entries_of(note))
    try:
        saved = groups.save_group_draft(
            note,
            actor=request.user,
            expected_version=version,
            narrative=narrative,
            modality=modality,
            entries=sections,
        )
    except services.DraftConflict as exc:
        return JsonResponse(
            {"error": str(exc), "theirs": exc.theirs, "version": exc.version}, status=409
        )
    except groups.GroupInputError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except (services.NoteError, SignedRecordError) as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"version": saved.version, "saved_at": saved.updated_at.isoformat()})
