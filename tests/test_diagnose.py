"""diagnose: each pathology found in a model built to have it, healthy models called healthy,
numbers equal to autograd's, foreign models measured, the model left untouched, clear errors."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as Fn
from torch import nn

from helpers.capture import gradient_profile
from helpers.data import teacher
from helpers.diagnose import diagnose
from helpers.findings import (
    CATALOGUE,
    DEAD_MAX,
    SATURATION_MAX,
    SPREAD_ORDERS,
    UNDERFLOW_MAX,
    UPDATE_MAX,
    UPDATE_MIN,
    checklist_markdown,
    checklist_rows,
    depth_groups,
)
from helpers.models import MLPConfig, build_mlp
from helpers.topics.diagnose import (
    mlp,
    mystery_models,
    sequence_task,
    train_digits_cnn,
    transformer_stack,
)


@pytest.fixture(scope="module")
def data():
    return teacher(128, in_features=10, classes=4, seed=0)


def config(**kw):
    return MLPConfig(in_features=10, out_features=4, **kw)


def he_relu(depth=6, seed=0):
    return build_mlp(config(depth=depth, activation="relu", init="he", seed=seed))


def grads_by_autograd(model, inputs, targets, loss):
    """Reference: every >= 2-D parameter's gradient norm, from one plain backward."""
    model.zero_grad()
    torch.manual_seed(0)  # diagnose's default seed: the same dropout masks
    out = model(**inputs) if isinstance(inputs, dict) else model(inputs)
    loss(out, targets).backward()
    norms = {n: float(p.grad.double().norm()) for n, p in model.named_parameters()
             if p.dim() >= 2 and p.grad is not None}
    model.zero_grad(set_to_none=True)
    return norms


# -- one constructed broken model per finding ------------------------------------------
def test_vanishing_deep_sigmoid(data):
    d = diagnose(build_mlp(config(depth=30, activation="sigmoid", dtype="float64")), *data)
    assert d.names[0] == "vanishing gradients"
    f = d.findings[0]
    assert f.figure < 1e-10 and f.threshold == 10.0 ** -SPREAD_ORDERS
    assert f.layers[0] == "blocks.0.linear.weight"
    assert any("Lesson 5" in fix for fix in f.fixes) and f.why
    assert "underflow" not in d.names  # float64: nothing lost to the dtype


def test_exploding_recurrent_matrix():
    m = mystery_models()["C"]
    d = diagnose(m.model, m.inputs, m.targets)
    assert d.names == ("exploding gradients",)
    assert d.findings[0].figure > 10 * 10.0 ** SPREAD_ORDERS  # far past the alarm
    assert "rnn.weight_ih_l0" in d.findings[0].layers


def test_saturated_units(data):
    m = mystery_models()["A"]
    d = diagnose(m.model, m.inputs, m.targets)
    assert d.names == ("saturated units",)
    assert d.saturation.max() > 1.5 * SATURATION_MAX


def test_dead_units_planted(data):
    model = he_relu(depth=3)
    with torch.no_grad():
        model.blocks[1].linear.bias[:40] = -1e3  # 40 of 64 units can never be active
    d = diagnose(model, *data)
    assert "dead units" in d.names
    assert d.dead_fraction[1] == pytest.approx(40 / 64)
    assert d.findings[d.names.index("dead units")].layers == ("blocks.1.act",)
    assert DEAD_MAX < 40 / 64


def test_dead_units_from_a_large_learning_rate():
    m = mystery_models()["B"]
    d = diagnose(m.model, m.inputs, m.targets)
    assert d.names == ("dead units",)


def test_underflow_float32_deep_sigmoid(data):
    d = diagnose(build_mlp(config(depth=50, activation="sigmoid")), *data)
    assert "underflow" in d.names and "vanishing gradients" in d.names
    assert d.underflow[0] > 10 * UNDERFLOW_MAX
    assert d.underflow[-1] == 0.0  # the output layer's gradient is fine


def test_underflow_float16():
    X, y = teacher(64, in_features=10, classes=4)
    model = mlp(nn.Tanh).half()
    d = diagnose(model, X.half(), y, loss=lambda out, t: Fn.cross_entropy(out.float(), t) * 1e-7)
    assert d.names == ("underflow",) and d.dtype == "float16"
    assert np.nanmax(d.underflow) > 0.9


def test_non_finite(data):
    model = he_relu(depth=3)
    with torch.no_grad():
        model.blocks[0].linear.weight[0, 0] = math.inf
    d = diagnose(model, *data)
    assert "non-finite values" in d.names
    assert "blocks.0.linear.weight" in d.findings[d.names.index("non-finite values")].layers


def test_update_too_large_and_too_small(data):
    big = diagnose(he_relu(), *data, steps=3,
                   optimizer=lambda p: torch.optim.SGD(p, lr=50.0))
    assert "update too large" in big.names and big.figures["max update:data"] > UPDATE_MAX
    small = diagnose(he_relu(), *data, steps=5,
                     optimizer=lambda p: torch.optim.SGD(p, lr=1e-9))
    assert "update too small" in small.names and "loss not decreasing" in small.names
    assert small.figures["median update:data"] < UPDATE_MIN
    # found only after training, and said so
    assert big.findings[big.names.index("update too large")].when == "after 3 training steps"
    assert (small.findings[small.names.index("loss not decreasing")].when
            == "after 5 training steps")


