"""The trainer generator, driven synchronously with no thread at all."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.engine.dense_stack import BIAS_GRAD, SATURATION, WEIGHT_GRAD
from playground.model import build_network, sequential_spec
from playground.model.settings import TrainingSettings
from playground.training import DataMismatch, EpochRecord, FeedForwardTrainer, Finished, StepChunk, TrainingControl
from playground.training.metrics import JsonLinesWriter, MetricStream


def circle_net(activation="tanh", output="softmax", cost="log-likelihood", sizes=(2, 8, 2), **training):
    spec = sequential_spec(list(sizes), activation=activation, output=output, cost=cost, initializer="xavier")
    network = build_network(spec)
    settings = TrainingSettings(
        **{"cost": cost, "learning_rate": 0.3, "batch_size": 10, "epochs": 30, "initializer": "xavier", **training}
    )
    network.initialize(settings.initializer, settings.seed)
    return network, settings


def events(trainer):
    return list(trainer.run())


def test_a_small_network_learns_the_circle():
    network, settings = circle_net()
    result = events(FeedForwardTrainer(network, load_dataset("circle", seed=0), settings))
    epochs = [e for e in result if isinstance(e, EpochRecord)]
    assert isinstance(result[-1], Finished) and result[-1].reason == "completed"
    assert len(epochs) == 30
    assert epochs[-1].val_accuracy > 0.9
    assert epochs[-1].loss < epochs[0].loss


def test_steps_are_numbered_from_zero_and_cover_every_batch():
    network, settings = circle_net(epochs=2, batch_size=64)
    dataset = load_dataset("circle", seed=0)
    chunks = [e for e in events(FeedForwardTrainer(network, dataset, settings)) if isinstance(e, StepChunk)]
    steps = np.concatenate([c.first_step + np.arange(c.steps) for c in chunks])
    per_epoch = -(-len(dataset.x_train) // 64)  # the short last batch is trained too
    np.testing.assert_array_equal(steps, np.arange(2 * per_epoch))


def test_step_zero_describes_the_network_as_initialised():
    network, settings = circle_net(epochs=1, batch_size=len(load_dataset("circle").x_train))
    dataset = load_dataset("circle", seed=0)
    trainer = FeedForwardTrainer(network, dataset, settings)
    initial = network.copy_state()
    first = next(e for e in trainer.run() if isinstance(e, StepChunk))
    twin, _ = circle_net(epochs=1)
    twin.load_state(initial)
    twin.loss_and_gradients(trainer.x_train, trainer.t_train)  # one batch = the whole set, order irrelevant
    reports = twin.reports()
    for i, layer_id in enumerate(first.layer_ids):
        assert first.layer_metrics[0, i, WEIGHT_GRAD] == pytest.approx(reports[layer_id].weight_grad_norm, rel=1e-4)
        assert first.layer_metrics[0, i, BIAS_GRAD] == pytest.approx(reports[layer_id].bias_grad_norm, rel=1e-4)


def test_same_seed_same_run_and_another_seed_differs():
    def run(seed):
        network, settings = circle_net(epochs=3, seed=seed)
        events(FeedForwardTrainer(network, load_dataset("circle", seed=0), settings))
        return network.copy_state()

    a, b, c = run(1), run(1), run(2)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_stop_is_honoured_between_batches():
    network, settings = circle_net(epochs=50)
    trainer = FeedForwardTrainer(network, load_dataset("circle", seed=0), settings)
    seen = []
    for event in trainer.run():
        seen.append(event)
        if isinstance(event, StepChunk) and event.first_step >= 5:
            trainer.control.stop()
    assert seen[-1].reason == "stopped"
    assert seen[-1].steps_done < 50 * 80


def test_pause_blocks_the_generator_until_resumed_and_step_runs_one_batch():
    network, settings = circle_net(epochs=1)
    control = TrainingControl(settings.learning_rate)
    trainer = FeedForwardTrainer(network, load_dataset("circle", seed=0), settings, control=control)
    run = trainer.run()
    next(run)
    control.step(1)  # one batch, then paused again
    chunk = next(run)
    assert chunk.steps == 1 and control.paused
    released = threading.Timer(0.2, control.resume)
    released.start()
    next(run)  # blocks until resumed
    released.join()
    assert not control.paused


def test_learning_rate_can_change_while_running():
    network, settings = circle_net(epochs=1, learning_rate=0.3)
    trainer = FeedForwardTrainer(network, load_dataset("circle", seed=0), settings)
    run = trainer.run()
    next(run)
    before = network.copy_state()
    trainer.control.set_learning_rate(1e-9)
    chunk = next(run)
    assert chunk.steps >= 1
    after = network.state()
    assert max(np.abs(after[k] - before[k]).max() for k in before) < 1e-6
    with pytest.raises(ValueError, match="positive finite"):
        trainer.control.set_learning_rate(float("nan"))


@pytest.mark.parametrize("sizes,activation", [((1, 16, 1), "relu"), ((1, 16, 16, 1), "linear")])
def test_an_exploding_loss_stops_with_the_layer_named_and_the_last_good_weights_kept(sizes, activation):
    network, settings = circle_net(
        activation=activation, output="linear", cost="quadratic", sizes=sizes, learning_rate=1e4, epochs=5
    )
    trainer = FeedForwardTrainer(network, load_dataset("function", seed=0), settings)
    result = events(trainer)
    final = result[-1]
    assert final.reason == "diverged"
    assert final.layer in {layer.id for layer in network.layers}
    assert f'layer "{final.layer}"' in final.message
    assert all(np.isfinite(value).all() for value in network.state().values())


def test_data_that_does_not_fit_the_network_is_named():
    network, settings = circle_net(sizes=(3, 4, 2))
    with pytest.raises(
        DataMismatch, match=r'layer "in": expects examples of shape \[3\] but the dataset "circle" gives \[2\]'
    ):
        FeedForwardTrainer(network, load_dataset("circle"), settings)
    network, settings = circle_net(sizes=(2, 4, 3))
    with pytest.raises(DataMismatch, match='layer "out": has 3 outputs but the dataset "circle" has 2 classes'):
        FeedForwardTrainer(network, load_dataset("circle"), settings)


def test_metrics_reach_the_stream_and_json_lines(tmp_path):
    network, settings = circle_net(activation="sigmoid", epochs=2)
    stream = MetricStream(capacity=100)
    writer = JsonLinesWriter(tmp_path / "m.jsonl")
    for event in FeedForwardTrainer(network, load_dataset("circle", seed=0), settings).run():
        stream.append(event)
        writer.append(event)
    writer.close()
    snapshot = stream.snapshot()
    assert len(snapshot.losses) == 100  # the ring keeps the newest steps
    assert snapshot.steps[-1] == 159 and np.all(np.diff(snapshot.steps) == 1)
    assert len(snapshot.epoch_records) == 2
    assert np.isfinite(snapshot.layer_metrics[:, 0, SATURATION]).all()  # sigmoid hidden layer saturates or not
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    steps = [r for r in records if r["kind"] == "step"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert len(steps) == 160 and len(epochs) == 2
    assert set(steps[0]) >= {
        "kind",
        "epoch",
        "step",
        "loss",
        "train_accuracy",
        "grad_norms",
        "weight_norms",
        "saturation",
    }
    assert set(steps[0]["grad_norms"]["fc1"]) == {"weight", "bias"}
    assert {"val_accuracy", "train_accuracy", "loss"} <= set(epochs[-1])


def test_regression_reports_no_accuracy():
    network, settings = circle_net(
        activation="tanh", output="linear", cost="quadratic", sizes=(1, 8, 1), epochs=2, learning_rate=0.05
    )
    result = events(FeedForwardTrainer(network, load_dataset("function", seed=0), settings))
    epoch = next(e for e in result if isinstance(e, EpochRecord))
    assert epoch.val_accuracy is None and np.isfinite(epoch.val_loss)


def test_the_stream_splits_a_comparison_at_each_variant_s_start():
    """A reader that reads up to where the stream stood when it read the starts never takes a step
    of a variant whose start it has not seen, however the appends interleave with its reads."""
    from playground.training import RunStarted

    def chunk(first_step: int, steps: int) -> StepChunk:
        return StepChunk(1, first_step, np.ones(steps), None, ["out"], np.zeros((steps, 1, 4)), steps)

    stream = MetricStream(capacity=100)
    stream.append(RunStarted("A"))
    stream.append(chunk(0, 5))
    starts, end = stream.run_starts()
    stream.append(RunStarted("B"))  # after the reader looked at the starts, before it reads the steps
    stream.append(chunk(0, 3))
    assert starts == [(0, 0, "A")] and end == (5, 0)
    total, new = stream.read_since(0, 0, end)
    assert total == 5 and len(new.steps) == 5  # A's steps only
    starts, end = stream.run_starts()
    assert starts[1] == (5, 0, "B") and end == (8, 0)
    total, new = stream.read_since(total, 0, starts[1][:2])
    assert len(new.steps) == 0  # nothing of A is left
    _, new = stream.read_since(total, 0, end)
    assert list(new.steps) == [0, 1, 2]  # B's own steps, numbered from 0
