"""Patient: the participant (US Core Patient shape, DOMAIN.md §7)."""

from __future__ import annotations

from typing import Any

from openiop.participants.models import Participant

from ..registry import Provider, Source, register

RECORD_NUMBER = "urn:openiop:record-number"
# BCP-47 (IETF) tags of the languages programs in the US meet most (names as stored).
LANGUAGE_TAGS = {
    "english": "en",
    "spanish": "es",
    "chinese": "zh",
    "vietnamese": "vi",
    "arabic": "ar",
    "french": "fr",
    "haitian creole": "ht",
    "portuguese": "pt",
    "russian": "ru",
    "korean": "ko",
    "tagalog": "tl",
    "somali": "so",
    "american sign language": "ase",
}


def patient_reference(participant: Any) -> dict[str, str]:
    """`{"reference": "Patient/<id>"}` for a participant (other types use it)."""
    return {"reference": f"Patient/{participant.uuid}"}


class PatientSource(Source):
    model = Participant
    participant_path = ""
    category = "enrolment"

    def queryset(self):
        return Participant.objects.filter(voided=False).select_related("program")

    def to_resource(self, obj: Participant, ctx: Any) -> dict[str, Any]:
        name: dict[str, Any] = {
            "use": "official",
            "family": obj.legal_last_name,
            "given": [obj.legal_first_name],
        }
        names = [name]
        if obj.preferred_name and obj.preferred_name != obj.legal_first_name:
            names.append({"use": "usual", "given": [obj.preferred_name]})
        resource: dict[str, Any] = {
            "identifier": [
                {
                    "use": "usual",
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                                "display": "Medical record number",
                            }
                        ]
                    },
                    "system": f"{RECORD_NUMBER}:{obj.program_id}",
                    "value": obj.record_number,
                }
            ],
            "active": True,
            "name": names,
            "managingOrganization": {"display": obj.program.name},
        }
        if obj.date_of_birth:
            resource["birthDate"] = obj.date_of_birth.isoformat()
        telecom = []
        if obj.phone:
            telecom.append({"system": "phone", "value": obj.phone, "use": "mobile"})
        if obj.email:
            telecom.append({"system": "email", "value": obj.email})
        if telecom:
            resource["telecom"] = telecom
        if obj.address_line1 or obj.city:
            address: dict[str, Any] = {"use": "home"}
            lines = [x for x in (obj.address_line1, obj.address_line2) if x]
            if lines:
                address["line"] = lines
            for key, value in (
                ("city", obj.city),
                ("state", obj.state),
                ("postalCode", obj.postal_code),
            ):
                if value:
                    address[key] = value
            resource["address"] = [address]
        if obj.preferred_language:
            # Stored as a language's English name; BCP-47 tags for the common ones.
            language: dict[str, Any] = {"text": obj.preferred_language}
            tag = LANGUAGE_TAGS.get(obj.preferred_language.strip().lower())
            if tag:
                language["coding"] = [
                    {"system": "urn:ietf:bcp:47", "code": tag, "display": obj.preferred_language}
                ]
            resource["communication"] = [{"language": language, "preferred": True}]
        if obj.pronouns:
            resource["extension"] = [
                {
                    # FHIR R5 / US Core 6 pronouns extension, carried as text.
                    "url": "http://hl7.org/fhir/StructureDefinition/individual-pronouns",
                    "extension": [{"url": "value", "valueCodeableConcept": {"text": obj.pronouns}}],
                }
            ]
        return resource


register(
    Provider(
        "Patient",
        [PatientSource()],
        documentation="Participants of the client's program.",
        profile="http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient",
    )
)
