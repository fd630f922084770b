"""The lab's pages: today's list, an order's page with its forms, and for-cause orders."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.participants.choices import EpisodeStatus as S
from openiop.screening import services
from openiop.screening.choices import (
    CustodyStep,
    Interpretation,
    OrderReason,
    OrderStatus,
    ReviewReason,
)
from openiop.screening.models import (
    Analyte,
    Collection,
    CustodyEvent,
    Order,
    Panel,
    Result,
    Review,
    SelectionDay,
)
from openiop.testing import add_screening_orders, make_participant

pytestmark = pytest.mark.django_db


def order_url(order: Order) -> str:
    return reverse(
        "participant_screening:order", kwargs={"pk": order.participant_id, "order_pk": order.pk}
    )


def local(world, delta: dt.timedelta = dt.timedelta()) -> str:
    """A `datetime-local` value on the program's clock."""
    return timezone.localtime(timezone.now() + delta, world.program.tz).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def orders(world):
    add_screening_orders(world)
    return world


def collect_payload(world, **more) -> dict:
    return {
        "action": "collect",
        "specimen_id": "LAB-77",
        "collected_at": local(world, -dt.timedelta(minutes=5)),
        "temperature": "yes",
        "validity": "valid",
        "observed_reason": "",
        "remarks": "",
        **more,
    }


# --- today's list -------------------------------------------------------------------------


def test_today_list_is_for_lab_and_director_only(orders, login):
    url = reverse("screening:today")
    assert login(orders.lab).get(url).status_code == 200
    assert login(orders.director).get(url).status_code == 200
    for name in ("counsellor", "supervisor", "intake", "billing"):
        response = login(orders.users[name]).get(url)
        assert response.status_code == 403, name


def test_today_list_groups_what_to_collect_then_what_is_done(orders, login):
    w = orders
    today = w.program.today()
    services.record_no_show(w.screen_for_cause, actor=w.lab)
    response = login(w.lab).get(reverse("screening:today"))
    assert [o.pk for o in response.context["to_collect"]] == [w.screen_random.pk]
    assert [o.pk for o in response.context["done"]] == [w.screen_for_cause.pk]
    # Yesterday's collected order is not today's.
    assert w.screen_collected.pk not in {o.pk for o in response.context["done"]}
    html = response.content.decode()
    assert html.index("To collect (1)") < html.index("Done (1)")
    assert w.active.record_number in html and "Random selection" in html
    assert order_url(w.screen_random) + "#collect" in html
    assert order_url(w.screen_random) + "#refuse" in html
    assert order_url(w.screen_random) + "#no-show" in html
    assert reverse("participant_screening:orders", args=[w.active.pk]) in html
    assert response.context["day"] == today


def test_today_list_shows_the_seed_hash_never_the_seed(orders, login):
    w = orders
    seed = "ab" * 32
    SelectionDay.objects.create(
        program=w.program,
        day=w.program.today(),
        method="test",
        probability="0.250000",
        seed=seed,
        seed_hash=hashlib.sha256(bytes.fromhex(seed)).hexdigest(),
        eligible=[1, 2, 3, 4],
        selected=[w.active.current_episode_id],
    )
    response = login(w.lab).get(reverse("screening:today"))
    html = response.content.decode()
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() in html
    assert seed not in html
    assert (response.context["pool"], response.context["picked"]) == (4, 1)


def test_nav_shows_screening_to_the_lab_only(orders, login):
    url = reverse("screening:today")
    assert f'href="{url}"' in login(orders.lab).get(reverse("core:today")).content.decode()
    html = login(orders.counsellor).get(reverse("core:today")).content.decode()
    assert f'href="{url}"' not in html


