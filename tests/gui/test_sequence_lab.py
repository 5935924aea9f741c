"""The sequence lab: its views receive data while a run trains, and each view draws what it should.

Most tests drive the lab with a fake runner: a generator that yields the same events a real
sequence trainer yields (an RNN's gradient fading along time, an LSTM's holding, gates,
translations and hidden states), quickly and deterministically.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from playground.training import Finished
from playground.training.sequence_events import HiddenStates, SequenceChunk, SequenceEpoch, Translation

from .helpers import shown_labs

PAIRS = [
    ("jedna", "one"),
    ("dva", "two"),
    ("tři", "three"),
    ("dvacet jedna", "twenty-one"),
    ("sto dva", "one hundred two"),
    ("tři sta čtyřicet dva", "three hundred forty-two"),
    ("devět set devadesát", "nine hundred ninety"),
    ("sedm", "seven"),
]


def fake_spec(kind: str = "lstm", translation: bool = False):
    """Enough of a NetworkSpec for the lab: the recurrent layer's type, the batch size, state edges."""
    nodes = [SimpleNamespace(id="in", type="input"), SimpleNamespace(id="rnn", type=kind)]
    return SimpleNamespace(
        name=f"fake {kind}",
        nodes=nodes,
        state_edges=[("enc", "dec")] if translation else [],
        training=SimpleNamespace(batch_size=16, learning_rate=0.01),
    )


def fake_runner(
    kind: str = "lstm",
    epochs: int = 3,
    steps_per_epoch: int = 40,
    chunk: int = 4,
    length: int = 12,
    delay: float = 0.002,
    translation: bool = False,
    hold_after_first_epoch: bool = False,
):
    """A runner yielding realistic events: ‖∂C/∂h_t‖ decays along time fast (RNN) or slowly (LSTM).

    ``hold_after_first_epoch`` pauses the run itself after its first epoch record, so a test
    can look at every view while the worker is alive however slow the machine is."""
    decay = 0.7 if kind == "simple_rnn" else 0.03

    def run(spec, control):
        rng = np.random.default_rng(0)
        t = np.arange(length)
        step = 0
        for epoch in range(1, epochs + 1):
            for _ in range(0, steps_per_epoch, chunk):
                control.wait_while_paused()
                if control.stopped:
                    yield Finished("stopped", "training stopped", epochs_done=epoch - 1, steps_done=step)
                    return
                grads = 0.1 * np.exp(-decay * (length - 1 - t))[None] * rng.uniform(0.5, 1.5, (chunk, length))
                losses = 0.2 * np.exp(-step / 60) + rng.uniform(0, 0.01, chunk)
                gates = {}
                if kind == "lstm":
                    gates = {
                        "forget_gate": 0.8 + 0.15 * np.tanh(step / 50) + 0.01 * np.sin(t),
                        "input_gate": 0.3 - 0.1 * np.tanh(step / 50) + 0.05 * np.cos(t),
                    }
                yield SequenceChunk(epoch, step, losses, grads, clips=int(step % 10 == 0), layer_id="rnn", **gates)
                step += chunk
                time.sleep(delay)
            yield fake_epoch(epoch, step, translation)
            if hold_after_first_epoch and epoch == 1:
                control.pause()
        yield Finished("completed", "", epochs_done=epochs, steps_done=step)

    return run


def fake_epoch(epoch: int, step: int, translation: bool = True, noise: float | None = None) -> SequenceEpoch:
    record = SequenceEpoch(epoch, step, loss=0.2 / epoch, val_loss=0.25 / epoch, seconds=0.1, samples_per_s=5000.0)
    if not translation:
        return record
    right = min(len(PAIRS), 2 * epoch)
    record.translations = [Translation(s, r if i < right else f"{r} one", r) for i, (s, r) in enumerate(PAIRS)]
    record.exact_match = right / len(PAIRS)
    record.token_accuracy = min(1.0, 0.5 + 0.15 * epoch)
    record.hidden_states = fake_hidden_states(noise if noise is not None else 1.0 / epoch)
    return record