def test_wrong_mode(data):
    model = build_mlp(config(depth=4, activation="relu", init="he", norm="batch")).eval()
    d = diagnose(model, *data)
    assert d.names == ("wrong mode",)
    assert d.findings[0].layers == tuple(f"blocks.{i}.norm" for i in range(4))
    assert diagnose(model.train(), *data).healthy


def test_every_finding_is_in_the_catalogue_with_a_lesson():
    assert len(CATALOGUE) >= 8
    rows = checklist_rows()
    assert [r["finding"] for r in rows] == list(CATALOGUE)
    assert all(1 <= r["lesson"] <= 9 for r in rows)
    table = checklist_markdown()
    assert table.count("\n") == len(CATALOGUE) + 1 and "**vanishing gradients**" in table


def test_every_catalogue_entry_is_filled_in():
    """Lesson 10's checklist prints each entry's text: none may be empty or missing."""
    for name, spec in CATALOGUE.items():
        assert spec.name == name
        for text in (spec.symptom, spec.measurement, spec.threshold, spec.why):
            assert isinstance(text, str) and text.strip(), (name, text)
        assert spec.causes and all(isinstance(c, str) and c for c in spec.causes)
        assert spec.fixes and all(isinstance(f, str) and f and 1 <= n <= 9
                                  for f, n in spec.fixes)
    row = checklist_rows()[0]
    assert (row["symptom"], row["measurement"]) == (
        "early layers do not learn; loss stalls",
        "gradient, first third of the layers / last third")


# -- healthy models ---------------------------------------------------------------------
def test_healthy_relu_he(data):
    d = diagnose(he_relu(), *data, steps=20)
    assert d.healthy, d
    assert 10.0 ** -SPREAD_ORDERS < d.figures["grad:data spread"] < 10.0 ** SPREAD_ORDERS
    assert d.figures["loss decrease"] > 0.1 and "healthy" in repr(d)


def test_healthy_tanh_xavier(data):
    d = diagnose(build_mlp(config(depth=6, activation="tanh", init="xavier")), *data, steps=20)
    assert d.healthy, d


def test_healthy_trained_digits_cnn():
    model, (X_tr, y_tr, X_te, y_te), acc = train_digits_cnn(steps=150)
    assert acc > 0.8
    d = diagnose(model, X_tr[:256], y_tr[:256], steps=20)
    assert d.healthy, d
    assert d.layer_types == ("Conv2d", "Conv2d", "Linear")


def test_healthy_pre_norm_transformer_and_lstm():
    X, y = sequence_task()
    d = diagnose(transformer_stack(6, True), X, y, steps=10)
    assert d.healthy, d

    class LSTMNet(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.lstm, self.head = nn.LSTM(32, 16, batch_first=True), nn.Linear(16, 4)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    d = diagnose(LSTMNet(), X, y, steps=10)
    assert d.healthy, d
    assert "lstm.weight_hh_l0" in d.layer_names
    assert any("nn.RNN/LSTM/GRU" in n for n in d.not_measured)


def test_post_norm_fails_where_pre_norm_trains():
    """Xiong et al. 2020: at depth 12, Adam at lr 1e-2 without warm-up, measured."""
    X, y = sequence_task()
    opt = lambda p: torch.optim.Adam(p, lr=1e-2)  # noqa: E731
    post = diagnose(transformer_stack(12, False), X, y, steps=30, optimizer=opt)
    pre = diagnose(transformer_stack(12, True), X, y, steps=30, optimizer=opt)
    assert pre.healthy and pre.losses[-1] < 0.1
    assert not post.healthy and post.losses[-1] > 1.0


# -- numbers: autograd is the oracle ------------------------------------------------------
def test_grad_norms_equal_autograd_and_gradient_profile(data):
    model = build_mlp(config(depth=5, activation="tanh", dtype="float64"))
    d = diagnose(model, *data)
    ref = grads_by_autograd(model, data[0].double(), data[1], Fn.cross_entropy)
    assert dict(zip(d.layer_names, d.grad_norm, strict=True)) == pytest.approx(ref, rel=1e-12)
    p = gradient_profile(model, *data)
    np.testing.assert_allclose(d.grad_norm, p.weight_grad_norm, rtol=1e-10)
    np.testing.assert_allclose(d.saturation, p.saturation[:-1], atol=1e-12)
    relu = he_relu(depth=4)
    np.testing.assert_allclose(diagnose(relu, *data).dead_fraction,
                               gradient_profile(relu, *data).dead_fraction[:-1], atol=1e-12)


def test_tiny_norms_do_not_underflow():
    model = build_mlp(config(depth=100, activation="linear", init="normal", weight_std=0.001,
                             dtype="float64"))
    X, y = teacher(32, in_features=10, classes=4)
    d = diagnose(model, X, y)
    assert (d.grad_norm > 0).all() and np.isfinite(d.grad_norm).all()
    assert d.grad_norm[0] < 1e-150  # a norm of entries ~1e-200: plain squares give 0


def test_in_place_activation_is_measured_right(data):
    plain = nn.Sequential(nn.Linear(10, 64), nn.SiLU(), nn.Linear(64, 4))
    inplace = copy.deepcopy(plain)
    inplace[1] = nn.SiLU(inplace=True)
    a, b = diagnose(plain, *data), diagnose(inplace, *data)
    assert a.saturation[0] > 0.05
    assert b.saturation[0] == pytest.approx(a.saturation[0])


# -- foreign models ------------------------------------------------------------------------
def test_gru_conv1d_attention_dict_input_tuple_output():
    X, y = sequence_task()

    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.conv = nn.Conv1d(32, 32, 3, padding=1)
            self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
            self.gru = nn.GRU(32, 16, batch_first=True)
            self.head = nn.Linear(16, 4)

        def forward(self, x, scale=1.0):
            h = self.conv(x.transpose(1, 2)).transpose(1, 2) * scale  # (batch, time, 32)
            h, _ = self.attn(h, h, h)
            return self.head(self.gru(h)[0][:, -1]), h  # a tuple

    model = Mixed()
    loss = lambda out, t: Fn.cross_entropy(out[0], t)  # noqa: E731
    d = diagnose(model, {"x": X, "scale": 0.5}, y, loss=loss, steps=3)
    ref = grads_by_autograd(model, {"x": X, "scale": 0.5}, y, loss)
    assert set(d.layer_names) == set(ref) >= {"attn.in_proj_weight", "attn.out_proj.weight",
                                              "gru.weight_hh_l0", "conv.weight"}
    got = dict(zip(d.layer_names, d.grad_norm, strict=True))
    assert got == pytest.approx(ref, rel=1e-5)


def test_frozen_and_parametrized_weights(data):
    model = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 4))
    nn.utils.parametrizations.weight_norm(model[2])
    model[0].weight.requires_grad_(False)
    d = diagnose(model, *data, steps=2)
    assert math.isnan(d.grad_norm[d.layer_names.index("0.weight")])
    assert "2.parametrizations.weight.original1" in d.layer_names
    types = dict(zip(d.layer_names, d.layer_types, strict=True))
    assert types["2.parametrizations.weight.original1"] == "ParametrizedLinear"  # not its list
    model[2].parametrizations.weight.original1.requires_grad_(False)
    d = diagnose(model, *data)
    ref = grads_by_autograd(model, data[0], data[1], Fn.cross_entropy)
    assert {n: g for n, g in zip(d.layer_names, d.grad_norm, strict=True) if g == g} == (
        pytest.approx(ref, rel=1e-10)) and len(ref) == 2  # original0 and 4.weight
    assert any("frozen" in n for n in d.not_measured)


