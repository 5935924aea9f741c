"""The RBM lab: its views receive data while a real (small) run trains on MNIST, each draws
what it should, and its failures are one line.

The runs are the real ``RBMTrainer`` on a few hundred MNIST images from the shared test
set, with one or two short epochs, so the whole file stays within seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from playground.model.settings import with_overrides
from playground.training.lessons import load_lesson
from playground.training.rbm_trainer import PretrainEpoch

from .helpers import shown_labs


def small(name: str, train_limit: int = 400, pretrain_epochs: int = 1, fine_tune_epochs: int = 1):
    spec = load_lesson(name)
    spec.training = with_overrides(spec.training, train_limit=train_limit, epochs=fine_tune_epochs)
    spec.pretraining = with_overrides(spec.pretraining, epochs=pretrain_epochs, monitor_examples=200)
    return spec


def pausing_after_first_epoch(inner):
    """The lab's runner, pausing the run after its first RBM epoch: views are checked while it is alive."""

    def run(spec, control):
        for event in inner(spec, control):
            yield event
            if isinstance(event, PretrainEpoch) and event.epoch == 1 and event.layer_index == 0:
                control.pause()

    return run


@pytest.fixture
def make_lab(qtbot, mnist_dir):
    """Builds RBM labs reading the shared MNIST; at teardown each is shut down and its worker joined."""
    from playground.gui.rbm_lab import RBMLab
    from playground.runs.data import DataStore

    with shown_labs(qtbot) as show:
        yield lambda spec, data_dir=mnist_dir: show(RBMLab(data=DataStore(data_dir)), spec)


def test_every_view_receives_data_while_an_rbm_trains(make_lab, qtbot):
    lab = make_lab(small("rbm-mnist", pretrain_epochs=2))
    lab.runner = pausing_after_first_epoch(lab.stack_runner)
    assert lab.train()
    qtbot.waitUntil(lambda: bool(lab.model.pretrain_epochs) and lab.model.snapshot is not None, timeout=30_000)
    assert lab.running and lab.thread.isRunning()
    for view in (lab.curves, lab.reconstructions, lab.filters, lab.completion, lab.samples):
        lab.tabs.setCurrentWidget(view)
        qtbot.waitUntil(lambda view=view: view._seen == view.versions(lab.model), timeout=5_000)  # drew the newest
    # the energy curves: the per-batch error, one validation point, which RBM is training
    assert len(lab.curves.curve("error", 0).xData) > 0
    assert len(lab.curves.curve("energy", 0, symbols=True).yData) == 1
    assert "RBM <b>1</b> of 1" in lab.curves.stage.text()
    # reconstructions of ten digits, and a 10 × 10 grid of 28 × 28 filters
    assert lab.reconstructions.reconstructions.shape == (10, 784)
    assert lab.filters.mosaic.shape == (10 * 29 - 1, 10 * 29 - 1)
    assert "paused" in lab.status.text()
    # the samples tab advances its chains on the timer while shown
    first = lab.samples.steps_done
    qtbot.waitUntil(lambda: lab.samples.steps_done >= first + 4, timeout=5_000)
    assert lab.samples.means.shape == (20, 784)
    lab.pause(False)
    qtbot.waitUntil(lambda: not lab.running, timeout=30_000)
    assert "finished" in lab.status.text()
    assert [r.epoch for r in lab.model.pretrain_epochs] == [1, 2]
    after = lab.samples.steps_done  # the chains keep advancing after the run while their tab is shown
    qtbot.waitUntil(lambda: lab.samples.steps_done >= after + 4, timeout=5_000)


