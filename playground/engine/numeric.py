"""Small numba helpers shared by the kernels.

Every kernel is ``@njit(nogil=True, cache=True, no_cfunc_wrapper=True)`` (those inlined into
their callers excepted).  Without ``no_cfunc_wrapper`` numba also compiles, for each kernel, a
C-callable wrapper that only a kernel passed around as a first-class function value uses, which
none is: on an empty cache they cost 0.3–0.5 s of each family's first training step.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, inline="always")
def like(array, value):
    """``value`` as a scalar of ``array``'s dtype.

    numba types Python float literals and arguments as float64; mixing them into float32
    loops converts every element and halves the SIMD width (measured: an SGD update over
    23,520 weights took 13.6 µs with float64 scalars and 4.3 µs with float32 ones).
    """
    holder = np.empty(1, array.dtype)
    holder[0] = value
    return holder[0]


#: LLVM's fast-math flags minus "nnan" and "ninf": reassociation lets reductions vectorise,
#: but NaN and inf must keep their meaning, because the trainer detects an exploding loss
#: by looking for them.  (Full fastmath lets LLVM assume they never occur.)
FAST_MATH = {"reassoc", "contract", "nsz", "arcp", "afn"}
