"""The screening services: orders, collection and custody, refusals and no-shows under the
program's policy, results and reviews, and who may see a random selection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from openiop.core.models import AuditEvent
from openiop.screening import services
from openiop.screening.choices import (
    CountsAs,
    CustodyStep,
    Handling,
    Interpretation,
    OrderReason,
    OrderStatus,
    ResultMethod,
    ResultOutcome,
    ReviewOutcome,
    ReviewReason,
    ReviewStatus,
    Validity,
)
from openiop.screening.models import (
    Analyte,
    Collection,
    CustodyEvent,
    Order,
    Panel,
    Result,
    Review,
)
from openiop.screening.services import ScreeningError, ScreeningInputError

pytestmark = pytest.mark.django_db

NOW = timezone.now


def cup() -> Panel:
    return Panel.objects.get(name="12-panel urine cup")


def analyte(code: str) -> Analyte:
    return Analyte.objects.get(code=code)


def order_for(world, *, reason=OrderReason.FOR_CAUSE, day=None, panel=None, **more) -> Order:
    if reason == OrderReason.FOR_CAUSE:
        more.setdefault("reason_detail", "Smelled of alcohol.")
    return services.order_test(
        world.active.current_episode,
        actor=world.lab,
        day=day or world.program.today(),
        reason=reason,
        panel=panel or cup(),
        **more,
    )


def collect(world, order: Order, *, specimen="S-1", minutes_ago=60, **more) -> Collection:
    return services.record_collection(
        order,
        services.CollectionInput(
            specimen_id=specimen,
            collected_at=NOW() - dt.timedelta(minutes=minutes_ago),
            temperature_in_range=True,
            **more,
        ),
        actor=world.lab,
    )


def result(code: str, outcome: str, method: str = ResultMethod.PRESUMPTIVE, value=None):
    return services.ResultInput(analyte=analyte(code), method=method, outcome=outcome, value=value)


def set_policy(world, **values) -> None:
    policy = services.policy_for(world.program)
    services.update_policy(policy, actor=world.director, **values)


# --- orders ---------------------------------------------------------------------------


def test_order_test_makes_an_audited_open_order(world):
    order = order_for(world)
    assert order.status == OrderStatus.OPEN
    assert order.participant_id == world.active.pk and order.program_id == world.program.pk
    assert AuditEvent.objects.filter(object_type="screening.order", object_id=str(order.pk))


def test_order_test_refuses_someone_not_in_care(world):
    with pytest.raises(ScreeningError, match="in care"):
        services.order_test(
            world.referred.current_episode,
            actor=world.lab,
            day=world.program.today(),
            reason=OrderReason.FOR_CAUSE,
            reason_detail="Because.",
        )


@pytest.mark.parametrize("detail", ["", "   "])
def test_a_for_cause_order_needs_a_reason(world, detail):
    with pytest.raises(ScreeningInputError, match="why"):
        order_for(world, reason_detail=detail)
    assert not Order.objects.exists()


def test_a_second_open_order_for_the_same_test_and_day_is_refused(world):
    order_for(world)
    with pytest.raises(ScreeningError, match="already has that test"):
        order_for(world, reason=OrderReason.RANDOM)
    # Another day, or another panel, is a different test.
    order_for(world, day=world.program.today() + dt.timedelta(days=1))
    order_for(world, panel=Panel.objects.get(name="Breath alcohol"))
    assert Order.objects.count() == 3


def test_order_test_refuses_an_unknown_reason_and_a_retired_panel(world):
    with pytest.raises(ScreeningInputError):
        order_for(world, reason="whim")
    panel = cup()
    panel.retired = True
    panel.save()
    with pytest.raises(ScreeningInputError, match="panel"):
        order_for(world, panel=panel)


def test_cancel_order_refuses_a_random_selection(world):
    order = order_for(world, reason=OrderReason.RANDOM)
    with pytest.raises(ScreeningError, match="random"):
        services.cancel_order(order, actor=world.lab, reason="Not needed.")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.OPEN


def test_cancel_order_needs_a_reason_and_closes_a_for_cause_order(world):
    order = order_for(world)
    with pytest.raises(ScreeningInputError):
        services.cancel_order(order, actor=world.lab, reason=" ")
    services.cancel_order(order, actor=world.lab, reason="Ordered twice.")
    order.refresh_from_db()
    assert (order.status, order.status_note) == (OrderStatus.CANCELLED, "Ordered twice.")
    with pytest.raises(ScreeningError, match="already cancelled"):
        services.cancel_order(order, actor=world.lab, reason="Again.")


# --- collection -------------------------------------------------------------------------


def test_record_collection_closes_the_order_and_writes_the_first_custody_step(world):
    order = order_for(world)
    collection = collect(world, order, observed=True, observed_reason="Earlier dilute.")
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    assert collection.specimen_type == "urine" and collection.collected_by == world.lab
    steps = list(collection.custody.values_list("step", "by_id"))
    assert steps == [(CustodyStep.COLLECTED, world.lab.pk)]
    assert collection.custody.get().at == collection.collected_at


def test_a_collection_in_the_future_is_refused(world):
    order = order_for(world)
    with pytest.raises(ScreeningInputError, match="future"):
        collect(world, order, minutes_ago=-30)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.OPEN
    assert not Collection.objects.exists()


def test_a_specimen_id_is_used_once(world):
    collect(world, order_for(world), specimen="DUP-1")
    other = order_for(world, panel=Panel.objects.get(name="Breath alcohol"))
    with pytest.raises(ScreeningInputError, match="already used"):
        collect(world, other, specimen="DUP-1")
    assert Order.objects.get(pk=other.pk).status == OrderStatus.OPEN


@pytest.mark.parametrize("specimen", ["", "   ", "x" * 41])
def test_a_specimen_id_is_required_and_bounded(world, specimen):
    with pytest.raises(ScreeningInputError, match="specimen id"):
        collect(world, order_for(world), specimen=specimen)


def test_an_observed_collection_says_why(world):
    with pytest.raises(ScreeningInputError, match="observed"):
        collect(world, order_for(world), observed=True, observed_reason="  ")


def test_a_collection_of_an_order_that_is_not_open_is_refused(world):
    order = order_for(world)
    collect(world, order, specimen="FIRST")
    with pytest.raises(ScreeningError, match="already collected"):
        collect(world, order, specimen="SECOND")
    refused = order_for(world, panel=Panel.objects.get(name="Breath alcohol"))
    services.record_refusal(refused, actor=world.lab)
    with pytest.raises(ScreeningError, match="already refused"):
        collect(world, refused, specimen="THIRD")
    assert list(Collection.objects.values_list("specimen_id", flat=True)) == ["FIRST"]


# --- chain of custody -----------------------------------------------------------------------


def custody(world, collection, step, minutes_ago=30, **more):
    return services.add_custody(
        collection,
        actor=world.lab,
        step=step,
        at=NOW() - dt.timedelta(minutes=minutes_ago),
        **more,
    )


def test_custody_steps_are_appended_in_order(world):
    collection = collect(world, order_for(world))
    custody(world, collection, CustodyStep.SEALED, 50)
    sent = custody(world, collection, CustodyStep.SENT, 40, by_name="Courier Co", detail="TRK-9")
    custody(world, collection, CustodyStep.RECEIVED, 10, by_name="Lab desk", detail="ACC-1")
    assert (sent.by, sent.by_name, sent.detail) == (None, "Courier Co", "TRK-9")
    sealed = collection.custody.get(step=CustodyStep.SEALED)
    # Blank "who": the person recording it did the step.
    assert sealed.by == world.lab and sealed.by_name == world.lab.get_full_name()
    assert list(collection.custody.values_list("step", flat=True)) == [
        CustodyStep.COLLECTED,
        CustodyStep.SEALED,
        CustodyStep.SENT,
        CustodyStep.RECEIVED,
    ]


def test_sent_before_sealed_is_refused(world):
    collection = collect(world, order_for(world))
    with pytest.raises(ScreeningError, match="Sealed"):
        custody(world, collection, CustodyStep.SENT)
    with pytest.raises(ScreeningError, match="Sealed"):
        custody(world, collection, CustodyStep.RECEIVED)
    assert collection.custody.count() == 1


def test_the_labs_receipt_is_recorded_once(world):
    collection = collect(world, order_for(world))
    custody(world, collection, CustodyStep.SEALED, 50)
    custody(world, collection, CustodyStep.SENT, 40)
    custody(world, collection, CustodyStep.RECEIVED, 20)
    with pytest.raises(ScreeningError, match="already recorded"):
        custody(world, collection, CustodyStep.RECEIVED, 10)
    with pytest.raises(ScreeningError, match="receipt is already recorded"):
        custody(world, collection, CustodyStep.SEAL_BROKEN, 10)
    with pytest.raises(ScreeningError, match="already recorded"):
        custody(world, collection, CustodyStep.SEALED, 10)


def test_a_custody_step_before_the_collection_or_in_the_future_is_refused(world):
    collection = collect(world, order_for(world), minutes_ago=60)
    with pytest.raises(ScreeningInputError, match="before the collection"):
        custody(world, collection, CustodyStep.SEALED, 90)
    with pytest.raises(ScreeningInputError, match="future"):
        custody(world, collection, CustodyStep.SEALED, -60)
    with pytest.raises(ScreeningInputError, match="Unknown"):
        custody(world, collection, CustodyStep.COLLECTED)
    with pytest.raises(ScreeningInputError, match="Unknown"):
        custody(world, collection, "teleported")


def test_custody_events_are_append_only(world):
    collection = collect(world, order_for(world))
    event = custody(world, collection, CustodyStep.SEALED)
    event.detail = "changed"
    with pytest.raises(TypeError, match="never changed"):
        event.save()
    with pytest.raises(TypeError, match="never deleted"):
        event.delete()
    assert CustodyEvent.objects.get(pk=event.pk).detail == ""


# --- refusals, no-shows and invalid specimens under the policy ---------------------------------


def _refuse(world, order):
    services.record_refusal(order, actor=world.lab, note="Said no.")


def _no_show(world, order):
    services.record_no_show(order, actor=world.lab)


def _dilute(world, order):
    collect(world, order, validity=Validity.DILUTE)


def _adulterated(world, order):
    collect(world, order, validity=Validity.ADULTERATED)


EVENTS = {
    "refusal": ("refusal_counts_as", _refuse, ReviewReason.REFUSAL),
    "no_show": ("no_show_counts_as", _no_show, ReviewReason.NO_SHOW),
    "dilute": ("dilute_counts_as", _dilute, ReviewReason.INVALID_SPECIMEN),
    "adulterated": ("adulterated_counts_as", _adulterated, ReviewReason.INVALID_SPECIMEN),
}


@pytest.mark.parametrize("counts_as", [CountsAs.POSITIVE, CountsAs.MISSED])
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_an_event_that_counts_as_positive_or_missed_opens_a_review(world, event, counts_as):
    field, do, reason = EVENTS[event]
    set_policy(world, **{field: counts_as})
    order = order_for(world, reason=OrderReason.RANDOM)
    do(world, order)
    review = Review.objects.get(order=order)
    assert review.reason == reason and review.status == ReviewStatus.OPEN
    assert review.assigned_to == world.counsellor and not review.escalated
    assert Order.objects.count() == 1  # no retest


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_an_event_that_counts_as_a_retest_orders_one_and_opens_no_review(world, event):
    field, do, _ = EVENTS[event]
    set_policy(world, **{field: CountsAs.RETEST})
    order = order_for(world, reason=OrderReason.RANDOM)
    do(world, order)
    assert not Review.objects.exists()
    retest = Order.objects.exclude(pk=order.pk).get()
    assert retest.reason == OrderReason.FOR_CAUSE and retest.status == OrderStatus.OPEN
    assert retest.day == world.program.today() + dt.timedelta(days=1)
    assert retest.panel == order.panel and "Retest" in retest.reason_detail


def test_refusal_and_no_show_record_who_when_and_the_note(world):
    order = order_for(world)
    services.record_refusal(order, actor=world.lab, note="  Declined, left early. ")
    order.refresh_from_db()
    assert (order.status, order.status_by, order.status_note) == (
        OrderStatus.REFUSED,
        world.lab,
        "Declined, left early.",
    )
    with pytest.raises(ScreeningError):
        services.record_no_show(order, actor=world.lab)


def test_a_strict_policy_escalates_the_review(world):
    set_policy(world, handling=Handling.STRICT)
    collection = collect(world, order_for(world))
    services.record_results(collection, [result("COC", ResultOutcome.POSITIVE)], actor=world.lab)
    review = Review.objects.get()
    assert review.escalated and review.reason == ReviewReason.UNEXPECTED_POSITIVE


def test_a_supportive_policy_does_not_escalate(world):
    collection = collect(world, order_for(world))
    services.record_results(collection, [result("COC", ResultOutcome.POSITIVE)], actor=world.lab)
    assert not Review.objects.get().escalated


# --- results ---------------------------------------------------------------------------------


def test_record_results_interprets_each_and_opens_a_review_for_the_unexpected(world):
    services.add_expected_medication(
        world.active,
        actor=world.counsellor,
        name="Buprenorphine",
        analytes=[analyte("BUP")],
        start_date=world.program.today() - dt.timedelta(days=30),
    )
    collection = collect(world, order_for(world))
    made = services.record_results(
        collection,
        [
            result("COC", ResultOutcome.POSITIVE, value=Decimal("420")),
            result("BUP", ResultOutcome.POSITIVE),
            result("THC", ResultOutcome.NEGATIVE),
            result("OPI", ResultOutcome.INCONCLUSIVE),
        ],
        actor=world.lab,
    )
    meaning = {r.analyte.code: r.interpretation for r in made}
    assert meaning == {
        "COC": Interpretation.UNEXPECTED,
        "BUP": Interpretation.EXPECTED,
        "THC": Interpretation.NEGATIVE,
        "OPI": Interpretation.INCONCLUSIVE,
    }
    assert next(r for r in made if r.analyte.code == "BUP").explained_by.name == "Buprenorphine"
    review = Review.objects.get()
    assert review.detail == "COC" and review.assigned_to == world.counsellor
    assert collection.custody.filter(step=CustodyStep.RESULTED).count() == 1


def test_only_expected_positives_open_no_review(world):
    services.add_expected_medication(
        world.active,
        actor=world.counsellor,
        name="Methadone",
        analytes=[analyte("MTD")],
        start_date=world.program.today() - dt.timedelta(days=30),
    )
    collection = collect(world, order_for(world))
    services.record_results(collection, [result("MTD", ResultOutcome.POSITIVE)], actor=world.lab)
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        lambda: result("THC", "maybe"),
        lambda: result("THC", ResultOutcome.NEGATIVE, method="vibes"),
        lambda: result("THC", ResultOutcome.POSITIVE, value=Decimal("-1")),
        lambda: result("COC", ResultOutcome.NEGATIVE),  # COC twice
    ],
)
def test_record_results_is_all_or_nothing(world, bad):
    collection = collect(world, order_for(world))
    entries = [result("COC", ResultOutcome.POSITIVE), result("AMP", ResultOutcome.NEGATIVE), bad()]
    with pytest.raises(ScreeningInputError):
        services.record_results(collection, entries, actor=world.lab)
    assert not Result.objects.exists() and not Review.objects.exists()
    assert not collection.custody.filter(step=CustodyStep.RESULTED).exists()


def test_a_result_already_recorded_is_refused_and_nothing_of_the_batch_is_kept(world):
    collection = collect(world, order_for(world))
    services.record_results(collection, [result("THC", ResultOutcome.NEGATIVE)], actor=world.lab)
    with pytest.raises(ScreeningError, match="THC"):
        services.record_results(
            collection,
            [result("COC", ResultOutcome.POSITIVE), result("THC", ResultOutcome.POSITIVE)],
            actor=world.lab,
        )
    assert list(Result.objects.values_list("analyte__code", flat=True)) == ["THC"]
    assert not Review.objects.exists()
    # The same analyte by the other method (the lab's confirmation) is a new result.
    services.record_results(
        collection,
        [result("THC", ResultOutcome.POSITIVE, method=ResultMethod.DEFINITIVE)],
        actor=world.lab,
    )
    assert Result.objects.count() == 2


def test_record_results_needs_entries(world):
    collection = collect(world, order_for(world))
    with pytest.raises(ScreeningInputError):
        services.record_results(collection, [], actor=world.lab)


# --- reviews ----------------------------------------------------------------------------------


def test_open_review_extends_the_open_review_of_the_order(world):
    collection = collect(world, order_for(world))
    services.record_results(collection, [result("COC", ResultOutcome.POSITIVE)], actor=world.lab)
    services.record_results(
        collection,
        [
            result("COC", ResultOutcome.POSITIVE, method=ResultMethod.DEFINITIVE),
            result("FEN", ResultOutcome.POSITIVE, method=ResultMethod.DEFINITIVE),
        ],
        actor=world.lab,
    )
    review = Review.objects.get()
    assert review.detail == "COC, FEN"
    assert review.version == 2


def unexpected_review(world) -> tuple[Collection, Review]:
    collection = collect(world, order_for(world))
    services.record_results(collection, [result("COC", ResultOutcome.POSITIVE)], actor=world.lab)
    return collection, Review.objects.get()


def test_complete_review_records_the_outcome_and_the_plan_change(world):
    _, review = unexpected_review(world)
    done = services.complete_review(
        review,
        actor=world.counsellor,
        outcome=ReviewOutcome.USE,
        plan_change="Added a relapse-prevention session each week.",
        expected_version=review.version,
    )
    assert done.status == ReviewStatus.DONE and done.reviewed_by == world.counsellor
    assert done.plan_change.startswith("Added")


@pytest.mark.parametrize("plan_change", ["", "   \n "])
def test_complete_review_refuses_a_blank_plan_change(world, plan_change):
    _, review = unexpected_review(world)
    with pytest.raises(ScreeningInputError, match="changed in the plan"):
        services.complete_review(
            review,
            actor=world.counsellor,
            outcome=ReviewOutcome.USE,
            plan_change=plan_change,
            expected_version=review.version,
        )
    assert Review.objects.get().status == ReviewStatus.OPEN


def test_complete_review_refuses_an_unknown_outcome_and_a_long_text(world):
    _, review = unexpected_review(world)
    for outcome, text in [("shrug", "No change."), (ReviewOutcome.USE, "x" * 4001)]:
        with pytest.raises(ScreeningInputError):
            services.complete_review(
                review,
                actor=world.counsellor,
                outcome=outcome,
                plan_change=text,
                expected_version=review.version,
            )


def test_complete_review_refuses_a_stale_version(world):
    _, review = unexpected_review(world)
    with pytest.raises(ScreeningError, match="reload"):
        services.complete_review(
            review,
            actor=world.counsellor,
            outcome=ReviewOutcome.USE,
            plan_change="No change.",
            expected_version=review.version - 1,
        )


def test_complete_review_twice_is_refused(world):
    _, review = unexpected_review(world)
    kwargs = {"actor": world.counsellor, "outcome": ReviewOutcome.USE, "plan_change": "None."}
    done = services.complete_review(review, expected_version=review.version, **kwargs)
    with pytest.raises(ScreeningError, match="already done"):
        services.complete_review(done, expected_version=done.version, **kwargs)


def test_a_disputed_positive_reopens_when_the_definitive_result_is_still_unexpected(world):
    collection, review = unexpected_review(world)
    services.complete_review(
        review,
        actor=world.counsellor,
        outcome=ReviewOutcome.DISPUTED,
        plan_change="Participant disputes it; sent for confirmation.",
        expected_version=review.version,
    )
    # A negative confirmation does not reopen it.
    services.record_results(
        collection,
        [result("AMP", ResultOutcome.NEGATIVE, method=ResultMethod.DEFINITIVE)],
        actor=world.lab,
    )
    assert Review.objects.get().status == ReviewStatus.DONE
    services.record_results(
        collection,
        [result("COC", ResultOutcome.POSITIVE, method=ResultMethod.DEFINITIVE)],
        actor=world.lab,
    )
    reopened = Review.objects.get()
    assert reopened.status == ReviewStatus.OPEN and reopened.outcome == ""
    assert AuditEvent.objects.filter(
        object_type="screening.review",
        object_id=str(reopened.pk),
        reason="definitive result still unexpected",
    ).exists()


def test_only_a_positive_can_be_disputed(world):
    set_policy(world, refusal_counts_as=CountsAs.POSITIVE)
    order = order_for(world)
    services.record_refusal(order, actor=world.lab)
    review = Review.objects.get()
    with pytest.raises(ScreeningInputError, match="positive"):
        services.complete_review(
            review,
            actor=world.counsellor,
            outcome=ReviewOutcome.DISPUTED,
            plan_change="Sent out.",
            expected_version=review.version,
        )


def test_a_done_review_that_is_not_disputed_stays_done(world):
    collection, review = unexpected_review(world)
    services.complete_review(
        review,
        actor=world.counsellor,
        outcome=ReviewOutcome.USE,
        plan_change="Talked it through.",
        expected_version=review.version,
    )
    services.record_results(
        collection,
        [result("COC", ResultOutcome.POSITIVE, method=ResultMethod.DEFINITIVE)],
        actor=world.lab,
    )
    assert Review.objects.get().status == ReviewStatus.DONE


# --- who sees a random selection ------------------------------------------------------------


def test_order_visible_hides_an_open_random_selection_until_collected_or_the_day_is_over(world):
    today = world.program.today()
    order = order_for(world, reason=OrderReason.RANDOM)
    for user in (world.lab, world.director):
        assert services.order_visible(user, order, today)
    for user in (world.counsellor, world.supervisor, world.intake):
        assert not services.order_visible(user, order, today)
        assert services.order_visible(user, order, today + dt.timedelta(days=1))
    collect(world, order)
    order.refresh_from_db()
    assert services.order_visible(world.counsellor, order, today)


def test_order_visible_shows_other_orders_to_everyone(world):
    today = world.program.today()
    reasons = (OrderReason.FOR_CAUSE, OrderReason.SCHEDULED, OrderReason.ADMISSION)
    for n, reason in enumerate(reasons):
        order = order_for(world, reason=reason, day=today + dt.timedelta(days=n))
        assert services.order_visible(world.counsellor, order, today)


def test_a_refused_or_missed_random_selection_is_visible(world):
    today = world.program.today()
    order = order_for(world, reason=OrderReason.RANDOM)
    services.record_no_show(order, actor=world.lab)
    order.refresh_from_db()
    assert services.order_visible(world.counsellor, order, today)


def test_only_lab_and_director_see_the_today_list(world):
    assert services.sees_today_list(world.lab) and services.sees_today_list(world.director)
    for name in ("counsellor", "supervisor", "intake", "billing", "compliance", "norole"):
        assert not services.sees_today_list(world.users[name])
