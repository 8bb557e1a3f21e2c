"""helpers.topics.diagnose: the measured facts lesson 10's prose states, with margins."""

import copy

import numpy as np
import pytest
import torch
from oracles import params_equal
from torch import nn

from helpers.diagnose import diagnose
from helpers.findings import LESSONS
from helpers.topics.diagnose import (
    COURSE_SUMMARY,
    accuracy,
    course_summary_markdown,
    mystery_models,
    norm_position_profiles,
    train_briefly,
    transformer_stack,
)


def test_post_norm_last_layer_keeps_its_gradient_pre_norm_shrinks():
    """Xiong et al. 2020, Theorem 1, as the lesson states it (3 to 24 layers)."""
    p = norm_position_profiles(depths=(3, 24))
    post, pre = p.last_layer("post"), p.last_layer("pre")
    assert 0.7 < post[1] / post[0] < 3.0  # about constant (measured x1.6)
    assert pre[1] / pre[0] < 0.5  # shrinks (measured x0.29; 1/sqrt(8) = 0.35)
    assert post[1] > 3 * pre[1]


def test_ffn_norms_match_autograd():
    from helpers.topics.diagnose import ffn_grad_norms, sequence_task

    X, y = sequence_task()
    model = transformer_stack(3, True)
    got = ffn_grad_norms(model, X, y)
    torch.nn.functional.cross_entropy(model(X), y).backward()
    ref = [layer.linear1.weight.grad.norm().item() for layer in model[0].layers]
    np.testing.assert_allclose(got, ref, rtol=1e-5)


def test_mysteries_hide_their_pathology_in_repr():
    ms = mystery_models()
    for m in ms.values():
        text = repr(m).lower()
        for word in ("dead", "saturat", "explod", "vanish", "radius", "scale"):
            assert word not in text


def test_only_the_exploding_mystery_fails_to_train():
    for letter, m in mystery_models().items():
        train_briefly(m.model, m.inputs, m.targets, steps=100)
        acc = accuracy(m.model, m.inputs, m.targets)
        assert (acc < 0.6) if letter == "C" else (acc > 0.95), (letter, acc)


def test_mysteries_are_reproducible():
    a, b = mystery_models(seed=0)["B"], mystery_models(seed=0)["B"]
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(),
                                                 strict=True))
    assert diagnose(a.model, a.inputs, a.targets).names == ("dead units",)


def test_course_summary_covers_lessons_1_to_9():
    assert [row[0] for row in COURSE_SUMMARY] == sorted(LESSONS)
    table = course_summary_markdown()
    assert table.count("\n") == len(COURSE_SUMMARY) + 1
    for line in table.splitlines()[2:]:
        assert line.count("|") == 4  # no stray pipe breaks a row


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        transformer_stack(0, True)
    with pytest.raises(TypeError, match="norm_first"):
        transformer_stack(3, "pre")


def test_post_norm_gradient_grows_toward_the_output_at_depth_12():
    """Lesson 10, explorer at depth 12: first/last layer measured 0.34 (post), 1.72 (pre)."""
    from helpers.topics.diagnose import ffn_grad_norms, sequence_task

    X, y = sequence_task()
    post = ffn_grad_norms(transformer_stack(12, False), X, y)
    pre = ffn_grad_norms(transformer_stack(12, True), X, y)
    assert post[0] / post[-1] < 0.7 and pre[0] / pre[-1] > 1.2


# --- the lesson's data, models and tables, each against its definition -----------------
def test_sequence_task_labels_are_the_largest_of_the_first_four_feature_means():
    from helpers.topics.diagnose import sequence_task

    X, y = sequence_task(50, seed=3)
    assert X.shape == (50, 8, 32)
    assert np.array_equal(y.numpy(), X.numpy().mean(axis=1)[:, :4].argmax(axis=1))
    assert torch.equal(sequence_task(50, seed=3)[0], X)  # the seed decides the draw
    assert not torch.equal(sequence_task(50, seed=4)[0], X)
    assert sequence_task(1)[0].shape == (1, 8, 32)
    with pytest.raises(ValueError, match="^n must be"):
        sequence_task(0)


def test_mystery_c_data_labels_follow_the_last_three_steps():
    from helpers.topics.diagnose import mystery_data

    X, y = mystery_data("C", seed=2)
    assert X.shape == (128, 30, 8)
    assert np.array_equal(y.numpy(), X.numpy()[:, 27:, :4].mean(axis=1).argmax(axis=1))
    assert torch.equal(mystery_data("C", seed=2)[0], X)
    assert not torch.equal(mystery_data("C", seed=3)[0], X)


