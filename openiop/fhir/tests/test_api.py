"""The API's shared machinery, through Patient: tokens, scopes, search and paging,
labels, the consent gate for outside clients, disclosures and the audit."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from openiop.core.models import AuditEvent
from openiop.fhir.labels import has_part2_labels
from openiop.fhir.models import ApiToken, ClientKind
from openiop.fhir.testing import get, make_client, make_token, validate
from openiop.privacy.models import Disclosure
from openiop.testing import add_privacy

pytestmark = pytest.mark.django_db


def pid(participant) -> str:
    return str(participant.uuid)


# --- CapabilityStatement and tokens -----------------------------------------------------


def test_metadata_is_a_valid_capability_statement_without_a_token(world):
    response = get("metadata", None)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    validate(response.data)
    types = {r["type"] for r in response.data["rest"][0]["resource"]}
    assert "Patient" in types
    patient = next(r for r in response.data["rest"][0]["resource"] if r["type"] == "Patient")
    assert {"_id", "_lastUpdated", "_count"} <= {p["name"] for p in patient["searchParam"]}


def test_a_client_gets_a_token_with_its_secret_and_reads_with_it(world):
    client, secret = make_client(world.program, scopes="system/*.read")
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/fhir/R4/auth/token",
        {"grant_type": "client_credentials", "scope": "system/Patient.read"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert body["token_type"] == "bearer" and body["scope"] == "system/Patient.read"
    assert 0 < body["expires_in"] <= 3600
    assert response["Cache-Control"] == "no-store"
    row = ApiToken.objects.get(client=client)
    assert row.token_sha256 != body["access_token"]  # only a digest is kept
    assert get("Patient", body["access_token"]).status_code == 200
    assert AuditEvent.objects.filter(object_type="fhir.apitoken", action="create").exists()


@pytest.mark.parametrize(
    "form, status, error",
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_secret": "wrong"}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "scope": "system/Patient.write"},
            400,
            "invalid_scope",
        ),
        ({"grant_type": "client_credentials", "scope": "user/*.read"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "patient/*.read"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "system/Nope.read"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "nonsense"}, 400, "invalid_scope"),
    ],
)
def test_token_requests_that_fail_say_why(world, form, status, error):
    client, secret = make_client(world.program, scopes="system/Patient.read")
    data = {"client_id": client.client_id, "client_secret": secret, **form}
    response = Client().post("/fhir/R4/auth/token", data)
    assert response.status_code == status
    assert json.loads(response.content)["error"] == error


def test_a_narrower_scope_than_allowed_is_granted(world):
    client, secret = make_client(world.program, scopes="system/*.read")
    response = Client().post(
        "/fhir/R4/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
            "scope": "system/Patient.rs system/Patient.read",
        },
    )
    assert json.loads(response.content)["scope"] == "system/Patient.rs system/Patient.read"


def test_a_retired_client_gets_no_token_and_its_tokens_stop(world):
    client, secret = make_client(world.program)
    token = make_token(client)
    client.retired_at = timezone.now()
    client.save()
    response = Client().post(
        "/fhir/R4/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )
    assert response.status_code == 401
    assert get("Patient", token).status_code == 401


@pytest.mark.parametrize("case", ["none", "unknown", "expired", "revoked"])
def test_without_a_good_token_the_answer_is_401_with_an_outcome(world, case):
    client, _ = make_client(world.program)
    token = make_token(client)
    if case in ("none", "unknown"):
        token = None if case == "none" else "nope"
    if case == "expired":
        ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    if case == "revoked":
        ApiToken.objects.update(revoked_at=timezone.now())
    response = get("Patient", token)
    assert response.status_code == 401
    assert response.data["resourceType"] == "OperationOutcome"
    assert response["WWW-Authenticate"].startswith("Bearer")
    validate(response.data)


def test_a_token_without_the_scope_is_refused(world):
    client, _ = make_client(world.program, scopes="system/Patient.read system/Observation.read")
    token = make_token(client, "system/Observation.read")
    response = get("Patient", token)
    assert response.status_code == 403
    assert "system/Patient.read" in response.data["issue"][0]["diagnostics"]
    assert "(granted: system/Observation.read)" in response.data["issue"][0]["diagnostics"]
    denied = AuditEvent.objects.filter(action="denied", object_type="fhir.Patient")
    assert denied.get().actor_username == f"api:{client.client_id}"
    # .s lets a client search but not read one by id.
    token = make_token(client, "system/Patient.s")
    assert get("Patient", token).status_code == 200
    assert get(f"Patient/{pid(world.active)}", token).status_code == 403


# --- search, paging, parameters ---------------------------------------------------------


def test_patient_search_is_a_valid_labelled_bundle_of_the_program_only(world):
    client, _ = make_client(world.program)
    response = get("Patient", make_token(client))
    assert response.status_code == 200
    bundle = response.data
    validate(bundle)
    assert bundle["type"] == "searchset"
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert pid(world.active) in ids and pid(world.referred) in ids
    assert pid(world.foreign) not in ids  # another program's participant
    assert bundle["total"] == len(ids)
    for entry in bundle["entry"]:
        validate(entry["resource"])
        assert has_part2_labels(entry["resource"])
        assert entry["fullUrl"].endswith(f"/fhir/R4/Patient/{entry['resource']['id']}")
        assert entry["search"]["mode"] == "match"


def test_id_search_and_read(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    response = get("Patient", token, _id=pid(world.active))
    assert [e["resource"]["id"] for e in response.data["entry"]] == [pid(world.active)]
    read = get(f"Patient/{pid(world.active)}", token)
    assert read.status_code == 200 and read.data["id"] == pid(world.active)
    assert read.data["identifier"][0]["value"] == world.active.record_number
    language = read.data["communication"][0]["language"]
    assert language["text"] == "English" and language["coding"][0]["code"] == "en"
    validate(read.data)
    assert get(f"Patient/{pid(world.foreign)}", token).status_code == 404
    assert get("Patient/not-a-uuid", token).status_code == 404
    assert get("Patient", token, _id="not-a-uuid").data["total"] == 0


def test_a_voided_record_reads_as_gone(world):
    client, _ = make_client(world.program)
    world.referred.voided = True
    world.referred.save(update_fields=["voided"])
    response = get(f"Patient/{pid(world.referred)}", make_token(client))
    assert response.status_code == 410
    assert response.data["issue"][0]["code"] == "deleted"


def test_paging_follows_next_links_to_every_resource_once(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    seen: list[str] = []
    response = get("Patient", token, _count=1)
    total = response.data["total"]
    assert total >= 2
    pages = 0
    while True:
        pages += 1
        seen += [e["resource"]["id"] for e in response.data["entry"]]
        nxt = [link["url"] for link in response.data["link"] if link["relation"] == "next"]
        if not nxt:
            break
        assert "_count=1" in nxt[0]
        response = get(nxt[0].split("/fhir/R4/", 1)[1], token)
        assert response.status_code == 200
    assert pages == total and len(seen) == total == len(set(seen))
    assert get("Patient", token, _count=0).data["entry"] == []  # only the total


def test_last_updated_with_prefixes(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    old = timezone.now() - dt.timedelta(days=40)
    type(world.referred).objects.filter(pk=world.referred.pk).update(updated_at=old)
    day = (old - dt.timedelta(days=1)).date().isoformat()
    ids = lambda r: {e["resource"]["id"] for e in r.data["entry"]}  # noqa: E731
    before = get("Patient", token, _lastUpdated=f"lt{(old + dt.timedelta(days=1)).date()}")
    assert ids(before) == {pid(world.referred)}
    after = get("Patient", token, _lastUpdated=f"ge{(old + dt.timedelta(days=2)).date()}")
    assert pid(world.referred) not in ids(after) and pid(world.active) in ids(after)
    both = get("Patient", token, _lastUpdated=[f"gt{day}", f"le{timezone.now().date()}"])
    assert pid(world.referred) in ids(both)


def test_unknown_parameters_are_reported_not_ignored(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    response = get("Patient", token, family="Smith", _sort="name")
    assert response.status_code == 200
    outcome = [e for e in response.data["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1
    text = " ".join(i["diagnostics"] for i in outcome[0]["resource"]["issue"])
    assert "family" in text and "_sort" in text
    validate(response.data)
    strict = Client().get(
        "/fhir/R4/Patient",
        {"family": "Smith"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_PREFER="handling=strict",
    )
    assert strict.status_code == 400
    assert "family" in json.loads(strict.content)["issue"][0]["diagnostics"]
    # Patient has no `patient` parameter: reported too.
    assert any(
        e["search"]["mode"] == "outcome"
        for e in get("Patient", token, patient=pid(world.active)).data["entry"]
    )


@pytest.mark.parametrize(
    "params",
    [
        {"_count": "many"},
        {"_count": "-1"},
        {"_offset": "x"},
        {"_lastUpdated": "yesterday"},
        {"_lastUpdated": "xx2026-01-01"},
        {"_lastUpdated": "2026-13-01"},
        {"_lastUpdated": "ge2026-02-30"},
        {"_id": ","},
    ],
)
def test_bad_values_are_400_outcomes(world, params):
    client, _ = make_client(world.program)
    response = get("Patient", make_token(client), **params)
    assert response.status_code == 400, response.content
    assert response.data["resourceType"] == "OperationOutcome"
    validate(response.data)


def test_unknown_types_methods_and_formats(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    assert get("Medication", token).status_code == 404
    for path in ("Patient/", "Patient/x/y", "Patient/x/"):
        response = get(path, token)
        assert response.status_code == 404 and response.data["resourceType"] == "OperationOutcome"
    assert get("Patient", token, _format="xml").status_code == 406
    response = Client().post("/fhir/R4/Patient", {}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405 and "GET" in response["Allow"]
    assert get(f"Patient/{pid(world.active)}", token, foo="1").status_code == 400


# --- patient context, consent, disclosures, audit ---------------------------------------


def test_a_patient_scope_reads_only_its_participant(world):
    client, _ = make_client(world.program, scopes="patient/*.read", participant=world.active)
    token = make_token(client)
    response = get("Patient", token)
    assert [e["resource"]["id"] for e in response.data["entry"]] == [pid(world.active)]
    assert get(f"Patient/{pid(world.referred)}", token).status_code == 404


def test_each_read_is_audited_per_participant_with_the_client(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    before = AuditEvent.objects.count()
    get(f"Patient/{pid(world.active)}", token)
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "view" and event.object_type == "fhir.Patient"
    assert event.participant_id == world.active.pk
    assert event.actor_username == f"api:{client.client_id}"
    assert event.changes["client"] == client.client_id
    search = get("Patient", token)
    n = len(search.data["entry"])
    assert AuditEvent.objects.filter(object_type="fhir.Patient").count() == 1 + n
    assert Disclosure.objects.count() == 0  # the program's own system: uses, not disclosures


def test_an_outside_client_without_consent_is_refused(world):
    add_privacy(world)  # world.active has a TPO consent (treating providers); referred none
    client, _ = make_client(
        world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital", recipient_kind="provider"
    )
    token = make_token(client)
    refused = get(f"Patient/{pid(world.referred)}", token)
    assert refused.status_code == 403
    assert refused.data["issue"][0]["code"] == "suppressed"
    assert "42 CFR" in refused.data["issue"][0]["diagnostics"]
    assert AuditEvent.objects.filter(
        action="disclose_refused", participant_id=world.referred.pk
    ).exists()
    assert get("Patient", token, _id=pid(world.referred)).data["total"] == 0
    # A search shows only participants whose consent covers the client.
    search = get("Patient", token)
    assert [e["resource"]["id"] for e in search.data["entry"]] == [pid(world.active)]
    assert Disclosure.objects.get().participant_id == world.active.pk


def test_an_outside_clients_read_with_consent_is_a_disclosure(world):
    add_privacy(world)
    client, _ = make_client(world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
    response = get(f"Patient/{pid(world.active)}", make_token(client))
    assert response.status_code == 200
    disclosure = Disclosure.objects.get()
    assert disclosure.channel == "api" and disclosure.recipient_name == "Mercy Hospital"
    assert disclosure.purpose == "TREAT" and disclosure.information == ["enrolment"]
    assert disclosure.consent == world.tpo_consent
    assert "42 CFR part 2" in disclosure.notice
    assert AuditEvent.objects.filter(action="disclose", participant_id=world.active.pk).exists()


def test_an_outside_client_of_a_kind_the_consent_does_not_name_is_refused(world):
    add_privacy(world)  # the TPO consent covers providers and payers, not employers
    client, _ = make_client(
        world.program, kind=ClientKind.OUTSIDE, name="Acme Corp", recipient_kind="employer"
    )
    response = get(f"Patient/{pid(world.active)}", make_token(client))
    assert response.status_code == 403
    assert Disclosure.objects.count() == 0


def test_a_revoked_consent_stops_the_next_read(world):
    add_privacy(world)
    client, _ = make_client(world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
    token = make_token(client)
    assert get(f"Patient/{pid(world.active)}", token).status_code == 200
    from openiop.privacy.services import revoke_consent

    revoke_consent(
        world.tpo_consent,
        actor=world.counsellor,
        revoked_on=world.program.today(),
        note="By phone",
    )
    assert get(f"Patient/{pid(world.active)}", token).status_code == 403


def test_a_page_costs_the_same_queries_however_many_participants_exist(world):
    """The query count of a search page depends on the page size, not on the data."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openiop.testing import make_participant

    client, _ = make_client(world.program)
    token = make_token(client)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = get("Patient", token, _count=2)
        assert len(response.data["entry"]) == 2
        return len(ctx.captured_queries)

    queries()  # the first use of a token notes when it was used (once a minute)
    few = queries()
    for n in range(8):
        make_participant(world.program, world.intake, last=f"More{n}")
    assert queries() == few
