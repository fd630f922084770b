"""Reads for the clinical screening pages: a participant's screening history and recovery
timeline, the days since the last known use, the reviews waiting for a clinician, the
policy's expected tests and cost, and the program's statistics. Pure reads: nothing here
writes (the policy itself is fetched through `services.policy_for`, which creates it).

Every function runs a fixed number of queries, whatever the size of the record.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from openiop.attendance.models import CheckIn
from openiop.participants.access import visible_participants
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode

from . import services
from .choices import (
    CountsAs,
    Interpretation,
    OrderStatus,
    ResultMethod,
    ReviewOutcome,
    ReviewReason,
    ReviewStatus,
    SubstanceClass,
    Validity,
)
from .models import Order, Result, Review, ScreeningPolicy

# --- the days since the last known use (issue 7, point 8) ------------------------------

# Where the last known use comes from.
FROM_CHECK_IN = "check_in"
FROM_POSITIVE = "positive"
FROM_REVIEW = "review"
USE_SOURCES = {
    FROM_CHECK_IN: "reported at a check-in",
    FROM_POSITIVE: "an unexpected positive test",
    FROM_REVIEW: "a review concluded use",
}
# A positive the clinician reviewed as one of these is not use.
CLEARING_OUTCOMES = frozenset({ReviewOutcome.EXPECTED, ReviewOutcome.INVALID})


@dataclass(frozen=True)
class ScreenFact:
    """A test for the rule: its day and whether it has an unexpected positive (after a
    definitive result has replaced the presumptive one, see `decisive`)."""

    order_id: int
    day: dt.date
    unexpected: bool


@dataclass(frozen=True)
class ReviewFact:
    """A review for the rule. `day` is the day of the test it is about: a review that
    concludes use dates the use to the test, not to the day the clinician wrote it."""

    order_id: int
    day: dt.date
    reason: str
    status: str
    outcome: str


@dataclass(frozen=True)
class KnownUse:
    day: dt.date
    source: str

    @property
    def source_label(self) -> str:
        return USE_SOURCES[self.source]


# When several sources fall on the same day, the most definite one names it.
_SOURCE_RANK = {FROM_CHECK_IN: 0, FROM_POSITIVE: 1, FROM_REVIEW: 2}


def last_known_use(
    use_days: Iterable[dt.date],
    screens: Iterable[ScreenFact],
    reviews: Iterable[ReviewFact],
) -> KnownUse | None:
    """The latest of: a check-in reporting use; an unexpected positive not reviewed as
    expected or invalid; a review that concluded use. A positive explained by an expected
    medication is not unexpected (its interpretation is *expected*) and so never counts;
    neither does one a clinician reviewed as expected or invalid (issue 7, point 8).
    A disputed positive still counts until its review concludes otherwise."""
    reviews = list(reviews)
    cleared = {
        r.order_id
        for r in reviews
        if r.status == ReviewStatus.DONE
        and r.reason == ReviewReason.UNEXPECTED_POSITIVE
        and r.outcome in CLEARING_OUTCOMES
    }
    candidates = [KnownUse(day, FROM_CHECK_IN) for day in use_days]
    candidates += [
        KnownUse(s.day, FROM_POSITIVE)
        for s in screens
        if s.unexpected and s.order_id not in cleared
    ]
    candidates += [
        KnownUse(r.day, FROM_REVIEW)
        for r in reviews
        if r.status == ReviewStatus.DONE and r.outcome == ReviewOutcome.USE
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda u: (u.day, _SOURCE_RANK[u.source]))


def days_since(today: dt.date, use: KnownUse | None) -> int | None:
    if use is None:
        return None
    return max((today - use.day).days, 0)


# --- results --------------------------------------------------------------------------


def decisive(results: Iterable[Result]) -> list[Result]:
    """Per specimen and analyte, the result that decides: the laboratory's definitive
    result when there is one, else the presumptive one (DOMAIN.md §5.3: a definitive
    test confirms or overturns the screen)."""
    chosen: dict[tuple[int, int], Result] = {}
    for result in results:
        if result.voided:
            continue
        key = (result.collection_id, result.analyte_id)
        held = chosen.get(key)
        if held is None or (
            held.method == ResultMethod.PRESUMPTIVE and result.method == ResultMethod.DEFINITIVE
        ):
            chosen[key] = result
    return list(chosen.values())


def decisive_unexpected() -> QuerySet[Result]:
    """The same rule in SQL: unexpected results that no definitive result of the same
    specimen and analyte replaces (for the statistics)."""
    definitive = Result.objects.filter(
        collection=OuterRef("collection"),
        analyte=OuterRef("analyte"),
        method=ResultMethod.DEFINITIVE,
        voided=False,
    )
    return (
        Result.objects.filter(voided=False, interpretation=Interpretation.UNEXPECTED)
        .annotate(confirmed=Exists(definitive))
        .filter(Q(method=ResultMethod.DEFINITIVE) | Q(confirmed=False))
    )


# --- a participant's history ----------------------------------------------------------


@dataclass
class ScreenRow:
    order: Order
    day: dt.date  # the day the specimen was collected (program time), else the order's day
    results: list[Result] = field(default_factory=list)
    unexpected: bool = False
    reviews: list[Review] = field(default_factory=list)

    @property
    def collection(self) -> Any:
        return getattr(self.order, "collection", None)

    @property
    def unexpected_codes(self) -> list[str]:
        return sorted(
            {r.analyte.code for r in self.results if r.interpretation == Interpretation.UNEXPECTED}
        )


@dataclass
class TimelineEntry:
    day: dt.date
    kind: str  # "screen", "use" or "review"
    at: dt.datetime | None = None
    screen: ScreenRow | None = None
    check_in: CheckIn | None = None
    review: Review | None = None


@dataclass
class History:
    screens: list[ScreenRow]
    reviews: list[Review]
    use_check_ins: list[CheckIn]
    last_use: KnownUse | None
    days_since_use: int | None
    clinical: bool
    timeline: list[TimelineEntry]

    @property
    def open_reviews(self) -> list[Review]:
        return [r for r in self.reviews if r.status == ReviewStatus.OPEN]


def _local_day(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    return timezone.localtime(moment, tz).date()


def screening_history(
    participant: Any, *, user: Any, today: dt.date, tz: zoneinfo.ZoneInfo, clinical: bool
) -> History:
    """Every screen of the participant, newest first, with its results; for clinical
    readers also their reviews and the check-ins that reported use, on one time line
    with the days since the last known use.

    Two queries (orders with panel and specimen; results with analyte and explaining
    medication), and two more for clinical readers (reviews; check-ins reporting use).
    A random selection still to collect today is hidden from those who may not see
    today's list (`services.order_visible`); it has no results or reviews yet.
    """
    orders = list(
        Order.objects.filter(participant_id=participant.pk, voided=False)
        .select_related("panel", "collection", "collection__collected_by")
        .order_by("-day", "-pk")
    )
    results = list(
        Result.objects.filter(participant_id=participant.pk, voided=False)
        .select_related("analyte", "explained_by")
        .order_by("analyte__name", "method", "pk")
    )
    reviews: list[Review] = []
    check_ins: list[CheckIn] = []
    if clinical:
        reviews = list(
            Review.objects.filter(participant_id=participant.pk, voided=False)
            .select_related("assigned_to", "reviewed_by")
            .order_by("-created_at", "-pk")
        )
        check_ins = list(
            CheckIn.objects.filter(participant_id=participant.pk, voided=False, used=True)
            .only("pk", "day", "at", "substances", "participant_id", "episode_id")
            .order_by("-day", "-at")
        )
    by_collection: dict[int, list[Result]] = defaultdict(list)
    for result in results:
        by_collection[result.collection_id].append(result)
    reviews_by_order: dict[int, list[Review]] = defaultdict(list)
    for review in reviews:
        reviews_by_order[review.order_id].append(review)

    rows: list[ScreenRow] = []
    day_of_order: dict[int, dt.date] = {}
    for order in orders:
        collection = getattr(order, "collection", None)
        day = _local_day(collection.collected_at, tz) if collection is not None else order.day
        day_of_order[order.pk] = day
        own = by_collection.get(collection.pk, []) if collection is not None else []
        unexpected = any(r.interpretation == Interpretation.UNEXPECTED for r in decisive(own))
        row = ScreenRow(
            order=order,
            day=day,
            results=own,
            unexpected=unexpected,
            reviews=reviews_by_order.get(order.pk, []),
        )
        if services.order_visible(user, order, today):
            rows.append(row)

    last = None
    if clinical:
        last = last_known_use(
            [c.day for c in check_ins],
            [ScreenFact(r.order.pk, r.day, r.unexpected) for r in rows],
            [
                ReviewFact(
                    r.order_id,
                    day_of_order.get(r.order_id, _local_day(r.created_at, tz)),
                    r.reason,
                    r.status,
                    r.outcome,
                )
                for r in reviews
            ],
        )
    timeline = [TimelineEntry(row.day, "screen", screen=row) for row in rows]
    timeline += [TimelineEntry(c.day, "use", at=c.at, check_in=c) for c in check_ins]
    for review in reviews:
        moment = review.reviewed_at or review.created_at
        timeline.append(TimelineEntry(_local_day(moment, tz), "review", at=moment, review=review))
    kind_rank = {"review": 2, "screen": 1, "use": 0}
    timeline.sort(key=lambda e: (e.day, kind_rank[e.kind]), reverse=True)
    return History(
        screens=rows,
        reviews=reviews,
        use_check_ins=check_ins,
        last_use=last,
        days_since_use=days_since(today, last),
        clinical=clinical,
        timeline=timeline,
    )


# --- reviews waiting ------------------------------------------------------------------

DONE_WINDOW_DAYS = 30


def oversees(user: Any) -> bool:
    """Directors and clinical supervisors also see the escalated reviews of their
    programs (a strict policy tells the director, issue 7, point 2)."""
    from openiop.core.roles import Perm

    return user.has_perm_code(Perm.PLAN_APPROVE) or user.has_perm_code(Perm.PROGRAM_CONFIGURE)


def _mine(user: Any) -> Q:
    cond = Q(assigned_to=user)
    if oversees(user):
        # Escalated ones, and any nobody is assigned to (no primary counsellor).
        cond |= Q(escalated=True) | Q(assigned_to__isnull=True)
    return cond


def reviews_for(user: Any) -> QuerySet[Review]:
    """The reviews this user is to do: assigned to them; for directors and supervisors
    also the escalated and unassigned ones of their programs. Participants the user may
    not see are left out."""
    return Review.objects.filter(
        _mine(user),
        voided=False,
        participant__program_id__in=user.program_ids,
        participant__in=visible_participants(user),
    ).select_related(
        "participant",
        "participant__program",
        "order",
        "order__panel",
        "order__collection",
        "assigned_to",
        "reviewed_by",
    )


def review_lists(user: Any, now: dt.datetime) -> tuple[list[Review], list[Review]]:
    """Open reviews (oldest first) and those done in the last 30 days (newest first):
    two queries."""
    open_ = list(reviews_for(user).filter(status=ReviewStatus.OPEN).order_by("created_at", "pk"))
    since = now - dt.timedelta(days=DONE_WINDOW_DAYS)
    done = list(
        reviews_for(user)
        .filter(status=ReviewStatus.DONE, reviewed_at__gte=since)
        .order_by("-reviewed_at", "-pk")[:200]
    )
    return open_, done


def review_panel(user: Any, limit: int) -> tuple[list[Review], int]:
    """The first `limit` open reviews for the today board and how many there are, in one
    query (the total is a window count over the same rows)."""
    rows = list(
        Review.objects.filter(
            _mine(user),
            status=ReviewStatus.OPEN,
            voided=False,
            participant__program_id__in=user.program_ids,
            participant__in=visible_participants(user),
        )
        .select_related("participant")
        .annotate(total=Window(Count("pk")))
        .order_by("created_at", "pk")[:limit]
    )
    total = int(getattr(rows[0], "total", 0)) if rows else 0
    return cast(list[Review], rows), total


def day_of_test(review: Review, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The day of the test a review is about: collected, else the order's day."""
    collection = getattr(review.order, "collection", None)
    if collection is not None:
        return _local_day(collection.collected_at, tz)
    return review.order.day


