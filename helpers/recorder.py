"""``capture_pass``: one forward and backward pass of any model, keeping each layer's tensors.

What is recorded: every parameter that is a weight matrix or kernel (``ndim >= 2``,
whatever its name: ``weight``, ``in_proj_weight``, ``weight_hh_l0``, GPT-2's ``Conv1D``
weights, embedding tables), one entry per parameter, in forward order, with the qualified
name of the module it belongs to. A tied parameter is reported once, under its first
name. A parametrized weight (``weight_norm``, ``spectral_norm``, ...) is reported by the
tensors the layer really trains, ``parametrizations.weight.original*``, and names its
parametrization. A frozen parameter (``requires_grad=False``) is reported as frozen,
without a gradient.

Each entry's *activation* is its module's output passed through the activation module
(``nn.Tanh``, ``nn.ReLU``, ... see ``helpers.activations.MODULE_TYPES``) called right after
it, or the module's output itself ("linear"); a tuple output counts by its first tensor;
"n/a" if the module returned no tensor or was not called itself (e.g. the ``out_proj`` of
``nn.MultiheadAttention``, whose weight its parent uses directly). Only a module's first
call in a pass is measured. The input of an in-place activation (``inplace=True``) is
copied before it is overwritten; a recorded tensor changed in place later (``h += x``)
is refused with an error naming the module, since its statistics would be wrong. Each
activation module's first call is also kept on its own (``unit_*`` fields, by qualified
name), whether or not it follows a layer (a pre-norm block's activation, GPT-2's GELU).

The course's own networks (``helpers.models.MLP`` as ``build_mlp`` makes them) record these
tensors as they run; any other model gets forward hooks for the duration of one call,
always removed. Gradients come from ``torch.autograd.grad``, so ``.grad`` fields are never
touched, and buffers (BatchNorm's running statistics) are restored afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from helpers.activation_modules import MODULE_TYPES, activation_name
from helpers.model_io import call_model, compute_loss, first_tensor, model_inputs
from helpers.models import MLP, Block, preserved_buffers

__all__ = ["CapturedPass", "capture_pass", "NOT_MEASURED"]

NOT_MEASURED = "n/a"
@dataclass(frozen=True)
class CapturedPass:
    """The raw tensors of one measured pass, one entry per weight parameter."""

    layer_names: tuple[str, ...]  # qualified name of each parameter's module
    param_names: tuple[str, ...]  # its name in the module: "weight", "weight.original0", ...
    activations: tuple[str, ...]  # activation name ("linear": module output, "n/a": none)
    frozen: tuple[bool, ...]  # requires_grad is False: no gradient is taken
    parametrizations: tuple[str, ...]  # e.g. "WeightNorm" for a parametrized weight, else ""
    weights: list  # each parameter, detached
    pre_activations: list  # the activation's input per entry (None: not measured)
    outputs: list  # the activation's output per entry (None: not measured)
    weight_grads: list  # dLoss/dW per entry (None: frozen)
    output_grads: list  # dLoss/d(activation output) per entry (None: not measured)
    loss: torch.Tensor
    dtype: torch.dtype
    # each activation module's first call, in call order
    unit_names: tuple[str, ...] = ()  # its qualified name
    unit_activations: tuple[str, ...] = ()  # its registry name ("relu", "gelu", ...)
    unit_inputs: list = field(default_factory=list)  # its input (the pre-activation)
    unit_outputs: list = field(default_factory=list)  # its output
    unit_output_grads: list = field(default_factory=list)  # dLoss/d output (None: no grad)


def _weight_params(model: nn.Module):
    """(module name, parameter name, parametrization, parameter) of every weight, once."""
    found = []
    for name, p in model.named_parameters():
        if p.ndim < 2:
            continue
        if ".parametrizations." in f".{name}":
            mod, _, rest = f".{name}".partition(".parametrizations.")
            mod = mod[1:]
            attr = rest.split(".")[0]
            owner = model.get_submodule(mod)
            kinds = "+".join(type(f).__name__.lstrip("_") for f in owner.parametrizations[attr])
            found.append((mod, rest, kinds, p))
        else:
            mod, _, pname = name.rpartition(".")
            found.append((mod, pname, "", p))
    return found


def capture_pass(model: nn.Module, X, y=None, loss="cross_entropy") -> CapturedPass:
    """One forward and backward pass of ``model``, keeping each weight's tensors.

    This is the capture half of ``gradient_profile``; ``X``, ``y`` and ``loss`` are as
    there (a tensor, tuple or dict ``X``; ``loss`` a name or a callable of the output).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X, y = model_inputs(model, X, y)
    if y is None and not callable(loss):
        raise ValueError("y is None: give targets y, or loss as a callable of the output alone")

    events: list[tuple] = []  # ("linear", module, out) / ("act", name, z, a, module)
    versions: dict[int, tuple] = {}  # id -> (tensor, version when recorded)
    own_modules = _built_mlp_modules(model)
    own = own_modules is not None
    if own:
        names = {block.linear: f"blocks.{i}.linear" for i, block in enumerate(model.blocks)}
        names[model.output] = "output"
        params = [(names[m], "weight", "", m.weight) for m in names]
        by_name = {n: m for m, n in names.items()}
        modules = own_modules
        # the blocks record their activations' calls in block order, without the module
        acts = iter([b.act for b in model.blocks if activation_name(b.act) is not None])
        names.update({b.act: f"blocks.{i}.act" for i, b in enumerate(model.blocks)})
    else:  # walk the module tree once: it is slow on deep nets
        names = {m: n for n, m in model.named_modules()}
        by_name = {n: m for m, n in names.items()}
        params = _weight_params(model)
        modules = list(names)
    if not params:
        raise ValueError("the model has no weight parameter (a tensor with 2 or more dimensions)")
    handles = []
    # Buffers are restored only after the backward pass, which checks that BatchNorm's
    # buffers are unchanged since the forward (their version counter); also when it raised.
    with preserved_buffers(modules, recurse=False):
        try:
            if not own:
                layer_modules = {by_name[mod] for mod, *_ in params}
                copies: dict[int, torch.Tensor] = {}

                def keep(t):
                    if t is not None:
                        versions[id(t)] = (t, t._version)
                    return t

                def on_layer(module, inputs, out):
                    events.append(("linear", module, keep(first_tensor(out))))

                def before_inplace_act(module, inputs):
                    copies[id(module)] = inputs[0].detach().clone()

                def on_act(module, inputs, out):
                    z = copies.pop(id(module), None)
                    z = keep(inputs[0]) if z is None else z
                    events.append(("act", activation_name(module), z, keep(out), module))

                for m in modules:
                    if m in layer_modules:
                        handles.append(m.register_forward_hook(on_layer))
                    elif activation_name(m) is not None:
                        if getattr(m, "inplace", False):
                            handles.append(m.register_forward_pre_hook(before_inplace_act))
                        handles.append(m.register_forward_hook(on_act))
            with torch.enable_grad():
                out = model(X, record=events) if own else call_model(model, X)
                loss_value = compute_loss(out, y, loss)
            if loss_value.numel() != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs: the loss has "
                    f"shape {tuple(loss_value.shape)}; reduce it to a scalar")

            if own:
                events = [(*ev, next(acts)) if ev[0] == "act" else ev for ev in events]
            records = _pair(events)
            units = _units(events, names)
            for module, z, a in [(r["module"], r["z"], r["a"]) for r in records.values()] + [
                    (u[4], u[2], u[3]) for u in units]:
                for t in (z, a):
                    if t is not None and id(t) in versions and t._version != versions[id(t)][1]:
                        raise ValueError(
                            f"a tensor recorded at module {names[module]!r} "
                            f"({type(module).__name__}) was changed in place after it was "
                            "computed (e.g. `h += x` or an in-place activation further on), so "
                            "its statistics and gradient cannot be measured; write `h = h + x` "
                            "or use inplace=False there")
            order = {m: i for i, m in enumerate(records)}
            entries = []
            for k, (mod, pname, kind, p) in enumerate(params):
                module = by_name[mod]
                pos = order.get(module)
                if pos is None:  # not called itself: placed after the nearest called ancestor
                    parts = mod.split(".")
                    while pos is None and parts:
                        parts.pop()
                        pos = order.get(by_name.get(".".join(parts)))
                entries.append((len(order) if pos is None else pos, k, module, mod, pname, kind, p))
            entries.sort(key=lambda e: e[:2])
            trainable = [e[6] for e in entries if e[6].requires_grad]
            acts = list({id(a): a for a in [r["a"] for r in records.values()]
                         + [u[3] for u in units] if a is not None and a.requires_grad}.values())
            if not loss_value.requires_grad:
                raise ValueError("the loss does not depend on any parameter that requires a "
                                 "gradient: every weight taking part is frozen; unfreeze the "
                                 "ones to measure with requires_grad_(True)")
            grads = torch.autograd.grad(loss_value, trainable + acts, allow_unused=True)
        finally:
            for h in handles:
                h.remove()
    wgrad = {id(p): g for p, g in zip(trainable, grads[:len(trainable)], strict=True)}
    agrad = {id(a): g for a, g in zip(acts, grads[len(trainable):], strict=True)}
    kept = [e for e in entries if e[2] in records or wgrad.get(id(e[6])) is not None]
    if not kept:
        raise ValueError("no weight parameter of the model takes part in the forward pass")
    recs = [records.get(e[2]) for e in kept]
    outs = [r["a"] if r is not None else None for r in recs]
    first = next((p for p in model.parameters() if p.is_floating_point()), None)
    return CapturedPass(
        layer_names=tuple(e[3] for e in kept), param_names=tuple(e[4] for e in kept),
        activations=tuple(r["act"] if r is not None else NOT_MEASURED for r in recs),
        frozen=tuple(not e[6].requires_grad for e in kept),
        parametrizations=tuple(e[5] for e in kept),
        weights=[e[6].detach() for e in kept],
        pre_activations=[r["z"].detach() if r is not None and r["z"] is not None else None
                         for r in recs],
        outputs=[a.detach() if a is not None else None for a in outs],
        weight_grads=[None if not e[6].requires_grad else
                      (wgrad[id(e[6])] if wgrad[id(e[6])] is not None
                       else torch.zeros_like(e[6])) for e in kept],
        output_grads=[None if a is None else agrad.get(id(a)) if agrad.get(id(a)) is not None
                      else torch.zeros_like(a) for a in outs],
        loss=loss_value.detach(), dtype=first.dtype if first is not None else loss_value.dtype,
        unit_names=tuple(u[0] for u in units), unit_activations=tuple(u[1] for u in units),
        unit_inputs=[u[2].detach() for u in units], unit_outputs=[u[3].detach() for u in units],
        unit_output_grads=[None if not a.requires_grad else agrad[id(a)] if agrad[id(a)]
                           is not None else torch.zeros_like(a) for a in (u[3] for u in units)],
    )


