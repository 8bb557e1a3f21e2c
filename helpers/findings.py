"""The catalogue of what can go wrong with gradients: thresholds, causes, fixes, lessons.

One source of truth for ``helpers.diagnose`` (which compares its measurements with the
thresholds below and fills its findings from ``CATALOGUE``) and for lesson 10's checklist
table (``checklist_markdown``). Every threshold is a module constant with the reason for
its value next to it; none is tuned to the course's own models.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

# -- thresholds --------------------------------------------------------------------------
# Gradients across depth: log10 of (median gradient size in the first third of the weight
# layers) / (median in the last third). Glorot & Bengio (2010) ask for gradients of about
# the same size in every layer; a factor of 100 (2 orders of magnitude) means the first
# layers learn 100x slower under SGD, far outside what a healthy default-initialised net
# shows (lesson 3: well under one order at depth 10).
SPREAD_ORDERS = 2.0
MIN_DEPTH_LAYERS = 3  # fewer weight layers than this: no spread across depth to measure
# Saturated units: fraction of a layer's pre-activations where phi' < 1/10 of its maximum
# (helpers.activations saturation bounds, lesson 1). Above a quarter, a quarter of the
# layer's units pass almost no gradient (Glorot & Bengio 2010 saw sigmoid top layers at
# ~100% and training stall).
SATURATION_MAX = 0.25
# Dead units: fraction of a layer's ReLU-like units that are inactive on every example of
# the batch (lesson 4). A unit dead on the whole batch gets exactly zero gradient and does
# not come back; a quarter of a layer is a quarter of its capacity gone.
DEAD_MAX = 0.25
# Underflow: fraction of a layer's weight-gradient entries that are exactly 0 in the
# model's precision but nonzero when the same pass is run in float64. Any real fraction
# means the precision, not the model, is losing the gradient (Micikevicius et al. 2018).
UNDERFLOW_MAX = 0.01
# Update:data ratio ||W_after - W_before|| / ||W_before|| per step (lesson 3, after
# Karpathy's makemore part 3, where ~1e-3 is healthy): a median below 1e-5 barely moves the
# weights; any layer above 1e-1 rewrites a tenth of itself every step.
UPDATE_MIN = 1e-5
UPDATE_MAX = 1e-1
# Loss over the diagnostic steps (same batch): a relative decrease smaller than 1% in
# ``steps`` steps on a batch the model can fit means it is not learning.
LOSS_MIN_DECREASE = 0.01

LESSONS = {
    1: "Lesson 1: the sigmoid and its derivative",
    2: "Lesson 2: the chain rule and depth",
    3: "Lesson 3: gradients in deep networks",
    4: "Lesson 4: activation functions",
    5: "Lesson 5: initialization",
    6: "Lesson 6: normalization",
    7: "Lesson 7: residual connections",
    8: "Lesson 8: training deep networks",
    9: "Lesson 9: through time",
}


@dataclass(frozen=True)
class Finding:
    """One thing found wrong, with the numbers and the way out."""

    name: str  # a key of helpers.findings.CATALOGUE
    figure: float  # the measured value
    threshold: float  # what it was compared with
    measured: str  # what ``figure`` is
    why: str  # why that threshold (lesson or paper)
    layers: tuple[str, ...]  # layers or modules affected
    causes: tuple[str, ...]  # likely causes, most likely first
    fixes: tuple[str, ...]  # fixes in the order to try them, each naming its lesson
    when: str  # "at the current weights" or "after N training steps"

    def __str__(self) -> str:
        layers = ", ".join(self.layers[:4]) + (f" (+{len(self.layers) - 4})"
                                               if len(self.layers) > 4 else "")
        fixes = "; ".join(f"{i + 1}) {f}" for i, f in enumerate(self.fixes))
        return (f"{self.name} {self.when}: {self.measured} = {self.figure:.3g} "
                f"(threshold {self.threshold:.3g}; {self.why})\n    layers: {layers or '-'}\n"
                f"    likely causes: {'; '.join(self.causes)}\n    try, in order: {fixes}")


@dataclass(frozen=True)
class FindingSpec:
    """One row of the checklist: a symptom, how it is measured, its causes and fixes."""

    name: str  # e.g. "vanishing gradients"
    symptom: str  # what a practitioner notices
    measurement: str  # what diagnose measures
    threshold: str  # the comparison, in words (the constant's value is filled in)
    why: str  # why this threshold (lesson or paper)
    causes: tuple[str, ...]  # likely causes, most likely first
    fixes: tuple[tuple[str, int], ...]  # (fix, lesson number), in the order to try them


def _spec(name, symptom, measurement, threshold, why, causes, fixes) -> FindingSpec:
    return FindingSpec(name, symptom, measurement, threshold, why, tuple(causes), tuple(fixes))


CATALOGUE: dict[str, FindingSpec] = {s.name: s for s in [
    _spec("vanishing gradients", "early layers do not learn; loss stalls",
          "gradient, first third of the layers / last third",
          f"< 1e-{SPREAD_ORDERS:g}", "Glorot & Bengio 2010; lesson 3",
          ["saturating activation (sigmoid, tanh)", "weights initialised too small",
           "a deep plain stack without skips or normalization"],
          [("He or Xavier initialization", 5), ("a ReLU-family activation", 4),
           ("normalization layers", 6), ("residual connections", 7)]),
    _spec("exploding gradients", "loss jumps or becomes NaN",
          "gradient, first third of the layers / last third",
          f"> 1e{SPREAD_ORDERS:g}", "Pascanu et al. 2013; lesson 2",
          ["weights initialised too large", "a recurrent matrix with norm > 1",
           "BatchNorm in a very deep plain net (Yang et al. 2019)"],
          [("smaller, variance-preserving initialization", 5), ("gradient clipping", 9),
           ("residual connections with pre-norm", 7)]),
    _spec("saturated units", "sigmoid/tanh outputs pinned at their limits",
          "share of pre-activations where phi' < max/10", f"> {SATURATION_MAX:.0%}",
          "lesson 1; Glorot & Bengio 2010",
          ["weights or biases too large", "inputs not standardised"],
          [("Xavier initialization", 5), ("standardise inputs", 3),
           ("BatchNorm or LayerNorm before phi", 6), ("a non-saturating activation", 4)]),
    _spec("dead units", "ReLU units output 0 for every input",
          "share of ReLU-like units off on the whole batch", f"> {DEAD_MAX:.0%}",
          "lesson 4",
          ["a learning rate too large", "large negative biases", "a bad initialization"],
          [("a smaller learning rate", 8), ("LeakyReLU", 4), ("He initialization", 5)]),
    _spec("underflow", "gradients exactly 0 in float16/float32",
          "gradient entries 0 in its dtype, nonzero in float64",
          f"> {UNDERFLOW_MAX:.0%}", "lesson 3; Micikevicius et al. 2018",
          ["gradients vanishing below the dtype's range", "float16 without loss scaling"],
          [("fix the vanishing itself", 5), ("loss scaling (torch.amp.GradScaler)", 8),
           ("compute in float32 or float64", 3)]),
    _spec("non-finite values", "loss or gradients are NaN or inf",
          "NaN/inf in loss, weights, activations, gradients", "> 0",
          "lesson 2: overflow of an exploding product",
          ["exploding gradients", "a learning rate too large", "float16 overflow"],
          [("gradient clipping", 9), ("a smaller learning rate", 8),
           ("variance-preserving initialization", 5)]),
    _spec("update too small", "weights hardly change", "median update:data per step",
          f"< {UPDATE_MIN:g}", "lesson 3 (Karpathy: ~1e-3 is healthy)",
          ["learning rate too small", "vanishing gradients (under SGD)"],
          [("a larger learning rate", 8), ("fix vanishing gradients first", 5)]),
    _spec("update too large", "loss oscillates or diverges", "largest update:data per step",
          f"> {UPDATE_MAX:g}", "lesson 3 (Karpathy: ~1e-3 is healthy)",
          ["learning rate too large (under Adam the ratio is about lr / rms(W))",
           "exploding gradients"],
          [("a smaller learning rate", 8), ("gradient clipping", 9)]),
    _spec("loss not decreasing", "training makes no progress",
          "loss decrease over the diagnostic steps", f"< {LOSS_MIN_DECREASE:.0%}",
          "lesson 8",
          ["any finding above", "a learning rate far off", "a bug in the loss or labels"],
          [("fix the other findings first", 8), ("tune the learning rate", 8)]),
    _spec("wrong mode", "BatchNorm/Dropout behave as at test time while training",
          "train/eval flag of BatchNorm, Dropout", "in eval mode",
          "lesson 6: train vs eval mode", ["model.eval() not undone before training"],
          [("model.train() to train, model.eval() to test", 6)]),
]}


def lesson_label(number: int) -> str:
    """The lesson's title, e.g. ``lesson_label(5)`` -> ``"Lesson 5: initialization"``."""
    if number not in LESSONS:
        raise ValueError(f"unknown lesson {number!r}; valid choices: "
                         f"{', '.join(map(str, LESSONS))}")
    return LESSONS[number]


