"""Comparing measurements with the catalogue's thresholds, and the checklist built from it.

One source of truth for ``helpers.diagnose`` (which compares its measurements with the
thresholds of ``helpers.catalogue`` and fills its findings from ``CATALOGUE``) and for
lesson 10's checklist table (``checklist_markdown``). The catalogue's names are
importable from here too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from helpers.catalogue import (  # noqa: F401  (re-exported: the catalogue's names)
    CATALOGUE,
    DEAD_MAX,
    LESSONS,
    LOSS_MIN_DECREASE,
    MIN_DEPTH_LAYERS,
    SATURATION_MAX,
    SPREAD_ORDERS,
    UNDERFLOW_MAX,
    UPDATE_MAX,
    UPDATE_MIN,
    FindingSpec,
)


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