def _units(events: list, names: dict) -> list:
    """(name, activation, input, output, module) of each activation module's first call."""
    units, seen = [], set()
    for ev in events:
        if ev[0] == "act" and ev[4] not in seen and isinstance(ev[3], torch.Tensor):
            seen.add(ev[4])
            units.append((names[ev[4]], *ev[1:]))
    return units


def _pair(events: list) -> dict:
    """Module -> {"module", "z", "a", "act"}: each layer's first call, paired with the
    activation called right after it (a repeated call pairs with nothing)."""
    records: dict = {}
    last = None
    for ev in events:
        if ev[0] == "linear":
            if ev[1] in records:
                last = None  # a repeated call: nothing after it pairs with a layer
                continue
            last = records[ev[1]] = {"module": ev[1], "z": ev[2], "a": ev[2],
                                     "act": "linear" if ev[2] is not None else NOT_MEASURED}
        elif last is not None and last["act"] == "linear":
            last.update(z=ev[2], a=ev[3], act=ev[1])
            last = None
        else:
            last = None
    return records


_NORM_TYPES = (nn.Identity, nn.BatchNorm1d, nn.LayerNorm)
_BLOCK_PARTS = {"linear", "norm", "act"}
_GLOBAL_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
                 "_global_backward_pre_hooks")


