# Solutions to lesson 1: the sigmoid and its derivative.
# Each block replaces the body of the exercise cell with the same number.

# %% Exercise 1.1
def sigmoid(z):
    """sigma(z) without overflow: exp is only ever taken of a non-positive number."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1], never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    """sigma'(z) = sigma(z) (1 - sigma(z)) = sigma(z) sigma(-z), accurate in both tails."""
    return sigmoid(z) * sigmoid(-z)

# %% Exercise 1.2
def saturated_fraction_sigmoid(w, b):
    """Fraction of inputs x ~ N(0, 1) for which z = w x + b is saturated (|z| > z_sat)."""
    s = abs(w)  # z ~ N(b, w^2): its standard deviation is |w|, not w^2
    return float(ndtr((-z_sat - b) / s) + ndtr((b - z_sat) / s))

# %% Exercise 1.3
def tanh_prime_via_sigmoid(z):
    """tanh'(z) from tanh(z) = 2 sigma(2z) - 1 by the chain rule: 2 * sigma'(2z) * 2."""
    return 4.0 * sigma_prime(2.0 * np.asarray(z, dtype=np.float64))
