"""Small numba helpers shared by the kernels.

Every kernel is ``@njit(nogil=True, cache=True, no_cfunc_wrapper=True)`` (those inlined into
their callers excepted).  Without ``no_cfunc_wrapper`` numba also compiles, for each kernel, a
C-callable wrapper that only a kernel passed around as a first-class function value uses, which
none is: on an empty cache they cost 0.3–0.5 s of each family's first training step.

The element-wise functions below are overloads that numba compiles as functions of their own
and LLVM inlines into the loops that call them (which it vectorises just the same: σ of a
64×100 layer 4.7 µs either way).  Inlined by numba instead (``inline="always"``), they were
typed afresh at every call site: activation_forward alone took 2.3 s to compile, 1.2 s now.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload


@intrinsic
def like(typingctx, array, value):
    """``value`` as a scalar of ``array``'s dtype.

    numba types Python float literals and arguments as float64; mixing them into float32
    loops converts every element and halves the SIMD width (measured: an SGD update over
    23,520 weights took 13.6 µs with float64 scalars and 4.3 µs with float32 ones).  A cast
    emitted directly: written as a small jitted function it was typed anew wherever it was
    inlined, 0.15 s of compiling per kernel on an empty cache.
    """
    if not isinstance(array, types.Array) or not isinstance(value, types.Number):
        return None

    def codegen(context, builder, signature, arguments):
        return context.cast(builder, arguments[1], signature.args[1], signature.return_type)

    return array.dtype(array, value), codegen


#: LLVM's fast-math flags minus "nnan" and "ninf": reassociation lets reductions vectorise,
#: but NaN and inf must keep their meaning, because the trainer detects an exploding loss
#: by looking for them.  (Full fastmath lets LLVM assume they never occur.)
FAST_MATH = {"reassoc", "contract", "nsz", "arcp", "afn"}


#: exp(x) leaves float32's normal range below this; ``exp_of_nonpositive`` gives 0 there
_EXP_FLOOR = -87.3365478515625


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose IEEE-754 bits are the low 32 bits of the integer ``bits``: a bitcast,
    which LLVM vectorises."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, arguments):
        low = context.cast(builder, arguments[0], signature.args[0], types.int32)
        return builder.bitcast(low, ir.FloatType())

    return types.float32(bits), codegen


def exp_of_nonpositive(x):
    """e^x for x ≤ 0, in the precision of ``x``'s type; compiled through the overload below."""
    return np.exp(x)


@overload(exp_of_nonpositive, jit_options={"fastmath": FAST_MATH, "error_model": "numpy"})
def _exp_of_nonpositive_for(x):
    """float32: Cephes' expf (Cody-Waite reduction by ln 2, a degree-5 polynomial, 2ⁿ built in the
    exponent bits), within 5 float32 ulps of ``np.exp`` on [−87.3, 0] (measured), and made of
    multiply-adds, a floor and a bitcast, so LLVM vectorises the loops that call it.  numba has
    no vector maths library here: a scalar ``expf`` per element made the sigmoid of a 64×100
    layer cost a third as much as its 784-input product.  Below −87.34 it gives 0 (the true
    value is subnormal there).  float64 (the gradient checks, the torch parity) keeps the exact
    ``np.exp``."""
    if x != types.float32:
        return lambda x: np.exp(x)

    def cephes(x):
        floor = np.float32(_EXP_FLOOR)
        # 0 below the floor; a NaN is carried through the clamp into y.  (Arithmetic, not a
        # conditional expression: inlined, numba's IR check warned about one.)
        keep = np.float32(x >= floor)
        x = min(max(x, floor), np.float32(0.0))
        n = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))
        r = x - n * np.float32(0.693359375)
        r = r - n * np.float32(-2.12194440e-4)
        p = np.float32(1.9875691500e-4)
        p = p * r + np.float32(1.3981999507e-3)
        p = p * r + np.float32(8.3334519073e-3)
        p = p * r + np.float32(4.1665795894e-2)
        p = p * r + np.float32(1.6666665459e-1)
        p = p * r + np.float32(5.0000001201e-1)
        y = p * (r * r) + r + np.float32(1.0)
        return y * _float32_from_bits((np.int64(n) + 127) << 23) * keep

    return cephes


#: |v| beyond which tanh(v) rounds to ±1 in float32; the rational form below is clamped there
_TANH_CLAMP = 7.90531110763549805


def squash(v):
    """tanh(v), in the precision of ``v``'s type; compiled through the overload below."""
    return np.tanh(v)


@overload(squash, jit_options={"fastmath": FAST_MATH, "error_model": "numpy"})
def _squash_for(v):
    """float32: a rational approximation (Eigen's, within a few float32 ulps) built from
    multiply-adds and one division, so LLVM vectorises the gate loops.  numba has no SVML
    here, and a scalar ``tanhf`` per gate made the LSTM forward 10× slower than its GEMMs.
    float64 (the gradient checks, the torch parity) keeps the exact ``np.tanh``."""
    if v != types.float32:
        return lambda v: np.tanh(v)

    def rational(v):
        x = min(max(v, np.float32(-_TANH_CLAMP)), np.float32(_TANH_CLAMP))
        x2 = x * x
        p = np.float32(-2.76076847742355e-16)
        p = p * x2 + np.float32(2.00018790482477e-13)
        p = p * x2 + np.float32(-8.60467152213735e-11)
        p = p * x2 + np.float32(5.12229709037114e-08)
        p = p * x2 + np.float32(1.48572235717979e-05)
        p = p * x2 + np.float32(6.37261928875436e-04)
        p = p * x2 + np.float32(4.89352455891786e-03)
        q = np.float32(1.19825839466702e-06)
        q = q * x2 + np.float32(1.18534705686654e-04)
        q = q * x2 + np.float32(2.26843463243900e-03)
        q = q * x2 + np.float32(4.89352518554385e-03)
        return x * p / q

    return rational


def sigmoid(v):
    """σ(v) = 1/(1 + e^(−v)), in the precision of ``v``'s type; compiled through the overload below."""
    return 1.0 / (1.0 + np.exp(-v))


@overload(sigmoid, jit_options={"fastmath": FAST_MATH, "error_model": "numpy"})
def _sigmoid_for(v):
    """Through e^(−|v|), which never overflows: 1/(1 + e^(−v)) for v ≥ 0 and e^v/(1 + e^v) below,
    so σ keeps its relative precision far into the negative tail.  float32 takes
    ``exp_of_nonpositive`` (vectorised: a 64×100 layer's σ in 3.7 µs against 38 µs with a scalar
    ``expf`` per unit); float64 the exact ``np.exp``."""
    if v == types.float32:
        one, zero = np.float32(1.0), np.float32(0.0)

        def single(v):
            e = exp_of_nonpositive(-abs(v))
            return max(e, np.float32(v >= zero)) / (one + e)  # 1 or e over 1 + e, without a branch

        return single

    def double(v):
        e = np.exp(-abs(v))
        return (1.0 if v >= 0.0 else e) / (1.0 + e)

    return double