def test_incomplete_data_shows_original_masked_completed_and_errors(make_lab, qtbot):
    from playground.gui.rbm.completion import COUNT

    lab = make_lab(small("rbm-mnist", train_limit=1000))
    lab.pretrain()
    qtbot.waitUntil(lambda: not lab.running, timeout=30_000)
    lab.tabs.setCurrentWidget(lab.completion)
    view = lab.completion
    view.kind.setCurrentText("bottom half")
    assert view.refresh(lab.model, force=True)
    width = COUNT * 29 - 1
    for block in (view.original, view.masked, view.completed):
        assert block.image.image.shape == (28, width)
    masked = view.masked.image.image
    assert np.all(masked[14:, :28] == 0.5) and not np.all(masked[:14, :28] == 0.5)
    rbm_error, mean_error = view.errors
    assert np.isfinite(rbm_error) and np.isfinite(mean_error)
    assert "RBM" in view.headline.text and f"{mean_error:.4f}" in view.headline.text
    # a painted region hides exactly what was painted
    view.kind.setCurrentText("painted region")
    assert view.pad.isEnabled()
    view.pad.draw_line((4.0, 4.0), (20.0, 4.0))
    view.refresh(lab.model, force=True)
    hidden = view.masked.image.image[:, :28] == 0.5
    assert 0 < hidden.sum() < 200 and hidden[4, 10] and not hidden[20, 10]


@pytest.mark.parametrize("kind, hidden_rows", [("top half", slice(0, 14)), ("bottom half", slice(14, 28))])
def test_half_masks_hide_the_named_half(kind, hidden_rows):
    from playground.gui.rbm.completion import HIDE_KINDS, hidden_mask

    mask = hidden_mask(kind, (28, 28))
    assert mask[hidden_rows].all() and mask.sum() == 28 * 14
    assert hidden_mask("left half", (28, 28))[:, :14].all() and hidden_mask("square", (28, 28)).sum() == 14 * 14
    random_share = hidden_mask("random pixels", (28, 28)).mean()
    assert 0.5 < random_share < 0.7
    assert not hidden_mask("painted region", (28, 28)).any()
    assert set(HIDE_KINDS) >= {"top half", "square", "random pixels", "painted region"}
    with pytest.raises(ValueError, match="unknown way"):
        hidden_mask("diagonal", (28, 28))


def test_autoencoder_code_has_one_point_per_example(make_lab, qtbot):
    lab = make_lab(small("deep-autoencoder", train_limit=300))
    assert lab.tabs.isTabVisible(lab.tabs.indexOf(lab.autoencoder))
    lab.tabs.setCurrentWidget(lab.autoencoder)
    assert lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=60_000)
    assert "finished" in lab.status.text()
    snapshot = lab.model.snapshot
    assert snapshot.fine_tune == "autoencoder" and snapshot.network_state is not None
    view = lab.autoencoder
    view.refresh(lab.model, force=True)
    examples = lab.model.examples
    assert view.code.shape == (len(examples.images), 2)
    points = sum(len(item.xData) for item in view._classes.values())
    assert points == len(examples.images)
    assert sorted(view._classes) == [str(label) for label in range(10)]  # a legend entry per digit
    assert [label.text for _, label in view.legend.items] == [str(label) for label in range(10)]
    assert lab.stack_runner.stack.rbms[-1].linear_hidden  # the code layer has linear units
    assert view.plot.getViewBox().state["aspectLocked"]  # a square plot: one unit as long on both axes
    assert len(lab.model.history.epochs) == 1  # the fine-tuning cost reached the loss panel's model


