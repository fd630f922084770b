from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from .access import StaffRequest, public_view, staff_view
from .board import panels_for
from .choices import JobStatus
from .models import JobRun
from .roles import Perm
from .worker import REGISTRY


@staff_view(None, audit_page="core.today")
def today(request: StaffRequest) -> HttpResponse:
    return render(
        request, "core/today.html", {"panels": panels_for(request), "now": timezone.localtime()}
    )


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
