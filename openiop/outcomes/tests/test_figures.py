"""Every dashboard figure on a small fixed data set worked out by hand (acceptance 2),
through `queries` against the database and through the pure functions of `metrics`.

The program "Outcomes IOP" (tracks Morning = M, Evening = E); range 1 Jan – 31 Mar 2026.

    episode  admitted     discharged   reason           track  source
    A        2025-12-01   2026-01-10   completed        M      self
    B        2026-01-05   2026-02-04   against advice   M      court
    C        2026-01-05   2026-03-06   completed        E      self
    D        2026-01-12   —            (in care)        E      court
    E        2026-02-02   2026-02-12   not recorded     M      self
    F        2026-03-02   2026-03-16   administrative   E      self
    G        2025-10-01   2025-12-15   completed        M      self   (not in care in range)
    H        2026-04-10   —            (in care)        M      self   (admitted after it)
"""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.outcomes import metrics as m
from openiop.outcomes import queries
from openiop.outcomes.km import kaplan_meier
from openiop.outcomes.report import load
from openiop.testing import (
    add_outcome_attendance,
    add_outcome_episode,
    add_outcome_follow_up,
    add_outcome_score,
    add_outcome_screen,
    add_outcome_session,
    make_program,
    make_user,
)

D = dt.date
FIRST, LAST, TODAY = D(2026, 1, 1), D(2026, 3, 31), D(2026, 6, 30)


@pytest.fixture
def data(db):
    program = make_program("Outcomes IOP")
    actor = make_user("maker", ["director"], [program])
    ep = {}
    for key, admitted, discharged, reason, track, source in [
        ("A", D(2025, 12, 1), D(2026, 1, 10), "completed", "Morning", "self"),
        ("B", D(2026, 1, 5), D(2026, 2, 4), "against_advice", "Morning", "court"),
        ("C", D(2026, 1, 5), D(2026, 3, 6), "completed", "Evening", "self"),
        ("D", D(2026, 1, 12), None, None, "Evening", "court"),
        ("E", D(2026, 2, 2), D(2026, 2, 12), None, "Morning", "self"),
        ("F", D(2026, 3, 2), D(2026, 3, 16), "administrative", "Evening", "self"),
        ("G", D(2025, 10, 1), D(2025, 12, 15), "completed", "Morning", "self"),
        ("H", D(2026, 4, 10), None, None, "Morning", "self"),
    ]:
        ep[key] = add_outcome_episode(
            program,
            actor,
            last=f"Person{key}",
            admitted=admitted,
            discharged=discharged,
            reason=reason,
            track_name=track,
            source=source,
        )
    # Attendance. S3 is cancelled, S4 after the range.
    s1 = add_outcome_session(program, D(2026, 1, 6))
    s2 = add_outcome_session(program, D(2026, 1, 7))
    s3 = add_outcome_session(program, D(2026, 1, 8), cancelled=True)
    s4 = add_outcome_session(program, D(2026, 4, 2))
    add_outcome_attendance(s1, ep["B"], "present")  # attended
    add_outcome_attendance(s2, ep["B"], "absent_unexcused")  # missed
    add_outcome_attendance(s1, ep["C"], "late")  # attended
    add_outcome_attendance(s2, ep["C"], "absent_excused")  # excluded: excused
    add_outcome_attendance(s3, ep["C"], "present")  # excluded: session cancelled
    add_outcome_attendance(s2, ep["D"], "telehealth")  # attended
    add_outcome_attendance(s4, ep["D"], "present")  # excluded: after the range
    add_outcome_attendance(s1, ep["A"], "present", voided=True)  # excluded: voided
    # Screens.
    neg, pos = ("presumptive", "negative", "negative"), ("presumptive", "positive", "unexpected")
    add_outcome_screen(ep["B"], D(2026, 1, 20), [neg], actor=actor)  # O1 negative
    add_outcome_screen(ep["C"], D(2026, 1, 21), [pos], actor=actor)  # O2 positive
    # O3: the laboratory's definitive negative overturns the cup's positive → negative.
    add_outcome_screen(
        ep["C"], D(2026, 2, 10), [pos, ("definitive", "negative", "negative")], actor=actor
    )
    # O4: positive only for a prescribed medication → negative for this rate.
    add_outcome_screen(
        ep["D"], D(2026, 2, 11), [("presumptive", "positive", "expected")], actor=actor
    )
    # O5: only inconclusive → not resulted; O6: after the range.
    add_outcome_screen(
        ep["D"], D(2026, 2, 12), [("presumptive", "inconclusive", "inconclusive")], actor=actor
    )
    add_outcome_screen(ep["D"], D(2026, 4, 5), [pos], actor=actor)
    # Instrument scores.
    add_outcome_score(ep["A"], "PHQ-9", 20, D(2025, 12, 2))
    add_outcome_score(ep["A"], "PHQ-9", 8, D(2026, 1, 8))  # A: −12, reliable improvement
    add_outcome_score(ep["B"], "PHQ-9", 15, D(2026, 1, 6))
    add_outcome_score(ep["B"], "PHQ-9", 14, D(2026, 2, 1))  # B: −1, no reliable change
    add_outcome_score(ep["B"], "PHQ-9", 0, D(2026, 2, 3), voided=True)  # excluded
    add_outcome_score(ep["C"], "PHQ-9", 10, D(2026, 1, 6))  # one score only: excluded
    add_outcome_score(ep["D"], "PHQ-9", 20, D(2026, 1, 13))
    add_outcome_score(ep["D"], "PHQ-9", 5, D(2026, 3, 1))  # D is not discharged: excluded
    add_outcome_score(ep["E"], "GAD-7", 12, D(2026, 2, 3))
    add_outcome_score(ep["E"], "GAD-7", 6, D(2026, 2, 11))  # E: −6, reliable improvement
    # Follow-ups (due = discharge + mark).
    add_outcome_follow_up(  # due 9 Feb
        ep["A"],
        30,
        "reached",
        use_since_discharge="none",
        occupation="full_time",
        housing="stable",
        readmitted=False,
        quality_of_life=8,
    )
    add_outcome_follow_up(ep["A"], 60, "not_reached")  # due 11 Mar
    add_outcome_follow_up(ep["A"], 90, "reached", use_since_discharge="none")  # 10 Apr: out
    add_outcome_follow_up(  # due 6 Mar
        ep["B"],
        30,
        "reached",
        use_since_discharge="relapse",
        occupation="unemployed",
        housing="sober_living",
        readmitted=True,
        quality_of_life=4,
    )
    add_outcome_follow_up(ep["G"], 30, "declined")  # due 14 Jan: declined, excluded
    add_outcome_follow_up(  # due 13 Feb
        ep["G"],
        60,
        "reached",
        use_since_discharge="lapse",
        occupation="school",
        housing="declined",
    )
    add_outcome_follow_up(ep["G"], 90, "pending")  # due 15 Mar: still to do, excluded
    return program, ep


