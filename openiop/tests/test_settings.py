"""Settings by environment: production refuses to start without a secret; SQLite is WAL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection


def run_settings(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DEBUG",
            "OPENIOP_DEMO",
            "OPENIOP_TESTING",
            "DATABASE_URL",
            "ALLOWED_HOSTS",
            # Set by the test suite's conftest (Playwright); never in production.
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "SECURE_COOKIES",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_HSTS_PRELOAD",
            "TRUST_X_FORWARDED_PROTO",
        }
    }
    return subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", "import openiop.settings as s; " + code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_requires_a_secret_key(tmp_path):
    result = run_settings({"OPENIOP_VAR_DIR": str(tmp_path)}, "print('started')")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_defaults_are_safe(tmp_path):
    result = run_settings(
        {"SECRET_KEY": "x" * 50, "OPENIOP_VAR_DIR": str(tmp_path)},
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.SESSION_COOKIE_SECURE, s.PASSWORD_HASHERS[0])",
    )
    assert result.stdout.split() == [
        "False",
        "[]",
        "True",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


def test_demo_generates_and_reuses_its_secret(tmp_path):
    env = {"OPENIOP_DEMO": "1", "OPENIOP_VAR_DIR": str(tmp_path)}
    first = run_settings(env, "print(s.SECRET_KEY)")
    second = run_settings(env, "print(s.SECRET_KEY)")
    assert first.returncode == 0 and len(first.stdout.strip()) > 40
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_configures_database_hosts_and_time_zone(tmp_path):
    result = run_settings(
        {
            "SECRET_KEY": "x" * 50,
            "OPENIOP_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u@db.internal:5432/iop",
            "ALLOWED_HOSTS": "a.org,b.org",
            "TIME_ZONE": "America/Chicago",
        },
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "','.join(s.ALLOWED_HOSTS), s.TIME_ZONE)",
    )
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "iop",
        "a.org,b.org",
        "America/Chicago",
    ]


def test_default_database_is_sqlite_under_var(tmp_path):
    result = run_settings(
        {"OPENIOP_DEMO": "1", "OPENIOP_VAR_DIR": str(tmp_path)},
        "print(s.DATABASES['default']['NAME'])",
    )
    assert result.stdout.strip() == str(tmp_path / "openiop.sqlite3")


def test_bad_boolean_is_reported(tmp_path):
    result = run_settings({"DEBUG": "maybe", "OPENIOP_VAR_DIR": str(tmp_path)}, "")
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    if connection.vendor != "sqlite":
        assert connection.vendor == "postgresql"
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 20000


def test_security_headers(client, db):
    response = client.get("/accounts/login/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


# --- H4: TLS, HSTS and cookies (issue 8, point 8; docs/security.md, "Hardening") -----------

SECURITY = (
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.CSRF_COOKIE_HTTPONLY, getattr(s, 'SECURE_PROXY_SSL_HEADER', None), "
    "s.SILENCED_SYSTEM_CHECKS)"
)


def test_production_is_https_only(tmp_path):
    result = run_settings({"SECRET_KEY": "x" * 50, "OPENIOP_VAR_DIR": str(tmp_path)}, SECURITY)
    assert result.stdout.strip() == "True 31536000 True True True True True None []"


def test_the_demo_serves_plain_http(tmp_path):
    # make demo: http://127.0.0.1:8000, no redirect, no HSTS, cookies over http.
    result = run_settings(
        {"OPENIOP_DEMO": "1", "DEBUG": "1", "OPENIOP_VAR_DIR": str(tmp_path)}, SECURITY
    )
    assert result.stdout.strip() == "False 0 True True False False True None []"


def test_the_proxy_is_trusted_for_https_only_when_told(tmp_path):
    env = {"SECRET_KEY": "x" * 50, "OPENIOP_VAR_DIR": str(tmp_path)}
    trusted = run_settings({**env, "TRUST_X_FORWARDED_PROTO": "1"}, SECURITY)
    assert "('HTTP_X_FORWARDED_PROTO', 'https')" in trusted.stdout


def test_hsts_can_be_tuned_and_preload_turned_off(tmp_path):
    result = run_settings(
        {
            "SECRET_KEY": "x" * 50,
            "OPENIOP_VAR_DIR": str(tmp_path),
            "SECURE_HSTS_SECONDS": "3600",
            "SECURE_HSTS_PRELOAD": "0",
            "SECURE_SSL_REDIRECT": "0",
        },
        SECURITY,
    )
    # Turning preload off is a decision: Django's reminder about it (W021) is silenced.
    assert result.stdout.strip() == "False 3600 True False True True True None ['security.W021']"
