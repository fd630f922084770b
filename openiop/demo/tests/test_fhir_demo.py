"""The demo's API clients (issue 12): the published secrets get tokens; the data
warehouse reads every participant, the hospital only those whose consent covers it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.test import Client

from openiop.demo import builder
from openiop.demo import fhir as fhir_demo
from openiop.fhir.testing import get
from openiop.participants.models import Participant
from openiop.privacy.models import Disclosure

DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        builder.build(today=DAY)
        yield
        transaction.set_rollback(True)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def token(client_id: str, secret: str) -> str:
    response = Client().post(
        "/fhir/R4/auth/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return json.loads(response.content)["access_token"]


def test_the_published_demo_clients_read_what_their_kind_allows():
    warehouse = token(fhir_demo.WAREHOUSE_ID, fhir_demo.WAREHOUSE_SECRET)
    hospital = token(fhir_demo.HOSPITAL_ID, fhir_demo.HOSPITAL_SECRET)
    everyone = get("Patient", warehouse, _count=0).data["total"]
    assert everyone == Participant.objects.filter(voided=False).count()
    consented = get("Patient", hospital, _count=500)
    assert 0 < consented.data["total"] < everyone
    assert Disclosure.objects.filter(channel="api").count() == consented.data["total"]
