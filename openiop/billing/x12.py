"""The claim file: an ASC X12 005010X222A1 837P (professional claim) interchange.

`write_837p` is a pure function of claims already read (participant, coverage and lines
with their authorisation prefetched): it runs no query of its own. The layout follows
the 005010X222A1 implementation guide, loop by loop:

    ISA / GS / ST / BHT                       envelope and beginning of the transaction
    1000A submitter (NM1*41, PER*IC)          who sends the file
    1000B receiver (NM1*40)                   the clearinghouse
    2000A billing provider HL (PRV*BI)        the program
      2010AA (NM1*85 XX NPI, N3, N4, REF*EI)
      2000B subscriber HL (SBR)               one per claim
        2010BA subscriber (NM1*IL, N3, N4, DMG)
        2010BB payer (NM1*PR PI)
        2000C patient HL (PAT), when the patient is not the subscriber
        2300 claim (CLM, REF*G1, HI)
          2400 service line (LX, SV1, DTP*472, REF*G1)
    SE / GE / IEA                             counts and control numbers

Codes come from DOMAIN.md §6: the per-diem service code (§6.1, e.g. H0015), the
telehealth modifier and place of service (§6.3: 95 or GT; 10 at home, 02 elsewhere).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .choices import CLAIM_FILING_CODE, Priority, Relationship

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
TERMINATOR = "~"
IMPLEMENTATION = "005010X222A1"

# Characters kept in names and free text: the X12 basic character set less the
# delimiters this file uses (* : ~ ^), upper-cased (X12.6 basic set: A-Z, 0-9, space and
# a few marks).
_NOT_ALLOWED = re.compile(r"[^A-Z0-9 &'()+,\-./;?=#@!%]")
_NOT_ID = re.compile(r"[^A-Z0-9\-]")

# SBR01 payer responsibility by the coverage's priority.
RESPONSIBILITY = {Priority.PRIMARY: "P", Priority.SECONDARY: "S", Priority.TERTIARY: "T"}
# Diagnoses an 837P claim carries (2300 HI: one principal and eleven more).
MAX_DIAGNOSES = 12


def clean(value: Any, max_length: int, *, fallback: str = "") -> str:
    """Upper-cased text with accents folded and every character X12 does not allow (the
    separators first of all) dropped; spaces collapsed; at most `max_length`."""
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode()
    text = _NOT_ALLOWED.sub(" ", text.upper())
    text = " ".join(text.split())[:max_length].strip()
    return text or fallback


def identifier(value: Any, max_length: int, *, fallback: str = "", min_length: int = 1) -> str:
    """An id (member id, claim number, authorisation number): letters, digits, dashes;
    the fallback when too short to be one (X12 ids of NM109 have at least 2)."""
    text = _NOT_ID.sub("", str(value or "").upper())[:max_length]
    return text if len(text) >= min_length else fallback


def digits(value: Any) -> str:
    return re.sub(r"[^0-9]", "", str(value or ""))


def amount(value: Decimal) -> str:
    """An X12 decimal (R): no trailing zeros, no needless point (250.00 → 250)."""
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def diagnosis_code(code: str) -> str:
    """An ICD-10-CM code as X12 carries it: without the dot (F10.20 → F1020)."""
    return re.sub(r"[^A-Z0-9]", "", str(code).upper())


def d8(day: dt.date) -> str:
    return f"{day:%Y%m%d}"


class _Writer:
    def __init__(self) -> None:
        self.segments: list[str] = []

    def add(self, *elements: Any) -> None:
        parts = [str(e) if e is not None else "" for e in elements]
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()  # trailing empty elements are left out
        self.segments.append(ELEMENT.join(parts))


def _address_parts(person: Any) -> tuple[str, str, str, str]:
    street = clean(" ".join(filter(None, [person.address_line1, person.address_line2])), 55)
    region = re.sub(r"[^A-Z]", "", str(person.state or "").upper())
    return street, clean(person.city, 30), region, digits(person.postal_code)


def address_problem(person: Any) -> str:
    """Why the participant's postal address cannot go on a claim ("" when it can): the
    837P needs a street, a city, a two-letter state and a 5- or 9-digit ZIP code."""
    street, town, region, zip_code = _address_parts(person)
    if not street or len(town) < 2 or len(region) != 2 or len(zip_code) not in (5, 9):
        return (
            "The participant's postal address is incomplete: a claim needs the street, "
            "city, two-letter state and ZIP code."
        )
    return ""


def _address(writer: _Writer, person: Any) -> None:
    """N3/N4 of the participant, when the address is complete."""
    if address_problem(person):
        return
    street, town, region, zip_code = _address_parts(person)
    writer.add("N3", street)
    writer.add("N4", town, region, zip_code)


def _name(last: str, first: str) -> tuple[str, str]:
    return clean(last, 60, fallback="UNKNOWN"), clean(first, 35)


def _claim_segments(writer: _Writer, claim: Any, *, hl: int, payer: Any, billing_hl: int) -> int:
    """The 2000B (and 2000C) loops of one claim; returns the next free HL number."""
    participant = claim.participant
    coverage = claim.coverage
    self_insured = coverage.relationship == Relationship.SELF
    sex = coverage.patient_sex or "U"
    subscriber_hl = hl
    writer.add("HL", subscriber_hl, billing_hl, "22", "0" if self_insured else "1")
    writer.add(
        "SBR",
        RESPONSIBILITY.get(coverage.priority, "P"),
        Relationship.SELF if self_insured else "",
        identifier(coverage.group_number, 50),
        "",
        "",
        "",
        "",
        "",
        CLAIM_FILING_CODE.get(payer.kind, "ZZ"),
    )
    member_id = identifier(coverage.member_id, 80, fallback="UNKNOWN", min_length=2)
    if self_insured:
        last, first = _name(participant.legal_last_name, participant.legal_first_name)
    else:
        last, first = _name(coverage.subscriber_last_name, coverage.subscriber_first_name)
    writer.add("NM1", "IL", "1", last, first, "", "", "", "MI", member_id)
    if self_insured:
        _address(writer, participant)
        writer.add("DMG", "D8", d8(participant.date_of_birth), sex)
    writer.add(
        "NM1",
        "PR",
        "2",
        clean(payer.name, 60, fallback="PAYER"),
        "",
        "",
        "",
        "",
        "PI",
        identifier(payer.payer_id, 80, fallback="UNKNOWN", min_length=2),
    )
    hl += 1
    if not self_insured:
        writer.add("HL", hl, subscriber_hl, "23", "0")
        writer.add("PAT", coverage.relationship)
        last, first = _name(participant.legal_last_name, participant.legal_first_name)
        writer.add("NM1", "QC", "1", last, first)
        problem = address_problem(participant)
        if problem:
            # 2010CA N3/N4 are required: a dependant's claim cannot go without them.
            raise ValueError(f"Claim {claim.number}: {problem}")
        _address(writer, participant)
        writer.add("DMG", "D8", d8(participant.date_of_birth), sex)
        hl += 1

    lines = list(claim.lines.all())
    places = [line.place_of_service for line in lines]
    claim_place = max(set(places), key=lambda p: (places.count(p), p)) if places else "57"
    writer.add(
        "CLM",
        identifier(claim.number, 38),
        amount(claim.total_charge),
        "",
        "",
        COMPONENT.join([claim_place, "B", "1"]),
        "Y",
        "A",
        "Y",
        "Y",
    )
    auth_numbers = {line.authorisation_id for line in lines}
    one_auth = lines[0].authorisation if len(auth_numbers) == 1 and lines else None
    if one_auth is not None:
        writer.add("REF", "G1", identifier(one_auth.reference_number, 50, fallback="NONE"))
    codes = [diagnosis_code(c) for c in claim.diagnosis_codes][:MAX_DIAGNOSES]
    codes = [c for c in codes if c]
    if codes:
        writer.add(
            "HI",
            *[COMPONENT.join(["ABK" if i == 0 else "ABF", code]) for i, code in enumerate(codes)],
        )
    for number, line in enumerate(lines, start=1):
        writer.add("LX", number)
        procedure = COMPONENT.join(["HC", line.service_code, *line.modifiers[:4]])
        writer.add(
            "SV1",
            procedure,
            amount(line.charge),
            "UN",
            line.units,
            line.place_of_service if line.place_of_service != claim_place else "",
            "",
            "1",
        )
        writer.add("DTP", "472", "D8", d8(line.service_date))
        if one_auth is None and line.authorisation is not None:
            writer.add(
                "REF", "G1", identifier(line.authorisation.reference_number, 50, fallback="NONE")
            )
    return hl


def write_837p(
    claims: Sequence[Any],
    *,
    profile: Any,
    payer: Any,
    control_number: int,
    at: dt.datetime,
    production: bool,
) -> str:
    """The 837P interchange of `claims` (all to `payer`), as text: segments end with "~"
    and a newline."""
    if not claims:
        raise ValueError("A claim file needs at least one claim.")
    if not 0 < control_number <= 999_999_999:
        raise ValueError("The interchange control number has nine digits.")
    control = f"{control_number:09d}"
    sender = identifier(profile.submitter_id, 15, fallback="SUBMITTER")
    receiver = identifier(profile.receiver_id, 15, fallback="RECEIVER")
    out = _Writer()
    # ISA: every element at its fixed width (X12.5 interchange control header).
    out.add(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender.ljust(15),
        "ZZ",
        receiver.ljust(15),
        f"{at:%y%m%d}",
        f"{at:%H%M}",
        REPETITION,
        "00501",
        control,
        "0",
        "P" if production else "T",
        COMPONENT,
    )
    out.add(
        "GS",
        "HC",
        sender,
        receiver,
        f"{at:%Y%m%d}",
        f"{at:%H%M}",
        control_number,
        "X",
        IMPLEMENTATION,
    )
    first = len(out.segments)
    out.add("ST", "837", "0001", IMPLEMENTATION)
    out.add("BHT", "0019", "00", control, f"{at:%Y%m%d}", f"{at:%H%M}", "CH")
    # 1000A submitter, 1000B receiver.
    out.add(
        "NM1",
        "41",
        "2",
        clean(profile.billing_name, 60, fallback="SUBMITTER"),
        "",
        "",
        "",
        "",
        "46",
        sender,
    )
    out.add(
        "PER",
        "IC",
        clean(profile.contact_name, 60, fallback="BILLING"),
        "TE",
        digits(profile.phone),
    )
    out.add(
        "NM1",
        "40",
        "2",
        clean(profile.receiver_name, 60, fallback="RECEIVER"),
        "",
        "",
        "",
        "",
        "46",
        receiver,
    )
    # 2000A billing provider.
    out.add("HL", "1", "", "20", "1")
    out.add("PRV", "BI", "PXC", identifier(profile.taxonomy_code, 50))
    out.add(
        "NM1",
        "85",
        "2",
        clean(profile.billing_name, 60, fallback="PROVIDER"),
        "",
        "",
        "",
        "",
        "XX",
        digits(profile.npi),
    )
    out.add("N3", clean(profile.address_line, 55, fallback="ADDRESS"))
    out.add(
        "N4",
        clean(profile.city, 30, fallback="CITY"),
        clean(profile.state, 2),
        digits(profile.postal_code),
    )
    out.add("REF", "EI", digits(profile.tax_id))
    hl = 2
    for claim in claims:
        hl = _claim_segments(out, claim, hl=hl, payer=payer, billing_hl=1)
    out.add("SE", len(out.segments) - first + 1, "0001")
    out.add("GE", "1", control_number)
    out.add("IEA", "1", control)
    return "".join(f"{segment}{TERMINATOR}\n" for segment in out.segments)
