"""`make bench`: the percentile, the target checks and the results' shape (issue 13)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from openiop.perf import bench


def row(db="postgresql", scale="L", page="chart", p50=5.0, p95=10.0, queries=20, bare=1.0):
    return {
        "db": db,
        "scale": scale,
        "page": page,
        "p50_ms": p50,
        "p95_ms": p95,
        "queries": queries,
        "baseline_p50_ms": bare,
    }


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 95) == 95.0
    assert bench.percentile([3.0], 95) == 3.0
    assert bench.percentile([1.0, 2.0], 50) == 1.0


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=300))
def test_percentiles_are_values_of_the_sample_and_ordered(values):
    p50, p95 = bench.percentile(values, 50), bench.percentile(values, 95)
    assert p50 in values and p95 in values
    assert min(values) <= p50 <= p95 <= max(values)
    assert sum(v <= p95 for v in values) >= 0.95 * len(values)


def test_targets_hold_for_a_good_run():
    rows = [row(scale="S"), row(scale="L"), row(scale="S", page=bench.BARE, p50=1.0)]
    assert bench.check_targets(rows, "postgresql") == []


def test_each_target_can_fail():
    small = row(scale="S", p95=10.0, queries=20)
    # p95 over 25 ms at L.
    assert any("p95 30" in m for m in bench.check_targets([small, row(p95=30.0)], "postgresql"))
    # The outcomes dashboard has 200 ms.
    outcomes = [row(scale="S", page=bench.OUTCOMES, p95=150.0), row(page=bench.OUTCOMES, p95=150.0)]
    assert bench.check_targets(outcomes, "postgresql") == []
    outcomes[1]["p95_ms"] = 201.0
    assert bench.check_targets(outcomes, "postgresql")
    # p50 more than ten times the bare view's.
    assert any("bare view" in m for m in bench.check_targets([small, row(p50=10.5)], "postgresql"))
    # Queries differ between S and L.
    assert any("queries" in m for m in bench.check_targets([small, row(queries=21)], "postgresql"))
    # p95 at L more than 1.5 times p95 at S.
    assert any("at S" in m for m in bench.check_targets([small, row(p95=15.1)], "postgresql"))
    # Only the named database is judged.
    assert bench.check_targets([small, row(p95=30.0)], "sqlite") == []


def test_the_table_has_a_line_per_row():
    rows = [row(), row(page=bench.BARE, p50=1.0, p95=1.2, queries=2)]
    lines = bench.table(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert "| postgresql | L | chart | 5.0 | 10.0 | 20 | 1.00 | 5.0 |" in lines


def test_results_are_written_with_the_issues_keys(tmp_path, monkeypatch):
    measured = [
        {**row(db="sqlite", scale="S"), "requests": 20},
        {**row(db="sqlite", scale="S", page=bench.BARE), "requests": 20},
    ]
    monkeypatch.setattr(bench, "prepare", lambda *a, **k: None)
    monkeypatch.setattr(
        bench,
        "measure",
        lambda openiop, target, requests, warmup: [r for r in measured if r["db"] == target.db],
    )
    out = tmp_path / "bench" / "results.json"
    status = bench.main(
        scales=["S"], dbs=["sqlite"], requests=20, warmup=1, rebuild=False, out=out, log=str
    )
    assert status == 0
    results = json.loads(out.read_text())
    assert [set(r) for r in results] == [
        {"db", "scale", "page", "p50_ms", "p95_ms", "queries", "baseline_p50_ms"}
    ] * 2
    assert results[0]["db"] == "sqlite" and results[0]["scale"] == "S"
