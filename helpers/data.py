"""Small data sets, generated with NumPy or shipped offline with scikit-learn.

Every function returns ``(X, y)`` as torch tensors: ``X`` float32 of shape (n, features),
``y`` int64 class indices of shape (n,) (float32 targets for regression), and takes a
``seed`` so that the same call always gives the same data.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from helpers.validation import check_choice, check_float, check_int, check_seed


def _to_tensors(X: np.ndarray, y: np.ndarray, perm: np.ndarray):
    return torch.from_numpy(X[perm].astype(np.float32)), torch.from_numpy(y[perm].astype(np.int64))


def spirals(n: int = 1000, noise: float = 0.1, seed: int = 0, classes: int = 2):
    """``classes`` interleaved spiral arms in 2-D, ``n`` points in all, shuffled.

    Each arm turns 1.5 times around the origin; ``noise`` is the std of Gaussian jitter
    added to both coordinates (the arms are about 1 unit apart at the rim).
    """
    classes = check_int("classes", classes, 2, 10)
    n = check_int("n", n, classes)
    noise = check_float("noise", noise, 0.0)
    rng = np.random.default_rng(check_seed(seed))
    y = np.arange(n) % classes
    t = rng.uniform(0.05, 1.0, n)  # position along the arm, 0 = centre
    angle = 3.0 * math.pi * t + 2.0 * math.pi * y / classes
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) * 2.0
    X += rng.normal(0.0, noise, X.shape)
    return _to_tensors(X, y, rng.permutation(n))


def lesson_data(n: int = 256, seed: int = 0):
    """The lessons' batch: ``spirals(n, noise=0.1, seed=seed)``, 256 points by default.

    The Gradient Flow Explorer, the normalization and residual explorers and the lessons
    that measure one batch all use it, so that their numbers refer to the same data.
    """
    return spirals(n, noise=0.1, seed=seed)


def circles(n: int = 1000, noise: float = 0.1, factor: float = 0.5, seed: int = 0):
    """Two concentric circles in 2-D (inner radius ``factor``, outer 1), ``n`` points."""
    n = check_int("n", n, 2)
    noise = check_float("noise", noise, 0.0)
    factor = check_float("factor", factor, 0.0, 1.0, lo_open=True, hi_open=True)
    rng = np.random.default_rng(check_seed(seed))
    y = np.arange(n) % 2
    angle = rng.uniform(0, 2 * math.pi, n)
    radius = np.where(y == 1, factor, 1.0)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    X += rng.normal(0.0, noise, X.shape)
    return _to_tensors(X, y, rng.permutation(n))


def teacher(n: int = 1000, in_features: int = 10, classes: int = 2, width: int = 32,
            depth: int = 2, task: str = "classification", noise: float = 0.0, seed: int = 0):
    """Inputs ``N(0, I)`` labelled by a random tanh network (the *teacher*).

    The teacher has ``depth`` hidden layers ``h = tanh(h W)`` of ``width`` units, with
    ``W ~ N(0, 1.5^2 / fan_in)`` (a gain of 1.5: neither saturated nor nearly linear), no
    biases, and a linear output ``h W_out`` with ``W_out ~ N(0, 1 / width)``; ``seed`` draws
    the inputs, then the weights layer by layer, then the noise, from one NumPy generator.
    ``task="classification"`` gives the teacher's arg-max class (int64), ``"regression"``
    its first output plus Gaussian noise of std ``noise`` (float32, shape (n,)).
    """
    n = check_int("n", n, 1)
    noise = check_float("noise", noise, 0.0)
    in_features = check_int("in_features", in_features, 1)
    classes = check_int("classes", classes, 2)
    width = check_int("width", width, 1)
    depth = check_int("depth", depth, 1)
    check_choice("task", task, ("classification", "regression"))
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((n, in_features))
    h = X
    sizes = [in_features] + [width] * depth
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        h = np.tanh(h @ rng.normal(0, 1.5 / math.sqrt(a), (a, b)))  # (n, width)
    out = h @ rng.normal(0, 1.0 / math.sqrt(width), (width, classes))  # (n, classes)
    if task == "classification":
        return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(out.argmax(1))
    y = out[:, 0] + rng.normal(0.0, noise, n)
    return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y.astype(np.float32))


def digits(standardize: bool = True):
    """scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes), shipped offline.

    Returns ``X`` (1797, 64) float32, pixels scaled to [0, 1] and, if ``standardize``, each
    pixel shifted and scaled to mean 0 and std 1 (constant pixels left at 0), and ``y``.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data.astype(np.float64) / 16.0
    if standardize:
        std = X.std(0)
        X = (X - X.mean(0)) / np.where(std > 0, std, 1.0)
    return torch.from_numpy(X.astype(np.float32)), torch.from_numpy(d.target.astype(np.int64))


