"""TEDS records built and validated (issue 10, acceptance 4): valid records give the CSV
rows worked out by hand below; each kind of invalid value is reported (element, value,
why) and its record is left out of the file; random items never raise.

Pure: the records are built from unsaved model instances, no database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.discharge.models import Discharge
from openiop.intake import teds_services as rules
from openiop.intake.models import TedsAdmission
from openiop.outcomes import teds
from openiop.participants import teds_codes as codes
from openiop.participants.models import Episode, Participant

KEY = b"test-client-key"
PROVIDER = teds.Provider(stfips="23", provider_id="ME-IOP-0042", client_key=KEY)
RECORD_NUMBER = "OI-000123-4"
# HMAC-SHA256("test-client-key", "OI-000123-4"), first 16 hex digits, upper case (worked
# out with `hmac` directly in test_client_id_is_a_keyed_hash_of_the_record_number).
CLIENT = hmac.new(KEY, RECORD_NUMBER.encode(), hashlib.sha256).hexdigest()[:16].upper()

VALID_ITEMS: dict[str, Any] = {
    "sex": 2,  # female
    "race": 5,  # white
    "ethnicity": 4,  # not Hispanic
    "marital_status": 1,  # never married
    "education": 3,  # grade 12 / GED
    "employment": 1,  # full-time
    "living": 3,  # independent
    "veteran": 2,  # no
    "pregnant": 2,  # no
    "arrests": 0,  # none
    "psychiatric_problem": 1,  # yes
    "prior_treatment": 1,  # one prior episode
    "methuse": 2,  # no
    "self_help": 2,  # 1–3 times
    "sub1": 2,  # alcohol
    "route1": 1,  # oral
    "freq1": 3,  # daily
    "frstuse1": 15,
    "sub2": 4,  # marijuana
    "route2": 2,  # smoking
    "freq2": 2,  # some use
    "frstuse2": 16,
    "sub3": 1,  # none: route, frequency and age at first use stay empty
    "route3": None,
    "freq3": None,
    "frstuse3": None,
}


def make_episode(**changes: Any) -> Episode:
    participant = Participant(
        record_number=RECORD_NUMBER,
        legal_first_name="Pat",
        legal_last_name="Doe",
        date_of_birth=dt.date(1990, 5, 17),
    )
    values: dict[str, Any] = {
        "status": "discharged",
        "referral_source": "physician",  # PSOURCE 3, other health care provider
        "referral_date": dt.date(2026, 3, 2),
        "admission_date": dt.date(2026, 3, 10),  # 8 days' wait: DAYWAIT 2 (8–14 days)
        "discharge_date": dt.date(2026, 4, 20),
        "level_of_care": "3:2.1",  # SERVICES 6, intensive outpatient
        **changes,
    }
    return Episode(participant=participant, **values)


def make_items(**changes: Any) -> TedsAdmission:
    return TedsAdmission(**{**VALID_ITEMS, **changes})


def make_discharge(episode: Episode, **changes: Any) -> Discharge:
    values: dict[str, Any] = {
        "reason": "completed",  # REASON 1
        "discharge_date": dt.date(2026, 4, 20),
        "last_contact_date": dt.date(2026, 4, 18),
        "level_at_discharge": "3:2.1",
        "sub1_d": 2,
        "freq1_d": 1,  # no use in the past month
        "employ_d": 1,
        "livarag_d": 3,
        "arrests_d": 0,
        "self_help_d": 3,  # 4–7 times
        **changes,
    }
    return Discharge(episode=episode, **values)


def admission(episode: Episode | None = None, **item_changes: Any) -> teds.TedsRecord:
    return teds.admission_record(episode or make_episode(), make_items(**item_changes), PROVIDER)


def discharge(
    episode: Episode | None = None, *, none: bool = False, **changes: Any
) -> teds.TedsRecord:
    episode = episode or make_episode()
    record = None if none else make_discharge(episode, **changes)
    return teds.discharge_record(episode, record, PROVIDER)


# --- valid records -------------------------------------------------------------------------


def test_client_id_is_a_keyed_hash_of_the_record_number():
    assert teds.client_id(RECORD_NUMBER, KEY) == CLIENT
    assert len(CLIENT) == 16 and RECORD_NUMBER not in CLIENT
    assert teds.client_id(RECORD_NUMBER, b"another key") != CLIENT
    assert teds.client_id("OI-000124-2", KEY) != CLIENT


def test_a_valid_admission_gives_the_row_worked_out_by_hand():
    record = admission()
    assert record.problems == []
    text = teds.csv_text(teds.ADMISSIONS, [record])
    header, row, end = text.split("\r\n")
    assert header == (
        "STFIPS,PROVIDER_ID,CLIENT_ID,CODEPEND,TRANTYPE,ADMDATE,SERVICES,PSOURCE,DAYWAIT,AGE,"
        "GENDER,RACE,ETHNIC,MARSTAT,EDUC,EMPLOY,LIVARAG,VET,PREG,ARRESTS,PSYPROB,NOPRIOR,"
        "METHUSE,FREQ_ATND_SELF_HELP,SUB1,ROUTE1,FREQ1,FRSTUSE1,SUB2,ROUTE2,FREQ2,FRSTUSE2,"
        "SUB3,ROUTE3,FREQ3,FRSTUSE3"
    )
    # Maine is FIPS 23; admitted Mar 10, 2026 (referred Mar 2: 8 days, band 2); level 2.1
    # is intensive outpatient (6); a physician is another health care provider (3); born
    # May 17, 1990, so 35 on admission; SUB3 None leaves its route, frequency and age empty.
    assert row == (
        f"23,ME-IOP-0042,{CLIENT},2,A,20260310,6,3,2,35,"
        "2,5,4,1,3,1,3,2,2,0,1,1,"
        "2,2,2,1,3,15,4,2,2,16,"
        "1,,,"
    )
    assert end == ""


def test_a_valid_discharge_gives_the_row_worked_out_by_hand():
    record = discharge()
    assert record.problems == []
    header, row, _ = teds.csv_text(teds.DISCHARGES, [record]).split("\r\n")
    assert header == (
        "STFIPS,PROVIDER_ID,CLIENT_ID,CODEPEND,TRANTYPE,ADMDATE,DISDATE,LASTCONTACT,LOS,"
        "SERVICES_D,REASON,SUB1_D,FREQ1_D,EMPLOY_D,LIVARAG_D,ARRESTS_D,FREQ_ATND_SELF_HELP_D"
    )
    # Mar 10 to Apr 20 is 41 days; counting both ends, LOS 42. Completed is REASON 1.
    assert row == f"23,ME-IOP-0042,{CLIENT},2,A,20260310,20260420,20260418,42,6,1,2,1,1,3,0,3"


def test_pregnancy_of_a_man_is_not_asked_and_stays_empty():
    record = admission(sex=1, pregnant=None)
    assert record.valid
    assert record.row["GENDER"] == "1" and record.row["PREG"] == ""


def test_a_death_leaves_the_discharge_items_empty():
    record = discharge(
        reason="died", sub1_d=None, freq1_d=None, employ_d=None, livarag_d=None, arrests_d=None
    )
    assert record.valid, record.problems
    assert record.row["REASON"] == "6" and record.row["EMPLOY_D"] == ""


def test_the_file_holds_valid_records_only():
    good, bad = admission(), admission(race=None)
    text = teds.csv_text(teds.ADMISSIONS, [bad, good, bad])
    assert text.count("\r\n") == 2  # the header and the one valid record
    assert teds.summary([good, bad]) == {"records": 2, "valid": 1, "with_problems": 1}


# --- each kind of invalid value -------------------------------------------------------------

EP = make_episode  # short for the cases below

# (what, record, element, value, why contains)
ADMISSION_CASES: list[tuple[str, Any, str, str, str]] = [
    ("missing value", lambda: admission(race=None), "RACE", "", "not recorded"),
    ("not a code", lambda: admission(race=42), "RACE", "42", "not one of the element's codes"),
    ("zero is not a sex", lambda: admission(sex=0), "GENDER", "0", "not one of"),
    (
        "pregnancy of a male",
        lambda: admission(sex=1, pregnant=2),
        "PREG",
        "2 (No)",
        "only for a female",
    ),
    (
        "pregnancy missing for a female",
        lambda: admission(pregnant=None),
        "PREG",
        "",
        "missing for a female",
    ),
    (
        "SUB2 equal to SUB1",
        lambda: admission(sub2=2),
        "SUB2",
        "2 (Alcohol)",
        "same substance as SUB1",
    ),
    (
        "SUB3 equal to SUB2",
        lambda: admission(sub3=4, route3=2, freq3=2, frstuse3=18),
        "SUB3",
        "4 (Marijuana/hashish)",
        "same substance as SUB2",
    ),
    (
        "SUB3 equal to SUB1",
        lambda: admission(sub3=2, route3=1, freq3=2, frstuse3=18),
        "SUB3",
        "2 (Alcohol)",
        "same substance as SUB1",
    ),
    (
        "SUB2 without SUB1",
        lambda: admission(sub1=None, route1=None, freq1=None, frstuse1=None),
        "SUB2",
        "4 (Marijuana/hashish)",
        "given without SUB1",
    ),
    (
        "SUB3 after SUB2 None",
        lambda: admission(
            sub2=1, route2=None, freq2=None, frstuse2=None, sub3=4, route3=2, freq3=2, frstuse3=18
        ),
        "SUB3",
        "4 (Marijuana/hashish)",
        "given without SUB2",
    ),
    ("SUB2 missing", lambda: admission(sub2=None), "SUB2", "", "choose None"),
    (
        "primary substance None",
        lambda: admission(
            sub1=1,
            route1=None,
            freq1=None,
            frstuse1=None,
            sub2=1,
            route2=None,
            freq2=None,
            frstuse2=None,
        ),
        "SUB1",
        "1 (None)",
        "has a primary substance",
    ),
    ("route missing", lambda: admission(route1=None), "ROUTE1", "", "missing for SUB1"),
    ("frequency missing", lambda: admission(freq2=None), "FREQ2", "", "missing for SUB2"),
    ("route not a code", lambda: admission(route1=9), "ROUTE1", "9", "not one of"),
    ("route given for None", lambda: admission(route3=1), "ROUTE3", "1 (Oral)", "given for SUB3"),
    (
        "frequency given for None",
        lambda: admission(freq3=2),
        "FREQ3",
        "2 (Some use)",
        "given for SUB3 None",
    ),
    ("age at first use given for None", lambda: admission(frstuse3=20), "FRSTUSE3", "20", "None"),
    (
        "age at first use above the age at admission",
        lambda: admission(frstuse1=40),
        "FRSTUSE1",
        "40",
        "greater than the age at admission (35)",
    ),
    ("age at first use missing", lambda: admission(frstuse2=None), "FRSTUSE2", "", "missing"),
    ("age at first use not an age", lambda: admission(frstuse1=500), "FRSTUSE1", "500", "not an"),
    ("NOPRIOR missing", lambda: admission(prior_treatment=None), "NOPRIOR", "", "not recorded"),
    ("METHUSE not a code", lambda: admission(methuse=3), "METHUSE", "3", "not one of"),
    (
        "admission date missing",
        lambda: admission(EP(admission_date=None)),
        "ADMDATE",
        "",
        "missing",
    ),
    (
        "level of care that maps to no SERVICES code",
        lambda: admission(EP(level_of_care="3:9.9")),
        "SERVICES",
        "3:9.9",
        "maps to no SERVICES code",
    ),
    (
        "level of care not recorded",
        lambda: admission(EP(level_of_care="")),
        "SERVICES",
        "",
        "not recorded",
    ),
    (
        "referral source that maps to no PSOURCE",
        lambda: admission(EP(referral_source="carrier pigeon")),
        "PSOURCE",
        "carrier pigeon",
        "maps to no PSOURCE",
    ),
    (
        "admission before the referral",
        lambda: admission(EP(referral_date=dt.date(2026, 3, 12))),
        "DAYWAIT",
        "-2",
        "before the referral",
    ),
    (
        "born after the admission",
        lambda: admission(
            EP(admission_date=dt.date(1980, 1, 1), referral_date=dt.date(1980, 1, 1))
        ),
        "AGE",
        "-11",
        "not an age",
    ),
]

DISCHARGE_CASES: list[tuple[str, Any, str, str, str]] = [
    (
        "discharge before admission",
        lambda: discharge(
            EP(discharge_date=dt.date(2026, 3, 1)),
            discharge_date=dt.date(2026, 3, 1),
            last_contact_date=dt.date(2026, 3, 1),
        ),
        "DISDATE",
        "20260301",
        "before the admission (20260310)",
    ),
    (
        "last contact after discharge",
        lambda: discharge(last_contact_date=dt.date(2026, 4, 22)),
        "LASTCONTACT",
        "20260422",
        "after the discharge (20260420)",
    ),
    (
        "last contact before admission",
        lambda: discharge(last_contact_date=dt.date(2026, 3, 9)),
        "LASTCONTACT",
        "20260309",
        "before the admission (20260310)",
    ),
    (
        "a discharge with no Discharge record",
        lambda: discharge(none=True),
        "REASON",
        "",
        "the reason is not recorded",
    ),
    (
        "a discharge item missing",
        lambda: discharge(employ_d=None),
        "EMPLOY_D",
        "",
        "not recorded",
    ),
    ("a discharge item not a code", lambda: discharge(livarag_d=7), "LIVARAG_D", "7", "not one"),
    (
        "frequency given for SUB1_D None",
        lambda: discharge(sub1_d=1, freq1_d=2),
        "FREQ1_D",
        "2",
        "given for SUB1_D None",
    ),
    (
        "a reason with no TEDS code",
        lambda: discharge(reason="vanished"),
        "REASON",
        "vanished",
        "maps to no REASON code",
    ),
    (
        "level at discharge that maps to no SERVICES code",
        lambda: discharge(EP(level_of_care=""), level_at_discharge=""),
        "SERVICES_D",
        "",
        "not recorded",
    ),
    (
        "the episode closed on another day",
        lambda: discharge(EP(discharge_date=dt.date(2026, 4, 19))),
        "DISDATE",
        "20260420",
        "closed on another day (20260419)",
    ),
]


@pytest.mark.parametrize(
    ("record", "element", "value", "why"),
    [case[1:] for case in ADMISSION_CASES + DISCHARGE_CASES],
    ids=[case[0] for case in ADMISSION_CASES + DISCHARGE_CASES],
)
def test_each_kind_of_invalid_value_is_reported_and_left_out(record, element, value, why):
    built = record()
    found = [p for p in built.problems if p.element == element and p.value == value]
    assert found, f"{element}={value!r} not reported: {built.problems}"
    assert any(why in p.why for p in found), [p.why for p in found]
    assert not built.valid
    text = teds.csv_text(built.kind, [built])
    assert text.count("\r\n") == 1  # the header only: the record is left out


def test_no_items_recorded_names_every_item():
    record = teds.admission_record(make_episode(), None, PROVIDER)
    missing = {p.element for p in record.problems if p.missing}
    expected = set(rules.ELEMENT.values()) - {"PREG"}  # sex unknown: pregnancy not asked
    expected -= {f"{k}{n}" for k in ("ROUTE", "FREQ", "FRSTUSE") for n in (1, 2, 3)}
    assert expected <= missing


def test_provider_settings_are_checked(settings):
    settings.OPENIOP_TEDS_STATE = "ZZ"
    settings.OPENIOP_TEDS_PROVIDER_ID = ""
    provider = teds.provider_from_settings()
    assert not provider.ready
    assert [p.element for p in provider.problems] == ["STFIPS", "PROVIDER_ID"]
    settings.OPENIOP_TEDS_STATE = "me"
    settings.OPENIOP_TEDS_PROVIDER_ID = "ME-IOP-0042"
    provider = teds.provider_from_settings()
    assert provider.ready and provider.stfips == "23"


# --- property: random items validate or name each bad element, never raise ----------------

CODES = {
    **{f: c for f, _e, c in (*rules.DEMOGRAPHICS, *rules.HISTORY, *rules.LEGAL)},
    **{f: c for f, _e, c in rules.MENTAL_HEALTH},
    **{f"sub{n}": codes.Substance for n in (1, 2, 3)},
    **{f"route{n}": codes.Route for n in (1, 2, 3)},
    **{f"freq{n}": codes.Frequency for n in (1, 2, 3)},
}


def value_for(field: str) -> st.SearchStrategy[Any]:
    if field.startswith("frstuse"):
        return st.one_of(st.none(), st.integers(-3, 200))
    valid = st.sampled_from(CODES[field].values)
    return st.one_of(st.none(), valid, valid, st.integers(-3, 40))


ITEMS = st.fixed_dictionaries({f: value_for(f) for f in rules.ITEM_FIELDS})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=ITEMS,
    born=st.dates(dt.date(1900, 1, 1), dt.date(2030, 1, 1)),
    admitted=st.one_of(st.none(), st.dates(dt.date(1950, 1, 1), dt.date(2040, 1, 1))),
    waited=st.integers(-30, 400),
    level=st.sampled_from(["", "3:2.1", "4:2.5", "3:1", "3:3.5", "9:9"]),
)
def test_random_items_validate_or_name_each_bad_element(values, born, admitted, waited, level):
    episode = make_episode(
        admission_date=admitted,
        referral_date=(admitted or dt.date(2026, 1, 1)) - dt.timedelta(days=waited),
        level_of_care=level,
    )
    episode.participant.date_of_birth = born
    record = teds.admission_record(episode, TedsAdmission(**values), PROVIDER)
    named = {p.element for p in record.problems}
    for field, value in values.items():
        if value is None:
            continue
        if field.startswith("frstuse"):
            bad = not 0 <= value <= rules.OLDEST
        else:
            bad = value not in CODES[field].values
        if bad:
            assert rules.ELEMENT[field] in named, (field, value, record.problems)
    if record.valid:
        for field, element in rules.ELEMENT.items():
            written = record.row[element]
            if written and not field.startswith("frstuse"):
                assert int(written) in CODES[field].values
        assert record.row["ADMDATE"] and record.row["SERVICES"] and record.row["AGE"]
        assert teds.csv_text(teds.ADMISSIONS, [record]).count("\r\n") == 2
    else:
        assert teds.csv_text(teds.ADMISSIONS, [record]).count("\r\n") == 1


DISCHARGE_CODES = {f: c for f, _e, c in teds.DISCHARGE_ITEMS}


@settings(max_examples=200, deadline=None)
@given(
    values=st.fixed_dictionaries(
        {
            f: st.one_of(st.none(), st.sampled_from(c.values), st.integers(-3, 40))
            for f, c in DISCHARGE_CODES.items()
        }
    ),
    reason=st.sampled_from(["completed", "died", "step_up", "other", "bogus", ""]),
    days=st.tuples(*(st.integers(-400, 400) for _ in range(3))),
    level=st.sampled_from(["", "3:2.1", "4:1.5", "9:9"]),
    recorded=st.booleans(),
)
def test_random_discharges_validate_or_name_each_bad_element(values, reason, days, level, recorded):
    admitted = dt.date(2026, 3, 10)
    discharged, last, closed = (admitted + dt.timedelta(days=d) for d in days)
    episode = make_episode(discharge_date=closed, level_of_care=level)
    record = None
    if recorded:
        record = make_discharge(
            episode,
            reason=reason,
            discharge_date=discharged,
            last_contact_date=last,
            level_at_discharge=level,
            **values,
        )
    built = teds.discharge_record(episode, record, PROVIDER)
    named = {p.element for p in built.problems}
    if record is None:
        assert "REASON" in named and not built.valid
        return
    for field, value in values.items():
        if value is not None and value not in DISCHARGE_CODES[field].values:
            assert {f: e for f, e, _c in teds.DISCHARGE_ITEMS}[field] in named
    if discharged < admitted or discharged != closed:
        assert "DISDATE" in named
    if last > discharged or last < admitted:
        assert "LASTCONTACT" in named
    assert teds.csv_text(teds.DISCHARGES, [built]).count("\r\n") == (2 if built.valid else 1)
