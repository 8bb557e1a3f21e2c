"""The benchmark script keeps working (tiny sizes; no timing is asserted here)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_explorer_round_trip_reports_changes(bench):
    r = bench.explorer_round_trip(depth=3, dtype="float32", changes=2)
    assert r["changes"] == 2 and 0 < r["median_ms"] <= r["p95_ms"]


def test_capture_and_monitor_ratios_are_positive(bench):
    c = bench.capture_overhead(depth=3, reps=2)
    assert c["ratio"] > 0 and c["bare_ms"] > 0 and c["capture_only_ratio"] > 0
    m = bench.monitor_overhead(steps=2, rounds=1)
    assert m["ratio"] > 0 and m["steps"] == 2


def test_lower_bound_and_leak_check(bench):
    lb = bench.lower_bound(depth=3, reps=2)
    assert lb["fwd_bwd_gflops"] > 0 and lb["matmul_1024_gflops"] > 0
    leak = bench.leak_check(total=6, early=2)
    assert leak["updates"] == 6 and leak["rss_after_all_mb"] > 0


def test_dashboard_benchmark_reports_ratio_and_stop_latency(bench):
    from benchmarks import dashboard

    s = dashboard.slowdown(steps=10, rounds=1)
    assert s["ratio"] > 0 and s["plain_steps_per_s"] > 0 and s["dashboard_steps_per_s"] > 0
    st = dashboard.stop_latency(trials=1)
    assert st["trials"] == 1 and 0 < st["median_s"] <= st["max_s"]
