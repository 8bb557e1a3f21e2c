"""Multi-layer perceptrons configured by one dataclass, ``MLPConfig``.

A network of ``depth`` hidden layers has ``depth + 1`` ``nn.Linear`` layers::

    x -> [Linear -> norm -> activation] x depth -> Linear -> logits

Each ``[...]`` is a ``Block``. With ``residual=True`` a block whose input and output widths
match adds its input to its output: ``x_{l+1} = x_l + phi(norm(W x_l + b))`` (the first block
maps ``in_features`` to ``width`` and is residual only if those are equal).

Where the norm sits in a residual block is ``norm_position``:

* ``"inside"`` (default): ``x + phi(norm(W x + b))``, the same layer order as a plain block;
* ``"pre"``: ``x + W phi(norm(x)) + b``, pre-norm: the skip path carries ``x`` untouched;
* ``"post"``: ``norm(x + phi(W x + b))``, post-norm (as in the original Transformer): every
  block's output, skip path included, passes through the norm.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from helpers.activation_modules import activation_name, get_activation
from helpers.activations import ACTIVATIONS, LEAKY_SLOPE, get_spec
from helpers.validation import check_bool, check_choice, check_float, check_int, check_seed

NORMS = (None, "batch", "layer")
INITS = ("default", "xavier", "he", "orthogonal", "normal", "mean_field")
NORM_POSITIONS = ("inside", "pre", "post")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
MAX_DEPTH = 1000
MAX_WIDTH = 8192
MAX_PARAMETER_GIB = 4  # refuse networks whose weights alone would need more memory


@dataclass(frozen=True)
class MLPConfig:
    """Everything that defines a network; the same config builds identical weights."""

    depth: int = 10  # number of hidden layers (each Linear -> norm -> activation), >= 1
    width: int = 64  # units per hidden layer, >= 1
    activation: str = "tanh"  # a key of helpers.activations.ACTIVATIONS
    norm: str | None = None  # None, "batch" (BatchNorm1d) or "layer" (LayerNorm), before phi
    init: str = "default"  # "default" (PyTorch), "xavier", "he", "orthogonal", "normal",
    #                        or "mean_field" (W ~ N(0, sigma_w2 / fan_in), b ~ N(0, sigma_b2))
    weight_std: float = 0.1  # std of every weight when init == "normal" (biases are 0)
    sigma_w2: float = 1.0  # weight variance times fan_in when init == "mean_field"
    sigma_b2: float = 0.0  # bias variance when init == "mean_field"
    residual: bool = False  # add each block's input to its output where widths match
    norm_position: str = "inside"  # residual blocks: "inside", "pre" or "post" (see above)
    in_features: int = 2  # input dimension (2 for the 2-D toy data sets)
    out_features: int = 2  # number of classes (or regression outputs)
    dtype: str = "float32"  # "float32" or "float64" (float64 keeps tiny gradients from underflow)
    seed: int = 0  # seeds the weight initialisation

    def __post_init__(self):
        for field, lo, hi in (("depth", 1, MAX_DEPTH), ("width", 1, MAX_WIDTH),
                              ("in_features", 1, 10**6), ("out_features", 1, 10**6)):
            object.__setattr__(self, field, check_int(field, getattr(self, field), lo, hi))
        object.__setattr__(self, "seed", check_seed(self.seed))
        get_spec(self.activation)
        check_choice("norm", self.norm, NORMS)
        check_choice("init", self.init, INITS)
        check_choice("dtype", self.dtype, DTYPES)
        for field in ("weight_std", "sigma_w2", "sigma_b2"):
            object.__setattr__(self, field, check_float(field, getattr(self, field), 0.0))
        check_bool("residual", self.residual)
        check_choice("norm_position", self.norm_position, NORM_POSITIONS)
        gib = self.parameter_count() * (8 if self.dtype == "float64" else 4) / 2**30
        if gib > MAX_PARAMETER_GIB:
            raise ValueError(f"this network would need {gib:.1f} GiB for its weights alone "
                             f"(more than {MAX_PARAMETER_GIB} GiB): reduce depth, width, "
                             f"in_features or out_features")

    def parameter_count(self) -> int:
        """Number of weights and biases of the network (norm parameters included)."""
        norm = 2 * self.width * self.depth if self.norm is not None else 0
        return ((self.in_features + 1) * self.width + (self.depth - 1) * (self.width + 1)
                * self.width + (self.width + 1) * self.out_features + norm)

    def replace(self, **changes) -> MLPConfig:
        """A copy with some fields changed (validated like a new config)."""
        return MLPConfig(**{**asdict(self), **changes})


class Block(nn.Module):
    """One hidden layer: Linear -> optional norm -> activation, with an optional skip."""

    def __init__(self, n_in: int, n_out: int, activation: str, norm: str | None, residual: bool,
                 norm_position: str = "inside"):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.residual = residual and n_in == n_out
        self.position = norm_position if self.residual else "inside"
        if norm == "batch":
            self.norm = nn.BatchNorm1d(n_out)
        elif norm == "layer":
            self.norm = nn.LayerNorm(n_out)
        else:
            self.norm = nn.Identity()
        self.act = get_activation(activation)

    def forward(self, x: torch.Tensor, record: list[Any] | None = None) -> torch.Tensor:
        """(batch, n_in) -> (batch, n_out); ``record``: see ``MLP.forward``."""
        if self.position == "pre":
            return x + self._linear(self._act(self.norm(x), record), record)
        if self.position == "post":
            return self.norm(x + self._act(self._linear(x, record), record))
        h = self._act(self.norm(self._linear(x, record)), record)
        return x + h if self.residual else h

    def _linear(self, x: torch.Tensor, record: list[Any] | None) -> torch.Tensor:
        out = self.linear(x)
        if not torch.jit.is_scripting():  # TorchScript compiles the model without recording
            if record is not None:
                record.append(("linear", self.linear, out))
        return out

    def _act(self, z: torch.Tensor, record: list[Any] | None) -> torch.Tensor:
        out = self.act(z)
        if not torch.jit.is_scripting():
            if record is not None:
                name = activation_name(self.act)
                if name is not None:
                    record.append(("act", name, z, out))
        return out

    def extra_repr(self) -> str:
        return f"residual={self.residual}, norm_position={self.position!r}"


class MLP(nn.Module):
    """``depth`` hidden ``Block``s followed by a linear read-out; built by ``build_mlp``."""

    def __init__(self, config: MLPConfig):
        super().__init__()
        c = config
        self.config = config
        self.blocks = nn.ModuleList(
            Block(c.in_features if i == 0 else c.width, c.width, c.activation, c.norm, c.residual,
                  c.norm_position)
            for i in range(c.depth)
        )
        self.output = nn.Linear(c.width, c.out_features)

    def forward(self, x: torch.Tensor, record: list[Any] | None = None) -> torch.Tensor:
        """(batch, in) -> (batch, out).

        ``record``: if a list is given, each Linear call appends ``("linear", module,
        output)`` and each activation call ``("act", name, input, output)``, in call order:
        what ``helpers.capture`` would otherwise collect with a forward hook on every layer
        (a hook sends every call of its module down PyTorch's slower calling path).
        """
        for block in self.blocks:
            x = block(x, record=record)
        out = self.output(x)
        if not torch.jit.is_scripting():
            if record is not None:
                record.append(("linear", self.output, out))
        return out


@dataclass(frozen=True, repr=False)
class LayerTrace:
    """One forward pass of an ``MLP``, kept layer by layer (lists: one tensor per hidden block).

    Every measurement that needs a network's per-layer values takes them from here, so the
    block structure (norm position, skip connections) is read in one place: the ``MLP``'s
    own forward pass. Tensors are part of the autograd graph (differentiate the loss
    with respect to them).
    """

    preact: list  # (batch, width) each: the hidden Linear outputs W x + b, blocks 1..depth
    act_in: list  # (batch, width) each: the activation's input (the norm's output, if any)
    act_out: list  # (batch, width) each: the activation's output phi(.)
    block_out: list  # (batch, width) each: the block outputs x_1..x_depth (skip included)
    output: torch.Tensor  # (batch, out_features): the read-out

    def __repr__(self) -> str:
        return f"LayerTrace(depth={len(self.block_out)}, output {tuple(self.output.shape)})"


def trace_layers(model: MLP, x: torch.Tensor) -> LayerTrace:
    """Run ``x`` (batch, in_features) through ``model``, keeping every layer's values."""
    if not isinstance(model, MLP):
        raise TypeError(f"expected an MLP made by build_mlp, got {type(model).__name__}")
    preact, act_in, act_out, block_out = [], [], [], []
    h = x
    for block in model.blocks:
        record: list = []
        h = block(h, record=record)
        for event in record:  # ("linear", module, out) or ("act", name, input, output)
            if event[0] == "linear":
                preact.append(event[2])
            else:
                act_in.append(event[2])
                act_out.append(event[3])
        block_out.append(h)
    return LayerTrace(preact, act_in, act_out, block_out, model.output(h))


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The model's ``nn.Linear`` layers as (name, module), in registration order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]


def layer_names(config: MLPConfig) -> list[str]:
    """Readable names of the Linear layers: ``hidden 1`` ... ``hidden depth``, ``output``."""
    return [f"hidden {i + 1}" for i in range(config.depth)] + ["output"]


@torch.no_grad()
def init_weights(model: MLP, config: MLPConfig | None = None) -> MLP:
    """(Re-)initialise ``model``'s parameters in place as ``config`` says; returns ``model``.

    Re-initialising in place is much cheaper than building a new model, which matters
    when a slider moves. The result is identical to ``build_mlp(config)``. Every draw is
    made in float64 from the seed and then cast to the model's dtype, so a float32 and a
    float64 network of the same config hold the same weights (up to float32 rounding).
    """
    c = config or model.config
    gen = torch.Generator().manual_seed(c.seed)
    spec = ACTIVATIONS[c.activation]
    for _, lin in linear_layers(model):
        w = torch.empty(lin.weight.shape, dtype=torch.float64)  # (out, in): drawn in float64
        b = torch.zeros(lin.bias.shape, dtype=torch.float64)  # (out,)
        fan_out, fan_in = w.shape
        if c.init == "default":
            # PyTorch's nn.Linear default: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)).
            bound = 1.0 / math.sqrt(fan_in)
            w.uniform_(-bound, bound, generator=gen)
            b.uniform_(-bound, bound, generator=gen)
        elif c.init == "xavier":  # Glorot & Bengio (2010): Var W = 2 / (fan_in + fan_out)
            w.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)), generator=gen)
        elif c.init == "he":  # He et al. (2015): Var W = gain^2 / fan_in, gain^2 = 2/(1+a^2)
            a = LEAKY_SLOPE if c.activation == "leaky_relu" else 0.0
            w.normal_(0.0, math.sqrt(2.0 / (1.0 + a * a) / fan_in), generator=gen)
        elif c.init == "orthogonal":  # Saxe et al. (2014), scaled by the activation's gain
            nn.init.orthogonal_(w, gain=spec.gain, generator=gen)
        elif c.init == "normal":
            w.normal_(0.0, c.weight_std, generator=gen)
        elif c.init == "mean_field":  # Poole et al. (2016); Schoenholz et al. (2017)
            w.normal_(0.0, math.sqrt(c.sigma_w2 / fan_in), generator=gen)
            if c.sigma_b2 > 0:
                b.normal_(0.0, math.sqrt(c.sigma_b2), generator=gen)
        lin.weight.copy_(w)  # cast to the model's dtype
        lin.bias.copy_(b)
    for m in model.modules():  # norms start as the identity map
        if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm)):
            m.reset_parameters()
            if isinstance(m, nn.BatchNorm1d):
                m.reset_running_stats()
    return model


