"""FHIR Bulk Data `$export`: kick-off, status polling, the worker's files, the manifest,
cancelling, scopes, the consent gate and disclosures, and a failing export."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from openiop.core.models import AuditEvent, JobRun
from openiop.core.worker import REGISTRY as JOBS
from openiop.core.worker import run_period
from openiop.fhir import export as bulk
from openiop.fhir.errors import FhirError
from openiop.fhir.models import BulkExport, BulkExportFile, ClientKind, ExportStatus
from openiop.fhir.registry import REGISTRY
from openiop.fhir.testing import make_client, make_token, validate
from openiop.participants.models import Participant
from openiop.privacy.models import Disclosure
from openiop.testing import add_privacy

BASE = "http://testserver/fhir/R4/"
KICK_OFF = {"HTTP_ACCEPT": "application/fhir+json", "HTTP_PREFER": "respond-async"}
PATIENT_REF = re.compile(r'"reference":"Patient/([0-9a-f-]{36})"')


# --- helpers ----------------------------------------------------------------------------


def send(
    path: str, token: str, *, method: str = "GET", headers: dict[str, str] | None = None, **params
) -> Any:
    """A request to /fhir/R4/<path>; `.data` is the JSON body (or None)."""
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}", **(headers or {})}
    client = Client()
    url = f"/fhir/R4/{path}"
    response = (
        client.delete(url, **extra) if method == "DELETE" else client.get(url, params, **extra)
    )
    try:
        response.data = json.loads(response.content) if response.content else None
    except ValueError:
        response.data = None
    return response


def kick_off(token: str, path: str = "$export", **params: Any) -> str:
    """Kick an export off (asserting the 202); the status path."""
    response = send(path, token, headers=KICK_OFF, **params)
    assert response.status_code == 202, response.content
    location = response["Content-Location"]
    assert location.startswith(BASE + "$export-status/")
    validate(response.data)
    return location.removeprefix(BASE)


def run_job() -> None:
    outcome = run_period(JOBS["fhir.bulk_exports"], f"test-{uuid.uuid4().hex[:12]}")
    assert outcome.status == "ran", outcome


def manifest_of(status_path: str, token: str) -> dict[str, Any]:
    response = send(status_path, token)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.data


def download(manifest: dict[str, Any], token: str, key: str = "output") -> dict[str, list[dict]]:
    """Every file of the manifest's `key` list: type → its resources (each validated),
    with the manifest's counts checked against the lines."""
    files: dict[str, list[dict]] = {}
    for item in manifest[key]:
        response = send(item["url"].removeprefix(BASE), token)
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/fhir+ndjson"
        text = response.content.decode()
        assert text.endswith("\n")
        lines = text.splitlines()
        resources = [json.loads(line) for line in lines]
        for resource in resources:
            assert resource["resourceType"] == item["type"]
            validate(resource)
        assert item["count"] == len(resources), item
        assert item["type"] not in files  # one file per type
        files[item["type"]] = resources
    return files


def patient_ids_referenced(files: dict[str, list[dict]]) -> set[str]:
    ids = {r["id"] for r in files.get("Patient", [])}
    for resources in files.values():
        for resource in resources:
            ids |= set(PATIENT_REF.findall(json.dumps(resource, separators=(",", ":"))))
    return ids


def client_events(client: Any, **filters: Any) -> Any:
    return AuditEvent.objects.filter(actor_username=f"api:{client.client_id}", **filters)


# --- parsing (no database) --------------------------------------------------------------


@given(st.datetimes(timezones=st.timezones()))
def test_since_takes_any_instant(moment):
    text = moment.isoformat(timespec="microseconds")
    offset = moment.utcoffset()
    try:
        expected = moment.astimezone(dt.UTC)
    except OverflowError:  # a zone that puts year 1 or 9999 out of range
        expected = None
    if expected is None or offset is None or offset % dt.timedelta(minutes=1):
        # Out of range, or an offset with seconds (old local mean times): not an instant.
        with pytest.raises(FhirError) as caught:
            bulk.parse_since([text])
        assert caught.value.status == 400
        return
    assert bulk.parse_since([text]) == expected
    assert bulk.parse_since([text.replace("+", " ")]) == expected  # an unencoded "+"