def filters(program, **kw):
    return queries.Filters(program=program, first=FIRST, last=LAST, today=TODAY, **kw)


def report(program, **kw):
    return load(filters(program, **kw), list(program.tracks.all()))


def test_episodes_in_care_in_the_range_are_loaded(data):
    program, ep = data
    rows = queries.episode_rows(filters(program))
    # G left before the range, H came after it.
    assert sorted(r.id for r in rows) == sorted(ep[k].pk for k in "ABCDEF")
    e = next(r for r in rows if r.id == ep["E"].pk)
    assert e.reason is None  # discharged without a Discharge record: not recorded


def test_census_every_monday(data):
    program, _ep = data
    r = report(program)
    # Mondays 5 Jan … 30 Mar. In care = admitted ≤ day and not discharged before it:
    #  5 Jan A B C · 12 Jan B C D (A left 10 Jan) · 19, 26 Jan B C D · 2 Feb B C D E
    #  9 Feb C D E · 16, 23 Feb C D · 2 Mar C D F · 9 Mar D F (C left 6 Mar)
    #  16 Mar D F (F discharged that day still counts) · 23, 30 Mar D
    assert [n for _d, n in r.census] == [3, 3, 3, 3, 4, 3, 2, 2, 3, 2, 2, 1, 1]
    assert r.census[0][0] == D(2026, 1, 5) and r.census[-1][0] == D(2026, 3, 30)
    # Headline: 1 in care on 30 Mar; mean weekly census 32 / 13 = 2.46.
    assert r.headline("census").rows == [(1, "2.5")]
    assert m.mondays(D(2026, 1, 6), D(2026, 1, 8)) == [D(2026, 1, 6)]


