"""Reports read from the replica when one is configured; nothing else does (issue 13)."""

from __future__ import annotations

import pytest
from django.db import connections
from django.urls import reverse

from openiop.core import routers
from openiop.core.models import AuditEvent
from openiop.participants.models import Episode, Participant
from openiop.scheduling.models import Session


@pytest.fixture
def with_replica(monkeypatch):
    """A `reports` alias, as REPORTS_DATABASE_URL would add (never connected to here)."""
    databases = dict(connections.databases)
    databases[routers.REPORTS] = dict(connections.databases["default"])
    monkeypatch.setattr(connections, "_settings", databases)
    monkeypatch.setattr(type(connections), "databases", property(lambda self: self._settings))
    return databases


def test_without_a_replica_everything_reads_the_primary():
    with routers.reporting():
        assert Episode.objects.all().db == "default"
        assert Participant.objects.all().db == "default"


def test_a_report_reads_clinical_records_from_the_replica(with_replica):
    with routers.reporting():
        assert Episode.objects.all().db == routers.REPORTS
        assert Session.objects.all().db == routers.REPORTS
        # The audit log's chain head is locked FOR UPDATE: never the replica.
        assert AuditEvent.objects.all().db == "default"
    # Outside a report, the primary.
    assert Episode.objects.all().db == "default"


def test_writes_and_migrations_stay_on_the_primary(with_replica):
    router = routers.ReportsRouter()
    with routers.reporting():
        assert router.db_for_write(Episode) is None
    assert router.allow_migrate(routers.REPORTS, "participants") is False
    assert router.allow_migrate("default", "participants") is True


@pytest.mark.parametrize(
    "name,args",
    [
        ("outcomes:dashboard", []),
        ("outcomes:csv", ["retention"]),
        ("teds:export", []),
    ],
)
def test_the_report_pages_run_as_reports(world, login, monkeypatch, name, args):
    seen = []
    real = routers.ReportsRouter.db_for_read

    def spy(self, model, **hints):
        seen.append(routers._reporting.get())
        return real(self, model, **hints)

    monkeypatch.setattr(routers.ReportsRouter, "db_for_read", spy)
    user = world.compliance if name.startswith("teds") else world.director
    response = login(user).get(reverse(name, args=args))
    assert response.status_code == 200
    assert any(seen), "the report's reads did not run inside reporting()"
    # The reporting context ends with the view.
    assert routers._reporting.get() is False
