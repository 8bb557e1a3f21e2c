"""Lesson 9 measurements: the gradient through time, its bound, and memory-task training.

* ``through_time_bound``: Pascanu et al.'s (2013) bound
  ``||dL/dh_t|| <= ||dL/dh_T|| (gamma ||W_hh||_2)^(T-t)``, gamma = max phi'.
* ``measure_through_time``: one configuration's profile on a memory-task batch, with the
  bound for the vanilla RNN.
* ``jacobian_norms``: the spectral norm of the explicit product of step Jacobians.
* ``radius_sweep``: how the spectral radius of ``W_hh`` moves the ratio
  ``||dL/dh_1|| / ||dL/dh_T||``.
* ``train_memory`` / ``memory_experiment``: train cells on a memory task over seeds;
  ``TrainRun`` keeps the loss, the gradient norm before clipping, and the test metric.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from helpers.data import TASKS, task_data
from helpers.recurrent import (
    CELLS,
    RecurrentConfig,
    RecurrentNet,
    ThroughTimeProfile,
    build_recurrent,
    through_time_profile,
    unroll,
)
from helpers.validation import check_choice, check_float, check_int, check_seed

CHUNK = 100  # training batches generated per call of the task
MAX_DERIVATIVE = {"tanh": 1.0, "relu": 1.0}  # gamma = max phi' of the RNN's nonlinearity


def task_config(task: str, symbols: int = 4, **fields) -> RecurrentConfig:
    """A ``RecurrentConfig`` whose input and output sizes fit ``task``."""
    check_choice("task", task, TASKS)
    sizes = dict(input_size=2, output_size=1) if task == "adding" else dict(
        input_size=symbols + 1, output_size=symbols)
    return RecurrentConfig(**{**fields, **sizes})


def through_time_bound(weight_hh, nonlinearity: str, steps: int,
                       last: float = 1.0) -> np.ndarray:
    """``last * (gamma ||W_hh||_2)^(T-t)`` for t = 1..T (the vanilla RNN's bound).

    ``weight_hh`` is the (hidden, hidden) recurrent matrix (NumPy or torch); ``last`` is
    ``||dL/dh_T||``. Each step's Jacobian is ``diag(phi') W_hh``, whose norm is at most
    ``gamma ||W_hh||_2``, so ``T - t`` of them shrink or grow a vector at most that much.
    """
    check_choice("nonlinearity", nonlinearity, MAX_DERIVATIVE)
    steps = check_int("steps", steps, 1, 10**5)
    last = check_float("last", last, 0.0)
    w = weight_hh.detach().double().numpy() if hasattr(weight_hh, "detach") else np.asarray(
        weight_hh, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"weight_hh must be a square matrix, got shape {w.shape}")
    factor = MAX_DERIVATIVE[nonlinearity] * np.linalg.norm(w, 2)
    with np.errstate(over="ignore"):
        return last * factor ** np.arange(steps - 1, -1, -1, dtype=np.float64)


@dataclass(frozen=True, repr=False)
class ThroughTime:
    """A profile with its bound (``None`` for the LSTM and GRU) and ``W_hh``'s norms."""

    profile: ThroughTimeProfile
    bound: np.ndarray | None
    spectral_radius: float  # of W_hh (the first gate block for LSTM/GRU)
    spectral_norm: float

    def __repr__(self) -> str:
        return (f"ThroughTime({self.profile!r}, radius {self.spectral_radius:.3g}, "
                f"||W_hh||_2 {self.spectral_norm:.3g})")


def measure_through_time(config: RecurrentConfig, steps: int, task: str = "adding",
                         batch: int = 64, seed: int = 0) -> ThroughTime:
    """Build ``config`` and measure its gradient through ``steps`` steps of ``task``."""
    if not isinstance(config, RecurrentConfig):
        raise TypeError(f"config must be a RecurrentConfig, got {type(config).__name__}")
    steps = check_int("steps", steps, 2 if task == "adding" else 1, 10**4)
    batch = check_int("batch", batch, 1, 10**5)
    X, y = task_data(task, batch, steps, seed=check_seed(seed))
    if X.shape[2] != config.input_size:
        raise ValueError(f"task {task!r} has {X.shape[2]} input features; the config has "
                         f"input_size={config.input_size} (use task_config)")
    net = build_recurrent(config)
    profile = through_time_profile(net, X, y)
    w = net.rnn.weight_hh_l0.detach().double()[:config.hidden]  # (hidden, hidden)
    bound = None
    if config.cell == "rnn":
        bound = through_time_bound(w, config.nonlinearity, steps, profile.h_grad_norm[-1])
    return ThroughTime(profile, bound, float(torch.linalg.eigvals(w).abs().max()),
                       float(torch.linalg.matrix_norm(w, 2)))


