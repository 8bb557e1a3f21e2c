"""Tests for helpers.training: determinism, records, early stopping, divergence, known facts."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracles import tiny_gradient_chain
from torch import nn

from helpers import training
from helpers.data import spirals, teacher
from helpers.models import MLPConfig, build_mlp
from helpers.training import History, accuracy, train


@pytest.fixture(scope="module")
def data():
    return spirals(200, 0.1, seed=0)


def small(**kw):
    return build_mlp(MLPConfig(depth=3, width=16, **kw))


FIELDS = ("steps", "loss", "accuracy", "grad_norm", "update_ratio")


@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=32, optimizer="sgd", lr=0.1)])
def test_deterministic_for_a_fixed_seed(data, kwargs):
    X, y = data
    a = train(small(), X, y, steps=30, record_every=5, **kwargs)
    b = train(small(), X, y, steps=30, record_every=5, **kwargs)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    if "batch_size" in kwargs:  # the seed picks the mini-batches
        c = train(small(), X, y, steps=30, record_every=5, seed=1, **kwargs)
        assert not np.array_equal(a.loss, c.loss)


def test_history_shapes_and_record_steps(data):
    X, y = data
    h = train(small(), X, y, steps=25, record_every=10)
    np.testing.assert_array_equal(h.steps, [0, 10, 20, 24])
    assert h.loss.shape == h.accuracy.shape == (4,)
    assert h.grad_norm.shape == h.update_ratio.shape == (4, 4)
    assert h.layer_names == ("blocks.0.linear", "blocks.1.linear", "blocks.2.linear", "output")
    assert not h.stopped_early and not h.diverged
    assert h.final_loss == h.loss[-1] and h.final_accuracy == h.accuracy[-1]
    assert h.loss[-1] < h.loss[0]
    assert np.all((h.accuracy >= 0) & (h.accuracy <= 1))


def test_records_match_autograd_and_sgd_update(data):
    X, y = data
    model = build_mlp(MLPConfig(depth=3, width=16, dtype="float64"))
    ref = copy.deepcopy(model)
    out = ref(X.double())
    loss = F.cross_entropy(out, y)
    loss.backward()
    weights = [m.weight for m in ref.modules() if isinstance(m, nn.Linear)]
    grad = np.array([w.grad.norm().item() for w in weights])
    wnorm = np.array([w.norm().item() for w in weights])
    h = train(model, X, y, steps=1, lr=0.05, optimizer="sgd")
    np.testing.assert_allclose(h.grad_norm[0], grad, rtol=1e-10)
    np.testing.assert_allclose(h.update_ratio[0], 0.05 * grad / wnorm, rtol=1e-8)
    assert h.loss[0] == pytest.approx(loss.item(), rel=1e-12)
    assert h.accuracy[0] == pytest.approx((out.argmax(1) == y).double().mean().item())


def test_callback_stops_early(data):
    X, y = data
    seen = []

    def stop_at_second_record(history):
        seen.append(len(history.steps))
        return len(history.steps) == 2

    h = train(small(), X, y, steps=50, record_every=5, callback=stop_at_second_record)
    assert h.stopped_early and not h.diverged
    assert len(h.steps) == 2 and seen == [1, 2]
    assert "stopped early" in repr(h)
    full = train(small(), X, y, steps=50, record_every=5, callback=lambda hist: None)
    assert len(full.steps) == 11 and not full.stopped_early  # steps 0, 5, ..., 45 and 49


def test_divergence_is_flagged(data):
    X, y = data
    h = train(small(activation="relu", init="he"), X, y, steps=20, lr=1e6, optimizer="sgd",
              record_every=1)
    assert h.diverged and h.stopped_early
    assert math.isnan(h.final_loss) or math.isinf(h.final_loss)
    assert np.all(np.isnan(h.grad_norm[-1])) and len(h.steps) < 20
    assert "diverged" in repr(h)


def test_mse_regression():
    X, y = teacher(100, in_features=4, task="regression", seed=0)
    model = build_mlp(MLPConfig(depth=2, width=16, in_features=4, out_features=1))
    h = train(model, X, y, steps=40, loss="mse", record_every=10)
    assert np.all(np.isnan(h.accuracy))
    assert h.loss[-1] < h.loss[0]


def test_accuracy_function_restores_mode(data):
    X, y = data
    model = small(norm="batch")
    model.train()
    with torch.no_grad():
        model.eval()
        expected = (model(X).argmax(1) == y).double().mean().item()
        model.train()
    assert accuracy(model, X, y) == pytest.approx(expected)
    assert model.training


def test_adam_fallback_when_fused_is_unavailable(data, monkeypatch):
    real_adam = torch.optim.Adam

    def adam_without_fused(params, lr, fused=None):
        if fused:
            list(params)  # a failed attempt may consume a generator of parameters
            raise RuntimeError("fused Adam not supported here")
        return real_adam(params, lr=lr)

    monkeypatch.setattr(training.torch.optim, "Adam", adam_without_fused)
    X, y = data
    h = train(small(), X, y, steps=5)
    assert len(h.steps) == 2 and h.loss[-1] < h.loss[0]


def test_history_repr_and_empty_history():
    h = History(layer_names=("a",), steps=np.zeros(0, dtype=np.int64), loss=np.zeros(0),
                accuracy=np.zeros(0), grad_norm=np.zeros((0, 1)), update_ratio=np.zeros((0, 1)),
                stopped_early=False, diverged=False, seconds=0.0)
    assert math.isnan(h.final_loss) and math.isnan(h.final_accuracy)
    assert repr(h).startswith("History(0 records up to step 0")
    X, y = spirals(100, 0.1, seed=0)
    r = train(small(), X, y, steps=3, record_every=1)
    text = repr(r)
    assert f"final loss {r.final_loss:.4g}" in text and f"accuracy {r.final_accuracy:.3f}" in text
    assert "3 records up to step 2" in text and ", ok," in text


@pytest.fixture(scope="module")
def spirals500():
    return spirals(500, 0.1, seed=0)


def test_deep_sigmoid_fails_where_relu_he_learns(spirals500):
    """Depth 20, width 32, Adam lr 0.01, 200 full-batch steps on 500 spiral points.

    Measured (seeds 0..2): sigmoid stays at accuracy 0.500 (loss 0.693) throughout; ReLU + He
    reaches 1.000. Depth 10 and 15 give the same picture.
    """
    X, y = spirals500
    kw = dict(steps=200, lr=0.01, optimizer="adam", record_every=50)
    sig = train(build_mlp(MLPConfig(depth=20, width=32, activation="sigmoid")), X, y, **kw)
    relu = train(build_mlp(MLPConfig(depth=20, width=32, activation="relu", init="he")), X, y,
                 **kw)
    assert sig.final_accuracy <= 0.6
    assert relu.final_accuracy >= 0.9


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(steps=0), ValueError, "steps must be an int >= 1, got 0"),
        (dict(steps=2.5), TypeError, "steps must be an int, got 2.5"),
        (dict(steps=True), TypeError, "steps must be an int, got True"),
        (dict(lr=0.0), ValueError, "lr must be finite and > 0"),
        (dict(lr=-0.1), ValueError, "lr must be finite and > 0"),
        (dict(lr=float("nan")), ValueError, "lr must be finite and > 0"),
        (dict(lr="0.1"), TypeError, "lr must be a number"),
        (dict(optimizer="rmsprop"), ValueError,
         "unknown optimizer 'rmsprop'; valid choices: sgd, adam"),
        (dict(record_every=0), ValueError, "record_every must be an int >= 1"),
        (dict(callback=3), TypeError, "callback must be callable or None"),
        (dict(batch_size=0), ValueError, "batch_size must be an int >= 1"),
        (dict(batch_size=2.5), TypeError, "batch_size must be an int"),
        (dict(batch_size=True), TypeError, "batch_size must be an int"),
        (dict(loss="hinge"), ValueError, "valid choices: cross_entropy, mse"),
        (dict(X=torch.full((8, 2), float("nan"))), ValueError, "X contains NaN or infinite"),
        (dict(X=torch.zeros(0, 2), y=torch.zeros(0, dtype=torch.long)), ValueError, "X is empty"),
        (dict(y=torch.zeros(5, dtype=torch.long)), ValueError, "one entry per example"),
        (dict(y=torch.full((8,), 3)), ValueError, "class labels must lie in 0..1"),
        (dict(model="model"), TypeError, "model must be a torch.nn.Module, got str"),
        (dict(model=nn.Sequential(nn.Tanh())), ValueError, "no nn.Linear layer"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = dict(model=small(), X=torch.zeros(8, 2), y=torch.zeros(8, dtype=torch.long), steps=2)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        train(**args)


def test_gradient_norms_of_tiny_float64_gradients_are_not_zero():
    model = tiny_gradient_chain(in_features=2)
    X, y = spirals(64, 0.1, seed=0)
    ref = copy.deepcopy(model)
    F.cross_entropy(ref(torch.as_tensor(X, dtype=torch.float64)), torch.as_tensor(y)).backward()
    g = ref[0].weight.grad
    assert torch.all(g != 0) and torch.linalg.vector_norm(g).item() == 0.0
    h = train(model, X, y, steps=1, optimizer="sgd", lr=0.1)
    scale = 2.0 ** -np.frexp(float(g.abs().max()))[1]
    np.testing.assert_allclose(h.grad_norm[0, 0], torch.linalg.vector_norm(g * scale).item()
                               / scale, rtol=1e-12)
    assert np.all(h.grad_norm[0] > 0)


def _reference_run(model, X, y, steps, lr, make_opt, record_every):
    """A plain training loop that records, at the recorded steps, ||dL/dW|| before the
    optimiser step, ||W_after - W_before|| / ||W_before||, the loss and the accuracy."""
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    opt = make_opt(model.parameters(), lr)
    rec = {"steps": [], "grad": [], "update": [], "loss": [], "acc": []}
    for step in range(steps):
        opt.zero_grad()
        out = model(X)
        loss = F.cross_entropy(out, y)
        loss.backward()
        before = [w.detach().clone() for w in weights]
        grads = [w.grad.norm().item() for w in weights]
        opt.step()
        if step % record_every == 0 or step == steps - 1:
            rec["steps"].append(step)
            rec["grad"].append(grads)
            rec["update"].append([(w.detach() - b).norm().item() / b.norm().item()
                                  for w, b in zip(weights, before)])
            rec["loss"].append(loss.item())
            rec["acc"].append((out.argmax(1) == y).double().mean().item())
    return {k: np.array(v) for k, v in rec.items()}


@pytest.mark.parametrize("optimizer, make_opt, rtol", [
    ("sgd", lambda p, lr: torch.optim.SGD(p, lr=lr), 1e-9),
    # train() uses the fused Adam kernel where it exists, the reference the default one:
    # they agree to rounding (measured 3e-15 relative in float64), 1e-8 leaves margin
    ("adam", lambda p, lr: torch.optim.Adam(p, lr=lr), 1e-8),
])
def test_records_at_later_steps_match_an_independent_loop(data, optimizer, make_opt, rtol):
    X, y = data
    model = build_mlp(MLPConfig(depth=3, width=16, activation="tanh", dtype="float64", seed=1))
    ref_model = copy.deepcopy(model)
    lr = 0.05 if optimizer == "sgd" else 0.01
    h = train(model, X, y, steps=23, lr=lr, optimizer=optimizer, record_every=5)
    ref = _reference_run(ref_model, X.double(), y, 23, lr, make_opt, 5)
    np.testing.assert_array_equal(h.steps, ref["steps"])
    np.testing.assert_array_equal(h.steps, [0, 5, 10, 15, 20, 22])
    np.testing.assert_allclose(h.grad_norm, ref["grad"], rtol=rtol)
    np.testing.assert_allclose(h.update_ratio, ref["update"], rtol=rtol)
    np.testing.assert_allclose(h.loss, ref["loss"], rtol=rtol)
    np.testing.assert_allclose(h.accuracy, ref["acc"])
    assert h.loss[-1] < h.loss[0]  # the records move: later steps are not step 0 again
    assert not np.allclose(h.grad_norm[-1], h.grad_norm[0])
    for a, b in zip(model.parameters(), ref_model.parameters()):  # same final weights
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-12)


def test_documented_defaults_flags_and_smallest_batch(data):
    import inspect

    X, y = data
    params = inspect.signature(train).parameters
    assert (params["steps"].default, params["lr"].default, params["optimizer"].default,
            params["record_every"].default, params["batch_size"].default) == (
        300, 0.01, "adam", 10, None)
    h = train(small(), X, y, steps=3, record_every=1, batch_size=1, optimizer="sgd", lr=0.1)
    assert h.stopped_early is False and h.diverged is False
    np.testing.assert_array_equal(h.steps, [0, 1, 2])
    assert "ok" in repr(h)


def test_adam_update_data_does_not_see_the_gradient_scale_but_sgd_does():
    """Lesson 3: under Adam update:data is set by lr (first step: lr / rms(W)), not by the
    gradient's size; under SGD it is lr x grad:data."""
    import torch.nn.functional as F

    from helpers.data import spirals
    from helpers.models import MLPConfig, build_mlp, linear_layers

    X, y = spirals(64, noise=0.1, seed=2)
    config = MLPConfig(depth=3, width=16, activation="tanh", init="xavier", dtype="float64")
    runs = {}
    for scale in (1.0, 1e-3):
        for opt in ("adam", "sgd"):
            runs[opt, scale] = train(build_mlp(config), X, y, steps=5, lr=1e-3, optimizer=opt,
                                     record_every=1,
                                     loss=lambda out, t, s=scale: s * F.cross_entropy(out, t))
    # gradients 1000x smaller, the same Adam steps (to 2%: a few entries come near eps)
    np.testing.assert_allclose(runs["adam", 1e-3].grad_norm, 1e-3 * runs["adam", 1.0].grad_norm,
                               rtol=1e-3)
    np.testing.assert_allclose(runs["adam", 1e-3].update_ratio, runs["adam", 1.0].update_ratio,
                               rtol=0.02)
    np.testing.assert_allclose(runs["sgd", 1e-3].update_ratio[0],  # SGD sees the scale
                               1e-3 * runs["sgd", 1.0].update_ratio[0], rtol=1e-9)
    model = build_mlp(config)
    rms = np.array([float(lin.weight.detach().pow(2).mean().sqrt())
                    for _, lin in linear_layers(model)])
    np.testing.assert_allclose(runs["adam", 1.0].update_ratio[0], 1e-3 / rms, rtol=1e-3)
    norms = np.array([float(lin.weight.detach().norm()) for _, lin in linear_layers(model)])
    np.testing.assert_allclose(runs["sgd", 1.0].update_ratio[0],
                               1e-3 * runs["sgd", 1.0].grad_norm[0] / norms, rtol=1e-9)