# --- policy figures ---------------------------------------------------------------------

WEEKS_PER_MONTH = Decimal("365.25") / Decimal(12) / Decimal(7)
CENTS = Decimal("0.01")


def expected_tests_per_week(policy: ScreeningPolicy) -> Decimal:
    """Tests a participant in care can expect per week under the policy: the random rate
    (a draw picks a participant at most once a program day, so at most the program days)
    plus a weekly scheduled test and one every N days. The admission test is once."""
    days = Decimal(policy.draw_days_per_week)
    random = min(Decimal(policy.random_rate), days)
    scheduled = Decimal(1) if policy.scheduled_weekday is not None else Decimal(0)
    if policy.scheduled_every_days:
        scheduled += Decimal(7) / Decimal(policy.scheduled_every_days)
    return (random + scheduled).quantize(CENTS, ROUND_HALF_UP)


def monthly_cost(policy: ScreeningPolicy, census: int) -> Decimal:
    per_week = expected_tests_per_week(policy)
    return (per_week * census * Decimal(policy.price_per_test) * WEEKS_PER_MONTH).quantize(
        CENTS, ROUND_HALF_UP
    )


def census(program: Any) -> int:
    """Participants in care (admitted or active) in the program: one COUNT."""
    return Episode.objects.filter(program=program, status__in=IN_CARE, voided=False).count()


