"""Periodic jobs on the database itself: no broker.

Apps register jobs in their `jobs.py` (imported from `AppConfig.ready`):

    @register_job("core.clear_expired_sessions", Daily(hour=3))
    def clear_expired_sessions(period): ...

A run of a job for a period (a day, a quarter hour) is claimed by inserting a `JobRun`
row whose (job, period) is unique. The job runs inside the same transaction as its
`JobRun` row, so:

* two workers racing for the same period: the second one's insert waits for the first
  to commit and then finds the period done (or, on PostgreSQL, skips a row still locked);
* a crash mid-run rolls back the job's writes *and* the claim: the next pass runs the
  period again, and it still takes effect at most once;
* a job that raises is rolled back to a savepoint, recorded as failed with its error,
  and retried on each later pass until it succeeds or reaches OPENIOP_JOB_MAX_ATTEMPTS.

Only the current period is considered: a worker that was down for a day does not
replay the days it missed.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .choices import JobStatus
from .models import JobRun

log = logging.getLogger(__name__)


class Schedule:
    def period_for(self, now: dt.datetime) -> str | None:
        """The key of the period `now` falls in, or None if nothing is due yet."""
        raise NotImplementedError  # pragma: no cover  (abstract)

    def describe(self) -> str:
        raise NotImplementedError  # pragma: no cover  (abstract)


@dataclass(frozen=True)
class Every(Schedule):
    """Once per interval of `minutes`, aligned to midnight UTC."""

    minutes: int

    def period_for(self, now: dt.datetime) -> str:
        utc = now.astimezone(dt.UTC)
        minute_of_day = utc.hour * 60 + utc.minute
        start = minute_of_day - minute_of_day % self.minutes
        return f"{utc:%Y-%m-%d}T{start // 60:02d}:{start % 60:02d}Z"

    def describe(self) -> str:
        return f"every {self.minutes} min"


@dataclass(frozen=True)
class Daily(Schedule):
    """Once a day, from `hour:minute` in the server's time zone (settings.TIME_ZONE)."""

    hour: int = 0
    minute: int = 0

    def period_for(self, now: dt.datetime) -> str | None:
        local = timezone.localtime(now)
        if (local.hour, local.minute) < (self.hour, self.minute):
            return None
        return local.date().isoformat()

    def describe(self) -> str:
        return f"daily from {self.hour:02d}:{self.minute:02d}"


JobFunc = Callable[[str], str | None]


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    func: JobFunc
    description: str = ""


REGISTRY: dict[str, Job] = {}


def register_job(name: str, schedule: Schedule) -> Callable[[JobFunc], JobFunc]:
    def decorator(func: JobFunc) -> JobFunc:
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise ValueError(f"Job {name!r} is registered twice")
        REGISTRY[name] = Job(name, schedule, func, (func.__doc__ or "").strip().split("\n")[0])
        return func

    return decorator


@dataclass
class Outcome:
    job: str
    period: str
    status: str  # ran, failed, skipped-done, skipped-locked, gave-up


def worker_name() -> str:
    import os

    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def run_due(now: dt.datetime | None = None, *, jobs: dict[str, Job] | None = None) -> list[Outcome]:
    """Run every registered job whose current period has not succeeded yet."""
    now = now or timezone.now()
    outcomes = []
    for job in (jobs if jobs is not None else REGISTRY).values():
        period = job.schedule.period_for(now)
        if period is None:
            continue
        outcomes.append(run_period(job, period))
    return outcomes


def run_period(job: Job, period: str) -> Outcome:
    me = worker_name()
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = JobRun.objects.create(job=job.name, period=period, worker=me)
        except IntegrityError:
            run_or_none = (
                JobRun.objects.select_for_update(skip_locked=True)
                .filter(job=job.name, period=period)
                .first()
            )
            if run_or_none is None:
                return Outcome(job.name, period, "skipped-locked")
            run = run_or_none
            if run.status == JobStatus.SUCCEEDED:
                return Outcome(job.name, period, "skipped-done")
            if run.status == JobStatus.GAVE_UP:
                return Outcome(job.name, period, "gave-up")
        run.attempts += 1
        run.worker = me
        run.started_at = timezone.now()
        try:
            with transaction.atomic():
                result = job.func(period)
        except Exception:
            # A failing job must not stop the others: record it and retry next pass.
            log.exception("job %s failed for %s", job.name, period)
            run.error = traceback.format_exc()[-5000:]
            max_attempts = settings.OPENIOP_JOB_MAX_ATTEMPTS
            run.status = JobStatus.GAVE_UP if run.attempts >= max_attempts else JobStatus.FAILED
            status = "failed"
        else:
            run.status = JobStatus.SUCCEEDED
            run.result = (result or "")[:500]
            run.error = ""
            status = "ran"
        run.finished_at = timezone.now()
        run.save()
        return Outcome(job.name, period, status)