def test_hugging_face_gpt2_and_bert():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    ids = torch.randint(0, 100, (4, 16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gpt = transformers.GPT2LMHeadModel(transformers.GPT2Config(
            n_layer=3, n_head=2, n_embd=32, vocab_size=100, n_positions=16))
        bert = transformers.BertForSequenceClassification(transformers.BertConfig(
            num_hidden_layers=3, hidden_size=32, num_attention_heads=2, intermediate_size=64,
            vocab_size=100, max_position_embeddings=16, num_labels=3))

    def lm_loss(out, t):
        return Fn.cross_entropy(out.logits[:, :-1].flatten(0, 1), t[:, 1:].flatten())

    # GPT-2's usual learning rate (Adam at 1e-3 moves its small output projections by
    # ~lr / rms(W) = 10% a step, which diagnose rightly calls too large)
    adam = lambda p: torch.optim.Adam(p, lr=3e-4)  # noqa: E731
    d = diagnose(gpt, {"input_ids": ids}, ids, loss=lm_loss, steps=3, optimizer=adam)
    ref = grads_by_autograd(gpt, {"input_ids": ids}, ids, lm_loss)
    assert sum(t == "Conv1D" for t in d.layer_types) == 12  # 4 per block, found by shape
    gelu = [i for i, n in enumerate(d.unit_names) if n.endswith("mlp.act")]  # GELUActivation
    assert len(gelu) == 3 and np.all(d.unit_grad_norm[gelu] > 0)
    assert dict(zip(d.layer_names, d.grad_norm, strict=True)) == pytest.approx(ref, rel=1e-5)
    assert d.healthy, d
    labels = torch.tensor([0, 1, 2, 1])
    d = diagnose(bert, {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, labels,
                 loss=lambda out, t: Fn.cross_entropy(out.logits, t), steps=5)
    assert d.healthy, d
    assert "grad:data spread" in d.figures  # 3 layers: each role repeats 3 times
    assert "update too large" in diagnose(gpt, {"input_ids": ids}, ids, loss=lm_loss,
                                          steps=3).names  # Adam at 1e-3


# -- the model is left as it was ----------------------------------------------------------
def test_original_untouched(data):
    model = build_mlp(config(depth=4, activation="relu", init="he", norm="batch"))
    state = copy.deepcopy(model.state_dict())
    diagnose(model, *data, steps=5, optimizer=torch.optim.SGD(model.parameters(), lr=0.5))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert all(p.grad is None for p in model.parameters()) and model.training


def test_deterministic_with_dropout(data):
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 4))
    a, b = diagnose(model, *data), diagnose(model, *data)
    np.testing.assert_array_equal(a.grad_norm, b.grad_norm)
    assert not np.array_equal(diagnose(model, *data, seed=1).grad_norm, a.grad_norm)


def test_depth_groups_compare_like_with_like():
    names = ["emb.weight", "layers.0.q.weight", "layers.0.ff.weight", "layers.1.q.weight",
             "layers.1.ff.weight", "layers.2.q.weight", "layers.2.ff.weight", "head.weight"]
    groups = depth_groups(names)
    assert [list(g) for g in groups] == [[1, 3, 5], [2, 4, 6]]
    assert [list(g) for g in depth_groups(["rnn.w_ih", "rnn.w_hh", "head.w"])] == [[0, 1, 2]]
    assert depth_groups(["a.weight", "b.weight"]) == []


# -- report ---------------------------------------------------------------------------------
def test_report_and_html(data):
    d = diagnose(build_mlp(config(depth=30, activation="sigmoid")), *data)
    text = repr(d)
    assert "vanishing gradients at the current weights" in text and "Lesson 5" in text
    page = d._repr_html_()
    assert "<b>vanishing gradients</b>" in page and "plotly-graph-div" in page


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(model="not a model"), TypeError, "model must be a torch.nn.Module, got str"),
    (dict(steps=-1), ValueError, "steps must be between 0 and 10000, got -1"),
    (dict(steps=10_001), ValueError, "steps must be between 0 and 10000, got 10001"),
    (dict(steps=True), TypeError, "steps must be an int, got True"),
    (dict(loss="hinge"), ValueError, "unknown loss 'hinge'; valid choices: 'cross_entropy', "
                                     "'mse' or a callable loss(output, targets) -> scalar"),
    (dict(targets=None), ValueError,
     "loss 'cross_entropy' needs targets; pass targets, or a callable loss"),
    (dict(inputs="text"), TypeError, "inputs must be a tensor, a tuple of positional arguments "
                                     "or a dict of keyword arguments, got str"),
    (dict(optimizer="adam", steps=2), TypeError, "optimizer must be a torch.optim.Optimizer, a "
                                                 "callable params -> optimizer, or None; got str"),
    (dict(seed=-3), ValueError, "seed must be between 0 and 4294967295, got -3"),
])
def test_bad_input(data, kwargs, error, message):
    """Every bad argument of diagnose, and its message word for word."""
    args = dict(model=he_relu(depth=2), inputs=data[0], targets=data[1]) | kwargs
    with pytest.raises(error) as info:
        diagnose(args.pop("model"), args.pop("inputs"), args.pop("targets"), **args)
    assert str(info.value) == message


