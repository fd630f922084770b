"""The alumni pages: the worklist (due, later, done, mine), a follow-up with its attempts
and closing, events with attendance; scope, permissions, bad input; the chart section and
the today board's panel; query counts that do not grow with the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.alumni import services
from openiop.alumni.choices import FollowUpStatus
from openiop.alumni.models import AlumniAttendance, AlumniEvent, FollowUp, FollowUpAttempt
from openiop.core.models import AuditEvent
from openiop.testing import add_discharged, make_discharged

pytestmark = pytest.mark.django_db

WORKLIST = reverse("alumni:worklist")


def reached_payload(version: int, **changes):
    return {
        "version": str(version),
        "method": "phone",
        "reached": "yes",
        "note": "",
        "use_since_discharge": "lapse",
        "days_used_past_30": "2",
        "occupation": "part_time",
        "housing": "sober_living",
        "readmitted": "no",
        "readmitted_where": "",
        "quality_of_life": "7",
        "in_aftercare": "yes",
        "notes": "Back at meetings after a lapse.",
        **changes,
    }


# --- the worklist ------------------------------------------------------------------------


def test_the_worklist_shows_what_is_due_this_week_overdue_first(world, login):
    add_discharged(world)
    client = login(world.counsellor)
    response = client.get(WORKLIST)
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert [r.pk for r in rows] == [world.follow_up.pk, world.due_follow_up.pk]
    html = response.content.decode()
    assert "5 days overdue" in html
    assert world.alumnus.phone in html
    assert world.foreign_follow_up.pk not in [r.pk for r in rows]
    assert AuditEvent.objects.filter(object_type="alumni.worklist", action="view").exists()


def test_later_and_done(world, login):
    add_discharged(world)
    client = login(world.counsellor)
    later = client.get(WORKLIST + "?show=upcoming").context["page"].object_list
    assert world.later_follow_up.pk in [r.pk for r in later]
    assert world.follow_up.pk not in [r.pk for r in later]
    done = client.get(WORKLIST + "?show=done").context["page"].object_list
    assert [r.pk for r in done] == [world.done_follow_up.pk]
    item = world.follow_up
    services.close_follow_up(
        item, actor=world.counsellor, status="cancelled", note="Moved away", expected_version=1
    )
    done = client.get(WORKLIST + "?show=done").context["page"].object_list
    assert [r.pk for r in done] == [item.pk, world.done_follow_up.pk]
    # A made-up ?show= is the default view, not an error.
    assert client.get(WORKLIST + "?show=<script>").status_code == 200


def test_mine_only(world, login):
    add_discharged(world)
    FollowUp.objects.filter(pk=world.due_follow_up.pk).update(assigned_to=world.supervisor)
    client = login(world.counsellor)
    mine = client.get(WORKLIST + "?mine=1").context["page"].object_list
    assert [r.pk for r in mine] == [world.follow_up.pk]
    everyone = client.get(WORKLIST).context["page"].object_list
    assert len(everyone) == 2


def test_the_worklist_needs_the_permission(world, login):
    add_discharged(world)
    assert login(world.billing).get(WORKLIST).status_code == 403
    # Another program's director sees only their own program's follow-ups.
    rows = login(world.outsider).get(WORKLIST).context["page"].object_list
    assert [r.pk for r in rows] == [world.foreign_follow_up.pk]


def test_the_worklist_runs_the_same_queries_with_more_rows(world, login):
    add_discharged(world)
    client = login(world.counsellor)
    client.get(WORKLIST)
    with CaptureQueriesContext(connection) as few:
        assert client.get(WORKLIST).status_code == 200
    for n in range(4):
        make_discharged(world, last=f"More{n}", days_ago=33 + n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(WORKLIST)
    assert len(response.context["page"].object_list) == 6  # 2 + 4 more 30-day calls
    assert len(many) == len(few)


# --- one follow-up ---------------------------------------------------------------------------


def test_a_follow_up_page_and_scope(world, login):
    add_discharged(world)
    url = reverse("alumni:follow_up", args=[world.follow_up.pk])
    response = login(world.counsellor).get(url)
    assert response.status_code == 200
    assert "Log an attempt" in response.content.decode()
    assert AuditEvent.objects.filter(
        action="view", participant_id=world.alumnus.pk, actor=world.counsellor
    ).exists()
    foreign = reverse("alumni:follow_up", args=[world.foreign_follow_up.pk])
    assert login(world.counsellor).get(foreign).status_code == 404
    assert login(world.outsider).get(url).status_code == 404
    assert login(world.billing).get(url).status_code == 403
    assert (
        login(world.counsellor).get(reverse("alumni:follow_up", args=[999999])).status_code == 404
    )


def test_no_answer_then_reached(world, login):
    add_discharged(world)
    item = world.follow_up
    client = login(world.counsellor)
    response = client.post(
        reverse("alumni:attempt", args=[item.pk]),
        {"version": "1", "method": "phone", "reached": "no", "note": "No answer"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == FollowUpStatus.PENDING
    response = client.post(reverse("alumni:attempt", args=[item.pk]), reached_payload(2))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == FollowUpStatus.REACHED
    assert (item.days_used_past_30, item.quality_of_life, item.in_aftercare) == (2, 7, True)
    assert FollowUpAttempt.objects.filter(follow_up=item).count() == 2
    page = client.get(reverse("alumni:follow_up", args=[item.pk])).content.decode()
    assert "What they said" in page and "Log an attempt" not in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quality_of_life": ""}, "quality_of_life"),
        ({"quality_of_life": "11"}, "quality_of_life"),
        ({"days_used_past_30": "31"}, "days_used_past_30"),
        ({"use_since_discharge": "none", "days_used_past_30": "4"}, "days_used_past_30"),
        ({"use_since_discharge": ""}, "use_since_discharge"),
        ({"readmitted": "yes"}, "readmitted_where"),
        ({"reached": ""}, "reached"),
    ],
)
def test_bad_outcomes_are_form_errors(world, login, changes, field):
    add_discharged(world)
    item = world.follow_up
    response = login(world.counsellor).post(
        reverse("alumni:attempt", args=[item.pk]), reached_payload(1, **changes)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not FollowUpAttempt.objects.filter(follow_up=item).exists()


def test_a_stale_form_and_a_closed_follow_up_answer_409(world, login):
    add_discharged(world)
    item = world.follow_up
    client = login(world.counsellor)
    url = reverse("alumni:attempt", args=[item.pk])
    assert client.post(url, reached_payload(7)).status_code == 409
    assert client.post(url, reached_payload(1)).status_code == 302
    assert client.post(url, reached_payload(2)).status_code == 409
    close = reverse("alumni:close", args=[item.pk])
    assert (
        client.post(close, {"version": "2", "status": "declined", "note": "x"}).status_code == 409
    )


def test_closing_as_not_reached_without_an_attempt_is_a_form_error(world, login):
    add_discharged(world)
    item = world.follow_up
    client = login(world.counsellor)
    response = client.post(
        reverse("alumni:close", args=[item.pk]), {"version": "1", "status": "not_reached"}
    )
    assert response.status_code == 400
    assert "at least one attempt" in str(response.context["form"].errors)
    response = client.post(
        reverse("alumni:close", args=[item.pk]),
        {"version": "1", "status": "declined", "note": "Does not want calls"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == FollowUpStatus.DECLINED


# --- events ----------------------------------------------------------------------------------


def test_events_list_new_and_cancel(world, login):
    add_discharged(world)
    client = login(world.counsellor)
    response = client.get(reverse("alumni:events"))
    assert response.status_code == 200
    assert [e.pk for e in response.context["past"]] == [world.alumni_event.pk]
    day = (world.program.today() + dt.timedelta(days=7)).isoformat()
    payload = {
        "program": str(world.program.pk),
        "title": "Alumni barbecue",
        "day": day,
        "start": "17:00",
        "end": "19:00",
        "location": "Park",
        "description": "",
        "facilitator": str(world.counsellor.pk),
    }
    response = client.post(reverse("alumni:event_new"), {**payload, "end": "16:00"})
    assert response.status_code == 400 and "end" in response.context["form"].errors
    response = client.post(
        reverse("alumni:event_new"), {**payload, "program": str(world.other_program.pk)}
    )
    assert response.status_code == 400 and "program" in response.context["form"].errors
    response = client.post(reverse("alumni:event_new"), payload)
    assert response.status_code == 302
    event = AlumniEvent.objects.get(title="Alumni barbecue")
    assert event.starts_at.astimezone(world.program.tz).time() == dt.time(17)
    assert [e.pk for e in client.get(reverse("alumni:events")).context["upcoming"]] == [event.pk]
    response = client.post(reverse("alumni:event_cancel", args=[event.pk]), {"reason": ""})
    assert response.status_code == 400
    response = client.post(reverse("alumni:event_cancel", args=[event.pk]), {"reason": "Rain"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.cancelled


def test_attendance(world, login):
    add_discharged(world)
    event = world.alumni_event
    client = login(world.counsellor)
    page = client.get(reverse("alumni:event", args=[event.pk]))
    assert page.status_code == 200
    assert "Alumnus" in page.content.decode() and "Active" not in str(
        page.context["attendance_form"]
        .fields["attended"]
        .queryset.values_list("legal_last_name", flat=True)
    )
    url = reverse("alumni:event_attendance", args=[event.pk])
    both = [str(world.alumnus.pk), str(world.alumna.pk)]
    assert client.post(url, {"attended": both, "version": "9"}).status_code == 409
    response = client.post(url, {"attended": both, "version": "1"})
    assert response.status_code == 302
    assert AlumniAttendance.objects.filter(event=event, attended=True).count() == 2
    # Someone not an alumnus of the program: a form error.
    response = client.post(url, {"attended": [str(world.active.pk)], "version": "1"})
    assert response.status_code == 400
    response = client.post(url, {"attended": [str(world.foreign.pk)], "version": "1"})
    assert response.status_code == 400
    assert AlumniAttendance.objects.filter(event=event, attended=True).count() == 2


def test_another_programs_event_is_404(world, login):
    add_discharged(world)
    event = world.alumni_event
    assert login(world.outsider).get(reverse("alumni:event", args=[event.pk])).status_code == 404


# --- the chart section and the today board ---------------------------------------------------


def test_the_chart_shows_the_follow_ups_and_events(world, login):
    add_discharged(world)
    services.record_attendance(
        world.alumni_event,
        [world.alumnus],
        actor=world.counsellor,
        eligible=services.eligible_alumni(world.alumni_event),
    )
    html = (
        login(world.counsellor)
        .get(reverse("participants:chart", args=[world.alumnus.pk]))
        .content.decode()
    )
    assert "data-chart-follow-ups" in html
    assert "365-day" in html
    assert "Alumni night" in html


def test_the_today_board_counts_calls_due(world, login):
    add_discharged(world)
    html = login(world.counsellor).get(reverse("core:today")).content.decode()
    assert "Follow-up calls due" in html
    assert "<strong>2</strong> follow-up calls due" in html
