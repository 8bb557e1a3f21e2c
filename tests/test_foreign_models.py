"""gradient_profile and GradientMonitor on models this project did not write.

Every reported weight-gradient norm is compared with plain autograd's (``loss.backward()``
on the same model, same random seed, norms taken in float64); every unsupported case
must raise an error that names the way out.
"""

import copy
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.activation_modules import FOREIGN_TYPES
from helpers.capture import GradientMonitor, gradient_profile

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded: models come from configs


def full_name(p, i):
    """The qualified parameter name of entry ``i`` of a GradientProfile."""
    layer = p.layer_names[i]
    name = (f"parametrizations.{p.param_names[i]}" if p.parametrizations[i]
            else p.param_names[i])
    return f"{layer}.{name}" if layer else name


def autograd_norms(model, run, seed=0):
    """{name: ||dL/dW||} of every parameter with ndim >= 2 that got a gradient."""
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    run(model).backward()
    out = {n: torch.linalg.vector_norm(q.grad.double()).item()
           for n, q in model.named_parameters() if q.ndim >= 2 and q.grad is not None}
    model.zero_grad(set_to_none=True)
    return out


def check_profile(model, X, y=None, loss="cross_entropy", run=None, seed=0, rtol=1e-6):
    """Profile ``model`` and compare each entry with autograd; returns the profile."""
    torch.manual_seed(seed)
    p = gradient_profile(model, X, y, loss)
    ref = autograd_norms(model, run, seed)
    trained = {full_name(p, i): p.weight_grad_norm[i] for i in range(len(p)) if not p.frozen[i]}
    assert trained.keys() == ref.keys()
    for name, value in trained.items():
        np.testing.assert_allclose(value, ref[name], rtol=rtol, err_msg=name)
    return p


def ce(out, y):
    return F.cross_entropy(out, y)


# -- models -----------------------------------------------------------------------
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.3),
            nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(6 * 4 * 4, 3)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


