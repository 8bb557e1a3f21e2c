"""Lesson 8's experiments: deep configurations trained under one seed, results over seeds.

Everything returns plain data: ``Run`` (a frozen dataclass of NumPy arrays and numbers),
``SeedTable`` (one row per configuration), and dicts of arrays for decision boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from helpers.data import digits, spirals, train_test_split
from helpers.models import MLPConfig, build_mlp
from helpers.training import History, decision_grid, train
from helpers.validation import check_choice, check_float, check_int, check_seed

# The five configurations of one depth-20 MLP the lesson compares (MLPConfig fields).
CONFIGURATIONS = {
    "sigmoid, default init": dict(activation="sigmoid"),
    "ReLU, default init": dict(activation="relu"),
    "ReLU + He init": dict(activation="relu", init="he"),
    "sigmoid + BatchNorm": dict(activation="sigmoid", norm="batch"),
    "residual ReLU + pre-LN": dict(activation="relu", residual=True, norm="layer",
                                   norm_position="pre"),
}
DATASETS = ("spirals", "digits")
# The lesson's budget: sized so that 20 runs fit a 2-core machine in well under a minute.
DEPTH, WIDTH = 20, 32
BUDGET = {"spirals": dict(steps=100, lr=0.01), "digits": dict(steps=40, lr=0.01)}
TARGET_ACCURACY = 0.9  # "steps to reach": the first record whose test accuracy is >= this


@dataclass(frozen=True)
class Split:
    """A data set with a held-out test split (tensors: X (n, features), y (n,))."""

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def in_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def __repr__(self) -> str:
        return (f"Split({self.name!r}: {len(self.y_train)} train, {len(self.y_test)} test, "
                f"{self.in_features} features, {self.classes} classes)")


def lesson_split(name: str = "spirals") -> Split:
    """The lesson's data: 800 spiral points (noise 0.1) or the 1,797 digits; 25% held out."""
    check_choice("data set", name, DATASETS)
    X, y = spirals(800, noise=0.1, seed=0) if name == "spirals" else digits()
    return Split(name, *train_test_split(X, y, test_fraction=0.25, seed=0))


def lesson_config(name: str, split: Split, seed: int = 0, depth: int = DEPTH,
                  width: int = WIDTH) -> MLPConfig:
    """The ``MLPConfig`` of one of ``CONFIGURATIONS`` for ``split``'s input and classes."""
    check_choice("configuration", name, CONFIGURATIONS)
    return MLPConfig(depth=depth, width=width, in_features=split.in_features,
                     out_features=split.classes, seed=check_seed(seed), **CONFIGURATIONS[name])


@dataclass(frozen=True, repr=False)
class Run:
    """One trained configuration: its ``History`` plus what the lesson reads from it."""

    name: str
    config: MLPConfig
    optimizer: str
    lr: float
    history: History
    weight_rms_init: np.ndarray  # (layers,) rms of each Linear's weight before training
    weight_rms_final: np.ndarray  # (layers,) ... after training
    grid: dict | None  # decision boundary after training (2-D data only), see decision_grid
    recalibrated_accuracy: float  # test accuracy with BatchNorm statistics re-estimated (NaN)

    @property
    def final_test_accuracy(self) -> float:
        acc = self.history.test_accuracy
        return float(acc[-1]) if len(acc) else math.nan

    @property
    def steps_to_target(self) -> int | None:
        return first_step_at(self.history.steps, self.history.test_accuracy, TARGET_ACCURACY)

    def __repr__(self) -> str:
        reach = self.steps_to_target
        return (f"Run({self.name!r}: train loss {self.history.final_loss:.3g}, test accuracy "
                f"{self.final_test_accuracy:.3f}, {TARGET_ACCURACY:.0%} at step "
                f"{'never' if reach is None else reach}, {self.history.seconds:.1f} s)")


def first_step_at(steps, accuracy, target: float) -> int | None:
    """The first recorded step whose accuracy is >= ``target``, or ``None`` (never)."""
    acc = np.asarray(accuracy, dtype=np.float64)
    hit = np.flatnonzero(np.nan_to_num(acc, nan=-1.0) >= target)
    return int(np.asarray(steps)[hit[0]]) if hit.size else None