def test_lesson3_update_data_under_adam_and_sgd():
    """Lesson 3: under Adam the stalled sigmoid net's top layers sit near 1e-3 at chance;
    under SGD (lr 0.1) ReLU + He sits near 1e-3 and the sigmoid net's first layer not at all."""
    from helpers.data import lesson_data
    from helpers.models import MLPConfig, build_mlp

    X, y = lesson_data()
    sig = MLPConfig(depth=20, width=64, activation="sigmoid", dtype="float64")
    he = sig.replace(activation="relu", init="he")
    adam = train(build_mlp(sig), X, y, steps=60, lr=1e-3, optimizer="adam", record_every=5)
    u = np.median(adam.update_ratio[1:], axis=0)
    assert adam.final_accuracy == 0.5 and 5e-4 < u[-2] < 2e-3 and u[0] < 1e-12
    sgd_sig = train(build_mlp(sig), X, y, steps=60, lr=0.1, optimizer="sgd", record_every=5)
    sgd_he = train(build_mlp(he), X, y, steps=60, lr=0.1, optimizer="sgd", record_every=5)
    assert 5e-4 < np.median(np.median(sgd_he.update_ratio[1:], axis=0)[:-1]) < 3e-3
    s = np.median(sgd_sig.update_ratio[1:], axis=0)
    assert s[0] == 0.0 and s[-2] < 1e-18  # too small to change a float64 weight at all


