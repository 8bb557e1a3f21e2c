# Solutions to the exercises of lesson 6 (normalization).

# %% Exercise 6.1
def batch_norm_train(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=0)  # (features,)
    var = x.var(axis=0)  # biased: divide by B
    x_hat = (x - mean) / np.sqrt(var + eps)  # (batch, features)
    return gamma * x_hat + beta

# %% Exercise 6.2
def batch_norm_step(x, gamma, beta, running_mean, running_var, training,
                    momentum=0.1, eps=1e-5):
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        y = gamma * (x - mean) / np.sqrt(var + eps) + beta
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * x.var(axis=0, ddof=1)
        return y, new_mean, new_var
    y = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    return y, running_mean, running_var

# %% Exercise 6.3
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=1, keepdims=True)  # (batch, 1)
    var = x.var(axis=1, keepdims=True)  # biased, over the features of each example
    return gamma * (x - mean) / np.sqrt(var + eps) + beta

# %% Exercise 6.4
def batch_norm_backward(dy, x, gamma, eps=1e-5):
    # Forward again, keeping what the backward pass needs.
    mean = x.mean(axis=0)  # (features,)
    s = np.sqrt(x.var(axis=0) + eps)  # (features,)
    x_hat = (x - mean) / s  # (batch, features)
    # y = gamma * x_hat + beta: the parameters' gradients sum over the batch.
    dgamma = (dy * x_hat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    # dx: the direct path, minus the path through the batch mean, minus the path through
    # the batch variance (both statistics depend on every example).
    dx_hat = dy * gamma  # (batch, features)
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / s
    return dx, dgamma, dbeta
