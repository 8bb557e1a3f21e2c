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
    assert 0 <= r["cpu_median_ms"] <= r["cpu_p95_ms"]
    # the thread's CPU time cannot exceed the wall time it was measured in (+ clock grain)
    assert r["cpu_median_ms"] <= r["p95_ms"] + 1.0


def test_capture_and_monitor_ratios_are_positive(bench):
    c = bench.capture_overhead(depth=3, reps=2)
    assert c["ratio"] > 0 and c["bare_ms"] > 0 and c["capture_only_ratio"] > 0
    # each reported ratio is the quotient of the reported times (not some other pair)
    assert c["ratio"] == pytest.approx(c["profile_ms"] / c["bare_ms"], rel=1e-12)
    assert c["capture_only_ratio"] == pytest.approx(c["capture_ms"] / c["bare_ms"], rel=1e-12)
    assert c["cpu_ratio"] > 0 and c["capture_only_cpu_ratio"] > 0
    m = bench.monitor_overhead(steps=2, rounds=1)
    assert m["ratio"] > 0 and m["ratio_every10"] > 0 and m["steps"] == 2
    gpt2 = bench._gpt2_task()
    if gpt2 is not None:
        g = bench.monitor_overhead(steps=2, rounds=1, task=gpt2)
        assert g["ratio"] > 0 and g["ratio_every10"] > 0
    assert m["ratio"] == pytest.approx(m["monitored_s"] / m["plain_s"], rel=1e-12)


def test_lower_bound_and_leak_check(bench):
    lb = bench.lower_bound(depth=3, reps=2)
    assert lb["fwd_bwd_gflops"] > 0 and lb["matmul_1024_gflops"] > 0
    leak = bench.leak_check(total=6, early=2)
    assert leak["updates"] == 6 and leak["rss_after_all_mb"] > 0
    assert leak["growth_mb"] == pytest.approx(
        leak["rss_after_all_mb"] - leak["rss_after_early_mb"], abs=1e-9)
    # FLOP count of a depth-3 width-64 MLP on 2-d spirals (2->64, 64->64 twice, 64->2), batch
    # 256, forward 2*B*in*out and backward twice that: the GFLOP/s figure is flops / time.
    flops = 6 * 256 * (2 * 64 + 2 * 64 * 64 + 64 * 2)
    assert lb["fwd_bwd_gflops"] * lb["fwd_bwd_ms"] / 1000 == pytest.approx(flops / 1e9, rel=1e-9)


def test_dashboard_benchmark_reports_ratio_and_stop_latency(bench):
    from benchmarks import dashboard

    s = dashboard.slowdown(steps=10, rounds=1)
    assert s["ratio"] > 0 and s["plain_steps_per_s"] > 0 and s["dashboard_steps_per_s"] > 0
    # the slowdown is plain speed over dashboard speed (not some other pair)
    assert s["ratio"] == pytest.approx(s["plain_steps_per_s"] / s["dashboard_steps_per_s"],
                                       rel=1e-12)
    st = dashboard.stop_latency(trials=1)
    assert st["trials"] == 1 and 0 < st["median_s"] <= st["max_s"]
