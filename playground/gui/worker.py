"""The window's one worker thread: it runs one job (``playground.runs``) at a time.

The only signal that crosses threads is QThread's own ``finished`` at the end of a run;
everything else the window reads from the job's stream and slots on its own timer.
"""

from __future__ import annotations

from PySide6.QtCore import QThread

from ..runs.jobs import RunnerJob


class TrainingThread(QThread):
    """The one worker thread; ``launch`` a job, ``stop_and_join`` before the window goes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job: RunnerJob | None = None

    def launch(self, job: RunnerJob) -> None:
        if self.isRunning():
            raise RuntimeError("a training run is already in progress")
        self.job = job
        self.start()

    def run(self) -> None:  # runs on the worker thread
        job = self.job
        if job is not None:
            job.execute()

    def stop_and_join(self, timeout_ms: int | None = None) -> bool:
        """Ask the trainer to stop (waking it if paused) and wait for the thread to end."""
        if self.job is not None:
            self.job.control.stop()
        if timeout_ms is None:
            return self.wait()
        return self.wait(timeout_ms)
