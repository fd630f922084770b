from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .access import StaffRequest, public_view, staff_view
from .board import panels_for
from .choices import AuditAction, JobStatus
from .models import AuditEvent, JobRun
from .roles import Perm
from .worker import REGISTRY


@staff_view(None, audit_page="core.today")
def today(request: StaffRequest) -> HttpResponse:
    return render(
        request, "core/today.html", {"panels": panels_for(request), "now": timezone.localtime()}
    )


@staff_view(Perm.AUDIT_VIEW, audit_page="core.audit_log")
def audit_log(request: StaffRequest) -> HttpResponse:
    if request.method == "POST":
        # The filter form is posted so a record number typed in never reaches a URL (PHI
        # in server logs); the redirect carries the participant's internal id instead.
        params = {k: request.POST.get(k, "").strip()[:150] for k in ("user", "action", "since")}
        typed = request.POST.get("participant", "").strip()[:40]
        if typed:
            pid = _participant_id(typed)
            params["participant"] = str(pid) if pid is not None else "unknown"
        query = urlencode({k: v for k, v in params.items() if v})
        return redirect(f"{reverse('core:audit_log')}?{query}")
    events = AuditEvent.objects.all()
    filters = {
        "participant": request.GET.get("participant", "").strip(),
        "user": request.GET.get("user", "").strip()[:150],
        "action": request.GET.get("action", ""),
        "since": request.GET.get("since", ""),
    }
    errors = []
    if filters["participant"]:
        pid = int(filters["participant"]) if filters["participant"].isdigit() else None
        if pid is None or len(filters["participant"]) > 18:
            errors.append("No participant has that record number (e.g. OI-000123-4).")
            events = events.none()
        else:
            events = events.filter(participant_id=pid)
    if filters["user"]:
        events = events.filter(actor_username__iexact=filters["user"])
    if filters["action"] in AuditAction.values:
        events = events.filter(action=filters["action"])
    if filters["since"]:
        try:
            since = dt.date.fromisoformat(filters["since"])
        except ValueError:
            errors.append("“Since” must be a date (YYYY-MM-DD).")
        else:
            start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
            events = events.filter(at__gte=start)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    numbers = _record_numbers({e.participant_id for e in page.object_list if e.participant_id})
    rows = [(e, numbers.get(e.participant_id, "")) for e in page.object_list]
    return render(
        request,
        "core/audit_log.html",
        {
            "page": page,
            "rows": rows,
            "filter_record_number": numbers.get(pid, "") if filters["participant"] and pid else "",
            "filters": filters,
            "errors": errors,
            "actions": AuditAction.choices,
            "querystring": params.urlencode(),
        },
    )


def _participant_model():
    # Looked up by name: core does not import the participants app (it depends on core).
    return apps.get_model("participants", "Participant")


def _participant_id(text: str) -> int | None:
    """A record number (OI-000123-4) to a participant's internal id."""
    return (
        _participant_model()
        .objects.filter(record_number__iexact=text.replace("\x00", ""))
        .values_list("pk", flat=True)
        .first()
    )


def _record_numbers(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(_participant_model().objects.filter(pk__in=ids).values_list("pk", "record_number"))


@staff_view(Perm.JOBS_VIEW, audit_page="core.jobs")
def jobs(request: StaffRequest) -> HttpResponse:
    runs = list(JobRun.objects.all()[:100])
    failures = list(JobRun.objects.filter(status__in=[JobStatus.FAILED, JobStatus.GAVE_UP])[:20])
    last: dict[str, JobRun] = {}
    for run in runs:
        last.setdefault(run.job, run)
    registered = [
        {
            "name": job.name,
            "schedule": job.schedule.describe(),
            "description": job.description,
            "last": last.get(job.name),
        }
        for job in sorted(REGISTRY.values(), key=lambda j: j.name)
    ]
    return render(
        request, "core/jobs.html", {"runs": runs, "failures": failures, "registered": registered}
    )


@public_view
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = (
        str(exception)
        if exception and str(exception)
        else ("You do not have permission to see this page.")
    )
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {}, status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", {}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", {}, status=500)
