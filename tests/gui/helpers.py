"""Small networks for the editor tests, and the labs' shared fixture body."""

from contextlib import contextmanager

from playground.model import sequential_spec


def mlp(*sizes):
    """in → fc1 → ... → out, with positions 110 apart, as the presets are."""
    return sequential_spec(
        list(sizes), activation="sigmoid", output="sigmoid", cost="cross-entropy", initializer="normal-scaled"
    )


@contextmanager
def shown_labs(qtbot):
    """Yields ``show(lab, spec)``: shows the lab at a realistic size with ``spec`` loaded and
    returns it.  On exit every lab shown is shut down and its worker must be joined: a
    ``QThread`` still running when its owner is collected aborts the whole test run."""
    labs = []

    def show(lab, spec):
        qtbot.addWidget(lab)
        lab.resize(1100, 750)
        lab.show()
        lab.load(spec)
        labs.append(lab)
        return lab

    yield show
    for lab in labs:
        lab.shutdown()
        assert not lab.thread.isRunning()
