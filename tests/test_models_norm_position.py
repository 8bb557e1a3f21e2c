"""helpers.models.Block: the three norm positions of a residual block, against formulas."""

import pytest
import torch
from torch import nn

from helpers.models import Block, MLPConfig, build_mlp


def block(position, norm="layer", residual=True, n_in=6, n_out=6, act="tanh"):
    torch.manual_seed(0)
    b = Block(n_in, n_out, act, norm, residual, norm_position=position).double()
    with torch.no_grad():  # non-trivial norm parameters, so that a misplaced norm shows
        if not isinstance(b.norm, nn.Identity):
            b.norm.weight.uniform_(0.5, 1.5)
            b.norm.bias.uniform_(-0.5, 0.5)
    return b


def x(n=6):
    return torch.randn(10, n, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_pre_norm(norm):
    b, inp = block("pre", norm), x()
    expected = inp + b.linear(b.act(b.norm(inp)))  # x + W phi(N(x)) + b
    W, bias = b.linear.weight, b.linear.bias
    by_hand = inp + torch.tanh(b.norm(inp)) @ W.T + bias
    torch.testing.assert_close(b(inp), expected)
    torch.testing.assert_close(b(inp), by_hand)


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_post_norm(norm):
    b, inp = block("post", norm), x()
    W, bias = b.linear.weight, b.linear.bias
    torch.testing.assert_close(b(inp), b.norm(inp + torch.tanh(inp @ W.T + bias)))


def test_post_layer_norm_output_is_normalised_per_example():
    b, inp = block("post"), x()
    with torch.no_grad():
        b.norm.reset_parameters()
    out = b(inp)
    torch.testing.assert_close(out.mean(1), torch.zeros(10, dtype=torch.float64), rtol=0,
                               atol=1e-12)  # measured: ~1e-17
    torch.testing.assert_close(out.std(1, unbiased=False), torch.ones(10, dtype=torch.float64),
                               rtol=5e-3, atol=5e-3)  # LayerNorm's eps


@pytest.mark.parametrize("norm", ["layer", "batch", None])
def test_inside_unchanged(norm):
    b, inp = block("inside", norm), x()
    W, bias = b.linear.weight, b.linear.bias
    torch.testing.assert_close(b(inp), inp + torch.tanh(b.norm(inp @ W.T + bias)))


def test_positions_differ():
    inp = x()
    outs = [block(p)(inp) for p in ("inside", "pre", "post")]
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[1], outs[2])
    assert not torch.allclose(outs[0], outs[2])


@pytest.mark.parametrize("position", ["inside", "pre", "post"])
def test_non_residual_blocks_ignore_norm_position(position):
    plain, inp = block(position, residual=False), x()
    W, bias = plain.linear.weight, plain.linear.bias
    torch.testing.assert_close(plain(inp), torch.tanh(plain.norm(inp @ W.T + bias)))
    assert plain.position == "inside"


@pytest.mark.parametrize("position", ["pre", "post"])
def test_width_changing_block_is_not_residual(position):
    b, inp = block(position, n_in=3, n_out=6), x(3)
    assert not b.residual and b.position == "inside"
    W, bias = b.linear.weight, b.linear.bias
    torch.testing.assert_close(b(inp), torch.tanh(b.norm(inp @ W.T + bias)))


@pytest.mark.parametrize("position", ["inside", "pre", "post"])
def test_mlp_wires_the_position_through(position):
    c = MLPConfig(depth=3, width=5, residual=True, norm="layer", norm_position=position)
    model = build_mlp(c)
    assert model.blocks[0].position == "inside"  # 2 -> 5: not residual
    assert all(b.position == position for b in model.blocks[1:])
    plain = build_mlp(c.replace(residual=False))
    assert all(b.position == "inside" for b in plain.blocks)


def test_invalid_position_names_the_choices():
    with pytest.raises(ValueError, match="inside, pre, post"):
        MLPConfig(residual=True, norm_position="sandwich")


def test_gradient_through_pre_norm_block_matches_formula():
    """d/dx of x + W phi(N(x)) + b is I + W diag(phi') J_N; autograd agrees with a hand Jacobian."""
    b = block("pre", "layer", act="tanh")
    v = x()[0]
    J = torch.autograd.functional.jacobian(lambda t: b(t[None])[0], v)
    J_N = torch.autograd.functional.jacobian(lambda t: b.norm(t), v)
    d = 1 - torch.tanh(b.norm(v)) ** 2
    torch.testing.assert_close(J, torch.eye(6, dtype=torch.float64)
                               + b.linear.weight @ torch.diag(d) @ J_N)