class SeqClassifier(nn.Module):
    """A recurrent net on sequence-first input (time, batch, features)."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(4, 8, num_layers=2)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.rnn(x)[0][-1])


class TokenAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.att = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, ids):
        h = self.emb(ids)
        a, _ = self.att(h, h, h)
        return self.head(a.mean(1))


class Encoder(nn.Module):
    def __init__(self, norm_first):
        super().__init__()
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True,
                                           norm_first=norm_first)
        self.body = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.body(x).mean(1))


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(12, 8)
        self.mix = nn.Linear(8, 8)
        self.out = nn.Linear(8, 12, bias=False)
        self.out.weight = self.emb.weight  # tied

    def forward(self, ids):
        return self.out(torch.tanh(self.mix(self.emb(ids))).mean(1))


class KeywordNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 8), nn.Linear(8, 3)

    def forward(self, x, scale=None):
        h = torch.tanh(self.a(x))
        return self.b(h if scale is None else h * scale)


class TupleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 8), nn.Linear(8, 3)

    def forward(self, x):
        h = torch.relu(self.a(x))
        return self.b(h), h


def mlp(act=nn.Tanh):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), act(), nn.Linear(8, 8), act(), nn.Linear(8, 3))


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, 4, generator=g), torch.randint(0, 3, (64,), generator=g)


# -- gradient_profile -----------------------------------------------------------------
def test_cnn_with_batchnorm_and_dropout():
    torch.manual_seed(0)
    model = CNN()
    X, y = torch.randn(16, 1, 8, 8), torch.randint(0, 3, (16,))
    state = copy.deepcopy(model.state_dict())
    gradient_profile(model, X, y)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())  # BN buffers
    p = check_profile(model, X, y, run=lambda m: ce(m(X), y))
    assert p.layer_names == ("features.0", "features.4", "head")
    assert p.activations == ("relu", "relu", "linear")


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
def test_lstm_and_gru_on_sequence_first_input(cell, data):
    torch.manual_seed(0)
    model = SeqClassifier(cell)
    X, y = torch.randn(5, 64, 4), data[1]  # (time, batch, features)
    p = check_profile(model, X, y, run=lambda m: ce(m(X), y))
    assert p.param_names[:4] == ("weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1")
    assert set(p.layer_names) == {"rnn", "head"}


def test_a_bare_lstm_with_a_loss_of_its_tuple_output():
    torch.manual_seed(0)
    model = nn.LSTM(4, 8)
    X = torch.randn(5, 3, 4)

    def loss(out):
        return out[0].pow(2).mean()

    p = check_profile(model, X, None, loss, run=lambda m: loss(m(X)))
    assert p.layer_names == ("", "") and p.param_names == ("weight_ih_l0", "weight_hh_l0")
    with pytest.raises(TypeError, match=r"pass loss as a callable.*out\[0\]"):
        gradient_profile(model, X, torch.zeros(5, dtype=torch.long))


def test_embedding_input_and_multihead_attention(data):
    torch.manual_seed(0)
    model = TokenAttention()
    ids, y = torch.randint(0, 10, (64, 6)), data[1]
    p = check_profile(model, ids, y, run=lambda m: ce(m(ids), y))
    assert [full_name(p, i) for i in range(len(p))] == [
        "emb.weight", "att.in_proj_weight", "att.out_proj.weight", "head.weight"]
    assert p.activations[2] == "n/a" and np.isnan(p.activation_std[2])  # used, not called


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_pre_and_post_norm(norm_first, data):
    torch.manual_seed(0)
    model = Encoder(norm_first)
    X, y = torch.randn(64, 5, 8), data[1]
    p = check_profile(model, X, y, run=lambda m: ce(m(X), y), seed=3)
    assert sum(n == "in_proj_weight" for n in p.param_names) == 2
    assert sum(n.endswith("out_proj") for n in p.layer_names) == 2


def test_tied_weights_are_reported_once_with_their_total_gradient():
    torch.manual_seed(0)
    model = TiedLM()
    ids, y = torch.randint(0, 12, (32, 5)), torch.randint(0, 12, (32,))
    p = check_profile(model, ids, y, run=lambda m: ce(m(ids), y))
    assert p.layer_names == ("emb", "mix")  # out.weight is emb.weight


@pytest.mark.parametrize("frozen", [[0], [4], [0, 2]])
def test_frozen_layers_are_reported_as_frozen(frozen, data):
    model = mlp()
    for i in frozen:
        model[i].requires_grad_(False)
    X, y = data
    p = check_profile(model, X, y, run=lambda m: ce(m(X), y))
    assert p.frozen.tolist() == [i in frozen for i in (0, 2, 4)]
    assert np.all(np.isnan(p.weight_grad_norm[p.frozen]))
    assert np.all(np.isfinite(p.activation_std))
    assert "[frozen]" in repr(p)


def test_everything_frozen_is_refused(data):
    model = mlp().requires_grad_(False)
    with pytest.raises(ValueError, match="every weight taking part is frozen"):
        gradient_profile(model, *data)


@pytest.mark.parametrize("wrap, kind", [
    (nn.utils.parametrizations.weight_norm, "WeightNorm"),
    (nn.utils.parametrizations.spectral_norm, "SpectralNorm"),
])
def test_parametrized_weights_report_their_original_tensors(wrap, kind, data):
    model = mlp()
    model[0] = wrap(model[0])
    X, y = data
    p = check_profile(model, X, y, run=lambda m: ce(m(X), y))
    first = [i for i in range(len(p)) if p.layer_names[i] == "0"]
    assert all(p.parametrizations[i] == kind for i in first)
    assert all(p.param_names[i].startswith("weight.original") for i in first)
    assert np.all(p.weight_grad_norm[first] > 0) and np.all(p.grad_zero_fraction[first] < 1)
    assert f"[{kind}]" in repr(p)


@pytest.mark.parametrize("act", [lambda: nn.SiLU(inplace=True), lambda: nn.ReLU(inplace=True)])
def test_in_place_activations_are_measured_on_their_input(act, data):
    model, twin = mlp(act), mlp(type(act()))  # the same weights, not in place
    X, y = data
    p = check_profile(model, X, y, run=lambda m: ce(m(X), y))
    q = gradient_profile(twin, X, y)
    z = model[0](X).detach()  # the first activation's input
    name = p.activations[0]
    lo = {"silu": -0.8824}.get(name)
    if lo is not None:
        np.testing.assert_allclose(p.saturation[0], (z < lo).double().mean().item())
    else:
        np.testing.assert_allclose(p.dead_fraction[0], (~(z > 0).any(0)).double().mean().item())
    for field in ("saturation", "dead_fraction", "activation_std", "activation_mean",
                  "activation_grad_norm", "weight_grad_norm"):
        np.testing.assert_allclose(getattr(p, field), getattr(q, field), rtol=1e-6,
                                   err_msg=field)


def test_a_linear_output_changed_in_place_before_its_activation(data):
    class AddInPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.act, self.b = nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)

        def forward(self, x):
            z = self.a(x)
            z += 1.0  # the activation's input is what tanh really sees
            return self.b(self.act(z))

    torch.manual_seed(0)
    model = AddInPlace()
    X, y = data
    p = check_profile(model, X, y, run=lambda m: ce(m(X), y))
    z = model.a(X).detach() + 1.0
    np.testing.assert_allclose(p.saturation[0], (z.abs() > 1.8184).double().mean().item())


def test_a_recorded_output_changed_in_place_later_is_refused(data):
    class Overwrite(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 8), nn.Linear(8, 3)

        def forward(self, x):
            h = self.a(x)
            h *= 2.0
            return self.b(h)

    with pytest.raises(ValueError, match=r"'a' \(Linear\) was changed in place.*h = h \+ x"):
        gradient_profile(Overwrite(), *data)


def test_the_input_of_an_activation_changed_in_place_later_is_refused(data):
    """A Tanh (not in-place) that follows no layer: its recorded input is the tensor itself,
    not a copy, so changing that tensor afterwards is caught rather than measured stale."""
    class LateEdit(nn.Module):
        def __init__(self):
            super().__init__()
            self.t, self.a = nn.Tanh(), nn.Linear(4, 3)

        def forward(self, x):
            u = x * 2.0
            v = self.t(u)
            u.add_(1.0)  # tanh's backward needs only its output: autograd accepts this
            return self.a(v)

    with pytest.raises(ValueError, match=r"'t' \(Tanh\) was changed in place"):
        gradient_profile(LateEdit(), *data)


def test_dict_and_tuple_inputs_as_the_model_takes_them(data):
    torch.manual_seed(0)
    model = KeywordNet()
    X, y = data
    scale = torch.full((8,), 0.5)
    check_profile(model, {"x": X, "scale": scale}, y, run=lambda m: ce(m(x=X, scale=scale), y))
    check_profile(model, (X, scale), y, run=lambda m: ce(m(X, scale), y))


def test_tuple_output_needs_a_loss_callable(data):
    torch.manual_seed(0)
    model = TupleNet()
    X, y = data
    with pytest.raises(TypeError, match=r"returned a tuple.*loss=lambda out, y: "
                                        r"F.cross_entropy\(out\[0\], y\)"):
        gradient_profile(model, X, y)
    check_profile(model, X, y, lambda out, t: ce(out[0], t), run=lambda m: ce(m(X)[0], y))


def test_a_named_loss_without_targets_says_what_to_pass(data):
    with pytest.raises(ValueError, match="give targets y, or loss as a callable"):
        gradient_profile(mlp(), data[0])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(dtype, data):
    model = mlp().to(dtype)
    X, y = data
    p = check_profile(model, X, y, run=lambda m: ce(m(X.to(dtype)).float(), y), rtol=1e-12,
                      loss=lambda out, t: ce(out.float(), t))
    assert p.dtype == str(dtype).replace("torch.", "")


# -- Hugging Face transformers, built from tiny configs (no download) -------------------
def tiny_gpt2():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(vocab_size=64, n_positions=16, n_embd=16, n_layer=2,
                                  n_head=2, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(cfg)


def tiny_bert():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2,
                                  num_attention_heads=2, intermediate_size=32,
                                  max_position_embeddings=16, num_labels=3)
    torch.manual_seed(0)
    return transformers.BertForSequenceClassification(cfg)


def test_hugging_face_gpt2():
    model = tiny_gpt2()
    ids = torch.randint(0, 64, (4, 8), generator=torch.Generator().manual_seed(1))
    p = check_profile(model, {"input_ids": ids, "labels": ids}, None, lambda out: out.loss,
                      run=lambda m: m(input_ids=ids, labels=ids).loss)
    assert sum(name.endswith(("c_attn", "c_proj", "c_fc")) for name in p.layer_names) == 8
    assert p.layer_names[0] == "transformer.wte"  # tied with lm_head: reported once
    assert [a for a, n in zip(p.activations, p.layer_names) if n.endswith("c_fc")] == ["gelu"] * 2


def test_hugging_face_bert():
    model = tiny_bert()
    ids = torch.randint(0, 64, (4, 8), generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 1])
    X = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    p = check_profile(model, X, y, lambda out, t: ce(out.logits, t),
                      run=lambda m: ce(m(**X).logits, y))
    assert "bert.embeddings.word_embeddings" in p.layer_names
    with pytest.raises(TypeError, match=r"F.cross_entropy\(out.logits, y\)"):
        gradient_profile(model, X, y)


# -- GradientMonitor --------------------------------------------------------------------
def call(model, X):
    return model(**X) if isinstance(X, dict) else model(X)


def monitored_vs_autograd(make, X, y, steps=3, every=1, loss=ce):
    """Train a model under the monitor and its twin by hand; both seeded alike per step."""
    model = make()
    twin = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.05)
    expected = []
    with GradientMonitor(model, every=every) as monitor:
        for step in range(steps):
            torch.manual_seed(step)
            opt.zero_grad()
            loss(call(model, X), y).backward()
            opt.step()
            torch.manual_seed(step)
            twin_opt.zero_grad()
            loss(call(twin, X), y).backward()
            if step % every == 0:
                expected.append([torch.linalg.vector_norm(q.grad.double()).item()
                                 if q.grad is not None else np.nan
                                 for q in twin.parameters() if q.ndim >= 2])
            twin_opt.step()
    h = monitor.history()
    assert h.weight_names == tuple(n for n, q in model.named_parameters() if q.ndim >= 2)
    np.testing.assert_allclose(h.weight_grad_norm, expected, rtol=1e-6)
    return h


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
def test_monitor_records_recurrent_nets(cell, data):
    X, y = torch.randn(5, 64, 4), data[1]
    h = monitored_vs_autograd(lambda: SeqClassifier(cell), X, y)
    rnn = h.module_names.index("rnn")
    assert np.all(np.isfinite(h.output_std[:, rnn]))  # the tuple output's first tensor
    assert np.all(np.isfinite(h.output_grad_norm[:, rnn]))


def test_monitor_records_attention_and_embeddings(data):
    ids = torch.randint(0, 10, (64, 6))
    h = monitored_vs_autograd(TokenAttention, ids, data[1])
    assert "att.in_proj_weight" in h.weight_names and "att.out_proj.weight" in h.weight_names


def test_monitor_on_parametrized_and_frozen_weights(data):
    def make():
        model = mlp()
        model[0] = nn.utils.parametrizations.weight_norm(model[0])
        model[4].requires_grad_(False)
        return model

    h = monitored_vs_autograd(make, *data)
    assert h.weight_names[:2] == ("0.parametrizations.weight.original0",
                                  "0.parametrizations.weight.original1")
    assert h.weight_frozen.tolist() == [False, False, False, True]
    assert np.all(np.isnan(h.weight_grad_norm[:, 3]))


def test_monitor_on_gpt2_every_second_step():
    ids = torch.randint(0, 64, (4, 8), generator=torch.Generator().manual_seed(1))
    h = monitored_vs_autograd(tiny_gpt2, {"input_ids": ids, "labels": ids}, None, steps=4,
                              every=2, loss=lambda out, _: out.loss)
    assert h.steps.tolist() == [0, 2]


# -- diagnose on every model above ------------------------------------------------------
def _foreign_cases():
    """name -> () -> (model, inputs, targets, loss): each model of this module, as above."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(64, 4, generator=g), torch.randint(0, 3, (64,), generator=g)
    ids = torch.randint(0, 64, (4, 8), generator=torch.Generator().manual_seed(1))

    def seeded(make):
        torch.manual_seed(0)
        return make()

    def wrapped(wrap):
        model = mlp()
        model[0] = wrap(model[0])
        return model

    def frozen():
        model = mlp()
        model[0].requires_grad_(False)
        return model

    return {
        "cnn": lambda: (seeded(CNN), torch.randn(16, 1, 8, 8), torch.randint(0, 3, (16,)), ce),
        "lstm": lambda: (seeded(lambda: SeqClassifier(nn.LSTM)), torch.randn(5, 64, 4), y, ce),
        "gru": lambda: (seeded(lambda: SeqClassifier(nn.GRU)), torch.randn(5, 64, 4), y, ce),
        "bare-lstm": lambda: (seeded(lambda: nn.LSTM(4, 8)), torch.randn(5, 3, 4), None,
                              lambda out: out[0].pow(2).mean()),
        "embedding-attention": lambda: (seeded(TokenAttention), torch.randint(0, 10, (64, 6)),
                                        y, ce),
        "post-norm": lambda: (seeded(lambda: Encoder(False)), torch.randn(64, 5, 8), y, ce),
        "pre-norm": lambda: (seeded(lambda: Encoder(True)), torch.randn(64, 5, 8), y, ce),
        "tied": lambda: (seeded(TiedLM), torch.randint(0, 12, (32, 5)),
                         torch.randint(0, 12, (32,)), ce),
        "frozen": lambda: (frozen(), X, y, ce),
        "weight-norm": lambda: (wrapped(nn.utils.parametrizations.weight_norm), X, y, ce),
        "spectral-norm": lambda: (wrapped(nn.utils.parametrizations.spectral_norm), X, y, ce),
        "silu-inplace": lambda: (mlp(lambda: nn.SiLU(inplace=True)), X, y, ce),
        "relu-inplace": lambda: (mlp(lambda: nn.ReLU(inplace=True)), X, y, ce),
        "dict-input": lambda: (seeded(KeywordNet), {"x": X, "scale": torch.full((8,), 0.5)},
                               y, ce),
        "tuple-input": lambda: (seeded(KeywordNet), (X, torch.full((8,), 0.5)), y, ce),
        "tuple-output": lambda: (seeded(TupleNet), X, y, lambda out, t: ce(out[0], t)),
        "float16": lambda: (mlp().half(), X, y, lambda out, t: ce(out.float(), t)),
        "bfloat16": lambda: (mlp().bfloat16(), X, y, lambda out, t: ce(out.float(), t)),
        "gpt2": lambda: (tiny_gpt2(), {"input_ids": ids, "labels": ids}, None,
                         lambda out: out.loss),
        "bert": lambda: (tiny_bert(), {"input_ids": ids, "attention_mask": torch.ones_like(ids)},
                         torch.tensor([0, 1, 2, 1]), lambda out, t: ce(out.logits, t)),
    }