# --- statistics (issue 7, point 9) ------------------------------------------------------

_INVALID_COUNTS = {
    Validity.DILUTE: "dilute_counts_as",
    Validity.ADULTERATED: "adulterated_counts_as",
    Validity.SUBSTITUTED: "adulterated_counts_as",
    Validity.INVALID: "adulterated_counts_as",
}


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def classify(
    policy: ScreeningPolicy, status: str, validity: str | None, unexpected: bool
) -> str | None:
    """How a closed order counts: "negative", "positive" (a test that is not negative) or
    None (not a test: a missed test or a retest under the policy).

    A test is a collected specimen, negative when no result is unexpected. A refusal, a
    no-show, or a dilute or adulterated specimen counts as the policy says: as a positive
    (not negative), or not at all (missed; retest). A dilute specimen that is still
    positive is a positive."""
    if status == OrderStatus.COLLECTED:
        if unexpected:
            return "positive"
        if not validity or validity == Validity.VALID:
            return "negative"
        counts_as = getattr(policy, _INVALID_COUNTS[Validity(validity)])
    elif status == OrderStatus.REFUSED:
        counts_as = policy.refusal_counts_as
    elif status == OrderStatus.NO_SHOW:
        counts_as = policy.no_show_counts_as
    else:
        return None
    return "positive" if counts_as == CountsAs.POSITIVE else None


