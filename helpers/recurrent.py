"""Recurrent networks configured by one dataclass, and the gradient through time.

``RecurrentConfig`` describes a one-layer ``torch.nn.RNN`` (tanh or ReLU), ``nn.LSTM`` or
``nn.GRU`` with a linear read-out of the last hidden state; ``build_recurrent`` builds it
with the chosen recurrent initialisation. ``through_time_profile`` runs one
forward/backward pass of a loss on the last step and returns ``||dL/dh_t||`` for every
step ``t`` (and, for the LSTM, ``||dL/dc_t||`` and the part of it carried by the cell path
alone, ``dL/dc_T`` multiplied by the forget gates) as NumPy arrays.

The profile unrolls the recurrence step by step with the module's own weights (the
formulas of PyTorch's ``RNNCell``/``LSTMCell``/``GRUCell``, gate order included), because
``nn.RNN`` returns each ``h_t`` only as an output, not as the tensor the next step uses:
the gradient with respect to its output sequence misses everything that flows back
through later steps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from helpers.validation import check_choice, check_float, check_int, check_seed

CELLS = ("rnn", "lstm", "gru")
NONLINEARITIES = ("tanh", "relu")
RECURRENT_INITS = ("default", "orthogonal", "spectral")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks stacked in weight_hh (PyTorch's layout)
MAX_HIDDEN = 4096


@dataclass(frozen=True)
class RecurrentConfig:
    """Everything that defines a recurrent net; the same config builds identical weights."""

    cell: str = "rnn"  # "rnn" (Elman), "lstm" or "gru"
    nonlinearity: str = "tanh"  # the vanilla RNN's phi: "tanh" or "relu" (rnn only)
    hidden: int = 32  # units in the hidden state h_t
    input_size: int = 2  # features per time step
    output_size: int = 1  # read-out outputs (classes, or 1 for regression)
    init: str = "default"  # recurrent weights W_hh: "default" (PyTorch's uniform),
    #                        "orthogonal" (Q times spectral_radius, default 1) or
    #                        "spectral" (Gaussian rescaled to spectral_radius, required)
    spectral_radius: float | None = None  # largest |eigenvalue| of each W_hh gate block
    forget_bias: float | None = None  # LSTM only: total forget-gate bias (None: PyTorch's)
    seed: int = 0  # seeds every weight
    dtype: str = "float32"  # "float32" or "float64" (float64 keeps tiny gradients)

    def __post_init__(self):
        check_choice("cell", self.cell, CELLS)
        check_choice("nonlinearity", self.nonlinearity, NONLINEARITIES)
        if self.cell != "rnn" and self.nonlinearity != "tanh":
            raise ValueError(f"nonlinearity applies to cell 'rnn' only; the {self.cell} "
                             "has its own gates (leave nonlinearity='tanh')")
        check_int("hidden", self.hidden, 1, MAX_HIDDEN)
        check_int("input_size", self.input_size, 1, 10**6)
        check_int("output_size", self.output_size, 1, 10**6)
        check_choice("init", self.init, RECURRENT_INITS)
        if self.init == "default" and self.spectral_radius is not None:
            raise ValueError("spectral_radius needs init='orthogonal' or 'spectral'")
        if self.init == "spectral" and self.spectral_radius is None:
            raise ValueError("init='spectral' needs spectral_radius (e.g. 1.0)")
        if self.spectral_radius is not None:
            check_float("spectral_radius", self.spectral_radius, 0.0, 100.0, lo_open=True)
        if self.forget_bias is not None:
            if self.cell != "lstm":
                raise ValueError(f"forget_bias applies to cell 'lstm' only, not {self.cell!r}")
            check_float("forget_bias", self.forget_bias, -100.0, 100.0)
        check_seed(self.seed)
        check_choice("dtype", self.dtype, DTYPES)

    def replace(self, **changes) -> RecurrentConfig:
        """A copy with some fields changed (validated like a new config)."""
        return RecurrentConfig(**{**asdict(self), **changes})


class RecurrentNet(nn.Module):
    """``nn.RNN``/``nn.LSTM``/``nn.GRU`` (batch first) + a Linear read-out of the last state."""

    def __init__(self, config: RecurrentConfig):
        super().__init__()
        self.config = config
        kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.cell]
        extra = {"nonlinearity": config.nonlinearity} if config.cell == "rnn" else {}
        self.rnn = kind(config.input_size, config.hidden, batch_first=True, **extra)
        self.readout = nn.Linear(config.hidden, config.output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, T, input_size) -> (batch, output_size), read from h_T."""
        out, _ = self.rnn(x)  # (batch, T, hidden)
        return self.readout(out[:, -1])


