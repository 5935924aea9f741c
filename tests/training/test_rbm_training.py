"""Deep belief nets, trained headless: the acceptance figures of issue 5 on the real MNIST set."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.engine.layers import layer_class
from playground.engine.rbm_kernels import complete, reconstruct
from playground.model import (
    NetworkFileError,
    Node,
    analyse,
    load_spec,
    load_weights_into,
    save_spec,
    save_weights,
)
from playground.training import EpochRecord, Finished, TrainingControl
from playground.training.lessons import load_lesson
from playground.training.rbm_trainer import (
    PretrainChunk,
    PretrainEpoch,
    RBMStack,
    RBMTrainer,
)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_dataset("mnist", data_dir=mnist_dir)


def pretrained(name, dataset, **pretraining):
    spec = load_lesson(name)
    spec.pretraining = dataclasses.replace(spec.pretraining, **pretraining)
    stack = RBMStack(spec)
    stack.initialize(spec.training.initializer, spec.training.seed)
    events = list(RBMTrainer(stack, dataset, fine_tune=False).run())
    return stack, events


def test_rbm_mnist_halves_its_validation_error_and_completes_digits_better_than_the_mean(mnist):
    """Acceptance: 5 epochs of rbm-mnist; the validation reconstruction error falls to at most half
    its first-epoch value, and filling in the hidden bottom half of validation digits by clamped Gibbs
    sampling beats filling it with the training mean image."""
    stack, events = pretrained("rbm-mnist", mnist, epochs=5)
    epochs = [e for e in events if isinstance(e, PretrainEpoch)]
    errors = [e.reconstruction_error for e in epochs]
    print("validation reconstruction error per epoch:", [round(x, 3) for x in errors])
    assert len(epochs) == 5 and errors[-1] <= 0.5 * errors[0]
    assert all(np.isfinite([e.free_energy_train, e.free_energy_validation, e.pseudo_likelihood]).all() for e in epochs)
    rbm = stack.rbms[0]
    x_val = mnist.x_val.reshape(len(mnist.x_val), 784)[:500]
    mean_image = mnist.x_train.reshape(-1, 784).mean(axis=0)
    known = np.zeros((28, 28), bool)
    known[:14] = True
    known = np.broadcast_to(known.reshape(784), x_val.shape)
    filled = complete(rbm, x_val, known, steps=10, chains=10, fill=mean_image)
    rbm_error = ((filled - x_val)[~known] ** 2).mean()
    mean_error = ((mean_image[None, :] - x_val)[~known] ** 2).mean()
    print(f"completion of the bottom half: RBM {rbm_error:.4f}, training mean image {mean_error:.4f} (per pixel)")
    assert rbm_error < mean_error


def test_dbn_mnist_fine_tuned_beats_the_same_network_from_random_weights(mnist):
    """Acceptance: pretrained then fine-tuned, at least the validation accuracy of the same
    architecture trained from random initialisation for the same fine-tuning epochs."""
    spec = load_lesson("dbn-mnist")
    stack = RBMStack(spec)
    stack.initialize(spec.training.initializer, spec.training.seed)
    events = list(RBMTrainer(stack, mnist).run())
    assert any(isinstance(e, PretrainEpoch) and e.layer_index == 1 for e in events)
    pretrained_accuracy = [e for e in events if isinstance(e, EpochRecord)][-1].val_accuracy
    baseline = RBMStack(spec)
    baseline_network = baseline.classifier(spec.training.cost)
    baseline_network.initialize(spec.training.initializer, spec.training.seed)
    baseline_trainer = RBMTrainer(baseline, mnist, pretrain=False)
    baseline_trainer.stack.load_state(baseline_network.state())
    random_events = list(baseline_trainer.run())
    random_accuracy = [e for e in random_events if isinstance(e, EpochRecord)][-1].val_accuracy
    print(
        f"dbn-mnist validation accuracy after {spec.training.epochs} fine-tuning epochs: pretrained "
        f"{pretrained_accuracy:.4f}, random initialisation {random_accuracy:.4f}"
    )
    assert pretrained_accuracy >= random_accuracy


def test_deep_autoencoder_fine_tuning_lowers_the_reconstruction_loss(mnist):
    small = mnist.limit_train(2000)
    stack, _ = pretrained("deep-autoencoder", small, epochs=2)
    spec = stack.spec
    spec.training = dataclasses.replace(spec.training, epochs=3)
    trainer = RBMTrainer(stack, small, pretrain=False)
    records = [e for e in trainer.run() if isinstance(e, EpochRecord)]
    assert records[-1].val_loss < records[0].val_loss
    network = trainer.fine_tune_network
    codes = network.layers[3].forward(
        network.layers[2].forward(network.layers[1].forward(small.x_val[:100].reshape(100, 784), False), False), False
    )
    assert codes.shape == (100, 2)


def test_the_trainer_stops_between_batches():
    data = load_dataset("digits", seed=0)
    spec = load_lesson("rbm-mnist")
    stack = RBMStack(spec)
    stack.initialize("xavier", 0)
    control = TrainingControl(0.1)
    trainer = RBMTrainer(stack, data, control=control)
    seen = []
    for event in trainer.run():
        seen.append(event)
        if isinstance(event, PretrainChunk):
            control.stop()
    assert isinstance(seen[-1], Finished) and seen[-1].reason == "stopped"
    assert not any(isinstance(e, PretrainEpoch) for e in seen)


def rbm_node(node_id, units, **config):
    return Node(node_id, "rbm", layer_class("rbm").Config(units=units, **config))


def test_an_rbm_stack_without_an_output_layer_is_valid_and_bad_stacks_are_refused():
    spec = load_lesson("rbm-mnist")
    assert analyse(spec).ok
    spec.nodes[1] = rbm_node("rbm1", 500, visible_units=600)
    problems = analyse(spec).problems
    assert problems and problems[0].node == "rbm1"
    assert "expects 600 visible units but its input gives 784" in problems[0].message
    with pytest.raises(NetworkFileError, match="do not chain"):
        RBMStack(spec)
    dbn = load_lesson("dbn-mnist")
    dbn.nodes[2] = rbm_node("rbm2", 128, visible_units=300)
    assert "expects 300 visible units but its input gives 256" in analyse(dbn).problems[0].message
    classifier_without_head = load_lesson("rbm-mnist")
    classifier_without_head.pretraining = dataclasses.replace(
        classifier_without_head.pretraining, fine_tune="classifier"
    )
    assert "needs an output layer" in analyse(classifier_without_head).problems[0].message
    autoencoder_with_head = load_lesson("dbn-mnist")
    autoencoder_with_head.pretraining = dataclasses.replace(autoencoder_with_head.pretraining, fine_tune="autoencoder")
    assert "ends in an RBM" in analyse(autoencoder_with_head).problems[0].message


@pytest.mark.parametrize("name", ["rbm-mnist", "dbn-mnist"])
def test_rbm_and_dbn_files_and_weights_make_the_round_trip(name, tmp_path):
    spec = load_lesson(name)
    stack = RBMStack(spec)
    stack.initialize(spec.training.initializer, 3)
    data = load_dataset("digits", seed=0).limit_train(200)
    spec.pretraining = dataclasses.replace(spec.pretraining, epochs=1)
    list(RBMTrainer(stack, data, fine_tune=False).run())
    save_spec(spec, tmp_path / "net.json")
    save_weights(tmp_path / "net.npz", stack.state())
    again = RBMStack(load_spec(tmp_path / "net.json"))
    assert again.spec.pretraining == spec.pretraining
    load_weights_into(again, tmp_path / "net.npz")
    for key, value in stack.state().items():
        np.testing.assert_array_equal(again.state()[key], value)
    x = data.x_val[:20].reshape(20, -1)
    np.testing.assert_array_equal(
        reconstruct(again.rbms[-1], again.encode(x, len(again.rbms) - 1))[0],
        reconstruct(stack.rbms[-1], stack.encode(x, len(stack.rbms) - 1))[0],
    )
