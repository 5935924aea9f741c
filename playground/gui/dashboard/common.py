"""What every dashboard panel shares: the model it reads, downsampling, layer names, colours.

Panels never hold the training network: they read a ``DashboardModel`` that the window
fills on its timer (metric history, the latest weights, the spec those weights belong
to, the loaded dataset, earlier runs).  Each panel remembers the versions it has drawn
and redraws only what changed, and only while it is visible.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from ...datasets.catalog import names_of_kind
from ...model import NetworkFileError, build_network
from ...model.project import MetricHistory
from ..colors import layer_colors

pg.setConfigOptions(background="w", foreground="#333333", antialias=True)  # the window drafts while training

#: most points a curve is drawn with; longer histories are averaged into buckets
MAX_POINTS = 600
#: most layers a per-layer plot draws, spread from the first to the last: past a few dozen curves a
#: plot is unreadable, and every curve, bar and legend entry costs the window time on each redraw
#: (a 1,000-layer network once took minutes to open, most of it adding legend entries)
MAX_PLOTTED_LAYERS = 32
CLASS_COLORS = (
    "#F59322",
    "#0877BD",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#E69F00",
    "#7F7F7F",
    "#8C564B",
    "#000000",
)


@dataclass
class RunRecord:
    """An earlier run kept for comparison: its name, colour and (downsampled) history."""

    name: str
    color: QColor
    history: MetricHistory
    layer_names: dict[str, str] = field(default_factory=dict)
    visible: bool = True
    #: the live history this copies, while it is still the current run's (its curve is then drawn
    #: once, in its colour, not again as the current run)
    source: MetricHistory | None = field(default=None, compare=False, repr=False)


#: versions of replayed moments: never one the live model has
_REPLAY_VERSIONS = itertools.count(-1, -1)


def replay_version() -> int:
    """A version for a replayed moment (negative, never one a live model has), so every view
    redraws for it, and again when the live model is shown."""
    return next(_REPLAY_VERSIONS)


class DashboardModel:
    """Everything the panels draw; written by the window on the GUI thread only."""

    def __init__(self):
        self.history = MetricHistory()
        self.history_version = 0
        self.weights: dict[str, np.ndarray] | None = None
        self.weights_version = 0
        self.network_spec = None  # the spec the weights belong to
        self.context_version = 0
        self.colors: dict[str, QColor] = {}
        self.dataset = None  # a loaded Dataset, when the data panels can use it
        self.dataset_version = 0
        self.runs: list[RunRecord] = []
        self.runs_version = 0
        self.augmentation = None  # the document's AugmentationSettings (edited while idle)
        self.augmentation_version = 0

    # --- writers --------------------------------------------------------------------------
    def set_network(self, spec, weights=None) -> None:
        self.network_spec = spec
        self.context_version += 1
        if weights is not None:
            self.set_weights(weights)

    def set_colors(self, colors: dict[str, QColor]) -> None:
        if {k: QColor(v).name() for k, v in colors.items()} == {k: v.name() for k, v in self.colors.items()}:
            return
        self.colors = {k: QColor(v) for k, v in colors.items()}
        self.context_version += 1

    def set_weights(self, weights) -> None:
        self.weights = weights
        self.weights_version += 1

    def set_history(self, history: MetricHistory) -> None:
        self.history = history
        self.history_version += 1

    def history_changed(self) -> None:
        self.history_version += 1

    def set_dataset(self, dataset) -> None:
        if dataset is not self.dataset:
            self.dataset = dataset
            self.dataset_version += 1

    def runs_changed(self) -> None:
        self.runs_version += 1

    def set_augmentation(self, settings) -> None:
        if settings != self.augmentation:
            self.augmentation = settings
            self.augmentation_version += 1

    def replay(self, step: int, weights) -> DashboardModel:
        """What the panels draw of the moment after ``step``: a copy of this model with the history
        up to that step and ``weights``.  Its versions are new (negative, unlike the live ones), so
        every panel redraws for it, and again when the live model is shown."""
        other = copy.copy(self)
        other.history = self.history.up_to(step)
        other.weights = weights
        other.history_version = other.weights_version = replay_version()
        return other

    # --- readers --------------------------------------------------------------------------
    @property
    def last_step(self) -> int:
        """The run's last recorded step, where the timeline ends (-1: none yet)."""
        return self.history.last_step

    def color(self, layer_id: str, index: int = 0) -> QColor:
        color = self.colors.get(layer_id)
        if color is None:
            ids = self.history.layer_ids or [layer_id]
            color = layer_colors(ids).get(layer_id) or layer_colors([layer_id] * (index + 1))[layer_id]
        return QColor(color)

    def layer_ids(self) -> list[str]:
        """The layers with parameters: from the history, else from the weights (before training)."""
        if self.history.layer_ids:
            return list(self.history.layer_ids)
        return list(dict.fromkeys(key.partition(".")[0] for key in self.weights or {}))

    def layer_names(self, layer_ids: list[str] | None = None) -> dict[str, str]:
        return describe_layers(layer_ids if layer_ids is not None else self.history.layer_ids)

    def image_shape(self) -> tuple[int, int] | None:
        """(height, width) of one input example when the input is an image, else None."""
        spec = self.network_spec
        if spec is None:
            return None
        shape = None
        for node in spec.nodes:
            if node.type == "input":
                shape = tuple(node.config.shape)
        if shape is None:
            return None
        if len(shape) == 3 and shape[0] == 1:
            return shape[1], shape[2]
        if len(shape) == 2:
            return shape
        size = int(np.prod(shape))
        side = int(round(math.sqrt(size)))
        if side * side == size and side >= 8 and spec.dataset.name in names_of_kind("image"):
            return side, side
        return None