def test_loss_of_the_output_alone(data):
    """Without targets the callable gets the output alone (a model that computes its loss)."""
    model = he_relu(depth=3)
    X, y = data
    d = diagnose(model, X, None, loss=lambda out: Fn.cross_entropy(out, y))
    np.testing.assert_allclose(d.grad_norm, diagnose(model, X, y).grad_norm, rtol=1e-6)


def test_tuple_output_needs_a_loss_and_frozen_model_refused(data):
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(10, 4)

        def forward(self, x):
            return self.lin(x), x

    with pytest.raises(TypeError, match="pass loss as a callable"):
        diagnose(Pair(), *data)
    frozen = nn.Linear(10, 4).requires_grad_(False)
    with pytest.raises(ValueError) as info:
        diagnose(frozen, *data)
    assert str(info.value) == ("the model has no trainable parameter (all are frozen or there "
                               "are none)")


def test_an_output_changed_in_place_later_is_refused_with_the_way_out(data):
    class Overwrite(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.act, self.b = nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 4)

        def forward(self, x):
            h = self.act(self.a(x))
            h *= 2.0  # the recorded ReLU output is no longer what it was
            return self.b(h)

    with pytest.raises(ValueError, match=r"changed in place.*h = h \+ x"):
        diagnose(Overwrite(), *data)


# -- what lesson 10 prints: a finding, the checklist, the headline numbers ------------------
def test_finding_text_in_full():
    from dataclasses import replace

    from helpers.findings import Finding

    f = Finding("dead units", 0.625, 0.5, "largest dead fraction", "Lu et al. 2019; lesson 4",
                tuple(f"blocks.{i}" for i in range(6)), ("cause a", "cause b"),
                ("fix a (Lesson 4: activation functions)", "fix b (Lesson 5: initialization)"),
                "at the current weights")
    tail = ("\n    likely causes: cause a; cause b\n    try, in order: 1) fix a (Lesson 4: "
            "activation functions); 2) fix b (Lesson 5: initialization)")
    head = ("dead units at the current weights: largest dead fraction = 0.625 "
            "(threshold 0.5; Lu et al. 2019; lesson 4)\n    layers: ")
    four = "blocks.0, blocks.1, blocks.2, blocks.3"
    assert str(f) == head + four + " (+2)" + tail
    assert str(replace(f, layers=f.layers[:5])) == head + four + " (+1)" + tail
    assert str(replace(f, layers=f.layers[:4])) == head + four + tail
    assert str(replace(f, layers=())) == head + "-" + tail


def test_checklist_rows_show_the_first_cause_and_fix_and_the_table_escapes_lt():
    from helpers.findings import lesson_label

    rows = checklist_rows()
    for row, spec in zip(rows, CATALOGUE.values(), strict=True):
        assert row == dict(finding=spec.name, symptom=spec.symptom,
                           measurement=spec.measurement, threshold=spec.threshold,
                           cause=spec.causes[0], fix=spec.fixes[0][0], lesson=spec.fixes[0][1])
    lines = checklist_markdown().split("\n")
    assert lines[:2] == ["| finding | symptom | measured | alarm | likely cause | "
                         "first fix (lesson) |", "|---|---|---|---|---|---|"]
    spec = CATALOGUE["vanishing gradients"]
    assert lines[2] == (f"| **vanishing gradients** | {spec.symptom} | {spec.measurement} | "
                        f"&lt; 1e-2 | {spec.causes[0]} | {spec.fixes[0][0]} (5) |")
    some = ["dead units", "vanishing gradients"]  # the table keeps the catalogue's order
    picked = checklist_markdown(some).split("\n")
    assert len(picked) == 4
    assert picked[2].startswith("| **vanishing gradients** |")
    assert picked[3].startswith("| **dead units** |")
    with pytest.raises(ValueError) as info:
        checklist_markdown(["dead units", "sad units"])
    assert str(info.value) == (f"unknown findings ['sad units']; valid choices: "
                               f"{', '.join(CATALOGUE)}")
    with pytest.raises(ValueError) as info:
        lesson_label(11)
    assert str(info.value) == "unknown lesson 11; valid choices: 1, 2, 3, 4, 5, 6, 7, 8, 9"


