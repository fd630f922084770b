"""Hardening (issue 8, point 8): `check --deploy` is clean in production, every response
carries the security headers, templates hold no inline script or style, and no form
sends what identifies a person in a URL's query string. docs/security.md, "Hardening".
"""

from __future__ import annotations

import re
import secrets
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path, reverse

from openiop.tests.test_settings import run_settings

PROJECT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(PROJECT.glob("*/templates/**/*.html"))

# What a production deployment sets (.env.example); everything else is the default.
PRODUCTION = {
    "DEBUG": False,
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": ["openiop.example.org"],
    # Off in the test suite only (plain-http test client); on by default in production.
    "SECURE_SSL_REDIRECT": True,
}
# The same, for requests of the test client (whose host is "testserver").
SERVING = {**PRODUCTION, "ALLOWED_HOSTS": ["testserver"]}


# --- check --deploy -------------------------------------------------------------------------


def test_check_deploy_passes_with_production_settings(monkeypatch):
    # Set by the suite's conftest for Playwright (async.E001 in production).
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    with override_settings(**PRODUCTION):
        call_command("check", "--deploy", fail_level="WARNING", stdout=StringIO())


def test_check_deploy_passes_in_a_production_environment(tmp_path):
    # The settings module itself, configured only as .env.example says (no test shortcut).
    result = run_settings(
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "openiop.example.org",
            "OPENIOP_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "openiop.settings",
        },
        "import django; django.setup(); "
        "from django.core.management import call_command; "
        "call_command('check', '--deploy', fail_level='WARNING'); print('clean')",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("clean")


def test_check_deploy_would_catch_a_weak_setting(monkeypatch):
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    # The test above is not vacuous: one missing setting fails it.
    weak = override_settings(**PRODUCTION, SECURE_HSTS_SECONDS=0)
    with weak, pytest.raises(SystemCheckError) as exc:
        call_command("check", "--deploy", fail_level="WARNING", stdout=StringIO())
    assert "security.W004" in str(exc.value)


# --- headers ---------------------------------------------------------------------------------

