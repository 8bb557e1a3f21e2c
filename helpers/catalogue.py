"""The catalogue of what can go wrong with gradients: thresholds, causes, fixes, lessons.

Data only: each threshold is a module constant with the reason for its value next to it
(none is tuned to the course's own models), and ``CATALOGUE`` holds each finding's
symptom, measurement, causes and fixes with the lesson that teaches each.
``helpers.findings`` compares measurements with these thresholds and builds lesson 10's
checklist from ``CATALOGUE``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
