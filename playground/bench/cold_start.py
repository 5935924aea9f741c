"""``playground bench --cold-start``: how long a fresh install waits for its first training step.

numba compiles each kernel on its first call and keeps the machine code in its disk cache
(``cache=True``).  A first run on a fresh install therefore waits for the compiler, and every
later process only loads.  Both are measured here, per family, on one lesson each: every
lesson runs in a fresh Python process of its own (a process that had compiled a kernel already
would hide that kernel's cost), first with an empty temporary ``NUMBA_CACHE_DIR`` (cold), then
again with the cache that run filled (warm).  With ``NUMBA_CACHE_DIR`` set numba reads and
writes only there, never the ``__pycache__`` folders beside the sources, so a cold run finds
nothing an earlier run left.

The time is wall time from starting the process to the first mini-batch's event: Python and
the package's imports, loading the lesson and its data, building the network and compiling or
loading the kernels.  The big kernels that only compose small ones are not waited for: the
first steps run their Python twins while they compile on a thread of their own (see
``engine/background.py``).  So the child goes on until those are ready too, and reports when
(``ready_s``: from then on the run trains at full speed).  It also says how many kernels were
compiled, under how many signatures each, and how long the compiler took.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from numba.core import event

#: one lesson per family: the window's default lesson for the dense family
LESSONS = {
    "dense": "vanishing-gradients",
    "cnn": "cnn-mnist",
    "rbm": "rbm-mnist",
    "lstm": "rnn-vs-lstm",
    "encoder-decoder": "translate-numbers",
}
#: the issue's targets on a cold cache (seconds to the first step); warm, every family ≤ 2 s
COLD_TARGETS = {"dense": 5.0, "cnn": 10.0, "lstm": 10.0}
WARM_TARGET = 2.0


class Compilations(event.Listener):
    """numba's compilations in this process (cache loads are not announced): per kernel, its
    signatures, and the compiler's time summed over the outermost ones (a kernel that calls
    another compiles the callee inside its own compilation).  numba compiles under one global
    lock, so the nesting depth is the same whichever thread compiles."""

    def __init__(self):
        self.signatures: dict[str, list[str]] = {}
        #: the outermost compilations: kernel name and seconds (its callees' compilations included)
        self.outermost: list[tuple[str, float]] = []
        self._started: list[float] = []

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.outermost)

    def on_start(self, _event) -> None:
        self._started.append(time.perf_counter())

    def on_end(self, ev) -> None:
        seconds = time.perf_counter() - self._started.pop()
        function = ev.data["dispatcher"].py_func
        name = f"{function.__module__}.{function.__qualname__}"
        self.signatures.setdefault(name, []).append(", ".join(map(str, ev.data["args"])))
        if not self._started:
            self.outermost.append((name, seconds))


def first_step(lesson: str, data_dir: str | None = None) -> dict:
    """In this process: load ``lesson``, prepare its run as the command line does and train until
    its first mini-batch is reported, then wait for the kernels compiling in the background.
    Seconds from this call, and what numba compiled."""
    started = time.perf_counter()
    compilations = Compilations()
    event.register("numba:compile", compilations)
    from ..engine import background
    from ..training.families import RunOptions, family_of
    from ..training.lessons import load_lesson
    from ..training.protocol import ChunkEvent

    spec = load_lesson(lesson)
    run = family_of(spec).start(spec, RunOptions(data_dir=data_dir))
    prepared = time.perf_counter()
    for happened in run.trainer.run():
        if isinstance(happened, ChunkEvent):
            break
    first, first_at, first_cpu_s = time.perf_counter(), time.time(), sum(os.times()[:2])
    run.trainer.control.stop()
    background.settle()
    return {
        "lesson": lesson,
        "prepare_s": prepared - started,
        "first_step_s": first - prepared,
        # when the first step was reported and when every kernel was ready, on the clock the
        # parent reads too (it started this process)
        "first_step_at": first_at,
        "ready_at": time.time(),
        "compile_s": compilations.seconds,
        # the processor time since the process started, to the first step: steadier than wall
        # time on a shared machine
        "cpu_s": first_cpu_s,
        "compiled": compilations.signatures,
        "outermost": compilations.outermost,
    }


def _measure(family: str, cache_dir: str, data_dir: str | None) -> dict:
    """One fresh process: ``first_step`` of the family's lesson with ``cache_dir`` as numba's cache."""
    command = [sys.executable, "-m", "playground.bench.cold_start", LESSONS[family]]
    if data_dir:
        command.append(data_dir)
    start = time.time()
    done = subprocess.run(  # ten minutes: a cold start on a busy machine takes one at most
        command,
        env={**os.environ, "NUMBA_CACHE_DIR": cache_dir},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{family}: the measuring process failed:\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {**measured, "total_s": measured["first_step_at"] - start, "ready_s": measured["ready_at"] - start}


def own_kernels(compiled: dict[str, list[str]], package: str = "playground.") -> dict[str, list[str]]:
    """The kernels of ``package`` among numba's compilations (numba compiles its own helpers too),
    less the implementations of inlined overloads (``numeric.sigmoid``'s and the like, named
    ``….<locals>.…``): inlining types them anew at every call site, by design."""
    return {
        name: signatures
        for name, signatures in compiled.items()
        if name.startswith(package) and ".<locals>." not in name
    }


def redundant(signature: str) -> str:
    """A signature without what makes numba compile the same code again: read-only arrays, an
    index typed unsigned by a parallel loop, a constant flag typed as its value."""
    signature = re.sub(r"(?<!array\()uint64", "int64", signature.replace("readonly ", ""))
    return re.sub(r"Literal\[(\w+)\]\([^)]*\)", r"\1", signature)


def twins(compiled: dict[str, list[str]]) -> list[str]:
    """The kernels compiled more than once for the same arrays (a kernel given arrays of other
    shapes or layouts is rightly compiled again)."""
    return sorted(
        name for name, signatures in compiled.items() if len({redundant(each) for each in signatures}) < len(signatures)
    )


def measure_cold_start(families: list[str] | None = None, data_dir: str | None = None) -> Iterator[dict]:
    """Per family, as each is measured: the cold run in an empty cache directory, then the warm
    run in the cache it filled."""
    for family in families or list(LESSONS):
        with tempfile.TemporaryDirectory(prefix="playground-numba-cache-") as cache:
            load = os.getloadavg()[0]
            cold = _measure(family, cache, data_dir)
            warm = _measure(family, cache, data_dir)
        own = own_kernels(cold["compiled"])
        yield {
            "family": family,
            "lesson": LESSONS[family],
            "cold_s": round(cold["total_s"], 2),
            "cold_cpu_s": round(cold["cpu_s"], 2),
            "cold_ready_s": round(cold["ready_s"], 2),
            "cold_compile_s": round(cold["compile_s"], 2),
            "warm_s": round(warm["total_s"], 2),
            "warm_cpu_s": round(warm["cpu_s"], 2),
            "kernels": len(own),
            "signatures": sum(map(len, own.values())),
            "several_signatures": sorted(name for name, signatures in own.items() if len(signatures) > 1),
            "compiled_twice": twins(own),
            "cold_target_s": COLD_TARGETS.get(family),
            "warm_target_s": WARM_TARGET,
            "load_before": round(load, 2),
        }


def run_cold_start(json_output: bool = False, data_dir=None) -> int:
    """``playground bench --cold-start``: the table (or one JSON object per family)."""
    cores = os.cpu_count() or 1
    if not json_output:
        print(f"time to the first training step, each in a fresh process ({cores} cores; load = 1-minute load average)")
        print("ready s: until every kernel is compiled (the first steps run their Python twins meanwhile)")
        header = (
            f"{'family':<16}{'lesson':<21}{'cold s':>7}{'cpu s':>7}{'ready s':>8}{'warm s':>8}{'cpu s':>7}"
            f"{'kernels':>9}{'sigs':>6}"
        )
        print(f"{header}  target  load")
    for row in measure_cold_start(data_dir=None if data_dir is None else str(data_dir)):
        if json_output:
            print(json.dumps(row), flush=True)
            continue
        target = f"≤{row['cold_target_s']:g}" if row["cold_target_s"] else "   -"
        print(
            f"{row['family']:<16}{row['lesson']:<21}{row['cold_s']:>7.1f}{row['cold_cpu_s']:>7.1f}"
            f"{row['cold_ready_s']:>8.1f}{row['warm_s']:>8.2f}{row['warm_cpu_s']:>7.2f}{row['kernels']:>9}{row['signatures']:>6}"
            f"  {target:<6}  {row['load_before']:.1f}",
            flush=True,
        )
        if row["compiled_twice"]:
            print(f"{'':<16}compiled twice for the same arrays: {', '.join(row['compiled_twice'])}", flush=True)
    return 0


def _child(argv: list[str]) -> None:
    """``python -m playground.bench.cold_start LESSON [DATA_DIR]``: print ``first_step``'s figures
    as one JSON line and leave at once (a trainer's threads and the interpreter's teardown are
    not part of the wait)."""
    result = first_step(argv[0], argv[1] if len(argv) > 1 else None)
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    _child(sys.argv[1:])
