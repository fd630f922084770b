"""Date parameters (FHIR R4 §3.1.1.4): prefixes and precision against a plain oracle."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.fhir import scopes
from openiop.fhir.errors import FhirError
from openiop.fhir.search import PREFIXES, parse_count, parse_date, parse_reference

NY = zoneinfo.ZoneInfo("America/New_York")


def test_precision_gives_the_range():
    r = parse_date("2026-03", NY)
    assert r.prefix == "eq"
    assert r.lo == dt.datetime(2026, 3, 1, 5, tzinfo=dt.UTC)  # midnight in New York (EST)
    assert r.hi == dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC)  # (EDT from 8 March)
    assert parse_date("ge2026", NY).hi.year == 2027
    moment = parse_date("lt2026-03-01T09:30:00Z", NY)
    assert moment.prefix == "lt" and moment.lo == dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    assert moment.hi - moment.lo == dt.timedelta(seconds=1)
    offset = parse_date("2026-03-01T09:30+02:00", NY)
    assert offset.lo == dt.datetime(2026, 3, 1, 7, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "text", ["", "2026-3-1", "ap2026", "zz2026", "2026-02-30", "2026-01-01T25:00", "0001", "x"]
)
def test_bad_dates_are_refused_with_a_reason(text):
    with pytest.raises(FhirError) as err:
        parse_date(text, NY)
    assert err.value.status == 400 and err.value.diagnostics


def test_references_and_counts():
    assert parse_reference("Patient/abc-1", "Patient") == "abc-1"
    assert parse_reference("https://x.test/fhir/R4/Patient/abc", "Patient") == "abc"
    assert parse_reference("abc", "Patient") == "abc"
    for bad in ("Group/abc", "Patient/a b", "Patient/" + "x" * 65):
        with pytest.raises(FhirError):
            parse_reference(bad, "Patient")
    assert parse_count(["10"]) == 10 and parse_count(["100000"]) == 500
    for bad in (["-1"], ["x"], ["1", "2"]):
        with pytest.raises(FhirError):
            parse_count(bad)


def test_scopes():
    types = {"Patient", "Observation"}
    s = scopes.parse("system/Observation.rs", known_types=types)
    assert s.covers("Observation", search=True) and s.covers("Observation")
    assert not s.covers("Patient")
    assert scopes.parse("system/*.s", known_types=types).covers("Patient", search=True)
    assert not scopes.parse("system/*.s", known_types=types).covers("Patient", search=False)
    for bad in ("system/Observation.write", "user/*.read", "system/Foo.read", "x", "system/*.c"):
        with pytest.raises(scopes.ScopeError):
            scopes.parse(bad, known_types=types)
    assert scopes.grantable(
        "system/Patient.read", "system/*.read", known_types=types, has_patient=False
    ) == ["system/Patient.read"]
    with pytest.raises(scopes.ScopeError):
        scopes.grantable(
            "system/*.read", "system/Patient.read", known_types=types, has_patient=False
        )
    with pytest.raises(scopes.ScopeError):
        scopes.grantable("patient/*.read", "patient/*.read", known_types=types, has_patient=False)


# --- the filters against an oracle, in the database ------------------------------------

DAYS = [dt.date(2026, 2, 27) + dt.timedelta(days=i) for i in range(6)]
MOMENTS = [
    dt.datetime(2026, 3, 1, 4, 59, tzinfo=dt.UTC),  # 23:59 on 28 Feb in New York
    dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC),  # midnight 1 March in New York
    dt.datetime(2026, 3, 1, 14, 30, 15, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 2, 4, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 2, 5, 0, 0, tzinfo=dt.UTC),
]


def oracle_moment(prefix: str, v: dt.datetime, lo: dt.datetime, hi: dt.datetime) -> bool:
    return {
        "eq": lo <= v < hi,
        "ne": not (lo <= v < hi),
        "lt": v < lo,
        "le": v < hi,
        "gt": v >= hi,
        "ge": v >= lo,
        "sa": v >= hi,
        "eb": v < lo,
    }[prefix]


def oracle_day(prefix: str, d: dt.date, lo: dt.datetime, hi: dt.datetime) -> bool:
    """A day is the range [its midnight, the next midnight) in the program's zone."""
    start = dt.datetime.combine(d, dt.time(0), tzinfo=NY)
    end = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(0), tzinfo=NY)
    return {
        "eq": lo <= start and end <= hi,
        "ne": not (lo <= start and end <= hi),
        "lt": start < lo,
        "le": start < hi,
        "gt": end > hi,
        "ge": end > lo,
        "sa": start >= hi,
        "eb": end <= lo,
    }[prefix]


values = st.one_of(
    st.sampled_from(["2026", "2026-02", "2026-03", "2026-03-01", "2026-03-02", "2026-02-28"]),
    st.builds(
        lambda d, h, m: f"{d}T{h:02d}:{m:02d}:00Z",
        st.sampled_from(["2026-03-01", "2026-03-02", "2026-02-28"]),
        st.integers(0, 23),
        st.sampled_from([0, 30, 59]),
    ),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), value=values)
def test_date_filters_match_the_oracle(prefix, value):
    """Moments through the database (a DateTimeField); whole days (a DateField)."""
    from openiop.core.models import JobRun

    r = parse_date(prefix + value, NY)
    rows = [
        JobRun(job=f"t{i}", period=str(i), started_at=m, worker="w") for i, m in enumerate(MOMENTS)
    ]
    JobRun.objects.bulk_create(rows)
    got = set(
        JobRun.objects.filter(job__startswith="t")
        .filter(r.q("started_at", "datetime", NY))
        .values_list("period", flat=True)
    )
    want = {str(i) for i, m in enumerate(MOMENTS) if oracle_moment(r.prefix, m, r.lo, r.hi)}
    JobRun.objects.filter(job__startswith="t").delete()
    assert got == want, (prefix, value)
    # Days: the filter's Q evaluated on each day (its lookups are only lt and gte).
    want_days = {d for d in DAYS if oracle_day(r.prefix, d, r.lo, r.hi)}
    got_days = {d for d in DAYS if _eval(r.q("day", "date", NY), d)}
    assert got_days == want_days, (prefix, value)


def _eval(q, value) -> bool:
    results = []
    for child in q.children:
        if hasattr(child, "children"):
            results.append(_eval(child, value))
        else:
            lookup, bound = child
            op = lookup.rsplit("__", 1)[1]
            results.append(value < bound if op == "lt" else value >= bound)
    combined = all(results) if q.connector == "AND" else any(results)
    return not combined if q.negated else combined
