"""Speed and memory of the course, measured: prints a table and writes benchmarks/results.json.

    python benchmarks/run.py            # everything (a few minutes on a 2-core machine)
    python benchmarks/run.py --quick    # fewer repetitions, no notebooks (a smoke run)
    python benchmarks/run.py --capture  # only gradient_profile and GradientMonitor overheads

Figures that are compared (capture vs bare, monitor vs plain training) are timed
alternately in one loop, so that machine noise affects both sides alike. Latencies are
given as wall time and as the thread's CPU time: on a busy machine the wall time also
counts the time other processes held the CPU, the CPU time does not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import dashboard  # noqa: E402
from helpers.capture import GradientMonitor, capture_pass, gradient_profile  # noqa: E402
from helpers.data import spirals  # noqa: E402
from helpers.models import MLPConfig, build_mlp  # noqa: E402
from helpers.notebook import retain_freed_memory  # noqa: E402
from helpers.widgets.gradient_flow import make_gradient_flow_explorer  # noqa: E402

TARGETS = {
    "explorer_depth50_median_ms": ("<", 50.0),
    "capture_only_ratio_depth50": ("<", 1.2),
    "monitor_ratio": ("<", 1.5),
    "monitor_every10_ratio": ("<", 1.1),
    "monitor_gpt2_ratio": ("<", 1.5),
    "monitor_gpt2_every10_ratio": ("<", 1.1),
    "notebook_max_seconds": ("<", 30.0),
    "course_total_seconds": ("<", 180.0),
    "notebook_max_peak_rss_mb": ("<", 1500.0),
    "leak_rss_growth_mb": ("<", 20.0),
    "dashboard_slowdown_ratio": ("<", 1.1),
    "dashboard_stop_max_s": ("<", 1.0),
    "lesson08_seconds": ("<", 60.0),
}


def pct(values, q):
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def explorer_round_trip(depth: int, dtype: str, changes: int) -> dict:
    """Kernel time from setting a control to the FigureWidget holding the new data."""
    ex = make_gradient_flow_explorer(depth=depth, width=64, dtype=dtype)  # batch 256 spirals
    times, cpu = [], []
    for i in range(changes + 3):
        before = ex.figure.data[0].y
        start, start_cpu = time.perf_counter(), time.thread_time()
        ex.seed.value = (i % 7) + 1 if ex.seed.value != (i % 7) + 1 else 0
        elapsed, elapsed_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
        if ex.error is not None:
            raise RuntimeError(f"explorer update failed: {ex.error!r}")
        if np.array_equal(np.asarray(before, float), np.asarray(ex.figure.data[0].y, float)):
            raise RuntimeError("the explorer's chart did not change")
        if i >= 3:  # the first updates warm caches up
            times.append(elapsed)
            cpu.append(elapsed_cpu)
    return {"median_ms": pct(times, 50), "p95_ms": pct(times, 95), "cpu_median_ms": pct(cpu, 50),
            "cpu_p95_ms": pct(cpu, 95), "changes": len(times)}


def _bare(model, X, y):
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(X), y).backward()


def capture_overhead(depth: int, reps: int) -> dict:
    """gradient_profile time / bare forward+backward time, timed alternately.

    Also its capture half alone (``capture_pass``: the forward pass keeping every layer's
    tensors and the backward pass to weights and activations), so that the report says
    how much of the ratio the statistics are.
    """
    X, y = spirals(256, noise=0.1, seed=0)
    model = build_mlp(MLPConfig(depth=depth, width=64, activation="tanh"))
    times: dict = {k: ([], []) for k in ("bare", "profile", "capture")}
    steps = {"bare": lambda: _bare(model, X, y),
             "profile": lambda: gradient_profile(model, X, y),
             "capture": lambda: capture_pass(model, X, y)}
    for i in range(reps + 3):
        for name, step in steps.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            step()
            t1, c1 = time.perf_counter(), time.thread_time()
            if i >= 3:
                times[name][0].append(t1 - t0)
                times[name][1].append(c1 - c0)
    wall = {k: statistics.median(v[0]) for k, v in times.items()}
    cpu = {k: statistics.median(v[1]) for k, v in times.items()}
    return {"bare_ms": 1000 * wall["bare"], "profile_ms": 1000 * wall["profile"],
            "capture_ms": 1000 * wall["capture"],
            "ratio": wall["profile"] / wall["bare"], "cpu_ratio": cpu["profile"] / cpu["bare"],
            "capture_only_ratio": wall["capture"] / wall["bare"],
            "capture_only_cpu_ratio": cpu["capture"] / cpu["bare"]}


def _mlp_task():
    X, y = spirals(256, noise=0.1, seed=0)
    X, y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)

    def make():
        return build_mlp(MLPConfig(depth=20, width=64, activation="relu", init="he"))

    return make, lambda m: F.cross_entropy(m(X), y)


def _gpt2_task():
    """A tiny GPT-2 built from a config (no download), or None without ``transformers``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import transformers
    except ImportError:
        return None
    transformers.logging.set_verbosity_error()
    cfg = transformers.GPT2Config(vocab_size=256, n_positions=32, n_embd=64, n_layer=4,
                                  n_head=4, bos_token_id=0, eos_token_id=0)
    ids = torch.randint(0, 256, (8, 32), generator=torch.Generator().manual_seed(0))

    def make():
        torch.manual_seed(0)
        return transformers.GPT2LMHeadModel(cfg)

    return make, lambda m: m(input_ids=ids, labels=ids).loss