def test_dbn_fine_tunes_after_pretraining_and_shows_accuracy(make_lab, qtbot):
    lab = make_lab(small("dbn-mnist", train_limit=300))
    assert lab.tabs.isTabVisible(lab.tabs.indexOf(lab.loss))
    assert not lab.tabs.isTabVisible(lab.tabs.indexOf(lab.autoencoder))
    assert lab.pretrain()
    qtbot.waitUntil(lambda: not lab.running, timeout=60_000)
    assert {r.layer_id for r in lab.model.pretrain_epochs} == {"rbm1", "rbm2"}
    pretrained = lab.stack_runner.stack.rbms[0].params["weight"].copy()
    lab.tabs.setCurrentWidget(lab.loss)
    assert "pretraining first" in lab.loss.headline_text()  # not "Press Train", with a run just done
    assert lab.fine_tune()
    qtbot.waitUntil(lambda: not lab.running, timeout=60_000)
    assert lab.model.pretrain_epochs == []  # a fine-tuning run has no pretraining figures
    epochs = lab.model.history.epochs
    assert len(epochs) == 1 and 0.0 <= epochs[0].val_accuracy <= 1.0
    assert lab.loss.val_accuracy.yData is not None and len(lab.loss.val_accuracy.yData) == 1
    assert not np.array_equal(pretrained, lab.stack_runner.stack.rbms[0].params["weight"])  # tuned in place


def test_one_action_compares_pretrained_with_random_weights(make_lab, qtbot):
    """Compare with random weights: pretrain + fine-tune, then fine-tune a fresh stack; the
    Fine-tuning tab overlays both runs' cost and accuracy, each named in the legend."""
    lab = make_lab(small("dbn-mnist", train_limit=300, fine_tune_epochs=2))
    assert lab.compare_button.isVisibleTo(lab) and lab.compare_button.isEnabled()
    pretrained_state = {}
    replace_stack = lab.stack_runner.from_random_weights

    def remember_the_pretrained_stack():
        pretrained_state.update(lab.stack_runner.stack.state())
        replace_stack()

    lab.stack_runner.from_random_weights = remember_the_pretrained_stack
    assert lab.compare_with_random()
    assert lab.current_view() is lab.loss
    qtbot.waitUntil(lambda: lab.model.run_name.startswith("random weights") and not lab.running, timeout=120_000)
    assert "finished" in lab.status.text()
    assert [run.name for run in lab.model.runs] == ["pretrained · run 1"]
    assert lab.model.run_name == "random weights · run 2"
    lab.redraw(force=True)
    names = lab.loss.curve_names()
    assert names == [
        "random weights · run 2: training",
        "random weights · run 2: validation",
        "pretrained · run 1: training",
        "pretrained · run 1: validation",
    ]
    assert lab.loss.curve_names(lab.loss.accuracy_plot)[-1] == "pretrained · run 1: validation"
    pretrained, random = lab.model.runs[0].history.epochs, lab.model.history.epochs
    assert len(pretrained) == len(random) == 2
    assert all(0.0 <= e.val_accuracy <= 1.0 for e in pretrained + random)
    assert lab.model.pretrain_epochs == []  # the random run pretrained nothing
    assert "compared with pretrained · run 1: validation accuracy" in lab.loss.headline_text()
    # Save keeps the lesson's own network, the pretrained one, and the status line says so
    saved = lab.trained_state()
    assert pretrained_state and set(saved) == set(pretrained_state)
    for key, value in pretrained_state.items():
        np.testing.assert_array_equal(saved[key], value, err_msg=key)
    random_rbm = lab.model.snapshot.rbms[0]  # what the random run ended with
    assert not np.array_equal(random_rbm.params["weight"], saved[f"{random_rbm.id}.weight"])
    assert "Save keeps the pretrained network" in lab.status.text()


def test_the_status_line_says_the_run_ended_not_training(make_lab, qtbot):
    lab = make_lab(small("rbm-mnist"))
    assert lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=60_000)
    text = lab.status.text()
    assert text.endswith("finished") and "training" not in text
    assert "pretrain + fine-tune · run 1" in text and "pretrain epoch 1/1" in text


def test_ratings_tab_trains_the_collaborative_filtering_example(make_lab, qtbot):
    lab = make_lab(small("rbm-mnist"))
    lab.ratings.train_button.click()
    assert lab.current_view() is lab.ratings
    qtbot.waitUntil(lambda: not lab.running, timeout=60_000)
    records = lab.model.ratings_epochs
    assert len(records) == records[-1].epochs
    assert records[-1].heldout_rmse < records[-1].item_mean_rmse
    assert len(lab.ratings.heldout.yData) == len(records) and "beats" in lab.ratings.headline.text


