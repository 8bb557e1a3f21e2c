"""Solutions to the exercises of lesson 10 (diagnose your own model)."""
# Each block replaces an exercise cell; torch, nn and diagnose come from the lesson's
# setup cell.

# %% Exercise 10.1
def dead_fractions(model, X):
    """Return {name: fraction of units of that nn.ReLU that are 0 on every example of X}."""
    outputs = {}
    handles = []

    def keep(name):
        def hook(module, inputs, out):
            outputs[name] = out.detach()  # (batch, units...)
        return hook

    try:
        for name, module in model.named_modules():
            if isinstance(module, nn.ReLU):
                handles.append(module.register_forward_hook(keep(name)))
        with torch.no_grad():
            model(X)
    finally:
        for h in handles:
            h.remove()
    result = {}
    for name, out in outputs.items():
        alive = (out > 0).flatten(1).any(dim=0)  # (units,): active on some example
        result[name] = 1.0 - alive.double().mean().item()
    return result

# %% Exercise 10.2
def name_pathologies(mysteries):
    """Return {"A": finding name, "B": ..., "C": ...}, each measured."""
    answers = {}
    for letter, m in mysteries.items():
        answers[letter] = diagnose(m.model, m.inputs, m.targets).names[0]
    return answers

# %% Exercise 10.3
import copy


def fix_mystery(mysteries):
    """Return (letter, fixed model) for the mystery model that does not learn."""
    fixed = copy.deepcopy(mysteries["C"].model)
    with torch.no_grad():
        nn.init.orthogonal_(fixed.rnn.weight_hh_l0)  # spectral radius 1: no growth through time
    return "C", fixed
