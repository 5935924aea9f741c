"""``playground bench --soak``: does the window's memory stay bounded over a long session?

Each lab trains in the window (offscreen) for ``--minutes`` while the process's resident
memory is sampled every few seconds: the dashboard on MNIST (vanishing-gradients), the
convolutional lesson with its Filters and Feature maps tabs on screen (cnn-mnist), the RBM
lab (rbm-mnist) and the sequence lab (translate-numbers, a new run started whenever one
finishes, as a learner comparing runs would).  The tabs change every few seconds, so each
one's drawing is part of the session.  The first WARMUP_SHARE of the time is warm-up (the
kernels load, buffers fill to their bounds, plots reach their point counts); what matters
is the growth after it, against MAX_GROWTH_MB.  A leak of a few MB per run or per epoch
shows there within minutes; ``--lab`` runs one lab alone, so the full ten minutes of each
can be spent on a quiet machine.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from ..model import with_overrides
from ..runs.data import DataStore
from ..training.lessons import load_lesson
from .app import create_application
from .bench import DashboardRun, LabRun, choose_data, shown_panels
from .main_window import MainWindow

#: the labs a soak can run: (lesson, its dashboard tabs to show, or None for all of the lab's tabs,
#: whether runs restart as they finish instead of training for ever)
LABS = {
    "dashboard": ("vanishing-gradients", None, False),
    "cnn": ("cnn-mnist", ("filters", "feature-maps"), False),
    "rbm": ("rbm-mnist", None, False),
    "sequence": ("translate-numbers", None, True),
}
#: the first part of the session, whose growth is not counted: caches and bounded buffers fill
WARMUP_SHARE = 0.2
#: resident memory may grow by at most this much after warm-up (issue #17)
MAX_GROWTH_MB = 50.0
#: seconds between two memory samples (fewer in a short session, so it has enough of them)
SAMPLE_S = 3.0
#: seconds each tab stays on screen
PANEL_S = 5.0


def resident_mb() -> float:
    """The process's resident memory now, in MB: /proc/self/statm where there is one, else the
    peak so far (``ru_maxrss``), which can only rise and so never hides a growth."""
    try:
        with open("/proc/self/statm") as stream:
            pages = int(stream.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1024**2
    except (OSError, ValueError, IndexError):
        scale = 1024 if sys.platform != "darwin" else 1  # kilobytes on Linux, bytes on macOS
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1024**2


@dataclass
class SoakResult:
    lab: str
    lesson: str
    minutes: float
    rss_after_warmup_mb: float
    rss_end_mb: float
    growth_mb: float
    rss_max_mb: float
    samples: int
    runs: int
    passed: bool


def _spec(lesson: str, restarts: bool):
    spec = load_lesson(lesson)
    if not restarts:  # never finishes within the session (an RBM stack counts its pretraining epochs)
        spec.training = with_overrides(spec.training, epochs=100_000)
        spec.pretraining = with_overrides(spec.pretraining, epochs=100_000)
    return spec


def soak_lab(name: str, minutes: float, data_dir, data: DataStore) -> SoakResult:
    """Train lab ``name`` in the window for ``minutes``, sampling resident memory."""
    lesson, tabs, restarts = LABS[name]
    app = create_application()
    app.setQuitOnLastWindowClosed(False)
    folder = tempfile.mkdtemp(prefix="playground-soak-")
    settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(
        _spec(lesson, restarts),
        settings=settings,
        autosave_dir=folder,
        data_dir=data_dir,
        autosave=False,
        offer_recovery=False,
        warm_up=False,  # its thread would load a lesson's data of its own while memory is measured
    )
    window.data = data
    window.prompt_on_close = False
    window.show()
    lab = window.active_lab()
    run = DashboardRun(window) if lab is None else LabRun(window, lab)
    if tabs is not None:
        run.panels = [panel for panel in shown_panels(window.dashboard) if panel in tabs]
    run.show(0)

    seconds = 60.0 * minutes
    every = min(SAMPLE_S, max(seconds / 20, 0.2))
    started = time.perf_counter()
    state = {"samples": [], "next_sample": 0.0, "next_panel": PANEL_S, "panel": 0, "runs": 0}

    def tick():
        now = time.perf_counter() - started
        if window.state == "idle":  # not started yet, or a sequence run finished: (re)start
            window.train()
            state["runs"] += window.state != "idle"
        if now >= state["next_sample"]:
            state["samples"].append((now, resident_mb()))
            state["next_sample"] = now + every
        if now >= state["next_panel"]:
            state["panel"] = (state["panel"] + 1) % len(run.panels)
            run.show(state["panel"])
            state["next_panel"] = now + PANEL_S
        if now >= seconds:
            timer.stop()
            app.exit(0)

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(tick)
    timer.start()
    app.exec()
    window.shutdown()
    window.close()
    window.deleteLater()
    app.processEvents()

    samples = state["samples"]
    warm = next((rss for t, rss in samples if t >= WARMUP_SHARE * seconds), samples[-1][1])
    end = samples[-1][1]
    return SoakResult(
        name,
        lesson,
        minutes,
        round(warm, 1),
        round(end, 1),
        round(end - warm, 1),
        round(max(rss for _, rss in samples), 1),
        len(samples),
        state["runs"],
        end - warm <= MAX_GROWTH_MB,
    )


def run_soak_benchmark(minutes: float = 10.0, labs: list[str] | None = None, json_output: bool = False) -> int:
    """Soak each lab in turn (all four unless ``labs`` names some); exit status 1 if any grew too much."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    data_dir, story = choose_data()
    data = DataStore(data_dir)
    failed = False
    print(f"soak: the image lessons train on {story}", file=sys.stderr)
    for name in labs or list(LABS):
        print(f"soak: {name} ({LABS[name][0]}) for {minutes:g} min", file=sys.stderr, flush=True)
        result = soak_lab(name, minutes, data_dir, data)
        failed |= not result.passed
        if json_output:
            print(json.dumps({"workload": "soak", **asdict(result)}), flush=True)
        else:
            verdict = "pass" if result.passed else "FAIL"
            print(
                f"{name} ({result.lesson}, {result.minutes:g} min, {result.runs} run(s), {result.samples} samples): "
                f"RSS after warm-up {result.rss_after_warmup_mb:,.0f} MB, at the end {result.rss_end_mb:,.0f} MB, "
                f"growth {result.growth_mb:+,.1f} MB, max {result.rss_max_mb:,.0f} MB: "
                f"{verdict} (growth <= {MAX_GROWTH_MB:g} MB after warm-up)",
                flush=True,
            )
    return 1 if failed else 0