def fake_hidden_states(noise: float, phrases: int = 40, hidden: int = 16, seed: int = 3) -> HiddenStates:
    """Phrases whose states cluster by their hundreds digit (plus noise)."""
    rng = np.random.default_rng(seed)
    hundreds = np.arange(phrases) % 4
    centres = np.random.default_rng(99).normal(0, 3, (4, hidden))
    states = centres[hundreds] + noise * rng.normal(size=(phrases, hidden))
    lengths = 5 + (np.arange(phrases) * 7) % 23
    return HiddenStates(
        [f"phrase {i} ({h} hundred)" for i, h in enumerate(hundreds)],
        states,
        {"hundreds digit": hundreds, "length": lengths.astype(np.float64)},
    )


@pytest.fixture
def make_lab(qtbot):
    """Builds sequence labs and, at teardown, shuts each down: its worker must be joined."""
    from playground.gui.sequence_lab import SequenceLab

    with shown_labs(qtbot) as show:
        yield lambda runner, spec=None: show(SequenceLab(runner=runner), spec or fake_spec())


def test_every_view_receives_data_while_a_run_trains(make_lab, qtbot):
    lab = make_lab(
        fake_runner("lstm", epochs=3, delay=0.01, translation=True, hold_after_first_epoch=True),
        fake_spec("lstm", translation=True),
    )
    assert lab.train()
    # the run holds itself after epoch 1: every view is checked while the worker is alive
    qtbot.waitUntil(lambda: bool(lab.model.epochs) and len(lab.model.log_time_grads) > 0, timeout=10_000)
    qtbot.waitUntil(lambda: lab.job.control.paused, timeout=10_000)
    assert lab.running and lab.thread.isRunning()
    for view in lab.panels:
        lab.tabs.setCurrentWidget(view)
        # the lab's timer redraws the shown view within a few ticks (slower on a busy machine)
        qtbot.waitUntil(lambda v=view: v._seen == v.versions(lab.model), timeout=5_000)
        assert view._seen, f"{view.title} never drew"
    assert len(lab.model.history) > 0 and lab.loss.train_loss.xData is not None
    assert lab.gradients.heat_shape[0] > 0 and lab.gradients.heat_shape[1] == 12
    assert lab.gates.forget.yData is not None and len(lab.gates.forget.yData) == 12
    assert lab.translations.table_model.rowCount() == len(PAIRS)
    assert lab.pca.coordinates.shape == (40, 2)
    assert "paused" in lab.status.text() and "clips" in lab.status.text()
    lab.pause(False)
    qtbot.waitUntil(lambda: not lab.running, timeout=15_000)
    assert "finished" in lab.status.text()
    assert len(lab.model.epochs) == 3
    lab.tabs.setCurrentWidget(lab.translations)  # a hidden view catches up when shown
    assert lab.translations.exact_curve.yData[-1] == pytest.approx(6 / len(PAIRS))


def test_curves_paint_in_draft_quality_while_a_run_trains(make_lab, qtbot):
    """One-pixel aliased curves while training (they paint about three times faster, and the GUI
    thread's painting competes with the trainer's parts for both cores), full quality at rest."""
    lab = make_lab(fake_runner("lstm", epochs=2, delay=0.01, hold_after_first_epoch=True))
    assert lab.train()
    qtbot.waitUntil(lambda: lab.job is not None and lab.job.control.paused, timeout=10_000)
    lab.tabs.setCurrentWidget(lab.loss)
    qtbot.waitUntil(lambda: lab.loss._seen == lab.loss.versions(lab.model), timeout=5_000)
    curve = lab.loss.train_loss
    assert (curve.opts["antialias"], curve.opts["pen"].widthF()) == (False, 1.0)
    lab.pause(False)
    qtbot.waitUntil(lambda: not lab.running, timeout=15_000)
    assert (curve.opts["antialias"], curve.opts["pen"].widthF()) == (True, 2.0)