@pytest.mark.parametrize("case", list(_foreign_cases()))
def test_diagnose_runs_on_every_foreign_model(case):
    from helpers.diagnose import Diagnosis, diagnose

    model, X, y, loss = _foreign_cases()[case]()
    state = copy.deepcopy(model.state_dict())
    d = diagnose(model, X, y, loss=loss, steps=2)
    assert isinstance(d, Diagnosis) and len(d.layer_names) == len(d.grad_norm) > 0
    now = {f.name for f in d.findings if f.when == "at the current weights"}
    assert not {"non-finite values", "underflow"} & now, d  # all of them are healthy
    assert np.isfinite(d.grad_norm[~np.isnan(d.grad_norm)]).all()
    # Adam on float16 weights: its eps=1e-8 is 0 in float16, so 0/0 gives NaN at once
    assert ("non-finite values" in d.names) == (case == "float16"), d
    assert len(set(d.names)) == len(d.names)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_monitor_records_hugging_face_gelu_modules():
    """GPT-2's GELU modules are activations to the monitor as to ``capture_pass``: their output
    statistics match the tensors a plain forward hook sees."""
    model = tiny_gpt2()
    ids = torch.randint(0, 64, (4, 8), generator=torch.Generator().manual_seed(2))
    gelus = [n for n, m in model.named_modules() if type(m).__name__ in FOREIGN_TYPES]
    assert len(gelus) == 2
    seen, grads = {}, {}

    def keep(name):
        def hook(module, inputs, out):
            seen[name] = out.detach().double()
            out.register_hook(lambda g: grads.__setitem__(name, g.detach().double()))
        return hook

    handles = [m.register_forward_hook(keep(n)) for n, m in model.named_modules() if n in gelus]
    try:
        with GradientMonitor(model, track_updates=False) as monitor:
            model(input_ids=ids, labels=ids).loss.backward()
    finally:
        for h in handles:
            h.remove()
    h = monitor.history()
    for name in gelus:
        j = h.module_names.index(name)
        assert h.module_types[j] in FOREIGN_TYPES
        np.testing.assert_allclose(h.output_std[0, j], seen[name].std(correction=0).item(),
                                   rtol=1e-5)
        np.testing.assert_allclose(h.output_grad_norm[0, j],
                                   torch.linalg.vector_norm(grads[name]).item(), rtol=1e-5)
