"""The Backprop tab and "Explain this number": stepping through a whole backward pass shows the
engine's gradients, the gradient check beside it agrees to 1e-6, a double-click on the canvas
explains a unit or a weight with the engine's numbers, and the panel runs on fake data alone."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from playground.gui.dashboard import Dashboard
from playground.gui.dashboard.preview import fake_model
from playground.gui.explain import ExplainPopup
from playground.model import build_network
from playground.training.backprop import number, sub, sup
from playground.training.lessons import load_lesson


def engine_numbers(model) -> dict[str, float]:
    """Every z, a, δ and gradient of the model's network on its first training example, by symbol,
    from the engine's layer-by-layer path (``Network.loss_and_gradients``) in float64: the other
    of the engine's two paths, not the one the view reads."""
    spec, dataset = model.network_spec, model.dataset
    network = build_network(spec, np.float64)
    network.load_state(model.weights)
    x = dataset.x_train[:1].astype(np.float64)
    target = np.eye(dataset.n_outputs)[dataset.y_train[:1]]
    network.loss_and_gradients(x, target)
    numbers = {}
    for index, layer in enumerate(network.trainable, start=1):
        for j in range(layer.config.units):
            numbers[f"z{sub(j)}{sup(index)}"] = layer.z[0, j]
            numbers[f"a{sub(j)}{sup(index)}"] = layer.a[0, j]
            numbers[f"δ{sub(j)}{sup(index)}"] = numbers[f"b{sub(j)}{sup(index)}"] = layer.grads["bias"][j]
            for k in range(layer.n_in):
                numbers[f"w{sub(j, k)}{sup(index)}"] = layer.grads["weight"][j, k]
    return numbers


def shown_lines(panel) -> list[str]:
    """The formula lines the explanation label shows (its text after the title line)."""
    return panel.explanation.text().split("<br>")[1:]


def symbol_and_value(line: str) -> tuple[str, float]:
    """("w₁₂²", −0.04516) of "∂C/∂w₁₂² = a₂¹ · δ₁² = … = −0.04516": the left side and the last number."""
    left = line.split(" = ")[0].removeprefix("∂C/∂")
    return left, float(line.rsplit("= ", 1)[1].replace("−", "-"))


def table_rows(panel) -> dict[str, tuple[float, float, float]]:
    table = panel.table

    def cell(r, c):
        return float(table.item(r, c).text().replace("−", "-"))

    return {table.item(r, 0).text(): (cell(r, 1), cell(r, 2), cell(r, 3)) for r in range(table.rowCount())}


def test_stepping_through_one_backward_pass_shows_the_engines_gradients(qtbot, make_window):
    window = make_window(load_lesson("backprop"))
    board = window.dashboard
    panel = board.backprop
    assert board.currentWidget() is panel  # the lesson opens on its view
    board.refresh(force=True)
    engine = engine_numbers(window.model)
    gradients = {name: value for name, value in engine.items() if name[0] in "wb"}
    assert len(gradients) == 17

    # the gradient check: every parameter, its backprop gradient the engine's, agreeing to 1e-6
    rows = table_rows(panel)
    assert set(rows) == set(gradients)
    for name, (backprop, numerical, relative) in rows.items():
        assert backprop == pytest.approx(gradients[name], rel=1e-6)
        assert numerical == pytest.approx(gradients[name], rel=1e-6)
        assert relative <= 1e-6

    # step with the → key through the forward pass and the whole backward pass
    panel.setFocus()
    shown = {}
    kinds = []
    while panel.next_button.isEnabled():
        qtbot.keyClick(panel, Qt.Key_Right)
        step = panel.current_step()
        kinds.append(step.kind)
        lines = shown_lines(panel)
        assert lines == [quantity.formula for quantity in step.quantities]
        for line, quantity in zip(lines, step.quantities):
            symbol, value = symbol_and_value(line)
            assert quantity.value == pytest.approx(engine[symbol], rel=1e-10, abs=1e-15), line
            assert value == pytest.approx(engine[symbol], rel=6e-4), line  # printed to 4 digits
            shown[symbol] = value
        if step.kind in ("BP3", "BP4"):  # the table shades the rows of the gradients on screen
            shaded = {
                panel.table.item(r, 0).text()
                for r in range(panel.table.rowCount())
                if panel.table.item(r, 0).background().color().name() != "#ffffff"
            }
            assert shaded == {symbol_and_value(line)[0] for line in lines}
    assert kinds == ["forward", "forward", "cost", "BP1", "BP3", "BP4", "BP2", "BP3", "BP4"]
    assert set(gradients) <= set(shown)  # every gradient was displayed
    assert panel.step_label.text() == "step 9 of 9"
    qtbot.keyClick(panel, Qt.Key_Left)
    assert panel.current_step().kind == "BP3" and panel.next_button.isEnabled()
    panel.back_button.click()
    assert panel.current_step().kind == "BP2"