def plotted(layers: Sequence) -> list:
    """The layers (ids or indices) a per-layer plot draws: all of them, or MAX_PLOTTED_LAYERS
    evenly spread, the first and the last always among them (where depth shows most)."""
    count = len(layers)
    if count <= MAX_PLOTTED_LAYERS:
        return list(layers)
    picks = sorted({round(k * (count - 1) / (MAX_PLOTTED_LAYERS - 1)) for k in range(MAX_PLOTTED_LAYERS)})
    return [layers[i] for i in picks]


def plotted_note(shown: int, count: int) -> str:
    """What a plot's title adds when it draws only some of the layers."""
    return f" ({shown} of {count:,} layers, evenly spread)" if shown < count else ""


def describe_layers(layer_ids: list[str]) -> dict[str, str]:
    """Plain names for the layers that have parameters, in feed-forward order."""
    names = {}
    n = len(layer_ids)
    for index, layer_id in enumerate(layer_ids):
        if index == n - 1 and n > 1:
            what = "the output layer"
        elif index == 0:
            what = "the first hidden layer" if n > 2 else ("the hidden layer" if n == 2 else "the only layer")
        elif index == n - 2:
            what = "the last hidden layer"
        else:
            what = f"hidden layer {index + 1}"
        names[layer_id] = f"{what} ({layer_id})"
    return names


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Average consecutive points into at most ``max_points`` buckets (bucket x = its last x)."""
    n = len(x)
    if n <= max_points:
        return np.asarray(x, np.float64), np.asarray(y, np.float64)
    k = math.ceil(n / max_points)
    m = (n // k) * k
    xs = x[k - 1 : m : k].astype(np.float64)
    with np.errstate(invalid="ignore"):
        ys = y[:m].reshape(-1, k, *y.shape[1:]).mean(axis=1, dtype=np.float64)
    if m < n:
        xs = np.append(xs, float(x[-1]))
        with np.errstate(invalid="ignore"):
            ys = np.concatenate([ys, y[m:].mean(axis=0, dtype=np.float64)[None]])
    return xs, ys


def smooth(y: np.ndarray, span: float) -> np.ndarray:
    """Exponential moving average with the given span (in points), without start-up bias.

    A convolution with the exponential weights (cut where they fall below 1%), each point
    divided by the weights it actually has: C speed, no scipy import at start-up.
    """
    y = np.asarray(y, np.float64)
    if len(y) < 2 or span <= 1:
        return y
    finite = np.isfinite(y)
    if not finite.all():
        if not finite.any():
            return y
        y = np.where(finite, y, np.interp(np.arange(len(y)), np.flatnonzero(finite), y[finite]))
    alpha = 2.0 / (span + 1.0)
    length = min(len(y), int(np.ceil(np.log(0.01) / np.log(1.0 - alpha))) + 1)
    weights = alpha * (1.0 - alpha) ** np.arange(length)
    total = np.convolve(y, weights)[: len(y)]
    norm = np.convolve(np.ones(len(y)), weights)[: len(y)]
    return total / norm


class RangeKeeper:
    """Axis ranges that change in steps, not on every update.

    pyqtgraph regenerates an axis (ticks, labels: Python work on the GUI thread) whenever
    its range moves; a live curve that grows by a few points per redraw would move it
    every time.  Here the x range grows by half again when the data reaches its end, and
    the y range only changes when the data leaves it or fills less than a third of it.
    """

    def __init__(
        self, plot, log_y: bool = False, y_floor: float | None = None, manage_x: bool = True, x_mode: str = "grow"
    ):
        self.plot = plot
        self.manage_x = manage_x
        self.x_mode = x_mode  # "grow": a time axis from x_min; "fit": like y, with hysteresis
        self.log_y = log_y
        self.y_floor = y_floor
        self.x_range: tuple[float, float] | None = None
        self.y_range: tuple[float, float] | None = None
        plot.disableAutoRange()

    def reset(self) -> None:
        self.x_range = self.y_range = None

    def update(self, x_max: float, y_min: float, y_max: float, x_min: float = 0.0) -> None:
        if not (np.isfinite(x_max) and np.isfinite(y_min) and np.isfinite(y_max)):
            return
        if self.log_y:
            y_min, y_max = np.log10(max(y_min, 1e-30)), np.log10(max(y_max, 1e-30))
        elif self.y_floor is not None:
            y_min = min(y_min, self.y_floor)
        x_range = self.x_range
        if not self.manage_x:
            pass
        elif self.x_mode == "fit":
            span = max(x_max - x_min, 1e-9)
            if x_range is None or x_min < x_range[0] or x_max > x_range[1] or span < 0.5 * (x_range[1] - x_range[0]):
                self.x_range = (x_min - 0.08 * span, x_max + 0.08 * span)
                self.plot.setXRange(*self.x_range, padding=0)
        elif (
            x_range is None
            or x_max > x_range[1]
            or x_max < x_range[0] + 0.3 * (x_range[1] - x_range[0])
            or x_min < x_range[0]
        ):
            span = max(x_max - x_min, 1.0)
            self.x_range = (x_min, x_min + 1.5 * span)
            self.plot.setXRange(*self.x_range, padding=0)
        y_range = self.y_range
        span = max(y_max - y_min, 1e-9 if not self.log_y else 0.05)
        if y_range is None or y_min < y_range[0] or y_max > y_range[1] or span < 0.33 * (y_range[1] - y_range[0]):
            pad = 0.15 * span
            low = y_min - pad if self.y_floor is None or self.log_y else max(self.y_floor, y_min - pad)
            self.y_range = (low, y_max + pad)
            self.plot.setYRange(*self.y_range, padding=0)


def recent_mean(values: np.ndarray, count: int = 50) -> np.ndarray:
    """Mean of the last ``count`` rows (the current value of a noisy per-batch figure)."""
    if len(values) == 0:
        return np.full(values.shape[1:], np.nan)
    with np.errstate(invalid="ignore"):
        return np.nanmean(values[-count:], axis=0) if np.isnan(values[-count:]).any() else values[-count:].mean(axis=0)


def positive(y: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Values ready for a log axis (NaN stays NaN and is not drawn)."""
    return np.where(np.isnan(y), np.nan, np.maximum(y, floor))