@pytest.mark.parametrize(("losses", "want"), [
    ([2.0, 1.5, 0.5], 0.75), ([1.0, 0.5], 0.5), ([-2.0, -3.0], 0.5), ([1.0, 1.25], -0.25),
    ([0.0, 1.0], math.nan), ([1.0, math.inf], math.nan), ([math.nan, 1.0], math.nan),
])
def test_loss_decrease_is_relative_to_the_first_loss(losses, want):
    from helpers.findings import loss_decrease

    got = loss_decrease(losses)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-12)


def test_headline_figures_from_made_up_measurements():
    """Two roles repeated down six blocks: the grad:data spread is the one farthest from 1
    on a log scale (1e-4 here, not the larger 10), an embedding is left out, and each other
    figure is the largest (or median) of what was measured."""
    from helpers.findings import headline

    names = [f"blocks.{i}.{r}.weight" for i in range(6) for r in "ab"]
    a = [1e6, 1e-4, 1e-2, 1e-2, 1.0, 1.0]  # without the first (an embedding): 1e-4 / 1
    b = [10.0, 10.0, 5.0, 5.0, 1.0, 1.0]  # first third / last third = 10
    grad = np.array([v for pair in zip(a, b, strict=True) for v in pair])
    m = dict(names=names, embedding=[True] + [False] * 11, grad_norm=grad,
             weight_norm=np.ones(12), unit_grad=[1.0, 0.5, 0.25, 0.1],
             unit_names=["act0", "act1", "act2", "act3"], saturation=[0.1, 0.3, math.nan],
             dead=[0.0, 0.2], nonfinite={"blocks.0": 2, "blocks.1": 3})
    figures = headline(m, underflow=[0.0, 0.05], ratios=[1e-3, 2e-3, 4e-2],
                       losses=[2.0, 1.0])
    assert figures == {
        "grad:data spread": pytest.approx(1e-4, rel=1e-12),
        "activation-gradient spread": pytest.approx(10.0, rel=1e-12),  # 1.0 / 0.1
        "max saturation": 0.3, "max dead fraction": 0.2, "max underflow": 0.05,
        "non-finite entries": 5.0, "median update:data": 2e-3, "max update:data": 4e-2,
        "loss decrease": 0.5}
    empty = headline({**m, "saturation": [math.nan]}, underflow=[math.nan], ratios=[],
                     losses=[2.0])
    assert {"max saturation", "max underflow", "median update:data", "max update:data",
            "loss decrease"}.isdisjoint(empty)


def _made_up_diagnosis(findings, not_measured=()):
    from helpers.diagnose import Diagnosis

    return Diagnosis(
        findings=tuple(findings), figures={"spread (orders)": 4.56789, "dead max": 0.5},
        layer_names=("0.weight", "2.weight", "4.weight"), layer_types=("Linear",) * 3,
        grad_norm=np.array([1e-6, 1e-3, 2.0]), weight_norm=np.array([2.0, 4.0, 0.0]),
        underflow=np.zeros(3), update_ratio=np.full(3, np.nan), unit_names=("1", "3"),
        saturation=np.zeros(2), dead_fraction=np.array([0.5, 0.0]),
        unit_grad_norm=np.ones(2), losses=np.array([1.0, 0.9, 0.8, 0.7]),
        not_measured=tuple(not_measured), dtype="float32")


def test_report_word_for_word_and_the_grad_data_ratio():
    """The text lesson 10 prints, from a made-up Diagnosis (numbering, counts, separators)."""
    from helpers.findings import Finding

    def finding(name, figure):
        return Finding(name=name, figure=figure, threshold=3.0, measured="m", why="w",
                       layers=("0.weight",), causes=("c",), fixes=("f",), when="now")

    d = _made_up_diagnosis([finding("vanishing gradients", 4.56789),
                            finding("dead units", 0.5)], ["underflow: float64 model"])
    assert d.report() == repr(d) == (
        "Diagnosis (3 layers, 2 activation modules, float32, 3 steps): 2 finding(s): "
        "vanishing gradients, dead units\n"
        f"  1. {d.findings[0]}\n  2. {d.findings[1]}\n"
        "  figures: spread (orders) 4.57, dead max 0.5\n"
        "  not measured: underflow: float64 model")
    assert str(d.findings[0]) == (
        "vanishing gradients now: m = 4.57 (threshold 3; w)\n    layers: 0.weight\n"
        "    likely causes: c\n    try, in order: 1) f")
    healthy = _made_up_diagnosis([])
    assert healthy.healthy and healthy.names == ()
    assert healthy.report() == ("Diagnosis (3 layers, 2 activation modules, float32, 3 steps): "
                                "healthy: no finding\n"
                                "  figures: spread (orders) 4.57, dead max 0.5")
    assert d.names == ("vanishing gradients", "dead units") and not d.healthy
    np.testing.assert_array_equal(d.grad_data_ratio, [5e-7, 2.5e-4, np.inf])


