"""Every resource the API produces over the whole demo program validates with the
fhir.resources R4 models (issue 12, acceptance 1), carries the Part 2 labels, and reads
back the same by id."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import transaction

from openiop.demo import builder
from openiop.fhir.labels import has_part2_labels
from openiop.fhir.registry import REGISTRY
from openiop.fhir.testing import get, make_client, make_token, validate
from openiop.programs.models import Program

DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        builder.build(today=DAY)
        yield
        transaction.set_rollback(True)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def walk(token: str, rtype: str) -> list[dict]:
    """Every resource of a type, following next links."""
    resources: list[dict] = []
    response = get(rtype, token, _count=500)
    while True:
        assert response.status_code == 200, response.content[:300]
        validate(response.data)  # the Bundle itself
        resources += [e["resource"] for e in response.data["entry"]]
        nxt = [link["url"] for link in response.data["link"] if link["relation"] == "next"]
        if not nxt:
            break
        response = get(nxt[0].split("/fhir/R4/", 1)[1], token)
    assert len(resources) == response.data["total"]
    return resources


def test_every_resource_of_the_demo_program_validates():
    program = Program.objects.get(name=builder.DEMO_PROGRAM)
    client, _ = make_client(program)
    token = make_token(client)
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for rtype in sorted(REGISTRY):
        resources = walk(token, rtype)
        counts[rtype] = len(resources)
        ids = [r["id"] for r in resources]
        assert len(ids) == len(set(ids)), f"{rtype}: duplicate ids"
        for resource in resources:
            assert resource["resourceType"] == rtype
            assert has_part2_labels(resource), f"{rtype}/{resource['id']} without labels"
            try:
                validate(resource)
            except Exception as exc:  # collect every broken resource, not just the first
                problems.append(f"{rtype}/{resource['id']}: {str(exc)[:300]}")
        # A sample read back by id gives the same resource.
        for resource in resources[:: max(1, len(resources) // 5)]:
            read = get(f"{rtype}/{resource['id']}", token)
            assert read.status_code == 200, read.content[:300]
            assert read.data == resource
    assert not problems, "\n".join(problems[:20])
    empty = sorted(t for t in REGISTRY if counts[t] == 0)
    assert not empty, f"the demo program has no {', '.join(empty)}"
