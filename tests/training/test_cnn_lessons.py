"""The convolutional lessons' acceptance on the 8k/2k MNIST split, through the real command line,
and the augmentation variant of the overfitting lesson, measured."""

from __future__ import annotations

import re
import time

from playground.cli import main
from playground.datasets import load_dataset
from playground.model import build_network
from playground.training import FeedForwardTrainer
from playground.training.lessons import load_lesson

from .test_lessons import train


def run_lesson(name, mnist_dir, capsys) -> tuple[list[float], float]:
    started = time.perf_counter()
    assert main(["train", name, "--data-dir", str(mnist_dir), "--quiet"]) == 0
    seconds = time.perf_counter() - started
    lines = capsys.readouterr().out.strip().splitlines()
    return [float(re.search(r"val (\d+\.\d+)%", line).group(1)) / 100 for line in lines], seconds


def test_cnn_mnist_reaches_97_percent_in_10_epochs_and_beats_fc_mnist(mnist_dir, capsys):
    cnn, cnn_seconds = run_lesson("cnn-mnist", mnist_dir, capsys)
    fc, fc_seconds = run_lesson("fc-mnist", mnist_dir, capsys)
    assert len(cnn) == len(fc) == 10  # both lessons train 10 epochs, the same way
    assert cnn[-1] >= 0.97, cnn
    assert cnn[-1] > fc[-1], (cnn, fc)
    print(f"cnn-mnist {cnn[-1]:.2%} in {cnn_seconds:.1f} s, fc-mnist {fc[-1]:.2%} in {fc_seconds:.1f} s")


def test_cnn_mnist_trains_on_the_fused_kernel(mnist_dir):
    spec = load_lesson("cnn-mnist")
    network = build_network(spec)
    trainer = FeedForwardTrainer(network, load_dataset("mnist", data_dir=mnist_dir), spec.training)
    assert trainer.uses_fast_path


def test_augmentation_narrows_the_overfitting_gap(mnist_dir):
    dataset = load_dataset("mnist", data_dir=mnist_dir)
    results = {}
    for name in ("overfitting", "overfitting-augmented"):
        _, _, epochs = train(name, dataset=dataset, epochs=150)
        last = epochs[-1]
        results[name] = (last.train_accuracy, last.val_accuracy, last.train_accuracy - last.val_accuracy)
    assert results["overfitting-augmented"][2] < results["overfitting"][2] - 0.08, results
    assert results["overfitting-augmented"][1] > results["overfitting"][1] + 0.04, results