def _orders_today(world, n: int) -> None:
    cup = Panel.objects.get(name="12-panel urine cup")
    for i in range(n):
        person = make_participant(
            world.program,
            world.intake,
            last=f"Queries{i}",
            status=S.ACTIVE,
            counsellor=world.counsellor,
        )
        order = services.order_test(
            person.current_episode,
            actor=world.lab,
            day=world.program.today(),
            reason=OrderReason.RANDOM,
            panel=cup,
        )
        if i % 3 == 0:
            services.record_collection(
                order,
                services.CollectionInput(
                    specimen_id=f"Q-{i}", collected_at=timezone.now(), temperature_in_range=True
                ),
                actor=world.lab,
            )


# Session, user, roles, the user's programs; the programs; the orders (with participant,
# panel and collection); the selection day; the audit event of the view (three queries:
# lock the audit chain's head, INSERT the event, move the head).
TODAY_QUERIES = 10


@pytest.mark.parametrize("n", [3, 12])
def test_today_list_query_count_does_not_grow_with_the_orders(
    world, login, django_assert_num_queries, n
):
    _orders_today(world, n)
    client = login(world.lab)
    url = reverse("screening:today")
    client.get(url)  # warm caches that are not the page's
    with django_assert_num_queries(TODAY_QUERIES):
        response = client.get(url)
    assert len(response.context["to_collect"]) + len(response.context["done"]) == n


# --- who sees an order --------------------------------------------------------------------


def test_a_hidden_random_selection_is_404_for_the_counsellor_until_collected(orders, login):
    w = orders
    url = order_url(w.screen_random)
    assert login(w.counsellor).get(url).status_code == 404
    assert login(w.supervisor).get(url).status_code == 404
    assert login(w.lab).get(url).status_code == 200
    assert login(w.director).get(url).status_code == 200
    listing = login(w.counsellor).get(reverse("participant_screening:orders", args=[w.active.pk]))
    assert w.screen_random.pk not in {o.pk for o in listing.context["orders"]}
    assert w.screen_for_cause.pk in {o.pk for o in listing.context["orders"]}
    # The lab collects: now the counsellor sees it.
    response = login(w.lab).post(url, collect_payload(w))
    assert response.status_code == 302
    assert login(w.counsellor).get(url).status_code == 200


def test_a_for_cause_order_is_visible_to_the_counsellor_who_cannot_post_to_it(orders, login):
    w = orders
    client = login(w.counsellor)
    url = order_url(w.screen_for_cause)
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["can_collect"]
    assert 'value="collect"' not in page.content.decode()
    assert client.post(url, collect_payload(w)).status_code == 403
    assert client.post(url, {"action": "no_show", "no_show-note": ""}).status_code == 403
    assert Order.objects.get(pk=w.screen_for_cause.pk).status == OrderStatus.OPEN


def test_an_order_of_another_participant_is_404(orders, login):
    w = orders
    url = reverse(
        "participant_screening:order",
        kwargs={"pk": w.referred.pk, "order_pk": w.screen_for_cause.pk},
    )
    assert login(w.lab).get(url).status_code == 404
    assert login(w.outsider).get(order_url(w.screen_for_cause)).status_code == 404


# --- the workflow through the pages ---------------------------------------------------------


