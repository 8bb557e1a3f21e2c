"""helpers.topics.diagnose: the measured facts lesson 10's prose states, with margins."""

import numpy as np
import pytest
import torch

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
