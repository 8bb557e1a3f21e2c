"""Solutions to the exercises of lesson 7 (residual connections)."""
# Each block replaces an exercise cell; np, torch, MLPConfig, activation_fn and derivative
# come from the lesson's cells.

# %% Exercise 7.1
def residual_block(x, W, b, activation):
    """Return x + phi(x @ W.T + b) as a tensor of the same shape as x."""
    phi = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    return x + phi(x @ W.T + b)  # (batch, n)

# %% Exercise 7.2
from helpers.activations import activation_fn, derivative


def residual_chain_derivative(weights, x0, activation):
    """Return d x_L / d x_0 (a float) for x_{k+1} = x_k + w_k phi(x_k)."""
    phi, dphi = activation_fn(activation), derivative(activation)
    x, total = float(x0), 1.0
    for w in np.asarray(weights, dtype=float):
        total *= 1.0 + w * float(dphi(np.array(x)))  # d x_{k+1} / d x_k at this step's input
        x = x + w * float(phi(np.array(x)))
    return total

# %% Exercise 7.3
def healthy_config():
    """Return an MLPConfig(depth=100, residual=True, ...)."""
    return MLPConfig(depth=100, width=64, activation="sigmoid", residual=True, norm="layer",
                     norm_position="pre")

# %% Exercise 7.4
def residual_stack_jacobian(x, weights, biases, activation):
    """Return d x_L / d x_0, an (n, n) array, for x_{k+1} = x_k + phi(W_k x_k + b_k)."""
    phi, dphi = activation_fn(activation), derivative(activation)
    n = len(x)
    h = np.asarray(x, dtype=float)  # (n,) the stream, x_k
    J = np.eye(n)  # d x_0 / d x_0
    for W, b in zip(weights, biases, strict=True):
        z = W @ h + b  # (n,) this block's own pre-activation
        block = np.eye(n) + dphi(z)[:, None] * W  # d x_{k+1} / d x_k = I + diag(phi'(z)) W
        J = block @ J  # a later block multiplies on the left
        h = h + phi(z)
    return J
