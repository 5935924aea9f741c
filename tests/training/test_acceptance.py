"""The foundation's acceptance figures on the 8k/2k MNIST split, through the real command line."""

from __future__ import annotations

import json
import re

import pytest

from playground.cli import main


def final_validation_accuracy(capsys) -> float:
    out = capsys.readouterr().out.strip().splitlines()
    match = re.search(r"val (\d+\.\d+)%", out[-1])
    assert match, out[-1:]
    return float(match.group(1)) / 100


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vanishing_gradients_lesson_keeps_the_last_hidden_layer_30x_faster_than_the_first(
    mnist_dir, tmp_path, capsys, seed
):
    """Nielsen's chapter 5 set-up (full batch of 1,000 images, 500 epochs): ‖∂C/∂b‖ of fc4 over
    fc1 stays at least 30× at every step of the run, as the book's figure does."""
    metrics = tmp_path / "run.jsonl"
    code = main(
        [
            "train",
            "vanishing-gradients",
            "--data-dir",
            str(mnist_dir),
            "--seed",
            str(seed),
            "--metrics-out",
            str(metrics),
            "--quiet",
        ]
    )
    assert code == 0
    steps = [row for row in map(json.loads, metrics.read_text().splitlines()) if row["kind"] == "step"]
    assert len(steps) == 500 and steps[0]["step"] == 0
    ratio = [row["grad_norms"]["fc4"]["bias"] / row["grad_norms"]["fc1"]["bias"] for row in steps]
    assert min(ratio) >= 30, (seed, min(ratio), ratio.index(min(ratio)))


@pytest.mark.parametrize("seed", [0, 1])
def test_softmax_network_with_l2_reaches_94_percent(mnist_dir, tmp_path, capsys, seed):
    net = tmp_path / "net.json"
    assert main(["new", "mlp", "784,100,10", "--activation", "sigmoid", "--output", "softmax", "-o", str(net)]) == 0
    capsys.readouterr()
    code = main(
        [
            "train",
            str(net),
            "--data-dir",
            str(mnist_dir),
            "--lr",
            "0.1",
            "--l2",
            "5.0",
            "--batch-size",
            "10",
            "--epochs",
            "30",
            "--seed",
            str(seed),
            "--quiet",
        ]
    )
    assert code == 0
    assert final_validation_accuracy(capsys) >= 0.94