def test_sequence_classifier_reads_the_last_hidden_state_of_a_tanh_rnn():
    from helpers.topics.diagnose import SequenceClassifier

    torch.manual_seed(0)
    model = SequenceClassifier(3, 5, 2)
    x = torch.randn(4, 6, 3)  # (batch, time, features)
    r = model.rnn
    h = torch.zeros(4, 5)
    for t in range(6):  # the recurrence by hand
        h = torch.tanh(x[:, t] @ r.weight_ih_l0.T + r.bias_ih_l0 + h @ r.weight_hh_l0.T
                       + r.bias_hh_l0)
    torch.testing.assert_close(model(x), model.head(h))


def test_transformer_stack_shape_and_norms():
    from helpers.topics.diagnose import sequence_task

    X, _ = sequence_task(5)
    for norm_first in (False, True):
        model = transformer_stack(1, norm_first, seed=0)
        assert model(X).shape == (5, 4)
        enc = model[0]
        assert (enc.norm is not None) == norm_first  # pre-norm ends with a LayerNorm
        assert enc.layers[0].linear1.out_features == 64 and enc.layers[0].norm_first == norm_first
    a, b = transformer_stack(2, True, seed=5), transformer_stack(2, True, seed=5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    with pytest.raises(TypeError, match="^norm_first must be"):
        transformer_stack(3, "pre")


def test_norm_position_profiles_measure_each_stack_with_the_seed():
    from helpers.topics.diagnose import ffn_grad_norms, sequence_task

    p = norm_position_profiles(depths=(1, 2), seed=3)
    X, y = sequence_task(seed=3)
    for d in (1, 2):
        np.testing.assert_array_equal(p.post[d], ffn_grad_norms(transformer_stack(d, False, 3),
                                                                X, y))
        np.testing.assert_array_equal(p.pre[d], ffn_grad_norms(transformer_stack(d, True, 3),
                                                               X, y))
    np.testing.assert_array_equal(p.last_layer("post"), [p.post[1][-1], p.post[2][-1]])
    np.testing.assert_array_equal(p.last_layer("pre"), [p.pre[1][-1], p.pre[2][-1]])
    for bad in (0, 201):
        with pytest.raises(ValueError, match="^depth must be"):
            norm_position_profiles(depths=(bad,))


def test_train_briefly_is_adam_on_the_seeded_batches():
    """Against a plain loop: Adam, cross-entropy, batches drawn by a generator seeded with
    ``seed``, one loss per step."""
    from helpers.topics.diagnose import mlp

    X, y = torch.randn(40, 10, generator=torch.Generator().manual_seed(1)), torch.arange(40) % 4
    torch.manual_seed(0)
    model = mlp(torch.nn.Tanh, depth=2, width=8)
    ref = copy.deepcopy(model)
    losses = train_briefly(model, X, y, steps=3, lr=0.05, batch_size=8, seed=7)
    gen, opt, expected = torch.Generator().manual_seed(7), torch.optim.Adam(ref.parameters(),
                                                                            lr=0.05), []
    for _ in range(3):
        idx = torch.randint(0, 40, (8,), generator=gen)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(ref(X[idx]), y[idx])
        loss.backward()
        opt.step()
        expected.append(float(loss))
    assert losses == pytest.approx(expected, rel=1e-6)
    assert len(train_briefly(mlp(torch.nn.Tanh), X, y, steps=1)) == 1
    assert mlp(torch.nn.Tanh)(X).shape == (40, 4)  # four classes by default
    with pytest.raises(ValueError, match="^steps must be"):
        train_briefly(model, X, y, steps=0)


def test_course_summary_rows_name_their_lessons():
    from helpers.findings import lesson_label

    rows = course_summary_markdown().splitlines()
    assert rows[:2] == ["| lesson | what goes wrong, measured | what fixes it |", "|---|---|---|"]
    for line, (n, what, fix) in zip(rows[2:], COURSE_SUMMARY, strict=True):
        assert line == f"| {lesson_label(n)[len('Lesson '):]} | {what} | {fix} |"
        assert not line.startswith("| Lesson")


def test_digits_images_are_the_split_digits_as_one_channel_images():
    from helpers.data import digits, train_test_split
    from helpers.topics.diagnose import digits_cnn, digits_images

    X, y = digits()
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, test_fraction=0.25, seed=2)
    a, b, c, d = digits_images(seed=2)
    assert a.shape[1:] == (1, 8, 8) and c.shape[1:] == (1, 8, 8)
    assert torch.equal(a.reshape(len(a), 64), X_tr) and torch.equal(c.reshape(len(c), 64), X_te)
    assert torch.equal(b, y_tr) and torch.equal(d, y_te)
    model = digits_cnn(seed=4)
    assert model(a[:3]).shape == (3, 10)
    shapes = [tuple(m(a[:2]).shape) for m in (model[:2], model[:4], model[:6])]
    assert shapes == [(2, 8, 8, 8), (2, 16, 8, 8), (2, 64)]
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), digits_cnn(seed=4)
                                                 .parameters(), strict=True))
    assert not torch.equal(model[0].weight, digits_cnn(seed=5)[0].weight)


