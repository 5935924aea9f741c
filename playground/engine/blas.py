"""One BLAS thread for the engine's matrix products (and, in the window, for numpy's too).

numba's ``np.dot`` calls the BLAS that scipy ships.  On these 2-core machines a second
BLAS thread gains nothing on the engine's small products and loses badly whenever
anything else wants a core (the window's GUI thread, another process): a 64×784 by
784×100 product took 100 µs on one thread and 4,149 µs on two while the other core was
busy, because OpenBLAS's threads wait for each other.  So the engine pins that BLAS to
one thread when it is imported, and uses the second core its own way where that pays
(parts.py).  numpy's own BLAS, which the benchmark's reference uses, keeps its default,
except in the window's process (``pin_numpy_blas_to_one_thread``).
"""

from __future__ import annotations


def _pin_to_one_thread(belongs) -> None:
    from threadpoolctl import ThreadpoolController

    for library in ThreadpoolController().lib_controllers:
        if library.user_api == "blas" and belongs(library.filepath):
            library.set_num_threads(1)


def pin_kernel_blas_to_one_thread() -> None:
    import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS numba calls, so it can be found)

    _pin_to_one_thread(lambda path: "scipy" in path and "numpy" not in path)


def pin_numpy_blas_to_one_thread() -> None:
    """For the window: its GUI thread's numpy linear algebra then never waits for a core.

    While a sequence model trains, its parts keep both cores busy, and a 2-thread BLAS call
    on the GUI thread stalls: the hidden-state PCA's SVD of 1,000 encoder states took 1.09 s
    there, the window frozen meanwhile (see the README's window figures for it pinned)."""
    import numpy  # noqa: F401

    _pin_to_one_thread(lambda path: "numpy" in path)
