"""Convolutional networks through the trainer and the files: the fused kernel, the generic path
for what it cannot run, weights in PyTorch's layout, and shape errors on the canvas."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.model import (
    NetworkFileError,
    analyse,
    build_network,
    load_weights_into,
    save_weights,
    spec_from_dict,
    spec_to_dict,
)
from playground.training import EpochRecord, FeedForwardTrainer, Finished, StepChunk
from playground.training.lessons import load_lesson


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0, n_samples=600)


def small_cnn(pool_type="maxpool2d", **training):
    spec = load_lesson("cnn-mnist")
    data = spec_to_dict(spec)
    data["nodes"][1]["config"].update(filters=4, kernel_size=5)
    data["nodes"][2]["type"] = pool_type
    data["nodes"][4]["config"]["units"] = 16
    data["training"].update(training)
    spec = spec_from_dict(data)
    network = build_network(spec)
    network.initialize(spec.training.initializer, spec.training.seed)
    return spec, network


def test_the_fused_kernel_and_the_short_last_batch_train_together(digits):
    spec, network = small_cnn(epochs=3, batch_size=32, learning_rate=0.1)  # 480 = 15 × 32: no tail
    trainer = FeedForwardTrainer(network, digits.limit_train(470), spec.training)  # 470 = 14 × 32 + 22: a tail
    assert trainer.uses_fast_path
    result = list(trainer.run())
    chunks = [e for e in result if isinstance(e, StepChunk)]
    epochs = [e for e in result if isinstance(e, EpochRecord)]
    assert isinstance(result[-1], Finished) and result[-1].reason == "completed"
    assert sum(c.steps for c in chunks) == 3 * 15
    assert epochs[-1].val_accuracy > epochs[0].val_accuracy - 0.05 and epochs[-1].loss < epochs[0].loss
    metrics = np.concatenate([c.layer_metrics for c in chunks])
    assert metrics.shape[1] == 3 and np.isfinite(metrics[:, :, :3]).all()  # conv1, fc1, out
    dead = metrics[:, 0, 3]  # a ReLU's saturation: the fraction of its units 0 on the whole batch
    assert np.isfinite(dead).all() and (dead >= 0).all() and (dead <= 1).all()


def test_average_pooling_trains_on_the_generic_path(digits):
    spec, network = small_cnn("avgpool2d", epochs=2, batch_size=20, learning_rate=0.1)
    trainer = FeedForwardTrainer(network, digits, spec.training)
    assert not trainer.uses_fast_path
    epochs = [e for e in trainer.run() if isinstance(e, EpochRecord)]
    assert epochs[-1].loss < 0.7 * np.log(10) and epochs[-1].val_accuracy > 0.4  # chance: ln 10 and 10%


def test_conv_weights_round_trip_in_pytorch_layout(tmp_path):
    _, network = small_cnn()
    save_weights(tmp_path / "w.npz", network.state())
    with np.load(tmp_path / "w.npz") as stored:
        assert stored["conv1.weight"].shape == (4, 1, 5, 5) and stored["conv1.bias"].shape == (4,)
    _, other = small_cnn()
    other.initialize("xavier", 99)
    load_weights_into(other, tmp_path / "w.npz")
    for key, value in network.state().items():
        np.testing.assert_array_equal(other.state()[key], value)


def test_shape_errors_name_the_layer_and_shared_weights_are_counted():
    data = spec_to_dict(load_lesson("cnn-mnist"))
    analysis = analyse(spec_from_dict(data))
    assert analysis.output_shapes["conv1"] == (20, 24, 24) and analysis.parameter_counts["conv1"] == 520
    assert analysis.dense_equivalent_counts == {"conv1": 784 * 20 * 24 * 24 + 20 * 24 * 24}

    bad = copy.deepcopy(data)
    bad["nodes"][1]["config"]["kernel_size"] = 30
    with pytest.raises(NetworkFileError, match='layer "conv1": a 30×30 kernel is larger than its 28×28 input'):
        build_network(spec_from_dict(bad))

    bad = copy.deepcopy(data)
    bad["nodes"][1]["config"]["kernel_size"] = 4  # 25×25 maps
    problems = analyse(spec_from_dict(bad)).problems
    assert problems[0].message == 'layer "pool1": a 2×2 pool with stride 2 does not divide a 25×25 input'
    assert problems[0].edge == ("conv1", "pool1")

    bad = copy.deepcopy(data)
    bad["nodes"][0]["config"]["shape"] = [784]
    with pytest.raises(
        NetworkFileError,
        match=r'layer "conv1": a convolution expects an image input '
        r"\[channels, height, width\] but gets \[784\]",
    ):
        build_network(spec_from_dict(bad))


def test_a_conv_net_can_start_from_flat_data_through_reshape(digits):
    data = spec_to_dict(load_lesson("cnn-mnist"))
    data["nodes"][0]["config"]["shape"] = [784]
    data["nodes"].insert(1, {"id": "img", "type": "reshape", "config": {"shape": [1, 28, 28]}})
    data["edges"] = [{"from": "in", "to": "img"}, {"from": "img", "to": "conv1"}] + data["edges"][1:]
    spec = spec_from_dict(data)
    spec.training = dataclasses.replace(spec.training, epochs=1, batch_size=50)
    network = build_network(spec)
    network.initialize("he", 0)
    trainer = FeedForwardTrainer(network, digits, spec.training)
    assert trainer.uses_fast_path
    assert isinstance(list(trainer.run())[-1], Finished)
