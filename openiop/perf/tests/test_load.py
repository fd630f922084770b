"""The lost-write proof of `make load` (issue 13, point 4), without locust or gunicorn:
given locust's log of confirmed writes and a database state, the check finds the write
that is missing, the one made twice and the one saved differently."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openiop.attendance import rules
from openiop.attendance import services as attendance
from openiop.notes import services as notes
from openiop.perf import load

A, B, C, D = (f"LW-{c * 32}" for c in "abcd")


def test_check_counts_found_missing_duplicate_and_different():
    writes = [
        {"kind": "checkin", "marker": A, "participant": 1, "user": "p"},
        {"kind": "checkin", "marker": B, "participant": 1, "user": "p"},
        {"kind": "checkin", "marker": C, "participant": 1, "user": "p"},
        {"kind": "attendance", "marker": D, "session": 5, "episode": 7, "status": "late"},
        {"kind": "checkin", "marker": A, "participant": 1, "user": "p"},  # logged twice
    ]
    ok = {"kind": "checkin", "participant": 1, "voided": False}
    rows = {
        A: [ok],
        C: [ok, ok],  # saved twice
        D: [{"kind": "attendance", "session": 5, "episode": 7, "status": "present"}],
        f"LW-{'e' * 32}": [ok],  # in the database, never confirmed to locust
    }
    checked = load.check_writes(writes, rows)
    assert vars(checked.kinds["checkin"]) == {
        "logged": 4,
        "found": 1,
        "missing": 1,
        "duplicate": 2,
        "mismatch": 0,
    }
    assert checked.kinds["attendance"].mismatch == 1
    assert checked.lost == 2 and checked.duplicates == 2 and checked.unconfirmed == 1
    assert any("status" in p for p in checked.problems)


@pytest.mark.django_db
def test_database_rows_found_by_marker(world):
    episode = world.active.current_episode
    values = rules.CheckInValues(
        mood=6, craving=1, used=False, substances="", stress=2, sleep_hours=Decimal("7")
    )
    for text in (f"fine {A}", f"fine {B}", f"again {B}"):  # B made twice
        attendance.record_check_in(episode, values, actor=world.counsellor, note=text)
    session = world.session
    attendance.record_attendance(
        session,
        {episode.pk: attendance.Entry("telehealth", note=f"Load {D}")},
        actor=world.counsellor,
    )
    # A note started and saved but never signed: a "sign" write of it is not in the database.
    note, _created = notes.start_note(
        episode, actor=world.counsellor, fmt="dap", service_date=session.date, minutes=50
    )
    notes.save_draft(
        note,
        actor=world.counsellor,
        sections={k: f"text {C}" for k in notes.section_keys("dap")},
        expected_version=note.version,
    )
    log = [
        {"kind": "checkin", "marker": A, "participant": world.active.pk},
        {"kind": "checkin", "marker": B, "participant": world.active.pk},
        {"kind": "checkin", "marker": f"LW-{'f' * 32}", "participant": world.active.pk},
        {"kind": "note", "marker": C, "participant": world.active.pk, "note": note.pk},
        {
            "kind": "attendance",
            "marker": D,
            "session": session.pk,
            "episode": episode.pk,
            "status": "telehealth",
        },
    ]
    checked = load.check_writes(log, load.rows_by_marker())
    assert vars(checked.kinds["checkin"]) == {
        "logged": 3,
        "found": 1,
        "missing": 1,
        "duplicate": 1,
        "mismatch": 0,
    }
    assert checked.kinds["attendance"].found == 1
    assert checked.kinds["note"].mismatch == 1  # there, but a draft
    assert checked.lost == 2 and checked.duplicates == 1


def test_locust_csv_and_table(tmp_path):
    path = tmp_path / "pages_stats.csv"
    path.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Requests/s,50%,95%\n"
        "GET,chart,120,0,40,2.0,40,95\n"
        ",Aggregated,300,1,35,5.1,35,120\n"
    )
    rows = load.read_stats(path)
    assert rows[-1] == {
        "name": "Aggregated",
        "method": "",
        "requests": 300,
        "failures": 1,
        "rps": 5.1,
        "p50_ms": 35.0,
        "p95_ms": 120.0,
    }
    assert "ALL" in load.table(rows) and "chart" in load.table(rows)
