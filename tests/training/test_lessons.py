"""Every lesson runs headless and shows its effect, measured."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.engine.dense_stack import BIAS_GRAD
from playground.model import build_network
from playground.training import EpochRecord, FeedForwardTrainer, StepChunk
from playground.training.data import load_training_data
from playground.training.lessons import lesson_names, load_lesson, load_network_or_lesson
from playground.training.rbm_trainer import RBMStack


def train(name, dataset=None, **changes):
    spec = load_lesson(name)
    spec.training = dataclasses.replace(spec.training, **changes)
    network = build_network(spec)
    network.initialize(spec.training.initializer, spec.training.seed)
    if dataset is None:
        dataset, _ = load_training_data(spec.dataset, seed=spec.training.seed)
    if spec.training.train_limit:
        dataset = dataset.limit_train(spec.training.train_limit)
    events = list(FeedForwardTrainer(network, dataset, spec.training, augmentation=spec.augmentation).run())
    return network, events, [e for e in events if isinstance(e, EpochRecord)]


def test_every_lesson_has_text_and_builds():
    names = lesson_names()
    assert {
        "vanishing-gradients",
        "overfitting",
        "overfitting-l2",
        "overfitting-dropout",
        "universal-approximation",
        "parity",
        "parity-shallow",
        "toy-2d",
    } <= set(names)
    for name in names:
        spec = load_lesson(name)
        assert {"title", "what_to_do", "what_to_watch", "why"} <= set(spec.lesson), name
        if any(node.type == "rbm" for node in spec.nodes):
            RBMStack(spec)  # a stack of RBMs may have no output layer: it builds for pretraining
        else:
            build_network(spec)


def test_an_image_lesson_without_mnist_says_it_uses_the_synthetic_digits():
    spec = load_lesson("vanishing-gradients")
    dataset, note = load_training_data(spec.dataset, seed=0)
    assert dataset.name == "digits"
    assert "synthetic digits" in note and "playground download mnist" in note


def test_an_image_lesson_uses_local_mnist_when_given(mnist_dir):
    dataset, note = load_training_data(load_lesson("vanishing-gradients").dataset, seed=0, data_dir=mnist_dir)
    assert dataset.name == "mnist" and note is None and len(dataset.x_train) == 8000


def speeds_of_learning(chunk: StepChunk) -> np.ndarray:
    """‖δˡ‖ (the bias-gradient norm) per layer, averaged over the chunk's steps."""
    return chunk.layer_metrics[:, :, BIAS_GRAD].mean(axis=0)


def test_vanishing_gradients_first_hidden_layer_learns_far_slower_than_the_last(mnist_dir):
    dataset = load_dataset("mnist", data_dir=mnist_dir)
    spec = load_lesson("vanishing-gradients")
    for seed in range(3):
        network = build_network(spec)
        network.initialize(spec.training.initializer, seed)
        trainer = FeedForwardTrainer(network, dataset, dataclasses.replace(spec.training, seed=seed, epochs=1))
        first = next(e for e in trainer.run() if isinstance(e, StepChunk))
        assert first.first_step == 0  # step 0: the network as initialised
        speeds = speeds_of_learning(first)
        hidden = speeds[:-1]  # fc1..fc4
        assert hidden[0] < hidden[-1] / 10, (seed, speeds)
        assert np.all(np.diff(hidden) > 0), (seed, speeds)  # each layer slower than the one after it


def test_overfitting_and_its_remedies_narrow_the_gap(mnist_dir):
    dataset = load_dataset("mnist", data_dir=mnist_dir)
    results = {}
    for name in ("overfitting", "overfitting-l2", "overfitting-dropout"):
        _, _, epochs = train(name, dataset=dataset, epochs=150)
        last = epochs[-1]
        results[name] = (last.train_accuracy, last.val_accuracy, last.train_accuracy - last.val_accuracy)
    train_accuracy, val_accuracy, gap = results["overfitting"]
    assert train_accuracy > 0.99 and gap > 0.1, results
    for remedy in ("overfitting-l2", "overfitting-dropout"):
        assert results[remedy][2] < gap - 0.02, results
        assert results[remedy][1] > val_accuracy, results


def test_universal_approximation_fits_the_function():
    network, _, epochs = train("universal-approximation")
    dataset = load_dataset("function", seed=0)
    x = np.linspace(-1, 1, 200, dtype=np.float32).reshape(-1, 1)
    fitted = network.predict(x).ravel()
    target = 0.5 + 0.4 * np.sin(np.pi * x.ravel())
    assert np.sqrt(np.mean((fitted - target) ** 2)) < 0.05
    assert epochs[-1].val_loss < 0.01
    assert dataset.task == "regression"


def test_parity_deep_and_shallow_both_learn_and_report_their_sizes():
    deep, _, deep_epochs = train("parity")
    shallow, _, shallow_epochs = train("parity-shallow")
    assert deep_epochs[-1].val_accuracy >= 0.99 and shallow_epochs[-1].val_accuracy >= 0.99
    assert deep.parameter_count() == 450 and shallow.parameter_count() == 706


def test_toy_2d_learns_the_circle():
    _, _, epochs = train("toy-2d")
    assert epochs[-1].val_accuracy > 0.93


def test_a_name_or_a_path_selects_the_network(tmp_path):
    assert load_network_or_lesson("toy-2d").name == "toy-2d"
    with pytest.raises(Exception, match="no such file, and no lesson"):
        load_network_or_lesson("no-such-lesson")


def test_the_relu_experiment_the_vanishing_gradients_lesson_suggests_learns(mnist_dir):
    """The lesson's text: ReLU hidden layers, the he initialiser, the same η = 0.1. The network
    learns, and its first hidden layer is no slower than its last."""
    spec = load_lesson("vanishing-gradients")
    assert "ReLU" in spec.lesson["what_to_do"] and "initialiser to he" in spec.lesson["what_to_do"]
    for node in spec.nodes:
        if node.type == "dense" and node.id != "out":
            node.config = dataclasses.replace(node.config, activation="relu")
    spec.training = dataclasses.replace(spec.training, initializer="he")
    dataset = load_dataset("mnist", data_dir=mnist_dir).limit_train(spec.training.train_limit)
    network = build_network(spec)
    network.initialize("he", spec.training.seed)
    events = list(FeedForwardTrainer(network, dataset, spec.training).run())
    epochs = [e for e in events if isinstance(e, EpochRecord)]
    assert epochs[-1].val_accuracy > 0.85, epochs[-1]
    speeds = np.concatenate([e.layer_metrics[:, :, BIAS_GRAD] for e in events if isinstance(e, StepChunk)])
    assert np.median(speeds[:, 3] / speeds[:, 0]) < 1.0  # fc4 over fc1: no vanishing
