"""Activation functions: names, codes and the numba kernels that apply them.

Each Dense layer chooses its activation by name in its config. Kernels receive a small
integer code instead of a Python object, because numba kernels work on arrays and plain
numbers only; the table below is the one place that maps names to codes.

Formulas and advice are kept next to the code because the palette's tooltips and the
lessons read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from numba import njit

from .numeric import FAST_MATH, exp_of_nonpositive, like, sigmoid, squash

LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, SOFTMAX = range(6)


@dataclass(frozen=True)
class ActivationInfo:
    name: str
    code: int
    formula: str
    when_to_use: str
    #: True for units that saturate (flat derivative far from 0): the instrumentation
    #: reports the fraction of such units whose derivative fell below 1% of its maximum.
    saturating: bool
    #: True for units that die (ReLU: output and derivative 0 for every z ≤ 0): the
    #: instrumentation's saturation column then holds the fraction of units that are 0 for
    #: every example of the batch (see ``saturated_fraction``).
    dies: bool = False


ACTIVATIONS: dict[str, ActivationInfo] = {
    info.name: info
    for info in (
        ActivationInfo(
            "linear", LINEAR, "a = z", "Regression outputs, where the target can be any real number.", False
        ),
        ActivationInfo(
            "sigmoid",
            SIGMOID,
            "σ(z) = 1/(1+e^(−z))",
            "Outputs in (0, 1); the classic neuron whose saturation slows learning.",
            True,
        ),
        ActivationInfo(
            "tanh",
            TANH,
            "tanh(z) = (e^z − e^(−z))/(e^z + e^(−z))",
            "A zero-centred sigmoid; hidden layers learn faster than with σ.",
            True,
        ),
        ActivationInfo(
            "relu",
            RELU,
            "ReLU(z) = max(0, z)",
            "Deep hidden layers: the gradient passes unchanged where z > 0.",
            False,
            dies=True,
        ),
        ActivationInfo(
            "leaky_relu",
            LEAKY_RELU,
            "a = z if z > 0 else α·z",
            "Like ReLU, but units that went negative can still learn.",
            False,
        ),
        ActivationInfo(
            "softmax",
            SOFTMAX,
            "a_j = e^(z_j) / Σ_k e^(z_k)",
            "Classifier outputs: a probability distribution over the classes.",
            False,
        ),
    )
}


def activation_code(name: str) -> int:
    return ACTIVATIONS[name].code


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def activation_forward(code, z, a, alpha):
    """a = f(z) for a (batch, units) array; softmax normalises each row."""
    n, m = z.shape
    zero, alpha = like(z, 0.0), like(z, alpha)
    if code == SOFTMAX:
        for i in range(n):
            top = z[i, 0]
            for j in range(1, m):
                if z[i, j] > top:
                    top = z[i, j]
            total = zero
            for j in range(m):
                e = exp_of_nonpositive(z[i, j] - top)  # shifted so exp never overflows
                a[i, j] = e
                total += e
            for j in range(m):
                a[i, j] /= total
        return
    # one loop per function, free of branches on the code, so LLVM vectorises each
    flat_z, flat_a = z.reshape(-1), a.reshape(-1)
    if code == SIGMOID:
        for k in range(flat_z.size):
            flat_a[k] = sigmoid(flat_z[k])
    elif code == TANH:
        for k in range(flat_z.size):
            flat_a[k] = squash(flat_z[k])
    elif code == RELU:
        for k in range(flat_z.size):
            v = flat_z[k]
            flat_a[k] = v if v > zero else zero
    elif code == LEAKY_RELU:
        for k in range(flat_z.size):
            v = flat_z[k]
            flat_a[k] = v if v > zero else alpha * v
    else:
        for k in range(flat_z.size):
            flat_a[k] = flat_z[k]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def activation_backward(code, z, a, da, dz, alpha):
    """dz = f'(z) ⊙ da, computed from the cached z and a; softmax uses its full Jacobian."""
    n, m = z.shape
    one, zero, alpha = like(z, 1.0), like(z, 0.0), like(z, alpha)
    if code == SOFTMAX:
        for i in range(n):
            dot = zero
            for j in range(m):
                dot += da[i, j] * a[i, j]
            for j in range(m):
                dz[i, j] = a[i, j] * (da[i, j] - dot)
        return
    for i in range(n):
        for j in range(m):
            if code == SIGMOID:
                dz[i, j] = da[i, j] * a[i, j] * (one - a[i, j])
            elif code == TANH:
                dz[i, j] = da[i, j] * (one - a[i, j] * a[i, j])
            elif code == RELU:
                dz[i, j] = da[i, j] if z[i, j] > 0 else zero
            elif code == LEAKY_RELU:
                dz[i, j] = da[i, j] if z[i, j] > 0 else alpha * da[i, j]
            else:
                dz[i, j] = da[i, j]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def saturated_fraction(code, a):
    """The fraction of a layer's units stuck where f is flat, for a (batch, units) array ``a``.

    Sigmoid and tanh: the fraction of (example, unit) values whose derivative is below 1% of
    its maximum.  σ'(z) = a(1−a) peaks at 1/4 and tanh'(z) = 1−a² peaks at 1; a unit whose
    derivative has fallen under 1% of that peak passes almost no gradient back: it is saturated.

    ReLU saturates at 0: where z ≤ 0 its output and its derivative are both 0.  Almost every
    healthy ReLU is 0 for some examples, so what is counted is the *units* that are 0 for every
    example of the batch: dead on this batch, they pass no gradient back and their weights do
    not change (a unit dead on every batch is dead for good).  On batches of one or two examples
    this counts units that merely happened to be off; from a batch of ten, a live unit off for
    half the examples is counted one batch in a thousand.

    Other activations (linear, leaky ReLU, softmax) have no such flat region and report 0.
    """
    n, m = a.shape
    if n * m == 0:
        return 0.0
    if code == RELU:
        dead = 0
        for j in range(m):
            active = False
            for i in range(n):
                if a[i, j] > 0.0:
                    active = True
                    break
            if not active:
                dead += 1
        return dead / m
    if code != SIGMOID and code != TANH:
        return 0.0
    count = 0
    for i in range(n):
        for j in range(m):
            v = a[i, j]
            if code == SIGMOID:
                if v * (1.0 - v) < 0.0025:
                    count += 1
            elif 1.0 - v * v < 0.01:
                count += 1
    return count / (n * m)
