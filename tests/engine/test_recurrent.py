"""Recurrent layers (SimpleRNN, LSTM), token inputs (Embedding, OneHot) and the per-step head (TimeDense):
float64 finite-difference checks of everything backward returns, including the encoder-decoder API
(initial state, final state, lengths)."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.layers import ShapeError, layer_class
from playground.engine.network import Network

from .helpers import numerical_gradient, one_hot, relative_error, seeded_digests

TOLERANCE = 1e-6
RECURRENT = ["simple_rnn", "lstm"]


def recurrent(kind, hidden=5, features=3, steps=6, sequences="yes", seed=0, scale=0.6, dtype=np.float64):
    cls = layer_class(kind)
    layer = cls("rec", cls.Config(hidden=hidden, return_sequences=sequences), (steps, features), dtype)
    rng = np.random.default_rng(seed)
    for param in layer.params.values():
        param[...] = rng.standard_normal(param.shape) * scale
    return layer


def state_like(layer, batch, rng):
    return tuple(rng.standard_normal((batch, layer.hidden)) for _ in layer.state_names)


def weighted_loss(layer, x, projection, state, finals_projection, lengths):
    """L = Σ y ⊙ R + Σ_s final_s ⊙ S_s: a loss whose gradients are exactly R and S."""
    y = layer.forward(x, True, initial_state=state, lengths=lengths)
    total = float((y * projection).sum())
    return total + sum(float((f * p).sum()) for f, p in zip(layer.final_state, finals_projection))


@pytest.mark.parametrize("kind", RECURRENT)
@pytest.mark.parametrize("sequences", ["yes", "no"])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_bptt_matches_finite_differences(kind, sequences, with_lengths):
    """Parameters, input, and the initial state, through outputs and the final state read at each length."""
    rng = np.random.default_rng(1)
    layer = recurrent(kind, sequences=sequences)
    batch = 3
    x = rng.standard_normal((batch, 6, 3))
    state = state_like(layer, batch, rng)
    lengths = np.array([6, 2, 4]) if with_lengths else None
    projection = rng.standard_normal((batch, 6, 5) if sequences == "yes" else (batch, 5))
    finals_projection = state_like(layer, batch, rng)

    def loss():
        return weighted_loss(layer, x, projection, state, finals_projection, lengths)

    loss()
    dx = layer.backward(projection, finals_projection).copy()
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    d_state = [d.copy() for d in layer.d_initial_state]
    for name, param in layer.params.items():
        assert relative_error(analytic[name], numerical_gradient(loss, param)) < TOLERANCE, name
    assert relative_error(dx, numerical_gradient(loss, x)) < TOLERANCE
    for index, member in enumerate(state):
        assert relative_error(d_state[index], numerical_gradient(loss, member)) < TOLERANCE


@pytest.mark.parametrize("kind", RECURRENT)
def test_time_grad_norms_are_the_norms_of_dC_dh_t(kind):
    """‖∂C/∂h_t‖ per step, against finite differences through an additive perturbation of h_t."""
    rng = np.random.default_rng(2)
    layer = recurrent(kind, sequences="no")
    x = rng.standard_normal((2, 6, 3))
    projection = rng.standard_normal((2, 5))
    layer.forward(x, True)
    layer.backward(projection)
    norms = layer.time_grad_norms.copy()
    assert norms.shape == (6,)
    # the error into h_{T−1} is the projection itself
    assert norms[-1] == pytest.approx(np.linalg.norm(projection))
    # and into h_{T−2}: the gradient w.r.t. the initial state of a run over the last step alone,
    # started from the state the first T−1 steps reach
    tail = recurrent(kind, sequences="no")
    tail.forward(x[:, -1:], True, initial_state=_states_before_last(layer, x))
    tail.backward(projection)
    assert norms[-2] == pytest.approx(np.linalg.norm(tail.d_initial_state[0]), rel=1e-10)


def _states_before_last(layer, x):
    """The state after T−1 steps, from a run over the sequence without its last step."""
    head = recurrent(layer.type_id, sequences="no")
    head.forward(x[:, :-1], True)
    return tuple(s.copy() for s in head.final_state)


def test_lstm_gate_means_are_the_mean_gate_activations_per_step():
    rng = np.random.default_rng(3)
    layer = recurrent("lstm", sequences="yes")
    x = rng.standard_normal((4, 6, 3))
    layer.forward(x, True)
    means = layer.gate_means
    assert set(means) == {"forget", "input"} and means["forget"].shape == (6,)
    # recompute step 0 by hand: the state starts at zero, so only x_0 matters
    w, b = layer.params["weight_ih"], layer.params["bias_ih"] + layer.params["bias_hh"]
    z = x[:, 0] @ w.T + b
    sigmoid = 1.0 / (1.0 + np.exp(-z))
    assert means["input"][0] == pytest.approx(sigmoid[:, :5].mean())
    assert means["forget"][0] == pytest.approx(sigmoid[:, 5:10].mean())


def test_forget_bias_initialises_the_forget_gate_rows_only():
    cls = layer_class("lstm")
    layer = cls("l", cls.Config(hidden=4, forget_bias=2.5), (5, 3), np.float64)
    layer.initialize("xavier", np.random.default_rng(0))
    bias = layer.params["bias_ih"]
    assert np.all(bias[4:8] == 2.5) and np.all(bias[:4] == 0) and np.all(bias[8:] == 0)
    assert layer.parameter_count(layer.config, (5, 3)) == 4 * 4 * (3 + 4 + 2)


def test_truncation_cuts_the_error_at_block_boundaries():
    """With k-step blocks the error never crosses from step k to step k−1; inside a block it is unchanged."""
    rng = np.random.default_rng(4)
    layer = recurrent("lstm", sequences="no", steps=6)
    x = rng.standard_normal((2, 6, 3))
    dy = rng.standard_normal((2, 5))
    layer.forward(x, True)
    layer.backward(dy)
    full = layer.time_grad_norms.copy()
    layer.truncate = 3
    layer.forward(x, True)
    dx = layer.backward(dy)
    assert np.allclose(layer.time_grad_norms[3:], full[3:])
    assert np.all(layer.time_grad_norms[:3] == 0) and np.all(dx[:, :3] == 0)


@pytest.mark.parametrize("kind", RECURRENT)
def test_variable_length_batches_reuse_one_layer(kind):
    """The same layer runs sequences of another length than it was declared with (the decoder's case)."""
    rng = np.random.default_rng(5)
    layer = recurrent(kind, sequences="yes", steps=6)
    short = rng.standard_normal((2, 3, 3))
    out = layer.forward(short, False).copy()
    assert out.shape == (2, 3, 5)
    longer = np.concatenate([short, rng.standard_normal((2, 4, 3))], axis=1)
    assert np.allclose(layer.forward(longer, False)[:, :3], out)


def test_recurrent_layers_name_what_they_expect():
    with pytest.raises(ShapeError, match=r"needs a sequence input \[time steps, features\], not \[784\]"):
        layer_class("lstm").infer_output_shape(layer_class("lstm").Config(), (784,))
    with pytest.raises(ShapeError, match=r"needs token ids of shape \[time steps\]"):
        layer_class("embedding").infer_output_shape(layer_class("embedding").Config(), (5, 3))
    layer = recurrent("simple_rnn")
    with pytest.raises(ValueError, match='layer "rec": lengths must be 2 whole numbers between 1 and 6'):
        layer.forward(np.zeros((2, 6, 3)), False, lengths=np.array([0, 6]))


def test_embedding_and_one_hot_read_token_ids():
    cls = layer_class("embedding")
    layer = cls("emb", cls.Config(vocabulary=6, dimension=3), (4,), np.float64)
    layer.initialize("xavier", np.random.default_rng(0))
    ids = np.array([[0, 5, 5, 2], [1, 1, 3, 0]], np.int32)
    out = layer.forward(ids, True)
    assert np.array_equal(out, layer.params["weight"][ids])
    dy = np.random.default_rng(1).standard_normal(out.shape)
    assert np.array_equal(layer.backward(dy), np.zeros(ids.shape))
    expected = np.zeros((6, 3))
    np.add.at(expected, ids, dy)
    assert np.allclose(layer.grads["weight"], expected)
    with pytest.raises(ValueError, match='layer "emb": token id 6 is not a whole number from 0 to 5'):
        layer.forward(np.array([[0, 6, 1, 1]]), False)
    with pytest.raises(ValueError, match="token id 1.5 is not a whole number"):
        layer.forward(np.array([[0, 1.5, 1, 1]]), False)
    hot_cls = layer_class("one_hot")
    hot = hot_cls("hot", hot_cls.Config(vocabulary=6), (4,), np.float64)
    assert np.array_equal(hot.forward(ids, False), np.eye(6)[ids])


def test_a_per_step_softmax_head_trains_on_the_cost_of_every_step():
    """one_hot → lstm → time_dense(softmax) with log-likelihood summed over steps: a full network gradient check."""
    rng = np.random.default_rng(6)
    steps, vocabulary = 4, 5
    specs = [
        ("in", "input", layer_class("input").Config(shape=(steps,))),
        ("hot", "one_hot", layer_class("one_hot").Config(vocabulary=vocabulary)),
        ("rec", "lstm", layer_class("lstm").Config(hidden=4, return_sequences="yes")),
        ("out", "time_dense", layer_class("time_dense").Config(units=vocabulary, activation="softmax")),
    ]
    network = Network.from_specs(specs, (steps,), "log-likelihood", np.float64)
    network.initialize("xavier", 0)
    ids = rng.integers(0, vocabulary, (3, steps))
    targets = one_hot(np.roll(ids, 1, axis=1).ravel(), vocabulary).reshape(3, steps, vocabulary)

    def loss():
        return network.loss_and_gradients(ids, targets)[0]

    value, output = network.loss_and_gradients(ids, targets)
    assert value == pytest.approx(-np.log(output[targets == 1]).sum() / 3)
    analytic = {
        key: grad.copy()
        for key, grad in ((f"{layer.id}.{n}", g) for layer in network.trainable for n, g in layer.grads.items())
    }
    for key, param in network.state().items():
        assert relative_error(analytic[key], numerical_gradient(loss, param)) < TOLERANCE, key
    assert network.predict(ids).shape == (3, steps * vocabulary)


def _run_with_threads(threads, run):
    """``run()`` with the batch split into ``threads`` parts (``parts.PARTS``), on as many threads."""
    import numba

    from playground.engine import parts

    before, fixed = numba.get_num_threads(), parts.PARTS
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    parts.PARTS = threads
    try:
        return run()
    finally:
        numba.set_num_threads(before)
        parts.PARTS = fixed


needs_two_threads = pytest.mark.skipif(
    __import__("numba").config.NUMBA_NUM_THREADS < 2, reason="numba runs one thread here, so a batch is never split"
)


@needs_two_threads
@pytest.mark.parametrize("kind", RECURRENT)
@pytest.mark.parametrize("sequences", ["yes", "no"])
def test_a_batch_split_into_parts_gives_what_one_part_gives(kind, sequences):
    """Each half of an even batch runs its whole time loop on its own thread (engine/parts.py):
    outputs, final states, ∂C/∂x, the initial state's gradient, every weight gradient and
    ‖∂C/∂h_t‖ must equal the one-part run's, with lengths and truncation in play."""
    rng = np.random.default_rng(5)
    batch, steps = 6, 7
    x = rng.standard_normal((batch, steps, 3))
    lengths = np.array([7, 2, 5, 7, 1, 4])
    dy = rng.standard_normal((batch, steps, 5) if sequences == "yes" else (batch, 5))

    def run():
        layer = recurrent(kind, sequences=sequences, steps=steps)
        layer.truncate = 3
        state = state_like(layer, batch, np.random.default_rng(6))
        y = layer.forward(x, True, initial_state=state, lengths=lengths).copy()
        finals = [f.copy() for f in layer.final_state]
        dx = layer.backward(dy, state_like(layer, batch, np.random.default_rng(7))).copy()
        return (
            layer._current["parts"],
            [
                y,
                *finals,
                dx,
                *[d.copy() for d in layer.d_initial_state],
                *[g.copy() for g in layer.grads.values()],
                layer.time_grad_norms.copy(),
            ],
        )

    parts_one, whole = _run_with_threads(1, run)
    parts_two, split = _run_with_threads(2, run)
    assert (parts_one, parts_two) == (1, 2)
    for expected, got in zip(whole, split):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@needs_two_threads
def test_time_dense_rows_in_parts_give_what_one_part_gives():
    rng = np.random.default_rng(8)
    cls = layer_class("time_dense")
    x = rng.standard_normal((5, 7, 4))  # 35 rows: parts of 17 and 18
    delta = rng.standard_normal((35, 6))

    def run():
        layer = cls("out", cls.Config(units=6, activation="softmax"), (7, 4), np.float64)
        layer.initialize("xavier", np.random.default_rng(0))
        a = layer.forward(x, True).copy()
        dx = layer.backward_from_delta(delta).copy()
        return [a, dx, layer.grads["weight"].copy(), layer.grads["bias"].copy()]

    for expected, got in zip(_run_with_threads(1, run), _run_with_threads(2, run)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@needs_two_threads
@pytest.mark.parametrize("kind", [*RECURRENT, "time_dense"])
def test_the_parts_side_by_side_give_what_they_give_in_turn_bit_for_bit(monkeypatch, kind):
    """A step's parts run in turn until their parallel driver is compiled, then side by side
    (parts.run_parts): in float32, the training precision, every figure must be the same bit for
    bit either way, or a seeded run would depend on when the driver arrived."""
    import numba

    from playground.engine import background, parts

    monkeypatch.setattr(background, "compiles", background.BackgroundCompiles())
    monkeypatch.setattr(parts, "threads_for_now", lambda most: most)  # as on a quiet machine
    monkeypatch.setattr(background, "QUIET_COMPILER_S", 0.0)
    rng = np.random.default_rng(9)
    batch, steps, features = 8, 9, 3
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    if kind == "time_dense":
        cls = layer_class(kind)
        layer = cls("out", cls.Config(units=6, activation="softmax"), (steps, features), np.float32)
        layer.initialize("xavier", np.random.default_rng(0))
        delta = rng.standard_normal((batch * steps, 6)).astype(np.float32)

        def step():
            a = layer.forward(x, True).copy()
            return [a, layer.backward_from_delta(delta).copy(), *[g.copy() for g in layer.grads.values()]]

    else:
        layer = recurrent(kind, steps=steps, dtype=np.float32)
        layer.truncate = 4
        lengths = np.array([9, 2, 5, 9, 1, 4, 8, 7])
        dy = rng.standard_normal((batch, steps, 5)).astype(np.float32)

        def step():
            y = layer.forward(x, True, lengths=lengths).copy()
            dx = layer.backward(dy).copy()
            return [y, dx, *[g.copy() for g in layer.grads.values()], layer.time_grad_norms.copy()]

    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        in_turn = step()
        step()  # the second call starts compiling the drivers
        background.settle()
        assert len(background.compiles._ready) == 2  # forward's and backward's
        side_by_side = step()
    finally:
        numba.set_num_threads(before)
    for expected, got in zip(in_turn, side_by_side, strict=True):
        assert np.array_equal(got, expected)


def test_a_seeded_sequence_run_repeats_exactly_on_one_thread_or_two():
    """The parts a batch is split into do not depend on the cores (``parts.PARTS``): numba on one
    thread runs them in turn, the same arithmetic, and the trained weights are bit for bit the same.

    The first run only fills numba's cache: a recurrent run whose kernels were compiled in its own
    process ends on other weights than one that loads them from the cache (seen with numba 0.68,
    whatever the threads; the dense paths agree), so the runs compared both load them."""
    _, one_thread, two_threads = seeded_digests("copy-reverse", 256)
    assert one_thread == two_threads
