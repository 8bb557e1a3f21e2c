"""Tests for helpers.monitor.GradientMonitor on any nn.Module; autograd is the oracle."""

import copy
import gc
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracles import tiny_gradient_chain
from torch import nn

from helpers.capture import GradientMonitor as MonitorFromCapture
from helpers.capture import gradient_profile
from helpers.models import MLPConfig, build_mlp
from helpers.monitor import GradientMonitor, MonitorHistory


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    )


def layernorm_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 2))


def images(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(3, (n,), generator=g)


def inplace_relu_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 8),
                         nn.ReLU(inplace=True), nn.Linear(8, 2))


def vectors(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=g), torch.randint(2, (n,), generator=g)


def assert_no_hooks(model: nn.Module):
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
    for p in model.parameters():
        assert not getattr(p, "_post_accumulate_grad_hooks", None)


def dnorm(t):
    return torch.linalg.vector_norm(t.detach().double()).item()


@pytest.mark.parametrize("make, data, tracked", [
    (small_cnn, images, (("0", "Conv2d"), ("1", "ReLU"), ("4", "Linear"))),
    (layernorm_net, vectors, (("0", "Linear"), ("1", "LayerNorm"), ("2", "Tanh"),
                              ("3", "Linear"))),
    (inplace_relu_net, vectors, (("0", "Linear"), ("1", "ReLU"), ("2", "Linear"),
                                 ("3", "ReLU"), ("4", "Linear"))),
])
def test_records_match_manual_autograd(make, data, tracked):
    model = make()
    twin = copy.deepcopy(model)  # trained in lock-step by hand, without the monitor
    for m in twin.modules():  # the oracle keeps each output: no activation overwrites one
        if getattr(m, "inplace", False):
            m.inplace = False
    X, y = data()
    steps = 4
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    idx = [int(name) for name, _ in tracked]
    expected = {k: [] for k in ("mean", "std", "ograd", "wnorm", "wgrad", "update")}
    with GradientMonitor(model) as monitor:
        assert monitor.num_hooks > 0
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()

            twin_opt.zero_grad()
            h, outs = X, []
            for layer in twin:
                h = layer(h)
                h.retain_grad()
                outs.append(h)
            F.cross_entropy(h, y).backward()
            weights = [p for p in twin.parameters() if p.ndim >= 2]  # by shape, not name
            before = [w.detach().clone() for w in weights]
            twin_opt.step()
            expected["mean"].append([outs[i].detach().double().mean().item() for i in idx])
            expected["std"].append([outs[i].detach().double().std(correction=0).item()
                                    for i in idx])
            expected["ograd"].append([dnorm(outs[i].grad) for i in idx])
            expected["wnorm"].append([dnorm(b) for b in before])
            expected["wgrad"].append([dnorm(w.grad) for w in weights])
            expected["update"].append([dnorm(w.detach() - b) / dnorm(b)
                                       for w, b in zip(weights, before)])
    assert monitor.num_hooks == 0
    assert_no_hooks(model)
    h = monitor.history()
    assert isinstance(h, MonitorHistory)
    assert tuple(zip(h.module_names, h.module_types)) == tracked
    np.testing.assert_array_equal(h.steps, np.arange(steps))
    for field in ("output_mean", "output_std", "output_grad_norm"):
        assert getattr(h, field).shape == (steps, len(tracked))
    n_weights = len(expected["wnorm"][0])
    assert h.weight_names == tuple(n for n, p in model.named_parameters() if p.ndim >= 2)
    for field in ("weight_norm", "weight_grad_norm", "update_ratio"):
        assert getattr(h, field).shape == (steps, n_weights)
    # The monitored and the twin model compute bitwise the same tensors; the monitor sums
    # float32 tensors in float32 (relative error ~1e-7), the oracle in float64.
    std = np.asarray(expected["std"])
    np.testing.assert_allclose(h.output_mean, expected["mean"], rtol=1e-5, atol=1e-6 * std.max())
    np.testing.assert_allclose(h.output_std, expected["std"], rtol=1e-5)
    np.testing.assert_allclose(h.output_grad_norm, expected["ograd"], rtol=1e-5)
    np.testing.assert_allclose(h.weight_norm, expected["wnorm"], rtol=1e-5)
    np.testing.assert_allclose(h.weight_grad_norm, expected["wgrad"], rtol=1e-5)
    np.testing.assert_allclose(h.update_ratio, expected["update"], rtol=1e-5)
    assert np.all(h.update_ratio[np.isfinite(h.update_ratio)] > 0)
    np.testing.assert_allclose(h.grad_data_ratio, h.weight_grad_norm / h.weight_norm)


