"""Screens for the clinical tests, made through `openiop.screening.services`."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from openiop.screening import services
from openiop.screening.models import Analyte, Order, Panel, Review
from openiop.testing import ensure_screening_library

_specimens = itertools.count(1)

CUP = "12-panel urine cup"


def collected_at(program: Any, day: dt.date) -> dt.datetime:
    """10:00 on the program day, or a minute ago when that is still to come."""
    moment = dt.datetime.combine(day, dt.time(10), tzinfo=program.tz)
    return min(moment, timezone.now() - dt.timedelta(minutes=1))


def order(participant: Any, actor: Any, day: dt.date, *, reason: str = "scheduled") -> Order:
    ensure_screening_library()
    return services.order_test(
        participant.current_episode,
        actor=actor,
        day=day,
        reason=reason,
        panel=Panel.objects.get(name=CUP),
        reason_detail="Test for cause." if reason == "for_cause" else "",
    )


def screen(
    participant: Any,
    actor: Any,
    day: dt.date,
    results: Sequence[tuple[str, str]] = (("THC", "negative"),),
    *,
    method: str = "presumptive",
    validity: str = "valid",
    reason: str = "scheduled",
) -> Order:
    """A collected screen with results: (analyte code, outcome) pairs, all by `method`."""
    found = order(participant, actor, day, reason=reason)
    collection = services.record_collection(
        found,
        services.CollectionInput(
            specimen_id=f"T-{next(_specimens):05d}",
            collected_at=collected_at(participant.program, day),
            temperature_in_range=True,
            validity=validity,
        ),
        actor=actor,
    )
    if results:
        add_results(collection, actor, results, method=method)
    found.refresh_from_db()
    return found


def add_results(
    collection: Any, actor: Any, results: Sequence[tuple[str, str]], *, method: str
) -> None:
    services.record_results(
        collection,
        [
            services.ResultInput(Analyte.objects.get(code=code), method, outcome)
            for code, outcome in results
        ],
        actor=actor,
    )


def refused(participant: Any, actor: Any, day: dt.date) -> Order:
    found = order(participant, actor, day)
    return services.record_refusal(found, actor=actor, note="Declined.")


def no_show(participant: Any, actor: Any, day: dt.date) -> Order:
    found = order(participant, actor, day)
    return services.record_no_show(found, actor=actor)


def medication(participant: Any, actor: Any, codes: Sequence[str], since: dt.date) -> Any:
    ensure_screening_library()
    return services.add_expected_medication(
        participant,
        actor=actor,
        name="Suboxone",
        analytes=list(Analyte.objects.filter(code__in=codes)),
        start_date=since,
    )


def review_of(found: Order) -> Review:
    return Review.objects.get(order=found, voided=False)


def conclude(found: Order, actor: Any, outcome: str) -> Review:
    review = review_of(found)
    return services.complete_review(
        review,
        actor=actor,
        outcome=outcome,
        plan_change="Discussed in session; no change.",
        expected_version=review.version,
    )