def monitor_overhead(steps: int, rounds: int, task=None) -> dict:
    """Training under GradientMonitor (every step, and every 10th) vs the same without it.

    Three copies of one model train side by side, one step each in turn, so that machine
    noise affects all three alike; the ratios are of the summed step times (the cost of
    ``every=10`` falls on one step in ten), the median over ``rounds``.
    """
    make, loss_fn = task or _mlp_task()
    ratios: dict = {"every1": [], "every10": []}
    totals: dict = {"plain": [], "every1": [], "every10": []}
    for _ in range(rounds):
        models = {k: make() for k in totals}
        opts = {k: torch.optim.SGD(m.parameters(), lr=0.01) for k, m in models.items()}
        monitors = {"every1": GradientMonitor(models["every1"]),
                    "every10": GradientMonitor(models["every10"], every=10)}
        spent = dict.fromkeys(totals, 0.0)
        for mon in monitors.values():
            mon.__enter__()
        try:
            for step in range(steps + 2):
                for k, model in models.items():
                    t0 = time.perf_counter()
                    opts[k].zero_grad()
                    loss_fn(model).backward()
                    opts[k].step()
                    if step >= 2:  # the first steps warm caches up
                        spent[k] += time.perf_counter() - t0
        finally:
            for mon in monitors.values():
                mon.__exit__(None, None, None)
        for k in totals:
            totals[k].append(spent[k])
        for k in ratios:
            ratios[k].append(spent[k] / spent["plain"])
    return {"plain_s": statistics.median(totals["plain"]),
            "monitored_s": statistics.median(totals["every1"]),
            "every10_s": statistics.median(totals["every10"]),
            "ratio": statistics.median(ratios["every1"]),
            "ratio_every10": statistics.median(ratios["every10"]), "steps": steps}


def lower_bound(depth: int, reps: int) -> dict:
    """Bare forward+backward and the machine's matmul throughput at the same sizes."""
    X, y = spirals(256, noise=0.1, seed=0)
    model = build_mlp(MLPConfig(depth=depth, width=64, activation="tanh"))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        _bare(model, X, y)
        times.append(time.perf_counter() - t0)
    # forward 2*B*in*out flops per Linear, backward twice that
    flops = sum(6 * 256 * m.in_features * m.out_features
                for m in model.modules() if isinstance(m, torch.nn.Linear))
    a, b = torch.randn(256, 64), torch.randn(64, 64)
    big_a, big_b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    # the explorer's default network: sigmoid, float64
    explorer_model = build_mlp(MLPConfig(depth=depth, width=64, activation="sigmoid",
                                         dtype="float64"))
    X64 = X.double()
    explorer_times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        _bare(explorer_model, X64, y)
        explorer_times.append(time.perf_counter() - t0)
    small = _time(lambda: a @ b, 2000)
    large = _time(lambda: big_a @ big_b, 20)
    return {
        "fwd_bwd_ms": pct(times, 50), "fwd_bwd_gflops": flops / statistics.median(times) / 1e9,
        "fwd_bwd_sigmoid_float64_ms": pct(explorer_times, 50),
        "matmul_256x64x64_gflops": 2 * 256 * 64 * 64 / small / 1e9,
        "matmul_1024_gflops": 2 * 1024**3 / large / 1e9,
    }