def scaled_matrix(n: int, radius: float, kind: str = "spectral", seed: int = 0) -> torch.Tensor:
    """An ``n x n`` float64 matrix with spectral radius ``radius``.

    ``kind="spectral"``: i.i.d. Gaussian entries rescaled by ``radius / max|eig|`` (its
    spectral norm is then about twice its radius); ``"orthogonal"``: a random orthogonal
    matrix times ``radius`` (norm = radius).
    """
    n = check_int("n", n, 1, MAX_HIDDEN)
    radius = check_float("radius", radius, 0.0, 100.0, lo_open=True)
    check_choice("kind", kind, ("spectral", "orthogonal"))
    g = torch.Generator().manual_seed(check_seed(seed))
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    if kind == "orthogonal":
        q, r = torch.linalg.qr(a)
        return q * torch.sign(torch.diagonal(r)) * radius  # Haar-distributed Q, times radius
    return a * (radius / torch.linalg.eigvals(a).abs().max().item())


def build_recurrent(config: RecurrentConfig) -> RecurrentNet:
    """A ``RecurrentNet`` with the weights ``config`` describes (seeded, in its dtype)."""
    if not isinstance(config, RecurrentConfig):
        raise TypeError(f"config must be a RecurrentConfig, got {type(config).__name__}")
    torch.manual_seed(config.seed)
    # PyTorch draws its default weights in float32; cast before writing W_hh, so that a
    # float64 net holds the chosen recurrent matrix to float64 precision
    net = RecurrentNet(config).to(DTYPES[config.dtype])
    h = config.hidden
    with torch.no_grad():
        if config.init != "default":
            radius = 1.0 if config.spectral_radius is None else config.spectral_radius
            w = net.rnn.weight_hh_l0  # (gates * hidden, hidden)
            for k in range(GATES[config.cell]):
                w[k * h:(k + 1) * h] = scaled_matrix(h, radius, config.init,
                                                     seed=config.seed * 7 + k + 1)
        if config.forget_bias is not None:  # PyTorch's LSTM gate order: input, forget, cell, output
            net.rnn.bias_ih_l0[h:2 * h] = config.forget_bias
            net.rnn.bias_hh_l0[h:2 * h] = 0.0
    return net


def recurrent_weights(net: RecurrentNet) -> dict[str, torch.Tensor]:
    """The one-layer recurrent weights by PyTorch's names (``weight_hh`` etc., no ``_l0``)."""
    if not isinstance(net, RecurrentNet):
        raise TypeError(f"net must be a RecurrentNet (from build_recurrent), got "
                        f"{type(net).__name__}")
    return {n: getattr(net.rnn, f"{n}_l0") for n in ("weight_ih", "weight_hh", "bias_ih",
                                                     "bias_hh")}


