"""Solutions to the exercises of lesson 2 (the chain rule and depth)."""
# Each block replaces an exercise cell; np, math, derivative and get_spec come from the
# lesson's setup cell.

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
