"""The exported train.py: one epoch on the 8k/2k MNIST split lands within a point of the engine's
epoch on the same settings, it runs under torchrun on two CPU processes, and a generated data set
travels with it; ``playground export`` refuses what has no twin in one line and writes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]


def _playground(*args, cwd=ROOT, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "playground", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _script(folder: Path, *args, launcher=()):
    return subprocess.run(
        [sys.executable, *launcher, "train.py", *args], cwd=folder, capture_output=True, text=True, timeout=600
    )


def test_one_epoch_of_train_py_is_within_a_point_of_the_engines(tmp_path, mnist_dir):
    exported = _playground("export", "fc-mnist", "--to", "pytorch", "-o", str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    engine = _playground("train", "fc-mnist", "--epochs", "1", "--data-dir", str(mnist_dir), "--quiet")
    assert engine.returncode == 0, engine.stderr

    torch_run = _script(tmp_path, "--data-dir", str(mnist_dir), "--epochs", "1")

    assert torch_run.returncode == 0, torch_run.stderr[-3000:]
    engine_accuracy = float(re.search(r"val (\d+\.\d+)%", engine.stdout).group(1))
    torch_accuracy = 100 * float(re.search(r"validation accuracy (\d\.\d+)", torch_run.stdout).group(1))
    print(f"one epoch, fc-mnist on 8k/2k: engine {engine_accuracy:.2f}%, train.py {torch_accuracy:.2f}%")
    assert engine_accuracy > 85
    # the same start, the same mini-batches in the same order: only float rounding sets them apart
    assert abs(torch_accuracy - engine_accuracy) <= 1.0


def test_train_py_runs_under_torchrun_on_two_processes(tmp_path, mnist_dir):
    assert _playground("export", "cnn-mnist", "-o", str(tmp_path)).returncode == 0

    run = _script(
        tmp_path,
        "--data-dir",
        str(mnist_dir),
        "--epochs",
        "1",
        "--limit",
        "400",
        launcher=("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"),
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert len(re.findall(r"epoch 1: validation accuracy", run.stdout)) == 1  # rank 0 reports
    trained = torch.load(tmp_path / "trained.pt", weights_only=True)
    assert set(trained) == set(torch.load(tmp_path / "weights.pt", weights_only=True))


def test_a_generated_data_set_is_exported_with_the_script(tmp_path):
    result = _playground("export", "rnn-vs-lstm", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert {"model.py", "weights.pt", "train.py", "data.npz"} <= {path.name for path in tmp_path.iterdir()}

    run = _script(tmp_path, "--epochs", "1", "--limit", "256")

    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"epoch 1: validation MSE \d", run.stdout)


@pytest.mark.parametrize(
    ("lesson", "setting", "named"),
    [
        ("rnn-vs-lstm", ('"bptt_steps": 0', '"bptt_steps": 10'), "bptt_steps"),
        ("overfitting-augmented", ("", ""), "data augmentation"),  # rotations, scaling, elastic warps
    ],
)
def test_a_training_setting_without_a_twin_skips_train_py_alone_in_one_line(tmp_path, lesson, setting, named):
    text = (ROOT / "playground" / "lessons" / f"{lesson}.json").read_text()
    assert setting[0] in text
    network = tmp_path / "net.json"
    network.write_text(text.replace(*setting))

    result = _playground("export", str(network), "-o", str(tmp_path / "out"))

    assert result.returncode == 0, result.stderr
    # what the network computes is exported; only how it learns has no twin
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["model.py", "weights.pt"]
    notes = [line for line in result.stdout.splitlines() if "train.py" in line]
    assert len(notes) == 1 and "train.py is not written" in notes[0] and named in notes[0]


def _losses(output: str) -> tuple[float, float]:
    found = re.search(r"mini-batch loss (\d+\.\d+) first, (\d+\.\d+) last", output)
    return float(found.group(1)), float(found.group(2))


def test_the_encoder_decoders_train_py_learns_alone_and_under_torchrun(tmp_path):
    exported = _playground("export", "translate-numbers", "-o", str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    assert {"model.py", "weights.pt", "train.py", "data.npz"} <= {path.name for path in tmp_path.iterdir()}

    alone = _script(tmp_path, "--epochs", "1", "--limit", "1280")
    launcher = ("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2")
    distributed = _script(tmp_path, "--epochs", "1", "--limit", "512", launcher=launcher)

    assert alone.returncode == 0, alone.stderr[-3000:]
    first, last = _losses(alone.stdout)
    assert last < 0.8 * first, alone.stdout
    assert re.search(r"epoch 1: validation exact match \d\.\d{4}", alone.stdout)
    assert distributed.returncode == 0, distributed.stderr[-3000:]
    assert len(re.findall(r"epoch 1: validation exact match", distributed.stdout)) == 1  # rank 0 reports


def test_the_encoder_decoders_first_batch_costs_what_the_engines_does(tmp_path):
    """train.py's data, teacher forcing, order and cost on the exported weights, against the engine's
    cost of its own first mini-batch from the same weights."""
    from playground.interop.sources import exported_weights
    from playground.model import build_network
    from playground.training.lessons import load_lesson
    from playground.training.seq2seq import SequencePairs, load_pair_corpus

    assert _playground("export", "translate-numbers", "-o", str(tmp_path)).returncode == 0
    spec = load_lesson("translate-numbers")
    model = build_network(spec)
    model.load_state(exported_weights(spec, None))
    pairs = SequencePairs(model, load_pair_corpus(spec.dataset, seed=spec.training.seed).train, reverse=True)
    rows = np.random.default_rng(spec.training.seed).permutation(len(pairs))[: spec.training.batch_size]
    engine, _ = model.loss_and_gradients(
        pairs.source[rows], pairs.source_lengths[rows], pairs.decoder_input[rows], pairs.target[rows]
    )
    code = (
        "import argparse, torch, train; from model import load; "
        "pairs = train.teacher_forcing(*train.load_data(argparse.Namespace(data='data.npz'))[0]); "
        f"rows = list(train.PlaygroundOrder(len(pairs[0]), seed={spec.training.seed}))[:{spec.training.batch_size}]; "
        "source, lengths, decoder_input, target = (part[rows] for part in pairs); "
        "print(train.cost(load()(source, lengths, decoder_input), target).item())"
    )

    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stderr[-3000:]
    assert float(run.stdout) == pytest.approx(engine, rel=1e-5, abs=1e-4)


def test_without_torch_the_code_is_still_written_and_one_line_says_what_is_missing(tmp_path):
    code = (
        "import sys; sys.modules['torch'] = None; from playground.cli import main; "
        f"sys.exit(main(['export', 'fc-mnist', '-o', {str(tmp_path)!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.py", "train.py"]
    assert "torch is not installed: weights.pt was not written" in result.stdout and "--" not in result.stdout