@given(st.text(max_size=40))
def test_since_refuses_what_is_not_an_instant_with_a_400(text):
    try:
        value = bulk.parse_since([text])
    except FhirError as exc:
        assert exc.status == 400
    else:
        assert value is not None and value.tzinfo is not None


def test_since_needs_seconds_and_a_zone():
    for text in ("2026-11-24", "2026-11-24T10:00", "2026-11-24T10:00:00", "2026-02-30T10:00:00Z"):
        with pytest.raises(FhirError):
            bulk.parse_since([text])
    with pytest.raises(FhirError):
        bulk.parse_since(["2026-11-24T10:00:00Z", "2026-11-25T10:00:00Z"])
    assert bulk.parse_since(["2026-11-24T10:00:00.1234567-05:00"]) == dt.datetime(
        2026, 11, 24, 15, 0, 0, 123456, tzinfo=dt.UTC
    )
    assert bulk.parse_since([]) is None


# --- the flow on the small world (the `world` fixture brings the database) -------------


def test_bad_kick_offs_are_operation_outcomes_and_queue_nothing(world):
    client, _ = make_client(world.program, scopes="system/*.read")
    token = make_token(client)
    patient_client, _ = make_client(
        world.program, scopes="patient/*.read", participant=world.active, name="App"
    )
    patient_token = make_token(patient_client)
    cases: list[tuple[str, str, dict[str, str], dict[str, Any], int]] = [
        ("no Prefer", "$export", {"HTTP_ACCEPT": "application/fhir+json"}, {}, 400),
        ("unknown type", "$export", KICK_OFF, {"_type": "Nope"}, 400),
        ("empty type item", "$export", KICK_OFF, {"_type": "Patient,,"}, 400),
        ("lower-case type", "$export", KICK_OFF, {"_type": "patient"}, 400),
        ("a date, not an instant", "$export", KICK_OFF, {"_since": "2026-01-01"}, 400),
        ("no time zone", "$export", KICK_OFF, {"_since": "2026-01-01T00:00:00"}, 400),
        ("nonsense since", "$export", KICK_OFF, {"_since": "yesterday"}, 400),
        ("csv", "$export", KICK_OFF, {"_outputFormat": "text/csv"}, 400),
        ("unknown parameter", "$export", KICK_OFF, {"patient": str(world.active.uuid)}, 400),
        ("_typeFilter", "Patient/$export", KICK_OFF, {"_typeFilter": "Patient?active=true"}, 400),
        ("_elements", "$export", KICK_OFF, {"_elements": "id"}, 400),
        ("XML", "$export", {**KICK_OFF, "HTTP_ACCEPT": "application/fhir+xml"}, {}, 406),
        ("_format xml", "$export", KICK_OFF, {"_format": "xml"}, 406),
    ]
    for name, path, headers, params, code in cases:
        response = send(path, token, headers=headers, **params)
        assert response.status_code == code, (name, response.content)
        assert response.data["resourceType"] == "OperationOutcome", name
        validate(response.data)
    # Scopes: a patient/ token cannot kick off a system-level export; a type outside
    # the token's scopes is a 403, as everywhere in this API.
    response = send("$export", patient_token, headers=KICK_OFF)
    assert response.status_code == 403, response.content
    narrow = make_token(client, "system/Patient.read")
    assert send("$export", narrow, headers=KICK_OFF, _type="EpisodeOfCare").status_code == 403
    assert BulkExport.objects.count() == 0
    # A kick-off takes GET only.
    assert Client().post("/fhir/R4/$export", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == (
        405
    )
    # Five exports waiting per client at most.
    for _ in range(bulk.MAX_ACTIVE):
        kick_off(narrow, _type="Patient")
    throttled = send("$export", narrow, headers=KICK_OFF, _type="Patient")
    assert throttled.status_code == 429 and throttled["Retry-After"]


def test_system_export_on_the_world_status_files_and_audit(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    status_path = kick_off(token, _type="Patient,EpisodeOfCare", _outputFormat="ndjson")
    export = BulkExport.objects.get()
    assert export.types == ["Patient", "EpisodeOfCare"] and export.level == "system"
    assert client_events(client, action="create", object_type="fhir.bulkexport").count() == 1
    waiting = send(status_path, token)
    assert waiting.status_code == 202 and waiting["Retry-After"] == str(bulk.RETRY_AFTER)
    assert waiting["X-Progress"] == "Queued"
    assert waiting["Content-Type"].startswith("application/fhir+json")
    assert json.loads(waiting.content)["resourceType"] == "OperationOutcome"
    run_job()
    manifest = manifest_of(status_path, token)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].startswith(BASE + "$export?")
    assert bulk.parse_since([manifest["transactionTime"]]) is not None
    assert manifest["error"] == []
    files = download(manifest, token)
    program_uuids = {
        str(u)
        for u in Participant.objects.filter(program=world.program).values_list("uuid", flat=True)
    }
    assert {r["id"] for r in files["Patient"]} == program_uuids
    assert str(world.foreign.uuid) not in patient_ids_referenced(files)
    assert set(files) == {"Patient", "EpisodeOfCare"}
    # The stored digest is the file's.
    for row in BulkExportFile.objects.filter(export=export):
        assert row.sha256 == hashlib.sha256(row.content.encode()).hexdigest()
    # One audit event per participant whose data went out, and one per file downloaded.
    exported = client_events(client, action="export", participant_id__isnull=False)
    assert sorted(exported.values_list("participant_id", flat=True)) == sorted(
        Participant.objects.filter(program=world.program).values_list("pk", flat=True)
    )
    assert client_events(client, action="export", participant_id__isnull=True).count() == 2
    assert Disclosure.objects.count() == 0  # an internal client's reads are uses
    # A file name the export has not, or a file of a type the token does not cover.
    uuid_ = manifest["output"][0]["url"].split("/")[-2]
    assert send(f"$export-file/{uuid_}/output-Goal.ndjson", token).status_code == 404
    assert send(f"$export-file/{uuid_}/output-Patient.json", token).status_code == 404
    narrow = make_token(client, "system/Patient.read")
    assert send(f"$export-file/{uuid_}/output-EpisodeOfCare.ndjson", narrow).status_code == 403
    assert send(f"$export-file/{uuid_}/output-Patient.ndjson", narrow).status_code == 200


def test_patient_level_export_with_a_patient_scope_holds_only_that_participant(world):
    client, _ = make_client(
        world.program, scopes="patient/*.read", participant=world.active, name="App"
    )
    token = make_token(client)
    status_path = kick_off(token, "Patient/$export")
    export = BulkExport.objects.get()
    assert export.level == "patient"
    assert all(REGISTRY[t].in_patient_compartment for t in export.types)
    run_job()
    files = download(manifest_of(status_path, token), token)
    assert [r["id"] for r in files["Patient"]] == [str(world.active.uuid)]
    assert patient_ids_referenced(files) == {str(world.active.uuid)}
    assert set(
        client_events(client, action="export", participant_id__isnull=False).values_list(
            "participant_id", flat=True
        )
    ) == {world.active.pk}


def test_an_outside_clients_export_holds_consented_participants_and_is_disclosed(world):
    add_privacy(world)  # world.active has a TPO consent; world.referred none
    client, _ = make_client(
        world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital", recipient_kind="provider"
    )
    token = make_token(client)
    status_path = kick_off(token)
    export = BulkExport.objects.get()
    # Types for the program's own systems only are left out of an outside client's default.
    assert not any(REGISTRY[t].internal_only for t in export.types)
    run_job()
    manifest = manifest_of(status_path, token)
    files = download(manifest, token)
    assert [r["id"] for r in files["Patient"]] == [str(world.active.uuid)]
    assert patient_ids_referenced(files) == {str(world.active.uuid)}
    # One disclosure for the whole export, naming every category that went out.
    disclosure = Disclosure.objects.get()
    assert disclosure.participant == world.active and disclosure.channel == "api"
    assert disclosure.recipient_name == "Mercy Hospital"
    assert str(export.uuid) in disclosure.description
    event = client_events(client, action="export", participant_id=world.active.pk).get()
    assert sorted(disclosure.information) == event.changes["categories"]
    assert not client_events(client, action="export", participant_id=world.referred.pk).exists()
    # The error list says, without naming anyone, that only consented records are in.
    errors = download(manifest, token, "error")
    notice = errors["OperationOutcome"][0]["issue"][0]
    assert notice["severity"] == "information" and "42 CFR" in notice["diagnostics"]
    assert "Referred" not in json.dumps(errors)


def test_categories_under_two_consents_are_disclosed_under_each(world):
    from openiop.privacy import services as privacy
    from openiop.testing import employer_consent_input

    for category in ("enrolment", "attendance"):
        privacy.record_consent(
            world.active,
            employer_consent_input(
                recipient_kind="provider",
                recipient_name="Mercy Hospital",
                purposes=("TREAT",),
                information=(category,),
                information_detail=f"My {category} records",
            ),
            actor=world.counsellor,
        )
    client, _ = make_client(world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
    token = make_token(client)
    status_path = kick_off(token, "Patient/$export", _type="Patient,Encounter")
    run_job()
    files = download(manifest_of(status_path, token), token)
    assert {r["id"] for r in files["Patient"]} == {str(world.active.uuid)}
    assert files["Encounter"] and patient_ids_referenced(files) == {str(world.active.uuid)}
    # No one consent covers both categories: one disclosure under each.
    disclosures = Disclosure.objects.filter(participant=world.active).order_by("information")
    assert [d.information for d in disclosures] == [["attendance"], ["enrolment"]]
    assert disclosures[0].consent != disclosures[1].consent


def test_type_and_since_filter(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    # Participants changed from `moment` on: only world.active.
    moment = timezone.now() + dt.timedelta(days=1)
    Participant.objects.filter(pk=world.active.pk).update(
        updated_at=moment + dt.timedelta(minutes=5)
    )
    since = send(
        "$export", token, headers=KICK_OFF, _type="Patient", _since=bulk.api.instant(moment)
    )
    assert since.status_code == 202
    everything = kick_off(token)
    future = kick_off(token, _type="Patient", _since="2999-01-01T00:00:00+05:00")
    run_job()
    since_files = download(manifest_of(since["Content-Location"].removeprefix(BASE), token), token)
    assert set(since_files) == {"Patient"}
    assert [r["id"] for r in since_files["Patient"]] == [str(world.active.uuid)]
    assert manifest_of(future, token)["output"] == []
    all_files = download(manifest_of(everything, token), token)
    assert set(all_files) <= set(BulkExport.objects.get(uuid=everything.split("/")[-1]).types)
    assert len(all_files["Patient"]) == Participant.objects.filter(program=world.program).count()


def test_another_clients_export_is_404_and_delete_cancels(world):
    client, _ = make_client(world.program)
    token = make_token(client)
    other, _ = make_client(world.program, name="Other warehouse")
    other_token = make_token(other)
    status_path = kick_off(token, _type="Patient")
    export_id = status_path.split("/")[-1]
    assert send(status_path, other_token).status_code == 404
    assert send("$export-status/not-a-uuid", token).status_code == 404
    run_job()
    manifest = manifest_of(status_path, token)
    file_path = manifest["output"][0]["url"].removeprefix(BASE)
    assert send(file_path, other_token).status_code == 404
    assert send(status_path, other_token, method="DELETE").status_code == 404
    # Cancelling clears the files; the status and files are gone afterwards.
    cancelled = send(status_path, token, method="DELETE")
    assert cancelled.status_code == 202, cancelled.content
    assert BulkExport.objects.get(uuid=export_id).status == ExportStatus.CANCELLED
    assert set(BulkExportFile.objects.values_list("content", flat=True)) == {""}
    assert BulkExportFile.objects.get().count > 0  # the record of what was made stays
    assert send(status_path, token).status_code == 404
    assert send(file_path, token).status_code == 404
    assert send(status_path, token, method="DELETE").status_code == 404
    assert client_events(client, action="transition", object_type="fhir.bulkexport").exists()
    # A waiting export cancelled is never made.
    waiting = kick_off(token, _type="Patient")
    assert send(waiting, token, method="DELETE").status_code == 202
    run_job()
    assert BulkExport.objects.get(uuid=waiting.split("/")[-1]).files.count() == 0


def test_a_failing_export_is_failed_and_the_next_one_still_runs(world, monkeypatch):
    client, _ = make_client(world.program)
    token = make_token(client)
    first = kick_off(token, _type="Patient")
    second = kick_off(token, _type="Patient")
    broken = first.split("/")[-1]
    real = bulk.write_type

    def write_type(ctx, export, resource_type, tallies):
        row = real(ctx, export, resource_type, tallies)  # its file is written, then…
        if str(export.uuid) == broken:
            raise RuntimeError("disk full")
        return row

    monkeypatch.setattr(bulk, "write_type", write_type)
    run_job()
    failed = BulkExport.objects.get(uuid=broken)
    assert failed.status == ExportStatus.FAILED and "RuntimeError" in failed.error
    assert failed.files.count() == 0  # …and rolled back with the rest of the export
    assert not client_events(client, action="export", object_id=str(failed.pk)).exists()
    answer = send(first, token)
    assert answer.status_code == 422 and answer.data["issue"][0]["code"] == "exception"
    assert "disk full" not in answer.content.decode()
    assert download(manifest_of(second, token), token)["Patient"]
    assert JobRun.objects.get(job="fhir.bulk_exports").status == "succeeded"


def test_a_retired_client_gets_no_export(world):
    client, _ = make_client(world.program)
    status_path = kick_off(make_token(client), _type="Patient")
    client.retired_at = timezone.now()
    client.save()
    assert bulk.run_queued() == Counter({"failed": 1})
    export = BulkExport.objects.get()
    assert export.status == ExportStatus.FAILED and export.files.count() == 0
    assert status_path.endswith(str(export.uuid))


# --- the whole flow on the demo program -------------------------------------------------


DAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    from openiop.demo import builder

    with django_db_blocker.unblock(), transaction.atomic():
        builder.build(today=DAY)
        yield
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")
class TestOnTheDemo:
    def program(self) -> Any:
        from openiop.demo import builder
        from openiop.programs.models import Program

        return Program.objects.get(name=builder.DEMO_PROGRAM)

    def test_a_system_export_of_everything(self):
        program = self.program()
        client, _ = make_client(program, scopes="system/*.read")
        token = make_token(client)
        status_path = kick_off(token)
        assert send(status_path, token).status_code == 202  # before the job runs
        run_job()
        manifest = manifest_of(status_path, token)
        files = download(manifest, token)
        # Every type the server serves, each with its resources (ids unique per type).
        assert set(files) == set(REGISTRY)
        for rtype, resources in files.items():
            assert resources, rtype
            assert len({r["id"] for r in resources}) == len(resources), rtype
        patients = {r["id"] for r in files["Patient"]}
        assert patients == {
            str(u)
            for u in Participant.objects.filter(program=program, voided=False).values_list(
                "uuid", flat=True
            )
        }
        assert patient_ids_referenced(files) <= patients
        assert sum(i["count"] for i in manifest["output"]) == sum(map(len, files.values()))

    def test_an_outside_clients_export_follows_the_consents(self):
        from openiop.fhir.api import ApiContext

        program = self.program()
        client, _ = make_client(
            program, kind=ClientKind.OUTSIDE, name="Mercy Hospital", recipient_kind="provider"
        )
        token = make_token(client)
        status_path = kick_off(token, "Patient/$export")
        run_job()
        files = download(manifest_of(status_path, token), token)
        export = BulkExport.objects.get(client=client)
        assert not any(REGISTRY[t].internal_only for t in export.types)
        ctx = bulk.export_context(export)
        assert isinstance(ctx, ApiContext)
        # Patients: those whose consent lets enrolment data go to this client (some
        # participants have none: the test shows the gate at work).
        allowed = ctx.allowed_participants("enrolment") or set()
        everyone = set(Participant.objects.filter(program=program).values_list("pk", flat=True))
        assert allowed and allowed < everyone
        uuids = dict(Participant.objects.filter(program=program).values_list("uuid", "pk"))
        assert {uuids[uuid.UUID(r["id"])] for r in files["Patient"]} == allowed
        # Every resource is of a participant whose consent covers its category.
        referenced = {uuids[uuid.UUID(u)] for u in patient_ids_referenced(files)}
        covered = set().union(
            *(
                ctx.allowed_participants(source.category) or set()
                for t in export.types
                for source in REGISTRY[t].sources
            )
        )
        assert referenced <= covered
        # One disclosure per participant whose data went out, no more, no fewer.
        disclosures = Disclosure.objects.filter(reference=f"api:{client.client_id}"[:40])
        assert sorted(d.participant_id for d in disclosures) == sorted(referenced)
        assert all(str(export.uuid) in d.description for d in disclosures)
