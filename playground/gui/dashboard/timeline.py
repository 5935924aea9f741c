"""The timeline under a lab's views: drag back to a step of the run to see that moment.

Every lab has one (the dashboard, the sequence lab, the RBM lab: see gui/lab.py).  The slider
spans the run's recorded steps (numbered from 0; the label counts steps done, as the status
bar does) and follows the newest while it sits at the right end ("live").  Moved back, it
asks (``stepChosen``) for the moment after a step; the lab answers with its nearest snapshot
at or before it (the weights, the RBMs, the gates), and says which step that is
(``show_moment``), so every view and the label agree.  "Live" goes back to the newest.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget


class Timeline(QWidget):
    #: a step to show (int), or None for the live run
    stepChosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Drag back to see every view as it was at an earlier step of the run")
        self.label = QLabel("live")
        self.label.setFixedWidth(self.label.fontMetrics().horizontalAdvance("step 10,000,000 of 10,000,000") + 8)
        self.live_button = QPushButton("Live")
        self.live_button.setToolTip("Show the newest step again")
        self.live_button.clicked.connect(self.go_live)
        row.addWidget(QLabel("Timeline"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        row.addWidget(self.live_button)
        self.live = True
        self.slider.valueChanged.connect(self._moved)
        self.follow(-1)

    @property
    def last_step(self) -> int:
        return self.slider.maximum()

    def follow(self, last_step: int) -> None:
        """The run reached ``last_step`` (-1: nothing recorded): stretch the slider, and keep it at
        the newest step while live."""
        self.setEnabled(last_step > 0)
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(last_step, 0))
        if self.live:
            self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        if self.live:
            self.label.setText("live" if last_step < 0 else f"step {last_step + 1:,} (live)")
        self.live_button.setEnabled(not self.live)

    def choose(self, step: int) -> None:
        """Move to ``step`` as a drag would (the right end is live)."""
        self.slider.setValue(step)
        self._moved(self.slider.value())

    def go_live(self) -> None:
        self.live = True
        self.follow(self.last_step)
        self.stepChosen.emit(None)

    def show_moment(self, step: int) -> None:
        """The views now show the moment after ``step`` (the snapshot nearest the chosen step),
        counted as the status bar counts: steps done."""
        self.label.setText(f"step {step + 1:,} of {self.last_step + 1:,}")

    def _moved(self, value: int) -> None:
        if value >= self.slider.maximum():
            if not self.live:
                self.go_live()
            return
        self.live = False
        self.live_button.setEnabled(True)
        self.stepChosen.emit(int(value))