@dataclass
class WeekStats:
    week: dt.date
    tests: int = 0
    negative: int = 0
    collected: int = 0
    participant_weeks: Decimal = Decimal(0)

    @property
    def negative_pct(self) -> Decimal | None:
        if not self.tests:
            return None
        return (Decimal(100) * self.negative / self.tests).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def per_participant(self) -> Decimal | None:
        if not self.participant_weeks:
            return None
        return (Decimal(self.collected) / self.participant_weeks).quantize(CENTS, ROUND_HALF_UP)


@dataclass
class SubstanceStats:
    substance: str
    label: str
    positives: int
    pct: Decimal


@dataclass
class ParticipantRate:
    episode: Episode
    tests: int
    days: int

    @property
    def weeks(self) -> Decimal:
        return (Decimal(self.days) / 7).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def per_week(self) -> Decimal:
        return (Decimal(self.tests) * 7 / Decimal(self.days)).quantize(CENTS, ROUND_HALF_UP)


@dataclass
class ProgramStats:
    first: dt.date
    last: dt.date
    weeks: list[WeekStats]
    substances: list[SubstanceStats]
    tests: int
    negative: int
    collected: int
    participant_weeks: Decimal
    below_minimum: list[ParticipantRate]
    expected_per_week: Decimal
    minimum_per_week: Decimal | None

    @property
    def negative_pct(self) -> Decimal | None:
        if not self.tests:
            return None
        return (Decimal(100) * self.negative / self.tests).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def per_participant(self) -> Decimal | None:
        if not self.participant_weeks:
            return None
        return (Decimal(self.collected) / self.participant_weeks).quantize(CENTS, ROUND_HALF_UP)


def _overlap(a_first: dt.date, a_last: dt.date, b_first: dt.date, b_last: dt.date) -> int:
    """Days in both [a_first, a_last] and [b_first, b_last], both ends included."""
    return max((min(a_last, b_last) - max(a_first, b_first)).days + 1, 0)


