"""Issue 12: an administrator registers an outside organisation as a client of the FHIR
API for Harbor IOP and copies its secret from the page; the organisation's system gets a
token and reads /fhir/R4/Patient (only the participant whose consent covers it); the
administrator sees the read in the client's recent reads and revokes the token, which the
API then refuses. The screenshots are the user guide's (docs/user-guide/api-clients.md)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from openiop.fhir.models import ApiClient, ApiToken
from openiop.privacy.models import Disclosure
from openiop.testing import add_privacy

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DESKTOP = {"width": 1280, "height": 900}


def call(url: str, *, data: dict[str, str] | None = None, headers: dict[str, str]) -> Any:
    """(status, JSON body) of a request to the live server, errors included."""
    assert url.startswith("http://"), url  # the live server, nothing else
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_admin_registers_an_outside_client_that_reads_with_consent_then_revokes_its_token(
    world, page, sign_in, live_server
):
    base = live_server.url
    add_privacy(world)  # world.active has a TPO consent (providers, treatment); referred none
    page.set_viewport_size(DESKTOP)
    sign_in(world.admin)

    # The administrator's set-up menu leads to the API clients.
    page.get_by_role("link", name="API clients", exact=True).click()
    expect(page.locator("h1")).to_have_text("API clients")
    page.get_by_role("link", name="Register a client").click()
    expect(page.locator("h1")).to_have_text("Register an API client")
    page.locator("#id_program").select_option(label="Harbor IOP")
    page.locator("#id_name").fill("Mercy Hospital care coordination")
    page.get_by_label("An outside organisation (reads are disclosures under consent)").check()
    page.get_by_label("Recipient kind (outside clients)").select_option("provider")
    page.get_by_label("Recipient name (outside clients)").fill("Mercy Hospital")
    page.get_by_label("Purpose (outside clients)").select_option("TREAT")
    page.get_by_label("system/Patient.read: Patient only").check()
    page.locator("#id_token_minutes").fill("30")
    page.locator("#id_contact").fill("Dana Ruiz, integration@mercy.example")
    page.screenshot(path=str(DOCS_IMG / "api-client-register.png"), full_page=True)
    page.get_by_role("button", name="Register the client").click()

    # The credentials, shown once: the test copies them from the page.
    expect(page.locator("h1")).to_have_text("Credentials of Mercy Hospital care coordination")
    client_id = page.locator("[data-client-id]").inner_text().strip()
    secret = page.locator("[data-secret]").inner_text().strip()
    expect(page.locator("[data-curl]")).to_contain_text(f"{base}/fhir/R4/auth/token")
    client = ApiClient.objects.get(client_id=client_id)
    assert client.outside and client.recipient_name == "Mercy Hospital"
    assert client.secret_hint == secret[:4] and secret not in client.secret_sha256

    # The organisation's system: a token with the secret, then a search of Patient.
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    status, body = call(
        f"{base}/fhir/R4/auth/token",
        data={"grant_type": "client_credentials", "scope": "system/Patient.read"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert status == 200, body
    assert body["expires_in"] == 30 * 60 and body["scope"] == "system/Patient.read"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    status, bundle = call(f"{base}/fhir/R4/Patient", headers=bearer)
    assert status == 200, bundle
    ids = [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert ids == [str(world.active.uuid)]  # world.referred has no consent: left out
    assert Disclosure.objects.filter(participant=world.active, channel="api").count() == 1

    # The administrator sees the token and the read, then revokes the token.
    page.get_by_role("link", name="Done: see the client").click()
    expect(page.locator("h1")).to_have_text("Mercy Hospital care coordination")
    expect(page.locator("[data-tokens] tbody tr")).to_have_count(1)
    reads = page.locator("[data-reads]")
    expect(reads).to_contain_text("Patient")
    expect(reads).to_contain_text("search")
    expect(reads).to_contain_text(world.active.record_number)
    page.screenshot(path=str(DOCS_IMG / "api-clients.png"), full_page=True)
    page.locator("[data-tokens]").get_by_role("button", name="Revoke").click()
    expect(page.locator(".messages")).to_contain_text("Token revoked")
    expect(page.locator("[data-tokens]")).to_have_count(0)
    assert ApiToken.objects.get(client=client).revoked_at is not None

    status, outcome = call(f"{base}/fhir/R4/Patient", headers=bearer)
    assert status == 401 and outcome["resourceType"] == "OperationOutcome"
    # The list shows the client with no active token and when it was last used.
    page.get_by_role("link", name="Back to API clients").click()
    row = page.locator(f"[data-client='{client_id}']")
    expect(row).to_contain_text("Outside: Mercy Hospital")
    expect(row).to_contain_text("system/Patient.read")
    expect(row.locator("td.num")).to_have_text("0")