def test_the_view_follows_the_newest_weights(qtbot):
    model = fake_model("backprop")
    board = Dashboard(model)
    qtbot.addWidget(board)
    board.resize(1000, 700)
    board.show()
    board.show_panel("backprop")
    panel = board.backprop
    board.refresh(force=True)
    for _ in range(5):
        panel.next()
    before = panel.explainer.cost
    model.set_weights({key: 2 * value for key, value in model.weights.items()})
    board.refresh(force=True)
    assert panel.explainer.cost != pytest.approx(before)
    assert panel.explainer.cost == pytest.approx(engine_cost(model))
    assert panel.position == 5  # still at the same step, now with the new numbers


def engine_cost(model) -> float:
    network = build_network(model.network_spec, np.float64)
    network.load_state(model.weights)
    target = np.eye(model.dataset.n_outputs)[model.dataset.y_train[:1]]
    cost, _ = network.loss_and_gradients(model.dataset.x_train[:1].astype(np.float64), target)
    return cost


def test_the_panel_runs_on_its_own_with_fake_data(qtbot):
    board = Dashboard(fake_model("backprop"))
    qtbot.addWidget(board)
    board.resize(1000, 700)
    board.show()
    assert board.isTabVisible(board.indexOf(board.backprop))
    board.show_panel("backprop")
    board.refresh(force=True)
    panel = board.backprop
    assert panel.table.rowCount() == 17 and len(panel.steps) == 9
    assert "first training example" in panel.headline.text()
    assert panel.step_label.text() == "step 0 of 9" and not panel.back_button.isEnabled()
    panel.grab()  # paints the overview and every step without error
    for _ in range(9):
        panel.next_button.click()
        panel.grab()
    assert not panel.next_button.isEnabled()
    # without data it says where the example comes from
    empty = fake_model("backprop")
    empty.set_dataset(None)
    panel.refresh(empty, force=True)
    assert "press Train or Step" in panel.headline.text() and panel.table.rowCount() == 0
    # networks too big to draw get no tab
    wide = Dashboard(fake_model("mnist"))
    qtbot.addWidget(wide)
    assert not wide.isTabVisible(wide.indexOf(wide.backprop))


def centre(view, item) -> QPointF:
    return QPointF(view.mapFromScene(item.sceneBoundingRect().center()))


def newest_popup(window) -> ExplainPopup:
    popups = window.findChildren(ExplainPopup)
    assert popups
    return popups[-1]


def test_explain_this_number_on_the_canvas(qtbot, make_window):
    window = make_window(load_lesson("backprop"))
    canvas = window.canvas
    engine = engine_numbers(window.model)

    # a double-click on a layer's card: each unit's z, a, δ and ∂C/∂b with their formulas
    qtbot.mouseDClick(canvas.viewport(), Qt.LeftButton, pos=centre(canvas, canvas.node_item("hidden")).toPoint())
    popup = newest_popup(window)
    assert not popup.weights and "hidden" in popup.windowTitle()
    for j in range(3):
        popup.unit.setValue(j + 1)
        quantities = popup.quantities()
        assert [q.kind for q in quantities] == ["z", "a", "delta", "bias_grad"]
        symbols = [f"z{sub(j)}¹", f"a{sub(j)}¹", f"δ{sub(j)}¹", f"b{sub(j)}¹"]
        for quantity, symbol in zip(quantities, symbols):
            assert quantity.value == pytest.approx(engine[symbol], rel=1e-10, abs=1e-15)
            assert quantity.formula in popup.formulas.text()
            assert popup.formulas.text().count(f"= {number(engine[symbol])}") >= 1

    # a double-click on the connection into the output layer: one weight's numbers
    edge = canvas.edge_item("hidden", "out")
    point = QPointF(canvas.mapFromScene(edge.path().pointAtPercent(0.5)))
    qtbot.mouseDClick(canvas.viewport(), Qt.LeftButton, pos=point.toPoint())
    popup = newest_popup(window)
    assert popup.weights
    popup.unit.setValue(2)
    popup.source.setValue(3)
    gradient = popup.quantities()[-1]
    assert gradient.kind == "weight_grad" and gradient.value == pytest.approx(engine["w₂₃²"], rel=1e-10)
    assert "∂C/∂w₂₃² = a₃¹ · δ₂² = " in popup.formulas.text()
    assert f"w₂₃² = {number(window.model.weights['out.weight'][1, 2])}" in popup.formulas.text()

    # the right-click menu offers it too
    menu = canvas.context_menu(centre(canvas, canvas.node_item("out")))
    explain = next(action for action in menu.actions() if action.objectName() == "explain")
    count = len(window.findChildren(ExplainPopup))
    explain.trigger()
    assert len(window.findChildren(ExplainPopup)) == count + 1 and "out" in newest_popup(window).windowTitle()

    # the input layer has nothing to explain but the example: one line says so
    assert window.explain_number("in") is None
    assert "is the input" in window.statusBar().currentMessage()


def test_explain_says_in_one_line_where_it_cannot(qtbot, make_window):
    window = make_window(load_lesson("cnn-mnist"))
    assert window.explain_number("conv1") is None
    assert window.statusBar().currentMessage().startswith("Explain this number works on networks of Dense layers")
    window = make_window(load_lesson("vanishing-gradients"))  # MNIST: loaded when training starts
    assert window.explain_number("fc1") is None
    assert "press Train or Step once" in window.statusBar().currentMessage()
    assert not window.findChildren(ExplainPopup)
