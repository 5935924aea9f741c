"""Translations: held-out sources, the model's output and the reference, refreshed each epoch.

This is the lecture's table of translations: reading the model's mistakes (a wrong tens
word, a dropped "hundred") says more about what it has learnt than the cost does.  Above
the table, exact-match (the whole output right) and token accuracy over the epochs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ...training.sequence_events import Translation
from ..dashboard.common import Panel, pen
from .model import SequenceModel

EXACT, WRONG = QColor("#16A34A"), QColor("#DC2626")
EXACT_BACKGROUND = QColor("#DCFCE7")
EXACT_MATCH, TOKEN_ACCURACY = "#0072B2", "#D55E00"


class TranslationTable(QStandardItemModel):
    """Rows of (mark, source, output, reference); exact rows are green with a tick.

    The cells live in Qt's own item model, filled once per epoch: a Python ``data()``
    answered every cell and role at each paint, about 20 µs a call through the bindings,
    which made switching to this tab cost 30-40 ms of the GUI thread."""

    HEADERS = ("", "Source", "Model output", "Reference")

    def __init__(self, parent=None):
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))

    def set_rows(self, rows: list[Translation]) -> None:
        self.setRowCount(0)
        foreground = {True: QBrush(EXACT), False: QBrush(WRONG)}
        background = QBrush(EXACT_BACKGROUND)
        for row in rows:
            cells = [QStandardItem(text) for text in ("✓" if row.exact else "✗", row.source, row.output, row.reference)]
            cells[0].setTextAlignment(Qt.AlignCenter)
            for column in (0, 2):
                cells[column].setForeground(foreground[row.exact])
            tip = "exact match" if row.exact else f"expected: {row.reference}"
            for cell in cells:
                cell.setToolTip(tip)
                if row.exact:
                    cell.setBackground(background)
            self.appendRow(cells)


class TranslationsPanel(Panel):
    title = "Translations"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.plot = self.graphics.addPlot(row=1, col=0)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.setMouseEnabled(y=False)
        self.plot.addLegend(offset=(-10, -10), labelTextSize="9pt", brush=(255, 255, 255, 220))
        self.exact_curve = self.plot.plot(
            pen=pen(EXACT_MATCH, 2),
            symbol="o",
            symbolSize=6,
            symbolPen=None,
            symbolBrush=EXACT_MATCH,
            name="exact match (whole output right)",
        )
        self.token_curve = self.plot.plot(
            pen=pen(TOKEN_ACCURACY, 2),
            symbol="o",
            symbolSize=6,
            symbolPen=None,
            symbolBrush=TOKEN_ACCURACY,
            name="token accuracy",
        )
        self.graphics.setMinimumHeight(170)
        self.graphics.setMaximumHeight(260)
        self.layout_.addWidget(self.graphics)
        self.table_model = TranslationTable(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(False)
        # the words are the point: whole sentences, wrapped at word boundaries, never cut with "…"
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.ElideNone)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.Stretch)
        self.layout_.addWidget(self.table, 1)
        self._samples_seen = None

    def versions(self, model: SequenceModel) -> tuple:
        return model.epochs_version, model.samples_version

    def draw(self, model: SequenceModel) -> None:
        if model.samples_version != self._samples_seen:
            self._samples_seen = model.samples_version
            self.table_model.set_rows(model.translations)
        scored = [e for e in model.epochs if e.exact_match is not None]
        self.exact_curve.setData([e.epoch for e in scored], [e.exact_match for e in scored])
        tokens = [e for e in model.epochs if e.token_accuracy is not None]
        self.token_curve.setData([e.epoch for e in tokens], [e.token_accuracy for e in tokens])
        if scored or tokens:
            last = max(e.epoch for e in scored + tokens)
            self.plot.setXRange(0.5, max(last, 2) + 0.5, padding=0)
        self.say(self._sentence(model, scored, tokens))

    def _sentence(self, model: SequenceModel, scored, tokens) -> str:
        rows = model.translations
        if not rows and not scored:
            return "Translations of held-out sources appear here after each epoch (for an encoder-decoder run)."
        parts = []
        if scored:
            parts.append(f"after epoch {scored[-1].epoch}: exact match <b>{100 * scored[-1].exact_match:.1f}%</b>")
        if tokens:
            parts.append(f"token accuracy {100 * tokens[-1].token_accuracy:.1f}%")
        if rows:
            parts.append(
                f"{sum(r.exact for r in rows)} of the {len(rows)} below are exactly right (epoch {model.samples_epoch})"
            )
        return " · ".join(parts)
