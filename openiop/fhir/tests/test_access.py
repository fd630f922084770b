"""Every FHIR URL pattern has an access rule, and the rule holds (the API's side of
tests/test_url_access.py): no token → 401, a token without the scope → 403, a record
of another program → 404, the right token → the answer and an audit event naming the
client. Public: the CapabilityStatement and the token endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from openiop.core.models import AuditEvent
from openiop.fhir.testing import make_client, make_token

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class ApiRule:
    path: Callable[[Any], str]  # under /fhir/R4/, from the world
    public: bool = False
    resource_type: str = "Patient"  # the type whose scope it needs
    method: str = "GET"
    ok: int = 200
    # A path to the same kind of record in another program (404 for this client).
    foreign: Callable[[Any], str] | None = None
    headers: dict[str, str] | None = None
    # (world, client) → the path, after making what it needs for that client (an export
    # the client started); None: `path` (helper H4).
    setup: Callable[[Any, Any], str] | None = None


def _export_of(client: Any, *, complete: bool) -> Any:
    """An export of `client` (helper H4): queued, or complete with one Patient file."""
    from openiop.fhir.models import BulkExport, BulkExportFile, ExportStatus

    export = BulkExport.objects.create(
        client=client,
        scopes="system/*.read",
        level=BulkExport.Level.SYSTEM,
        types=["Patient"],
        request_url="http://testserver/fhir/R4/$export",
        status=ExportStatus.COMPLETE if complete else ExportStatus.QUEUED,
    )
    if complete:
        BulkExportFile.objects.create(
            export=export, resource_type="Patient", count=1, content='{"resourceType":"Patient"}\n'
        )
    return export


def _status_path(client: Any) -> str:
    return f"$export-status/{_export_of(client, complete=False).uuid}"


def _file_path(client: Any) -> str:
    return f"$export-file/{_export_of(client, complete=True).uuid}/output-Patient.ndjson"


KICK_OFF = {"Accept": "application/fhir+json", "Prefer": "respond-async"}
NO_EXPORT = "00000000-0000-4000-8000-000000000000"


API_RULES: dict[str, ApiRule] = {
    "fhir:metadata": ApiRule(lambda w: "metadata", public=True),
    # Any other path under /fhir/R4/: an OperationOutcome 404 (no token needed to learn
    # that a path does not exist).
    "fhir:not_found": ApiRule(lambda w: "Patient/x/y", public=True, ok=404),
    "fhir:token": ApiRule(lambda w: "auth/token", public=True, method="POST"),
    "fhir:search": ApiRule(lambda w: "Patient"),
    "fhir:read": ApiRule(
        lambda w: f"Patient/{w.active.uuid}", foreign=lambda w: f"Patient/{w.foreign.uuid}"
    ),
    "fhir:export": ApiRule(lambda w: "$export?_type=Patient", ok=202, headers=KICK_OFF),
    "fhir:patient_export": ApiRule(
        lambda w: "Patient/$export?_type=Patient", ok=202, headers=KICK_OFF
    ),
    "fhir:export_status": ApiRule(
        lambda w: f"$export-status/{NO_EXPORT}",
        ok=202,
        setup=lambda w, c: _status_path(c),
        foreign=lambda w: _status_path(make_client(w.other_program)[0]),
    ),
    "fhir:export_file": ApiRule(
        lambda w: f"$export-file/{NO_EXPORT}/output-Patient.ndjson",
        setup=lambda w, c: _file_path(c),
        foreign=lambda w: _file_path(make_client(w.other_program)[0]),
    ),
}


def call(rule: ApiRule, world: Any, token: str | None, path: str | None = None) -> Any:
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (rule.headers or {}).items()}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    url = "/fhir/R4/" + (path or rule.path(world))
    client = Client()
    return client.post(url, {}, **headers) if rule.method == "POST" else client.get(url, **headers)


def path_for(rule: ApiRule, world: Any, client: Any) -> str:
    return rule.setup(world, client) if rule.setup else rule.path(world)


PROTECTED = sorted(n for n, r in API_RULES.items() if not r.public)


def test_every_api_url_is_declared_an_api_view():
    from openiop.tests.test_url_access import all_url_names

    names = {n: cb for n, cb in all_url_names().items() if n.startswith("fhir:")}
    assert set(names) == set(API_RULES), "fhir URL patterns and API_RULES differ"
    for name, callback in names.items():
        assert getattr(callback, "openiop_api_view", False), name
        assert getattr(callback, "openiop_public_api", False) == API_RULES[name].public, name


@pytest.mark.parametrize("name", PROTECTED)
def test_no_token_is_401(world, name):
    response = call(API_RULES[name], world, None)
    assert response.status_code == 401, response.content
    assert b"OperationOutcome" in response.content


@pytest.mark.parametrize("name", PROTECTED)
def test_a_token_without_the_scope_is_403(world, name):
    rule = API_RULES[name]
    other = "Consent" if rule.resource_type != "Consent" else "Patient"
    client, _ = make_client(world.program, scopes=f"system/{other}.read")
    response = call(rule, world, make_token(client), path_for(rule, world, client))
    assert response.status_code == 403, response.content
    assert b"OperationOutcome" in response.content


@pytest.mark.parametrize("name", sorted(n for n in PROTECTED if API_RULES[n].foreign))
def test_another_programs_record_is_404(world, name):
    rule = API_RULES[name]
    client, _ = make_client(world.program)
    response = call(rule, world, make_token(client), rule.foreign(world))  # type: ignore[misc]
    assert response.status_code == 404, response.content


@pytest.mark.parametrize("name", PROTECTED)
def test_the_right_token_gets_the_answer_and_an_audit_event(world, name):
    rule = API_RULES[name]
    client, _ = make_client(world.program)
    before = AuditEvent.objects.filter(actor_username=f"api:{client.client_id}").count()
    response = call(rule, world, make_token(client), path_for(rule, world, client))
    assert response.status_code == rule.ok, response.content
    after = AuditEvent.objects.filter(actor_username=f"api:{client.client_id}").count()
    assert after > before
