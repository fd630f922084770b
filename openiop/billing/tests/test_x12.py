"""The 837P claim file (issue 11, acceptance 2): written by `x12.write_837p`, parsed and
validated by an independent X12 library (pyx12, against its 005010X222A1 map)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace as NS

import pyx12.params
import pyx12.x12n_document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.billing import x12

AT = dt.datetime(2025, 2, 3, 9, 5)  # the file's local time, as written


class Lines(list):
    def all(self):
        return self


def profile(**more):
    values = {
        "submitter_id": "HARBOR01",
        "receiver_id": "CLEARHOUSE",
        "billing_name": "Harbor IOP LLC",
        "contact_name": "Bea Biller",
        "phone": "2075550100",
        "receiver_name": "Clearing House",
        "taxonomy_code": "261QR0405X",
        "npi": "1234567893",
        "address_line": "12 Harbor Street",
        "city": "Portland",
        "state": "ME",
        "postal_code": "041011234",
        "tax_id": "123456789",
    }
    return NS(**{**values, **more})


PAYER = NS(name="Harbor Health Plan", payer_id="HHP01", kind="commercial")
AUTH = NS(pk=1, reference_number="AUTH-1001")


def line(day: int, *, tele: bool = False, auth=AUTH):
    return NS(
        service_code="H0015",
        modifiers=["95"] if tele else [],
        place_of_service="10" if tele else "57",
        units=1,
        charge=Decimal("250.00"),
        service_date=dt.date(2025, 1, day),
        authorisation=auth,
        authorisation_id=auth.pk if auth else None,
    )


def person(**more):
    values = {
        "legal_last_name": "Active",
        "legal_first_name": "Pat",
        "address_line1": "4 Fore Street",
        "address_line2": "",
        "city": "Portland",
        "state": "ME",
        "postal_code": "04101",
        "date_of_birth": dt.date(1990, 5, 17),
    }
    return NS(**{**values, **more})


def coverage(**more):
    values = {
        "relationship": "18",
        "patient_sex": "F",
        "priority": 1,
        "group_number": "GRP-77",
        "member_id": "HHP123456",
        "subscriber_last_name": "",
        "subscriber_first_name": "",
    }
    return NS(**{**values, **more})


def claim(number: str, lines, *, participant=None, cov=None, codes=("F10.20",)):
    return NS(
        number=number,
        participant=participant or person(),
        coverage=cov or coverage(),
        total_charge=sum((ln.charge for ln in lines), Decimal("0")),
        diagnosis_codes=list(codes),
        lines=Lines(lines),
    )


def write(claims, **more):
    return x12.write_837p(
        claims,
        profile=more.pop("profile", profile()),
        payer=more.pop("payer", PAYER),
        control_number=more.pop("control_number", 42),
        at=AT,
        production=more.pop("production", False),
    )


def validate(text: str) -> tuple[bool, str]:
    """pyx12's verdict and the 999 acknowledgement it writes."""
    ack = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), ack, None)
    return ok, ack.getvalue()


def assert_valid(text: str) -> None:
    ok, ack = validate(text)
    assert ok, ack
    assert "IK5*A~" in ack and "AK9*A*1*1*1~" in ack, ack
    assert "IK3" not in ack and "IK4" not in ack, ack


def segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def test_a_file_with_two_claims_is_valid_837p():
    tele = claim("CLM-000001", [line(2), line(3, tele=True)], codes=["F10.20", "F41.1"])
    dependant = claim(
        "CLM-000002",
        [line(2, auth=None)],
        cov=coverage(relationship="19", subscriber_last_name="Doe", subscriber_first_name="Jo"),
    )
    text = write([tele, dependant])
    assert_valid(text)
    segs = segments(text)
    # The envelope: one group, one transaction, counts right.
    assert segs[0].startswith("ISA*00*          *00*          *ZZ*HARBOR01       *ZZ*CLEARHOUSE ")
    assert segs[0].endswith("*^*00501*000000042*0*T*:")
    assert len(segs[0]) == 105  # ISA is fixed width (plus its terminator: 106)
    st_index = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    se = next(s for s in segs if s.startswith("SE*"))
    assert se == f"SE*{len(segs) - 2 - st_index}*0001"  # ST to SE inclusive
    assert "GE*1*42" in segs and "IEA*1*000000042" in segs
    assert "BHT*0019*00*000000042*20250203*0905*CH" in segs
    # The telehealth line: modifier 95 and place of service 10 (DOMAIN.md §6.3).
    assert "SV1*HC:H0015*250*UN*1***1" in segs
    assert "SV1*HC:H0015:95*250*UN*1*10**1" in segs
    assert "HI*ABK:F1020*ABF:F411" in segs
    # One authorisation for every line: at claim level only.
    assert segs.count("REF*G1*AUTH-1001") == 1
    # The dependant: a patient loop, no subscriber demographics.
    assert "PAT*19" in segs and "NM1*QC*1*ACTIVE*PAT" in segs
    assert "NM1*IL*1*DOE*JO****MI*HHP123456" in segs
    assert "HL*3*1*22*1" in segs and "HL*4*3*23*0" in segs


