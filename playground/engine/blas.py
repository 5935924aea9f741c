"""One BLAS thread for the engine's matrix products.

numba's ``np.dot`` calls the BLAS that scipy ships.  On these 2-core machines a second
BLAS thread gains nothing on the engine's small products and loses badly whenever
anything else wants a core (the window's GUI thread, another process): a 64×784 by
784×100 product took 100 µs on one thread and 4,149 µs on two while the other core was
busy, because OpenBLAS's threads wait for each other.  So the engine pins that BLAS to
one thread when it is imported.  numpy's own BLAS, which the benchmark's reference uses,
keeps its default.
"""
from __future__ import annotations


def pin_kernel_blas_to_one_thread() -> None:
    import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS numba calls, so it can be found)
    from threadpoolctl import ThreadpoolController

    for library in ThreadpoolController().lib_controllers:
        if library.user_api == "blas" and "scipy" in library.filepath and "numpy" not in library.filepath:
            library.set_num_threads(1)