def test_collect_custody_and_results_through_the_order_page(orders, login):
    w = orders
    client = login(w.lab)
    url = order_url(w.screen_random)
    page = client.get(url)
    assert page.status_code == 200 and page.context["can_collect"]
    response = client.post(url, collect_payload(w, specimen_id="  LAB-77 "))
    assert response.status_code == 302 and response["Location"] == url + "#custody"
    collection = Collection.objects.get(order=w.screen_random)
    assert collection.specimen_id == "LAB-77" and collection.temperature_in_range is True
    for step, minutes in ((CustodyStep.SEALED, 4), (CustodyStep.SENT, 3)):
        response = client.post(
            url,
            {
                "action": "custody",
                "step": step,
                "at": local(w, -dt.timedelta(minutes=minutes)),
                "by_name": "Courier Co" if step == CustodyStep.SENT else "",
                "detail": "TRK-1" if step == CustodyStep.SENT else "",
            },
        )
        assert response.status_code == 302, response.content[:400]
    steps = list(CustodyEvent.objects.filter(collection=collection).values_list("step", "by_name"))
    assert steps[1:] == [
        (CustodyStep.SEALED, w.lab.get_full_name()),
        (CustodyStep.SENT, "Courier Co"),
    ]
    response = client.post(
        url,
        {
            "action": "results",
            "method": "presumptive",
            "accession": "",
            "outcome_COC": "positive",
            "value_COC": "300",
            "outcome_THC": "negative",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("#results")
    results = {r.analyte.code: r for r in Result.objects.filter(collection=collection)}
    assert results["COC"].interpretation == Interpretation.UNEXPECTED
    assert results["COC"].cutoff == 150 and results["COC"].unit == "ng/mL"
    assert results["THC"].interpretation == Interpretation.NEGATIVE
    review = Review.objects.get(order=w.screen_random)
    assert review.reason == ReviewReason.UNEXPECTED_POSITIVE and review.assigned_to == w.counsellor
    page = client.get(url)
    html = page.content.decode()
    assert "Unexpected positive" in html and "1 unexpected" in html
    assert "Courier Co" in html and "TRK-1" in html


def test_an_expected_positive_is_shown_as_expected(orders, login):
    w = orders
    services.add_expected_medication(
        w.active,
        actor=w.counsellor,
        name="Buprenorphine",
        analytes=[Analyte.objects.get(code="BUP")],
        start_date=w.program.today() - dt.timedelta(days=60),
    )
    client = login(w.lab)
    url = order_url(w.screen_collected)
    response = client.post(
        url, {"action": "results", "method": "presumptive", "outcome_BUP": "positive"}
    )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "Expected — buprenorphine" in html and "Unexpected positive" not in html
    assert not Review.objects.exists()


def test_refusal_no_show_and_cancel_through_the_page(orders, login):
    w = orders
    client = login(w.lab)
    response = client.post(
        order_url(w.screen_random), {"action": "refuse", "refuse-note": "Would not test."}
    )
    assert response.status_code == 302
    refused = Order.objects.get(pk=w.screen_random.pk)
    assert (refused.status, refused.status_note) == (OrderStatus.REFUSED, "Would not test.")
    response = client.post(
        order_url(w.screen_for_cause), {"action": "cancel", "reason": "Ordered by mistake."}
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=w.screen_for_cause.pk).status == OrderStatus.CANCELLED


def test_a_counsellor_can_cancel_a_for_cause_order(orders, login):
    w = orders
    response = login(w.counsellor).post(
        order_url(w.screen_for_cause), {"action": "cancel", "reason": "Seen; not needed."}
    )
    assert response.status_code == 302


def test_order_a_for_cause_test(orders, login):
    w = orders
    client = login(w.counsellor)
    url = reverse("participant_screening:order_new", args=[w.active.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"]["day"].value() == w.program.today()
    panel = Panel.objects.get(name="EtG urine (send-out)")
    response = client.post(
        url,
        {
            "panel": panel.pk,
            "day": w.program.today().isoformat(),
            "reason_detail": "Missed group; smelled of alcohol.",
        },
    )
    assert response.status_code == 302
    made = Order.objects.get(panel=panel)
    assert response["Location"] == order_url(made)
    assert made.reason == OrderReason.FOR_CAUSE and made.created_by == w.counsellor


def test_order_new_for_someone_not_in_care_is_409(orders, login):
    w = orders
    url = reverse("participant_screening:order_new", args=[w.referred.pk])
    assert login(w.counsellor).get(url).status_code == 409


# --- bad input: 400 with the form's error, a refused state 409, never a 500 ------------------


def _assert_form_error(response, text: str = "") -> None:
    assert response.status_code == 400, response.status_code
    form = response.context["form"]
    assert form is not None and form.is_bound and form.errors
    if text:
        assert text in str(form.errors), form.errors


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"specimen_id": ""}, "required"),
        ({"specimen_id": "x" * 41}, "at most 40"),
        ({"collected_at": "yesterday"}, "valid date/time"),
        ({"collected_at": "1850-01-01T10:00"}, "after 2000"),
        ({"observed": "on", "observed_reason": ""}, "Say why"),
        ({"temperature": "na"}, "temperature is read"),
        ({"temperature": "hot"}, "valid choice"),
        ({"validity": "fine"}, "valid choice"),
        ({"remarks": "r" * 501}, "at most 500"),
    ],
)
def test_bad_collection_input_is_a_form_error(orders, login, changes, text):
    w = orders
    response = login(w.lab).post(order_url(w.screen_random), collect_payload(w, **changes))
    _assert_form_error(response, text)
    assert response.context["form"] is response.context["forms"]["collect"]
    assert "has-error" in response.content.decode()
    assert Order.objects.get(pk=w.screen_random.pk).status == OrderStatus.OPEN