def test_admissions_and_discharges_by_reason(data):
    program, _ep = data
    r = report(program)
    assert len(r.admitted) == 5  # B C D E F (A was admitted in December)
    assert len(r.discharged) == 5  # A B C E F
    counts = {c.reason: (c.n, c.teds) for c in r.reasons}
    assert counts["completed"] == (2, 1)  # A, C; TEDS REASON 1
    assert counts["against_advice"] == (1, 2)  # B; TEDS 2 (dropped out)
    assert counts["administrative"] == (1, 3)  # F; TEDS 3 (terminated by facility)
    assert counts["not_recorded"] == (1, None)  # E
    assert counts["died"] == (0, 6)


def test_retention_curve(data):
    program, _ep = data
    km = report(program).retention
    # Cohort admitted in range (end of range 31 Mar, before today):
    #   B 30 d event (against advice) · C 60 d censored (completed) · D 78 d censored (in
    #   care 12 Jan → 31 Mar) · E 10 d event (not recorded) · F 14 d event (administrative)
    #   t=10 n=5 d=1 S=0.8 · t=14 n=4 d=1 S=0.6 · t=30 n=3 d=1 S=0.4 · t=60 n=2 c=1
    #   t=78 n=1 c=1. Median 30; S(30)=S(60)=0.4; nobody followed to 90 days.
    assert [(s.time, s.at_risk, s.events, s.censored) for s in km.steps] == [
        (10, 5, 1, 0),
        (14, 4, 1, 0),
        (30, 3, 1, 0),
        (60, 2, 0, 1),
        (78, 1, 0, 1),
    ]
    assert [round(s.survival, 10) for s in km.steps] == [0.8, 0.6, 0.4, 0.4, 0.4]
    assert km.median == 30
    assert report(program).headline("retention").rows == [(5, "40.0%", "40.0%", "—", 30)]


def test_retention_censors_at_today_when_the_range_runs_on():
    # D admitted 12 Jan, still in care; the range runs to 31 Mar but today is 1 Mar.
    rows = [m.EpisodeRow(1, D(2026, 1, 12), None, None, "self", None)]
    km = m.retention(rows, FIRST, min(LAST, D(2026, 3, 1)))
    assert [(s.time, s.censored) for s in km.steps] == [(48, 1)]


def test_length_of_stay_and_completion(data):
    program, _ep = data
    r = report(program)
    # A 40 (1 Dec → 10 Jan), B 30, C 60, E 10, F 14 → sorted 10 14 30 40 60, median 30.
    assert r.stays == [10, 14, 30, 40, 60]
    assert r.median_stay == 30
    # Completed A and C of 5 discharges.
    assert (r.completion.num, r.completion.den, r.completion.pct) == (2, 5, "40.0%")
    # By track: Morning A B E → 1 of 3; Evening C F → 1 of 2.
    by_track = {row[0]: row[1:] for row in r.breakdown("completion", "track").rows}
    assert by_track["Morning"] == ("33.3%", 1, 3)
    assert by_track["Evening"] == ("50.0%", 1, 2)
    # By source: self A C E F → 2 of 4; court B → 0 of 1.
    by_source = {row[0]: row[1:] for row in r.breakdown("completion", "source").rows}
    assert by_source["Self"] == ("50.0%", 2, 4)
    assert by_source["Court / probation"] == ("0.0%", 0, 1)
    assert by_source["Hospital"] == ("—", 0, 0)


def test_attendance_rate(data):
    program, _ep = data
    r = report(program)
    # Attended: B S1 present, C S1 late, D S2 telehealth = 3; missed: B S2 = 1.
    # Excused (C S2), the cancelled session (C S3), after the range (D S4), voided (A S1)
    # are left out. 3 / 4 = 75%.
    assert (r.attendance.num, r.attendance.den) == (3, 4)
    by_track = {row[0]: row[1:] for row in r.breakdown("attendance", "track").rows}
    assert by_track["Morning"] == ("50.0%", 1, 2)  # B: 1 of 2
    assert by_track["Evening"] == ("100.0%", 2, 2)  # C, D
    # Filtered to the Evening track in the database: the same 2 of 2.
    evening = program.tracks.get(name="Evening")
    assert m.attendance(queries.attendance_rows(filters(program, track=evening))) == m.Rate(2, 2)


def test_negative_screen_rate(data):
    program, _ep = data
    r = report(program)
    # Resulted: O1 (neg), O2 (unexpected), O3 (cup positive, lab negative → neg), O4
    # (expected medication → neg). O5 only inconclusive, O6 after the range. 3 / 4.
    assert (r.screens.num, r.screens.den, r.screens.pct) == (3, 4, "75.0%")
    by_track = {row[0]: row[1:] for row in r.breakdown("screens", "track").rows}
    assert by_track["Morning"] == ("100.0%", 1, 1)  # O1
    assert by_track["Evening"] == ("66.7%", 2, 3)  # O2 O3 O4
    court = m.screens(queries.screen_rows(filters(program, source="court")))
    assert court == m.Rate(2, 2)  # B's O1, D's O4


