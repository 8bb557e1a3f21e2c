"""Lesson 10's models and measurements: a digits CNN, Transformer stacks, three mystery models.

``digits_cnn`` builds a small CNN for scikit-learn's 8x8 digits and ``train_digits_cnn``
trains it for a few hundred mini-batch steps. ``transformer_stack`` builds an
``nn.TransformerEncoder`` classifier in post-norm or pre-norm form (Xiong et al. 2020),
``norm_position_profiles`` measures its last layer's gradient across depths. The mystery
models come from ``mystery_models``: what is wrong with each has to be measured (nothing
in its repr or attributes names it). ``train_briefly`` is the one training loop the
lesson's checks use.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers.data import digits, teacher, train_test_split
from helpers.validation import check_bool, check_int, check_seed

SEQ_LEN, SEQ_FEATURES, D_MODEL, CLASSES = 8, 32, 32, 4  # Transformer task sizes

# The course in one table: (lesson, what goes wrong or what it measures, what fixes it).
COURSE_SUMMARY = (
    (1, "sigmoid'(z) <= 1/4, and near 0 for large positive or negative z (saturation)",
     "keep pre-activations small; activations whose slope is near 1"),
    (2, "the gradient is a product of per-layer factors W^T diag(phi'): exponential in depth",
     "keep every factor near 1 (norm of W times phi')"),
    (3, "per-layer gradient norms, saturation, grad:data and update:data, measured",
     "measure before guessing: the Gradient Flow Explorer, gradient_profile"),
    (4, "ReLU's slope is exactly 1 or exactly 0 (dead units)",
     "the ReLU family; LeakyReLU against dead units"),
    (5, "too small weights vanish, too large explode or saturate (chi_1 < 1 or > 1)",
     "Xavier for tanh, He for ReLU: initialise at the edge of chaos"),
    (6, "normalization keeps pre-activations out of saturation; BatchNorm alone can explode",
     "BatchNorm or LayerNorm before phi; the right train/eval mode"),
    (7, "a residual block's Jacobian I + J gives the gradient a direct path",
     "skip connections, with pre-norm in deep stacks"),
    (8, "which deep configurations train, measured over seeds; the learning rate",
     "dashboards of loss and update:data; tune the learning rate"),
    (9, "through time the gradient is a product of T - t Jacobians (Pascanu et al. 2013)",
     "gated cells (LSTM, GRU) and gradient clipping by norm"),
)


def course_summary_markdown() -> str:
    """``COURSE_SUMMARY`` as a Markdown table, lesson titles from ``helpers.findings``."""
    from helpers.findings import lesson_label

    lines = ["| lesson | what goes wrong, measured | what fixes it |", "|---|---|---|"]
    lines += [f"| {lesson_label(n).replace('Lesson ', '')} | {what} | {fix} |"
              for n, what, fix in COURSE_SUMMARY]
    return "\n".join(lines)


def digits_cnn(seed: int = 0) -> nn.Sequential:
    """Conv(1->8) - ReLU - Conv(8->16) - ReLU - pool - Linear(64->10), for (n, 1, 8, 8) input."""
    torch.manual_seed(check_seed(seed))
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),  # (n, 8, 8, 8)
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),  # (n, 16, 8, 8)
        nn.AvgPool2d(4), nn.Flatten(),  # (n, 64)
        nn.Linear(64, 10))


def digits_images(seed: int = 0):
    """The 8x8 digits as images: ``(X_train, y_train, X_test, y_test)``, X of (n, 1, 8, 8)."""
    X, y = digits()
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, test_fraction=0.25, seed=seed)
    return X_tr.reshape(-1, 1, 8, 8), y_tr, X_te.reshape(-1, 1, 8, 8), y_te


def train_briefly(model: nn.Module, X, y, steps: int = 200, lr: float = 1e-2,
                  batch_size: int | None = None, seed: int = 0) -> list[float]:
    """Train ``model`` in place with Adam and cross-entropy; returns the loss of every step."""
    steps, seed = check_int("steps", steps, 1, 100_000), check_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        idx = (torch.randint(0, len(X), (batch_size,), generator=gen) if batch_size
               else slice(None))
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of ``X`` classified as ``y`` (in eval mode, mode restored afterwards)."""
    was = model.training
    model.eval()
    with torch.no_grad():
        acc = float((model(X).argmax(1) == y).double().mean())
    model.train(was)
    return acc


def train_digits_cnn(steps: int = 300, seed: int = 0):
    """``digits_cnn`` trained with Adam (lr 3e-3, batches of 64); returns (model, data, acc)."""
    data = digits_images(seed)
    model = digits_cnn(seed)
    train_briefly(model, data[0], data[1], steps=steps, lr=3e-3, batch_size=64, seed=seed)
    return model, data, accuracy(model, data[2], data[3])