def _time(fn, n: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def _peak_children_rss(stop: threading.Event, out: list) -> None:
    me = psutil.Process()
    peak = 0
    while not stop.is_set():
        try:
            rss = sum(c.memory_info().rss for c in me.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        stop.wait(0.05)
    out.append(peak)


def run_notebook(path: Path) -> dict:
    """Execute one lesson headless (solutions unfilled): wall time, peak kernel RSS, errors."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    stop, peak = threading.Event(), []
    watcher = threading.Thread(target=_peak_children_rss, args=(stop, peak), daemon=True)
    watcher.start()
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   store_widget_state=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    errors = sum(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    return {"notebook": path.name, "seconds": seconds, "peak_rss_mb": peak[0] / 2**20,
            "error_outputs": errors}


def notebooks() -> list[dict]:
    """Wall time and peak kernel RSS of executing each lesson headless (solutions unfilled)."""
    return [run_notebook(path)
            for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def leak_check(total: int, early: int) -> dict:
    """RSS after ``early`` explorer updates vs after ``total`` (same process)."""
    ex = make_gradient_flow_explorer(depth=20, width=64)
    proc = psutil.Process()
    rss_early = None
    for i in range(total):
        ex.seed.value = i % 50
        if i + 1 == early:
            gc.collect()
            rss_early = proc.memory_info().rss
    gc.collect()
    rss_end = proc.memory_info().rss
    return {"updates": total, "rss_after_early_mb": rss_early / 2**20,
            "rss_after_all_mb": rss_end / 2**20, "growth_mb": (rss_end - rss_early) / 2**20,
            "early": early}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions, no notebooks")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--capture", action="store_true",
                        help="only the gradient_profile and GradientMonitor overheads")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # what helpers.notebook.setup() does in every lesson
    retained = retain_freed_memory()  # what every lesson's setup() does
    quick = args.quick
    changes = 5 if quick else 40
    results: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "platform": platform.platform(),
                    "freed_memory_retained": retained,
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
    }
    if args.capture:
        return capture_report(results, quick)
    results["explorer"] = {
        f"depth{d}_{dtype}": explorer_round_trip(d, dtype, changes)
        for d in (10, 50, 100) for dtype in ("float32", "float64")
    }
    results["capture"] = {f"depth{d}": capture_overhead(d, 5 if quick else 40) for d in (10, 50)}
    results["monitor"] = monitor_overhead(10 if quick else 100, 1 if quick else 3)
    gpt2 = _gpt2_task()
    if gpt2 is not None:
        results["monitor_gpt2"] = monitor_overhead(10 if quick else 50, 1 if quick else 3, gpt2)
    results["lower_bound"] = lower_bound(50, 5 if quick else 40)
    if not (quick or args.skip_notebooks):
        results["notebooks"] = notebooks()
    results["leak"] = leak_check(120 if quick else 2000, 20 if quick else 100)
    results["dashboard"] = dashboard.run(quick, notebook=not args.skip_notebooks)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    lb = results["lower_bound"]
    summary = {
        "explorer_depth50_median_ms": results["explorer"]["depth50_float64"]["median_ms"],
        "explorer_depth50_cpu_median_ms": results["explorer"]["depth50_float64"]["cpu_median_ms"],
        # how far from the limit: the round trip over a bare forward+backward of the same
        # network (sigmoid, float64), and the bare pass's arithmetic rate over the machine's
        # matmul rate at the same sizes
        "explorer_depth50_vs_bare_fwd_bwd": results["explorer"]["depth50_float64"]["median_ms"]
        / lb["fwd_bwd_sigmoid_float64_ms"],
        "fwd_bwd_fraction_of_matmul_rate": lb["fwd_bwd_gflops"] / lb["matmul_256x64x64_gflops"],
        "capture_ratio_depth50": results["capture"]["depth50"]["ratio"],
        "capture_only_ratio_depth50": results["capture"]["depth50"]["capture_only_ratio"],
        # what the statistics add to the capture, in bare passes (reported, no target)
        "statistics_cost_depth50": results["capture"]["depth50"]["ratio"]
        - results["capture"]["depth50"]["capture_only_ratio"],
        "monitor_ratio": results["monitor"]["ratio"],
        "monitor_every10_ratio": results["monitor"]["ratio_every10"],
        "leak_rss_growth_mb": results["leak"]["growth_mb"],
        "dashboard_slowdown_ratio": results["dashboard"]["slowdown"]["ratio"],
        "dashboard_stop_max_s": results["dashboard"]["stop"]["max_s"],
    }
    if "monitor_gpt2" in results:
        summary["monitor_gpt2_ratio"] = results["monitor_gpt2"]["ratio"]
        summary["monitor_gpt2_every10_ratio"] = results["monitor_gpt2"]["ratio_every10"]
    if "lesson08" in results["dashboard"]:
        summary["lesson08_seconds"] = results["dashboard"]["lesson08"]["seconds"]
    if "notebooks" in results:
        nbs = results["notebooks"]
        summary["notebook_max_seconds"] = max(r["seconds"] for r in nbs)
        summary["course_total_seconds"] = sum(r["seconds"] for r in nbs)
        summary["notebook_max_peak_rss_mb"] = max(r["peak_rss_mb"] for r in nbs)
    results["summary"] = summary
    results["targets"] = {
        k: {"value": summary[k], "target": f"{op} {bound:g}",
            "met": summary[k] < bound if op == "<" else summary[k] > bound}
        for k, (op, bound) in TARGETS.items() if k in summary
    }
    print_table(results)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {args.out}")
    return results


def capture_report(results: dict, quick: bool) -> dict:
    """``--capture``: the capture and monitor figures alone, printed with their targets."""
    results["capture"] = {"depth50": capture_overhead(50, 5 if quick else 40)}
    results["monitor"] = monitor_overhead(10 if quick else 100, 1 if quick else 3)
    gpt2 = _gpt2_task()
    if gpt2 is not None:
        results["monitor_gpt2"] = monitor_overhead(10 if quick else 50, 1 if quick else 3, gpt2)
    c = results["capture"]["depth50"]
    print(f"capture half x{c['capture_only_ratio']:.2f} (target < 1.2), statistics add "
          f"x{c['ratio'] - c['capture_only_ratio']:.2f} (gradient_profile x{c['ratio']:.2f})")
    for key in ("monitor", "monitor_gpt2"):
        if key in results:
            m = results[key]
            print(f"{key}: every step x{m['ratio']:.2f} (target < 1.5), every 10th step "
                  f"x{m['ratio_every10']:.2f} (target < 1.1)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return results


def print_table(r: dict) -> None:
    m = r["machine"]
    print(f"Benchmarks, {r['date']}, {m['cpus']} CPUs, torch {m['torch']}, load average "
          f"{m['load_average_at_start'][0]:.1f} at start, "
          f"{m.get('load_average_at_end', [float('nan')])[0]:.1f} at end")
    print("\nExplorer round trip (set a control -> new trace data), width 64, batch 256")
    print(f"  {'config':<18}{'median ms':>10}{'p95 ms':>10}{'CPU median':>12}{'CPU p95':>10}")
    for k, v in r["explorer"].items():
        print(f"  {k:<18}{v['median_ms']:>10.1f}{v['p95_ms']:>10.1f}"
              f"{v['cpu_median_ms']:>12.1f}{v['cpu_p95_ms']:>10.1f}")
    print("\nCapture overhead (timed alternately)")
    for k, v in r["capture"].items():
        print(f"  gradient_profile {k}: capture half (capture_pass) {v['capture_ms']:.1f} ms "
              f"vs bare fwd+bwd {v['bare_ms']:.1f} ms -> x{v['capture_only_ratio']:.2f} "
              f"(CPU x{v['capture_only_cpu_ratio']:.2f}); with all statistics "
              f"{v['profile_ms']:.1f} ms -> x{v['ratio']:.2f} (CPU x{v['cpu_ratio']:.2f})")
    for key, label in (("monitor", "MLP depth 20, width 64"), ("monitor_gpt2", "tiny GPT-2")):
        if key in r:
            m = r[key]
            print(f"  GradientMonitor, {label}, {m['steps']} training steps: every step "
                  f"x{m['ratio']:.2f}, every 10th step x{m['ratio_every10']:.2f} "
                  f"(plain {m['plain_s']:.2f} s)")
    lb = r["lower_bound"]
    print("\nLower bound (depth 50, width 64, batch 256)")
    print(f"  bare fwd+bwd (tanh, float32) {lb['fwd_bwd_ms']:.1f} ms = "
          f"{lb['fwd_bwd_gflops']:.2f} GFLOP/s; (sigmoid, float64) "
          f"{lb['fwd_bwd_sigmoid_float64_ms']:.1f} ms; "
          f"matmul 256x64x64 {lb['matmul_256x64x64_gflops']:.1f} GFLOP/s, "
          f"1024^3 {lb['matmul_1024_gflops']:.1f} GFLOP/s")
    s = r["summary"]
    print(f"  the bare pass runs at {100 * s['fwd_bwd_fraction_of_matmul_rate']:.0f}% of the "
          f"matmul rate at its sizes; the depth-50 explorer round trip takes "
          f"{s['explorer_depth50_vs_bare_fwd_bwd']:.1f}x the bare pass of its network")
    if "notebooks" in r:
        print("\nNotebooks (headless, unsolved)")
        for row in r["notebooks"]:
            print(f"  {row['notebook']:<40}{row['seconds']:>7.1f} s{row['peak_rss_mb']:>8.0f} MB")
    lk = r["leak"]
    print(f"\nLeak check: RSS {lk['rss_after_early_mb']:.0f} MB after {lk['early']} explorer "
          f"updates, {lk['rss_after_all_mb']:.0f} MB after {lk['updates']} "
          f"(+{lk['growth_mb']:.1f} MB)")
    if "dashboard" in r:
        dashboard.print_report(r["dashboard"])
    print("\nTargets")
    for k, t in r["targets"].items():
        print(f"  {k:<28}{t['value']:>10.2f}  target {t['target']:<8} "
              f"{'met' if t['met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
