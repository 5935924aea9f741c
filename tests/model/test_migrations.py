"""Old files keep loading: a layer type that bumps its version migrates older configs."""

from playground.engine.layers import layer_class
from playground.model import sequential_spec, spec_from_dict, spec_to_dict


def test_an_older_layer_version_is_migrated(monkeypatch):
    dense = layer_class("dense")
    data = spec_to_dict(
        sequential_spec([3, 2], activation="sigmoid", output="sigmoid", cost="cross-entropy", initializer="he")
    )
    data["nodes"][1]["config"] = {"neurons": 2, "activation": "sigmoid"}  # how a hypothetical version 1 spelt it

    def rename_neurons(cls, config, from_version):
        return (
            {("units" if key == "neurons" else key): value for key, value in config.items()}
            if from_version < 2
            else config
        )

    monkeypatch.setattr(dense, "version", 2)
    monkeypatch.setattr(dense, "migrate", classmethod(rename_neurons))
    spec = spec_from_dict(data)
    assert spec.node("out").config.units == 2
    assert spec_to_dict(spec)["nodes"][1]["version"] == 2
