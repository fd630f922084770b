"""Text messages through a small provider interface.

A backend has one method, `send(to, body) -> provider message id`, and raises `SmsError`
when the provider refuses or cannot be reached. Which backend is used comes from
`settings.OPENIOP_SMS_BACKEND` (environment `OPENIOP_SMS_BACKEND`):

* ``console`` — development: writes the message to standard output, number masked;
* ``file`` — development: one file per message under ``VAR_DIR/sms/``;
* ``locmem`` — tests: messages collect in ``sms.outbox`` (like ``mail.outbox``);
* ``twilio`` — production: Twilio's REST Messages API (see `TwilioBackend`);
* or the dotted path of a class with the same interface.

Phone numbers are never logged in full (`mask`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider refused the message or could not be reached."""


class Backend(Protocol):
    def send(self, to: str, body: str) -> str: ...


def mask(address: str) -> str:
    """An address fit for a log line or a staff list: the last digits of a number, the
    first letter and domain of an email."""
    if not address:
        return ""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    digits = re.sub(r"\D", "", address)
    return f"•••{digits[-2:]}" if len(digits) >= 2 else "•••"


def normalise_phone(raw: str, default_country: str = "1") -> str:
    """E.164 (+15551234567) from what staff typed, or "" when it cannot be a mobile number.
    Ten digits are taken as a North American number (the default country code)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        return f"+{digits}" if 8 <= len(digits) <= 15 else ""
    if raw.startswith("00") and 10 <= len(digits) - 2 <= 15:
        return f"+{digits[2:]}"
    if len(digits) == 10:
        return f"+{default_country}{digits}"
    if len(digits) == 11 and digits.startswith(default_country):
        return f"+{digits}"
    return ""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    id: str


# The locmem backend's messages (tests empty it between tests).
outbox: list[SmsMessage] = []


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


class LocmemBackend:
    def send(self, to: str, body: str) -> str:
        message = SmsMessage(to, body, _new_id("locmem"))
        outbox.append(message)
        return message.id


class ConsoleBackend:
    """Prints the message (it carries no clinical information) with the number masked."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream

    def send(self, to: str, body: str) -> str:
        message_id = _new_id("console")
        stream = self.stream or sys.stdout
        stream.write(f"--- text message {message_id} to {mask(to)} ---\n{body}\n---\n")
        stream.flush()
        return message_id


class FileBackend:
    """One file per message under `directory` (default VAR_DIR/sms), for development."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory or Path(settings.VAR_DIR) / "sms")

    def send(self, to: str, body: str) -> str:
        message_id = _new_id("file")
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = self.directory / f"{stamp}-{message_id}.txt"
        path.write_text(f"To: {to}\nId: {message_id}\n\n{body}\n", encoding="utf-8")
        return message_id


class TwilioBackend:
    """Twilio's Programmable Messaging REST API: POST /2010-04-01/Accounts/{sid}/Messages.json
    with form fields To, From (or MessagingServiceSid) and Body, HTTP basic auth with the
    account SID and auth token. Answers 201 with the message's `sid`; errors come back as
    JSON with `code` and `message`.

    Settings (environment): OPENIOP_TWILIO_ACCOUNT_SID, OPENIOP_TWILIO_AUTH_TOKEN (or
    ..._FILE), and OPENIOP_TWILIO_FROM (a number in E.164) or
    OPENIOP_TWILIO_MESSAGING_SERVICE_SID. `opener` is for tests (no network in tests).
    """

    API = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        *,
        opener: Any = None,
        timeout: float = 15.0,
    ) -> None:
        self.account_sid: str = account_sid or settings.OPENIOP_TWILIO_ACCOUNT_SID
        self.auth_token: str = auth_token or settings.OPENIOP_TWILIO_AUTH_TOKEN
        self.from_number: str = from_number or settings.OPENIOP_TWILIO_FROM
        self.messaging_service_sid: str = (
            messaging_service_sid or settings.OPENIOP_TWILIO_MESSAGING_SERVICE_SID
        )
        self.opener = opener or urllib.request.build_opener()
        self.timeout = timeout

    def request_for(self, to: str, body: str) -> urllib.request.Request:
        if not self.account_sid or not self.auth_token:
            raise SmsError("Twilio is not configured: set the account SID and auth token.")
        if not (self.from_number or self.messaging_service_sid):
            raise SmsError("Twilio is not configured: set a From number or messaging service.")
        fields: dict[str, str] = {"To": to, "Body": body}
        if self.messaging_service_sid:
            fields["MessagingServiceSid"] = self.messaging_service_sid
        else:
            fields["From"] = self.from_number
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        # The address is the fixed https:// API above (no user-given scheme).
        return urllib.request.Request(  # noqa: S310
            self.API.format(sid=urllib.parse.quote(self.account_sid, safe="")),
            data=urllib.parse.urlencode(fields).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )

    def send(self, to: str, body: str) -> str:
        request = self.request_for(to, body)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                payload = _json(response.read())
        except urllib.error.HTTPError as exc:
            detail = _json(exc.read() if exc.fp else b"")
            raise SmsError(
                f"Twilio refused the message (HTTP {exc.code}"
                + (f", error {detail['code']}" if detail.get("code") else "")
                + (f": {detail['message']}" if detail.get("message") else "")
                + ")"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsError(f"Twilio could not be reached: {reason}") from None
        sid = payload.get("sid")
        if not sid:
            raise SmsError("Twilio answered without a message id.")
        if payload.get("status") == "failed" or payload.get("error_code"):
            raise SmsError(f"Twilio did not accept the message (error {payload.get('error_code')})")
        return str(sid)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8", "replace") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


BACKENDS = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "locmem": LocmemBackend,
    "twilio": TwilioBackend,
}


def get_backend(name: str | None = None) -> Backend:
    chosen: str = name or settings.OPENIOP_SMS_BACKEND
    cls = BACKENDS.get(chosen) or import_string(chosen)
    return cls()


def send(to: str, body: str) -> str:
    """Send one text message through the configured backend; the provider's message id."""
    message_id = get_backend().send(to, body)
    log.info("text message %s sent to %s", message_id, mask(to))
    return message_id