class _OddUnits(nn.Module):
    """A tanh on the raw input (no gradient reaches it), a tanh of a 0-dim sum, a linear
    (identity) activation and a frozen all-zero layer next to a zero-initialised one."""

    def __init__(self):
        super().__init__()
        from helpers.activation_modules import get_activation

        self.squash = nn.Tanh()
        self.lin = nn.Linear(3, 4)
        self.ident = get_activation("linear")
        self.total = nn.Tanh()
        self.frozen = nn.Linear(4, 4)
        self.zero = nn.Linear(4, 2)
        with torch.no_grad():
            self.frozen.weight.zero_()
            self.zero.weight.zero_()
        self.frozen.requires_grad_(False)

    def forward(self, x):
        h = self.ident(self.lin(self.squash(x)))
        return self.zero(h + self.frozen(h)) + self.total(h.sum())


def test_odd_units_and_zero_weights_measured_without_warnings():
    """Each number of these corner cases, with every warning an error: NaN where nothing is
    measured (no gradient reaches the unit; a frozen or all-zero weight's update ratio) and 0
    where an activation cannot saturate or die."""
    torch.manual_seed(0)
    X, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    model = _OddUnits()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = diagnose(model, X, y, steps=1)  # one step: the zero weight is still zero before it
    assert d.layer_names == ("lin.weight", "frozen.weight", "zero.weight")
    assert d.unit_names == ("squash", "ident", "total")
    assert d.unit_grad_norm.dtype == np.float64 and math.isnan(d.unit_grad_norm[0])
    assert np.isfinite(d.unit_grad_norm[1:]).all()
    from helpers.activations import ACTIVATIONS

    z_sat = ACTIVATIONS["tanh"].saturation_bounds[1]
    total = float(model.lin(torch.tanh(X)).detach().sum())
    assert d.saturation[1] == 0.0 and d.dead_fraction[1] == 0.0  # linear: neither
    assert d.saturation[2] == float(abs(total) > z_sat)  # one 0-dim value: in a tail or not
    assert d.saturation[0] == pytest.approx(float((X.abs() > z_sat).double().mean()))
    assert math.isnan(d.update_ratio[1])  # frozen (and zero): nothing to divide by
    assert math.isnan(d.update_ratio[2])  # zero before the step: no ratio to its size
    assert d.update_ratio[0] > 0 and math.isnan(d.grad_norm[1])
    assert d.underflow.dtype == np.float64 and math.isnan(d.underflow[1])  # frozen: no gradient
    assert d.underflow[0] == 0.0 and d.underflow[2] == 0.0


def test_bare_module_parameter_names_and_optimizer_settings():
    """A model that is one nn.Linear names its weight 'weight'; an optimizer instance is
    copied with its own settings (lr, momentum), checked against the same optimizer run by
    hand."""
    torch.manual_seed(0)
    X, y = torch.randn(32, 3), torch.randint(0, 2, (32,))
    model = nn.Linear(3, 2)
    assert diagnose(model, X, y).layer_names == ("weight",)
    sgd = torch.optim.SGD(model.parameters(), lr=0.7, momentum=0.5)
    d = diagnose(model, X, y, steps=3, optimizer=sgd)
    by_hand, losses = copy.deepcopy(model), []
    opt = torch.optim.SGD(by_hand.parameters(), lr=0.7, momentum=0.5)
    for _ in range(4):  # the loss at the weights, then after each of the 3 steps
        opt.zero_grad()
        loss = Fn.cross_entropy(by_hand(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(d.losses, losses, rtol=1e-6)


def test_non_finite_count_equals_one_counted_by_hand(data):
    """A NaN in the output layer's weight turns the loss and most gradients into NaN: the
    finding's figure is every non-finite entry of the weights, their gradients (autograd),
    the activation modules' outputs and the loss, counted here without diagnose."""
    model = he_relu(depth=3)
    with torch.no_grad():
        model.output.weight[0, 0] = math.nan
    d = diagnose(model, *data)
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    outputs = []
    handles = [m.register_forward_hook(lambda mod, i, o: outputs.append(o.detach()))
               for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        loss = Fn.cross_entropy(model(data[0]), data[1])
    finally:
        for h in handles:
            h.remove()
    grads = torch.autograd.grad(loss, weights)
    count = lambda t: int((~torch.isfinite(t)).sum())  # noqa: E731
    by_layer = [count(w) + count(g) for w, g in zip(weights, grads, strict=True)]
    total = sum(by_layer) + sum(count(o) for o in outputs) + count(loss.detach())
    finding = d.findings[d.names.index("non-finite values")]
    assert finding.figure == d.figures["non-finite entries"] == total
    assert by_layer[-1] > 1 and not math.isfinite(loss.item())
    assert finding.layers == tuple(n for n, k in zip(d.layer_names, by_layer, strict=True)
                                   if k) + ("loss",)


def test_all_notes_and_figures_of_a_plain_two_layer_model():
    """Everything diagnose could not measure on two bare nn.Linear layers at steps=0, in
    order, and the figures it could (underflow against its float64 copy: none lost)."""
    torch.manual_seed(0)
    X, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    d = diagnose(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), X, y)
    assert d.not_measured == (
        "update:data ratios and the loss trend (steps=0; pass steps=20)",
        "saturated and dead units (no activation module such as nn.ReLU or nn.Tanh; functional "
        "and fused activations are not seen)",
        "the gradient spread across depth (no layer role repeated 3 times or more)")
    assert d.figures == {"max underflow": 0.0, "non-finite entries": 0.0}
    assert np.nanmax(d.underflow) == 0.0 and len(d.losses) == 1


@pytest.mark.parametrize("model, notes", [
    (nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)),
     ["saturated and dead units (no activation module such as nn.ReLU or nn.Tanh; functional "
      "and fused activations are not seen)"]),
    ("recurrent", ["saturated and dead units (no activation module such as nn.ReLU or nn.Tanh; "
                   "functional and fused activations are not seen)",
                   "saturation inside nn.RNN/LSTM/GRU cells and the gradient through time "
                   "step by step (lesson 9's tools measure it)"]),
    ("frozen 3", ["frozen parameters (0.weight, 2.weight, 4.weight)"]),
    ("frozen 4", ["frozen parameters (0.weight, 2.weight, 4.weight, ...)"]),
])
def test_not_measured_notes_word_for_word(model, notes):
    """What diagnose tells the user it could not measure, for each reason (the notes of
    these three kinds; a model with tanh units gets no note about units)."""
    torch.manual_seed(0)
    X, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    if model == "recurrent":
        from helpers.checks.lesson10 import mystery_models

        m = mystery_models()["C"]
        model, X, y = m.model, m.inputs, m.targets
    elif isinstance(model, str):
        frozen = int(model.split()[1])
        layers = []
        for _ in range(5):
            layers += [nn.Linear(4, 4), nn.Tanh()]
        model = nn.Sequential(*layers, nn.Linear(4, 2))
        for k in range(frozen):
            model[2 * k].weight.requires_grad_(False)
    kinds = ("saturated and dead units", "saturation inside", "frozen parameters")
    got = [n for n in diagnose(model, X, y).not_measured if n.startswith(kinds)]
    assert got == notes