def _weight_rms(model) -> np.ndarray:
    from helpers.models import linear_layers

    return np.array([float(m.weight.detach().double().pow(2).mean().sqrt())
                     for _, m in linear_layers(model)])


def run_configuration(name: str, split: Split, seed: int = 0, steps: int | None = None,
                      lr: float | None = None, optimizer: str = "adam", record_every: int = 10,
                      config: MLPConfig | None = None, grid_points: int = 60) -> Run:
    """Build ``name``'s network (or ``config``), train it full-batch and return a ``Run``."""
    budget = BUDGET[split.name]
    steps = check_int("steps", budget["steps"] if steps is None else steps, 1, 100_000)
    lr = check_float("lr", budget["lr"] if lr is None else lr, 0, 10, lo_open=True)
    config = config or lesson_config(name, split, seed)
    model = build_mlp(config)
    rms_init = _weight_rms(model)
    history = train(model, split.X_train, split.y_train, steps=steps, lr=lr,
                    optimizer=optimizer, seed=seed, record_every=record_every,
                    eval_data=(split.X_test, split.y_test))
    grid = decision_grid(model, grid_points) if split.in_features == 2 else None
    return Run(name, config, optimizer, lr, history, rms_init, _weight_rms(model), grid,
               recalibrated_accuracy(model, split))


def compare_configurations(split: Split, names=None, seed: int = 0, **kwargs) -> dict[str, Run]:
    """Every configuration (or ``names``) trained on ``split`` under one seed."""
    names = list(CONFIGURATIONS) if names is None else list(names)
    return {n: run_configuration(n, split, seed=seed, **kwargs) for n in names}


@dataclass(frozen=True, repr=False)
class SeedTable:
    """Results over seeds: arrays of shape (configurations, seeds)."""

    names: tuple[str, ...]
    seeds: tuple[int, ...]
    final_loss: np.ndarray  # final training loss
    test_accuracy: np.ndarray  # final test accuracy
    steps_to_target: np.ndarray  # first step with test accuracy >= TARGET_ACCURACY (NaN: never)
    seconds: np.ndarray  # wall time of each run
    recalibrated: np.ndarray  # test accuracy with BatchNorm statistics re-estimated (NaN: no BN)
    target: float = TARGET_ACCURACY

    def rows(self) -> list[dict]:
        """One dict per configuration: the table the lesson shows."""
        out = []
        for i, name in enumerate(self.names):
            reach = self.steps_to_target[i]
            hit = reach[np.isfinite(reach)]
            out.append({
                "configuration": name,
                "final train loss": float(np.mean(self.final_loss[i])),
                "test accuracy": float(np.mean(self.test_accuracy[i])),
                "spread": float(np.ptp(self.test_accuracy[i]) / 2),
                "reached": f"{hit.size}/{reach.size}",
                "median steps": float(np.median(hit)) if hit.size else math.nan,
                "seconds": float(np.mean(self.seconds[i])),
                "recalibrated": float(np.mean(self.recalibrated[i])),
            })
        return out

    def markdown(self) -> str:
        """The table in Markdown (test accuracy as mean ± half the range over seeds)."""
        lines = [f"| configuration | final train loss | test accuracy (mean ± half-range) | "
                 f"reached {self.target:.0%} test accuracy | median steps to it | s per run |",
                 "|---|---|---|---|---|---|"]
        for r in self.rows():
            steps = "never" if math.isnan(r["median steps"]) else f"{r['median steps']:.0f}"
            recal = ("" if math.isnan(r["recalibrated"]) else
                     f" ({r['recalibrated']:.3f} with BN statistics re-estimated)")
            lines.append(f"| {r['configuration']} | {r['final train loss']:.3f} | "
                         f"{r['test accuracy']:.3f} ± {r['spread']:.3f}{recal} | "
                         f"{r['reached']} seeds | {steps} | {r['seconds']:.1f} |")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"SeedTable({len(self.names)} configurations x seeds {list(self.seeds)})"