EVERY_RESPONSE = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_hardened(response: HttpResponse, *, secure: bool = True) -> None:
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for header, value in EVERY_RESPONSE.items():
        assert response[header] == value, header
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy
    if secure:
        assert response["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom)]
handler500 = "openiop.core.views.server_error"


@override_settings(**SERVING)
def test_headers_on_a_page_an_error_page_the_login_page_and_static_files(world, client):
    client.force_login(world.counsellor)
    assert_hardened(client.get(reverse("core:today"), secure=True))
    assert_hardened(client.get(reverse("participants:chart", args=[world.active.pk]), secure=True))
    missing = client.get("/no-such-page/", secure=True)
    assert missing.status_code == 404
    assert_hardened(missing)
    denied = client.get(reverse("core:audit_log"), secure=True)
    assert denied.status_code == 403
    assert_hardened(denied)
    client.logout()
    login = client.get(reverse("accounts:login"), secure=True)
    assert login.status_code == 200
    assert_hardened(login)
    css = client.get(settings.STATIC_URL + "openiop/app.css", secure=True)
    assert css.status_code == 200
    assert_hardened(css)


@pytest.mark.urls(__name__)
@override_settings(**SERVING)
def test_headers_on_a_server_error(client, db):
    client.raise_request_exception = False
    response = client.get("/boom/?name=Jane+Secretname", secure=True)
    assert response.status_code == 500
    assert b"Secretname" not in response.content
    assert_hardened(response)


@override_settings(**SERVING)
def test_http_is_redirected_to_https_except_the_health_check(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert client.get(reverse("healthz")).status_code == 200
    # HSTS is only sent over https (a browser ignores it over http).
    assert "Strict-Transport-Security" not in client.get(reverse("healthz"))


@override_settings(**SERVING)
def test_session_and_csrf_cookies_are_secure_and_http_only(world, login):
    client = login(world.counsellor)
    page = client.get(reverse("participants:list"), secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    # Saving a search writes the session: its cookie is sent again.
    response = client.post(reverse("participants:list"), {"q": "pat"}, secure=True)
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_no_script_reads_the_csrf_cookie():
    # CSRF_COOKIE_HTTPONLY would break a script that reads document.cookie.
    scripts = list(PROJECT.glob("*/static/**/*.js"))
    assert scripts
    for script in scripts:
        assert "cookie" not in script.read_text().lower(), script


# --- error pages do not echo the query string -------------------------------------------------


@override_settings(**SERVING)
def test_error_pages_do_not_echo_the_query_string(world, login):
    client = login(world.counsellor)
    query = "?name=Jane+Secretname&dob=1990-05-17"
    missing = client.get("/no-such-page/" + query, secure=True)
    assert missing.status_code == 404
    denied = client.get(reverse("core:audit_log") + query, secure=True)
    assert denied.status_code == 403
    bad = client.get(reverse("core:today") + query, secure=True, HTTP_HOST="evil.example")
    assert bad.status_code == 400
    for response in (missing, denied, bad):
        assert b"Secretname" not in response.content
        assert b"1990-05-17" not in response.content


# --- no inline script or style (the CSP forbids them) ------------------------------------------

TAG = re.compile(r"<[a-zA-Z][^>]*>", re.S)
INLINE_ATTR = re.compile(r"\s(on[a-z]+|style)\s*=", re.I)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
DATA_BLOCK = re.compile(r"type\s*=\s*[\"']?application/(ld\+)?json", re.I)


def is_pdf_template(template: Path) -> bool:
    """PDF templates are rendered to paper by WeasyPrint on the server and never reach a
    browser (no CSP applies): their stylesheet may be inline."""
    return "pdf" in template.parent.name or template.stem.startswith("pdf")


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def inline_offenders(template: Path, root: Path = PROJECT) -> list[str]:
    text = template.read_text()
    where = template.relative_to(root)
    found = []
    for tag in TAG.finditer(text):
        for attr in INLINE_ATTR.finditer(tag.group(0)):
            name = attr.group(1).lower()
            if name == "style" and is_pdf_template(template):
                continue
            found.append(f"{where}:{line_of(text, tag.start())}: {name}= attribute")
    for script in SCRIPT.finditer(text):
        attrs, body = script.groups()
        if body.strip() and not DATA_BLOCK.search(attrs):
            found.append(f"{where}:{line_of(text, script.start())}: inline <script>")
    if not is_pdf_template(template):
        for style in re.finditer(r"<style\b", text, re.I):
            found.append(f"{where}:{line_of(text, style.start())}: inline <style>")
    for url in re.finditer(r"javascript\s*:", text, re.I):
        found.append(f"{where}:{line_of(text, url.start())}: javascript: URL")
    return found


def test_templates_hold_no_inline_script_or_style():
    assert len(TEMPLATES) > 50
    offenders = [line for template in TEMPLATES for line in inline_offenders(template)]
    assert not offenders, "\n".join(offenders)


def test_the_inline_check_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<p style="color:red">x</p>\n<button onclick="go()">x</button>\n'
        '<script>alert(1)</script>\n<a href="javascript:go()">x</a>\n<style>p{}</style>\n'
        '<script type="application/json" id="d">{"a": 1}</script>\n'
        '<script src="/static/x.js" defer></script>'
    )
    found = inline_offenders(bad, root=tmp_path)
    assert [line.split(": ", 1)[1] for line in found] == [
        "style= attribute",
        "onclick= attribute",
        "inline <script>",
        "inline <style>",
        "javascript: URL",
    ]


# --- no PHI in query strings: GET forms -----------------------------------------------------

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form\s*>", re.S | re.I)
NAMED = re.compile(r"<(?:input|select|textarea|button)\b[^>]*?\bname\s*=\s*[\"']([^\"']+)", re.I)
FREE_TEXT = re.compile(r"<input\b[^>]*\btype\s*=\s*[\"']?(search|email|tel)\b", re.I)
# Django form fields rendered by name: {{ form.since }}, {% include ... field=form.since %}.
FORM_FIELD = re.compile(r"form\.(\w+)")
# GET forms that loop over a Django form's fields: their names, from the form class.
LOOPED_FIELDS = {
    # screening.forms.StatsPeriodForm: the period's first and last day.
    "screening/templates/screening/clinical_stats.html": ["first", "last"],
    # outcomes.teds_forms.PeriodForm (issue 10): the TEDS export period.
    "outcomes/templates/outcomes/teds_export.html": ["date_from", "date_to"],
}
# A field whose name holds one of these words would put what identifies a person (a
# name, record number, birth date, email, phone: 45 CFR 164.514(b)(2)) in the URL.
PHI_WORDS = {
    "q",
    "query",
    "search",
    "term",
    "name",
    "names",
    "record",
    "mrn",
    "dob",
    "birth",
    "birthday",
    "email",
    "phone",
    "mobile",
    "ssn",
    "address",
}


def get_form_fields() -> dict[str, list[str]]:
    """Field names of every form sent by GET (method="get" or no method), by template."""
    found: dict[str, list[str]] = {}
    for template in TEMPLATES:
        text = template.read_text()
        key = str(template.relative_to(PROJECT))
        for form in FORM.finditer(text):
            attrs, body = form.groups()
            method = re.search(r"method\s*=\s*[\"']?(\w+)", attrs, re.I)
            if method and method.group(1).lower() == "post":
                continue
            names = found.setdefault(key, [])
            for name in NAMED.findall(body) + FORM_FIELD.findall(body):
                if "{" in name:
                    continue  # a looped field: LOOPED_FIELDS names it
                names.append(name)
            if "{% for field in form" in body:
                assert key in LOOPED_FIELDS, f"{key}: name the looped form's fields"
                names.extend(LOOPED_FIELDS[key])
            if FREE_TEXT.search(body):
                names.append("<free text: search, email or tel>")
    return found


def phi_fields(names: list[str]) -> list[str]:
    return [
        n
        for n in names
        if n.startswith("<free text") or set(re.split(r"[_\-\s.]+", n.lower())) & PHI_WORDS
    ]


def test_no_get_form_sends_what_identifies_a_person():
    fields = get_form_fields()
    listing = "\n".join(f"{t}: {', '.join(sorted(set(n)))}" for t, n in sorted(fields.items()))
    assert "scheduling/templates/scheduling/calendar.html" in fields, listing
    offenders = {t: phi_fields(n) for t, n in fields.items() if phi_fields(n)}
    assert not offenders, f"send these by POST (see core:audit_log): {offenders}\n{listing}"


def test_the_get_form_check_finds_what_it_looks_for():
    assert phi_fields(["program", "since", "first", "last", "counsellor", "date"]) == []
    assert phi_fields(["q", "legal_last_name", "record_number", "date_of_birth", "email"]) == [
        "q",
        "legal_last_name",
        "record_number",
        "date_of_birth",
        "email",
    ]
