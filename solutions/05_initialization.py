"""Solutions to the exercises of lesson 5 (one block per exercise cell)."""

# %% Exercise 5.1
def he_std(fan_in, a=0.0):
    gain_squared = 2.0 / (1.0 + a * a)  # keeps E[h^2] constant through LeakyReLU(a)
    return math.sqrt(gain_squared / fan_in)

# %% Exercise 5.2
def find_q_star(sigma_w2, sigma_b2, q0=1.0, tol=1e-13, max_steps=100_000):
    q = q0
    for _ in range(max_steps):
        new = float(length_map("tanh", q, sigma_w2, sigma_b2))
        if abs(new - q) <= tol * max(1.0, q):
            return new
        q = new
    return q

# %% Exercise 5.3
def classify(sigma_w2, sigma_b2):
    q = q_star("tanh", sigma_w2, sigma_b2)
    c = sigma_w2 * float(expected_squared_derivative("tanh", q))
    if abs(c - 1.0) <= 1e-3:
        return "critical"
    return "ordered" if c < 1.0 else "chaotic"
