"""Small networks for the editor tests."""
from playground.model import sequential_spec


def mlp(*sizes):
    """in → fc1 → ... → out, with positions 110 apart, as the presets are."""
    return sequential_spec(list(sizes), activation="sigmoid", output="sigmoid", cost="cross-entropy",
                           initializer="normal-scaled")
