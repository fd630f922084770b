"""The demo's year of discharges (issue 10, point 6): every discharge reason, aftercare
plans given, TEDS items (a few missing, for the state-reporting page to show), follow-up
calls reached and not reached with some still to do, alumni evenings with attendance,
and a dashboard whose figures tell a plausible story."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from openiop.demo import builder

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def test_the_demo_has_a_year_of_discharges_aftercare_follow_ups_and_events():
    from openiop.alumni.models import AlumniAttendance, AlumniEvent, FollowUp
    from openiop.discharge.choices import DischargeReason
    from openiop.discharge.models import AftercarePlan, Discharge, DischargeSummary
    from openiop.intake.models import TedsAdmission
    from openiop.outcomes import metrics, queries
    from openiop.participants.models import Episode
    from openiop.programs.models import Program

    builder.build(today=DAY)
    reasons = Counter(Discharge.objects.values_list("reason", flat=True))
    assert set(reasons) == set(DischargeReason.values)
    # Every discharged episode has its discharge record (none "not recorded").
    closed = Episode.objects.filter(discharge_date__isnull=False)
    assert closed.count() == Discharge.objects.count() >= 40
    # Aftercare plans for the people who completed or stepped down, given to them.
    plans = AftercarePlan.objects.all()
    assert plans.count() == reasons["completed"] + reasons["step_down"]
    assert plans.filter(status="given").count() >= 4
    assert all(p.referrals.filter(voided=False).count() == 3 for p in plans)
    # Summaries: signed, but for two the demo counsellor still has to sign.
    drafts = DischargeSummary.objects.filter(status="draft")
    assert drafts.count() >= 2
    assert drafts.filter(episode__primary_counsellor__username="counsellor").count() == 2
    # TEDS items for nearly everyone: the few missing are the export's problems to show.
    admitted = Episode.objects.filter(admission_date__isnull=False).count()
    missing = admitted - TedsAdmission.objects.count()
    assert 3 <= missing <= 25
    # Follow-ups: reached, not reached, and due ones left on the worklist.
    statuses = Counter(FollowUp.objects.filter(due_date__lte=DAY).values_list("status", flat=True))
    assert statuses["reached"] > statuses["not_reached"] > 0
    assert FollowUp.objects.filter(status="pending", due_date__lte=DAY).exists()
    # Nobody is called about a person who died.
    assert not FollowUp.objects.filter(discharge__reason="died").exists()
    # Alumni evenings: past ones with attendance, two coming up.
    assert AlumniEvent.objects.filter(starts_at__date__gt=DAY).count() == 2
    assert AlumniAttendance.objects.filter(attended=True).count() >= 5

    # The figures the dashboard shows for the past year tell a story: a bit over half
    # complete, early leaving shows on the retention curve, most people reached at 30 days
    # are not using.
    f = queries.Filters(
        program=Program.objects.get(is_demo=True),
        first=DAY - dt.timedelta(days=365),
        last=DAY,
        today=DAY,
    )
    episodes = queries.episode_rows(f)
    discharged = metrics.discharged_in(episodes, f.first, f.last)
    rate = metrics.completion(discharged).value
    assert rate is not None and 0.35 <= rate <= 0.7
    curve = metrics.retention(episodes, f.first, f.end)
    s30, s60 = curve.survival_at(30), curve.survival_at(60)
    assert s30 is not None and s60 is not None and 1 > s30 > s60
    outcomes = metrics.follow_up_outcomes(queries.follow_up_rows(f))
    assert outcomes.reach.den >= 20 and outcomes.no_use.value is not None
    assert outcomes.no_use.value > 0.4
