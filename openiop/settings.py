"""OpenIOP settings: one module, configured by environment variables.

Every variable is listed in `.env.example`. Defaults are safe: DEBUG is off unless
asked for, and production (DEBUG off) refuses to start without a SECRET_KEY.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
# Runtime state (SQLite database, generated demo secret, test artifacts) lives in var/.
VAR_DIR = Path(os.environ.get("OPENIOP_VAR_DIR", BASE_DIR.parent / "var")).resolve()


def env_str(name: str, default: str = "") -> str:
    """A string setting; `NAME_FILE` (a path) wins over `NAME`, for container secrets."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The demo (make demo) sets OPENIOP_DEMO=1: it may generate its own secret key.
DEMO_MODE = env_bool("OPENIOP_DEMO", False)
# Issue 13: `make bench` and `make load` route the bare baseline view (openiop/perf/views.py).
OPENIOP_PERF = env_bool("OPENIOP_PERF", False)
# The test suite runs with DEBUG off (like production) but may generate its own key.
TESTING = env_bool("OPENIOP_TESTING", False) or "pytest" in sys.modules


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not (DEBUG or DEMO_MODE or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is required in production. Set SECRET_KEY (or SECRET_KEY_FILE), "
            "or run with OPENIOP_DEMO=1 for a local demo."
        )
    # Demo / development: generate once into var/ and reuse it, so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Old keys, still accepted (sessions, signed values, encrypted authenticator secrets) while
# moving to a new SECRET_KEY.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or DEMO_MODE else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Take the client address from X-Forwarded-For (only behind a proxy you control).
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver (make demo) leaves static files to WhiteNoise, inside the middleware that
    # adds the security headers, as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "openiop.core",
    "openiop.accounts",
    "openiop.programs",
    "openiop.participants",
    "openiop.instruments",
    "openiop.intake",
    "openiop.scheduling",
    "openiop.attendance",
    "openiop.plans",
    "openiop.relapse",
    "openiop.notes",
    "openiop.screening",
    "openiop.privacy",
    "openiop.portal",
    "openiop.notify",
    "openiop.family",
    "openiop.letters",
    # Issue 10: discharge and aftercare, alumni follow-up, outcomes and TEDS.
    "openiop.discharge",
    "openiop.alumni",
    "openiop.outcomes",
    "openiop.billing",
    "openiop.fhir",
    # Issue 13: history generator, benchmarks, load and fault runs, backup and restore.
    "openiop.perf",
    "openiop.demo",
]

MIDDLEWARE = [
    # Issue 9: each request starts in English and drops the portal's language at its end.
    "openiop.core.middleware.LanguageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside WhiteNoise, so static files and error pages get the CSP and the others too.
    "openiop.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Automatic log-off after inactivity (ONC 170.315(d)(5); H2). Its check runs in
    # process_view, after the CSRF check.
    "openiop.core.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "openiop.core.middleware.RequestContextMiddleware",
    "openiop.privacy.middleware.EmergencyAccessMiddleware",
]

ROOT_URLCONF = "openiop.urls"
WSGI_APPLICATION = "openiop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openiop.core.context_processors.navigation",
                "openiop.core.context_processors.banners",
                "openiop.core.context_processors.idle",
                "openiop.portal.nav.portal_nav",
            ],
            "builtins": ["openiop.core.templatetags.openiop_tags"],
        },
    }
]

# --- Database --------------------------------------------------------------------------
DEFAULT_SQLITE = VAR_DIR / "openiop.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Persistent connections, checked before each request reuses one (issue 13, point 5):
    # after a database restart the dead connection is replaced at the next request, without
    # restarting the application.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    # Issue 13: no JIT compilation for the app's short queries. PostgreSQL compiles a query
    # whose *estimated* cost passes jit_above_cost, and the estimate of a search with the
    # visibility subqueries did at 20,000 episodes: 33 ms of compiling for a 20 ms query
    # (docs/performance.md). OPENIOP_PG_JIT=1 leaves the server's setting.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool(
        "OPENIOP_PG_JIT", False
    ):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (str(options.get("options", "")) + " -c jit=off").strip()
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DEFAULT_SQLITE),
            "OPTIONS": {
                # WAL lets readers and one writer work at once; writers wait up to 20 s
                # for the lock instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so threads and the live server share it; one per process so
    # test runs side by side do not collide.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        VAR_DIR / f"test-{os.getpid()}.sqlite3"
    )