def checklist_rows() -> list[dict]:
    """The checklist as plain rows: symptom, measurement, threshold, cause, fix, lesson."""
    return [dict(finding=s.name, symptom=s.symptom, measurement=s.measurement,
                 threshold=s.threshold, cause=s.causes[0], fix=s.fixes[0][0],
                 lesson=s.fixes[0][1]) for s in CATALOGUE.values()]


def checklist_markdown(names=None) -> str:
    """The checklist (or the rows in ``names``) as a Markdown table."""
    rows = checklist_rows()
    if names is not None:
        unknown = set(names) - set(CATALOGUE)
        if unknown:
            raise ValueError(f"unknown findings {sorted(unknown)}; valid choices: "
                             f"{', '.join(CATALOGUE)}")
        rows = [r for r in rows if r["finding"] in names]
    lines = ["| finding | symptom | measured | alarm | likely cause | first fix (lesson) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| **{r['finding']}** | {r['symptom']} | {r['measurement']} | "
              f"{r['threshold'].replace('<', '&lt;')} | {r['cause']} | {r['fix']} "
              f"({r['lesson']}) |" for r in rows]
    return "\n".join(lines)


# -- comparing measurements with the thresholds ------------------------------------------
def _finding(name: str, figure: float, threshold: float, measured: str, layers, when: str):
    s = CATALOGUE[name]
    return Finding(name, float(figure), float(threshold), measured, s.why,
                   tuple(str(n) for n in layers), s.causes,
                   tuple(f"{fix} ({lesson_label(n)})" for fix, n in s.fixes), when)