def train_test_split(X, y, test_fraction: float = 0.25, seed: int = 0):
    """Shuffle and split ``(X, y)`` into ``(X_train, y_train, X_test, y_test)``."""
    test_fraction = check_float("test_fraction", test_fraction, 0.0, 1.0, lo_open=True,
                                hi_open=True)
    n = len(X)
    if n < 2 or len(y) != n:
        raise ValueError("need at least 2 examples and one label per example")
    perm = torch.from_numpy(np.random.default_rng(check_seed(seed)).permutation(n))
    k = min(n - 1, max(1, int(round(n * test_fraction))))  # both parts keep >= 1 example
    test, train = perm[:k], perm[k:]
    return X[train], y[train], X[test], y[test]


# --- Memory tasks for recurrent nets: X (n, T, features) float32 ---------------------------

DISTRACTORS = ("random", "blank")


def first_symbol_task(n: int = 256, steps: int = 20, symbols: int = 4,
                      distractors: str = "random", seed: int = 0):
    """Remember the first symbol: ``steps`` one-hot inputs, label = the symbol at step 1.

    Each step is a one-hot vector over ``symbols + 1`` channels (the last one is "blank").
    Step 1 carries one of ``symbols`` symbols; with ``distractors="random"`` every later
    step carries a random symbol too (the net must ignore them), with ``"blank"`` every
    later step is the blank channel. Chance accuracy is ``1 / symbols``.

    Returns ``X`` float32 (n, steps, symbols + 1) and ``y`` int64 (n,).
    """
    from helpers.validation import check_choice, check_int, check_seed

    n = check_int("n", n, 1, 10**7)
    steps = check_int("steps", steps, 1, 10**5)
    symbols = check_int("symbols", symbols, 2, 100)
    check_choice("distractors", distractors, DISTRACTORS)
    if n * steps * (symbols + 1) > 2 * 10**8:
        raise ValueError(f"n * steps * (symbols + 1) = {n * steps * (symbols + 1):,} values is "
                         "too large (limit 2e8); use fewer sequences or steps")
    rng = np.random.default_rng(check_seed(seed))
    if distractors == "random":
        codes = rng.integers(0, symbols, (n, steps))
    else:
        codes = np.full((n, steps), symbols)
        codes[:, 0] = rng.integers(0, symbols, n)
    X = np.eye(symbols + 1, dtype=np.float32)[codes]  # (n, steps, symbols + 1)
    return torch.from_numpy(X), torch.from_numpy(codes[:, 0].astype(np.int64))


def adding_problem(n: int = 256, steps: int = 50, seed: int = 0):
    """The adding problem (Hochreiter & Schmidhuber 1997): add the two marked numbers.

    Each step has two features: a number drawn uniformly from [0, 1) and a marker (0 or 1).
    Exactly two steps are marked, one in the first half of the sequence and one in the
    second (the variant of Le et al. 2015); the target is the sum of the two marked
    numbers. Always predicting 1 gives a mean squared error of 1/6: a net that has not
    learned to remember stays near it.

    Returns ``X`` float32 (n, steps, 2) and ``y`` float32 (n,).
    """
    from helpers.validation import check_int, check_seed

    n = check_int("n", n, 1, 10**7)
    steps = check_int("steps", steps, 2, 10**5)
    if n * steps > 10**8:
        raise ValueError(f"n * steps = {n * steps:,} is too large (limit 1e8)")
    rng = np.random.default_rng(check_seed(seed))
    values = rng.random((n, steps))
    marks = np.zeros((n, steps))
    half = steps // 2
    rows = np.arange(n)
    marks[rows, rng.integers(0, half, n)] = 1.0
    marks[rows, rng.integers(half, steps, n)] = 1.0
    X = np.stack([values, marks], axis=-1).astype(np.float32)  # (n, steps, 2)
    y = (values * marks).sum(1).astype(np.float32)  # (n,)
    return torch.from_numpy(X), torch.from_numpy(y)


TASKS = ("adding", "first_symbol")  # the memory tasks of lesson 9, by name


def task_data(task: str, n: int, steps: int, seed: int = 0, symbols: int = 4,
              distractors: str = "random"):
    """``(X, y)`` of a memory task by name: ``"adding"`` or ``"first_symbol"``."""
    check_choice("task", task, TASKS)
    if task == "adding":
        return adding_problem(n, steps, seed=seed)
    return first_symbol_task(n, steps, symbols, distractors, seed=seed)
