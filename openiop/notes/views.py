"""Progress notes: start, write with autosave, sign, amend, co-sign; unsigned work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from openiop.core.access import StaffRequest, require_perm, staff_view
from openiop.core.forms import posted
from openiop.core.roles import Perm, Role
from openiop.participants.access import get_participant_for, visible_participants
from openiop.scheduling.enrolment import sessions_expected_for

from . import services
from .access import note_for
from .choices import SECTIONS, NoteFormat, NoteStatus
from .forms import AddendumForm, NewNoteForm
from .models import Note, SignedRecordError

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
    if request.method == "POST":
        sections = _sections_from(request, note)
        version = _int(request.POST.get("version")) or 0
        action = request.POST.get("action", "save")
        try:
            if action == "sign":
                # Refused before anything is saved: the text stays in the boxes.
                services.check_complete(note.format, sections)
            note = services.save_draft(
                note, actor=request.user, sections=sections, expected_version=version
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
        },
        status=status,
    )


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
        )
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
    return render(
        request,
        "notes/unsigned.html",
        {
            "mine": mine,
            "waiting": waiting,
            "queue": queue,
            "program_drafts": program_drafts,
            "is_director": user.has_role(Role.DIRECTOR),
        },
    )
