"""``playground bench --gui``: is the window responsive while it trains, and does it cost speed?

Offscreen, the main window trains a lesson (by default the MNIST vanishing-gradients one;
``--lesson cnn-mnist`` for the convolutional network) with the dashboard open, cycling
through the tabs that lesson shows (its own first: filters and feature maps for a conv
net), so each one's drawing cost is counted, while a 16 ms QTimer records when it actually
fires.  A lesson the dashboard does not train (``--lesson translate-numbers``,
``rnn-vs-lstm``: the sequence lab) is measured the same way in its lab, cycling through
the lab's tabs.  Reported:

  * p50 / p99 / max gap between timer ticks (target: max under 50 ms): a gap is time the
    GUI thread could not react to anything;
  * training throughput in the window relative to headless training of the same lesson
    on the same data (target: at least 90%).  The window's 20 s are split into segments
    with headless runs before, between and after them (the window's run paused meanwhile),
    so both figures see the same machine load; on a shared machine that load drifts within
    seconds.  When other processes kept a core busy, a note says so.

Each headless run is a process of its own, with numpy's BLAS on one thread as in the window's.
Run in this process, it made a second thread that runs numba's parallel loops (the window's trainer is the
first), and with more such threads than cores OpenMP stops letting its waiting threads spin:
each parallel loop then wakes a sleeping thread, and the LSTM trained at 21-23k samples/s
instead of 27-31k, headless and in the window alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer

from ..datasets import is_cached
from ..engine import background
from ..machine import OtherLoad, is_busy
from ..model import NetworkFileError, with_overrides
from ..runs.data import DataStore
from ..runs.feedforward import fresh_network
from ..training import FeedForwardTrainer, StepChunk, TrainingControl
from ..training.families import family_of
from ..training.lessons import load_lesson
from ..training.sequence_events import SequenceChunk
from .app import create_application
from .dashboard import PANEL_NAMES
from .main_window import MainWindow
from .sequence_lab import default_runner

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data" / "mnist"
TICK_MS = 16
LESSON = "vanishing-gradients"
#: seconds each tab stays on screen while the window trains
PANEL_SECONDS = 2.5


def choose_data():
    """(data_dir, a sentence saying where the data comes from)."""
    if SHARED_MNIST.is_dir() and any(SHARED_MNIST.glob("*idx*")):
        return SHARED_MNIST, f"MNIST from {SHARED_MNIST}"
    if is_cached("mnist"):
        return None, "MNIST from the download cache"
    return None, "the built-in synthetic digits (MNIST is neither in ../shared/data/mnist nor cached)"


def _spec(lesson: str):
    spec = load_lesson(lesson)
    spec.training = with_overrides(spec.training, epochs=100_000)  # never completes within the measurement
    return spec


def _headless_events(spec, data):
    """(the bare trainer's events, its control, its batch size): the dashboard's trainer, or
    for a lab lesson the runner its lab uses."""
    if family_of(spec).lab == "sequence":
        control = TrainingControl(0.01)
        return default_runner(spec, control), control, spec.training.batch_size
    dataset, _ = data.get(spec.dataset, spec.training.seed, spec.training.train_limit)
    trainer = FeedForwardTrainer(fresh_network(spec), dataset, spec.training)
    return trainer.run(), trainer.control, trainer.batch_size


def headless_rate(spec, data, seconds: float, warmup: float = 0.3) -> float:
    """Samples per second of the bare trainer (no window, no stream), after a short warm-up."""
    events, control, batch_size = _headless_events(spec, data)
    started = time.perf_counter()
    t0 = None
    counted = 0
    for event in events:
        now = time.perf_counter()
        if isinstance(event, (StepChunk, SequenceChunk)):
            if t0 is None:
                if now - started >= warmup:
                    background.settle()  # the big kernels, compiled or loaded on a thread of their own
                    t0 = time.perf_counter()
            else:
                counted += event.steps * batch_size
        if t0 is not None and now - t0 >= seconds:
            control.stop()
    elapsed = time.perf_counter() - t0
    return counted / elapsed


class DashboardRun:
    """The run the dashboard trains, as the bench reads and drives it."""

    def __init__(self, window):
        self.window = window
        self.panels = shown_panels(window.dashboard)

    @property
    def job(self):
        return self.window.job

    def samples(self) -> int:
        return self.job.progress.samples

    def show(self, index: int) -> None:
        self.window.dashboard.show_panel(self.panels[index])


class LabRun:
    """The run a lab trains (the sequence lab...), read and driven as ``DashboardRun`` is: its job
    counts mini-batches, its tabs are its views."""

    def __init__(self, window, lab):
        self.window, self.lab = window, lab
        self.panels = list(range(lab.tabs.count()))

    @property
    def job(self):
        return self.lab.job

    def samples(self) -> int:
        return self.job.progress.steps * self.window.document.spec.training.batch_size

    def show(self, index: int) -> None:
        self.lab.tabs.setCurrentIndex(self.panels[index])


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def reference_rate(lesson: str, data_dir, seconds: float) -> float:
    """``headless_rate`` of ``lesson`` in a fresh process (see the module's docstring), after
    a warm-up there that loads its kernels."""
    command = [sys.executable, "-m", "playground.gui.bench", lesson, str(seconds), str(data_dir or "")]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the headless reference run failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


def gui_run(lesson, spec, data, data_dir, seconds: float, segments: int = 4, reference_seconds: float = 2.0):
    """Train in the window for ``seconds`` in all, split into ``segments``; between them (and
    before and after) the window's run is paused and the bare trainer runs headless for
    ``reference_seconds`` in a process of its own.  Interleaving keeps both figures under the same
    machine load, which on a shared machine drifts over tens of seconds.

    Returns (gaps between timer ticks in ms, window samples/s, headless samples/s, the cores other
    processes kept busy during each window segment).
    """
    app = create_application()
    app.setQuitOnLastWindowClosed(False)
    folder = tempfile.mkdtemp(prefix="playground-bench-")
    settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(  # no warm-up: the first headless run filled numba's cache, and it would load its own data
        spec,
        settings=settings,
        autosave_dir=folder,
        data_dir=data_dir,
        autosave=False,
        offer_recovery=False,
        warm_up=False,
    )
    window.data = data  # the same loaded arrays as the headless runs
    window.prompt_on_close = False
    window.pace_box.set_pace(None)  # full speed: the window's cost, not a lesson's slow motion
    window.show()
    lab = window.active_lab()
    run = DashboardRun(window) if lab is None else LabRun(window, lab)
    run.show(0)

    clock = QElapsedTimer()
    clock.start()
    gaps: list[float] = []
    headless: list[float] = [reference_rate(lesson, data_dir, reference_seconds)]
    segment_ms = 1000 * seconds / segments
    state = {
        "phase": "starting",
        "last": None,
        "segment": 0,
        "start": 0.0,
        "samples": 0,
        "t": 0.0,
        "gui_samples": 0,
        "gui_seconds": 0.0,
        "panel": 0,
        "next_switch": 0.0,
        "load": None,
    }
    others: list[float] = []  # measured in the window's segments: the headless runs are other processes

    def begin_segment(now):
        state.update(
            phase="measuring", start=now, samples=run.samples(), t=run.job.progress.last, last=None, load=OtherLoad()
        )

    def end_segment(now):
        job = run.job
        job.control.pause()
        others.append(state["load"].cores() or 0.0)
        state["gui_samples"] += run.samples() - state["samples"]
        state["gui_seconds"] += job.progress.last - state["t"]
        state["segment"] += 1
        if state["segment"] < segments:
            time.sleep(0.05)  # the chunk in progress stops within a mini-batch
            headless.append(reference_rate(lesson, data_dir, reference_seconds))
            # the next segment starts at the first chunk after the resume, so it is not charged
            # with the time the window's run stood paused
            state.update(phase="resuming", last=None, samples=run.samples())
            job.control.resume()
        else:
            state["phase"] = "done"
            headless.append(reference_rate(lesson, data_dir, reference_seconds))
            window.close()
            app.exit(0)

    def tick():
        now = clock.nsecsElapsed() / 1e6
        job = run.job
        phase = state["phase"]
        if phase in ("starting", "resuming"):
            if job is not None and run.samples() > state["samples"] and not job.control.paused:
                if phase == "starting":
                    state["next_switch"] = now + 1000 * PANEL_SECONDS
                begin_segment(now)
            return
        if phase != "measuring":
            return
        if state["last"] is not None:
            gaps.append(now - state["last"])
        state["last"] = now
        if now >= state["next_switch"]:
            state["panel"] = (state["panel"] + 1) % len(run.panels)
            run.show(state["panel"])
            state["next_switch"] = now + 1000 * PANEL_SECONDS
        if now - state["start"] >= segment_ms:
            end_segment(now)

    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(200, window.train)
    limit = seconds + (segments + 1) * reference_seconds + 60
    QTimer.singleShot(int(limit * 1000), lambda: app.exit(1))  # a safety net: never hang
    app.exec()
    timer.stop()
    window.shutdown()
    window.deleteLater()
    rate = state["gui_samples"] / state["gui_seconds"] if state["gui_seconds"] > 0 else 0.0
    return np.array(gaps), rate, headless, others


def shown_panels(dashboard) -> list[str]:
    """The tabs the lesson shows, its own (filters, feature maps, ...) first, the comparison
    last (it has nothing to draw in a first run)."""
    visible = [name for name in PANEL_NAMES if dashboard.isTabVisible(dashboard.indexOf(dashboard.panel_named(name)))]
    own = [name for name in visible if dashboard.panel_named(name) in dashboard.optional_panels]
    return own + [name for name in visible if name not in own]


def run_gui_benchmark(json_output: bool = False, quick: bool = False, lesson: str = LESSON) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    seconds = 5.0 if quick else 20.0
    segments = 2 if quick else 4
    reference_seconds = 1.0 if quick else 2.0
    spec = _spec(lesson)
    lab = family_of(spec).lab
    if lab == "rbm":
        raise NetworkFileError(
            f'"{lesson}" trains in the RBM lab, which the window benchmark does not measure; '
            f"it measures the dashboard's lessons and the sequence lab's (rnn-vs-lstm, "
            f"translate-numbers, copy-reverse)"
        )
    data_dir, story = choose_data()
    data = DataStore(data_dir)
    if lab == "sequence":
        story = "the lesson's own generated data, in the sequence lab"
    else:
        data.get(spec.dataset, spec.training.seed, spec.training.train_limit)
    reference_rate(lesson, data_dir, 0.5)  # compile the kernels (or load them) before anything is timed
    print(
        f"gui bench: {lesson} on {story}; {seconds:g} s of training in the window in {segments} segments, "
        f"interleaved with {segments + 1} × {reference_seconds:g} s of headless training",
        file=sys.stderr,
    )
    gaps, gui_rate, headless, loads = gui_run(lesson, spec, data, data_dir, seconds, segments, reference_seconds)
    reference = float(np.mean(headless))
    others = max(loads, default=0.0)  # during the window's segments
    if is_busy(others):
        print(
            f"gui bench: note: other processes kept {others:.1f} of {os.cpu_count()} cores busy during the "
            f"measurement, so the window's GUI thread shared a core with the trainer; these figures are "
            f"pessimistic (run it on a quiet machine)",
            file=sys.stderr,
        )
    result = {
        "workload": "gui",
        "lesson": lesson,
        "p50_gap_ms": round(_percentile(gaps, 50), 2),
        "p99_gap_ms": round(_percentile(gaps, 99), 2),
        "max_gap_ms": round(float(gaps.max()) if len(gaps) else float("nan"), 2),
        "throughput_vs_headless": round(gui_rate / reference, 3) if reference else float("nan"),
    }
    if json_output:
        print(json.dumps(result))
    else:
        print(
            f"GUI timer ({TICK_MS} ms) gaps over {len(gaps)} ticks: p50 {result['p50_gap_ms']} ms, "
            f"p99 {result['p99_gap_ms']} ms, max {result['max_gap_ms']} ms (target: max < 50 ms)"
        )
        print(
            f"training in the window: {gui_rate:,.0f} samples/s; headless "
            f"{', '.join(f'{r:,.0f}' for r in headless)} samples/s: "
            f"{100 * result['throughput_vs_headless']:.1f}% (target: >= 90%)"
        )
    return 0


def _reference_child(argv: list[str]) -> None:
    """``python -m playground.gui.bench LESSON SECONDS [DATA_DIR]``: print ``headless_rate``."""
    from ..engine.blas import pin_numpy_blas_to_one_thread

    pin_numpy_blas_to_one_thread()  # as in the window's process (app.create_application)
    lesson, seconds, data_dir = argv[0], float(argv[1]), (argv[2] if len(argv) > 2 and argv[2] else None)
    spec = _spec(lesson)
    data = DataStore(data_dir)
    headless_rate(spec, data, 0.3)  # loads the kernels and settles the big ones (background.py)
    print(headless_rate(spec, data, seconds), flush=True)
    os._exit(0)  # at once: the trainer's threads and the interpreter's teardown are not measured


if __name__ == "__main__":
    _reference_child(sys.argv[1:])