def set_text(item, text: str, wrap_width: float | None = None) -> None:
    """Change a label's text only when it differs (setting HTML re-lays out the plot).

    With ``wrap_width`` a LabelItem wraps its text to that many pixels instead of
    widening the whole layout to one long line.
    """
    if getattr(item, "_shown_text", None) == (text, wrap_width):
        return
    item._shown_text = (text, wrap_width)
    item.setText(text)
    if wrap_width is not None and hasattr(item, "updateMin"):
        item.item.setTextWidth(max(wrap_width, 100))
        item.updateMin()


def set_title(plot, text: str) -> None:
    if getattr(plot, "_shown_title", None) != text:
        plot._shown_title = text
        plot.setTitle(text)


def add_legend(plot, where: str = "right", columns: int = 1) -> pg.LegendItem:
    """A legend for ``plot`` beside its data, never over it: in a column right of the axes
    (``where="right"``, top aligned) or in a row under the bottom axis (``"below"``, in
    ``columns`` columns).  Like ``PlotItem.addLegend``, every curve plotted with a name joins it.
    The plot's own layout places it, so it takes room from the view box instead of covering it."""
    legend = pg.LegendItem(offset=None, labelTextSize="9pt", brush=(255, 255, 255), colCount=columns)
    # sized by the plot's layout from the entries (pyqtgraph's own sizing moves it to the corner)
    legend.updateSize = legend.updateGeometry
    legend.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)  # its entries' size, not the row's
    plot.legend = legend
    if where == "below":
        plot.layout.addItem(legend, 4, 1)
        plot.layout.setAlignment(legend, Qt.AlignHCenter | Qt.AlignTop)
        plot.layout.setRowSpacing(3, 4)
    else:
        plot.layout.addItem(legend, 2, 3)
        plot.layout.setAlignment(legend, Qt.AlignTop | Qt.AlignLeft)
        plot.layout.setColumnSpacing(2, 6)
    return legend