def unroll(net: RecurrentNet, x: torch.Tensor):
    """Run ``net``'s recurrence step by step; returns ``(hs, cs, forget)`` lists of tensors.

    ``hs[t]`` is h_{t+1} (batch, hidden) as used by the next step; for the LSTM ``cs[t]``
    is c_{t+1} and ``forget[t]`` its forget gate (empty lists for the other cells).
    """
    c = net.config
    w = recurrent_weights(net)
    batch, steps, _ = x.shape
    h = x.new_zeros(batch, c.hidden)
    cell = x.new_zeros(batch, c.hidden)
    hs, cs, forget = [], [], []
    for t in range(steps):
        gx = x[:, t] @ w["weight_ih"].T + w["bias_ih"]  # (batch, gates * hidden)
        gh = h @ w["weight_hh"].T + w["bias_hh"]  # (batch, gates * hidden)
        if c.cell == "rnn":
            pre = gx + gh
            h = torch.tanh(pre) if c.nonlinearity == "tanh" else torch.relu(pre)
        elif c.cell == "lstm":
            i, f, g, o = (gx + gh).chunk(4, dim=1)
            f = torch.sigmoid(f)
            cell = f * cell + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(cell)
            cs.append(cell)
            forget.append(f)
        else:  # GRU: reset r, update z, candidate n; h' = (1 - z) n + z h
            xr, xz, xn = gx.chunk(3, dim=1)
            hr, hz, hn = gh.chunk(3, dim=1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
        hs.append(h)
    return hs, cs, forget


@dataclass(frozen=True, repr=False)
class ThroughTimeProfile:
    """``||dL/dh_t||`` for t = 1..T of one pass (norms over the batch and units), NumPy only."""

    config: RecurrentConfig
    steps: int  # T
    h_grad_norm: np.ndarray  # (T,) ||dL/dh_t||, total: through every later step
    c_grad_norm: np.ndarray | None  # LSTM: (T,) ||dL/dc_t|| total
    cell_path_norm: np.ndarray | None  # LSTM: (T,) ||dL/dc_T * f_T * ... * f_{t+1}||
    forget_mean: np.ndarray | None  # LSTM: (T,) mean forget gate at each step
    loss: float

    @property
    def ratio(self) -> float:
        """``||dL/dh_1|| / ||dL/dh_T||``: how much of the last step's gradient reaches step 1."""
        return float(self.h_grad_norm[0] / self.h_grad_norm[-1])

    def __repr__(self) -> str:
        c = self.config
        name = f"rnn ({c.nonlinearity})" if c.cell == "rnn" else c.cell
        return (f"ThroughTimeProfile({name}, hidden {c.hidden}, T={self.steps}, "
                f"loss {self.loss:.4g}, ||dL/dh_1|| / ||dL/dh_T|| = {self.ratio:.3g})")


def _norms(tensors) -> np.ndarray:
    return torch.stack([t.detach().norm() for t in tensors]).double().numpy()


def through_time_profile(net: RecurrentNet, x: torch.Tensor, y: torch.Tensor,
                         loss: str = "auto") -> ThroughTimeProfile:
    """One forward/backward pass of the loss on the last step; the gradient at every step.

    Args:
        net: a ``RecurrentNet`` (its parameters' ``.grad`` are left untouched).
        x: (batch, T, input_size); cast to the net's dtype.
        y: targets of the read-out: int64 classes (cross-entropy) or floats of shape
            (batch,) or (batch, output_size) (mean squared error).
        loss: ``"auto"`` (by ``y``'s dtype), ``"cross_entropy"`` or ``"mse"``.
    """
    if not isinstance(net, RecurrentNet):
        raise TypeError(f"net must be a RecurrentNet (from build_recurrent), got "
                        f"{type(net).__name__}")
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[1] < 1:
        raise ValueError("x must be a tensor of shape (batch, T, input_size) with T >= 1, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if x.shape[2] != net.config.input_size:
        raise ValueError(f"x has {x.shape[2]} features per step; the net expects "
                         f"{net.config.input_size}")
    if not isinstance(y, torch.Tensor) or len(y) != len(x):
        raise ValueError("y must be a tensor with one target per sequence of x")
    loss = check_choice("loss", loss, ("auto", "cross_entropy", "mse"))
    if loss == "auto":
        loss = "mse" if y.is_floating_point() else "cross_entropy"
    dtype = DTYPES[net.config.dtype]
    x = x.to(dtype)
    with torch.enable_grad():
        hs, cs, forget = unroll(net, x)
        out = net.readout(hs[-1])  # (batch, output_size)
        if loss == "cross_entropy":
            value = nn.functional.cross_entropy(out, y.long())
        else:
            value = nn.functional.mse_loss(out, y.to(dtype).reshape(out.shape))
        grads = torch.autograd.grad(value, hs + cs)  # every h_t and c_t reaches h_T
    hs_grad, cs_grad = grads[:len(hs)], grads[len(hs):]
    c_norm = path = f_mean = None
    if cs:
        c_norm = _norms(cs_grad)
        # Along the cell path alone, dc_T/dc_t = diag(f_T ... f_{t+1}): a product of gates.
        carried, path_list = cs_grad[-1].detach(), []
        for t in range(len(cs) - 1, -1, -1):
            path_list.append(carried.norm())
            carried = carried * forget[t].detach()
        path = torch.stack(path_list[::-1]).double().numpy()
        f_mean = torch.stack([f.detach().mean() for f in forget]).double().numpy()
    return ThroughTimeProfile(net.config, x.shape[1], _norms(hs_grad), c_norm, path, f_mean,
                              float(value.detach()))
