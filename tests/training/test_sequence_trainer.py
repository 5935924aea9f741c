"""The sequence trainer: real runs on the adding problem, its events, BPTT settings and control."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.datasets.adding import BASELINE_MSE
from playground.model import analyse, with_overrides
from playground.model.variants import variant_specs
from playground.training.lessons import load_lesson
from playground.training.sequence_events import SequenceChunk, SequenceEpoch
from playground.training.sequence_trainer import (
    SequenceData,
    SequenceTrainer,
    load_sequence_data,
    sequence_trainer_for,
    time_decay_ratio,
)
from playground.training.trainer import DataMismatch, Finished


def small_lesson(length=12, n_samples=640, epochs=1, **training):
    """The rnn-vs-lstm lesson shrunk to a short sequence and a small budget."""
    spec = load_lesson("rnn-vs-lstm")
    spec.nodes = [
        dataclasses.replace(n, config=n.config.__class__(shape=(length, 2))) if n.type == "input" else n
        for n in spec.nodes
    ]
    spec.dataset = with_overrides(spec.dataset, sequence_length=length, n_samples=n_samples)
    spec.training = with_overrides(spec.training, epochs=epochs, **training)
    return spec


def run(trainer):
    events = list(trainer.run())
    chunks = [e for e in events if isinstance(e, SequenceChunk)]
    epochs = [e for e in events if isinstance(e, SequenceEpoch)]
    return chunks, epochs, events[-1]


def test_the_lesson_is_a_valid_recurrent_network_with_its_comparison():
    spec = load_lesson("rnn-vs-lstm")
    assert analyse(spec).ok
    runs = variant_specs(spec)
    assert [label for label, _ in runs] == ["LSTM", "SimpleRNN"]
    rnn = runs[1][1].node("rec")
    assert rnn.type == "simple_rnn" and rnn.config.hidden == spec.node("rec").config.hidden
    assert analyse(runs[1][1]).ok and spec.node("rec").type == "lstm"  # the original is left alone
    assert spec.dataset.sequence_length == 50 and spec.node("in").config.shape == (50, 2)


def test_lstm_learns_the_adding_problem_where_the_simple_rnn_cannot():
    """The lesson's acceptance, at its full size (T = 50, the same budget for both): LSTM below 0.02,
    SimpleRNN above 0.1, and the RNN's error reaching the first step far weaker than the LSTM's."""
    figures = {}
    for label, spec in variant_specs(load_lesson("rnn-vs-lstm")):
        chunks, epochs, finished = run(sequence_trainer_for(spec))
        assert finished.reason == "completed"
        norms = np.concatenate([c.time_grad_norms for c in chunks])
        figures[label] = (epochs[-1].val_mse, time_decay_ratio(norms))
    print("adding problem, T=50: (validation MSE, median ‖∂C/∂h_0‖/‖∂C/∂h_49‖)", figures)
    assert figures["LSTM"][0] < 0.02
    assert figures["SimpleRNN"][0] > 0.1
    assert figures["SimpleRNN"][1] < figures["LSTM"][1] / 1000


def test_events_carry_the_gradient_over_time_the_gates_and_the_clips():
    trainer = sequence_trainer_for(small_lesson(clip_norm=1e-6))
    chunks, epochs, finished = run(trainer)
    steps = sum(c.steps for c in chunks)
    assert steps == 512 // 32 == finished.steps_done
    assert [c.first_step for c in chunks] == list(np.cumsum([0] + [c.steps for c in chunks[:-1]]))
    for chunk in chunks:
        assert chunk.time_grad_norms.shape == (chunk.steps, 12) and np.all(chunk.time_grad_norms > 0)
        assert chunk.forget_gate.shape == (12,) and np.all((chunk.forget_gate > 0) & (chunk.forget_gate < 1))
        assert chunk.layer_id == "rec"
        assert chunk.clips == chunk.steps  # a tiny clip norm clips every step
    assert epochs[-1].clips_total == steps and epochs[-1].val_mse is not None
    rnn_spec = variant_specs(small_lesson(clip_norm=0.0))[1][1]
    chunks, epochs, _ = run(sequence_trainer_for(rnn_spec))
    assert all(c.forget_gate is None and c.clips == 0 for c in chunks) and epochs[-1].clips_total == 0


def test_clipping_bounds_the_update():
    """With clip_norm c, the gradient the optimiser receives never exceeds c."""
    trainer = sequence_trainer_for(small_lesson(clip_norm=0.05, optimizer="sgd"))
    x, t = trainer.x_train[:32], trainer.t_train[:32]
    trainer.network.loss_and_gradients(x, t)
    before = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in trainer.grads))
    assert before > 0.05 and trainer._clip()
    after = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in trainer.grads))
    assert after == pytest.approx(0.05, rel=1e-5)


def test_truncated_bptt_sends_no_error_past_its_block():
    """Only the last output is scored, so with blocks of 5 over 12 steps the error reaches steps 10 and 11 only."""
    chunks, _, _ = run(sequence_trainer_for(small_lesson(bptt_steps=5, clip_norm=0.0)))
    norms = np.concatenate([c.time_grad_norms for c in chunks])
    assert np.all(norms[:, :10] == 0) and np.all(norms[:, 10:] > 0)


def test_a_seeded_run_reproduces_exactly():
    def once():
        trainer = sequence_trainer_for(small_lesson(epochs=2))
        chunks, epochs, _ = run(trainer)
        return (
            np.concatenate([c.losses for c in chunks]),
            np.concatenate([c.time_grad_norms for c in chunks]),
            [e.val_loss for e in epochs],
            trainer.network.copy_state(),
        )

    first, second = once(), once()
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert first[2] == second[2]
    assert all(np.array_equal(first[3][k], second[3][k]) for k in first[3])
    other = sequence_trainer_for(small_lesson(seed=1))
    assert not np.array_equal(other.network.copy_state()["rec.weight_hh"], first[3]["rec.weight_hh"])


def test_stop_and_single_steps_are_honoured_between_batches():
    trainer = sequence_trainer_for(small_lesson(epochs=3))
    events = trainer.run()
    first = next(events)
    assert isinstance(first, SequenceChunk)
    trainer.control.stop()
    finished = next(events)
    assert isinstance(finished, Finished) and finished.reason == "stopped"

    trainer = sequence_trainer_for(small_lesson(epochs=3))
    trainer.control.step(3)  # three batches, then pause
    chunk = next(trainer.run())
    assert chunk.steps == 3 and trainer.control.paused


def test_data_that_does_not_fit_is_named():
    spec = small_lesson(length=12)
    spec.dataset = with_overrides(spec.dataset, sequence_length=20)
    with pytest.raises(
        DataMismatch,
        match=r'layer "in": expects sequences of shape \[12, 2\] but the dataset '
        r'"adding" gives \[20, 2\]',
    ):
        sequence_trainer_for(spec)
    spec.dataset = with_overrides(spec.dataset, name="xor")
    with pytest.raises(DataMismatch, match='the dataset "xor" holds no sequences'):
        load_sequence_data(spec.dataset, 0)


def test_a_per_step_softmax_head_learns_per_step_classes():
    """input → lstm(sequences) → time_dense(softmax), integer class per step: say at every step
    whether a marker has been seen yet (it needs the memory, and the per-step cost)."""
    from playground.engine.layers import layer_class
    from playground.engine.network import Network
    from playground.model.settings import TrainingSettings

    data = load_sequence_data(small_lesson().dataset, 0)
    seen = lambda x: (np.cumsum(x[:, :, 1], axis=1) > 0).astype(np.int32)  # noqa: E731
    data = SequenceData("markers", data.x_train, seen(data.x_train), data.x_val, seen(data.x_val))
    specs = [
        ("in", "input", layer_class("input").Config(shape=(12, 2))),
        ("rec", "lstm", layer_class("lstm").Config(hidden=8, return_sequences="yes")),
        ("out", "time_dense", layer_class("time_dense").Config(units=2, activation="softmax")),
    ]
    network = Network.from_specs(specs, (12, 2), "log-likelihood")
    network.initialize("xavier", 0)
    settings = TrainingSettings(cost="log-likelihood", optimizer="adam", learning_rate=0.02, batch_size=16, epochs=3)
    _, epochs, _ = run(SequenceTrainer(network, data, settings))
    assert epochs[0].val_mse is None
    assert epochs[-1].token_accuracy > 0.95


def test_the_untrained_lstm_scores_near_the_guessing_baseline():
    trainer = sequence_trainer_for(small_lesson())
    assert trainer.validation_mse() > BASELINE_MSE / 2


def test_the_command_line_trains_the_lesson_and_its_comparison(capsys, tmp_path):
    from playground.cli import main

    metrics = tmp_path / "metrics.jsonl"
    assert main(["train", "rnn-vs-lstm", "--epochs", "1", "--quiet", "--metrics-out", str(metrics)]) == 0
    out = capsys.readouterr().out
    assert "LSTM         validation MSE" in out and "SimpleRNN    validation MSE" in out
    lines = metrics.read_text().splitlines()
    assert [line.split('"run": "')[1].split('"')[0] for line in lines] == ["LSTM", "SimpleRNN"]
