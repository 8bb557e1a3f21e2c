"""The training dashboard's cost: steps/s with and without it, Stop latency, lesson 8 headless.

    python benchmarks/dashboard.py [--quick]     # or as part of benchmarks/run.py

Runs with and without the dashboard are timed alternately (same network, data and steps), so
that machine noise affects both alike. Without a browser attached the widgets' messages are
not serialised to a front end: the ratio covers the kernel side of each redraw (progress,
decision grid, figure update), not the transport.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LESSON = ROOT / "notebooks" / "08_training_deep_networks.ipynb"
SETTINGS = dict(data="spirals", depth=20, width=64, activation="relu", init="he",
                optimizer="adam", lr=0.01)


def _plain_run(steps: int) -> float:
    """Steps/s of ``train`` alone with the dashboard's settings (records, test evaluation)."""
    from helpers.models import MLPConfig, build_mlp
    from helpers.topics.training import lesson_split
    from helpers.training import train
    from helpers.widgets.training import RECORD_EVERY

    split = lesson_split("spirals")
    config = MLPConfig(depth=20, width=64, activation="relu", init="he",
                       in_features=split.in_features, out_features=split.classes)
    model = build_mlp(config)
    start = time.perf_counter()
    train(model, split.X_train, split.y_train, steps=steps, lr=0.01, record_every=RECORD_EVERY,
          eval_data=(split.X_test, split.y_test), callback=lambda h: False)
    return steps / (time.perf_counter() - start)


def _dashboard_run(dash, steps: int) -> tuple[float, int]:
    dash.steps.value = steps
    draws = dash.draws
    start = time.perf_counter()
    if not dash.start():
        raise RuntimeError("the dashboard refused to start")
    dash.wait()
    elapsed = time.perf_counter() - start
    if dash.error is not None or dash.runs[-1]["status"] != "finished":
        raise RuntimeError(f"dashboard run failed: {dash.error!r} {dash.runs[-1]['status']}")
    return steps / elapsed, dash.draws - draws


def slowdown(steps: int, rounds: int) -> dict:
    """Median steps/s without and with the dashboard, timed alternately."""
    from helpers.widgets.training import make_training_dashboard

    dash = make_training_dashboard(steps=steps, **SETTINGS)
    _plain_run(10)  # warm-up both paths
    _dashboard_run(dash, 10)
    plain, live, draws = [], [], []
    for _ in range(rounds):
        plain.append(_plain_run(steps))
        rate, n = _dashboard_run(dash, steps)
        live.append(rate)
        draws.append(n / (steps / rate))
    p, d = statistics.median(plain), statistics.median(live)
    return {"steps": steps, "rounds": rounds, "plain_steps_per_s": p, "dashboard_steps_per_s": d,
            "ratio": p / d, "draws_per_s": statistics.median(draws)}


def stop_latency(trials: int) -> dict:
    """Seconds from ``stop()`` (what the Stop button calls) to the training thread's end."""
    from helpers.widgets.training import make_training_dashboard

    dash = make_training_dashboard(steps=2000, **SETTINGS)
    rng = random.Random(0)
    latencies = []
    for _ in range(trials):
        dash.start()
        time.sleep(rng.uniform(0.3, 0.8))
        start = time.perf_counter()
        dash.stop()
        dash.wait(30)
        latencies.append(time.perf_counter() - start)
        if dash.running:
            raise RuntimeError("the run did not stop within 30 s")
    latencies.sort()
    return {"trials": trials, "median_s": statistics.median(latencies),
            "max_s": latencies[-1]}


def lesson_headless() -> dict:
    """Wall time and peak kernel RSS of running lesson 8 top to bottom (unsolved)."""
    from benchmarks.run import run_notebook  # run.py imports this module at its top

    r = run_notebook(LESSON)
    return {"seconds": r["seconds"], "peak_rss_mb": r["peak_rss_mb"]}


def run(quick: bool = False, notebook: bool = True) -> dict:
    """Everything above; ``quick`` uses fewer steps and trials."""
    import torch

    torch.set_num_threads(1)
    out = {"slowdown": slowdown(60 if quick else 300, 1 if quick else 3),
           "stop": stop_latency(2 if quick else 10)}
    if notebook and not quick:
        out["lesson08"] = lesson_headless()
    return out


def print_report(r: dict) -> None:
    s, st = r["slowdown"], r["stop"]
    print(f"\nTraining dashboard (depth 20, width 64, spirals, {s['steps']} steps, "
          f"{s['rounds']} alternating rounds)")
    print(f"  train alone {s['plain_steps_per_s']:.1f} steps/s, with the dashboard "
          f"{s['dashboard_steps_per_s']:.1f} steps/s: ratio {s['ratio']:.3f} "
          f"(target <= 1.1), {s['draws_per_s']:.1f} redraws/s")
    print(f"  Stop latency over {st['trials']} stops: median {st['median_s'] * 1000:.0f} ms, "
          f"max {st['max_s'] * 1000:.0f} ms (target ~1 s)")
    if "lesson08" in r:
        n = r["lesson08"]
        print(f"  lesson 8 headless: {n['seconds']:.1f} s, peak kernel RSS "
              f"{n['peak_rss_mb']:.0f} MB (targets 60 s, 1,500 MB)")


if __name__ == "__main__":
    import os

    result = run(quick="--quick" in sys.argv)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print_report(result)