def test_lesson_10_builders_default_to_seed_0():
    from helpers.topics.diagnose import digits_cnn, digits_images, mystery_data, sequence_task

    assert params_equal(digits_cnn(), digits_cnn(0))
    assert not params_equal(digits_cnn(), digits_cnn(1))
    assert params_equal(transformer_stack(2, True), transformer_stack(2, True, seed=0))
    for got, want in ((digits_images(), digits_images(0)), (sequence_task(), sequence_task(64, 0)),
                      (mystery_data("A"), mystery_data("A", 0)),
                      (mystery_data("C"), mystery_data("C", 0))):
        assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
    X_tr, _, X_te, _ = digits_images()
    assert len(X_te) == round(0.25 * (len(X_tr) + len(X_te)))  # a quarter held out
    assert sequence_task()[0].shape == (64, 8, 32)
    default, zero = mystery_models(), mystery_models(0)
    for k in "ABC":
        assert params_equal(default[k].model, zero[k].model)
        assert torch.equal(default[k].inputs, zero[k].inputs)


def test_train_briefly_defaults_and_train_digits_cnn_recipe(monkeypatch):
    """train_briefly: 200 Adam steps at lr 1e-2, batches drawn from seed 0; train_digits_cnn:
    300 steps at lr 3e-3 in batches of 64 on digits_images(seed), accuracy on the test part."""
    from helpers.topics import diagnose as topic

    X, y = torch.randn(40, 10), torch.randint(4, (40,))
    torch.manual_seed(0)
    model = topic.mlp(nn.Tanh)
    a, b, c = (copy.deepcopy(model) for _ in range(3))
    assert len(train_briefly(a, X, y)) == 200
    assert train_briefly(b, X, y, steps=4, batch_size=8) == train_briefly(
        c, X, y, steps=4, lr=1e-2, batch_size=8, seed=0)
    d, e = copy.deepcopy(model), copy.deepcopy(model)
    assert train_briefly(d, X, y, steps=3) == train_briefly(e, X, y, steps=3, lr=1e-2)
    calls = []
    real = topic.train_briefly

    def record(model, X, y, **kw):
        calls.append(kw)
        return real(model, X, y, **{**kw, "steps": 2})

    monkeypatch.setattr(topic, "train_briefly", record)
    trained, data, acc = topic.train_digits_cnn(seed=3)
    assert calls == [dict(steps=300, lr=3e-3, batch_size=64, seed=3)]
    assert all(torch.equal(g, w) for g, w in zip(data, topic.digits_images(3), strict=True))
    assert acc == accuracy(trained, data[2], data[3])
    by_hand = topic.digits_cnn(3)
    real(by_hand, data[0], data[1], steps=2, lr=3e-3, batch_size=64, seed=3)
    assert params_equal(trained, by_hand)


def test_lesson_10_size_limits_word_for_word():
    from helpers.topics.diagnose import sequence_task

    X, y = torch.zeros(2, 10), torch.zeros(2, dtype=torch.long)
    for call, message in (
            (lambda: train_briefly(nn.Linear(10, 2), X, y, steps=100_001),
             "steps must be between 1 and 100000, got 100001"),
            (lambda: transformer_stack(201, True), "depth must be between 1 and 200, got 201"),
            (lambda: sequence_task(10**6 + 1), "n must be between 1 and 1000000, got 1000001"),
            (lambda: norm_position_profiles(depths=(0,)), "depth must be between 1 and 200, got 0"),
            (lambda: norm_position_profiles(depths=(201,)),
             "depth must be between 1 and 200, got 201")):
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == message
