"""Every lesson, in the window: trained at its own pace for a few seconds, the view it names
receives the data that shows its effect.

``EFFECTS`` below is the table: one entry per lesson of the curriculum, saying what the lesson's
view must have drawn (and, where the full data would take minutes, how little data to use).
A lesson in ``playground/lessons/curriculum.json`` without an entry FAILS this test: whoever
adds a lesson adds its entry here, with a check that can fail when the effect is missing.

Each check reads the panel the learner looks at (the dashboard's tab the lesson names, or the
sequence or RBM lab's tab), after the window's own timer drew it; it raises AssertionError
until the effect is on screen, and the test waits for it within ``Effect.timeout`` seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from playground.model.settings import with_overrides
from playground.training.lessons import curriculum, load_lesson


@dataclass(frozen=True)
class Effect:
    """What one lesson must show, and how small a run shows it."""

    #: raises AssertionError until the lesson's view shows its effect (gets the main window)
    check: Callable
    #: fewer training examples (MNIST lessons) or generated sequences, so a few seconds show it
    train_limit: int | None = None
    n_samples: int | None = None
    #: the lesson's own action that shows its effect: "train", "compare" (the DBN's comparison), or
    #: "open" (the lesson measures as it opens: parallelisation)
    action: str = "train"
    #: seconds the effect may take to appear at the lesson's pace (a cold numba cache compiles first)
    timeout: float = 60.0


def data(curve) -> np.ndarray:
    """The y values a plot item draws (empty before it drew any)."""
    y = curve.getData()[1]
    return np.zeros(0) if y is None else np.asarray(y)


def dashboard_panel(window, name: str):
    """The dashboard's panel ``name``, which must be the one on show, drawn by the window's timer."""
    panel = window.dashboard.panel_named(name)
    assert window.dashboard.currentWidget() is panel, f"the window shows {window.dashboard.current_panel().title}"
    return panel


def lab_view(lab, view):
    """``view`` of a lab, brought on show (the lab's timer draws only the tab on show)."""
    if lab.tabs.currentWidget() is not view:
        lab.tabs.setCurrentWidget(view)
    return view


# --- the checks ------------------------------------------------------------------------------
def backward_pass(window) -> None:
    """backprop: the worked backward pass of the newest weights, with its gradient check."""
    panel = dashboard_panel(window, "backprop")
    assert len(window.model.history) > 0 and panel.table.rowCount() > 0
    assert len(panel.steps) > 0 and panel.check_rows


def decision_boundary(window) -> None:
    panel = dashboard_panel(window, "data")
    assert panel.mode == "boundary" and panel.image.image is not None
    outputs = np.asarray(panel.last_outputs)
    assert len(window.model.history) >= 100 and outputs.std() > 0.05  # the boundary has taken shape


def fitted_function(window) -> None:
    panel = dashboard_panel(window, "data")
    assert panel.mode == "fit" and len(data(panel.curve)) > 10
    assert data(panel.curve).std() > 0.1  # the network's curve has bent towards the target


def falling_cost(window) -> None:
    panel = dashboard_panel(window, "loss")
    cost = data(panel.train_loss)
    assert len(cost) >= 20 and cost[-1] < cost[0]


def training_and_validation(window) -> None:
    """Overfitting: the training and the validation curves, side by side, over several epochs."""
    panel = dashboard_panel(window, "loss")
    assert len(data(panel.train_loss)) >= 20 and len(data(panel.val_loss)) >= 3
    assert len(data(panel.train_accuracy)) >= 20 and len(data(panel.val_accuracy)) >= 3


def layers_apart(first: str, last: str, factor: float, at_every_step: bool = True) -> Callable:
    """Vanishing gradients: the gradient panel's per-layer series (log y) keeps ``last`` at least
    ``factor`` times faster than ``first`` at every point it draws (or, with fewer layers between
    them, at the start of the run, where the gap is widest)."""

    def check(window) -> None:
        panel = dashboard_panel(window, "gradients")
        log_slow, log_fast = data(panel._curves[first]), data(panel._curves[last])
        assert len(log_slow) >= 20 and len(log_slow) == len(log_fast)
        gap = 10.0 ** (log_fast - log_slow)
        assert np.all(gap >= factor) if at_every_step else gap[0] >= factor, (float(gap.min()), float(gap[0]))
        assert panel.ratio is not None and panel.ratio > 1 and "slower" in panel.headline.text

    return check


def filters_and_cost(window) -> None:
    falling_cost(window)
    panel = window.dashboard.filters
    window.dashboard.show_panel("filters")
    window.dashboard.refresh(force=True)
    assert panel.blocks["conv1"].image.image is not None and panel.blocks["conv1"].image.image.size > 0


def both_gradient_profiles(window) -> None:
    """rnn-vs-lstm: the LSTM's and the SimpleRNN's gradient-over-time profiles, overlaid."""
    lab = window.sequence_lab
    view = lab_view(lab, lab.gradients)
    names = view.curve_names()
    assert len(names) == 2 and names[0].startswith("LSTM") and names[1].startswith("SimpleRNN"), names
    ratios = view.ratios
    assert ratios[names[1]] < 1e-3 and ratios[names[1]] < ratios[names[0]]  # the RNN's gradient vanishes


def gradient_over_time(window) -> None:
    lab = window.sequence_lab
    view = lab_view(lab, lab.gradients)
    assert view.heat_shape[0] >= 10 and view.heat_shape[1] >= 5
    assert view.ratios and view.curve_names()


def translations(window) -> None:
    """translate-numbers: the held-out numbers' translations and their exact-match score."""
    lab = window.sequence_lab
    view = lab_view(lab, lab.translations)
    assert view.table_model.rowCount() > 0 and len(data(view.exact_curve)) >= 1


def rbm_filters(window) -> None:
    lab = window.rbm_lab
    view = lab_view(lab, lab.filters)
    assert view.mosaic is not None and np.isfinite(view.mosaic).any()
    assert lab.model.pretrain_epochs  # at least one epoch's validation figures
    assert len(data(lab_view(lab, lab.curves).curve("error", 0))) >= 10


def pretrained_and_random(window) -> None:
    """dbn-mnist: the fine-tuning curves of the pretrained stack and of random weights, overlaid."""
    lab = window.rbm_lab
    view = lab_view(lab, lab.loss)
    names = view.curve_names()
    assert any(name.startswith("pretrained") for name in names), names
    assert any(name.startswith("random weights") for name in names), names
    assert len(lab.model.runs[0].history.epochs) >= 1 and len(lab.model.history.epochs) >= 1


def code_of_several_classes(window) -> None:
    """deep-autoencoder: the 2D code of validation digits, a cloud per class."""
    lab = window.rbm_lab
    view = lab_view(lab, lab.autoencoder)
    classes = [label for label, item in view._classes.items() if len(data(item)) > 0]
    assert len(classes) >= 5 and len(view.code) >= 100 and np.isfinite(view.code).all()
    assert np.ptp(view.code, axis=0).min() > 0


def neuron_follows_training(window) -> None:
    """sigmoid-neuron: the Neuron tab's w₁, w₂, b are the training network's, moving step by step."""
    panel = dashboard_panel(window, "neuron")
    weights = window.model.weights
    trained = (*np.ravel(weights["neuron.weight"]), float(np.ravel(weights["neuron.bias"])[0]))
    assert len(window.model.history) >= 20 and panel.sigmoid_map is not None
    assert np.allclose(panel.neuron.parameters, trained, atol=1e-6), (panel.neuron.parameters, trained)


def bumps_sum_to_the_output(window) -> None:
    """universal-approximation-bumps: the pairs' bumps and their sum against the target, with its error."""
    panel = dashboard_panel(window, "bumps")
    assert len(window.model.history) >= 20 and panel.error is not None and np.isfinite(panel.error)
    assert len(data(panel.sum_curve)) > 10 and data(panel.sum_curve).std() > 0.01


def variants_overlaid(count: int) -> Callable:
    """A comparing lesson: ``count`` of its variants' curves under Compare, each by its label."""

    def check(window) -> None:
        panel = dashboard_panel(window, "compare")
        labels = [variant["label"] for variant in window.document.spec.lesson["compare"]]
        kept = [run.name for run in window.model.runs]
        assert sum(label in kept for label in labels) >= count - 1, kept  # the earlier ones kept, one training
        assert len(panel.curves) >= count - 1 and all(len(data(curve)) > 0 for curve in panel.curves)

    return check


def descent_pictures(window) -> None:
    """gradient-descent: the loss surfaces with the optimiser's paths, the gradient's noise per batch
    size (the full batch's at 0°), and the runs against examples seen."""
    panel = dashboard_panel(window, "descent")
    assert panel.scenes and len(panel.noise) >= 2
    angles = [noise.mean_angle for noise in panel.noise]
    assert angles[0] > angles[-1] and angles[-1] < 1.0, angles
    assert len(panel.runs_drawn) >= 1


def factors_above_one(window) -> None:
    """exploding-gradients: with N(0, 1) weights every factor f′(z)·w of the chain is above 1."""
    panel = dashboard_panel(window, "chain")
    assert panel.links and len(window.model.history) >= 1
    factors = [link.factor for link in panel.links if link.factor is not None]
    assert factors and all(factor > 1 for factor in factors), factors


def three_rates(window) -> None:
    """hyper-parameters: the training cost of the first rate falling on the Loss tab (the three rates
    then overlay under Compare as each finishes)."""
    falling_cost(window)
    assert len(window.document.spec.lesson["compare"]) == 3 and window.dashboard_lab._variant is not None


def parallel_figures(window) -> None:
    """parallelisation: one step on one core and on all, N variants one after another and side by side."""
    panel = dashboard_panel(window, "parallel")
    assert panel.figures is not None and panel.figures.done, panel.figures


#: one entry per lesson of the curriculum; a lesson without one fails (see the module's docstring)
EFFECTS: dict[str, Effect] = {
    "sigmoid-neuron": Effect(neuron_follows_training),
    "learning-slowdown": Effect(variants_overlaid(2)),
    "backprop": Effect(backward_pass),
    "gradient-descent": Effect(descent_pictures, train_limit=500),
    "weight-initialization": Effect(variants_overlaid(2), train_limit=300),
    "universal-approximation-bumps": Effect(bumps_sum_to_the_output),
    "toy-2d": Effect(decision_boundary),
    "universal-approximation": Effect(fitted_function),
    "parity-shallow": Effect(falling_cost),
    "parity": Effect(falling_cost),
    "overfitting": Effect(training_and_validation),
    "overfitting-l2": Effect(training_and_validation),
    "overfitting-dropout": Effect(training_and_validation),
    "overfitting-augmented": Effect(training_and_validation),
    "vanishing-gradients": Effect(layers_apart("fc1", "fc4", 30)),
    "vanishing-gradients-3": Effect(layers_apart("fc1", "fc3", 4)),
    "vanishing-gradients-2": Effect(layers_apart("fc1", "fc2", 3, at_every_step=False)),
    "exploding-gradients": Effect(factors_above_one, train_limit=300),
    "fc-mnist": Effect(falling_cost, train_limit=2000),
    "cnn-mnist": Effect(filters_and_cost, train_limit=2000),
    # 400 steps per network: the LSTM has learned to carry the error back by then
    "rnn-vs-lstm": Effect(both_gradient_profiles, n_samples=4000, timeout=90.0),
    "copy-reverse": Effect(gradient_over_time, n_samples=400),
    "translate-numbers": Effect(translations, n_samples=1000),
    "rbm-mnist": Effect(rbm_filters, train_limit=400),
    "dbn-mnist": Effect(pretrained_and_random, train_limit=400, action="compare"),
    "deep-autoencoder": Effect(code_of_several_classes, train_limit=400),
    "hyper-parameters": Effect(three_rates, train_limit=1000),
    "parallelisation": Effect(parallel_figures, train_limit=1000, action="open", timeout=120.0),
}

CURRICULUM = [name for chapter in curriculum() for name in chapter.lessons]


def small(name: str, effect: Effect):
    """The lesson as its file has it, with the data cut to the entry's size."""
    spec = load_lesson(name)
    if effect.train_limit is not None:
        spec.training = with_overrides(spec.training, train_limit=effect.train_limit)
    if effect.n_samples is not None:
        spec = dataclasses.replace(spec, dataset=dataclasses.replace(spec.dataset, n_samples=effect.n_samples))
    return spec


@pytest.mark.parametrize("name", CURRICULUM)
def test_the_lesson_s_view_shows_its_effect_at_its_own_pace(name, qtbot, make_window, mnist_dir):
    effect = EFFECTS.get(name)
    if effect is None:
        pytest.fail(f"the lesson {name} has no entry in EFFECTS (tests/gui/test_lesson_effects.py): add one")
    window = make_window(small(name, effect), data_dir=mnist_dir)
    assert window.document.spec.name == name
    lab = window.current_lab()
    assert lab.pace == window.pace_box.pace()  # the lesson's own pace, applied on loading
    panel = window.document.spec.lesson["panel"]
    if window.active_lab() is not None:  # a lab opens on its tab for the lesson's panel
        assert lab.current_view() is lab.lesson_views()[panel]
    if effect.action == "compare":
        assert lab.compare_button.isEnabled()
        lab.compare_button.click()
    elif effect.action == "train":
        window.train()
    if effect.action != "open":
        qtbot.waitUntil(lambda: window.state != "idle", timeout=5000)
    try:
        qtbot.waitUntil(lambda: effect.check(window) is None, timeout=int(effect.timeout * 1000))
    except qtbot.TimeoutError:
        effect.check(window)  # says what is missing
        raise
