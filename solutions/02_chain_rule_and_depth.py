"""Solutions to the exercises of lesson 2 (the chain rule and depth)."""
# Each block replaces an exercise cell; np, math, derivative, get_spec and activation_fn come
# from the lesson's setup cell.

# %% Exercise 2.1
def chain_backward(weights, z, activation):
    """Return d a_L / d a_k for k = 0..L (an array of L + 1 numbers)."""
    local = np.asarray(weights, dtype=float) * derivative(activation)(np.asarray(z, dtype=float))
    grad = np.ones(len(local) + 1)  # grad[L] = d a_L / d a_L = 1
    for k in range(len(local), 0, -1):  # layer k's factor is local[k - 1]
        grad[k - 1] = grad[k] * local[k - 1]
    return grad

# %% Exercise 2.2
def gradient_bound(weights, activation):
    """Return prod_{j>k} |w_j| * max phi' for k = 0..L (an array of L + 1 numbers)."""
    factors = np.abs(np.asarray(weights, dtype=float)) * get_spec(activation).max_derivative
    bound = np.ones(len(factors) + 1)
    for k in range(len(factors), 0, -1):
        bound[k - 1] = bound[k] * factors[k - 1]
    return bound

# %% Exercise 2.3
def predict_depth(threshold):
    """The smallest integer L with (1/4)**L < threshold."""
    depth = math.ceil(math.log(threshold) / math.log(0.25))
    if 0.25**depth >= threshold:  # equality (threshold a power of 1/4) needs one more layer
        depth += 1
    return depth

# %% Exercise 2.4
def network_backward(x, weights, biases, activation, grad_out):
    """(grad_h, grad_W): d loss / d h_k for k = 0..L and d loss / d W_k for k = 1..L."""
    phi, dphi = activation_fn(activation), derivative(activation)
    h, z = [np.asarray(x, dtype=float)], []  # forward: keep every h_k and z_k
    for W, b in zip(weights, biases, strict=True):
        z.append(W @ h[-1] + b)
        h.append(phi(z[-1]))
    grad_h, grad_W = [np.asarray(grad_out, dtype=float)], []
    for k in range(len(weights) - 1, -1, -1):  # layer k + 1, from the top down
        delta = grad_h[0] * dphi(z[k])  # d loss / d z: through the activation, unit by unit
        grad_W.insert(0, np.outer(delta, h[k]))  # d loss / d W has W's shape
        grad_h.insert(0, weights[k].T @ delta)  # back to the layer below: the transpose
    return grad_h, grad_W
