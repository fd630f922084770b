"""OperationOutcome: every error of the API is one, with the right HTTP status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse

CONTENT_TYPE = "application/fhir+json; charset=utf-8"


class FhirError(Exception):
    """An error the client can act on: HTTP `status`, FHIR issue `code`, a diagnostic."""

    def __init__(
        self,
        status: int,
        code: str,
        diagnostics: str,
        *,
        headers: dict[str, str] | None = None,
        issues: list[dict[str, Any]] | None = None,
        after: Callable[[], None] | None = None,
    ):
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.headers = headers or {}
        self.issues = issues
        self.after = after  # run once the request's transaction has rolled back


def issue(severity: str, code: str, diagnostics: str, **more: Any) -> dict[str, Any]:
    return {"severity": severity, "code": code, "diagnostics": diagnostics, **more}


def outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def fhir_json(data: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=CONTENT_TYPE,
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_response(exc: FhirError) -> HttpResponse:
    issues = exc.issues or [issue("error", exc.code, exc.diagnostics)]
    response = fhir_json(outcome(issues), exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response