def test_the_second_run_is_compared_with_the_first(make_lab, qtbot):
    runners = {"simple_rnn": fake_runner("simple_rnn", epochs=1), "lstm": fake_runner("lstm", epochs=1)}
    lab = make_lab(lambda spec, control: runners[spec.nodes[1].type](spec, control), fake_spec("simple_rnn"))
    lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=10_000)
    lab.load(fake_spec("lstm"))
    lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=10_000)
    lab.tabs.setCurrentWidget(lab.gradients)
    assert lab.gradients.curve_names() == ["SimpleRNN · run 1", "LSTM · run 2 (now)"]
    ratios = lab.gradients.ratios
    # the RNN's gradient at t = 0 is a tiny fraction of the one at the end; the LSTM's is not
    assert ratios["SimpleRNN · run 1"] < 1e-3 < 0.3 < ratios["LSTM · run 2 (now)"]
    lab.clear_comparison()
    assert lab.gradients.curve_names() == ["LSTM · run 2 (now)"]


def test_the_heat_map_grows_with_the_training_steps(qapp):
    from playground.gui.sequences import GradientOverTimePanel, SequenceModel
    from playground.gui.sequences.gradient_time import MAX_COLUMNS
    from playground.runs.sequence_stream import SequenceStream

    stream, model, view = SequenceStream(), SequenceModel(), GradientOverTimePanel()
    seen = 0
    shapes = []
    for first, steps, length in ((0, 10, 8), (10, 15, 8), (25, 5, 11)):
        stream.append(SequenceChunk(1, first, np.ones(steps), np.full((steps, length), 0.5)))
        seen, snapshot = stream.read_since(seen)
        model.add(snapshot)
        view.refresh(model, force=True)  # forced: a live refresh waits for the view's minimum interval
        shapes.append(view.heat_shape)
    assert shapes == [(10, 8), (25, 8), (30, 11)]  # a longer sequence adds rows at the top
    assert np.isnan(view.image.image[0, 10]) and np.isfinite(view.image.image[-1, 10])
    stream.append(SequenceChunk(1, 30, np.ones(5000), np.full((5000, 11), 0.5)))
    model.add(stream.read_since(seen)[1])
    view.refresh(model, force=True)
    assert view.heat_shape[1] == 11 and view.heat_shape[0] <= MAX_COLUMNS


def test_long_runs_keep_an_even_step_axis():
    from playground.gui.sequences.model import StepRows

    rows = StepRows(max_rows=100)
    for first, size in ((0, 7), (7, 250), (257, 1), (258, 742), (1000, 3000), (4000, 7)):
        steps = np.arange(first, first + size)
        rows.append(steps, steps[:, None].astype(np.float32) * np.ones((1, 3)))
    assert 50 <= len(rows) <= 100 and rows.stride == 64
    assert np.all(np.diff(rows.steps) == rows.stride)
    # every row is the mean of the `stride` steps it stands for (its value is its steps' mean)
    assert np.allclose(rows.values[:, 0], rows.steps - (rows.stride - 1) / 2)


def test_pca_is_two_dimensional_and_keeps_its_signs():
    from playground.gui.sequences import pca_2d

    states = fake_hidden_states(0.5).states
    coords, components, explained = pca_2d(states)
    assert coords.shape == (40, 2) and components.shape == (2, 16)
    assert explained[0] >= explained[1] > 0 and explained.sum() <= 1
    # the next epoch's states differ a little: the picture moves, it does not mirror
    later = states + np.random.default_rng(5).normal(0, 0.05, states.shape)
    for previous in (components, None):
        moved, _, _ = pca_2d(later, previous)
        assert np.corrcoef(coords[:, 0], moved[:, 0])[0, 1] > 0.99
        assert np.corrcoef(coords[:, 1], moved[:, 1])[0, 1] > 0.99
    # the sign follows the components drawn before, whatever SVD returns
    flipped, flipped_components, _ = pca_2d(states, -components)
    assert np.allclose(flipped, -coords) and np.allclose(flipped_components, -components)


