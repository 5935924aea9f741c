"""Hidden-state PCA: the encoder's final state for each probe phrase, projected to 2D.

The encoder has to squeeze a whole phrase into one vector for the decoder; as it learns,
phrases that mean similar things end up near each other (the lecture's figure of
phrases clustered by meaning).  The two principal components of the states are the
plane that shows most of their spread.  Colour the points by a property of the phrase
(the hundreds digit, the length...) to see which one the state encodes; hover a point to
read its phrase.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel

from ..dashboard.common import CLASS_COLORS, Panel, RangeKeeper, set_title
from .model import SequenceModel

#: a numeric property with at most this many distinct whole values is shown as categories
MAX_CATEGORIES = len(CLASS_COLORS)
COLOR_MAP = "viridis"
#: distinct colours a continuous property is drawn in (more are not told apart by eye)
COLOR_LEVELS = 64


def pca_2d(states: np.ndarray, previous: np.ndarray | None = None):
    """Project ``states`` (n, hidden) on their two principal components.

    Returns (coordinates (n, 2), components (2, hidden), explained variance ratios (2,)).
    A principal direction has no sign of its own (SVD may return −v as well as v), so each
    is flipped to agree with ``previous`` (the components drawn last epoch) when given, else
    so that its largest loading is positive: from one epoch to the next the cloud moves,
    it does not mirror.
    """
    x = np.asarray(states, np.float64)
    centred = x - x.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = np.zeros((2, x.shape[1]))
    count = min(2, len(vt))
    components[:count] = vt[:count]
    for k in range(count):
        if previous is not None and previous.shape == components.shape and previous[k] @ components[k] != 0:
            sign = np.sign(previous[k] @ components[k])
        else:
            sign = np.sign(components[k][np.argmax(np.abs(components[k]))]) or 1.0
        components[k] *= sign
    total = float((singular**2).sum())
    explained = np.zeros(2)
    if total > 0:
        explained[:count] = singular[:count] ** 2 / total
    return centred @ components.T, components, explained


def is_categorical(values: np.ndarray) -> bool:
    """Text, booleans and a few whole numbers are categories; other numbers get a colour map."""
    values = np.asarray(values)
    if values.dtype.kind in "OUSb":
        return True
    whole = np.all(np.isfinite(values)) and np.all(np.equal(np.mod(values, 1), 0))
    return bool(whole and len(np.unique(values)) <= MAX_CATEGORIES)


class HiddenStatePCAPanel(Panel):
    title = "Hidden-state PCA"

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Colour by:"))
        self.color_by = QComboBox()
        self.color_by.setMinimumWidth(160)
        self.color_by.currentIndexChanged.connect(self._colour_changed)
        controls.addWidget(self.color_by)
        controls.addStretch(1)
        self.layout_.addLayout(controls)
        self.headline = self.add_headline(colspan=2)
        self.plot = self.graphics.addPlot(row=1, col=0)
        self.plot.setLabel("bottom", "principal component 1")
        self.plot.setLabel("left", "principal component 2")
        # the categories' key: one rich-text label, not a LegendItem, whose entries (a label and a
        # sample item each) took 30-50 ms to build on the GUI thread at the first PCA, mid-run
        self.legend = pg.LabelItem("", size="9pt", color="#111827", justify="left")
        self.legend.setParentItem(self.plot.vb)
        self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-10, 10))
        self.legend_categories: list[str] = []
        self.scatter = pg.ScatterPlotItem(
            size=10,
            pen=pg.mkPen("#FFFFFF", width=0.8),
            hoverable=True,
            hoverSize=14,
            hoverPen=pg.mkPen("#111827", width=1.5),
            tip=lambda x, y, data: data,
        )
        self.scatter.sigHovered.connect(self._hovered)
        self.plot.addItem(self.scatter)
        self.hover_label = pg.TextItem(
            "", color="#111827", fill=pg.mkBrush(255, 255, 255, 230), border=pg.mkPen("#94A3B8"), anchor=(0, 1)
        )
        self.hover_label.setZValue(10)
        self.hover_label.hide()
        self.plot.addItem(self.hover_label, ignoreBounds=True)
        self.color_bar = pg.ColorBarItem(values=(0, 1), colorMap=COLOR_MAP, interactive=False, width=14)
        self.graphics.addItem(self.color_bar, row=1, col=1)
        self.color_bar.hide()
        self.ranges = RangeKeeper(self.plot, x_mode="fit")
        self.layout_.addWidget(self.graphics, 1)
        self._model: SequenceModel | None = None
        self._legend_key: tuple = ((), ())
        self.components: np.ndarray | None = None
        self.coordinates = np.zeros((0, 2))
        self._projected_version = None
        self.explained = np.zeros(2)

    def versions(self, model: SequenceModel) -> tuple:
        return (model.samples_version,)

    def _colour_changed(self) -> None:
        if self._model is not None:
            self.refresh(self._model, force=True)

    def _hovered(self, item, points, event) -> None:
        if len(points):
            self.hover_label.setText(str(points[0].data()))
            self.hover_label.setPos(points[0].pos())
            self.hover_label.show()
        else:
            self.hover_label.hide()

    def draw(self, model: SequenceModel) -> None:
        self._model = model
        hidden = model.hidden_states
        if hidden is None or len(hidden.phrases) == 0:
            self.scatter.clear()
            self._set_properties([])
            self._show_legend([], [])
            self.color_bar.hide()
            self.say(
                "The encoder's final states of held-out phrases appear here after each epoch "
                "(for an encoder-decoder run)."
            )
            return
        if self._projected_version != model.samples_version:
            self._projected_version = model.samples_version
            self.coordinates, self.components, self.explained = pca_2d(hidden.states, self.components)
        self._set_properties(list(hidden.properties))
        x, y = self.coordinates[:, 0], self.coordinates[:, 1]
        brushes = self._colour(hidden.properties.get(self.color_by.currentText()))
        self.scatter.setData(x=x, y=y, data=list(hidden.phrases), brush=brushes)
        self.ranges.update(float(x.max()), float(y.min()), float(y.max()), x_min=float(x.min()))
        set_title(self.plot, f"{len(hidden.phrases)} held-out phrases, epoch {model.samples_epoch}")
        self.say(
            f"The two principal components show <b>{100 * self.explained.sum():.0f}%</b> of the spread of "
            f"the encoder's final states (PC1 {100 * self.explained[0]:.0f}%, PC2 {100 * self.explained[1]:.0f}%)."
            " Hover a point to read its phrase."
        )

    def _set_properties(self, names: list[str]) -> None:
        if [self.color_by.itemText(i) for i in range(self.color_by.count())] == names:
            return
        current = self.color_by.currentText()
        self.color_by.blockSignals(True)
        self.color_by.clear()
        self.color_by.addItems(names)
        if current in names:
            self.color_by.setCurrentText(current)
        self.color_by.blockSignals(False)
        self.color_by.setEnabled(bool(names))

    def _colour(self, values) -> list:
        n = len(self.coordinates)
        if values is None or len(values) != n:
            self._show_legend([], [])
            self.color_bar.hide()
            return [pg.mkBrush(CLASS_COLORS[1])] * n
        values = np.asarray(values)
        if is_categorical(values):
            if values.dtype.kind == "f":  # whole numbers stored as floats: label them "3", not "3.0"
                values = values.astype(np.int64)
            categories = list(dict.fromkeys(sorted(values.tolist())))
            colours = {c: CLASS_COLORS[i % len(CLASS_COLORS)] for i, c in enumerate(categories)}
            self._show_legend(categories, [colours[c] for c in categories])
            self.color_bar.hide()
            # one brush per category, shared by its points: a brush per point made the
            # redraw of 1,000 phrases cost tens of milliseconds on the GUI thread
            brushes = {c: pg.mkBrush(colour) for c, colour in colours.items()}
            return [brushes[v] for v in values.tolist()]
        self._show_legend([], [])
        numbers = values.astype(np.float64)
        low, high = float(np.nanmin(numbers)), float(np.nanmax(numbers))
        scale = (numbers - low) / (high - low) if high > low else np.zeros(n)
        self.color_bar.setLevels((low, high))
        self.color_bar.show()
        # the colour map in COLOR_LEVELS shared brushes, for the same reason as above
        palette = [
            pg.mkBrush(c) for c in pg.colormap.get(COLOR_MAP).map(np.linspace(0.0, 1.0, COLOR_LEVELS), mode="qcolor")
        ]
        return [palette[k] for k in np.rint(scale * (COLOR_LEVELS - 1)).astype(np.int64).tolist()]

    def _show_legend(self, categories: list, colours: list) -> None:
        key = (tuple(categories), tuple(colours))
        if self._legend_key == key:
            return
        self._legend_key = key
        self.legend_categories = [category_label(c) for c in categories]
        self.legend.setText(
            "<br>".join(
                f"<span style='color:{pg.mkColor(colour).name()}; font-size:12pt'>●</span> {name}"
                for name, colour in zip(self.legend_categories, colours)
            )
        )
        self.legend.setVisible(bool(categories))


def category_label(value) -> str:
    """A category as a reader writes it: the digit 3, not 3.0 (properties arrive as floats)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