def test_a_batch_as_large_as_the_data_is_full_batch_training(data):
    """batch_size >= n draws no mini-batches: the run equals full-batch training."""
    X, y = data
    full = train(small(seed=1), X, y, steps=4, record_every=1, optimizer="sgd", lr=0.1)
    for b in (len(X), len(X) + 5):
        h = train(small(seed=1), X, y, steps=4, record_every=1, optimizer="sgd", lr=0.1,
                  batch_size=b, seed=7)
        np.testing.assert_array_equal(h.loss, full.loss)
        np.testing.assert_array_equal(h.grad_norm, full.grad_norm)


def test_a_layer_without_gradient_and_a_zero_weight_are_recorded_as_such(data):
    """A Linear the loss does not reach has gradient norm 0 and update 0; an all-zero weight
    has no update:data ratio (NaN: ||W_before|| = 0)."""
    X, y = data

    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.a, self.b, self.spare = nn.Linear(2, 8), nn.Linear(8, 2), nn.Linear(3, 3)
            with torch.no_grad():
                self.b.weight.zero_()

        def forward(self, x):
            return self.b(torch.tanh(self.a(x)))

    h = train(WithSpare(), X, y, steps=2, record_every=1, optimizer="sgd", lr=0.1)
    assert h.layer_names == ("a", "b", "spare")
    assert np.all(h.grad_norm[:, 2] == 0.0) and np.all(h.update_ratio[:, 2] == 0.0)
    assert math.isnan(h.update_ratio[0, 1]) and np.isfinite(h.update_ratio[1, 1])
    assert h.grad_norm[0, 1] > 0