def test_update_ratio_matches_weights_before_and_after_with_adam():
    model = layernorm_net()
    X, y = vectors()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before, after = [], []
    with GradientMonitor(model) as monitor:
        for _ in range(3):
            before.append(model[0].weight.detach().clone())
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()
            after.append(model[0].weight.detach().clone())
    ratios = [dnorm(a.double() - b.double()) / dnorm(b) for a, b in zip(after, before)]
    np.testing.assert_allclose(monitor.history().update_ratio[:, 0], ratios, rtol=1e-5)


def train_steps(model, X, y, steps, monitor):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    outs, grads = [], []
    for _ in range(steps):
        opt.zero_grad()
        out = model(X)
        F.cross_entropy(out, y).backward()
        outs.append(out.detach().clone())
        grads.append([p.grad.clone() for p in model.parameters()])
        opt.step()
    return outs, grads


@pytest.mark.parametrize("make, data", [(small_cnn, images), (layernorm_net, vectors)])
def test_monitor_does_not_change_outputs_or_gradients(make, data):
    X, y = data()
    plain, watched = make(seed=3), make(seed=3)
    out_a, grad_a = train_steps(plain, X, y, 5, None)
    with GradientMonitor(watched):
        out_b, grad_b = train_steps(watched, X, y, 5, None)
    for a, b in zip(out_a, out_b):
        assert torch.equal(a, b)
    for ga, gb in zip(grad_a, grad_b):
        assert all(torch.equal(u, v) for u, v in zip(ga, gb))
    assert all(torch.equal(u, v) for u, v in zip(plain.parameters(), watched.parameters()))


def test_hooks_removed_when_the_body_raises():
    model = small_cnn()
    X, y = images()
    monitor = GradientMonitor(model)
    with pytest.raises(RuntimeError, match="boom"):
        with monitor:
            assert monitor.num_hooks == 1 + 3  # the step counter and 3 forward hooks
            F.cross_entropy(model(X), y).backward()
            raise RuntimeError("boom")
    assert monitor.num_hooks == 0
    assert_no_hooks(model)
    assert monitor.history().steps.tolist() == [0]


def test_hooks_removed_even_if_finishing_the_last_step_fails():
    model = layernorm_net()
    X, y = vectors()
    old_weight = model[0].weight
    monitor = GradientMonitor(model)
    def fail():
        raise AttributeError("the update ratio can no longer be measured")

    with pytest.raises(AttributeError):
        with monitor:
            F.cross_entropy(model(X), y).backward()
            monitor._finish_updates = fail
    assert monitor.num_hooks == 0
    assert not old_weight._post_accumulate_grad_hooks
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_nested_use_is_refused_and_cleans_up():
    model = layernorm_net()
    monitor = GradientMonitor(model)
    with pytest.raises(RuntimeError, match="already active"):
        with monitor:
            with monitor:
                pass
    assert monitor.num_hooks == 0
    assert_no_hooks(model)


def test_no_grad_forward_is_not_a_step_and_monitor_can_be_reused():
    model = layernorm_net()
    X, y = vectors()
    monitor = GradientMonitor(model, track_updates=False)
    with monitor:
        F.cross_entropy(model(X), y).backward()
        with torch.no_grad():
            model(X)
    with monitor:
        F.cross_entropy(model(X), y).backward()
    h = monitor.history()
    assert h.steps.tolist() == [0, 1]
    assert np.all(np.isnan(h.update_ratio))  # no weight copies kept
    assert h.weight_names == ("0.weight", "3.weight")  # LayerNorm's 1-D weight is no matrix
    assert np.all(np.isfinite(h.weight_grad_norm))


def test_empty_history_and_repr():
    model = layernorm_net()
    monitor = GradientMonitor(model)
    empty = monitor.history()
    assert empty.output_mean.shape == (0, 4) and len(empty.steps) == 0
    assert repr(empty) == "MonitorHistory(0 steps, 4 modules, 2 weights)"
    X, y = vectors()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with monitor:
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(X), y).backward()
            opt.step()
    h = monitor.history()
    text = repr(h)
    assert text.startswith("MonitorHistory(3 steps, 4 modules, 2 weights)")
    assert f"{h.weight_grad_norm[-1, 0]:.3e}" in text
    assert f"{np.nanmean(h.update_ratio[:, 1]):.3e}" in text
    assert "0.weight" in text and "3.weight" in text