def build_mlp(config: MLPConfig) -> MLP:
    """Build the network ``config`` describes; the same config gives identical weights."""
    if not isinstance(config, MLPConfig):
        raise TypeError(f"build_mlp expects an MLPConfig, got {type(config).__name__}")
    # Build on the meta device, then allocate and initialise once: PyTorch's own default
    # initialisation would be wasted work and would advance the global random generator.
    with torch.device("meta"):
        model = MLP(config)
    model = model.to_empty(device="cpu").to(DTYPES[config.dtype])
    return init_weights(model, config)


@contextmanager
def preserved_buffers(modules: nn.Module | Iterable[nn.Module], *,
                      recurse: bool = True) -> Iterator[None]:
    """Restore every buffer of ``modules`` (a model, or a list of modules) on exit.

    A train-mode forward moves BatchNorm's running statistics; a measurement must leave the
    model as it found it. The copies are written back when the ``with`` block ends, so a
    backward pass inside the block still sees the buffers it saved (autograd checks their
    version counters). With ``recurse=False`` only the modules' own buffers are kept, for a
    list that already holds every submodule.
    """
    if isinstance(modules, nn.Module):
        modules = [modules]
    buffers = [b for m in modules for b in m.buffers(recurse=recurse)]
    saved = [b.detach().clone() for b in buffers]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, s in zip(buffers, saved, strict=True):
                b.copy_(s)