def test_history_without_eval_data_has_empty_test_arrays_and_a_wall_time(data):
    import time

    X, y = data
    start = time.perf_counter()
    h = train(small(), X, y, steps=3)
    elapsed = time.perf_counter() - start
    assert h.test_loss.shape == (0,) and h.test_accuracy.shape == (0,)
    assert h.test_loss.dtype == np.float64
    assert 0 < h.seconds <= elapsed


def test_input_of_the_wrong_width_is_named_for_a_course_mlp(data):
    X, y = data
    for bad in (torch.zeros(8, 3), torch.zeros(8, 1)):
        with pytest.raises(ValueError, match=r"^X must have shape \(n_examples, 2\) for this "
                                             r"model \(in_features=2\), got \(8, \d\)"):
            train(small(), bad, y[:8], steps=1)
        with pytest.raises(ValueError, match=r"^X must have shape \(n_examples, 2\)"):
            accuracy(small(), bad, y[:8])


def test_regression_has_no_held_out_accuracy():
    """With an MSE loss there are no classes: the held-out accuracy is NaN at every record,
    while the held-out loss is recorded."""
    X, y = teacher(60, in_features=4, task="regression", seed=0)
    model = build_mlp(MLPConfig(depth=2, width=8, in_features=4, out_features=1))
    h = train(model, X[:40], y[:40], steps=5, loss="mse", record_every=2,
              eval_data=(X[40:], y[40:]))
    assert h.test_accuracy.shape == h.test_loss.shape == (3,)
    assert np.all(np.isnan(h.test_accuracy)) and np.all(np.isfinite(h.test_loss))