def test_instrument_change(data):
    program, _ep = data
    r = report(program)
    # Discharged in range with 2+ scores: A PHQ-9 20 → 8 (−12), B PHQ-9 15 → 14 (−1; the
    # voided 0 is left out), E GAD-7 12 → 6 (−6). C has one score; D is not discharged.
    # PHQ-9: SD 5.5, r 0.89 → reliable beyond ±5.06 points: A improved, B not.
    # GAD-7: SD 4.5, r 0.92 → S_diff 1.8, beyond ±3.53: E improved.
    items = {i.code: i for i in r.instruments}
    assert set(items) == {"PHQ-9", "GAD-7"}
    phq = items["PHQ-9"]
    assert (phq.n, phq.mean_change, phq.improvement) == (2, -6.5, m.Rate(1, 2))
    gad = items["GAD-7"]
    assert (gad.n, gad.mean_change, gad.improvement) == (1, -6.0, m.Rate(1, 1))
    assert r.headline("instruments").rows == [(3, "66.7% (2 of 3)")]
    by_track = {row[0]: row[1:] for row in r.breakdown("instruments", "track").rows}
    assert by_track["Morning"] == (3, "66.7% (2 of 3)")  # A, B, E are all Morning
    assert by_track["Evening"] == (0, "— (0 of 0)")


def test_follow_up_outcomes(data):
    program, _ep = data
    r = report(program)
    fu = r.follow_ups
    # Closed and due in range: A30 reached, A60 not reached, B30 reached, G60 reached.
    # (A90 is due 10 Apr, G30 declined, G90 pending: left out.)
    assert fu.reach == m.Rate(3, 4)
    assert fu.no_use == m.Rate(1, 3)  # A none; B relapse, G lapse
    assert fu.working == m.Rate(2, 3)  # A full-time, G school; B unemployed
    assert fu.housed == m.Rate(2, 2)  # A stable, B sober living; G declined: no answer
    assert fu.back_in_treatment == m.Rate(1, 2)  # B yes, A no; G not asked
    assert (fu.quality_of_life, fu.quality_n) == (6.0, 2)  # (8 + 4) / 2
    marks = dict(r.follow_ups_by_mark)
    assert marks[30].reach == m.Rate(2, 2) and marks[30].no_use == m.Rate(1, 2)
    assert marks[60].reach == m.Rate(1, 2)
    assert marks[90].reach == m.Rate(0, 0)
    by_source = {row[0]: row[1] for row in r.breakdown("follow_ups", "source").rows}
    assert by_source["Self"] == "66.7% (n=3)"  # A30, A60, G60: 2 of 3
    assert by_source["Court / probation"] == "100.0% (n=1)"  # B30


def test_every_figure_has_a_table_and_breakdowns(data):
    program, _ep = data
    r = report(program)
    for key in ("census", "admissions", "retention", "length_of_stay", "completion"):
        assert r.table(key).rows
    for key in (
        "attendance",
        "screens",
        "instruments",
        "follow_ups",
    ):
        assert r.table(key).header
        for by in ("track", "source"):
            table = r.breakdown(key, by)
            assert all(len(row) == len(table.header) for row in table.rows)


def test_pure_functions_directly():
    a = m.EpisodeRow(1, D(2026, 1, 1), D(2026, 1, 11), 7, "self", "completed")
    b = m.EpisodeRow(2, D(2026, 1, 5), None, 7, "court", None)
    assert m.in_care_on([a, b], D(2026, 1, 11)) == 2
    assert m.in_care_on([a, b], D(2026, 1, 12)) == 1
    assert m.completion([a]) == m.Rate(1, 1)
    assert m.lengths_of_stay([a]) == [10]
    rows = [m.CountRow(None, "self", "attended", 3), m.CountRow(1, "self", "missed", 1)]
    assert m.attendance(rows) == m.Rate(3, 4)
    assert m.Rate(0, 0).pct == "—" and str(m.Rate(1, 3)) == "33.3% (n=3)"
    assert m.median([]) is None and m.median([1, 2]) == 1.5
    assert kaplan_meier([1], [True]).median == 1