def apply_quality(panel, draft: bool) -> None:
    """Draft or full quality for every curve of ``panel`` (a panel with ``graphics``).

    Draft while training: one-pixel, aliased curves paint about three times faster than wide
    antialiased ones, and every millisecond the GUI thread paints competes with the trainer
    (for the GIL, and for the cores where a sequence model's parts keep both busy).  At rest
    the plots get their full quality back."""
    graphics = getattr(panel, "graphics", None)
    if graphics is None:
        return
    for item in graphics.scene().items():
        if isinstance(item, pg.PlotDataItem) and getattr(item, "_draft", None) != draft:
            set_curve_quality(item, draft)


def set_curve_quality(item: pg.PlotDataItem, draft: bool) -> None:
    item._draft = draft
    pen = pg.mkPen(item.opts["pen"])
    width = getattr(item, "_rest_width", None)
    if width is None:
        width = item._rest_width = pen.widthF()
    pen.setWidthF(1.0 if draft and width > 1 else width)
    item.opts["antialias"] = not draft
    item.curve.opts["antialias"] = not draft
    item.setPen(pen)


def pen(color, width: float = 1.6, alpha: int = 255, style=None):
    color = QColor(color)
    color.setAlpha(alpha)
    kwargs = {"color": color, "width": width}
    if style is not None:
        kwargs["style"] = style
    return pg.mkPen(**kwargs)


#: signed values (weights, gradients): blue below 0, white at 0, red above
SIGNED_COLORMAP = "CET-D1A"
#: values that cannot be negative (ReLU maps, probabilities): dark to bright
UNSIGNED_COLORMAP = "viridis"
#: pictures of the data: ink bright on black, as MNIST stores it
IMAGE_COLORMAP = "CET-L1"


def symmetric_limit(arrays) -> float:
    """The largest magnitude over ``arrays``: a colour scale ±limit puts 0 at the centre, so the
    same colour means the same value on every tile drawn with it (1 where all are 0 or NaN)."""
    limit = 0.0
    for array in arrays:
        finite = np.abs(array[np.isfinite(array)])
        if finite.size:
            limit = max(limit, float(finite.max()))
    return limit if limit > 0 else 1.0


