"""The compliance audit screen (issue 8, point 6; 45 CFR 170.315(d)(2), (d)(3)).

Reports from the audit log for a chosen period, filtered by user, participant and
action, sorted by each recorded element (ONC (d)(3)); each event's details; a CSV export
of the filtered events (streamed, audited as an export); and verification of the hash
chain (ONC (d)(2): detect an altered log).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpResponse, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import capfirst

from . import audit
from .access import StaffRequest, staff_view
from .choices import AuditAction
from .forms import AUDIT_DEFAULT_SORT, AUDIT_SORTS, AuditFilterForm
from .models import AuditEvent
from .roles import Perm

PAGE_SIZE = 100
EXPORT_CHUNK = 1000

# The table's sortable column headers: (sort key, header). The "Sort by" list offers
# every recorded element (forms.AUDIT_SORTS), these are the ones shown as columns.
COLUMNS = [
    ("at", "When"),
    ("actor_username", "Who"),
    ("action", "Action"),
    ("object_type", "What"),
    ("participant_id", "Participant"),
    ("client_ip", "From"),
]
# Columns read first in the descending direction on a first click.
NEWEST_FIRST = {"at", "seq"}
NULLABLE = {"participant_id", "client_ip"}


def _filtered(form: AuditFilterForm) -> QuerySet[AuditEvent]:
    """The events the (valid) form asks for, in the order it asks for."""
    data = form.cleaned_data
    events = AuditEvent.objects.all()
    if data.get("participant"):
        events = events.filter(participant_id=data["participant"])
    if data.get("user"):
        events = events.filter(actor_username__iexact=data["user"])
    if data.get("action"):
        events = events.filter(action=data["action"])
    zone = timezone.get_current_timezone()
    if data.get("date_from"):
        start = dt.datetime.combine(data["date_from"], dt.time.min, tzinfo=zone)
        events = events.filter(at__gte=start)
    if data.get("date_to"):
        # The whole "to" day, in the program's time zone.
        end = dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time.min)
        events = events.filter(at__lt=end.replace(tzinfo=zone))
    return events.order_by(*_ordering(data.get("sort") or AUDIT_DEFAULT_SORT))


def _ordering(sort: str) -> list[Any]:
    key = sort.removeprefix("-")
    if key not in AUDIT_SORTS:  # the form refuses it first; never pass it on
        sort, key = AUDIT_DEFAULT_SORT, AUDIT_DEFAULT_SORT.removeprefix("-")
    descending = sort.startswith("-")
    expression: Any = F(key).desc() if descending else F(key).asc()
    if key in NULLABLE:
        # Events without a participant or an address go last either way.
        expression = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    # seq breaks ties, so that pages do not overlap.
    if key == "seq":
        return [expression]
    return [expression, "-seq" if descending else "seq"]


def _record_numbers(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    # Looked up by name: core does not import the participants app (it depends on core).
    participants = apps.get_model("participants", "Participant").objects
    return dict(participants.filter(pk__in=wanted).values_list("pk", "record_number"))


@functools.cache
def type_label(object_type: str) -> str:
    """ "participants.participant" → "Participant"; a page name stays as it is."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return capfirst(str(model._meta.verbose_name))


def _change_lines(changes: Any) -> list[tuple[str, str]]:
    """{field: [old, new]} as "old → new"; anything else as compact JSON."""
    if not isinstance(changes, dict):
        return [("", json.dumps(changes, ensure_ascii=False))] if changes else []
    lines = []
    for key, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            old, new = (json.dumps(v, ensure_ascii=False) for v in value)
            lines.append((str(key), f"{old} → {new}"))
        else:
            lines.append((str(key), json.dumps(value, ensure_ascii=False)))
    return lines


def _sort_links(query: dict[str, str], current: str) -> list[dict[str, str]]:
    links = []
    for key, label in COLUMNS:
        if current == key:
            target, state = f"-{key}", "ascending"
        elif current == f"-{key}":
            target, state = key, "descending"
        else:
            target, state = (f"-{key}" if key in NEWEST_FIRST else key), ""
        links.append(
            {
                "label": label,
                "url": "?" + urlencode({**query, "sort": target}),
                "aria_sort": state,
            }
        )
    return links


def _last_verification() -> AuditEvent | None:
    # The object_type index (audit_object) finds it without reading the log.
    return AuditEvent.objects.filter(object_type=audit.VERIFY_TYPE).order_by("-seq").first()


@staff_view(Perm.AUDIT_VIEW, audit_page="core.audit_log")
def audit_log(request: StaffRequest) -> HttpResponse:
    if request.method == "POST":
        # The filter form is posted so that a record number typed in never reaches a URL
        # (PHI in server logs); the redirect carries the participant's internal id.
        form = AuditFilterForm(request.POST)
        if form.is_valid():
            return redirect(f"{reverse('core:audit_log')}?{urlencode(form.query())}")
        return _render_log(request, form, status=400)
    form = AuditFilterForm(request.GET, participant_is="id")
    if not form.is_valid():
        return _render_log(request, form, status=400)
    return _render_log(request, form)


