"""AuditEvent: the audit log (`core.AuditEvent`) for the program's own compliance systems
(DOMAIN.md §7 "Access / disclosure log → AuditEvent (purposeOfEvent,
entity.securityLabel)"; §3: ONC 170.315(d)(2)/(3)/(10), ASTM E2147 §7.1.9).

Only the program's internal clients may read it (`internal_only`: an outside client
gets 403). Only events about a participant of the client's program are served: the log
stores the participant as a bare id (`participant_id`, no foreign key), so the program
is found through a subquery. Events about no participant (sign-ins, set-up changes, the
chain's verifications) are not served: they belong to no program's patient data.

AuditEvent is in FHIR's Patient compartment (`patient`), so a patient/ scope of an
internal client (a portal showing a participant who looked at their record) reads that
participant's events only.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from openiop.core.choices import AuditAction
from openiop.core.models import AuditEvent
from openiop.participants.models import Participant

from ..api import instant
from ..labels import ACT_CODE, CONFIDENTIALITY
from ..registry import REGISTRY, Provider, Source, register
from .consents import purpose_coding
from .plans import numeric_ids

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
OBJECT = "urn:openiop:object"  # local: the audit log's object types (+ ":" + type)
ID_PREFIX = "audit-"

# DICOM audit event IDs (DCM): 110110 Patient Record (create/read/update/delete of a
# patient's record), 110106 Export (data sent out), 110113 Security Alert, 110114 User
# Authentication.
PATIENT_RECORD = {"system": DCM, "code": "110110", "display": "Patient Record"}
EXPORT = {"system": DCM, "code": "110106", "display": "Export"}
SECURITY_ALERT = {"system": DCM, "code": "110113", "display": "Security Alert"}
USER_AUTHENTICATION = {"system": DCM, "code": "110114", "display": "User Authentication"}
REST = {"system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}

EVENT_TYPES: dict[str, dict[str, str]] = {
    AuditAction.EXPORT: EXPORT,
    AuditAction.DISCLOSE: EXPORT,
    AuditAction.DISCLOSURE_REFUSED: SECURITY_ALERT,
    AuditAction.DENIED: SECURITY_ALERT,
    AuditAction.EMERGENCY_ACCESS: SECURITY_ALERT,
    AuditAction.LOCKED_OUT: SECURITY_ALERT,
    AuditAction.LOGIN: USER_AUTHENTICATION,
    AuditAction.LOGOUT: USER_AUTHENTICATION,
    AuditAction.LOGIN_FAILED: USER_AUTHENTICATION,
    AuditAction.MFA: USER_AUTHENTICATION,
    AuditAction.MFA_FAILED: USER_AUTHENTICATION,
    AuditAction.UNLOCK: USER_AUTHENTICATION,
    AuditAction.TIMED_OUT: USER_AUTHENTICATION,
}

# AuditEvent.action: C create, R read/view/print, U update, D delete, E execute.
# Voiding withdraws a record from use (the API answers 410 Gone): a logical delete.
# Exports and disclosures read data out; what is not about one record is an execution.
ACTIONS: dict[str, str] = {
    AuditAction.VIEW: "R",
    AuditAction.EXPORT: "R",
    AuditAction.DISCLOSE: "R",
    AuditAction.CREATE: "C",
    AuditAction.CHANGE: "U",
    AuditAction.TRANSITION: "U",
    AuditAction.SIGN: "U",
    AuditAction.AMEND: "U",
    AuditAction.REVOKE: "U",
    AuditAction.VOID: "D",
}

# Refusals and failures: outcome 4 (minor failure: the request was refused, as an HTTP
# 4xx); everything else succeeded (0).
FAILED = frozenset(
    {
        AuditAction.DENIED,
        AuditAction.DISCLOSURE_REFUSED,
        AuditAction.LOGIN_FAILED,
        AuditAction.MFA_FAILED,
        AuditAction.LOCKED_OUT,
    }
)

# The FHIR API's interactions (changes["interaction"] of its view events).
INTERACTIONS = {
    "read": {"system": RESTFUL, "code": "read", "display": "read"},
    "search": {"system": RESTFUL, "code": "search-type", "display": "search-type"},
}

# The Part 2 labels of the data an event is about (ASTM E2147 §7.1.9: the log shows
# that specially protected data was touched; DOMAIN.md §2.9).
ENTITY_LABELS = [
    {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
]


def _of_program(program_ids: list[int]) -> Any:
    return Participant.objects.filter(program_id__in=program_ids).values("pk")


class AuditEventSource(Source):
    model = AuditEvent
    participant_path = "participant"  # not a relation: the lookups below are overridden
    category = "enrolment"  # never checked: outside clients are refused (internal_only)
    date_field = "at"
    date_kind = "datetime"
    updated_field = "at"  # events are written once and never change
    id_prefix = ID_PREFIX
    id_field = "seq"  # no uuid; seq is unique and never reused (the hash chain)

    def queryset(self) -> QuerySet[Any]:
        patient_uuid = Participant.objects.filter(pk=OuterRef("participant_id")).values("uuid")
        return (
            AuditEvent.objects.filter(participant_id__isnull=False)
            .select_related("actor")
            .annotate(fhir_patient_uuid=Subquery(patient_uuid[:1]))
        )

    def id_q(self, ids: list[str]) -> Q | None:
        keys = numeric_ids(ids, ID_PREFIX)
        return Q(seq__in=keys) if keys else None

    def program_q(self, program_ids: list[int]) -> Q:
        return Q(participant_id__in=_of_program(program_ids))

    def participant_pk_q(self, pks: Any) -> Q:
        return Q(participant_id__in=pks)

    def participant_uuid_q(self, uuids: list[uuid.UUID]) -> Q:
        return Q(participant_id__in=Participant.objects.filter(uuid__in=uuids).values("pk"))

    def participant_id_of(self, obj: AuditEvent) -> int:
        return int(obj.participant_id or 0)

    def to_resource(self, obj: AuditEvent, ctx: Any) -> dict[str, Any]:
        changes = obj.changes if isinstance(obj.changes, dict) else {}
        is_api_read = obj.object_type.startswith("fhir.") and obj.action == AuditAction.VIEW
        resource: dict[str, Any] = {
            "type": REST if is_api_read else EVENT_TYPES.get(obj.action, PATIENT_RECORD),
            "action": ACTIONS.get(obj.action, "E"),
            "recorded": instant(obj.at),
            "outcome": "4" if obj.action in FAILED else "0",
            "agent": [self._agent(obj)],
            "source": {
                "observer": {"display": "OpenIOP"},
                "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
            },
            "entity": self._entities(obj, changes),
        }
        interaction = INTERACTIONS.get(str(changes.get("interaction", "")))
        if is_api_read and interaction:
            resource["subtype"] = [interaction]
        if obj.source:  # where in OpenIOP: web, api, command, job…
            resource["source"]["site"] = obj.source
        if obj.reason:
            resource["outcomeDesc"] = obj.reason
        purpose = changes.get("purpose")
        if isinstance(purpose, str) and purpose:
            resource["purposeOfEvent"] = [{"coding": [purpose_coding(purpose)]}]
        return resource

    def _agent(self, obj: AuditEvent) -> dict[str, Any]:
        # Staff are not served as Practitioners: the user is named by display only.
        agent: dict[str, Any] = {
            "who": {"display": obj.actor_username or "system"},
            "requestor": True,
        }
        if obj.actor is not None:
            agent["name"] = obj.actor.get_full_name() or obj.actor.username
            agent["altId"] = str(obj.actor_id)
        if obj.client_ip:
            agent["network"] = {"address": obj.client_ip, "type": "2"}  # 2: IP address
        return agent

    def _entities(self, obj: Any, changes: dict[str, Any]) -> list[dict[str, Any]]:
        entities: list[dict[str, Any]] = []
        patient_uuid = getattr(obj, "fhir_patient_uuid", None)
        if patient_uuid is not None:
            entities.append(
                {
                    "what": {"reference": f"Patient/{patient_uuid}"},
                    "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                    "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
                    "securityLabel": [dict(label) for label in ENTITY_LABELS],
                }
            )
        if obj.object_type:
            entity: dict[str, Any] = {
                "what": self._what(obj),
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "name": obj.object_type,
            }
            if obj.object_repr:
                entity["description"] = obj.object_repr
            # The categories of data read or disclosed (E2147 §7.1.9).
            categories = changes.get("categories") or changes.get("information")
            if isinstance(categories, list) and categories:
                entity["detail"] = [
                    {"type": "categories", "valueString": ", ".join(str(c) for c in categories)}
                ]
            entities.append(entity)
        return entities

    def _what(self, obj: AuditEvent) -> dict[str, Any]:
        """A FHIR reference for what the API served; else the log's own identifier."""
        rtype = obj.object_type.removeprefix("fhir.")
        if obj.object_type.startswith("fhir.") and rtype in REGISTRY and obj.object_id:
            return {"reference": f"{rtype}/{obj.object_id}"}
        what: dict[str, Any] = {"display": obj.object_repr or obj.object_type}
        if obj.object_id:
            what["identifier"] = {"system": f"{OBJECT}:{obj.object_type}", "value": obj.object_id}
        return what


register(
    Provider(
        "AuditEvent",
        [AuditEventSource()],
        documentation=(
            "The audit log's events about the program's participants, for the program's own "
            "compliance systems (outside clients are refused)."
        ),
        internal_only=True,
        # In FHIR's Patient compartment: a patient/ scope reads its participant's events.
        in_patient_compartment=True,
        params_doc={"date": "When the event was recorded."},
    )
)
