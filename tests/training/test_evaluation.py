"""The evaluation figures, headless: confusion matrix, per-class accuracy, mistakes, residuals."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.model import build_network, sequential_spec
from playground.model.settings import TrainingSettings
from playground.training import EpochRecord, FeedForwardTrainer
from playground.training.evaluation import Evaluation, evaluate_network


def trained(dataset, sizes, output="softmax", cost="log-likelihood", epochs=3, **training):
    spec = sequential_spec(list(sizes), activation="sigmoid", output=output, cost=cost, initializer="xavier")
    network = build_network(spec)
    settings = TrainingSettings(
        **{"cost": cost, "learning_rate": 0.5, "batch_size": 10, "epochs": epochs, "initializer": "xavier", **training}
    )
    network.initialize(settings.initializer, settings.seed)
    records = [e for e in FeedForwardTrainer(network, dataset, settings).run() if isinstance(e, EpochRecord)]
    # the evaluation runs on a network of its own, loaded with a snapshot, as the window's panel does
    copy = build_network(spec)
    copy.load_state(network.copy_state())
    return copy, records


def check_against_the_epoch_record(evaluation, dataset, record):
    confusion = evaluation.confusion()
    assert confusion.sum() == len(dataset.y_val)
    assert confusion.sum(axis=1).tolist() == np.bincount(dataset.y_val, minlength=confusion.shape[0]).tolist()
    assert np.trace(confusion) / confusion.sum() == pytest.approx(record.val_accuracy, abs=1e-12)
    assert evaluation.accuracy == pytest.approx(record.val_accuracy, abs=1e-12)


def test_the_confusion_matrix_sums_to_the_validation_set_and_matches_the_reported_accuracy():
    dataset = load_dataset("digits", seed=0, n_samples=600)
    network, records = trained(dataset, (784, 20, 10))
    evaluation = evaluate_network(network, dataset)
    assert evaluation.probabilistic and evaluation.class_names == [str(k) for k in range(10)]
    check_against_the_epoch_record(evaluation, dataset, records[-1])


def test_the_same_on_real_mnist(mnist_dir):
    dataset = load_dataset("mnist", data_dir=mnist_dir).limit_train(2000)
    network, records = trained(dataset, (784, 30, 10), epochs=2)
    evaluation = evaluate_network(network, dataset)
    assert evaluation.n == 2000
    check_against_the_epoch_record(evaluation, dataset, records[-1])


def test_per_class_accuracy_and_the_mistakes_worst_first():
    outputs = np.array(
        [
            [0.9, 0.1, 0.0],  # 0 → 0
            [0.2, 0.7, 0.1],  # 0 → 1, confident mistake
            [0.4, 0.5, 0.1],  # 0 → 1, hesitant mistake
            [0.1, 0.8, 0.1],  # 1 → 1
            [0.05, 0.05, 0.9],  # 1 → 2, the most confident mistake
        ]
    )
    evaluation = Evaluation("classification", outputs, np.array([0, 0, 0, 1, 1]), ["a", "b", "c"], True)
    assert evaluation.confusion().tolist() == [[1, 2, 0], [0, 1, 1], [0, 0, 0]]
    accuracy = evaluation.per_class_accuracy()
    assert accuracy[:2] == pytest.approx([1 / 3, 1 / 2]) and np.isnan(accuracy[2])  # class c has no examples
    assert evaluation.misclassified().tolist() == [4, 1, 2]
    assert evaluation.examples_in(0, 1).tolist() == [1, 2]
    assert evaluation.examples_in(2, 2).tolist() == []
    assert evaluation.confidence[4] == pytest.approx(0.9) and evaluation.true_score[4] == pytest.approx(0.05)


def test_regression_gives_the_residuals():
    dataset = load_dataset("function", seed=0)
    network, _ = trained(dataset, (1, 10, 1), output="linear", cost="quadratic", epochs=2, learning_rate=0.05)
    evaluation = evaluate_network(network, dataset)
    assert evaluation.task == "regression"
    residuals = evaluation.residuals()
    assert residuals.shape == (len(dataset.x_val), 1)
    outputs = network.predict(dataset.x_val.reshape(len(dataset.x_val), -1))
    assert np.allclose(residuals, dataset.y_val.reshape(-1, 1) - outputs, atol=1e-6)
    assert evaluation.rms() == pytest.approx(float(np.sqrt(np.mean(residuals**2))))
