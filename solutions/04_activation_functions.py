"""Solutions to the exercises of lesson 4 (activation functions).

Each block replaces the body of the exercise cell with the same number; the notebook's setup
cell provides the names imported here.
"""

import numpy as np

from helpers.activations import derivative


# %% Exercise 4.1
def leaky_relu_prime(z, slope=0.01):
    """phi'(z) for LeakyReLU: 1 where z > 0, `slope` where z <= 0 (elementwise)."""
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, slope)

# %% Exercise 4.2
def count_dead_units(A):
    """Number of columns of A (examples, units) that are <= 0 in every row."""
    A = np.asarray(A)
    return int((~(A > 0).any(axis=0)).sum())

# %% Exercise 4.3
def mc_gelu(q, n=200_000, seed=0):
    """Monte Carlo estimate of E[phi'(z)^2] for GELU, z ~ N(0, q) (q is a variance)."""
    z = np.sqrt(q) * np.random.default_rng(seed).standard_normal(n)
    return float(np.mean(derivative("gelu")(z) ** 2))

# %% Exercise 4.4
def smooth_derivatives(z):
    """ELU', GELU' and SiLU' at z, from their definitions (product rule for GELU and SiLU)."""
    from scipy.special import expit, ndtr

    z = np.asarray(z, dtype=np.float64)
    density = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)  # N(z), the standard normal density
    s = expit(z)  # sigma(z), without overflow
    return {
        "elu": np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))),  # alpha = 1
        "gelu": ndtr(z) + z * density,  # d/dz [z Phi(z)]
        "silu": s + z * s * (1.0 - s),  # d/dz [z sigma(z)]
    }