def results_over_seeds(split: Split, seeds=(0, 1, 2), names=None, known=None,
                       **kwargs) -> SeedTable:
    """Train every configuration once per seed; ``known`` maps (name, seed) to a finished Run."""
    names = list(CONFIGURATIONS) if names is None else list(names)
    seeds = tuple(check_seed(s) for s in seeds)
    known = dict(known or {})
    shape = (len(names), len(seeds))
    loss, acc, reach, secs, recal = (np.full(shape, np.nan) for _ in range(5))
    for i, name in enumerate(names):
        for j, seed in enumerate(seeds):
            run = known.get((name, seed)) or run_configuration(name, split, seed=seed,
                                                              grid_points=0, **kwargs)
            loss[i, j] = run.history.final_loss
            acc[i, j] = run.final_test_accuracy
            s = run.steps_to_target
            reach[i, j] = np.nan if s is None else s
            secs[i, j] = run.history.seconds
            recal[i, j] = run.recalibrated_accuracy
    return SeedTable(tuple(names), seeds, loss, acc, reach, secs, recal)


STALLED_LOSS = 0.6  # a run whose final training loss stays above this has not learned
CHANCE_MARGIN = 0.15  # ... and one whose test accuracy is within this of chance is stalled


def verdicts(table: SeedTable, chance: float) -> dict[str, str]:
    """One sentence per hypothesis of the storyline, decided by the measured table."""
    rows = {r["configuration"]: r for r in table.rows()}
    n = len(table.seeds)

    def stalled(name):
        i = table.names.index(name)
        return int(np.sum((table.final_loss[i] > STALLED_LOSS)
                          & (table.test_accuracy[i] < chance + CHANCE_MARGIN)))

    def reached(name):
        return int(np.isfinite(table.steps_to_target[table.names.index(name)]).sum())

    out = {}
    k = stalled("sigmoid, default init")
    out["sigmoid stalls"] = (f"plain sigmoid stalls: **{'holds' if k == n else 'does not hold'}**"
                             f" ({k} of {n} seeds end with training loss above {STALLED_LOSS} "
                             f"and test accuracy within {CHANCE_MARGIN} of chance)")
    k = reached("ReLU + He init")
    held = "holds" if k == n else "holds on most seeds" if 2 * k > n else "does not hold"
    out["He trains"] = (f"ReLU + He trains: **{held}** ({k} of {n} seeds reach "
                        f"{table.target:.0%} test accuracy)")
    bn = rows["sigmoid + BatchNorm"]
    learns = bn["final train loss"] < STALLED_LOSS
    tested = reached("sigmoid + BatchNorm")
    out["BatchNorm trains"] = (
        f"sigmoid + BatchNorm trains: **{'holds for the training loss' if learns else 'fails'}"
        f"** (mean final loss {bn['final train loss']:.3f}); in eval mode its test accuracy "
        f"is {bn['test accuracy']:.3f} and {tested} of {n} seeds reach {table.target:.0%}, "
        f"{bn['recalibrated']:.3f} once the BatchNorm statistics are re-estimated")
    reach = {name: r["median steps"] for name, r in rows.items() if not math.isnan(
        r["median steps"])}
    fastest = min(reach, key=reach.get) if reach else None
    res = "residual ReLU + pre-LN"
    if fastest is None:
        text = "no configuration reached the target"
    elif fastest == res:
        text = f"**holds** (median {reach[res]:.0f} steps)"
    else:
        ties = reach.get(res) == reach[fastest]
        text = (f"**{'ties' if ties else 'does not hold'}**: {fastest} needs a median "
                f"{reach[fastest]:.0f} steps, the residual net "
                + (f"{reach[res]:.0f}" if res in reach else "never reaches it"))
    out["residual fastest"] = f"residual + norm trains fastest: {text}"
    return out


@torch.no_grad()
def recalibrated_accuracy(model, split: Split) -> float:
    """Test accuracy after re-estimating BatchNorm's running statistics on the training set.

    Works on a copy: every BatchNorm's running mean and variance are set to the exact
    training-set statistics by one forward pass in train mode (momentum ``None`` gives a
    cumulative average, here over that one batch). NaN for a network without BatchNorm.
    """
    import copy

    from torch import nn

    if not any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        return math.nan
    model = copy.deepcopy(model)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.reset_running_stats()
            m.momentum = None
    dtype = next(model.parameters()).dtype
    model.train()
    model(split.X_train.to(dtype))
    model.eval()
    return float((model(split.X_test.to(dtype)).argmax(1) == split.y_test).double().mean())
