"""The export to PyTorch and ONNX, held to the engine: the generated model.py run by torch in a
subprocess, and model.onnx run by onnxruntime, give the engine's outputs on 100 validation inputs;
the encoder-decoder's greedy translations are the engine's; the code is formatted and lint-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from playground.engine.layers import LAYER_TYPES, layer_class
from playground.interop import TWINS, export_onnx, export_pytorch
from playground.model import Node, build_network
from playground.training.lessons import load_lesson

torch = pytest.importorskip("torch")

#: run by torch in the export's folder: the model's outputs for x.npy into y.npy
RUN_MODEL = (
    "import numpy as np, torch; from model import load; "
    "x = torch.from_numpy(np.load('x.npy')); "
    "np.save('y.npy', load()(x).detach().numpy())"
)


def _weights(spec, scale: float, seed: int = 1) -> dict[str, np.ndarray]:
    """Every parameter drawn N(0, scale²): not the initialiser's tidy start, so a swapped or
    transposed array anywhere would show."""
    rng = np.random.default_rng(seed)
    network = build_network(spec)
    return {key: rng.normal(0, scale, value.shape).astype(np.float32) for key, value in network.state().items()}


def _engine_outputs(spec, weights, x) -> np.ndarray:
    network = build_network(spec)
    network.load_state(weights)
    return network.predict(x)


def _torch_outputs(folder: Path, x: np.ndarray) -> np.ndarray:
    np.save(folder / "x.npy", x)
    result = subprocess.run([sys.executable, "-c", RUN_MODEL], cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return np.load(folder / "y.npy")


def _onnx_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _mnist_validation(mnist_dir, shape) -> np.ndarray:
    from playground.datasets import load_dataset

    return load_dataset("mnist", data_dir=mnist_dir).x_val[:100].reshape(100, *shape)


def _adding_validation(spec) -> np.ndarray:
    from playground.training.sequence_trainer import load_sequence_data

    return load_sequence_data(spec.dataset, spec.training.seed).x_val[:100]


def _simple_rnn(spec):
    """rnn-vs-lstm with its LSTM swapped for a SimpleRNN: the lesson's other contender."""
    rnn = layer_class("simple_rnn").Config(hidden=32)
    spec.nodes = [Node(n.id, "simple_rnn", rnn) if n.type == "lstm" else n for n in spec.nodes]
    return spec


FAMILIES = {
    # name: (lesson, change to the spec, weight scale, validation inputs)
    "mlp": ("fc-mnist", None, 0.1, "mnist"),
    "cnn": ("cnn-mnist", None, 0.2, "mnist"),
    "lstm": ("rnn-vs-lstm", None, 0.3, "adding"),
    # W_hh small enough that the RNN contracts: a chaotic one (spectral radius > 1) amplifies float32
    # rounding over 50 steps, whoever computes it
    "simple_rnn": ("rnn-vs-lstm", _simple_rnn, 0.15, "adding"),
    "rbm-stack": ("dbn-mnist", None, 0.1, "mnist"),
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory, mnist_dir):
    """Each family exported to PyTorch and ONNX once, with its validation inputs and the engine's outputs."""
    found = {}
    for family, (lesson, change, scale, data) in FAMILIES.items():
        spec = load_lesson(lesson)
        if change is not None:
            spec = change(spec)
        weights = _weights(spec, scale)
        x = _mnist_validation(mnist_dir, spec.nodes[0].config.shape) if data == "mnist" else _adding_validation(spec)
        folder = tmp_path_factory.mktemp(family)
        export_pytorch(spec, weights, folder / "pytorch", f'the lesson "{lesson}"')
        export_onnx(spec, weights, folder / "onnx", f'the lesson "{lesson}"')
        found[family] = (folder, x.astype(np.float32), _engine_outputs(spec, weights, x))
    return found


@pytest.mark.parametrize("family", list(FAMILIES))
def test_pytorch_export_gives_the_engines_outputs(exports, family):
    folder, x, expected = exports[family]

    got = _torch_outputs(folder / "pytorch", x)

    assert got.shape == expected.shape
    print(f"{family}: largest |engine − torch| on 100 validation inputs {np.abs(got - expected).max():.2e}")
    assert np.abs(got - expected).max() <= 1e-5, f"{family}: largest difference {np.abs(got - expected).max():.2e}"
    assert expected.std() > 1e-3  # the outputs differ between inputs: the check has something to see


@pytest.mark.parametrize("family", list(FAMILIES))
def test_onnx_export_gives_the_engines_outputs(exports, family):
    onnx = pytest.importorskip("onnx")
    folder, x, expected = exports[family]
    model = onnx.load(str(folder / "onnx" / "model.onnx"))
    onnx.checker.check_model(model)
    spec = load_lesson(FAMILIES[family][0])

    got = _onnx_outputs(folder / "onnx" / "model.onnx", x)

    print(f"{family}: largest |engine − onnxruntime| on 100 validation inputs {np.abs(got - expected).max():.2e}")
    assert np.abs(got - expected).max() <= 1e-5, f"{family}: largest difference {np.abs(got - expected).max():.2e}"
    graph_input, graph_output = model.graph.input[0], model.graph.output[0]
    assert graph_input.name == spec.nodes[0].id and graph_output.name == "out"
    dims = [d.dim_value for d in graph_input.type.tensor_type.shape.dim[1:]]
    assert dims == list(spec.nodes[0].config.shape)


