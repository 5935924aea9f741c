"""Diagnosis: what is going wrong in a run, from its metric history, one sentence per problem.

``diagnose(history, activations)`` reads the figures the trainer records (per mini-batch: the
loss and, per layer, the gradient norms, the weight norm and the saturation column; per epoch:
the train and validation figures) and returns a ``Flag`` for each problem it sees:

- **vanishing gradients**: over the last ``RECENT`` mini-batches, one hidden layer's
  ‖∂C/∂b‖ (Nielsen's speed of learning, as the Gradients panel shows it) is more than
  ``VANISHING_RATIO`` times smaller than another's;
- **exploding gradients**: a layer's gradient norm has grown by ``EXPLODING_GROWTH`` (three
  orders of magnitude) or more since the start of the run, or is no longer finite;
- **saturated units**: over the last ``RECENT`` mini-batches, more than ``SATURATED_SHARE`` of
  a sigmoid or tanh layer's units had a derivative below 1% of its peak;
- **dead ReLUs**: over the last ``RECENT`` mini-batches, more than ``SATURATED_SHARE`` of a ReLU
  layer's units were 0 for every example of their batch (the saturation column holds that
  for ReLU layers, see ``engine.activations.saturated_fraction``);
- **learning rate too high**: the loss has risen well above the lowest it reached (windows of
  mini-batches: ``RISE_FACTOR`` times the lowest, and ``RISE_SHARE`` of the way back to where it
  started), or is not finite, or the epochs' training loss goes up and down by more than
  ``OSCILLATION_SHARE`` of itself (and of what the run has gained) for the last
  ``OSCILLATION_EPOCHS`` epochs;
- **overfitting**: the gap between training and validation (accuracy, or loss for
  regression) has grown in most of the last ``OVERFIT_EPOCHS`` epochs and by a margin, and is
  over ``OVERFIT_ACCURACY_GAP`` for a classifier.

Each flag names the lesson that explains it, for the window to link to.  No Qt here: the
dashboard's strip calls this on its timer and the tests call it with synthetic histories.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..engine.dense_stack import BIAS_GRAD, SATURATION, WEIGHT_GRAD

#: mini-batches (recorded rows) that make "now"
RECENT = 50
VANISHING_RATIO = 100.0
EXPLODING_GROWTH = 1000.0
SATURATED_SHARE = 0.5
RISE_FACTOR = 1.5
RISE_SHARE = 0.25
OSCILLATION_EPOCHS = 6
OSCILLATION_SHARE = 0.2
OVERFIT_EPOCHS = 5
#: the least growth of the train–validation gap over ``OVERFIT_EPOCHS`` that counts
OVERFIT_ACCURACY_GROWTH = 0.01
OVERFIT_LOSS_GROWTH = 0.05  # of the validation loss
#: the least train–validation accuracy gap that is called overfitting (3 points)
OVERFIT_ACCURACY_GAP = 0.03

#: the lesson that explains each kind of flag
LESSONS = {
    "vanishing": "vanishing-gradients",
    "exploding": "exploding-gradients",
    "saturated": "vanishing-gradients",
    "dead-relu": "vanishing-gradients",
    "learning-rate": "toy-2d",
    "overfitting": "overfitting",
}


@dataclass(frozen=True)
class Flag:
    """One problem: its kind, the layers it is about (none for the whole network), one sentence,
    and the lesson that explains it."""

    kind: str
    layers: tuple[str, ...]
    message: str
    lesson: str

    @property
    def layer(self) -> str | None:
        """The (first) layer the flag is about, or None for the whole network."""
        return self.layers[0] if self.layers else None


def layer_activations(spec) -> dict[str, str]:
    """{layer id: activation name} for the layers of ``spec`` that have one."""
    found = {}
    for node in spec.nodes if spec is not None else ():
        activation = getattr(node.config, "activation", None)
        if activation:
            found[node.id] = activation
    return found


def _recent(values: np.ndarray, count: int = RECENT) -> np.ndarray:
    """The mean of the last ``count`` rows, per column (NaN for a column with no figure)."""
    tail = values[-count:]
    if not len(tail):
        return np.full(values.shape[1:], np.nan)
    with warnings.catch_warnings():  # a column of NaN (a layer that cannot saturate) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(tail, axis=0)


def _name(layer_id: str, index: int, count: int) -> str:
    if index == count - 1 and count > 1:
        return f"the output layer ({layer_id})"
    return f"layer {layer_id}"


def diagnose(history, activations: dict[str, str] | None = None) -> list[Flag]:
    """The problems ``history`` (a ``MetricHistory``) shows now, most fundamental first."""
    activations = activations or {}
    flags: list[Flag] = []
    n = len(history)
    ids = list(history.layer_ids)
    if n and ids:
        metrics = history.layer_metrics
        flags += _exploding(metrics, ids)
        flags += _stuck_units(metrics, ids, activations)
        flags += _vanishing(metrics, ids)
    if n:
        flags += _learning_rate(history)
    flags += _overfitting(history)
    return flags


def _vanishing(metrics: np.ndarray, ids: list[str]) -> list[Flag]:
    """A hidden layer learning ``VANISHING_RATIO`` times slower than one after it.  Only an earlier
    layer: an early layer far *faster* than a later one is the gradient growing toward the input,
    exploding gradients' picture (N(0, 1) ReLUs), which "the early layers barely change" would
    describe backwards."""
    speeds = _recent(metrics[:, :, BIAS_GRAD])
    hidden = list(range(len(ids) - 1)) if len(ids) > 2 else list(range(len(ids)))
    finite = [i for i in hidden if np.isfinite(speeds[i]) and speeds[i] > 0]
    if len(finite) < 2:
        return []
    slow = min(finite, key=lambda i: speeds[i])
    fast = max((i for i in finite if i > slow), key=lambda i: speeds[i], default=None)
    if fast is None:
        return []
    ratio = speeds[fast] / speeds[slow]
    if ratio <= VANISHING_RATIO:
        return []
    return [
        Flag(
            "vanishing",
            (ids[slow],),
            f"Vanishing gradients: {_name(ids[slow], slow, len(ids))} learns {ratio:,.0f}× slower than "
            f"{_name(ids[fast], fast, len(ids))}, so the early layers barely change.",
            LESSONS["vanishing"],
        )
    ]


def _exploding(metrics: np.ndarray, ids: list[str]) -> list[Flag]:
    """Gradients no longer finite, or grown ``EXPLODING_GROWTH``-fold since the start: one flag
    naming every such layer."""
    grads = metrics[:, :, WEIGHT_GRAD]
    n = len(grads)
    window = max(1, min(RECENT, n // 4))
    broken, grown = [], []
    for i, layer_id in enumerate(ids):
        series = grads[:, i]
        if n and not np.isfinite(series[-1]) and np.isfinite(series).any():
            broken.append(_name(layer_id, i, len(ids)))
            continue
        if n < 2 * window:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            start = np.nanmedian(series[:window])
            now = np.nanmedian(series[-window:])
        if np.isfinite(start) and start > 0 and np.isfinite(now) and now / start >= EXPLODING_GROWTH:
            grown.append((layer_id, _name(layer_id, i, len(ids)), now / start))
    if broken:
        return [
            Flag(
                "exploding",
                tuple(layer_id for layer_id in ids if _name(layer_id, ids.index(layer_id), len(ids)) in broken),
                f"Exploding gradients: the gradient of {_and(broken)} is no longer a finite number.",
                LESSONS["exploding"],
            )
        ]
    if grown:
        parts = [f"{name} {factor:,.0f}×" for _, name, factor in grown]
        return [
            Flag(
                "exploding",
                tuple(layer_id for layer_id, _, _ in grown),
                f"Exploding gradients: the gradient has grown by orders of magnitude since the start of the run "
                f"({_and(parts)}).",
                LESSONS["exploding"],
            )
        ]
    return []


def _and(parts: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _stuck_units(metrics: np.ndarray, ids: list[str], activations: dict[str, str]) -> list[Flag]:
    """Dead ReLUs and saturated sigmoid/tanh units: one flag per kind, naming every layer past the bar."""
    shares = _recent(metrics[:, :, SATURATION])
    dead, saturated = [], []
    for i, layer_id in enumerate(ids):
        share = shares[i]
        if not np.isfinite(share) or share <= SATURATED_SHARE:
            continue
        activation = activations.get(layer_id)
        if activation == "relu":
            dead.append((i, layer_id, share))
        elif activation in ("sigmoid", "tanh"):
            saturated.append((i, layer_id, share))

    def which(found) -> str:
        parts = [f"{share:.0%} of {_name(layer_id, i, len(ids))}" for i, layer_id, share in found]
        parts[0] = parts[0].replace(" of ", " of the units of ", 1)
        return _and(parts)

    flags = []
    if dead:
        flags.append(
            Flag(
                "dead-relu",
                tuple(layer_id for _, layer_id, _ in dead),
                f"Dead ReLUs: {which(dead)} output 0 for every example over the last {RECENT} "
                "mini-batches, so they pass no gradient and never recover (a smaller learning rate or a "
                "better initialisation keeps them alive).",
                LESSONS["dead-relu"],
            )
        )
    if saturated:
        flags.append(
            Flag(
                "saturated",
                tuple(layer_id for _, layer_id, _ in saturated),
                f"Saturated units: {which(saturated)} sit where their slope is almost 0 "
                "(sigmoid or tanh far from 0), so little gradient gets through them.",
                LESSONS["saturated"],
            )
        )
    return flags


def _window_means(losses: np.ndarray) -> np.ndarray:
    n = len(losses)
    width = max(10, n // 20)
    count = n // width
    if count < 3:
        return np.empty(0)
    with np.errstate(invalid="ignore", over="ignore"):
        return losses[n - count * width :].astype(np.float64).reshape(count, width).mean(axis=1)


def _learning_rate(history) -> list[Flag]:
    losses = history.losses
    message = None
    if not np.isfinite(losses[-1]):
        message = "Learning rate too high: the loss is no longer a finite number."
    else:
        means = _window_means(losses)
        if len(means) and np.isfinite(means).all():
            lowest = means[:-1].min()
            # a rise that matters: 1.5× the lowest, and a quarter of the way back to where the run
            # started (a loss near 0 that doubles from 0.02 to 0.04 is the noise of small batches)
            fell = max(means[0] - lowest, 0.0)
            if (
                lowest > 0
                and means[-1] > RISE_FACTOR * lowest
                and means[-1] - lowest > RISE_SHARE * fell
                and means[-1] > means[-2]
            ):
                message = (
                    f"Learning rate too high: the loss has risen to {means[-1] / lowest:.1f}× the lowest it "
                    "reached; each step overshoots the minimum."
                )
    epochs = history.epochs
    if message is None and len(epochs) >= OSCILLATION_EPOCHS:
        recent = np.array([e.loss for e in epochs[-OSCILLATION_EPOCHS:]], np.float64)
        steps = np.diff(recent)
        turns = int(np.sum(np.sign(steps[1:]) * np.sign(steps[:-1]) < 0))
        swing = np.abs(steps).mean() / max(np.abs(recent).mean(), 1e-12)
        # swings that matter: large beside the loss and beside what the run has gained so far (a
        # loss near its floor that wobbles between 0.04 and 0.06 is converged, not unstable)
        gained = max(epochs[0].loss - min(e.loss for e in epochs), 0.0)
        if (
            np.isfinite(swing)
            and turns >= len(steps) - 1
            and swing > OSCILLATION_SHARE
            and np.abs(steps).mean() > OSCILLATION_SHARE * gained
        ):
            message = (
                f"Learning rate too high: the training loss goes up and down by {swing:.0%} from epoch to "
                f"epoch instead of falling."
            )
    return [] if message is None else [Flag("learning-rate", (), message, LESSONS["learning-rate"])]


def _overfitting(history) -> list[Flag]:
    epochs = history.epochs[-(OVERFIT_EPOCHS + 1) :]
    if len(epochs) < OVERFIT_EPOCHS + 1:
        return []
    accuracy = all(e.train_accuracy is not None and e.val_accuracy is not None for e in epochs)
    if accuracy:
        gaps = np.array([e.train_accuracy - e.val_accuracy for e in epochs], np.float64)
        least = OVERFIT_ACCURACY_GROWTH
    else:
        gaps = np.array([e.val_loss - e.loss for e in epochs], np.float64)
        least = OVERFIT_LOSS_GROWTH * max(abs(epochs[-1].val_loss), 1e-12)
    if not np.isfinite(gaps).all():
        return []
    growing = int(np.sum(np.diff(gaps) > 0))
    floor = OVERFIT_ACCURACY_GAP if accuracy else 0.0
    if growing < OVERFIT_EPOCHS - 1 or gaps[-1] - gaps[0] < least or gaps[-1] <= floor:
        return []
    if accuracy:
        text = (
            f"Overfitting: training accuracy is {100 * gaps[-1]:.1f} points above validation, and the gap has "
            f"grown for {growing} of the last {OVERFIT_EPOCHS} epochs: the network is memorising its "
            "training examples."
        )
    else:
        text = (
            f"Overfitting: the validation loss is {gaps[-1]:.3g} above the training loss, and the gap has grown "
            f"for {growing} of the last {OVERFIT_EPOCHS} epochs."
        )
    return [Flag("overfitting", (), text, LESSONS["overfitting"])]