def depth_groups(names, skip=None) -> list[np.ndarray]:
    """Index groups of layers compared across depth.

    Layers whose names are equal once their numbers are blanked (``layers.3.linear1.weight``)
    are one role repeated down the network: each role with at least ``MIN_DEPTH_LAYERS``
    repeats is a group, so that like is compared with like (attention queries with queries).
    A model without repeated names (one of a kind layers in a row) is one group, in order.
    """
    keys = [re.sub(r"\d+", "#", n) for n in names]
    groups: dict = {}
    for i, key in enumerate(keys):
        if skip is None or not skip[i]:
            groups.setdefault(key, []).append(i)
    repeated = [g for g in groups.values() if len(g) >= 2]
    if not repeated:
        order = sorted(i for g in groups.values() for i in g)
        return [np.array(order)] if len(order) >= MIN_DEPTH_LAYERS else []
    return [np.array(g) for g in repeated if len(g) >= MIN_DEPTH_LAYERS]


def depth_spreads(values, names, skip=None) -> list[tuple[float, np.ndarray]]:
    """Per depth group: (median of its first third / median of its last third, first third).

    NaN values (frozen layers) and those flagged in ``skip`` are left out.
    """
    v = np.asarray(values, dtype=np.float64)
    skip = np.isnan(v) | (np.zeros(len(v), bool) if skip is None else np.asarray(skip, bool))
    out = []
    for g in depth_groups(names, skip):
        k = max(1, len(g) // 3)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.median(v[g[:k]]) / np.median(v[g[-k:]]))
        if not math.isnan(ratio):
            out.append((ratio, g[:k]))
    return out


def _extreme(spreads) -> float:
    """The spread farthest from 1 on a log scale (NaN if none)."""
    if not spreads:
        return math.nan
    with np.errstate(divide="ignore"):
        return max((s[0] for s in spreads), key=lambda r: abs(np.log10(r)))


def _grad_data(m: dict) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return m["grad_norm"] / m["weight_norm"]


def evaluate(m: dict, underflow, when: str, ratios=None, losses=None) -> list[Finding]:
    """The findings that the per-layer measurements ``m`` (from ``diagnose``) call for."""
    out = []
    names, units = np.array(m["names"], dtype=object), np.array(m["unit_names"], dtype=object)
    lim = 10.0 ** SPREAD_ORDERS
    spreads = [(r, first, names, "grad:data ratio, first third of the layers / last third")
               for r, first in depth_spreads(_grad_data(m), m["names"], m["embedding"])]
    spreads += [(r, first, units, "activation-gradient norm, first third / last third")
                for r, first in depth_spreads(m["unit_grad"], m["unit_names"])]
    if spreads:
        low, high = min(spreads, key=lambda s: s[0]), max(spreads, key=lambda s: s[0])
        if low[0] < 1 / lim:
            out.append(_finding("vanishing gradients", low[0], 1 / lim, low[3], low[2][low[1]],
                                when))
        if high[0] > lim:
            out.append(_finding("exploding gradients", high[0], lim, high[3],
                                high[2][high[1]], when))
    bad = {k: v for k, v in m["nonfinite"].items() if v}
    if bad:
        out.append(_finding("non-finite values", sum(bad.values()), 0,
                            "NaN or inf entries", bad, when))
    for name, key, lim1, what in (
            ("saturated units", "saturation", SATURATION_MAX, "largest saturated fraction"),
            ("dead units", "dead", DEAD_MAX, "largest dead fraction")):
        v = np.asarray(m[key], dtype=np.float64)
        if v.size and np.nanmax(v) > lim1:
            out.append(_finding(name, np.nanmax(v), lim1, what, units[v > lim1], when))
    u = np.asarray(underflow, dtype=np.float64)
    if np.isfinite(u).any() and np.nanmax(u) > UNDERFLOW_MAX:
        out.append(_finding("underflow", np.nanmax(u), UNDERFLOW_MAX,
                            "largest fraction of gradient entries lost to the dtype",
                            names[u > UNDERFLOW_MAX], when))
    if m["eval_modules"]:
        out.append(_finding("wrong mode", len(m["eval_modules"]), 0,
                            "BatchNorm/Dropout modules in eval mode", m["eval_modules"], when))
    r = np.asarray(ratios if ratios is not None else [], dtype=np.float64)
    if np.isfinite(r).any():
        if np.nanmedian(r) < UPDATE_MIN:
            out.append(_finding("update too small", np.nanmedian(r), UPDATE_MIN,
                                "median update:data ratio", names[r < UPDATE_MIN], when))
        if np.nanmax(r) > UPDATE_MAX:
            out.append(_finding("update too large", np.nanmax(r), UPDATE_MAX,
                                "largest update:data per step", names[r > UPDATE_MAX], when))
    if losses is not None and len(losses) > 1:
        drop = loss_decrease(losses)
        if not np.isfinite(losses).all():
            out.append(_finding("non-finite values", int((~np.isfinite(losses)).sum()), 0,
                                "non-finite losses during training", ["loss"], when))
        elif drop < LOSS_MIN_DECREASE:
            out.append(_finding("loss not decreasing", drop, LOSS_MIN_DECREASE,
                                "relative loss decrease", [], when))
    return out


def loss_decrease(losses) -> float:
    """(first loss - last loss) / |first loss|; NaN if either is not finite."""
    first, last = float(losses[0]), float(losses[-1])
    if not (math.isfinite(first) and math.isfinite(last)) or first == 0:
        return math.nan
    return (first - last) / abs(first)


def headline(m: dict, underflow, ratios, losses) -> dict:
    """The numbers behind a verdict, by name (only those that could be measured)."""
    def top(v):
        v = np.asarray(v, dtype=np.float64)
        return float(np.nanmax(v)) if np.isfinite(v).any() else math.nan

    r = np.asarray(ratios, dtype=np.float64)
    figures = {
        "grad:data spread": _extreme(depth_spreads(_grad_data(m), m["names"],
                                                   m["embedding"])),
        "activation-gradient spread": _extreme(depth_spreads(m["unit_grad"], m["unit_names"])),
        "max saturation": top(m["saturation"]), "max dead fraction": top(m["dead"]),
        "max underflow": top(underflow),
        "non-finite entries": float(sum(m["nonfinite"].values())),
        "median update:data": float(np.nanmedian(r)) if np.isfinite(r).any() else math.nan,
        "max update:data": top(r),
        "loss decrease": loss_decrease(losses) if len(losses) > 1 else math.nan,
    }
    return {k: v for k, v in figures.items() if not math.isnan(v)}