def test_a_failure_is_one_line_in_the_status(make_lab, qtbot, tmp_path):
    lab = make_lab(small("rbm-mnist"), data_dir=tmp_path / "no-mnist-here")
    assert lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=10_000)
    text = lab.status.text()
    assert "no-mnist-here" in text or "mnist" in text.lower()
    assert "Traceback" not in text and "\n" not in text

    def broken(spec, control):
        raise RuntimeError("the kernel fell over")
        yield

    lab.runner = broken
    assert lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=10_000)
    assert "internal error: RuntimeError: the kernel fell over" in lab.status.text()
    assert "\n" not in lab.status.text()


def test_shutdown_joins_a_running_worker(make_lab, qtbot):
    lab = make_lab(small("rbm-mnist", train_limit=2000, pretrain_epochs=50))
    assert lab.train()
    qtbot.waitUntil(lambda: lab.job is not None and lab.job.progress.steps > 0, timeout=30_000)
    lab.shutdown()
    assert not lab.thread.isRunning() and not lab.running
    assert "stopped" in lab.status.text()


def test_the_timeline_takes_the_rbm_views_back_to_a_recorded_step(make_lab, qtbot):
    """After pretraining and fine-tuning, the timeline counts both phases' steps; dragging back
    to the end of the first RBM epoch shows that epoch's curves and the filters as they were then."""
    lab = make_lab(small("dbn-mnist", train_limit=400, pretrain_epochs=2))
    lab.runner = pausing_after_first_epoch(lab.stack_runner)
    assert lab.train()
    # the weights at the first epoch's end reach the lab before the run goes on (a busy GUI
    # thread may skip some of the snapshots the worker offers; this one it cannot)
    # (steps[-1:]: the pause may be seen before the snapshot's event is handled; wait for both)
    qtbot.waitUntil(lambda: lab.state == "paused" and lab.snapshots.steps[-1:] == [19], timeout=60_000)
    lab.pause(False)
    qtbot.waitUntil(lambda: not lab.running, timeout=60_000)
    model = lab.model
    steps_per_epoch = 400 // 20
    pretraining = 2 * 2 * steps_per_epoch  # two RBMs, two epochs each
    assert model.pretrain_steps == pretraining and model.last_step == pretraining + steps_per_epoch - 1
    assert lab.timeline.last_step == model.last_step
    first_epoch_end = steps_per_epoch - 1
    assert first_epoch_end in lab.snapshots.steps
    lab.timeline.choose(first_epoch_end)
    shown = lab.shown_model()
    assert shown.pretrain_history.last_step == first_epoch_end and len(shown.history) == 0
    assert [(r.layer_id, r.epoch) for r in shown.pretrain_epochs] == [("rbm1", 1)]
    lab.tabs.setCurrentWidget(lab.curves)
    assert len(lab.curves.curve("energy", 0, symbols=True).yData) == 1
    lab.tabs.setCurrentWidget(lab.filters)
    then = shown.first_rbm.params["weight"]
    assert not np.array_equal(then, model.first_rbm.params["weight"])
    expected = lab.filters.mosaic
    lab.timeline.go_live()
    assert not np.allclose(expected, lab.filters.mosaic, equal_nan=True)
    # a step of fine-tuning shows its cost curve up to that step
    # (the first one recorded: a busy GUI thread may skip snapshots, and the nearest before a
    # skipped step could still be one of pretraining)
    fine_step = next(step for step in lab.snapshots.steps if step >= pretraining)
    lab.timeline.choose(fine_step)
    shown = lab.shown_model()
    snapshot_step = lab.snapshots.at(fine_step)[0]
    assert shown.last_step == snapshot_step and shown.snapshot.step == snapshot_step
    assert shown.pretrain_steps == pretraining