def jacobian_norms(net: RecurrentNet, x: torch.Tensor) -> np.ndarray:
    """``||dh_T/dh_t||_2`` for t = 1..T of one sequence ``x`` (T, input), vanilla RNN only.

    Multiplies the step Jacobians ``diag(phi'(a_s)) W_hh`` explicitly, from the last step
    back (``a_s`` the pre-activation), and takes each partial product's spectral norm.
    """
    if not isinstance(net, RecurrentNet) or net.config.cell != "rnn":
        raise TypeError("jacobian_norms needs a vanilla RNN (RecurrentNet with cell='rnn')")
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != net.config.input_size:
        raise ValueError(f"x must be one sequence of shape (T, {net.config.input_size})")
    with torch.no_grad():
        hs, _, _ = unroll(net, x[None].to(net.rnn.weight_hh_l0.dtype))
        w = net.rnn.weight_hh_l0.double()
        product = torch.eye(net.config.hidden, dtype=torch.float64)  # dh_T/dh_T
        norms = [1.0]
        for t in range(len(hs) - 1, 0, -1):  # Jacobian of step t+1: dh_{t+1}/dh_t
            h = hs[t][0].double()
            d = 1 - h**2 if net.config.nonlinearity == "tanh" else (h > 0).double()
            product = product @ (d[:, None] * w)
            norms.append(float(torch.linalg.matrix_norm(product, 2)))
    return np.array(norms[::-1])


