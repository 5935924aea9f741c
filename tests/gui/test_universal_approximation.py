"""universal-approximation: what the window shows agrees with the lesson's text and the README.

The lesson's default run, trained headless, then drawn by the dashboard's Fit panel exactly as
the window draws it: the headline's RMS error is under the 0.05 the README states, the targets
are the function's (no points piled on 0 and 1), and the plot's range shows every target.
"""

from __future__ import annotations

import re

import numpy as np

from playground.gui.dashboard import DashboardModel
from playground.gui.dashboard.data import DataPanel
from playground.model import build_network
from playground.training import FeedForwardTrainer
from playground.training.data import load_training_data
from playground.training.lessons import load_lesson


def test_the_fit_panel_shows_the_figure_the_lesson_and_readme_state(qtbot):
    spec = load_lesson("universal-approximation")
    dataset, note = load_training_data(spec.dataset, seed=spec.training.seed)
    assert note is None
    network = build_network(spec)
    network.initialize(spec.training.initializer, spec.training.seed)
    for _ in FeedForwardTrainer(network, dataset, spec.training).run():
        pass

    model = DashboardModel()
    model.set_network(spec, network.copy_state())
    model.set_dataset(dataset)
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    panel.refresh(model, force=True)
    assert panel.mode == "fit"
    rms = float(re.search(r"<b>([0-9.]+)</b>", panel.headline.text).group(1))
    assert rms < 0.05  # the README's figure, as the window prints it
    # the same figure against the function itself (not only its sampled points)
    x = np.linspace(-1, 1, 400, dtype=np.float32)[:, None]
    target = 0.5 + 0.4 * np.sin(np.pi * x[:, 0])
    assert np.sqrt(np.mean((network.predict(x)[:, 0] - target) ** 2)) < 0.05
    # the targets are the function's: nothing clipped onto 0 or 1
    y = dataset.y_train[:, 0]
    assert y.min() > 0.05 and y.max() < 0.95
    # every target point inside the plot's range
    (x0, x1), (y0, y1) = panel.plot.viewRange()
    assert x0 <= dataset.x_train.min() and dataset.x_train.max() <= x1
    assert y0 <= y.min() and y.max() <= y1
    assert y1 - y0 < 2 * (y.max() - y.min())  # fitted to the data, not a range the curve once had