def test_monitor_on_mlp_agrees_with_gradient_profile():
    model = build_mlp(MLPConfig(depth=3, width=8, activation="tanh", dtype="float64"))
    X, y = vectors()
    X = X[:, :2].double()
    p = gradient_profile(model, X, y)
    with GradientMonitor(model) as monitor:
        F.cross_entropy(model(X), y).backward()
    h = monitor.history()
    lin = [j for j, t in enumerate(h.module_types) if t == "Linear"]
    np.testing.assert_allclose(h.weight_grad_norm[0], p.weight_grad_norm, rtol=1e-10)
    acts = [j for j, t in enumerate(h.module_types) if t == "Tanh"] + [lin[-1]]
    np.testing.assert_allclose(h.output_grad_norm[0, acts], p.activation_grad_norm, rtol=1e-10)


def test_no_leak_over_many_uses():
    """Thousands of monitor uses and hundreds of profiles leave no hooks, tensors or objects."""
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    X, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])

    def train_cycle():
        with GradientMonitor(model) as monitor:
            F.cross_entropy(model(X), y).backward()
        monitor.history()
        model.zero_grad(set_to_none=True)
        gradient_profile(model, X, y)

    def counts():
        gc.collect()
        objects = gc.get_objects()
        return len(objects), sum(type(o) is torch.Tensor or type(o) is nn.Parameter
                                 for o in objects)

    for _ in range(20):  # warm up caches
        train_cycle()
    n_objects, n_tensors = counts()
    for _ in range(3000):
        with GradientMonitor(model) as monitor:
            assert monitor.num_hooks == 1 + 3
    for _ in range(100):
        train_cycle()
    del monitor
    objects_after, tensors_after = counts()
    assert tensors_after <= n_tensors + 5
    assert objects_after <= n_objects + 50  # one leaked object per use would add >= 100

    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        with GradientMonitor(model):
            pass
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    assert grown < 20_000  # bytes; one leaked hook handle per use would be ~50 kB
    assert_no_hooks(model)


