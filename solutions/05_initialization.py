"""Solutions to the exercises of lesson 5 (one block per exercise cell)."""

# %% Exercise 5.1
def he_std(fan_in, a=0.0):
    gain_squared = 2.0 / (1.0 + a * a)  # keeps E[h^2] constant through LeakyReLU(a)
    return math.sqrt(gain_squared / fan_in)

# %% Exercise 5.3
def find_q_star(sigma_w2, sigma_b2, q0=1.0, tol=1e-13, max_steps=100_000):
    q = q0
    for _ in range(max_steps):
        new = float(length_map("tanh", q, sigma_w2, sigma_b2))
        if abs(new - q) <= tol * max(1.0, q):
            return new
        q = new
    return q

# %% Exercise 5.4
def classify(sigma_w2, sigma_b2):
    q = q_star("tanh", sigma_w2, sigma_b2)
    c = sigma_w2 * float(expected_squared_derivative("tanh", q))
    if abs(c - 1.0) <= 1e-3:
        return "critical"
    return "ordered" if c < 1.0 else "chaotic"

# %% Exercise 5.2
def mc_gain(name, q=1.0, n=400_000, seed=0):
    """Monte Carlo estimate of the gain g (Var W = g^2 / fan_in) that keeps E[h^2] = q."""
    rng = np.random.default_rng(seed)
    h = math.sqrt(q) * rng.standard_normal(n)  # h ~ N(0, q): q is a variance
    second_moment = np.mean(activation_fn(name)(h) ** 2)  # E[phi(h)^2]
    return math.sqrt(q / second_moment)  # g^2 E[phi(h)^2] = q


def second_moments(name, gain, depth=20, width=256, batch=256, q=1.0, seed=0):
    """E[h_l^2], l = 1..depth, in a random network with Var W = gain^2 / width, no biases."""
    rng = np.random.default_rng(seed)
    phi = activation_fn(name)
    h = math.sqrt(q) * rng.standard_normal((batch, width))  # h_0 ~ N(0, q)
    out = []
    for _ in range(depth):
        W = rng.standard_normal((width, width)) * (gain / math.sqrt(width))  # (out, in)
        h = phi(h) @ W.T  # (batch, width)
        out.append(float(np.mean(h ** 2)))
    return np.array(out)