def test_the_pca_view_colours_by_the_chosen_property_and_names_hovered_phrases(qtbot):
    from playground.gui.sequences import HiddenStatePCAPanel, SequenceModel

    model, view = SequenceModel(), HiddenStatePCAPanel()
    qtbot.addWidget(view)
    view.resize(700, 500)
    with qtbot.waitExposed(view):
        view.show()
    hidden = fake_hidden_states(0.3)
    model.set_samples(1, [], hidden)
    view.refresh(model)
    assert [view.color_by.itemText(i) for i in range(view.color_by.count())] == ["hundreds digit", "length"]
    assert view.legend_categories == ["0", "1", "2", "3"] and view.legend.isVisible()  # categories get a legend
    brushes = {p.brush().color().name() for p in view.scatter.points()}
    assert len(brushes) == 4 and not view.color_bar.isVisible()
    view.color_by.setCurrentText("length")  # numbers get a colour map and its bar
    assert view.legend_categories == [] and not view.legend.isVisible() and view.color_bar.isVisible()
    assert len({p.brush().color().name() for p in view.scatter.points()}) > 4
    before = view.coordinates.copy()
    model.set_samples(2, [], fake_hidden_states(0.35))
    view.refresh(model)
    assert np.corrcoef(before[:, 0], view.coordinates[:, 0])[0, 1] > 0.9  # live, and not mirrored
    # hover the first point: its phrase shows next to it
    qtbot.wait(50)  # let the plot lay out its new range
    point = view.scatter.points()[0]
    scene_pos = view.scatter.mapToScene(point.pos())
    widget_pos = view.graphics.mapFromScene(scene_pos)
    qtbot.mouseMove(view.graphics.viewport(), widget_pos)
    qtbot.waitUntil(lambda: view.hover_label.isVisible(), timeout=2000)
    assert view.hover_label.textItem.toPlainText() == point.data()


def test_the_table_marks_exact_matches(qapp):
    from PySide6.QtCore import Qt

    from playground.gui.sequences import SequenceModel, TranslationsPanel

    model, view = SequenceModel(), TranslationsPanel()
    record = fake_epoch(2, 80)
    model.set_samples(record.epoch, record.translations, None)
    model.epochs.append(record)
    model.epochs_version += 1
    view.refresh(model)
    table = view.table_model
    assert table.rowCount() == len(PAIRS) and table.columnCount() == 4
    exact = [table.data(table.index(row, 0)) == "✓" for row in range(table.rowCount())]
    assert exact == [t.output == t.reference for t in record.translations] and sum(exact) == 4
    for row, is_exact in enumerate(exact):
        background = table.data(table.index(row, 2), Qt.BackgroundRole)
        assert (background is not None) == is_exact
        assert table.data(table.index(row, 1)) == PAIRS[row][0]
        assert table.data(table.index(row, 3)) == PAIRS[row][1]
    assert "4 of the 8" in view.headline._shown_text[0]
    assert list(view.exact_curve.yData) == [0.5]


def test_shutdown_stops_and_joins_a_running_worker(make_lab, qtbot):
    lab = make_lab(fake_runner("lstm", epochs=1000, delay=0.005))
    lab.train()
    qtbot.waitUntil(lambda: lab.job is not None and lab.job.progress.steps > 0, timeout=5000)
    job = lab.job
    lab.shutdown()
    assert not lab.thread.isRunning() and not lab.running
    assert job.finished.reason == "stopped"
    assert "stopped" in lab.status.text()


def test_a_failing_run_says_why_in_one_line(make_lab, qtbot):
    def broken(spec, control):
        raise ValueError("the pairs file has no tab on line 3")
        yield  # a generator, like every runner

    lab = make_lab(broken)
    lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=5000)
    assert "the pairs file has no tab on line 3" in lab.status.text()
    assert lab.train_button.isEnabled()


