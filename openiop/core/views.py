from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
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


# Issue 13, point 5: while the database is down (restarted, failed over, unreachable) a
# request gets a calm 503 and a hint when to retry, not a 500 that looks like a bug.
RETRY_AFTER_SECONDS = 60


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether `exc` (or an exception it was raised from or while handling) is the
    database being unreachable: a failed connect, a connection lost mid-request, a lock
    that did not come in time. Integrity and programming errors stay 500s (bugs)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 for a database outage. It must not need the database itself: no context
    processors (they read the session and the user), no user lookup. The request's
    transaction was rolled back by the failure, so nothing of it was saved."""
    if request.path.startswith("/fhir/"):
        from openiop.fhir.errors import fhir_json, issue, outcome

        response = fhir_json(
            outcome(
                [
                    issue(
                        "error",
                        "transient",
                        "The server cannot reach its database just now; nothing was saved. "
                        "Retry later.",
                    )
                ]
            ),
            503,
        )
    elif request.path.startswith("/healthz"):
        response = JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render({}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Never cached: the next try must reach the application.
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls handler500 inside its `except`, so sys.exc_info() is the failure.
    if database_unreachable(sys.exc_info()[1]):
        return database_unavailable(request)
    # Rendered without the request (no context processors, which query the database), as
    # Django's own handler does: the error page must not fail in turn.
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
