"""An RBM for collaborative filtering (Salakhutdinov, Mnih and Hinton 2007), and its baselines.

Each user is one training case.  Each item is a K-way softmax visible unit (one state per
rating value); an item the user did not rate is simply absent from that user's visible
layer, so every user has their own small RBM, and all of them share the weights of the
items they have in common.  With V_i^k = 1 when the user gave item i the k-th rating,
weights W (items × K × hidden), visible biases b (items × K) and hidden biases c:

    E(V, h) = −Σ_i Σ_k V_i^k b_i^k − Σ_j h_j c_j − Σ_i Σ_k Σ_j V_i^k W_ij^k h_j
    p(h_j = 1 | V) = σ(c_j + Σ_i W_{i k_i j})          (a sum over the rated items only)
    p(v_i^k = 1 | h) = softmax_k(b_i^k + Σ_j h_j W_ij^k)
    F(V) = −Σ_i b_{i k_i} − Σ_j softplus(c_j + Σ_i W_{i k_i j})

Training is CD-1 as in the paper: the positive statistics V hᵀ at the data, the negative
ones at a reconstruction of the *rated* items only (the missing ones stay missing).  A
held-out rating of item q is predicted from the user's observed ratings by one up-down
pass of expectations: p̂ = p(h | V), then the expected value Σ_k r_k p(v_q^k = 1 | p̂).
That is the expectation of the visible softmax the paper uses for its fast predictions.

``train_ratings_rbm`` is the Qt-free generator the command line and the window's views
both run: one ``RatingsEpoch`` per epoch with train and held-out RMSE and the two
baselines, stopping between mini-batches when the shared ``TrainingControl`` says so.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
from numba import njit

from ..datasets.ratings import Ratings, load_ratings_csv, synthetic_ratings
from ..engine.dense_stack import STOP
from ..engine.layers.dropout import seed_kernel_random
from ..engine.numeric import FAST_MATH
from ..engine.rbm_kernels import softplus
from .control import TrainingControl
from .families import Family, PreparedRun, RunOptions, register_family
from .protocol import STOPPED, ChunkResult, ChunkSizer, EpochEvent, Finished, run_batches

#: seconds of training between two looks at the control (pause, stop, single steps)
CHUNK_SECONDS = 0.05


# --- kernels ----------------------------------------------------------------------------------
@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def add_scaled(out, scale, row):
    """out ← out + scale · row, without a temporary."""
    for j in range(out.shape[0]):
        out[j] += scale * row[j]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def hidden_input(items, levels, start, stop, weight, hidden_bias, out):
    """out ← c + Σ over the user's rated items of W[item, level, :]: a gather of weight rows, no product."""
    out[:] = hidden_bias
    for r in range(start, stop):
        add_scaled(out, 1.0, weight[items[r], levels[r]])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def softmax_visible(item, hidden, weight, visible_bias, out):
    """out ← p(v_item = k | hidden) for each rating level k (hidden: samples or probabilities)."""
    largest = -np.inf
    for k in range(out.shape[0]):
        out[k] = visible_bias[item, k] + np.dot(weight[item, k], hidden)
        largest = max(largest, out[k])
    total = 0.0
    for k in range(out.shape[0]):
        out[k] = np.exp(out[k] - largest)
        total += out[k]
    for k in range(out.shape[0]):
        out[k] /= total


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def sigmoid_in_place(x):
    for j in range(x.shape[0]):
        x[j] = 1.0 / (1.0 + np.exp(-x[j]))


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def momentum_step(parameter, step, gradient, momentum, scale, decay):
    """Hinton's update on a flat view: Δ ← μΔ + scale·∂ − decay·θ; θ ← θ + Δ."""
    for n in range(parameter.shape[0]):
        step[n] = momentum * step[n] + scale * gradient[n] - decay * parameter[n]
        parameter[n] += step[n]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def ratings_cd1_batches(
    starts,
    items,
    levels,
    order,
    batch,
    first_batch,
    count,
    weight,
    visible_bias,
    hidden_bias,
    weight_step,
    visible_step,
    hidden_step,
    weight_gradient,
    visible_gradient,
    hidden_gradient,
    positive_h,
    hidden_sample,
    negative_h,
    reconstruction,
    learning_rate,
    momentum,
    weight_cost,
    control,
):
    """CD-1 on ``count`` mini-batches of ``batch`` users of ``order`` from ``first_batch`` (at most to the
    epoch's end).

    Per user: p(h | V) at the data, a binary hidden sample, the softmax reconstruction of
    the rated items (expected values, Hinton's practical guide: less noise than a
    sample), and p(h | reconstruction).  The gradients of the mini-batch are summed in
    the preallocated buffers, then Hinton's update Δ ← μΔ + η(∂/B − λW), W ← W + Δ runs
    over all parameters (weight cost λ on W only).  Returns the mini-batches done: fewer
    when ``control[STOP]`` is set (stop or pause), which is checked before each one.
    """
    n_users = order.shape[0]
    n_hidden = hidden_bias.shape[0]
    n_levels = visible_bias.shape[1]
    n_batches = min((n_users + batch - 1) // batch, first_batch + count)
    flat_weight, flat_weight_step = weight.reshape(-1), weight_step.reshape(-1)
    flat_weight_gradient = weight_gradient.reshape(-1)
    flat_visible, flat_visible_step = visible_bias.reshape(-1), visible_step.reshape(-1)
    flat_visible_gradient = visible_gradient.reshape(-1)
    for b in range(first_batch, n_batches):
        if control[STOP] != 0.0:
            return b - first_batch
        weight_gradient[:] = 0.0
        visible_gradient[:] = 0.0
        hidden_gradient[:] = 0.0
        first, last = b * batch, min((b + 1) * batch, n_users)
        for position in range(first, last):
            user = order[position]
            start, stop = starts[user], starts[user + 1]
            hidden_input(items, levels, start, stop, weight, hidden_bias, positive_h)
            sigmoid_in_place(positive_h)
            for j in range(n_hidden):
                hidden_sample[j] = 1.0 if np.random.random() < positive_h[j] else 0.0
            negative_h[:] = hidden_bias
            for r in range(start, stop):
                item = items[r]
                add_scaled(weight_gradient[item, levels[r]], 1.0, positive_h)
                visible_gradient[item, levels[r]] += 1.0
                probabilities = reconstruction[r - start]
                softmax_visible(item, hidden_sample, weight, visible_bias, probabilities)
                for k in range(n_levels):
                    add_scaled(negative_h, probabilities[k], weight[item, k])
            sigmoid_in_place(negative_h)
            add_scaled(hidden_gradient, 1.0, positive_h)
            add_scaled(hidden_gradient, -1.0, negative_h)
            for r in range(start, stop):
                item = items[r]
                for k in range(n_levels):
                    add_scaled(weight_gradient[item, k], -reconstruction[r - start, k], negative_h)
                    visible_gradient[item, k] -= reconstruction[r - start, k]
        scale = learning_rate / (last - first)
        momentum_step(flat_weight, flat_weight_step, flat_weight_gradient, momentum, scale, learning_rate * weight_cost)
        momentum_step(flat_visible, flat_visible_step, flat_visible_gradient, momentum, scale, 0.0)
        momentum_step(hidden_bias, hidden_step, hidden_gradient, momentum, scale, 0.0)
    return n_batches - first_batch


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def hidden_probabilities_of_users(starts, items, levels, weight, hidden_bias, out):
    """p(h | V) of every user, one row each, from their observed (training) ratings."""
    for user in range(out.shape[0]):
        hidden_input(items, levels, starts[user], starts[user + 1], weight, hidden_bias, out[user])
        sigmoid_in_place(out[user])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def expected_ratings(hidden, users, items, rating_values, weight, visible_bias, probabilities, out):
    """out[n] ← Σ_k r_k p(v_{items[n]}^k = 1 | hidden[users[n]]): the predicted rating of each query."""
    for n in range(users.shape[0]):
        softmax_visible(items[n], hidden[users[n]], weight, visible_bias, probabilities)
        out[n] = np.dot(probabilities, rating_values)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def user_free_energies(starts, items, levels, weight, visible_bias, hidden_bias, hidden_buffer, out):
    """F(V) of each user's observed ratings (see the module docstring for the formula)."""
    for user in range(out.shape[0]):
        start, stop = starts[user], starts[user + 1]
        hidden_input(items, levels, start, stop, weight, hidden_bias, hidden_buffer)
        energy = 0.0
        for r in range(start, stop):
            energy -= visible_bias[items[r], levels[r]]
        for j in range(hidden_buffer.shape[0]):
            energy -= softplus(hidden_buffer[j])
        out[user] = energy


# --- the model and its training ---------------------------------------------------------------
@dataclass(frozen=True)
class RatingsRBMSettings:
    """Hyper-parameters; the defaults learn the built-in example in about a second.

    Measured on the built-in example (seed 0): the held-out RMSE stays at the item-mean
    level for the first epochs, while the hidden units break their symmetry, then falls
    from about epoch 8 and levels off near epoch 15; training RMSE keeps falling after
    that, which is the RBM beginning to memorise users' own ratings.

    ``learning_rate`` applies to the mean gradient over a mini-batch of users; momentum
    follows Hinton's practical guide (0.5 for the first epochs, then 0.9).
    """

    hidden_units: int = 20
    epochs: int = 20
    batch_size: int = 10
    learning_rate: float = 0.05
    initial_momentum: float = 0.5
    final_momentum: float = 0.9
    momentum_switch_epoch: int = 6
    weight_cost: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        for name in ("hidden_units", "epochs", "batch_size", "momentum_switch_epoch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, not {self.learning_rate}")


class RatingsRBM:
    """The parameters of a softmax-visible RBM over ``n_items`` items with ``levels`` rating values."""

    def __init__(self, n_items: int, levels: int, hidden_units: int, rng: np.random.Generator):
        self.weight = rng.normal(0.0, 0.01, (n_items, levels, hidden_units))
        self.visible_bias = np.zeros((n_items, levels))
        self.hidden_bias = np.zeros(hidden_units)

    def set_visible_biases(self, items: np.ndarray, levels: np.ndarray) -> None:
        """b_i^k = log of item i's smoothed frequency of level k: before any learning the RBM
        already predicts each item's own rating distribution, close to the item mean."""
        counts = np.ones(self.visible_bias.shape)
        np.add.at(counts, (items, levels), 1.0)
        self.visible_bias[...] = np.log(counts / counts.sum(axis=1, keepdims=True))

    def hidden_probabilities(self, ratings: Ratings) -> np.ndarray:
        """p(h | V) of every user given their training ratings."""
        out = np.empty((ratings.n_users, len(self.hidden_bias)))
        hidden_probabilities_of_users(
            ratings.user_starts, ratings.train_items, _levels(ratings), self.weight, self.hidden_bias, out
        )
        return out

    def predict(self, ratings: Ratings, users: np.ndarray, items: np.ndarray, hidden=None) -> np.ndarray:
        """The expected rating of each (user, item) pair, given each user's training ratings."""
        hidden = self.hidden_probabilities(ratings) if hidden is None else hidden
        out = np.empty(len(users))
        values = np.arange(ratings.min_rating, ratings.max_rating + 1, dtype=np.float64)
        expected_ratings(
            hidden,
            np.ascontiguousarray(users, np.int64),
            np.ascontiguousarray(items, np.int64),
            values,
            self.weight,
            self.visible_bias,
            np.empty(ratings.levels),
            out,
        )
        return out

    def free_energies(self, ratings: Ratings) -> np.ndarray:
        """F(V) of each user's training ratings."""
        out = np.empty(ratings.n_users)
        user_free_energies(
            ratings.user_starts,
            ratings.train_items,
            _levels(ratings),
            self.weight,
            self.visible_bias,
            self.hidden_bias,
            np.empty(len(self.hidden_bias)),
            out,
        )
        return out


def _levels(ratings: Ratings) -> np.ndarray:
    """Training ratings as softmax states 0 … K − 1."""
    return ratings.train_values - ratings.min_rating


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predicted - actual) ** 2))) if len(actual) else float("nan")


