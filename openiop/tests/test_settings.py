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
