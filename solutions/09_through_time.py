"""Solutions to the exercises of lesson 9 (vanishing and exploding gradients through time)."""
# Each block replaces an exercise cell; np and torch come from the lesson's setup cell.

# %% Exercise 9.1
def bptt_by_hand(W_xh, W_hh, b, x, g):
    """Return (dh, dW_hh): dL/dh_t for t = 1..T (shape (T, H)) and dL/dW_hh (H, H)."""
    T, H = len(x), len(b)
    hs = [np.zeros(H)]  # hs[t] is h_t; h_0 = 0
    for t in range(T):
        hs.append(np.tanh(W_xh @ x[t] + W_hh @ hs[-1] + b))
    dh = np.zeros((T, H))
    dW_hh = np.zeros((H, H))
    grad = np.asarray(g, dtype=float)  # dL/dh_T
    for t in range(T, 0, -1):
        dh[t - 1] = grad
        delta = (1 - hs[t] ** 2) * grad  # dL/da_t, a_t the pre-activation
        dW_hh += np.outer(delta, hs[t - 1])
        grad = W_hh.T @ delta  # dL/dh_{t-1}
    return dh, dW_hh

# %% Exercise 9.2
def jacobian_product_norms(W_hh, hs):
    """Return ||dh_T/dh_t||_2 for t = 1..T; hs[t - 1] is h_t of a tanh RNN."""
    T, H = hs.shape
    product = np.eye(H)  # dh_T/dh_T
    norms = [1.0]
    for t in range(T - 1, 0, -1):  # multiply by J_{t+1} = diag(1 - h_{t+1}^2) W_hh
        product = product @ ((1 - hs[t] ** 2)[:, None] * W_hh)
        norms.append(np.linalg.norm(product, 2))
    return np.array(norms[::-1])

# %% Exercise 9.3
def clip_by_norm(grads, max_norm):
    """Return (clipped gradients, total norm before clipping)."""
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / (float(total) + 1e-6))
    return [g * scale for g in grads], float(total)