def test_bad_models():
    assert MonitorFromCapture is GradientMonitor
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got list"):
        GradientMonitor([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="no module with parameters or a known activation"):
        GradientMonitor(nn.Sequential(nn.Flatten(), nn.Dropout()))


def test_hooks_removed_when_registration_fails():
    model = layernorm_net()

    def refuse(*args, **kwargs):
        raise RuntimeError("cannot hook this module")

    model[2].register_forward_hook = refuse  # the third tracked module refuses hooks
    monitor = GradientMonitor(model)
    with pytest.raises(RuntimeError, match="cannot hook"):
        with monitor:
            pass
    assert monitor.num_hooks == 0
    assert_no_hooks(model)
    del model[2].register_forward_hook
    with monitor:  # usable again once the module accepts hooks
        assert monitor.num_hooks > 0


def sgd_steps(model, X, y, steps, lr=0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()


def test_every_n_steps_records_those_steps_and_nothing_else():
    X, y = vectors()
    full, sparse = layernorm_net(), layernorm_net()
    with GradientMonitor(full) as every_step:
        sgd_steps(full, X, y, 7)
    hooks_seen = []
    with GradientMonitor(sparse, every=3) as monitor:
        opt = torch.optim.SGD(sparse.parameters(), lr=0.1)
        for _ in range(7):
            opt.zero_grad()
            F.cross_entropy(sparse(X), y).backward()
            hooks_seen.append(monitor.num_hooks)
            opt.step()
    h, ref = monitor.history(), every_step.history()
    assert h.steps.tolist() == [0, 3, 6]
    # recorded steps: the step counter and 4 module hooks; the others: the counter alone
    assert hooks_seen == [5, 1, 1, 5, 1, 1, 5]
    for field in ("output_mean", "output_std", "output_grad_norm", "weight_norm",
                  "weight_grad_norm", "update_ratio"):
        np.testing.assert_allclose(getattr(h, field), getattr(ref, field)[[0, 3, 6]],
                                   rtol=1e-12, err_msg=field)  # the same computation
    with pytest.raises(ValueError, match="every"):
        GradientMonitor(sparse, every=0)


def test_a_backward_after_exit_records_nothing():
    model = layernorm_net()
    X, y = vectors()
    with GradientMonitor(model) as monitor:
        loss = F.cross_entropy(model(X), y)
    loss.backward()  # after the block: neither output nor weight gradients are recorded
    h = monitor.history()
    assert h.steps.tolist() == [0]
    assert np.all(np.isfinite(h.output_mean)) and np.all(np.isfinite(h.weight_norm))
    assert np.all(np.isnan(h.output_grad_norm)) and np.all(np.isnan(h.weight_grad_norm))


def test_a_module_called_twice_is_recorded_at_its_first_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp, self.shared, self.out = nn.Linear(4, 8), nn.Linear(8, 8), nn.Linear(8, 2)

        def forward(self, x):
            return self.out(torch.tanh(self.shared(torch.tanh(self.shared(self.inp(x))))))

    torch.manual_seed(0)
    model = Twice()
    X, y = vectors()
    with GradientMonitor(model) as monitor:
        F.cross_entropy(model(X), y).backward()
    twin = copy.deepcopy(model)
    first = twin.shared(twin.inp(X))
    first.retain_grad()
    F.cross_entropy(twin.out(torch.tanh(twin.shared(torch.tanh(first)))), y).backward()
    h = monitor.history()
    j = h.module_names.index("shared")
    np.testing.assert_allclose(h.output_mean[0, j], first.detach().double().mean().item(),
                               rtol=1e-5)
    np.testing.assert_allclose(h.output_grad_norm[0, j], dnorm(first.grad), rtol=1e-5)
    k = h.weight_names.index("shared.weight")  # the total over both calls
    np.testing.assert_allclose(h.weight_grad_norm[0, k], dnorm(twin.shared.weight.grad),
                               rtol=1e-5)


def test_monitor_norms_of_tiny_float64_gradients_are_not_zero():
    model = tiny_gradient_chain(in_features=4)
    X, y = vectors()
    with GradientMonitor(model, track_updates=False) as monitor:
        F.cross_entropy(model(X.double()), y).backward()
    g = model[0].weight.grad
    assert torch.all(g != 0) and torch.linalg.vector_norm(g).item() == 0.0
    h = monitor.history()
    assert np.all(h.weight_grad_norm > 0)
    m = float(g.abs().max())
    scale = 2.0 ** -np.frexp(m)[1]
    np.testing.assert_allclose(h.weight_grad_norm[0, 0], dnorm(g * scale) / scale, rtol=1e-12)


def test_a_gradient_that_the_step_did_not_write_is_not_reported():
    model = layernorm_net()
    X, y = vectors()
    with GradientMonitor(model, track_updates=False) as monitor:
        F.cross_entropy(model(X), y).backward()  # step 0 writes .grad
        loss = F.cross_entropy(model(X), y)  # step 1: autograd.grad leaves .grad alone
        torch.autograd.grad(loss, [model[0].bias])
        model[3].weight.grad = None
        F.cross_entropy(model(X), y).backward()  # step 2 accumulates into 0.weight's .grad
    h = monitor.history()
    assert np.all(np.isfinite(h.weight_grad_norm[[0, 2]]))
    assert np.all(np.isnan(h.weight_grad_norm[1]))  # stale .grad from step 0 is not reported
    assert np.all(np.isfinite(h.output_grad_norm[1]))  # the outputs' gradients did flow


def test_a_forward_without_backward_records_its_outputs_and_no_gradients():
    """Steps 0 and 2 run forward only (grad enabled), step 1 trains: each step's output
    statistics are those of the weights it ran with; only step 1 has gradients."""
    model = layernorm_net()
    X, y = vectors()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    expected = []

    def outputs():
        with torch.no_grad():
            h, outs = X, []
            for layer in model:
                h = layer(h)
                outs.append(h.double())
        return outs

    with GradientMonitor(model) as monitor:
        expected.append(outputs())
        model(X)
        expected.append(outputs())
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
        expected.append(outputs())
        model(X)
    h = monitor.history()
    np.testing.assert_array_equal(h.steps, [0, 1, 2])
    for i, outs in enumerate(expected):
        np.testing.assert_allclose(h.output_mean[i], [o.mean().item() for o in outs],
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(h.output_std[i], [o.std(correction=0).item() for o in outs],
                                   rtol=1e-5)
    assert np.all(np.isnan(h.output_grad_norm[[0, 2]]))
    assert np.all(np.isnan(h.weight_grad_norm[[0, 2]]))
    assert np.all(np.isfinite(h.output_grad_norm[1])) and np.all(h.weight_grad_norm[1] > 0)


def test_two_backward_passes_in_one_step_record_the_first():
    """A second backward pass through the same forward (retain_graph) changes neither the
    output gradients nor the weight gradients the step recorded: they are the first pass's,
    although .grad now holds the sum of both passes."""
    model = layernorm_net()
    X, y = vectors()
    twin = copy.deepcopy(model)
    with GradientMonitor(model, track_updates=False) as monitor:
        loss = F.cross_entropy(model(X), y)
        loss.backward(retain_graph=True)
        (3.0 * loss).backward()
    h = monitor.history()
    assert h.steps.tolist() == [0]
    outs = {}

    def keep(name):
        def hook(module, inputs, out):
            out.retain_grad()
            outs[name] = out
        return hook

    for name in ("0", "2"):
        twin.get_submodule(name).register_forward_hook(keep(name))
    F.cross_entropy(twin(X), y).backward()
    for name, out in outs.items():
        j = h.module_names.index(name)
        np.testing.assert_allclose(h.output_grad_norm[0, j], dnorm(out.grad), rtol=1e-5)
    for k, name in enumerate(h.weight_names):
        np.testing.assert_allclose(h.weight_grad_norm[0, k],
                                   dnorm(twin.get_parameter(name).grad), rtol=1e-5)
    assert dnorm(model[0].weight.grad) == pytest.approx(4 * dnorm(twin[0].weight.grad),
                                                        rel=1e-5)


def test_names_and_refusals_word_for_word():
    """A bare layer is named by its type; a parametrized layer is recorded once, under its
    own name (not its parametrization modules), even without a bias of its own."""
    assert GradientMonitor(nn.Linear(3, 2)).history().module_names == ("Linear",)
    torch.manual_seed(0)
    wrapped = nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(3, 4, bias=False)),
                            nn.Tanh(), nn.Linear(4, 2))
    h = GradientMonitor(wrapped).history()
    assert h.module_names == ("0", "1", "2")
    assert h.module_types == ("ParametrizedLinear", "Tanh", "Linear")
    assert h.weight_names == ("0.parametrizations.weight.original0",
                              "0.parametrizations.weight.original1", "2.weight")
    for kwargs, error, message in (
            (dict(track_updates=1), TypeError, "track_updates must be True or False, got 1"),
            (dict(every=0), ValueError, "every must be an int >= 1, got 0")):
        with pytest.raises(error) as info:
            GradientMonitor(layernorm_net(), **kwargs)
        assert str(info.value) == message
    with pytest.raises(ValueError) as info:
        GradientMonitor(nn.Sequential(nn.Flatten(), nn.Dropout()))
    assert str(info.value) == "the model has no module with parameters or a known activation"
    monitor = GradientMonitor(layernorm_net())
    with monitor, pytest.raises(RuntimeError) as info:
        monitor.__enter__()
    assert str(info.value) == "this GradientMonitor is already active"


def test_history_types_before_any_step_and_without_weight_matrices():
    """A model with no weight matrix (only 1-D parameters) is monitored like any other."""
    model = nn.Sequential(nn.LayerNorm(4), nn.Tanh())
    monitor = GradientMonitor(model)
    h = monitor.history()
    assert h.steps.dtype == np.int64 and h.steps.shape == (0,)
    assert h.weight_frozen.dtype == bool and h.weight_frozen.shape == (0,)
    X, _ = vectors()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with monitor:
        for _ in range(2):
            opt.zero_grad()
            model(X).pow(2).sum().backward()
            opt.step()
    h = monitor.history()
    assert h.update_ratio.shape == (2, 0) and h.output_grad_norm.shape == (2, 2)
    assert np.isfinite(h.output_grad_norm).all() and np.isfinite(h.output_std).all()


class Counter(nn.Module):
    """A layer with a parameter whose output is an integer tensor (nothing to average)."""

    def __init__(self):
        super().__init__()
        self.threshold = nn.Parameter(torch.zeros(4))

    def forward(self, x):
        return (x > self.threshold).sum(1)


def test_outputs_it_cannot_or_can_measure():
    """Integer outputs and empty batches leave NaN; a single entry has its value as mean and
    std 0; the history of such a step can be read twice."""
    X, y = vectors()
    with GradientMonitor(nn.Sequential(Counter())) as monitor:
        monitor.model(X)
    h = monitor.history()
    assert np.isnan(h.output_mean).all() and np.isnan(h.output_std).all()
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    with GradientMonitor(net) as monitor:
        out = net(torch.zeros(0, 4))
        F.cross_entropy(out, torch.zeros(0, dtype=torch.long)).backward()
    for h in (monitor.history(), monitor.history()):
        assert np.isnan(h.output_mean).all() and np.isnan(h.output_std).all()
        np.testing.assert_array_equal(h.weight_grad_norm, [[0.0, 0.0]])
    single = nn.Linear(4, 1)
    with GradientMonitor(single) as monitor:
        value = single(X[:1])
    h = monitor.history()
    assert h.output_mean[0, 0] == pytest.approx(value.item(), rel=1e-6)
    assert h.output_std[0, 0] == 0.0


def test_history_inside_the_block_measures_a_forward_without_backward():
    model, (X, _) = layernorm_net(), vectors()
    with GradientMonitor(model) as monitor:
        model(X)
        h = monitor.history()
        with torch.no_grad():
            want = model[0](X).double()
    assert h.output_mean[0, 0] == pytest.approx(want.mean().item(), rel=1e-6)
    assert np.isfinite(h.output_std).all()


def test_update_ratio_of_a_zero_weight_is_infinite_without_a_warning():
    """||W_after - W_before|| / ||W_before|| with W_before = 0: infinite if it moved, NaN if
    not, and no warning either way."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    with torch.no_grad():
        net[0].weight.zero_()
        net[2].weight.zero_()
    opt = torch.optim.SGD(net[0].parameters(), lr=0.1)  # the last layer does not move
    X, y = vectors()
    with np.errstate(all="raise"), GradientMonitor(net) as monitor:
        opt.zero_grad()
        loss = F.cross_entropy(net(X), y) + net[0].weight.sum()  # a gradient for layer 0
        loss.backward()
        opt.step()
    ratio = monitor.history().update_ratio[0]
    assert ratio[0] == np.inf and np.isnan(ratio[1])


def test_history_repr_word_for_word():
    """The table's header, widths, frozen mark, name cut and NaN mean, from a hand-made history."""
    nan = np.nan
    h = MonitorHistory(
        module_names=("encoder",), module_types=("Linear",),
        weight_names=("encoder.layers.0.attention.q_proj.weight", "head.weight"),
        weight_frozen=np.array([False, True]),
        steps=np.array([0, 5]),
        output_mean=np.zeros((2, 1)), output_std=np.ones((2, 1)),
        output_grad_norm=np.ones((2, 1)),
        weight_norm=np.ones((2, 2)),
        weight_grad_norm=np.array([[9.0, nan], [0.00123456, nan]]),
        update_ratio=np.array([[1e-3, nan], [3e-3, nan]]),
    )
    assert repr(h) == "\n".join([
        "MonitorHistory(2 steps, 1 modules, 2 weights)",
        "  weight                         |dW| last  update ratio",
        "  encoder.layers.0.attention.    1.235e-03     2.000e-03",
        "  head.weight (frozen)                 nan           nan",
    ])
    assert {len(line) for line in repr(h).splitlines()[1:]} == {2 + 28 + 12 + 14}
    # a weight's mean update skips the steps it has no ratio for
    h2 = MonitorHistory(**{**h.__dict__, "update_ratio": np.array([[nan, nan], [4e-3, nan]])})
    assert repr(h2).splitlines()[2].endswith("4.000e-03")
    # a short trainable name has no mark, and a weight with no ratio at all shows nan quietly
    h3 = MonitorHistory(**{**h.__dict__, "weight_names": ("w", "v"),
                           "weight_frozen": np.array([False, False])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice"
        lines = repr(h3).splitlines()
    assert lines[2:] == ["  w" + " " * 30 + "1.235e-03     2.000e-03",
                         "  v" + " " * 36 + "nan           nan"]