def test_a_collection_time_in_the_future_and_a_used_specimen_id_are_form_errors(orders, login):
    w = orders
    client = login(w.lab)
    url = order_url(w.screen_random)
    future = collect_payload(w, collected_at=local(w, dt.timedelta(hours=2)))
    _assert_form_error(client.post(url, future), "future")
    _assert_form_error(client.post(url, collect_payload(w, specimen_id="WORLD-0001")), "used")
    assert not Collection.objects.filter(order=w.screen_random).exists()


def test_breath_alcohol_takes_no_temperature(orders, login):
    w = orders
    url = order_url(w.screen_for_cause)
    response = login(w.lab).post(url, collect_payload(w, temperature="yes"))
    _assert_form_error(response, "urine only")
    response = login(w.lab).post(url, collect_payload(w, temperature="na"))
    assert response.status_code == 302
    assert Collection.objects.get(order=w.screen_for_cause).temperature_in_range is None


def test_unknown_or_missing_action_is_a_form_error(orders, login):
    w = orders
    client = login(w.lab)
    _assert_form_error(client.post(order_url(w.screen_random), {"action": "explode"}))
    _assert_form_error(client.post(order_url(w.screen_random), {}))


def test_collecting_a_collected_order_is_409(orders, login):
    w = orders
    response = login(w.lab).post(
        order_url(w.screen_collected), collect_payload(w, specimen_id="NEW-1")
    )
    assert response.status_code == 409
    assert "already collected" in response.content.decode()


def test_a_random_selection_cannot_be_cancelled(orders, login):
    w = orders
    response = login(w.lab).post(order_url(w.screen_random), {"action": "cancel", "reason": "No."})
    assert response.status_code == 409
    assert Order.objects.get(pk=w.screen_random.pk).status == OrderStatus.OPEN


def test_cancel_without_a_reason_and_a_long_note_are_form_errors(orders, login):
    w = orders
    client = login(w.lab)
    _assert_form_error(
        client.post(order_url(w.screen_for_cause), {"action": "cancel", "reason": " "}),
        "required",
    )
    _assert_form_error(
        client.post(order_url(w.screen_random), {"action": "refuse", "refuse-note": "n" * 501}),
        "at most 500",
    )


@pytest.mark.parametrize(
    ("payload", "status", "text"),
    [
        ({"step": "teleported"}, 400, "valid choice"),
        ({"step": "collected"}, 400, "valid choice"),
        ({"at": "soon"}, 400, "valid date/time"),
        ({"at": "before"}, 400, "before the collection"),
        ({"at": "future"}, 400, "future"),
        ({"detail": "d" * 301}, 400, "at most 300"),
        ({"step": "sent"}, 409, "Sealed"),
    ],
)
def test_bad_custody_input(orders, login, payload, status, text):
    w = orders
    at = {
        "before": local(w, -dt.timedelta(hours=3)),
        "future": local(w, dt.timedelta(hours=3)),
    }
    data = {"action": "custody", "step": "sealed", "at": local(w), "by_name": "", "detail": ""}
    data.update(payload)
    data["at"] = at.get(data["at"], data["at"])
    response = login(w.lab).post(order_url(w.screen_collected), data)
    assert response.status_code == status
    if status == 400:
        _assert_form_error(response, text)
    else:
        assert text in response.content.decode()
    assert CustodyEvent.objects.filter(collection__order=w.screen_collected).count() == 1