def test_lines_under_different_authorisations_carry_them_at_line_level():
    other = NS(pk=2, reference_number="AUTH-2002")
    text = write([claim("CLM-000003", [line(2), line(3, auth=other)])])
    assert_valid(text)
    segs = segments(text)
    clm = segs.index("CLM*CLM-000003*500***57:B:1*Y*A*Y*Y")
    assert segs[clm + 1].startswith("HI*")  # no claim-level REF*G1
    assert segs.count("REF*G1*AUTH-1001") == 1 and segs.count("REF*G1*AUTH-2002") == 1
    assert segs.index("REF*G1*AUTH-2002") > segs.index("DTP*472*D8*20250103")


def test_production_flag_and_the_checks_pyx12_makes():
    text = write([claim("CLM-000004", [line(6)])], production=True)
    assert "*0*P*:~" in text
    assert_valid(text)
    # The validator is real: a wrong segment count or a dotted code is refused.
    se = next(s for s in segments(text) if s.startswith("SE*"))
    count = int(se.split("*")[1])
    assert not validate(text.replace(se, f"SE*{count - 1}*0001"))[0]
    assert not validate(text.replace("ABK:F1020", "ABK:F10.20*"))[0]


def test_clean_strips_separators_and_folds_accents():
    assert x12.clean("O'Brien*~:^ Zoë", 60) == "O'BRIEN ZOE"
    assert x12.clean("***", 60, fallback="UNKNOWN") == "UNKNOWN"
    assert x12.identifier("hhp-12*3:4~", 80) == "HHP-1234"
    assert x12.amount(Decimal("250.00")) == "250"
    assert x12.amount(Decimal("12.50")) == "12.5"
    assert x12.diagnosis_code("f10.20") == "F1020"


TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=70
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.tuples(TEXT, TEXT, TEXT, TEXT, TEXT), min_size=1, max_size=4),
    line_counts=st.lists(st.integers(min_value=1, max_value=6), min_size=4, max_size=4),
    payer_name=TEXT,
    member=TEXT,
    billing_name=TEXT,
    dependant=st.booleans(),
)
def test_any_names_and_addresses_make_a_valid_file(
    names, line_counts, payer_name, member, billing_name, dependant
):
    claims = []
    for i, (last, first, street, city, zip_code) in enumerate(names):
        lines = [line(1 + n, tele=bool(n % 2)) for n in range(line_counts[i])]
        who = person(
            legal_last_name=last,
            legal_first_name=first,
            address_line1=street,
            city=city,
            state=city[:2],
            postal_code=zip_code,
        )
        cov = coverage(member_id=member, group_number=street)
        # A dependant's claim needs the patient's address (2010CA N3/N4): submit_claims
        # refuses one without it, so only a complete address is written as a dependant.
        if dependant and i % 2 and not x12.address_problem(who):
            cov = coverage(relationship="01", subscriber_last_name=first, member_id=member)
        claims.append(claim(f"CLM-{i + 1:06d}", lines, participant=who, cov=cov))
    payer = NS(name=payer_name, payer_id=member, kind="medicaid")
    text = write(claims, payer=payer, profile=profile(billing_name=billing_name))
    assert_valid(text)
    assert sum(s.startswith("CLM*") for s in segments(text)) == len(claims)


def test_a_dependant_without_an_address_is_refused_by_the_writer():
    who = person(address_line1="", city="")
    assert x12.address_problem(who)
    cov = coverage(relationship="19", subscriber_last_name="Doe")
    try:
        write([claim("CLM-000009", [line(2)], participant=who, cov=cov)])
    except ValueError as exc:
        assert "postal address" in str(exc)
    else:
        raise AssertionError("written without the patient's address")