def transformer_stack(depth: int, norm_first: bool, seed: int = 0) -> nn.Sequential:
    """``depth`` Transformer encoder layers (d_model 32, 4 heads, no dropout) and a linear head.

    ``norm_first=False`` is the original post-norm layer, x -> LN(x + F(x)); ``True`` is
    pre-norm, x -> x + F(LN(x)), with a final LayerNorm as Xiong et al. (2020) use.
    """
    depth, seed = check_int("depth", depth, 1, 200), check_seed(seed)
    norm_first = check_bool("norm_first", norm_first)
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(D_MODEL, 4, dim_feedforward=2 * D_MODEL, dropout=0.0,
                                       batch_first=True, norm_first=norm_first)
    with warnings.catch_warnings():  # the nested-tensor fast path is off on purpose
        warnings.simplefilter("ignore")
        encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False,
                                        norm=nn.LayerNorm(D_MODEL) if norm_first else None)
    return nn.Sequential(encoder, nn.Flatten(), nn.Linear(D_MODEL * SEQ_LEN, CLASSES))


def sequence_task(n: int = 64, seed: int = 0):
    """Random sequences (n, 8, 32); the label is the largest of the first 4 feature means."""
    gen = torch.Generator().manual_seed(check_seed(seed))
    X = torch.randn(check_int("n", n, 1, 10**6), SEQ_LEN, SEQ_FEATURES, generator=gen)
    return X, X.mean(1)[:, :CLASSES].argmax(1)


def ffn_grad_norms(model: nn.Sequential, X, y) -> np.ndarray:
    """||dL/dW|| of each encoder layer's first feed-forward weight, first layer first."""
    weights = [layer.linear1.weight for layer in model[0].layers]
    loss = nn.functional.cross_entropy(model(X), y)
    return np.array([float(g.double().norm()) for g in torch.autograd.grad(loss, weights)])


@dataclass(frozen=True)
class NormPositionProfiles:
    """Gradient norms of the feed-forward weights, per depth, for post- and pre-norm."""

    depths: tuple[int, ...]
    post: dict  # depth -> (depth,) array, first layer first
    pre: dict

    def last_layer(self, kind: str) -> np.ndarray:
        """The last layer's norm at each depth (``kind``: "post" or "pre")."""
        table = {"post": self.post, "pre": self.pre}[kind]
        return np.array([table[d][-1] for d in self.depths])


def norm_position_profiles(depths=(3, 6, 12, 24), seed: int = 0) -> NormPositionProfiles:
    """Measure ``ffn_grad_norms`` at initialisation for both norm positions at each depth."""
    X, y = sequence_task(seed=seed)
    depths = tuple(check_int("depth", d, 1, 200) for d in depths)
    post = {d: ffn_grad_norms(transformer_stack(d, False, seed), X, y) for d in depths}
    pre = {d: ffn_grad_norms(transformer_stack(d, True, seed), X, y) for d in depths}
    return NormPositionProfiles(depths, post, pre)


# -- mystery models -----------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Mystery:
    """A model and the batch it is meant to learn; measure it to find what is wrong."""

    model: nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor

    def __repr__(self) -> str:
        return (f"Mystery(inputs {tuple(self.inputs.shape)}, targets {tuple(self.targets.shape)})"
                f"\n{self.model}")


class SequenceClassifier(nn.Module):
    """An ``nn.RNN`` over the sequence and a linear head on its last hidden state."""

    def __init__(self, features: int, hidden: int, classes: int):
        super().__init__()
        self.rnn = nn.RNN(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):  # x: (batch, time, features)
        out, _ = self.rnn(x)  # (batch, time, hidden)
        return self.head(out[:, -1])


def mlp(activation: type, in_features: int = 10, width: int = 64, depth: int = 4,
        classes: int = 4) -> nn.Sequential:
    """Linear -> activation, ``depth`` times, then a Linear head (PyTorch's default init)."""
    sizes = [in_features] + [width] * depth
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), activation()]
    return nn.Sequential(*layers, nn.Linear(width, classes))


def mystery_data(letter: str, seed: int = 0):
    """The batch mystery model ``letter`` learns: ``(inputs, targets)``."""
    if letter == "C":
        gen = torch.Generator().manual_seed(seed)
        X = torch.randn(128, 30, 8, generator=gen)  # (batch, time, features)
        return X, X[:, -3:, :4].mean(1).argmax(1)
    return teacher(256, in_features=10, classes=4, seed=seed)


def _scaled(model: nn.Module, gain: float, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, gain / math.sqrt(m.in_features))
                m.bias.zero_()
    return model


def mystery_models(seed: int = 0) -> dict[str, Mystery]:
    """Three models, "A", "B" and "C", each with one thing wrong that measurement reveals."""
    seed = check_seed(seed)
    out = {}
    X, y = mystery_data("A", seed)
    out["A"] = Mystery(_scaled(mlp(nn.Tanh), 3.0, seed), X, y)
    model = _scaled(mlp(nn.ReLU), math.sqrt(2.0), seed + 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    for _ in range(3):  # a few steps of training
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    out["B"] = Mystery(model, X, y)
    X, y = mystery_data("C", seed)
    torch.manual_seed(seed)
    rnn = SequenceClassifier(8, 32, 4)
    with torch.no_grad():
        q, _ = torch.linalg.qr(torch.randn(32, 32))
        rnn.rnn.weight_hh_l0.copy_(3.0 * q)
    out["C"] = Mystery(rnn, X, y)
    return out