def _built_mlp_modules(model: nn.Module) -> list[nn.Module] | None:
    """Every module of ``model`` if it is an ``MLP`` exactly as ``build_mlp`` makes it, so
    that its forward pass can record its own layers; None if anything was swapped in,
    subclassed, shared, patched, added or hooked (such models are measured with hooks)."""
    if type(model) is not MLP or model._modules.keys() != {"blocks", "output"}:
        return None
    blocks, output = model._modules["blocks"], model._modules["output"]
    if type(blocks) is not nn.ModuleList or type(output) is not nn.Linear:
        return None
    modules = [model, blocks, output]
    for block in blocks._modules.values():  # _modules directly: attribute access is slow
        if type(block) is not Block:
            return None
        parts = block._modules
        if (parts.keys() != _BLOCK_PARTS or type(parts["linear"]) is not nn.Linear
                or type(parts["norm"]) not in _NORM_TYPES
                or type(parts["act"]) not in MODULE_TYPES):
            return None
        modules += (block, parts["linear"], parts["norm"], parts["act"])
    if len(set(map(id, modules))) != len(modules):
        return None  # a module used twice: the hooks' first-call rules apply
    for m in modules:
        if (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                or m._backward_pre_hooks or "forward" in m.__dict__):
            return None
    if any(getattr(torch.nn.modules.module, h) for h in _GLOBAL_HOOKS):
        return None
    return modules