def program_stats(
    program: Any,
    policy: ScreeningPolicy,
    first: dt.date,
    last: dt.date,
    *,
    user: Any,
    today: dt.date,
) -> ProgramStats:
    """The program's figures from `first` to `last` (both included), in three queries:
    closed orders grouped by week, status, validity and whether unexpected (SQL GROUP BY);
    tests with an unexpected positive per substance (COUNT DISTINCT); and the episodes in
    care in the range with their collected tests (a COUNT subquery). Participants under
    the insurer's minimum are listed only if the user may see them."""
    closed = [OrderStatus.COLLECTED, OrderStatus.REFUSED, OrderStatus.NO_SHOW]
    orders = Order.objects.filter(
        program=program, voided=False, day__gte=first, day__lte=last, status__in=closed
    )
    grouped = (
        orders.annotate(
            week=TruncWeek("day"),
            unexpected=Exists(decisive_unexpected().filter(collection__order=OuterRef("pk"))),
        )
        .values("week", "status", "collection__validity", "unexpected")
        .annotate(n=Count("pk"))
        .order_by("week")
    )
    weeks: dict[dt.date, WeekStats] = {}
    monday = week_of(first)
    while monday <= last:
        weeks[monday] = WeekStats(week=monday)
        monday += dt.timedelta(days=7)
    for row in grouped:
        week = row["week"]
        if isinstance(week, dt.datetime):  # some backends truncate a date to a datetime
            week = week.date()
        stats = weeks.setdefault(week, WeekStats(week=week))
        kind = classify(policy, row["status"], row["collection__validity"], row["unexpected"])
        if row["status"] == OrderStatus.COLLECTED:
            stats.collected += row["n"]
        if kind is not None:
            stats.tests += row["n"]
            stats.negative += row["n"] if kind == "negative" else 0

    # Positivity by substance: tests (collected specimens) with an unexpected positive
    # for an analyte of that substance, over all tests.
    by_substance = (
        decisive_unexpected()
        .filter(
            collection__order__in=orders.filter(status=OrderStatus.COLLECTED).values("pk"),
        )
        .values("analyte__substance")
        .annotate(n=Count("collection", distinct=True))
        .order_by()
    )
    tests = sum(w.tests for w in weeks.values())
    labels = dict(SubstanceClass.choices)
    substances = sorted(
        (
            SubstanceStats(
                substance=row["analyte__substance"],
                label=labels.get(row["analyte__substance"], row["analyte__substance"]),
                positives=row["n"],
                pct=(
                    (Decimal(100) * row["n"] / tests).quantize(Decimal("0.1"), ROUND_HALF_UP)
                    if tests
                    else Decimal(0)
                ),
            )
            for row in by_substance
        ),
        key=lambda s: (-s.positives, s.label),
    )

    # Tests per participant per week: collected tests over the days each episode was in
    # care within the range.
    counted = (
        Order.objects.filter(
            episode=OuterRef("pk"),
            voided=False,
            status=OrderStatus.COLLECTED,
            day__gte=first,
            day__lte=last,
        )
        .order_by()
        .values("episode")
        .annotate(c=Count("pk"))
        .values("c")
    )
    episodes = list(
        Episode.objects.filter(
            program=program,
            voided=False,
            admission_date__isnull=False,
            admission_date__lte=last,
        )
        .filter(Q(discharge_date__isnull=True) | Q(discharge_date__gte=first))
        .select_related("participant")
        .annotate(
            tests=Coalesce(Subquery(counted, output_field=IntegerField()), 0),
            visible=Exists(visible_participants(user).filter(pk=OuterRef("participant_id"))),
        )
        .order_by("participant__legal_last_name", "participant__legal_first_name", "pk")
    )
    end = min(last, today)
    below: list[ParticipantRate] = []
    minimum = policy.minimum_per_week
    participant_weeks = Decimal(0)
    for episode in episodes:
        assert episode.admission_date is not None  # noqa: S101  (filtered above)
        in_care_last = min(episode.discharge_date or end, end)
        for stats in weeks.values():
            days = _overlap(
                max(stats.week, first),
                min(stats.week + dt.timedelta(days=6), last),
                episode.admission_date,
                in_care_last,
            )
            stats.participant_weeks += Decimal(days) / 7
        days = _overlap(first, end, episode.admission_date, in_care_last)
        participant_weeks += Decimal(days) / 7
        rate = ParticipantRate(episode=episode, tests=episode.tests, days=days)
        # A week in care at least, so a participant admitted yesterday is not "under".
        if minimum is not None and days >= 7 and episode.visible and rate.per_week < minimum:
            below.append(rate)
    return ProgramStats(
        first=first,
        last=last,
        weeks=sorted(weeks.values(), key=lambda w: w.week),
        substances=substances,
        tests=tests,
        negative=sum(w.negative for w in weeks.values()),
        collected=sum(w.collected for w in weeks.values()),
        participant_weeks=participant_weeks,
        below_minimum=below,
        expected_per_week=expected_tests_per_week(policy),
        minimum_per_week=minimum,
    )


def default_range(today: dt.date, weeks: int = 12) -> tuple[dt.date, dt.date]:
    """The last `weeks` weeks: from the Monday `weeks - 1` weeks before this week's to today."""
    return week_of(today) - dt.timedelta(weeks=weeks - 1), today


def medications_active(medications: Sequence[Any], today: dt.date) -> list[Any]:
    return [m for m in medications if m.covers(today)]