def encoder_decoder_spec():
    """Source tokens → embedding → LSTM encoder; target tokens → embedding → LSTM decoder → softmax,
    with the encoder's state handed to the decoder; the decoder's chain to the encoder's right."""
    from playground.model import spec_from_dict

    def node(node_id, type_id, **config):
        return {"id": node_id, "type": type_id, "version": 1, "config": config}

    nodes = [
        node("src", "input", shape=[6]),
        node("src_embed", "embedding", vocabulary=20, dimension=8),
        node("encoder", "lstm", hidden=16, return_sequences="no", forget_bias=1.0),
        node("tgt", "input", shape=[7]),
        node("tgt_embed", "embedding", vocabulary=20, dimension=8),
        node("decoder", "lstm", hidden=16, return_sequences="yes", forget_bias=1.0),
        node("out", "time_dense", units=20, activation="softmax"),
    ]
    chains = (["src", "src_embed", "encoder"], ["tgt", "tgt_embed", "decoder", "out"])
    positions = {node_id: [300.0 * c, 110.0 * r] for c, chain in enumerate(chains) for r, node_id in enumerate(chain)}
    edges = [{"from": a, "to": b} for chain in chains for a, b in zip(chain, chain[1:])]
    return spec_from_dict(
        {
            "format": "playground-network",
            "format_version": 1,
            "nodes": nodes,
            "edges": edges + [{"from": "encoder", "to": "decoder", "kind": "state"}],
            "ui": {"positions": positions},
        }
    )


