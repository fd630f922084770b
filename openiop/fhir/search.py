"""Search parameters: parsing and turning them into database filters (FHIR R4 §3.1.1).

Dates take the prefixes eq, ne, lt, gt, le, ge, sa and eb, at the precision given (a
year, a month, a day or a moment): `date=ge2026-03-01&date=lt2026-04` is March 2026.
A value without a time zone is read in the program's time zone. Several values of one
parameter must all hold (AND); a comma inside a value means any of them (OR).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from .errors import FhirError

PREFIXES = ("eq", "ne", "lt", "gt", "le", "ge", "sa", "eb")
_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
DEFAULT_COUNT = 50
MAX_COUNT = 500
MAX_VALUES = 100  # values in one comma list


def invalid(message: str) -> FhirError:
    return FhirError(400, "invalid", message)


@dataclass(frozen=True)
class DateRange:
    """[lo, hi) as aware datetimes: the range a date parameter's value stands for."""

    prefix: str
    lo: dt.datetime
    hi: dt.datetime
    text: str

    def q(self, field: str, kind: str, tz: zoneinfo.ZoneInfo) -> Q:
        """A filter on a DateTimeField (a moment) or a DateField (`kind` "date": a whole
        day of the program). For a day, lt/le/gt/ge ask whether any part of it lies on
        that side of the value; eq that it lies wholly inside; sa/eb wholly after/before."""
        f = field
        if kind != "date":
            lo: Any = self.lo
            hi: Any = self.hi
            bounds = {"eq": (lo, hi), "lt": lo, "le": hi, "gt": hi, "ge": lo, "sa": hi, "eb": lo}
        else:
            lo_l, hi_l = self.lo.astimezone(tz), self.hi.astimezone(tz)
            lo_floor, hi_floor = lo_l.date(), hi_l.date()
            one = dt.timedelta(days=1)
            lo_ceil = lo_floor + (one if lo_l.time() != dt.time(0) else dt.timedelta(0))
            hi_ceil = hi_floor + (one if hi_l.time() != dt.time(0) else dt.timedelta(0))
            bounds = {
                "eq": (lo_ceil, hi_floor),
                "lt": lo_ceil,
                "le": hi_ceil,
                "gt": hi_floor,
                "ge": lo_floor,
                "sa": hi_ceil,
                "eb": lo_floor,
            }
        match self.prefix:
            case "eq" | "ne":
                a, b = bounds["eq"]
                inside = Q(**{f"{f}__gte": a, f"{f}__lt": b})
                if self.prefix == "eq":
                    return inside
                return Q(**{f"{f}__lt": a}) | Q(**{f"{f}__gte": b})
            case "lt" | "le" | "eb":
                return Q(**{f"{f}__lt": bounds[self.prefix]})
            case _:  # gt, ge, sa
                return Q(**{f"{f}__gte": bounds[self.prefix]})


def parse_date(text: str, tz: zoneinfo.ZoneInfo) -> DateRange:
    prefix = "eq"
    value = text.strip()
    if value[:2] in PREFIXES:
        prefix, value = value[:2], value[2:]
    elif value[:2].isalpha():
        raise invalid(
            f"“{text}”: unknown date prefix “{value[:2]}” (use one of {', '.join(PREFIXES)})"
        )
    m = _DATE.match(value)
    if not m:
        raise invalid(f"“{text}” is not a date: use 2026-03-01, 2026-03 or 2026-03-01T09:00:00Z")
    g = m.groupdict()
    try:
        year = int(g["y"])
        month = int(g["m"] or 1)
        day = int(g["d"] or 1)
        start_day = dt.date(year, month, day)
        zone: dt.tzinfo = tz
        if g["tz"]:
            zone = (
                dt.UTC
                if g["tz"] == "Z"
                else dt.timezone(
                    (1 if g["tz"][0] == "+" else -1)
                    * dt.timedelta(hours=int(g["tz"][1:3]), minutes=int(g["tz"][4:6]))
                )
            )
        if g["H"] is not None:
            frac = (g["f"] or "").ljust(6, "0")[:6]
            lo = dt.datetime(
                year,
                month,
                day,
                int(g["H"]),
                int(g["M"]),
                int(g["S"] or 0),
                int(frac or 0),
                tzinfo=zone,
            )
            step = dt.timedelta(seconds=1) if g["S"] is not None else dt.timedelta(minutes=1)
            if g["f"]:
                step = dt.timedelta(microseconds=1)
            hi = lo + step
        else:
            lo = dt.datetime.combine(start_day, dt.time(0), tzinfo=zone)
            if g["d"]:
                end_day = start_day + dt.timedelta(days=1)
            elif g["m"]:
                end_day = (start_day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            else:
                end_day = dt.date(year + 1, 1, 1) if year < 9999 else dt.date(9999, 12, 31)
            hi = dt.datetime.combine(end_day, dt.time(0), tzinfo=zone)
    except (ValueError, OverflowError) as exc:
        raise invalid(f"“{text}” is not a valid date: {exc}") from None
    if year < 1800:
        raise invalid(f"“{text}”: dates before 1800 are not searchable here")
    return DateRange(prefix, lo.astimezone(dt.UTC), hi.astimezone(dt.UTC), text)


def split_values(text: str, name: str) -> list[str]:
    values = [v.strip() for v in text.split(",")]
    if any(not v for v in values):
        raise invalid(f"{name}: an empty value in “{text}”")
    if len(values) > MAX_VALUES:
        raise invalid(f"{name}: at most {MAX_VALUES} values in one list")
    return values


def date_filter(
    texts: list[str], field: str, kind: str, tz: zoneinfo.ZoneInfo, name: str = "date"
) -> Q:
    """AND over repeated parameters, OR over the comma-separated values of each."""
    q = Q()
    for text in texts:
        any_of = Q()
        for value in split_values(text, name):
            any_of |= parse_date(value, tz).q(field, kind, tz)
        q &= any_of
    return q


def parse_reference(text: str, resource_type: str) -> str:
    """`Patient/abc`, `abc` or a full URL ending in `Patient/abc` → `abc`."""
    value = text.strip()
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2:
        if parts[-2] != resource_type:
            raise invalid(f"“{text}” is not a reference to a {resource_type}")
        value = parts[-1]
    if not re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", value):
        raise invalid(f"“{text}” is not a valid {resource_type} id")
    return value


def parse_token(text: str) -> str:
    """`system|code` or `code` → code (the system is not checked: codes here are unique)."""
    return text.split("|", 1)[1] if "|" in text else text


def parse_count(texts: list[str]) -> int:
    if len(texts) > 1:
        raise invalid("_count: give it once")
    try:
        n = int(texts[0])
    except ValueError:
        raise invalid(f"_count: “{texts[0]}” is not a whole number") from None
    if n < 0:
        raise invalid("_count: a count cannot be negative")
    return min(n, MAX_COUNT)


def parse_offset(texts: list[str]) -> int:
    if len(texts) > 1:
        raise invalid("_offset: give it once")
    try:
        n = int(texts[0])
    except ValueError:
        raise invalid(f"_offset: “{texts[0]}” is not a whole number") from None
    if n < 0 or n > 10_000_000:
        raise invalid("_offset: out of range")
    return n
