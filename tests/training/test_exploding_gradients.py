"""The exploding-gradients lesson: the chain of factors, the run that diverges naming its layer, and
clipping and He's initialisation side by side."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.cli import main
from playground.datasets import load_dataset
from playground.engine.dense_stack import BIAS_GRAD
from playground.model import build_network
from playground.model.project import MetricHistory
from playground.training import FeedForwardTrainer, Finished, StepChunk
from playground.training.diagnosis import diagnose
from playground.training.families import RunOptions, family_of
from playground.training.gradient_chain import chain_applies, chain_product, chain_sentence, gradient_chain
from playground.training.lesson_figures import lesson_figure
from playground.training.lessons import load_lesson


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_dataset("mnist", data_dir=mnist_dir)


def lesson_network(initializer: str = "normal", seed: int = 0):
    spec = load_lesson("exploding-gradients")
    network = build_network(spec)
    network.initialize(initializer, seed)
    return network


def one_example(mnist, k: int = 0):
    return mnist.x_train[k].reshape(-1), np.eye(10, dtype=np.float32)[mnist.y_train[k]]


def test_the_chain_rebuilds_the_first_layers_gradient_from_its_factors(mnist):
    network = lesson_network()
    links = gradient_chain(network, *one_example(mnist))
    assert [link.layer for link in links] == ["fc1", "fc2", "fc3", "fc4", "out"]
    assert chain_product(links) == pytest.approx(links[0].bias_gradient, rel=1e-5)
    # the numbers are the engine's: δ¹ = f′(z¹) ⊙ (W²)ᵀ δ² with the engine's z and weights
    fc1, fc2 = network.trainable[0], network.trainable[1]
    delta2 = fc2.grads["bias"].astype(np.float64)
    slope = (fc1.z[0] > 0).astype(np.float64)  # ReLU′
    assert fc1.grads["bias"] == pytest.approx(slope * (delta2 @ fc2.params["weight"]), rel=1e-4, abs=1e-6)


def test_large_weights_make_every_factor_above_one_and_he_keeps_them_near_one(mnist):
    for k in range(3):
        large = gradient_chain(lesson_network("normal"), *one_example(mnist, k))
        assert all(link.factor > 1.5 for link in large[:-1])
        assert large[0].bias_gradient > 50 * large[-1].bias_gradient
        assert "4 of the 4 factors are above 1" in chain_sentence(large)
        he = gradient_chain(lesson_network("he"), *one_example(mnist, k))
        assert all(0.3 < link.factor < 2.5 for link in he[:-1])
        assert he[0].bias_gradient < 10 * he[-1].bias_gradient


def test_the_chain_is_for_stacks_of_dense_layers():
    assert chain_applies(lesson_network())
    assert not chain_applies(build_network(load_lesson("cnn-mnist")))
    assert not chain_applies(None)


def test_large_weights_grow_the_gradient_toward_the_input_then_the_run_diverges_naming_a_layer(mnist):
    spec = load_lesson("exploding-gradients")
    events = list(FeedForwardTrainer(lesson_network(), mnist.limit_train(1000), spec.training).run())
    first = next(e for e in events if isinstance(e, StepChunk))
    speeds = first.layer_metrics[0, :, BIAS_GRAD]  # fc1 … out at step 0
    assert all(speeds[i] > 2 * speeds[i + 1] for i in range(len(speeds) - 1))
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.reason == "diverged"
    assert finished.layer in {"fc1", "fc2", "fc3", "fc4", "out"} and f'layer "{finished.layer}"' in finished.message
    assert "gradient clipping" in finished.message and finished.epochs_done == 0


def test_the_diagnosis_flags_exploding_gradients_and_points_to_this_lesson(mnist):
    spec = load_lesson("exploding-gradients")
    history = MetricHistory()
    for event in FeedForwardTrainer(lesson_network(), mnist.limit_train(1000), spec.training).run():
        if isinstance(event, StepChunk):
            steps = event.first_step + np.arange(event.steps)
            history.append(
                steps, [event.epoch] * event.steps, event.losses, event.accuracies, event.layer_ids, event.layer_metrics
            )
    flags = [flag for flag in diagnose(history) if flag.kind == "exploding"]
    assert flags and flags[0].lesson == "exploding-gradients"


def test_clipping_and_he_finish_where_large_weights_diverge(mnist_dir):
    spec = load_lesson("exploding-gradients")
    run = family_of(spec).start(spec, RunOptions(data_dir=mnist_dir))
    figure = lesson_figure("exploding-gradients", run)
    events = []
    for event in run.trainer.run():
        figure.observe(event)
        events.append(event)
    ended = {compared.label: finished for compared, finished in run.trainer.finished}
    assert ended["N(0, 1)"].reason == "diverged"
    assert ended["clipped at 1"].reason == "completed" and ended["He init"].reason == "completed"
    he = figure.variants["He init"].epochs
    assert he[-1].val_accuracy > 0.7
    clipped = figure.variants["clipped at 1"]
    assert all(np.isfinite(e.loss) for e in clipped.epochs) and len(clipped.epochs) == spec.training.epochs
    lines = "\n".join(figure.lines())
    assert "diverged after" in lines and "4 of 4 factors above 1" in lines and "validation accuracy" in lines


def test_clipping_bounds_every_step_of_a_feed_forward_run(mnist):
    spec = load_lesson("exploding-gradients")
    network = lesson_network()
    before = network.copy_state()
    settings = dataclasses.replace(spec.training, clip_norm=1.0, epochs=1)
    trainer = FeedForwardTrainer(network, mnist.limit_train(10), settings)
    assert not trainer.uses_fast_path  # clipping takes the generic path
    chunk = next(e for e in trainer.run() if isinstance(e, StepChunk))
    assert chunk.layer_metrics[0, 0, BIAS_GRAD] > 10  # the gradient as computed is large …
    moved = np.sqrt(sum(np.sum((network.state()[k] - before[k]) ** 2) for k in before))
    assert moved == pytest.approx(settings.learning_rate * 1.0, rel=1e-3)  # … the step is η·c


def test_train_exploding_gradients_prints_the_figure_and_fails_for_the_diverged_variant(mnist_dir, capsys):
    assert main(["train", "exploding-gradients", "--data-dir", str(mnist_dir), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "‖∂C/∂b‖ per layer, input side first:" in captured.out
    assert "N(0, 1): the loss exploded" in captured.err
    assert "finished 3 epochs" in captured.out and "validation accuracy (%), by epoch:" in captured.out


def test_a_chain_with_no_gradient_left_says_so():
    from playground.training.gradient_chain import ChainLink

    links = [ChainLink("fc1", 0.0, 0.0, 2.0, "out"), ChainLink("out", 0.5, None, None)]
    assert "No gradient reaches fc1" in chain_sentence(links)
    assert "exploded" in chain_sentence([ChainLink("fc1", float("inf"), 1.0, 1.0, "out"), links[1]])