def test_held_out_records_against_the_model_itself(data):
    """The held-out loss and accuracy of a record are those of the weights after that
    step's update (the training loss and accuracy are from before it), computed here with
    the trained model in eval mode; without eval_data there are none; a diverged run keeps
    them as long as the other records."""
    X, y = data
    Xt, yt = spirals(64, seed=9)
    model = small(activation="tanh", init="xavier")
    h = train(model, X, y, steps=1, lr=0.05, record_every=1, eval_data=(Xt, yt))
    with torch.no_grad():
        out = model.eval()(Xt.to(next(model.parameters()).dtype))
    assert h.test_loss.tolist() == pytest.approx([F.cross_entropy(out, yt).item()], rel=1e-6)
    assert h.test_accuracy.tolist() == [(out.argmax(1) == yt).double().mean().item()]
    assert 0.2 < h.test_accuracy[0] < 0.8  # neither 0 nor 1: a flipped comparison would show
    plain = train(small(), X, y, steps=3, record_every=1)
    assert plain.test_loss.dtype == np.float64 == plain.test_accuracy.dtype
    assert len(plain.test_loss) == len(plain.test_accuracy) == 0  # nothing held out
    boom = train(small(activation="relu", init="he"), X, y, steps=20, lr=1e6, optimizer="sgd",
                 record_every=1, eval_data=(Xt, yt))
    assert boom.diverged and len(boom.test_loss) == len(boom.steps) == len(boom.loss)
    assert math.isnan(boom.test_loss[-1]) and math.isnan(boom.test_accuracy[-1])
    quiet = train(small(activation="relu", init="he"), X, y, steps=20, lr=1e6, optimizer="sgd",
                  record_every=1)
    assert quiet.diverged and len(quiet.test_loss) == 0 == len(quiet.test_accuracy)
    assert repr(boom).endswith(", diverged, " + f"{boom.seconds:.1f} s)")
    assert ", ok, " in repr(plain)