# Issue 13: reports (the outcomes dashboard, its CSV figures, the TEDS export) may read from a
# streaming replica of the primary (openiop/core/routers.py, docs/deploy.md).
REPORTS_DATABASE_URL = os.environ.get("REPORTS_DATABASE_URL", "")
if REPORTS_DATABASE_URL:
    DATABASES["reports"] = dj_database_url.parse(
        REPORTS_DATABASE_URL, conn_max_age=60, conn_health_checks=True
    )
    # Tests read the replica through the primary's connection.
    DATABASES["reports"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["openiop.core.routers.ReportsRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # NIST SP 800-63B §5.1.1.2: allow at least 64 characters; 128 bounds the hashing work.
    # No composition rules and no periodic expiry (800-63B), see sign-in-security.md.
    {
        "NAME": "openiop.accounts.password_validation.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {
        "NAME": "openiop.accounts.password_validation.PasswordHistoryValidator",
        "OPTIONS": {"count": 5},
    },
]
# Sign-in security (issue 8, point 5; helper H1). Failed password or second-factor
# attempts for one username within the window lock it for OPENIOP_LOCKOUT_MINUTES; one
# client address with this many failures in the window is refused (429) until they age.
OPENIOP_LOCKOUT_FAILURES = env_int("OPENIOP_LOCKOUT_FAILURES", 5)
OPENIOP_LOCKOUT_WINDOW_MINUTES = env_int("OPENIOP_LOCKOUT_WINDOW_MINUTES", 15)
OPENIOP_LOCKOUT_MINUTES = env_int("OPENIOP_LOCKOUT_MINUTES", 15)
OPENIOP_LOCKOUT_IP_FAILURES = env_int("OPENIOP_LOCKOUT_IP_FAILURES", 20)
# Between the password and the second factor: how long the half-signed-in state lasts.
OPENIOP_MFA_PENDING_SECONDS = env_int("OPENIOP_MFA_PENDING_SECONDS", 10 * 60)
# The name authenticator apps show next to the account.
OPENIOP_MFA_ISSUER = env_str("OPENIOP_MFA_ISSUER", "OpenIOP")
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:today"
# Issue 9: pages of the participant and family portal send to the portal's sign-in.
OPENIOP_PORTAL_PATHS = ("/my/", "/family/", "/t/")
OPENIOP_PORTAL_LOGIN_URL = "portal:login"
LOGOUT_REDIRECT_URL = "accounts:login"
# Automatic sign-out after inactivity is a program setting (Program.idle_timeout_minutes,
# H2). Tests may shorten it to seconds; honoured only when TESTING.
OPENIOP_IDLE_TIMEOUT_SECONDS_OVERRIDE: int | None = None
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("SECURE_COOKIES", not (DEBUG or DEMO_MODE))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# No script reads the CSRF cookie: forms and fetch() send the token from the form field.
CSRF_COOKIE_HTTPONLY = True

# --- TLS and security headers (docs/security.md, "Hardening"; `check --deploy` is clean) -
# Production (neither DEBUG nor the demo) is HTTPS only: http:// is redirected, and
# browsers are told by HSTS to never try http:// again, for a year. The demo and DEBUG
# serve plain http://127.0.0.1:8000 without either. The test suite (plain-http test client
# and live server) does not redirect.
_PRODUCTION = not (DEBUG or DEMO_MODE)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _PRODUCTION and not TESTING)
# A load balancer's health check may come over plain http from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60 if _PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# `preload` in the header only allows submitting the domain to the browsers' preload list
# (hstspreload.org, by hand; hard to undo). An operator who turns it off has decided so:
# Django's reminder (security.W021) is then silenced.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Behind a TLS-terminating proxy, Django sees http; trust its X-Forwarded-Proto only when
# the proxy is yours and overwrites the header (otherwise a client could claim https).
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Strict: no Referer leaves the site (a chart's URL names a participant's internal id).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Time and language ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# The portal is complete in English and Spanish (issue 9); staff pages are in English.
# The portal activates its account's language itself (portal.access), so there is no
# LocaleMiddleware: a staff member's browser language does not change staff pages.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "openiop@localhost")