def test_embedding_tables_are_left_out_of_the_depth_spread():
    """An embedding table's gradient is sparse (only the rows of the tokens seen), so its
    grad:data is tiny by construction: in a model of one-of-a-kind layers (one group, in
    order) the spread is taken over the other layers (first third over last third, computed
    here from the reported norms) and calls nothing vanishing."""
    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5000, 16)  # one of a kind names: one group, in order
            self.first, self.second = nn.Linear(16, 16), nn.Linear(16, 16)
            self.third, self.out = nn.Linear(16, 16), nn.Linear(16, 3)

        def forward(self, tokens):
            h = self.emb(tokens).mean(1)
            for layer in (self.first, self.second, self.third):
                h = torch.tanh(layer(h))
            return self.out(h)

    torch.manual_seed(0)
    tokens, y = torch.randint(0, 20, (32, 5)), torch.randint(0, 3, (32,))
    d = diagnose(Bag(), tokens, y)
    assert d.layer_types == ("Embedding",) + ("Linear",) * 4
    r = d.grad_data_ratio
    assert r[0] < 1e-2 * r[1:].min()  # the table: 20 of 5,000 rows get a gradient
    assert d.figures["grad:data spread"] == pytest.approx(r[1] / r[4], rel=1e-12)
    assert "vanishing gradients" not in d.names


def test_underflow_is_unmeasured_in_float64_and_when_float64_fails():
    """Underflow compares with a float64 copy: a float64 model has nothing to compare with,
    and a model that cannot run in float64 says why; both report NaN for every layer."""
    torch.manual_seed(0)
    X, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    d64 = diagnose(copy.deepcopy(model).double(), X.double(), y)
    assert d64.dtype == "float64" and d64.underflow.dtype == np.float64
    assert np.isnan(d64.underflow).all() and len(d64.underflow) == 2
    assert not any(n.startswith("underflow") for n in d64.not_measured)

    class Float32Inside(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 2)

        def forward(self, x):
            return self.b(torch.tanh(self.a(x)) @ torch.eye(4))  # eye is always float32

    d = diagnose(Float32Inside(), X, y)
    assert d.dtype == "float32" and np.isnan(d.underflow).all() and len(d.underflow) == 2
    notes = [n for n in d.not_measured if n.startswith("underflow")]
    assert len(notes) == 1 and notes[0].startswith("underflow (the float64 reference pass "
                                                   "failed: ")


def test_mse_loss_by_name():
    """loss="mse" is accepted and is the mean squared error of the output."""
    torch.manual_seed(0)
    X, y = torch.randn(16, 4), torch.randn(16, 2)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    d = diagnose(model, X, y, loss="mse")
    assert d.losses[0] == pytest.approx(Fn.mse_loss(model(X), y).item(), rel=1e-6)



def _healthy_measurements(**changes):
    """Made-up per-layer measurements of six one-of-a-kind layers that call for nothing."""
    m = dict(names=[f"l{c}.weight" for c in "abcdef"], embedding=[False] * 6,
             grad_norm=np.ones(6), weight_norm=np.ones(6), unit_grad=np.ones(3),
             unit_names=["u1", "u2", "u3"], saturation=np.zeros(3), dead=np.zeros(3),
             nonfinite={"la.weight": 0, "loss": 0}, eval_modules=())
    return m | changes


