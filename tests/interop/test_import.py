"""Import: a CNN trained in PyTorch keeps its validation accuracy in the playground, a state_dict
comes back through its network file, an exported ONNX model comes back with the engine's outputs,
and what cannot be read safely or has no layer is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.interop import InteropError, export_onnx, import_model
from playground.model import build_network
from playground.training.lessons import load_lesson

torch = pytest.importorskip("torch")


def _accuracy(spec, weights, x, y) -> float:
    network = build_network(spec)
    network.load_state(weights)
    return float((network.predict(x).argmax(axis=1) == y).mean())


def test_a_cnn_trained_in_pytorch_keeps_its_accuracy_in_the_playground(tmp_path, mnist_dir):
    data = load_dataset("mnist", data_dir=mnist_dir)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 12 * 12, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.from_numpy(data.x_train[:3000]), torch.from_numpy(data.y_train[:3000])
    for start in range(0, len(x), 32):
        loss = torch.nn.functional.cross_entropy(model(x[start : start + 32]), y[start : start + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        torch_accuracy = float((model(torch.from_numpy(data.x_val)).argmax(1).numpy() == data.y_val).mean())
    torch.save(model.state_dict(), tmp_path / "cnn.pt")

    imported = import_model(tmp_path / "cnn.pt")

    assert [node.type for node in imported.spec.nodes] == ["input", "conv2d", "maxpool2d", "flatten", "dense"]
    assert imported.spec.nodes[0].config.shape == (1, 28, 28)
    playground_accuracy = _accuracy(imported.spec, imported.weights, data.x_val, data.y_val)
    assert torch_accuracy > 0.8
    assert abs(playground_accuracy - torch_accuracy) <= 0.001
    assert "ReLU" in imported.description


def test_a_state_dict_comes_back_through_its_network_file(tmp_path):
    spec = load_lesson("fc-mnist")
    rng = np.random.default_rng(0)
    state = {
        "fc1.weight": rng.normal(size=(100, 784)),
        "fc1.bias": rng.normal(size=100),
        "out.weight": rng.normal(size=(10, 100)),
        "out.bias": rng.normal(size=10),
    }
    torch.save({key: torch.tensor(value, dtype=torch.float32) for key, value in state.items()}, tmp_path / "w.pt")
    from playground.model import save_spec

    save_spec(spec, tmp_path / "net.json")

    imported = import_model(tmp_path / "w.pt", tmp_path / "net.json")

    np.testing.assert_allclose(imported.weights["fc1.weight"], state["fc1.weight"], rtol=1e-6)
    del state["out.bias"]
    torch.save({key: torch.tensor(value) for key, value in state.items()}, tmp_path / "short.pt")
    with pytest.raises(InteropError, match='layer "out".*out.bias'):
        import_model(tmp_path / "short.pt", tmp_path / "net.json")


@pytest.mark.parametrize("lesson", ["translate-numbers", "dbn-mnist"])
def test_exported_weights_come_back_with_their_network_file(tmp_path, lesson):
    from playground.interop import export_pytorch
    from playground.model import save_spec

    spec = load_lesson(lesson)
    rng = np.random.default_rng(3)
    weights = {
        key: rng.normal(size=value.shape).astype(np.float32) for key, value in build_network(spec).state().items()
    }
    export_pytorch(spec, weights, tmp_path, "test")
    save_spec(spec, tmp_path / "net.json")

    imported = import_model(tmp_path / "weights.pt", tmp_path / "net.json")

    assert set(imported.weights) == set(weights)
    for key, value in weights.items():
        if not key.endswith("visible_bias"):  # an RBM's visible biases stay behind (the export says so)
            np.testing.assert_array_equal(imported.weights[key], value)


def test_an_exported_onnx_model_comes_back_with_the_engines_outputs(tmp_path, mnist_dir):
    pytest.importorskip("onnx")
    spec = load_lesson("cnn-mnist")
    network = build_network(spec)
    rng = np.random.default_rng(2)
    weights = {key: rng.normal(0, 0.2, value.shape).astype(np.float32) for key, value in network.state().items()}
    export_onnx(spec, weights, tmp_path, "test")
    x = load_dataset("mnist", data_dir=mnist_dir).x_val[:100]

    imported = import_model(tmp_path / "model.onnx")

    before = build_network(spec)
    before.load_state(weights)
    after = build_network(imported.spec)
    after.load_state(imported.weights)
    np.testing.assert_allclose(after.predict(x), before.predict(x), atol=1e-6)
    assert [node.id for node in imported.spec.nodes][:2] == ["in", "conv1"]


def test_unsupported_operators_are_listed_node_by_node_and_nothing_is_imported(tmp_path):
    pytest.importorskip("onnx")
    spec = load_lesson("rnn-vs-lstm")
    network = build_network(spec)
    export_onnx(spec, network.state(), tmp_path, "test")

    with pytest.raises(InteropError, match=r"no layer for: .*\(LSTM\)") as caught:
        import_model(tmp_path / "model.onnx")

    assert "\n" not in str(caught.value)


def test_a_pickled_module_is_never_unpickled(tmp_path):
    torch.save(torch.nn.Linear(3, 2), tmp_path / "module.pt")

    with pytest.raises(InteropError, match="never unpickles"):
        import_model(tmp_path / "module.pt")
