"""The foundation's acceptance figures on the 8k/2k MNIST split, through the real command line."""

from __future__ import annotations

import re

import pytest

from playground.cli import main


def final_validation_accuracy(capsys) -> float:
    out = capsys.readouterr().out.strip().splitlines()
    match = re.search(r"val (\d+\.\d+)%", out[-1])
    assert match, out[-1:]
    return float(match.group(1)) / 100


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_vanishing_gradients_lesson_reaches_90_percent(mnist_dir, capsys, seed):
    code = main(
        ["train", "vanishing-gradients", "--data-dir", str(mnist_dir), "--epochs", "30", "--seed", str(seed), "--quiet"]
    )
    assert code == 0
    assert final_validation_accuracy(capsys) >= 0.90


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