def test_custody_or_results_before_the_collection_is_409(orders, login):
    w = orders
    client = login(w.lab)
    url = order_url(w.screen_random)
    data = {"action": "custody", "step": "sealed", "at": local(w)}
    assert client.post(url, data).status_code == 409
    data = {"action": "results", "method": "presumptive", "outcome_COC": "negative"}
    assert client.post(url, data).status_code == 409


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({}, "at least one result"),
        ({"value_COC": "12"}, "outcome for a value"),
        ({"outcome_COC": "maybe"}, "valid choice"),
        ({"outcome_COC": "positive", "value_COC": "-3"}, "greater than or equal to 0"),
        ({"outcome_COC": "positive", "value_COC": "NaN"}, "number"),
        ({"outcome_COC": "positive", "value_COC": "1.23456"}, "decimal places"),
        ({"outcome_COC": "positive", "method": "guess"}, "valid choice"),
        ({"outcome_COC": "positive", "accession": "a" * 61}, "at most 60"),
    ],
)
def test_bad_results_input_is_a_form_error(orders, login, payload, text):
    w = orders
    data = {"action": "results", "method": "presumptive", **payload}
    response = login(w.lab).post(order_url(w.screen_collected), data)
    _assert_form_error(response, text)
    assert not Result.objects.exists()


def test_a_result_recorded_twice_is_409(orders, login):
    w = orders
    client = login(w.lab)
    url = order_url(w.screen_collected)
    data = {"action": "results", "method": "presumptive", "outcome_COC": "negative"}
    assert client.post(url, data).status_code == 302
    response = client.post(url, data)
    assert response.status_code == 409 and "already recorded" in response.content.decode()
    assert Result.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"reason_detail": "  "}, "required"),
        ({"reason_detail": "r" * 501}, "at most 500"),
        ({"day": "yesterday"}, "valid date"),
        ({"day": "past"}, "today or a later day"),
        ({"day": "far"}, "at most 60 days"),
        ({"panel": "999999"}, "valid choice"),
        ({"panel": "retired"}, "valid choice"),
    ],
)
def test_bad_for_cause_order_input_is_a_form_error(orders, login, changes, text):
    w = orders
    today = w.program.today()
    retired = Panel.objects.get(name="Oral fluid 6-panel")
    retired.retired = True
    retired.save()
    days = {
        "past": (today - dt.timedelta(days=1)).isoformat(),
        "far": (today + dt.timedelta(days=61)).isoformat(),
    }
    data = {
        "panel": Panel.objects.get(name="EtG urine (send-out)").pk,
        "day": today.isoformat(),
        "reason_detail": "Because.",
        **changes,
    }
    data["day"] = days.get(data["day"], data["day"])
    if data["panel"] == "retired":
        data["panel"] = retired.pk
    before = Order.objects.count()
    response = login(w.counsellor).post(
        reverse("participant_screening:order_new", args=[w.active.pk]), data
    )
    _assert_form_error(response, text)
    assert Order.objects.count() == before


def test_a_duplicate_for_cause_order_is_409(orders, login):
    w = orders
    response = login(w.counsellor).post(
        reverse("participant_screening:order_new", args=[w.active.pk]),
        {
            "panel": Panel.objects.get(name="Breath alcohol").pk,
            "day": w.program.today().isoformat(),
            "reason_detail": "Again.",
        },
    )
    assert response.status_code == 409
    assert "already has that test" in response.content.decode()
