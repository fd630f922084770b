"""The API clients' pages: registering clients (and what the form refuses), the secret
shown once, new secrets, revoking tokens, retiring, the reads and exports a client's page
shows, the audit, and who may see which client."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.fhir import export as bulk
from openiop.fhir.auth import digest
from openiop.fhir.models import ApiClient, ApiToken, BulkExport, ClientKind
from openiop.fhir.testing import get, make_client, make_token
from openiop.privacy.models import Disclosure
from openiop.testing import add_privacy

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"data-secret>([^<]+)<")


def register(client: Client, world: Any, **changes: Any) -> Any:
    data: dict[str, Any] = {
        "program": str(world.program.pk),
        "name": "Harbor warehouse",
        "kind": "internal",
        "recipient_kind": "provider",
        "recipient_name": "",
        "purpose": "TREAT",
        "scopes": ["system/*.read"],
        "participant_record": "",
        "token_minutes": "60",
        "contact": "it@harbor.example",
    }
    data.update(changes)
    return client.post(reverse("api_clients:new"), data)


def secret_of(response: Any) -> str:
    found = SECRET.search(response.content.decode())
    return found.group(1) if found else ""


def token_for(client_id: str, secret: str, scope: str = "") -> Any:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return Client().post("/fhir/R4/auth/token", data, HTTP_AUTHORIZATION=f"Basic {basic}")


def test_registering_clients_shows_the_secret_once_and_keeps_its_digest(login, world):
    web = login(world.director)
    form = web.get(reverse("api_clients:new"))
    assert form.status_code == 200
    html = form.content.decode()
    for scope in ("system/*.read", "system/Patient.read", "patient/*.read"):
        assert f'value="{scope}"' in html
    assert "disclosure under 42 CFR Part 2" in html  # the two kinds are explained

    response = register(web, world)
    client = ApiClient.objects.get(name="Harbor warehouse")
    assert response.status_code == 302
    assert response["Location"] == reverse("api_clients:credentials", args=[client.pk])
    assert client.kind == ClientKind.INTERNAL and client.created_by == world.director
    assert client.scope_list() == ["system/*.read"] and client.token_minutes == 60

    page = web.get(response["Location"])
    secret = secret_of(page)
    assert len(secret) >= 40 and client.client_id in page.content.decode()
    assert "/fhir/R4/auth/token" in page.content.decode()  # the curl example
    assert page["Cache-Control"] == "no-store"
    client.refresh_from_db()
    assert client.secret_sha256 == digest(secret) and client.secret_hint == secret[:4]
    assert secret not in json.dumps(list(AuditEvent.objects.values("changes", "object_repr")))
    # Never again: a reload shows only the first characters.
    again = web.get(response["Location"]).content.decode()
    assert secret not in again and "data-secret-hidden" in again and secret[:4] in again

    created = AuditEvent.objects.get(action="create", object_type="fhir.apiclient")
    assert created.actor == world.director and created.object_id == str(client.pk)
    assert created.changes["kind"] == "internal"

    # An outside organisation, with its recipient and purpose; system/*.read covers the
    # types chosen beside it.
    response = register(
        web,
        world,
        name="Mercy Hospital",
        kind="outside",
        recipient_name="Mercy Hospital",
        recipient_kind="provider",
        purpose="COC",
        scopes=["system/*.read", "system/Patient.read"],
        token_minutes="5",
    )
    assert response.status_code == 302
    outside = ApiClient.objects.get(name="Mercy Hospital")
    assert outside.outside and outside.recipient_name == "Mercy Hospital"
    assert outside.purpose == "COC" and outside.scope_list() == ["system/*.read"]
    assert outside.token_minutes == 5 and outside.client_id != client.client_id


@pytest.mark.parametrize(
    "changes, field, text",
    [
        ({"kind": "outside", "recipient_name": " "}, "recipient_name", "recipient's name"),
        ({"scopes": ["patient/*.read"]}, "participant_record", "patient context"),
        ({"scopes": []}, "scopes", "at least one scope"),
        (
            {"scopes": ["patient/*.read", "system/Patient.read"], "participant_record": "X"},
            "scopes",
            "not both",
        ),
        ({"participant_record": "P-1"}, "participant_record", "only for patient/*.read"),
        ({"scopes": ["system/Nope.read"]}, "scopes", "valid choice"),
        (
            {"kind": "outside", "recipient_name": "M", "scopes": ["system/AuditEvent.read"]},
            "scopes",
            "only the program's own systems",
        ),
        ({"token_minutes": "4"}, "token_minutes", "greater than or equal to 5"),
        ({"token_minutes": "1441"}, "token_minutes", "less than or equal to 1440"),
        ({"name": "  "}, "name", ""),
        ({"program": "999999"}, "program", "valid choice"),
    ],
)
def test_registration_refuses_what_is_wrong_with_a_form_error(login, world, changes, field, text):
    response = register(login(world.director), world, **changes)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert text in " ".join(errors[field])
    assert not ApiClient.objects.exists()


def test_a_patient_context_is_a_participant_of_the_program_by_record_number(login, world):
    web = login(world.director)
    foreign = register(
        web, world, scopes=["patient/*.read"], participant_record=world.foreign.record_number
    )
    assert foreign.status_code == 400  # another program's participant
    assert "No participant of Harbor IOP" in foreign.content.decode()
    response = register(
        web,
        world,
        name="Step-down program",
        scopes=["patient/*.read"],
        participant_record=world.active.record_number.lower(),
    )
    assert response.status_code == 302
    client = ApiClient.objects.get()
    assert client.participant == world.active
    secret = secret_of(web.get(response["Location"]))
    token = json.loads(token_for(client.client_id, secret).content)["access_token"]
    bundle = get("Patient", token).data
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(world.active.uuid)]
    # The same name again while the first is in use: refused.
    clash = register(web, world, name="step-down PROGRAM")
    assert clash.status_code == 400 and "already has a client" in clash.content.decode()


def test_the_secret_works_and_a_new_secret_stops_the_old_one(login, world):
    web = login(world.director)
    response = register(web, world)
    client = ApiClient.objects.get()
    old = secret_of(web.get(response["Location"]))
    answer = token_for(client.client_id, old, "system/Patient.read")
    assert answer.status_code == 200, answer.content
    token = json.loads(answer.content)["access_token"]
    assert get("Patient", token).status_code == 200

    page = web.get(reverse("api_clients:new_secret", args=[client.pk]))
    stamp = page.context["form"].initial["stamp"]
    response = web.post(
        reverse("api_clients:new_secret", args=[client.pk]),
        {"stamp": stamp, "revoke_tokens": "on"},
    )
    assert response.status_code == 302
    new = secret_of(web.get(response["Location"]))
    assert new and new != old
    assert token_for(client.client_id, old).status_code == 401
    assert token_for(client.client_id, new).status_code == 200
    assert get("Patient", token).status_code == 401  # issued with the old secret, revoked
    change = AuditEvent.objects.filter(action="change", object_type="fhir.apiclient").get()
    assert change.reason == "new secret issued" and change.changes["tokens_revoked"] == 1
    assert new not in json.dumps(change.changes) and old not in json.dumps(change.changes)
    # The page as it was opened, before that change: refused, nothing changes.
    stale = web.post(reverse("api_clients:new_secret", args=[client.pk]), {"stamp": stamp})
    assert stale.status_code == 409
    assert token_for(client.client_id, new).status_code == 200


def test_revoking_tokens_makes_the_api_answer_401(login, world):
    web = login(world.director)
    client, _ = make_client(world.program)
    first, second, third = make_token(client), make_token(client), make_token(client)
    rows = list(ApiToken.objects.filter(client=client).order_by("pk"))
    detail = web.get(reverse("api_clients:detail", args=[client.pk])).content.decode()
    assert detail.count("data-token=") == 3

    url = reverse("api_clients:revoke_token", args=[client.pk, rows[0].pk])
    assert web.post(url, {"token": str(rows[1].pk)}).status_code == 400  # another's form
    assert web.post(url, {"token": str(rows[0].pk)}).status_code == 302
    assert get("Patient", first).status_code == 401
    assert get("Patient", second).status_code == 200
    assert web.post(url, {"token": str(rows[0].pk)}).status_code == 409  # already revoked
    event = AuditEvent.objects.get(action="change", object_type="fhir.apitoken")
    assert event.object_id == str(rows[0].pk) and event.actor == world.director

    all_url = reverse("api_clients:revoke_all", args=[client.pk])
    stamp = web.get(all_url).context["form"].initial["stamp"]
    assert web.post(all_url, {}).status_code == 400
    assert web.post(all_url, {"stamp": "0" * 16}).status_code == 409  # another page's
    assert get("Patient", second).status_code == 200
    assert web.post(all_url, {"stamp": stamp}).status_code == 302
    assert get("Patient", second).status_code == 401 and get("Patient", third).status_code == 401
    assert web.post(all_url, {"stamp": stamp}).status_code == 409  # none left
    assert AuditEvent.objects.filter(action="change", object_type="fhir.apitoken").count() == 3


def test_retiring_stops_the_tokens_and_the_token_endpoint(login, world):
    web = login(world.director)
    client, secret = make_client(world.program)
    token = make_token(client)
    url = reverse("api_clients:retire", args=[client.pk])
    stamp = web.get(url).context["form"].initial["stamp"]
    assert web.post(url, {"stamp": stamp, "reason": "  "}).status_code == 400
    response = web.post(url, {"stamp": stamp, "reason": "Agreement ended"})
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.retired_at and client.retired_by == world.director
    assert client.retire_reason == "Agreement ended"
    assert get("Patient", token).status_code == 401
    assert ApiToken.objects.get().revoked_at is not None
    refused = token_for(client.client_id, secret)
    assert refused.status_code == 401 and "retired" in refused.content.decode()
    event = AuditEvent.objects.get(action="change", object_type="fhir.apiclient")
    assert event.reason == "Agreement ended" and event.changes["retired"] == [False, True]
    # Kept, and shown as retired; no second retirement, no new secret.
    page = web.get(reverse("api_clients:detail", args=[client.pk])).content.decode()
    assert "data-retired" in page and "Agreement ended" in page
    assert web.post(url, {"stamp": stamp, "reason": "Again"}).status_code == 409
    new_secret = reverse("api_clients:new_secret", args=[client.pk])
    assert web.post(new_secret, {"stamp": stamp}).status_code == 409
    listing = web.get(reverse("api_clients:list")).content.decode()
    assert "data-retired-clients" in listing and client.name in listing
    assert ApiClient.objects.filter(pk=client.pk).exists()


def test_the_clients_page_shows_its_reads_tokens_and_exports(login, world):
    add_privacy(world)
    client, _ = make_client(world.program, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
    token = make_token(client)
    assert get(f"Patient/{world.active.uuid}", token).status_code == 200
    assert get(f"Patient/{world.referred.uuid}", token).status_code == 403  # no consent
    BulkExport.objects.create(
        client=client,
        scopes="system/*.read",
        level="system",
        types=["Patient"],
        request_url="/fhir/R4/$export?_type=Patient",
    )
    assert bulk.run_queued()["complete"] == 1  # the worker's job: the files, the audit
    BulkExport.objects.create(
        client=client, scopes="system/*.read", level="system", request_url="/fhir/R4/$export"
    )
    assert Disclosure.objects.filter(participant=world.active).count() == 2
    web = login(world.director)
    page = web.get(reverse("api_clients:detail", args=[client.pk]))
    assert page.status_code == 200
    reads = page.context["reads"]
    assert {r["record_number"] for r in reads} >= {world.active.record_number}
    html = page.content.decode()
    assert "data-reads" in html and world.active.record_number in html
    assert "Disclosure refused" in html and "Viewed" in html
    assert "data-exports" in html and "Queued" in html and "Complete" in html
    exported = [r for r in reads if r["event"].action == "export"]
    assert exported and exported[0]["resources"] == 1  # {"Patient": 1} as a count
    assert len(page.context["tokens"]) == 1
    seen = AuditEvent.objects.filter(
        actor=world.director, object_type="api_clients.client", object_id=str(client.pk)
    )
    assert seen.exists()
    listing = web.get(reverse("api_clients:list"))
    (row,) = listing.context["active"]
    assert row.active_tokens == 1 and row.last_used is not None


def test_the_list_costs_the_same_queries_for_one_client_or_many(login, world):
    web = login(world.director)
    make_token(make_client(world.program, name="A")[0])
    with CaptureQueriesContext(connection) as one:
        web.get(reverse("api_clients:list"))
    for name in ("B", "C", "D"):
        make_token(make_client(world.program, name=name, participant=world.active)[0])
    with CaptureQueriesContext(connection) as many:
        response = web.get(reverse("api_clients:list"))
    assert len(response.context["active"]) == 4
    assert len(many.captured_queries) == len(one.captured_queries)


def test_who_may_see_which_client(login, world, client):
    harbor, _ = make_client(world.program, name="Harbor warehouse")
    other, _ = make_client(world.other_program, name="Other warehouse")
    token = make_token(harbor)
    token_pk = ApiToken.objects.get(client=harbor).pk
    urls = [
        reverse("api_clients:detail", args=[harbor.pk]),
        reverse("api_clients:credentials", args=[harbor.pk]),
        reverse("api_clients:new_secret", args=[harbor.pk]),
        reverse("api_clients:retire", args=[harbor.pk]),
        reverse("api_clients:revoke_all", args=[harbor.pk]),
        reverse("api_clients:revoke_token", args=[harbor.pk, token_pk]),
    ]
    # A director of another program: Harbor's client does not exist for them (404), and
    # a POST changes nothing.
    outsider = login(world.outsider)
    for url in urls:
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(urls[-1], {"token": str(token_pk)}).status_code == 404
    assert get("Patient", token).status_code == 200
    listing = outsider.get(reverse("api_clients:list")).content.decode()
    assert "Other warehouse" in listing and "Harbor warehouse" not in listing
    # Harbor's director may not register a client for the other program.
    response = register(login(world.director), world, program=str(world.other_program.pk))
    assert response.status_code == 400 and "program" in response.context["form"].errors
    # Without the permission: 403, explained, and the refusal audited.
    counsellor = login(world.counsellor)
    for url in [reverse("api_clients:list"), *urls]:
        answer = counsellor.get(url)
        assert answer.status_code == 403 and b"Ask an administrator" in answer.content
    assert counsellor.post(urls[-1], {"token": str(token_pk)}).status_code == 403
    assert get("Patient", token).status_code == 200
    assert AuditEvent.objects.filter(actor=world.counsellor, action="denied").exists()
    # The administrator, in no program, manages every program's clients.
    admin = login(world.admin)
    listing = admin.get(reverse("api_clients:list")).content.decode()
    assert "Harbor warehouse" in listing and "Other warehouse" in listing
    assert admin.get(reverse("api_clients:detail", args=[other.pk])).status_code == 200
    assert register(admin, world, program=str(world.other_program.pk)).status_code == 302
    # The navigation offers the page to those who hold api.clients.
    assert b'href="/setup/api-clients/"' in admin.get("/").content
    assert b'href="/setup/api-clients/"' not in login(world.counsellor).get("/").content
