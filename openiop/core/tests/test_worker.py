"""The worker: each job's period runs once; a failing job is recorded and retried."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command

from openiop.core import worker
from openiop.core.choices import JobStatus
from openiop.core.models import JobRun, Sequence

NOW = dt.datetime(2026, 11, 24, 15, 7, tzinfo=dt.UTC)


@pytest.fixture
def registry(monkeypatch):
    """An isolated job registry for each test."""
    jobs: dict[str, worker.Job] = {}
    monkeypatch.setattr(worker, "REGISTRY", jobs)
    return jobs


def counting_job(registry, name="test.count", schedule=None, fail_times=0):
    calls = {"n": 0}

    @worker.register_job(name, schedule or worker.Every(minutes=15))
    def job(period: str) -> str:
        calls["n"] += 1
        # A visible side effect in the same transaction as the run.
        Sequence.next_value(f"effect:{name}")
        if calls["n"] <= fail_times:
            raise RuntimeError(f"boom {calls['n']}")
        return "done"

    return calls


@pytest.mark.django_db
def test_worker_once_twice_runs_a_due_job_once(registry):
    calls = counting_job(registry)
    call_command("worker", "--once")
    call_command("worker", "--once")
    assert calls["n"] == 1
    run = JobRun.objects.get(job="test.count")
    assert run.status == JobStatus.SUCCEEDED
    assert run.attempts == 1
    assert run.result == "done"


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_retried_on_the_next_run(registry):
    calls = counting_job(registry, fail_times=1)
    first = worker.run_due(NOW)
    assert [o.status for o in first] == ["failed"]
    run = JobRun.objects.get(job="test.count")
    assert run.status == JobStatus.FAILED
    assert "boom 1" in run.error
    # The failed attempt's writes were rolled back with it.
    assert not Sequence.objects.filter(name="effect:test.count").exists()

    second = worker.run_due(NOW)
    assert [o.status for o in second] == ["ran"]
    run.refresh_from_db()
    assert run.status == JobStatus.SUCCEEDED and run.attempts == 2 and run.error == ""
    assert Sequence.objects.get(name="effect:test.count").value == 1
    assert calls["n"] == 2
    # Done now: a third pass does nothing.
    assert [o.status for o in worker.run_due(NOW)] == ["skipped-done"]


@pytest.mark.django_db
def test_a_job_that_keeps_failing_gives_up(registry, settings):
    settings.OPENIOP_JOB_MAX_ATTEMPTS = 2
    calls = counting_job(registry, fail_times=99)
    worker.run_due(NOW)
    worker.run_due(NOW)
    assert JobRun.objects.get().status == JobStatus.GAVE_UP
    assert [o.status for o in worker.run_due(NOW)] == ["gave-up"]
    assert calls["n"] == 2


@pytest.mark.django_db
def test_one_failing_job_does_not_stop_the_others(registry):
    counting_job(registry, name="a.fails", fail_times=99)
    good = counting_job(registry, name="b.works")
    outcomes = {o.job: o.status for o in worker.run_due(NOW)}
    assert outcomes == {"a.fails": "failed", "b.works": "ran"}
    assert good["n"] == 1


@pytest.mark.django_db
def test_a_crash_mid_run_leaves_nothing_and_the_next_worker_runs_it(registry):
    """A worker killed mid-job: its transaction (claim and writes) never commits."""
    calls = {"n": 0}

    class Crash(BaseException):  # like a SIGKILL: not an Exception the worker catches
        pass

    @worker.register_job("test.crash", worker.Every(minutes=15))
    def job(period):
        calls["n"] += 1
        Sequence.next_value("effect:crash")
        if calls["n"] == 1:
            raise Crash

    with pytest.raises(Crash):
        worker.run_due(NOW)
    assert not JobRun.objects.exists()
    assert not Sequence.objects.filter(name="effect:crash").exists()
    assert [o.status for o in worker.run_due(NOW)] == ["ran"]
    assert Sequence.objects.get(name="effect:crash").value == 1


@pytest.mark.django_db
def test_a_new_period_runs_again(registry):
    calls = counting_job(registry)
    worker.run_due(NOW)
    worker.run_due(NOW + dt.timedelta(minutes=5))  # same quarter hour
    worker.run_due(NOW + dt.timedelta(minutes=15))  # next one
    assert calls["n"] == 2
    assert JobRun.objects.count() == 2


def test_periods():
    assert worker.Every(minutes=15).period_for(NOW) == "2026-11-24T15:00Z"
    assert worker.Every(minutes=60).period_for(NOW) == "2026-11-24T15:00Z"
    daily = worker.Daily(hour=3)
    # 15:07 UTC is 10:07 in New York (the test server's TIME_ZONE): past 03:00.
    assert daily.period_for(NOW) == "2026-11-24"
    early = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)  # 02:00 in New York
    assert daily.period_for(early) is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_run_a_period_once(registry):
    """Two threads (two database connections) race for the same period."""
    # On SQLite the second writer waits for the first (BEGIN IMMEDIATE, busy timeout);
    # on PostgreSQL its insert waits on the unique key. Either way: one run.
    calls = counting_job(registry)
    barrier = threading.Barrier(2)
    results = []

    def run():
        from django.db import connections

        try:
            barrier.wait()
            results.extend(worker.run_due(NOW))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls["n"] == 1
    assert sorted(o.status for o in results) in (["ran", "skipped-done"], ["ran", "skipped-locked"])


@pytest.mark.django_db
def test_core_registers_session_cleanup():
    from openiop.core.worker import REGISTRY

    assert "core.clear_expired_sessions" in REGISTRY
    outcomes = worker.run_due(NOW, jobs={"x": REGISTRY["core.clear_expired_sessions"]})
    assert outcomes[0].status == "ran"


def test_registering_two_jobs_under_one_name_is_an_error(registry):
    worker.register_job("dup", worker.Every(minutes=5))(lambda p: None)
    with pytest.raises(ValueError, match="twice"):
        worker.register_job("dup", worker.Every(minutes=5))(lambda p: "other")