@pytest.mark.parametrize("changes, extra, want", [
    (dict(grad_norm=np.array([1e-3, 1e-3, 1.0, 1.0, 1.0, 1.0])), {},
     ("vanishing gradients", 1e-3, 1e-2,
      "grad:data ratio, first third of the layers / last third", ("la.weight", "lb.weight"))),
    (dict(grad_norm=np.array([1.0, 1.0, 1.0, 1.0, 1e-3, 1e-3])), {},
     ("exploding gradients", 1e3, 1e2,
      "grad:data ratio, first third of the layers / last third", ("la.weight", "lb.weight"))),
    (dict(unit_grad=np.array([1e-3, 1.0, 1.0])), {},
     ("vanishing gradients", 1e-3, 1e-2,
      "activation-gradient norm, first third / last third", ("u1",))),
    (dict(nonfinite={"la.weight": 2, "lb.weight": 0, "loss": 1}), {},
     ("non-finite values", 3.0, 0.0, "NaN or inf entries", ("la.weight", "loss"))),
    (dict(saturation=np.array([0.1, 0.3, 0.5])), {},
     ("saturated units", 0.5, SATURATION_MAX, "largest saturated fraction", ("u2", "u3"))),
    (dict(dead=np.array([0.3, 0.0, 0.0])), {},
     ("dead units", 0.3, DEAD_MAX, "largest dead fraction", ("u1",))),
    ({}, dict(underflow=np.array([0.0, 0.5, 0.02, 0.0, 0.0, 0.0])),
     ("underflow", 0.5, UNDERFLOW_MAX, "largest fraction of gradient entries lost to the dtype",
      ("lb.weight", "lc.weight"))),
    (dict(eval_modules=("bn1", "drop")), {},
     ("wrong mode", 2.0, 0.0, "BatchNorm/Dropout modules in eval mode", ("bn1", "drop"))),
    ({}, dict(ratios=np.array([1e-6, 1e-6, 2e-6, np.nan, 1e-6, 1e-6])),
     ("update too small", 1e-6, UPDATE_MIN, "median update:data ratio",
      tuple(f"l{c}.weight" for c in "abcef"))),
    ({}, dict(ratios=np.array([1e-3, 0.5, 1e-3, 1e-3, 1e-3, 1e-3])),
     ("update too large", 0.5, UPDATE_MAX, "largest update:data per step", ("lb.weight",))),
    ({}, dict(losses=np.array([1.0, 0.5, np.inf])),
     ("non-finite values", 1.0, 0.0, "non-finite losses during training", ("loss",))),
    ({}, dict(losses=np.array([1.0, 0.999])),
     ("loss not decreasing", 0.001, 0.01, "relative loss decrease", ())),
])
def test_each_finding_in_full_from_made_up_measurements(changes, extra, want):
    """Every finding evaluate can make: its figure, threshold, what was measured, the layers
    named and when; the same measurements without the change call for nothing."""
    from helpers.findings import evaluate

    args = dict(underflow=np.zeros(6), ratios=None, losses=None) | extra
    found = evaluate(_healthy_measurements(**changes), args["underflow"], "at step 7",
                     args["ratios"], args["losses"])
    assert len(found) == 1
    f = found[0]
    assert (f.name, f.measured, f.layers, f.when) == (want[0], want[3], want[4], "at step 7")
    assert f.figure == pytest.approx(want[1], rel=1e-9)
    assert f.threshold == pytest.approx(want[2], rel=1e-12)
    assert evaluate(_healthy_measurements(), np.zeros(6), "now", np.full(6, 1e-3),
                    np.array([1.0, 0.5])) == []


@pytest.mark.parametrize("changes, extra", [
    (dict(grad_norm=np.array([1e-2, 1e-2, 1.0, 1.0, 1.0, 1.0])), {}),  # spread exactly 1e-2
    (dict(grad_norm=np.array([1.0, 1.0, 1.0, 1.0, 1e-2, 1e-2])), {}),  # exactly 1e2
    (dict(saturation=np.array([0.0, SATURATION_MAX, 0.0])), {}),
    (dict(dead=np.array([DEAD_MAX, 0.0, 0.0])), {}),
    ({}, dict(underflow=np.full(6, UNDERFLOW_MAX))),
    ({}, dict(ratios=np.full(6, UPDATE_MIN))),
    ({}, dict(ratios=np.array([UPDATE_MAX, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]))),
])
def test_a_figure_at_its_threshold_is_not_a_finding(changes, extra):
    """Every threshold is strict: a figure equal to it calls for nothing."""
    from helpers.findings import evaluate

    args = dict(underflow=np.zeros(6), ratios=None, losses=None) | extra
    assert evaluate(_healthy_measurements(**changes), args["underflow"], "now", args["ratios"],
                    args["losses"]) == []


def test_a_role_repeated_twice_is_no_depth_group():
    """Two blocks of one role are repeated names, but fewer than three: no group to compare
    across depth (not one group of every layer in order, as for one-of-a-kind layers)."""
    two_blocks = ["blocks.0.fc.weight", "blocks.1.fc.weight", "head.weight"]
    assert depth_groups(two_blocks) == []
    one_of_a_kind = ["first.weight", "second.weight", "head.weight"]
    assert [g.tolist() for g in depth_groups(one_of_a_kind)] == [[0, 1, 2]]