def test_generated_code_is_formatted_and_imports_only_what_it_uses(exports):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is part of the test extra")
    files = [str(path) for family in exports for path in (exports[family][0] / "pytorch").glob("*.py")]

    formatted = subprocess.run([ruff, "format", "--isolated", "--check", *files], capture_output=True, text=True)
    linted = subprocess.run(
        [ruff, "check", "--isolated", "--select", "F,E,W,I", *files], capture_output=True, text=True
    )

    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    assert linted.returncode == 0, linted.stdout


def test_state_dict_has_exactly_the_keys_the_model_expects(exports):
    folder = exports["cnn"][0] / "pytorch"
    code = (
        "import torch; from model import Model; "
        "saved = torch.load('weights.pt', weights_only=True); "
        "print(sorted(saved) == sorted(Model().state_dict()))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300)

    assert result.stdout.strip() == "True", result.stderr[-2000:]
    assert "self.conv1 = nn.Conv2d(1, 20, 5)" in (folder / "model.py").read_text()


@pytest.fixture(scope="module")
def translations():
    """translate-numbers with random weights: 100 held-out sources and the engine's greedy translations."""
    from playground.training.seq2seq import EXTRA_DECODE_STEPS, SequencePairs, greedy_decode, load_pair_corpus

    spec = load_lesson("translate-numbers")
    weights = _weights(spec, 0.5)
    model = build_network(spec)
    model.load_state(weights)
    corpus = load_pair_corpus(spec.dataset, seed=spec.training.seed)
    pairs = SequencePairs(model, corpus.val, reverse=True)
    max_length = int(corpus.train.target_lengths.max()) + EXTRA_DECODE_STEPS
    source, lengths = pairs.source[:100].astype(np.int64), pairs.source_lengths[:100]
    expected = greedy_decode(model, source, lengths, max_length)
    assert len({tuple(row) for row in expected}) > 10  # the sources get different translations
    return spec, weights, source, lengths, max_length, expected


def test_encoder_decoder_translates_as_the_engine_does(tmp_path, translations):
    spec, weights, source, lengths, max_length, expected = translations
    export_pytorch(spec, weights, tmp_path, 'the lesson "translate-numbers"')
    np.save(tmp_path / "source.npy", source)
    np.save(tmp_path / "lengths.npy", lengths)
    code = (
        "import numpy as np, torch; from model import load, greedy_translate; "
        "s, n = (torch.from_numpy(np.load(f)) for f in ('source.npy', 'lengths.npy')); "
        f"np.save('out.npy', greedy_translate(load(), s, n, {max_length}).numpy())"
    )

    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


def test_encoder_decoder_as_two_onnx_graphs_translates_as_the_engine_does(tmp_path, translations):
    onnxruntime = pytest.importorskip("onnxruntime")
    spec, weights, source, lengths, max_length, expected = translations
    export_onnx(spec, weights, tmp_path, "test")
    encoder = onnxruntime.InferenceSession(str(tmp_path / "encoder.onnx"), providers=["CPUExecutionProvider"])
    decoder = onnxruntime.InferenceSession(str(tmp_path / "decoder.onnx"), providers=["CPUExecutionProvider"])

    state = encoder.run(None, {"source": source, "lengths": lengths})
    tokens = np.full((len(source), 1), 1, np.int64)  # <bos>
    got = np.zeros((len(source), max_length), np.int64)
    finished = np.zeros(len(source), bool)
    for step in range(max_length):
        probabilities, *state = decoder.run(None, {"target": tokens, "encoder_h": state[0], "encoder_c": state[1]})
        tokens = probabilities[:, -1].argmax(axis=1)[:, None]
        got[:, step] = np.where(finished, 0, tokens[:, 0])
        finished |= tokens[:, 0] == 2  # <eos>
    np.testing.assert_array_equal(got, expected)
    assert [value.name for value in decoder.get_outputs()] == ["words", "decoder_h", "decoder_c"]


def test_every_layer_type_has_a_torch_twin():
    assert set(TWINS) == set(LAYER_TYPES)


def test_a_training_setting_without_a_twin_leaves_the_model_as_it_is(tmp_path):
    spec = load_lesson("rnn-vs-lstm")
    weights = _weights(spec, 0.1)
    export_pytorch(spec, weights, tmp_path / "plain", "test")
    spec.training = replace(spec.training, bptt_steps=10)

    truncated = export_pytorch(spec, weights, tmp_path / "truncated", "test", {"x_train": np.zeros(1)})

    assert truncated.files == ["model.py", "weights.pt"]  # no train.py, and no data.npz for it
    assert (tmp_path / "truncated" / "model.py").read_text() == (tmp_path / "plain" / "model.py").read_text()
    assert len(truncated.notes) == 1 and "bptt_steps" in truncated.notes[0]


def test_a_folder_that_cannot_be_written_is_one_message_and_nothing_is_written(tmp_path):
    from playground.interop import InteropError
    from playground.interop.sources import exported_weights

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    spec = load_lesson("fc-mnist")
    with pytest.raises(InteropError, match="cannot write there"):
        export_pytorch(spec, exported_weights(spec, None), blocker / "out", "fc-mnist")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]
