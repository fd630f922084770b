"""The CapabilityStatement and the token endpoint."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .api import FHIR_VERSION, allowed_params, api_view
from .auth import TokenError, issue_token
from .errors import fhir_json
from .registry import REGISTRY

PARAM_TYPES = {
    "_id": ("token", "Logical id of the resource (comma: any of)"),
    "_lastUpdated": ("date", "When the resource last changed (prefixes eq ne lt gt le ge sa eb)"),
    "patient": ("reference", "The participant (Patient/<id>)"),
    "date": ("date", "The resource's clinical date (prefixes eq ne lt gt le ge sa eb)"),
    "status": ("token", "The resource's status code (comma: any of)"),
    "_count": ("number", "Resources per page (default 50, at most 500)"),
    "_offset": ("number", "Where the page starts (the next link sets it)"),
}


def capability_statement(base: str) -> dict:
    resources = []
    for rtype in sorted(REGISTRY):
        provider = REGISTRY[rtype]
        params = []
        for name in sorted(allowed_params(provider) - {"_format"}):
            kind, doc = PARAM_TYPES.get(name, ("token", provider.params_doc.get(name, "")))
            entry = {"name": name, "type": kind}
            doc = provider.params_doc.get(name, doc)
            if doc:
                entry["documentation"] = doc
            params.append(entry)
        resource: dict = {
            "type": rtype,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": params,
        }
        if provider.profile:
            resource["supportedProfile"] = [provider.profile]
        if provider.documentation:
            resource["documentation"] = provider.documentation
        resources.append(resource)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "publisher": "OpenIOP",
        "kind": "instance",
        "software": {"name": "OpenIOP"},
        "implementation": {"description": "OpenIOP FHIR R4 API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read-only. Every resource carries the 42 CFR Part 2 security labels; "
                    "reads by outside clients go through the consent gate and are "
                    "recorded as disclosures."
                ),
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        f"OAuth 2.0 client credentials at {base}/auth/token; "
                        "SMART-style scopes such as system/Observation.read."
                    ),
                },
                "resource": resources,
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    },
                    {
                        "name": "patient-export",
                        "definition": (
                            "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
                        ),
                    },
                ],
            }
        ],
    }


@api_view(public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_json(capability_statement(request.build_absolute_uri("/fhir/R4").rstrip("/")))


@api_view(public=True, methods=("POST",))
def token(request: HttpRequest) -> HttpResponse:
    try:
        row, secret = issue_token(request)
    except TokenError as exc:
        response = HttpResponse(
            json.dumps({"error": exc.error, "error_description": exc.description}),
            status=exc.status,
            content_type="application/json",
        )
        if exc.status == 401:
            response["WWW-Authenticate"] = 'Basic realm="openiop-fhir"'
        response["Cache-Control"] = "no-store"
        return response
    body = {
        "access_token": secret,
        "token_type": "bearer",
        "expires_in": int((row.expires_at - row.issued_at).total_seconds()),
        "scope": row.scopes,
    }
    response = HttpResponse(json.dumps(body), content_type="application/json")
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