def _render_log(request: StaffRequest, form: AuditFilterForm, status: int = 200) -> HttpResponse:
    valid = form.is_valid()
    query = form.query() if valid else {}
    sort = query.get("sort", AUDIT_DEFAULT_SORT)
    events = _filtered(form) if valid else AuditEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    numbers = _record_numbers(e.participant_id for e in page.object_list)
    rows = [
        {
            "event": e,
            "record_number": numbers.get(e.participant_id, "") if e.participant_id else "",
            "type": type_label(e.object_type),
            "changes": _change_lines(e.changes),
        }
        for e in page.object_list
    ]
    usernames = get_user_model().objects.order_by("username").values_list("username", flat=True)
    return render(
        request,
        "core/audit_log.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            # What the participant box shows: the record number, never the internal id.
            "participant_value": (
                form.record_number
                if form.participant_is == "id"
                else (form["participant"].value() or "")
            ),
            "filters": query,
            "errors": [e for errors in form.errors.values() for e in errors],
            "querystring": urlencode(query),
            "export_url": reverse("core:audit_export") + ("?" + urlencode(query) if query else ""),
            "sort_links": _sort_links({k: v for k, v in query.items() if k != "sort"}, sort),
            "usernames": list(usernames),
            "last_verification": _last_verification(),
        },
        status=status,
    )


# --- export --------------------------------------------------------------------------------

EXPORT_HEADER = [
    "seq",
    "time",
    "user",
    "user_id",
    "action",
    "object_type",
    "object_id",
    "object",
    "participant_record_number",
    "participant_id",
    "ip_address",
    "page",
    "source",
    "request_id",
    "reason",
    "changes",
    "hash",
]
EXPORT_FIELDS = (
    "seq",
    "at",
    "actor_username",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "participant_id",
    "client_ip",
    "path",
    "source",
    "request_id",
    "reason",
    "changes",
    "hash",
)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# injection"): such a cell is prefixed with a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Echo:
    """A file-like object whose write() hands back the line (Django's streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def _export_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    yield EXPORT_HEADER
    batch: list[tuple[Any, ...]] = []
    for row in events.values_list(*EXPORT_FIELDS).iterator(chunk_size=EXPORT_CHUNK):
        batch.append(row)
        if len(batch) == EXPORT_CHUNK:
            yield from _export_batch(batch)
            batch = []
    yield from _export_batch(batch)


def _export_batch(batch: list[tuple[Any, ...]]) -> Iterator[list[str]]:
    numbers = _record_numbers(row[8] for row in batch)  # participant_id
    for values in batch:
        row = dict(zip(EXPORT_FIELDS, values, strict=True))
        yield [
            csv_cell(cell)
            for cell in (
                row["seq"],
                timezone.localtime(row["at"]).isoformat(),
                row["actor_username"],
                row["actor_id"],
                row["action"],
                row["object_type"],
                row["object_id"],
                row["object_repr"],
                numbers.get(row["participant_id"], "") if row["participant_id"] else "",
                row["participant_id"],
                row["client_ip"],
                row["path"],
                row["source"],
                row["request_id"],
                row["reason"],
                json.dumps(row["changes"], ensure_ascii=False, sort_keys=True),
                row["hash"],
            )
        ]


@staff_view(Perm.AUDIT_VIEW)
def audit_export(request: StaffRequest) -> HttpResponseBase:
    """The filtered events as CSV, in the page's order, streamed in chunks (memory stays
    flat for millions of rows). The export itself is audited, with its filter."""
    form = AuditFilterForm(request.GET, participant_is="id")
    if not form.is_valid():
        return _render_log(request, form, status=400)
    query = form.query()
    audit.record(
        AuditAction.EXPORT,
        actor=request.user,
        object_type="core.auditevent",
        object_repr="audit log, CSV",
        participant_id=form.cleaned_data.get("participant"),
        changes={"filter": query},
    )
    writer = csv.writer(_Echo())
    lines = (writer.writerow(row) for row in _export_rows(_filtered(form)))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


# --- verification ---------------------------------------------------------------------------


@staff_view(Perm.AUDIT_VIEW, audit_page="core.audit_verify")
def audit_verify(request: StaffRequest) -> HttpResponse:
    """POST: walk the chain now and say what came out (audited as a verification).
    GET: what verifying does, and the recent verifications."""
    if request.method == "POST":
        report = audit.verify_log(actor=request.user)
        if report.ok and report.protected:
            messages.success(request, report.summary)
        else:
            messages.error(request, report.summary)
        # Back to the log as it was filtered: the filters are read again through the form
        # (ids only, never a record number), and dropped if they do not hold.
        back = AuditFilterForm(
            QueryDict(request.POST.get("filters", "")[:1000]), participant_is="id"
        )
        query = urlencode(back.query()) if back.is_valid() else ""
        return redirect(reverse("core:audit_log") + (f"?{query}" if query else ""))
    recent = AuditEvent.objects.filter(object_type=audit.VERIFY_TYPE).order_by("-seq")[:20]
    return render(request, "core/audit_verify.html", {"recent": list(recent)})