def radius_sweep(radii, steps: int = 50, cell: str = "rnn", nonlinearity: str = "tanh",
                 hidden: int = 32, seeds=(0,), batch: int = 64, dtype: str = "float64",
                 forget_bias: float | None = None) -> dict:
    """``||dL/dh_1|| / ||dL/dh_T||`` against the spectral radius of ``W_hh``, per seed.

    Returns ``{"radius": (R,), "ratio": (seeds, R), "seeds": (seeds,)}`` (NumPy arrays).
    """
    radii = np.asarray(radii, dtype=np.float64).ravel()
    if radii.size == 0 or not np.all(np.isfinite(radii)) or np.any(radii <= 0):
        raise ValueError("radii must be a non-empty list of positive numbers")
    seeds = [check_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    ratio = np.empty((len(seeds), radii.size))
    for i, s in enumerate(seeds):
        for j, r in enumerate(radii):
            c = task_config("adding", cell=cell, nonlinearity=nonlinearity, hidden=hidden,
                            init="spectral", spectral_radius=float(r), seed=s, dtype=dtype,
                            forget_bias=forget_bias)
            ratio[i, j] = measure_through_time(c, steps, batch=batch, seed=s).profile.ratio
    return {"radius": radii, "ratio": ratio, "seeds": np.array(seeds)}


@dataclass(frozen=True, repr=False)
class TrainRun:
    """One training run: per-step loss and gradient norm, and the test metric over time."""

    config: RecurrentConfig
    task: str
    steps: int  # sequence length T
    loss: np.ndarray  # (train_steps,) training loss per step
    grad_norm: np.ndarray  # (train_steps,) total gradient norm before clipping
    eval_at: np.ndarray  # (E,) training steps at which the test set was scored
    test_metric: np.ndarray  # (E,) test MSE (adding) or accuracy (first_symbol)
    clip: float | None
    lr: float
    seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def final(self) -> float:
        return float(self.test_metric[-1])

    @property
    def metric_name(self) -> str:
        return "test MSE" if self.task == "adding" else "test accuracy"

    def __repr__(self) -> str:
        c = self.config
        return (f"TrainRun({c.cell}, T={self.steps}, seed {c.seed}, {len(self.loss)} steps, "
                f"{self.metric_name} {self.final:.4g}, {self.seconds:.1f} s)")


def _metric(task: str, out: torch.Tensor, y: torch.Tensor) -> float:
    if task == "adding":
        return float(((out.squeeze(-1) - y) ** 2).mean())
    return float((out.argmax(1) == y).double().mean())


def train_memory(config: RecurrentConfig, task: str = "adding", steps: int = 20,
                 train_steps: int = 400, lr: float = 0.01, batch: int = 64,
                 clip: float | None = 1.0, optimizer: str = "adam", eval_every: int = 50,
                 n_test: int = 512, data_seed: int = 0,
                 distractors: str = "random") -> TrainRun:
    """Train ``config`` on fresh batches of ``task`` (length ``steps``); score a fixed test set.

    ``clip`` is the max total gradient norm (``clip_grad_norm_``) or ``None`` for none;
    ``optimizer`` is ``"adam"`` or ``"sgd"``; ``distractors`` is passed to
    ``first_symbol_task`` (``"random"`` or ``"blank"``). A loss that becomes NaN or inf stops
    the run (the arrays keep what was measured, the last value non-finite).
    """
    if not isinstance(config, RecurrentConfig):
        raise TypeError(f"config must be a RecurrentConfig, got {type(config).__name__}")
    check_choice("task", task, TASKS)
    steps = check_int("steps", steps, 2, 10**4)
    train_steps = check_int("train_steps", train_steps, 1, 10**6)
    lr = check_float("lr", lr, 0.0, 100.0, lo_open=True)
    batch = check_int("batch", batch, 1, 10**5)
    if clip is not None:
        clip = check_float("clip", clip, 0.0, lo_open=True)
    check_choice("optimizer", optimizer, ("adam", "sgd"))
    eval_every = check_int("eval_every", eval_every, 1)
    n_test = check_int("n_test", n_test, 1, 10**5)
    data_seed = check_seed(data_seed)
    check_choice("distractors", distractors, ("random", "blank"))
    net = build_recurrent(config)
    dtype = net.readout.weight.dtype
    X_test, y_test = task_data(task, n_test, steps, seed=data_seed + 10**6,
                               distractors=distractors)
    X_test, y_test = X_test.to(dtype), y_test.to(dtype) if task == "adding" else y_test
    params = list(net.parameters())
    opt = (torch.optim.Adam(params, lr=lr, foreach=True) if optimizer == "adam"
           else torch.optim.SGD(params, lr=lr, foreach=True))
    loss_fn = nn.MSELoss() if task == "adding" else nn.CrossEntropyLoss()
    losses, norms, at, metric = [], [], [], []
    start = time.perf_counter()
    for step in range(train_steps):
        if step % CHUNK == 0:  # fresh batches, generated CHUNK at a time (one NumPy call)
            X_chunk, y_chunk = task_data(task, batch * CHUNK, steps,
                                         seed=data_seed * 100_003 + step // CHUNK,
                                         distractors=distractors)
            X_chunk = X_chunk.to(dtype)
        rows = slice((step % CHUNK) * batch, (step % CHUNK + 1) * batch)
        X, y = X_chunk[rows], y_chunk[rows]  # (batch, steps, features), (batch,)
        out = net(X)
        loss = loss_fn(out.squeeze(-1), y.to(dtype)) if task == "adding" else loss_fn(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        total = nn.utils.clip_grad_norm_(params, clip if clip is not None else float("inf"))
        losses.append(float(loss.detach()))
        norms.append(float(total))
        if not np.isfinite(losses[-1]):
            break
        opt.step()
        if (step + 1) % eval_every == 0 or step + 1 == train_steps:
            with torch.no_grad():
                at.append(step + 1)
                metric.append(_metric(task, net(X_test), y_test))
    if not metric or at[-1] != len(losses):
        at.append(len(losses))
        with torch.no_grad():
            metric.append(_metric(task, net(X_test), y_test))
    return TrainRun(config, task, steps, np.array(losses), np.array(norms), np.array(at),
                    np.array(metric), clip, lr, time.perf_counter() - start)


def memory_experiment(cells=CELLS, lengths=(10, 20), seeds=(0, 1), task: str = "adding",
                      **train) -> dict:
    """``train_memory`` for every cell, sequence length and seed: ``{(cell, T, seed): run}``.

    ``train`` goes to ``train_memory``; a ``"config"`` entry (a dict of ``RecurrentConfig``
    fields, e.g. ``hidden`` or ``forget_bias``) applies to every cell where it is valid.
    """
    fields = dict(train.pop("config", {}))
    for c in cells:
        check_choice("cell", c, CELLS)
    lengths = [check_int("T", t, 2, 10**4) for t in lengths]
    seeds = [check_seed(s) for s in seeds]
    if not cells or not lengths or not seeds:
        raise ValueError("cells, lengths and seeds must each name at least one value")
    runs = {}
    for cell in cells:
        kw = {k: v for k, v in fields.items() if cell == "lstm" or k != "forget_bias"}
        for T in lengths:
            for s in seeds:
                config = task_config(task, cell=cell, seed=s, **kw)
                runs[cell, T, s] = train_memory(config, task, T, data_seed=s, **train)
    return runs


def solved_table(runs: dict, threshold: float) -> dict:
    """Per (cell, T): how many seeds reached ``threshold`` (MSE below it, or accuracy above).

    Returns ``{(cell, T): {"solved": k, "seeds": n, "finals": (n,) array}}``.
    """
    if not runs:
        raise ValueError("runs is empty")
    threshold = check_float("threshold", threshold)
    table: dict = {}
    for (cell, T, _), run in runs.items():
        entry = table.setdefault((cell, T), {"solved": 0, "seeds": 0, "finals": []})
        ok = run.final < threshold if run.task == "adding" else run.final > threshold
        entry["solved"] += int(ok)
        entry["seeds"] += 1
        entry["finals"].append(run.final)
    for entry in table.values():
        entry["finals"] = np.array(entry["finals"])
    return table