def test_train_defaults(data):
    """300 steps recorded every 10 (and at the last), Adam at 0.01, seed 0."""
    X, y = data
    h = train(small(), X, y)
    explicit = train(small(), X, y, steps=300, lr=0.01, optimizer="adam", seed=0,
                     record_every=10)
    np.testing.assert_array_equal(h.loss, explicit.loss)
    assert h.steps.tolist() == [*range(0, 300, 10), 299]


def test_adam_asks_for_the_fused_kernel_first(data, monkeypatch):
    """The fused CPU kernel is tried first, with the model's parameters and the lr."""
    real_adam, calls = torch.optim.Adam, []

    def recording_adam(params, lr, fused=None):
        params = list(params)
        calls.append((len(params), lr, fused))
        return real_adam(params, lr=lr, fused=fused)

    monkeypatch.setattr(training.torch.optim, "Adam", recording_adam)
    model = small()
    X, y = data
    train(model, X, y, steps=2, lr=0.02)
    assert calls == [(len(list(model.parameters())), 0.02, True)]


def test_held_out_data_in_float64_is_cast_to_the_models_dtype(data):
    X, y = data
    model = small()
    X_test = np.asarray(X[:50], dtype=np.float64)
    h = train(model, X, y, steps=2, record_every=1, eval_data=(X_test, y[:50]))
    with torch.no_grad():
        out = model(torch.as_tensor(X_test, dtype=torch.float32))
    assert h.test_loss[-1] == pytest.approx(F.cross_entropy(out, torch.as_tensor(y[:50])).item(),
                                            rel=1e-6)


def test_train_messages_word_for_word(data):
    X, y = data
    with pytest.raises(TypeError) as info:
        train(small(), X, y, steps=1, callback="stop")
    assert str(info.value) == "callback must be callable or None"
    with pytest.raises(ValueError) as info:
        train(nn.Sequential(nn.Conv1d(1, 1, 1), nn.Flatten()), X[:, None, :], y, steps=1)
    assert str(info.value) == "the model has no nn.Linear layer to record"


def test_an_infinite_loss_is_recorded_as_inf_and_stops_training(data):
    X, y = data
    h = train(small(), X, y, steps=5, record_every=1,
              loss=lambda out, t: (out * 0).sum() + math.inf)
    assert h.diverged and h.loss.tolist() == [math.inf] and len(h.steps) == 1
    assert ", diverged, " in repr(h)


def test_history_repr_says_stopped_early():
    h = History(layer_names=("a",), steps=np.array([0, 4]), loss=np.array([0.9, 0.25]),
                accuracy=np.array([0.5, 0.875]), grad_norm=np.ones((2, 1)),
                update_ratio=np.ones((2, 1)), stopped_early=True, diverged=False, seconds=1.5)
    assert repr(h) == ("History(2 records up to step 4, final loss 0.25, accuracy 0.875, "
                       "stopped early, 1.5 s)")
