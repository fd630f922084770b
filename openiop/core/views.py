from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from .access import public_view, staff_view
from .board import panels_for
from .choices import AuditAction, JobStatus
from .models import AuditEvent, JobRun
from .roles import Perm
from .worker import REGISTRY


@staff_view(None, audit_page="core.today")
def today(request: HttpRequest) -> HttpResponse:
    return render(
        request, "core/today.html", {"panels": panels_for(request), "now": timezone.localtime()}
    )


@staff_view(Perm.AUDIT_VIEW, audit_page="core.audit_log")
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    filters = {
        "participant": request.GET.get("participant", "").strip(),
        "user": request.GET.get("user", "").strip()[:150],
        "action": request.GET.get("action", ""),
        "since": request.GET.get("since", ""),
    }
    errors = []
    if filters["participant"]:
        if filters["participant"].isdigit():
            events = events.filter(participant_id=int(filters["participant"]))
        else:
            errors.append("Participant must be a participant's internal number.")
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
    return render(
        request,
        "core/audit_log.html",
        {
            "page": page,
            "filters": filters,
            "errors": errors,
            "actions": AuditAction.choices,
            "querystring": params.urlencode(),
        },
    )


@staff_view(Perm.JOBS_VIEW, audit_page="core.jobs")
def jobs(request: HttpRequest) -> HttpResponse:
    runs = list(JobRun.objects.all()[:100])
    failures = list(JobRun.objects.filter(status__in=[JobStatus.FAILED, JobStatus.GAVE_UP])[:20])
    last = {}
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
