"""Security labels every resource carries (DOMAIN.md §2.9, §7; HL7 DS4P IG).

Everything this program holds is a Part 2 record (a federally assisted SUD program), so
every resource is labelled restricted (R), SUD information, 42 CFR Part 2 and "no
redisclosure without consent". The confidentiality label's basis (the law) is tied to it
with the DS4P `extension-sec-label-basis`.
"""

from __future__ import annotations

from typing import Any

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
LABEL_BASIS = (
    "http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-basis"
)


def security_labels() -> list[dict[str, Any]]:
    """`meta.security` for a Part 2 resource: a new list each call (callers may add)."""
    return [
        {
            "system": CONFIDENTIALITY,
            "code": "R",
            "display": "restricted",
            "extension": [
                {
                    "url": LABEL_BASIS,
                    "valueCoding": {
                        "system": ACT_CODE,
                        "code": "42CFRPart2",
                        "display": "42 CFR Part2",
                    },
                }
            ],
        },
        {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
        {
            "system": ACT_CODE,
            "code": "SUD",
            "display": "substance use disorder information sensitivity",
        },
        {
            "system": ACT_CODE,
            "code": "NORDSCLCD",
            "display": "no redisclosure without consent directive",
        },
    ]


def has_part2_labels(resource: dict[str, Any]) -> bool:
    """Does a resource carry the confidentiality and Part 2 labels? (for tests and checks)"""
    codes = {(c.get("system"), c.get("code")) for c in resource.get("meta", {}).get("security", [])}
    return {(CONFIDENTIALITY, "R"), (ACT_CODE, "42CFRPart2"), (ACT_CODE, "SUD")} <= codes