def item_mean_predictions(ratings: Ratings, items: np.ndarray) -> np.ndarray:
    """Each item's mean training rating; the global mean for an item with none."""
    sums = np.bincount(ratings.train_items, ratings.train_values, minlength=ratings.n_items)
    counts = np.bincount(ratings.train_items, minlength=ratings.n_items)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), ratings.train_values.mean())
    return means[items]


@dataclass
class RatingsEpoch(EpochEvent):
    """One epoch's figures; the baselines are the same every epoch, repeated so a plot needs one record.

    ``train_rmse`` scores the training ratings by the same prediction as the held-out
    ones (each user's training ratings in, expected ratings out), so it is optimistic:
    the rating being predicted is among the inputs.  The held-out figure is the honest one.
    """

    epoch: int
    epochs: int
    train_rmse: float
    heldout_rmse: float
    item_mean_rmse: float
    global_mean_rmse: float
    seconds: float

    def record(self) -> dict:
        return {"kind": "ratings_epoch", **asdict(self)}


class RatingsRBMTrainer:
    """Trains a ``RatingsRBM`` on ``ratings`` by CD-1; ``run()`` is the per-epoch generator.

    ``model`` is available from construction on, so a view can show predictions between epochs.
    """

    def __init__(
        self, ratings: Ratings, settings: RatingsRBMSettings | None = None, control: TrainingControl | None = None
    ):
        self.ratings = ratings
        self.settings = settings or RatingsRBMSettings()
        self.control = control or TrainingControl(self.settings.learning_rate)
        self.rng = np.random.default_rng(self.settings.seed)
        self.model = RatingsRBM(ratings.n_items, ratings.levels, self.settings.hidden_units, self.rng)
        self.model.set_visible_biases(ratings.train_items, _levels(ratings))
        self.item_mean_rmse = rmse(item_mean_predictions(ratings, ratings.heldout_items), ratings.heldout_values)
        self.global_mean_rmse = rmse(
            np.full(len(ratings.heldout_values), ratings.train_values.mean()), ratings.heldout_values
        )
        self.history: list[RatingsEpoch] = []
        self.steps_done = 0

    def evaluate(self) -> tuple[float, float]:
        """(train RMSE, held-out RMSE) of the current model."""
        ratings, model = self.ratings, self.model
        hidden = model.hidden_probabilities(ratings)
        train = rmse(model.predict(ratings, ratings.train_users, ratings.train_items, hidden), ratings.train_values)
        heldout = rmse(
            model.predict(ratings, ratings.heldout_users, ratings.heldout_items, hidden), ratings.heldout_values
        )
        return train, heldout

    def run(self) -> Iterator[RatingsEpoch | Finished]:
        settings, ratings, model = self.settings, self.ratings, self.model
        seed_kernel_random(settings.seed)  # numba's generator is per thread: seed it on the training thread
        starts, levels = ratings.user_starts, _levels(ratings)
        hidden_units = settings.hidden_units
        steps = [np.zeros_like(model.weight), np.zeros_like(model.visible_bias), np.zeros_like(model.hidden_bias)]
        gradients = [np.zeros_like(model.weight), np.zeros_like(model.visible_bias), np.zeros_like(model.hidden_bias)]
        most_rated = int(np.diff(starts).max(initial=0))
        reconstruction = np.zeros((max(most_rated, 1), ratings.levels))
        positive_h, hidden_sample, negative_h = (np.zeros(hidden_units) for _ in range(3))
        batch = min(settings.batch_size, ratings.n_users)
        n_batches = -(-ratings.n_users // batch)
        sizer = ChunkSizer(seconds=CHUNK_SECONDS)
        for epoch in range(1, settings.epochs + 1):
            momentum = settings.initial_momentum if epoch < settings.momentum_switch_epoch else settings.final_momentum
            order = self.rng.permutation(ratings.n_users).astype(np.int64)
            started = time.perf_counter()

            def train_chunk(first: int, count: int, order=order, momentum=momentum) -> ChunkResult:
                # a pause or stop returns from the kernel early; the loop carries on where it stopped
                done = ratings_cd1_batches(
                    starts,
                    ratings.train_items,
                    levels,
                    order,
                    batch,
                    first,
                    count,
                    model.weight,
                    model.visible_bias,
                    model.hidden_bias,
                    *steps,
                    *gradients,
                    positive_h,
                    hidden_sample,
                    negative_h,
                    reconstruction,
                    self.control.learning_rate,
                    momentum,
                    settings.weight_cost,
                    self.control.array,
                )
                self.steps_done += done
                return ChunkResult(done, None)

            if (yield from run_batches(self.control, n_batches, train_chunk, sizer)) is STOPPED:
                yield Finished.stopped(epoch - 1, self.steps_done, self.history)
                return
            train, heldout = self.evaluate()
            record = RatingsEpoch(
                epoch,
                settings.epochs,
                train,
                heldout,
                self.item_mean_rmse,
                self.global_mean_rmse,
                time.perf_counter() - started,
            )
            self.history.append(record)
            yield record
        yield Finished.completed(f"trained {settings.epochs} epochs", settings.epochs, self.steps_done, self.history)


def train_ratings_rbm(
    ratings: Ratings, settings: RatingsRBMSettings | None = None, control: TrainingControl | None = None
) -> Iterator[RatingsEpoch]:
    """Train an RBM on ``ratings`` and yield a ``RatingsEpoch`` after every epoch.

    Each record has ``epoch``, ``train_rmse``, ``heldout_rmse``, ``item_mean_rmse`` and
    ``global_mean_rmse`` (plus ``epochs`` and ``seconds``).  It stops early, between
    mini-batches, when ``control.stop()`` is called from another thread, and waits while
    ``control`` is paused.  For the trained model itself, use ``RatingsRBMTrainer``.
    """
    return (event for event in RatingsRBMTrainer(ratings, settings, control).run() if isinstance(event, RatingsEpoch))


# --- the ratings family --------------------------------------------------------------------------------
def prepare_ratings(spec, options: RunOptions, control: TrainingControl | None = None) -> PreparedRun:
    """The ratings RBM is not a layer graph, so no network file describes it (``spec`` is None):
    ``playground ratings`` and the RBM lab's Ratings tab start it, from a CSV or the built-in example."""
    chosen = {
        "hidden_units": options.hidden_units,
        "epochs": options.epochs,
        "batch_size": options.batch_size,
        "learning_rate": options.learning_rate,
        "seed": options.seed,
    }
    settings = dataclasses.replace(
        RatingsRBMSettings(), **{key: value for key, value in chosen.items() if value is not None}
    )
    if options.data_file is None:
        ratings = synthetic_ratings(seed=settings.seed)
    else:
        ratings = load_ratings_csv(
            options.data_file, min_rating=options.min_rating, max_rating=options.max_rating, seed=settings.seed
        )
    trainer = RatingsRBMTrainer(ratings, settings, control)
    return PreparedRun(
        trainer,
        trainer.model,
        f"{ratings.source}; RBM with {settings.hidden_units} hidden units, {ratings.levels}-way softmax items",
        settings.epochs,
    )


def _ratings_line(event, run: PreparedRun) -> str | None:
    if not isinstance(event, RatingsEpoch):
        return None
    return (
        f"epoch {event.epoch:>3}/{event.epochs}  train RMSE {event.train_rmse:.4f}  held-out RMSE "
        f"{event.heldout_rmse:.4f}  {event.seconds:.2f} s"
    )


def _ratings_summary(run: PreparedRun) -> list[str]:
    history = run.trainer.history
    if not history:
        return []
    last = history[-1]
    return [
        f"held-out RMSE: RBM {last.heldout_rmse:.4f}  item mean {last.item_mean_rmse:.4f}  "
        f"global mean {last.global_mean_rmse:.4f}  ({len(run.trainer.ratings.heldout_values):,} held-out ratings)"
    ]


RATINGS = register_family(
    Family(
        "ratings",
        lab="rbm",
        precedence=40,
        matches=lambda spec: False,
        prepare=prepare_ratings,
        event_line=_ratings_line,
        summary=_ratings_summary,
    )
)