def tile_mosaic(tiles: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """``tiles`` (n, h, w) laid out row by row, ``columns`` per row, NaN (background) between them."""
    n, h, w = tiles.shape
    columns = max(1, min(columns, n))
    rows = max(1, math.ceil(n / columns))
    mosaic = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, np.float32)
    for k in range(n):
        r, c = divmod(k, columns)
        mosaic[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tiles[k]
    return mosaic


class Panel(QWidget):
    """A dashboard page.  Subclasses build their plots in ``__init__`` and draw in ``draw``."""

    title = "panel"
    #: at least this many seconds between two redraws that were not forced: panels whose drawing
    #: is dear (many images, a forward pass) redraw a few times per second, not on every snapshot
    min_interval = 0.0
    _drawn_at = -math.inf

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(2, 2, 2, 2)
        self.layout_.setSpacing(2)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(4, 4, 4, 4)
        self._seen: tuple = ()

    def versions(self, model: DashboardModel) -> tuple:
        """What this panel depends on; it redraws when the tuple changes."""
        return model.history_version, model.context_version

    def applies_to(self, model: DashboardModel) -> bool:
        return True

    def refresh(self, model: DashboardModel, force: bool = False) -> bool:
        seen = self.versions(model)
        if not force and seen == self._seen:
            return False
        now = time.perf_counter()
        if not force and now - self._drawn_at < self.min_interval:
            return False  # what changed is drawn on a later refresh: ``_seen`` still differs
        self._seen = seen
        self._drawn_at = now
        self.draw(model)
        return True

    def draw(self, model: DashboardModel) -> None:
        raise NotImplementedError

    def resizeEvent(self, event):
        super().resizeEvent(event)
        for label in self.wrapped_labels():
            shown = getattr(label, "_shown_text", None)
            if shown and shown[1] is not None:
                set_text(label, shown[0], self.wrap_width())
        self._fit_layout()

    def add_headline(self, colspan: int = 1, size: str = "11pt"):
        """The label at the top of the plots that ``say`` writes to (row 0 of ``graphics``)."""
        return self.graphics.addLabel("", row=0, col=0, colspan=colspan, justify="left", size=size)

    def say(self, text: str) -> None:
        """Set the panel's headline (wrapped to the panel's width)."""
        before = getattr(self.headline, "_shown_text", None)
        set_text(self.headline, text, self.wrap_width())
        if getattr(self.headline, "_shown_text", None) != before:
            self._fit_layout()

    def wrap_width(self) -> float:
        """How wide a headline may be: the plots' width (a panel with controls beside its
        plots gives them less than its own width)."""
        return min(self.width(), self.graphics.width()) - 30

    def _fit_layout(self) -> None:
        """Size the plots to the view again: a headline that was wider a moment ago (wrapped
        to an earlier width) may have left the layout wider than the window."""
        self.graphics.ci.setGeometry(self.graphics.range)

    def wrapped_labels(self) -> list:
        """Headlines that wrap to the panel's width."""
        headline = getattr(self, "headline", None)
        return [headline] if headline is not None else []

    def export_item(self):
        """What a PNG export draws (pyqtgraph's ImageExporter takes an item or a scene)."""
        return self.graphics.scene()


class OwnNetwork:
    """A panel's own engine network for the model's spec, built once per spec (and context), so
    the panel computes from a copy of the newest weights and never touches the network the
    worker trains.  ``loaded_weights`` is the weights version last loaded into it."""

    def __init__(self):
        self.network = None
        self.key = None
        self.loaded_weights = -1

    def for_model(self, model: DashboardModel):
        """The network for ``model``'s spec (None where it cannot be built)."""
        key = (id(model.network_spec), model.context_version)
        if key != self.key:
            self.key = key
            self.loaded_weights = -1
            try:
                self.network = build_network(model.network_spec) if model.network_spec is not None else None
            except (NetworkFileError, ValueError):
                self.network = None
        return self.network
