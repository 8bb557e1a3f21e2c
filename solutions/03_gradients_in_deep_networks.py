# Solutions to lesson 3: gradients in deep networks.
# Each block replaces the body of the exercise cell with the same number; the names they use
# (np, F, linear_layers, MLPConfig) come from the lesson's setup cell.
# ruff: noqa: F821

# %% Exercise 3.1
def first_last_ratio(profile):
    """First hidden layer's ||dL/dW|| over the last hidden layer's."""
    g = profile.weight_grad_norm
    return g[0] / g[-2]  # index -1 is the output layer


# %% Exercise 3.2
def grad_data_ratios(model):
    """One ratio per nn.Linear layer, input layer first, as a NumPy array."""
    ratios = []
    for _, layer in linear_layers(model):
        w = layer.weight.detach()  # the values only: no graph is needed for a norm
        ratios.append(float(layer.weight.grad.norm() / w.norm()))
    return np.array(ratios)


# %% Exercise 3.3
def balanced_config():
    """A depth-20 network whose gradient neither vanishes nor explodes across its layers."""
    # tanh with Glorot/Xavier init keeps the activation std and the gradient nearly constant.
    return MLPConfig(depth=20, width=64, activation="tanh", init="xavier", dtype="float64")


# %% Exercise 3.4
def activation_grad_norms(model, X, y):
    """||dL/da_l|| for every hidden layer l of `model`, first layer first, from hooks."""
    norms = []  # filled during backward(), last layer first

    def forward_hook(module, inputs, out):  # out: (batch, width), the activation a_l
        out.register_hook(lambda grad: norms.append(grad.norm().item()))

    handles = [block.act.register_forward_hook(forward_hook) for block in model.blocks]
    try:
        loss = F.cross_entropy(model(X), y)
        loss.backward()
    finally:
        for handle in handles:  # a hook left behind would fire on every later call
            handle.remove()
    return np.array(norms[::-1])