def test_the_canvas_draws_the_state_connection_apart_from_the_data_edges(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    from playground.gui.editor import Document
    from playground.gui.editor.canvas import CanvasView
    from playground.gui.editor.items import STATE_EDGE, EdgeItem, StateEdgeItem

    document = Document(encoder_decoder_spec())
    canvas = CanvasView(document)
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    state = canvas.state_edge_item("encoder", "decoder")
    assert isinstance(state, StateEdgeItem) and state.scene() is canvas.scene()
    assert ("encoder", "decoder") not in canvas._edges  # not a data edge: no activation flows along it
    assert state.flags() & state.GraphicsItemFlag.ItemIsSelectable  # so Delete can remove it (test_editor_state_edges)
    encoder, decoder = canvas.node_item("encoder"), canvas.node_item("decoder")
    start, end = state.path().pointAtPercent(0), state.path().pointAtPercent(1)
    assert start.x() == pytest.approx(encoder.sceneBoundingRect().right() - 10)  # from the encoder's right side
    assert end.x() < decoder.x() and abs(end.y() - decoder.y() - 36) < 20  # to the decoder's left side
    # painted dashed, in its own colour, with its label
    image = QImage(int(state.boundingRect().width()), int(state.boundingRect().height()), QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.translate(-state.boundingRect().topLeft())
    state.paint(painter, None)
    painter.end()
    colours = {
        image.pixelColor(x, y).name()
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    }
    assert QColor(STATE_EDGE).name() in colours
    assert all(isinstance(e, EdgeItem) and not isinstance(e, StateEdgeItem) for e in canvas._edges.values())
    # it follows a moved card, and goes when the connection goes
    decoder.setPos(decoder.pos().x() + 100, decoder.pos().y())
    assert state.path().pointAtPercent(1).x() == pytest.approx(end.x() + 100)
    import dataclasses

    document.set_spec(dataclasses.replace(document.spec, state_edges=[]))
    assert state.scene() is None and not canvas._state_edges


def short_lesson(name: str, epochs: int = 1, n_samples: int = 1200, **dataset):
    """A built-in lesson cut down to a few seconds of training."""
    import dataclasses

    from playground.training.lessons import load_lesson

    spec = load_lesson(name)
    return dataclasses.replace(
        spec,
        training=dataclasses.replace(spec.training, epochs=epochs),
        dataset=dataclasses.replace(spec.dataset, n_samples=n_samples, **dataset),
    )


@pytest.mark.slow
def test_a_real_rnn_and_lstm_run_feed_the_views(make_lab, qtbot):
    """The rnn-vs-lstm lesson with the real trainer: one Train trains both networks in turn,
    each a run of its own whose profile and costs overlay, and the SimpleRNN's gradient fades
    along time far faster than the LSTM's; either network can still be trained alone."""
    from playground.gui.sequence_lab import default_runner

    lab = make_lab(default_runner, short_lesson("rnn-vs-lstm", epochs=2, n_samples=12000))
    choices = [lab.variant.itemText(i) for i in range(lab.variant.count())]
    assert choices == ["LSTM then SimpleRNN", "LSTM", "SimpleRNN"]
    assert lab.variant.isVisibleTo(lab) and lab.compares()
    lab.tabs.setCurrentWidget(lab.gates)
    lab.train()
    qtbot.waitUntil(lambda: lab.gates.forget.yData is not None and len(lab.gates.forget.yData) == 50, timeout=60_000)
    assert lab.running  # seen while it trains
    lab.tabs.setCurrentWidget(lab.gradients)
    qtbot.waitUntil(lambda: not lab.running, timeout=120_000)
    assert "finished" in lab.status.text() and "validation MSE" in lab.status.text(), lab.status.text()
    assert "SimpleRNN · run 2" in lab.status.text()
    lab.redraw(force=True)
    assert lab.gradients.heat_shape[1] == 50 and lab.gradients.heat_shape[0] > 10
    ratios = lab.gradients.ratios
    assert lab.gradients.curve_names() == ["LSTM · run 1", "SimpleRNN · run 2 (now)"]
    assert "LSTM · run 1" in lab.gradients.kept_label.text()
    assert ratios["SimpleRNN · run 2 (now)"] < 0.01 * ratios["LSTM · run 1"]
    lab.tabs.setCurrentWidget(lab.loss)
    lab.redraw(force=True)
    assert lab.loss.curve_names() == ["LSTM · run 1"]  # overlaid on this run's (the SimpleRNN's)
    assert lab.loss.val_loss.yData is not None and len(lab.loss.val_loss.yData) == 2
    # one network alone
    lab.variant.setCurrentText("SimpleRNN")
    assert not lab.compares()
    lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=60_000)
    lab.tabs.setCurrentWidget(lab.gradients)
    lab.redraw(force=True)
    assert lab.gradients.curve_names() == ["LSTM · run 1", "SimpleRNN · run 2", "SimpleRNN · run 3 (now)"]


def test_the_table_shows_whole_sentences(qtbot):
    """No "…": long sources, outputs and references wrap within their cells, every word shown."""
    from PySide6.QtCore import QRect, Qt

    from playground.gui.sequences import SequenceModel, TranslationsPanel
    from playground.training.sequence_events import Translation

    long_source = "devět set devadesát devět tisíc devět set devadesát devět"
    long_target = "nine hundred ninety-nine thousand nine hundred ninety-nine"
    rows = [
        Translation(long_source, long_target, long_target),
        Translation("tři sta čtyřicet dva", "three hundred forty-two", "three hundred forty-two"),
        Translation(long_source, "nine hundred ninety-nine thousand nine hundred", long_target),
    ]
    model, view = SequenceModel(), TranslationsPanel()
    qtbot.addWidget(view)
    view.resize(560, 600)
    view.show()
    model.set_samples(1, rows, None)
    view.refresh(model, force=True)
    qtbot.wait(50)
    table = view.table
    assert table.textElideMode() == Qt.ElideNone and table.wordWrap()
    metrics = table.fontMetrics()
    for row in range(len(rows)):
        for column in (1, 2, 3):
            index = view.table_model.index(row, column)
            text = view.table_model.data(index)
            rect = table.visualRect(index)
            needed = metrics.boundingRect(QRect(0, 0, rect.width() - 8, 10_000), Qt.TextWordWrap, text)
            assert needed.height() <= rect.height(), (row, column, text)
    assert table.rowHeight(0) > table.rowHeight(1)  # the long sentences wrapped onto more lines


def test_many_runs_keep_a_bounded_comparison_and_never_widen_the_lab(make_lab, qtbot):
    """25 runs, as a learner restarting translate-numbers might: once the label of compared runs
    widened the window from 1,280 to 4,071 px and every run stayed in memory."""
    from playground.gui.sequences.model import MAX_KEPT_RUNS

    lab = make_lab(fake_runner("lstm", epochs=1, steps_per_epoch=8, delay=0.0))
    lab.tabs.setCurrentWidget(lab.gradients)
    width = lab.width()
    for _ in range(25):
        assert lab.train()
        qtbot.waitUntil(lambda: not lab.running, timeout=10_000)
        lab.redraw(force=True)
        qtbot.wait(1)
    assert lab.runs_started == 25
    assert lab.width() == width and lab.gradients.kept_label.width() <= width
    assert len(lab.model.kept) == MAX_KEPT_RUNS
    names = lab.gradients.curve_names()
    assert len(names) == MAX_KEPT_RUNS + 1 and names[-1].endswith("run 25 (now)")
    assert [kept.name for kept in lab.model.kept] == [f"LSTM · run {n}" for n in range(21, 25)]
    assert len(lab.gradients.legend.items) == MAX_KEPT_RUNS + 1  # the dropped runs' entries went too
    label = lab.gradients.kept_label
    assert label.full_text().startswith("Compared with: LSTM · run 21") and label.toolTip() == label.full_text()


def test_a_comparison_after_many_runs_keeps_both_of_its_networks(make_lab, qtbot):
    """A comparison's runner announces each network with a RunStarted: the lab starts a run per
    network, and however many runs went before, both networks of the last comparison are shown."""
    from playground.gui.sequences.model import MAX_KEPT_RUNS
    from playground.training.protocol import RunStarted

    single = fake_runner("lstm", epochs=1, steps_per_epoch=8, delay=0.0)
    pair = {"lstm": fake_runner("lstm", epochs=1, delay=0.0), "simple_rnn": fake_runner("simple_rnn", epochs=1)}

    def runner(spec, control, compare=False):
        if not compare:
            yield from single(spec, control)
            return
        for label in ("lstm", "simple_rnn"):
            yield RunStarted(label)
            yield from (e for e in pair[label](spec, control) if not isinstance(e, Finished))
        yield Finished("completed", "", epochs_done=1, steps_done=40)

    lab = make_lab(runner, fake_spec("lstm"))
    lab.variant.addItem("LSTM then SimpleRNN", "both")  # what a lesson with a comparison offers
    for _ in range(MAX_KEPT_RUNS + 1):
        assert lab.train()
        qtbot.waitUntil(lambda: not lab.running, timeout=10_000)
    lab.variant.setCurrentText("LSTM then SimpleRNN")
    assert lab.compares() and lab.train()
    qtbot.waitUntil(lambda: not lab.running, timeout=10_000)
    lab.tabs.setCurrentWidget(lab.gradients)
    lab.redraw(force=True)
    names = lab.gradients.curve_names()
    assert len(lab.model.kept) == MAX_KEPT_RUNS
    assert names[-2:] == ["LSTM · run 6", "SimpleRNN · run 7 (now)"]
    ratios = lab.gradients.ratios
    assert ratios["SimpleRNN · run 7 (now)"] < 1e-3 < 0.3 < ratios["LSTM · run 6"]
    lab.tabs.setCurrentWidget(lab.loss)
    lab.redraw(force=True)
    assert lab.loss.curve_names()[-1] == "LSTM · run 6"


def test_one_exploding_mini_batch_does_not_hide_a_vanishing_profile(qapp):
    """The latest profile averages the last mini-batches in logs: a SimpleRNN whose gradient
    clipping fires now and then (one batch with a large ‖∂C/∂h₀‖) still reads as vanishing, as the
    median over its steps does; an arithmetic mean read 0.32 for a run whose median was 1e-4."""
    from playground.gui.sequences import SequenceModel
    from playground.gui.sequences.gradient_time import decay_ratio
    from playground.runs.sequence_stream import SequenceStream

    vanishing = np.logspace(-6, 0, 50)  # ‖∂C/∂h_t‖ from t = 0 to the last step
    norms = np.tile(vanishing, (20, 1))
    norms[7, :5] = 0.5  # one exploding mini-batch reaches the first steps
    stream, model = SequenceStream(), SequenceModel()
    stream.append(SequenceChunk(1, 0, np.ones(20), norms))
    model.add(stream.read_since(0)[1])
    ratio = decay_ratio(model.latest_profile())
    assert ratio < 1e-4
    assert ratio == pytest.approx(np.exp(np.log(norms[:, 0]).mean()) / vanishing[-1])


def test_the_timeline_takes_every_view_back_to_a_recorded_step(make_lab, qtbot):
    """During a run and after it, dragging the timeline back shows that moment: the cost and the
    gradient over time up to the step, the gates then, the translations of the epochs done."""
    lab = make_lab(
        fake_runner("lstm", epochs=3, steps_per_epoch=80, delay=0.03, translation=True, hold_after_first_epoch=True),
        fake_spec("lstm", translation=True),
    )
    assert lab.timeline.isVisibleTo(lab) and not lab.timeline.isEnabled()  # nothing recorded yet
    assert lab.train()
    qtbot.waitUntil(lambda: lab.running and lab.job.control.paused, timeout=10_000)
    qtbot.waitUntil(lambda: lab.timeline.last_step == lab.model.last_step >= 79, timeout=5_000)
    assert lab.timeline.isEnabled() and lab.timeline.live
    during = next(step for step in lab.snapshots.steps if 0 <= step < lab.timeline.last_step)
    lab.timeline.choose(during)
    assert lab.shown_model().last_step == during and lab.model.last_step >= 79  # the live run is untouched
    lab.pause(False)
    qtbot.waitUntil(lambda: not lab.running, timeout=15_000)
    assert not lab.timeline.live and lab.shown_model().last_step == during  # the moment stays on show

    last = lab.model.last_step
    assert last == 239 and lab.timeline.last_step == last and len(lab.snapshots) >= 5
    chosen = min(lab.snapshots.steps, key=lambda step: abs(step - 120))  # in epoch 2: one epoch done
    assert 80 <= chosen < 160
    lab.timeline.choose(chosen)
    shown = lab.shown_model()
    assert f"step {chosen + 1:,} of {last + 1:,}" == lab.timeline.label.text()
    assert shown.last_step == chosen and [record.epoch for record in shown.epochs] == [1]
    lab.tabs.setCurrentWidget(lab.loss)
    x, _ = lab.loss.train_loss.getData()
    assert x[-1] <= chosen + 1
    lab.tabs.setCurrentWidget(lab.gradients)
    assert lab.gradients.heat_shape == (chosen + 1, 12)  # one column per mini-batch up to the step
    lab.tabs.setCurrentWidget(lab.gates)
    gate_step, forget, _ = shown.gates
    assert gate_step <= chosen and gate_step < lab.model.gates[0]
    np.testing.assert_allclose(lab.gates.forget.yData, forget)
    lab.tabs.setCurrentWidget(lab.translations)
    assert len(lab.translations.exact_curve.yData) == 1  # epoch 1's score, not the last epoch's
    assert lab.translations.exact_curve.yData[-1] == pytest.approx(2 / len(PAIRS))

    lab.timeline.go_live()
    assert lab.shown_model() is lab.model and lab.timeline.label.text().endswith("(live)")
    assert len(lab.translations.exact_curve.yData) == 3
    lab.tabs.setCurrentWidget(lab.gradients)
    assert lab.gradients.heat_shape == (240, 12)
    lab.train()  # a new run starts the timeline again
    assert lab.timeline.live and len(lab.snapshots) <= 1