# --- Logging: no PHI in logs ------------------------------------------------------------
# Every handler passes records through RedactFilter: query strings are cut from request
# lines (django.server logs the full URL) and record numbers, emails, phone numbers and
# dates are masked. Django's own loggers are routed to the same handler, not to the
# handlers of Django's default configuration (which have no filter).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "openiop.core.logging.RedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Worker -----------------------------------------------------------------------------
# A job that keeps failing is retried on each worker pass up to this many attempts.
OPENIOP_JOB_MAX_ATTEMPTS = env_int("OPENIOP_JOB_MAX_ATTEMPTS", 5)

# --- Public address and attendance-letter verification (issue 9) -------------------------
# The address people outside the program reach OpenIOP at (e.g. https://openiop.example.org),
# printed on attendance letters with their verification page. Unset: https:// and the first
# of ALLOWED_HOSTS that is a plain host name, else http://127.0.0.1:8000 (the demo).
OPENIOP_PUBLIC_URL = env_str("OPENIOP_PUBLIC_URL", "").rstrip("/")

# Issue 10: TEDS state reporting. The state (two letters, e.g. ME) and the provider id the
# state gave the program; until both are set the export page says so and makes no file.
# The client id sent to the state is an HMAC of the record number under this key
# (default: SECRET_KEY) — keep it stable, or the state sees new clients.
# The demo program is in Maine, with a made-up provider id.
OPENIOP_TEDS_STATE = env_str("OPENIOP_TEDS_STATE", "ME" if DEMO_MODE else "")
OPENIOP_TEDS_PROVIDER_ID = env_str("OPENIOP_TEDS_PROVIDER_ID", "DEMO-0001" if DEMO_MODE else "")
OPENIOP_TEDS_CLIENT_KEY = env_str("OPENIOP_TEDS_CLIENT_KEY", "")
# The public verification page: one client address with this many unknown codes within the
# window is refused (429) until they age, so codes cannot be guessed (letters/verify.py).
OPENIOP_VERIFY_FAILURES = env_int("OPENIOP_VERIFY_FAILURES", 20)
OPENIOP_VERIFY_WINDOW_MINUTES = env_int("OPENIOP_VERIFY_WINDOW_MINUTES", 15)

# --- Notifications: email and text messages (issue 9; docs/deploy.md) --------------------
# Email goes through EMAIL_BACKEND above. Text messages: console (development, number
# masked), file (VAR_DIR/sms), locmem (tests) or twilio (notify/sms.py).
# The SMTP server, when EMAIL_BACKEND is django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
OPENIOP_SMS_BACKEND = env_str("OPENIOP_SMS_BACKEND", "locmem" if TESTING else "console")
OPENIOP_TWILIO_ACCOUNT_SID = env_str("OPENIOP_TWILIO_ACCOUNT_SID")
OPENIOP_TWILIO_AUTH_TOKEN = env_str("OPENIOP_TWILIO_AUTH_TOKEN")
OPENIOP_TWILIO_FROM = env_str("OPENIOP_TWILIO_FROM")
OPENIOP_TWILIO_MESSAGING_SERVICE_SID = env_str("OPENIOP_TWILIO_MESSAGING_SERVICE_SID")
# A message the provider refuses is retried (5, 10, 20 … minutes apart) up to this many tries.
OPENIOP_NOTIFY_MAX_ATTEMPTS = env_int("OPENIOP_NOTIFY_MAX_ATTEMPTS", 5)
