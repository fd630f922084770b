"""Attendance rate per track (issue 5, point 6) and the directors' panel that shows it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from openiop.attendance import services
from openiop.attendance.hours import rates_by_track
from openiop.participants.choices import EpisodeStatus as S
from openiop.scheduling.models import Session
from openiop.testing import make_participant


def test_rate_per_track_counts_attended_marks_of_every_participant(world):
    program = world.program
    other = make_participant(
        program, world.intake, last="Second", status=S.ACTIVE, counsellor=world.counsellor
    )
    session = (
        Session.objects.filter(track__name="Morning", track__program=program)
        .filter(date__lt=program.today(), attendance__isnull=True)
        .order_by("-starts_at")
        .first()
    )
    services.record_attendance(
        session,
        {
            world.active.current_episode_id: services.Entry("late", 30),
            other.current_episode_id: services.Entry("absent_excused"),
        },
        actor=world.counsellor,
    )
    today = program.today()
    rows = rates_by_track([program.pk], today - dt.timedelta(weeks=4), today)
    assert [r.track_name for r in rows] == ["Morning"]
    morning = rows[0]
    # world.session: world.active present (1 of 1); this session: late (attended) and an
    # excused absence (not attended) → 2 of 3.
    assert (morning.marked, morning.attended) == (3, 2)
    assert morning.rate == Decimal("0.667")
    assert morning.rate_pct == 67
    assert morning.minutes == 180 + 150
    # Another program's tracks are not counted; an empty range has no rows.
    assert rates_by_track([world.other_program.pk], today - dt.timedelta(weeks=4), today) == []
    assert rates_by_track([program.pk], today + dt.timedelta(days=1), today + dt.timedelta(9)) == []


def test_directors_see_the_rates_on_the_board_and_counsellors_do_not(world, login):
    board = login(world.director).get(reverse("core:today")).content.decode()
    assert "Attendance by track" in board
    assert "Morning" in board
    board = login(world.counsellor).get(reverse("core:today")).content.decode()
    assert "Attendance by track" not in board


def test_billing_sees_hours_on_the_chart_but_not_check_ins_or_use(world, login):
    chart = reverse("participants:chart", args=[world.active.pk])
    page = login(world.billing).get(chart).content.decode()
    assert "sessions attended" in page  # the attendance section
    assert "Check-ins" not in page
    assert "alcohol" not in page  # the reported use of world.check_in
    assert "Reported use" not in page
    page = login(world.counsellor).get(chart).content.decode()
    assert "Check-ins" in page
    assert "alcohol" in page


def test_the_caseload_shows_hours_this_week_and_flags_last_week_below_minimum(world, login):
    from openiop.attendance.chart_sections import hours_column

    episode = world.active.current_episode
    cells = hours_column([episode])
    html = str(cells[episode.pk]["html"])
    # world.active attended only world.session in the generated fortnight: whatever the
    # weekday, last week fell short of 9 hours (at most one 3-hour session a week is
    # marked), and the cell says so in red.
    assert "/ 9.0 h</span>" in html  # this week so far, against the full minimum
    assert 'class="hours-below"' in html
    assert "last week" in html and "/ 9.0 h" in html.split("last week")[1]
    board = login(world.counsellor).get(reverse("core:today")).content.decode()
    assert "Hours this week" in board
