"""The arithmetic of restricted Boltzmann machines: contrastive divergence, free energy,
reconstruction, pseudo-likelihood and clamped Gibbs sampling.

An RBM with visible units v, hidden units h, weights W (hidden × visible, PyTorch's
``Linear`` layout), visible biases b and hidden biases c has the energy

    E(v, h) = −bᵀv − cᵀh − hᵀWv                         (Bernoulli visible units)
    E(v, h) = ½‖v − b‖² − cᵀh − hᵀWv                    (Gaussian visible units, σ = 1)

Given v the hidden units are independent: p(h_j = 1 | v) = σ(c_j + W_j·v); given h the
visible units are too: p(v_i = 1 | h) = σ(b_i + hᵀW_:i), or a unit-variance Gaussian
around b_i + hᵀW_:i.  Summing h out gives the free energy, whose exponential is the
unnormalised probability of v:

    F(v) = −bᵀv − Σ_j softplus(c_j + W_j·v)              (Gaussian: ½‖v − b‖² instead of −bᵀv)

The gradient of the mean log-likelihood is ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model.  CD-k replaces the
model's expectation by k steps of Gibbs sampling started at the data (persistent CD by
chains kept from one mini-batch to the next).

Kernels see arrays and numbers only; every random draw comes from numba's generator,
seeded on the thread that trains (``seed_kernel_random``), so a seeded run repeats
exactly.

One core.  Two halves of the ``rbm`` workload's mini-batch (784-500, CD-1, 20 examples), each
trained whole on its own thread at once, the most that splitting the batch could give, ran
at 1.26× one thread (24.0k against 19.0k samples/s, quiet machine): less than the
convolutions' 1.69×, since at 10 rows a part the products are too small to keep a core
busy.  And parts would change what a seed means: numba's generator is per thread, so the
hidden units' samples would come from another stream on two threads than on one, and a
seeded run would no longer repeat across core counts without a generator per part.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .dense_stack import STOP
from .numeric import FAST_MATH, like, sigmoid


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def softplus(x):
    """log(1 + eˣ) without overflow for large x."""
    if x > 0:
        return x + np.log1p(np.exp(-x))
    return np.log1p(np.exp(x))


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def add_bias_sigmoid(z, bias):
    """z ← σ(z + bias) row by row, in place."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] = sigmoid(z[i, j] + bias[j])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def visible_means(h, weight, visible_bias, gaussian, out):
    """E[v | h]: σ(hW + b) for Bernoulli visible units, hW + b for Gaussian ones."""
    np.dot(h, weight, out)
    if gaussian:
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] += visible_bias[j]
    else:
        add_bias_sigmoid(out, visible_bias)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def visible_means_of_binary(h, weight, visible_bias, gaussian, out):
    """E[v | h] for binary h: each row of hW is the sum of the weight rows of the units that are
    on, so the product is a gather of rows rather than a matrix product (half the arithmetic or
    less, as about half the units are off, and none of the multiplications)."""
    for i in range(h.shape[0]):
        for k in range(out.shape[1]):
            out[i, k] = visible_bias[k]
        for j in range(h.shape[1]):
            if h[i, j] != 0:
                for k in range(out.shape[1]):
                    out[i, k] += weight[j, k]
    if not gaussian:
        for i in range(out.shape[0]):
            for k in range(out.shape[1]):
                out[i, k] = sigmoid(out[i, k])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def hidden_probabilities(v, weight, hidden_bias, linear, out):
    """p(h = 1 | v) = σ(vWᵀ + c); for linear hidden units, their mean E[h | v] = vWᵀ + c."""
    np.dot(v, weight.T, out)
    if linear:
        for i in range(out.shape[0]):
            for k in range(out.shape[1]):
                out[i, k] += hidden_bias[k]
    else:
        add_bias_sigmoid(out, hidden_bias)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def visible_means_of_sample(h, weight, visible_bias, gaussian, linear_hidden, out):
    """E[v | h] for a hidden sample: the gather of rows for binary h, the matrix product for real h."""
    if linear_hidden:
        visible_means(h, weight, visible_bias, gaussian, out)
    else:
        visible_means_of_binary(h, weight, visible_bias, gaussian, out)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def sample_bernoulli(probabilities, out):
    """out ← 1 where a uniform draw falls below the probability, else 0."""
    one, zero = like(out, 1.0), like(out, 0.0)
    for i in range(probabilities.shape[0]):
        for j in range(probabilities.shape[1]):
            out[i, j] = one if np.random.random() < probabilities[i, j] else zero


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def sample_units(means, gaussian, out):
    """A sample of units around ``means``: Bernoulli draws, or the mean plus unit-variance Gaussian
    noise (Gaussian visible units, linear hidden units)."""
    if gaussian:
        for i in range(means.shape[0]):
            for j in range(means.shape[1]):
                out[i, j] = means[i, j] + np.random.standard_normal()
    else:
        sample_bernoulli(means, out)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def cd_batches(
    inputs,
    order,
    first_batch,
    n_batches,
    weight,
    visible_bias,
    hidden_bias,
    weight_step,
    visible_step,
    hidden_step,
    stacked_v,
    stacked_h,
    hidden_sample,
    gradient,
    chain_hidden,
    persistent,
    cd_k,
    gaussian,
    linear_hidden,
    learning_rate,
    momentum,
    weight_cost,
    control,
    squared_errors,
):
    """Train ``n_batches`` mini-batches by CD-k (or persistent CD) with momentum and weight cost.

    Returns the number of batches done; stops early when ``control[STOP]`` is set, so a
    request from another thread takes effect within one batch.

    ``stacked_v`` (2B, V) holds the data v⁰ on top and the negative-phase visible means
    below; ``stacked_h`` (2B, H) holds p(h | v⁰) on top and −p(h | vᵏ) below.  Then the
    whole weight gradient ⟨v⁰h⁰ᵀ⟩ − ⟨vᵏhᵏᵀ⟩ is ONE matrix product, stacked_hᵀ·stacked_v,
    instead of two products and a subtraction.  Following Hinton's practical guide, the
    hidden units are sampled when they drive the visible ones, and the last step of the
    chain uses probabilities (less sampling noise); the steps before it of a CD-k chain
    sample the visible units too, so that a long chain is a true Gibbs chain.  For CD-1 the reconstruction
    error of each batch lands in ``squared_errors``; for CD-k > 1 and persistent chains it
    is the error of the first reconstruction, measured on the way.

    The update is Hinton's: Δ ← μΔ + η(∂/B − λW); W ← W + Δ (weight cost λ on W only).
    """
    batch = stacked_v.shape[0] // 2
    n_visible = stacked_v.shape[1]
    n_hidden = stacked_h.shape[1]
    v_halves = stacked_v.reshape(2, batch, n_visible)
    h_halves = stacked_h.reshape(2, batch, n_hidden)
    data, negative_v = v_halves[0], v_halves[1]
    positive_h, negative_h = h_halves[0], h_halves[1]
    zero = like(weight, 0.0)
    mu = like(weight, momentum)
    scale = like(weight, learning_rate / batch)
    decay = like(weight, learning_rate * weight_cost)
    for b in range(n_batches):
        if control[STOP] != 0.0:
            return b
        start = (first_batch + b) * batch
        for i in range(batch):
            row = order[start + i]
            for j in range(n_visible):
                data[i, j] = inputs[row, j]
        hidden_probabilities(data, weight, hidden_bias, linear_hidden, positive_h)
        sample_units(positive_h, linear_hidden, hidden_sample)
        # the first reconstruction, from the data's hidden sample: the monitored error
        visible_means_of_sample(hidden_sample, weight, visible_bias, gaussian, linear_hidden, negative_v)
        error = zero
        for i in range(batch):
            for j in range(n_visible):
                d = data[i, j] - negative_v[i, j]
                error += d * d
        squared_errors[b] = error / batch
        if persistent:  # the negative phase continues the chains instead of starting at the data
            visible_means_of_sample(chain_hidden, weight, visible_bias, gaussian, linear_hidden, negative_v)
        for step in range(cd_k):
            if step > 0:
                visible_means_of_sample(hidden_sample, weight, visible_bias, gaussian, linear_hidden, negative_v)
            if step < cd_k - 1:  # a longer chain samples its visible states; its last step keeps the means
                sample_units(negative_v, gaussian, negative_v)
            hidden_probabilities(negative_v, weight, hidden_bias, linear_hidden, negative_h)
            if step < cd_k - 1:
                sample_units(negative_h, linear_hidden, hidden_sample)
        if persistent:
            sample_units(negative_h, linear_hidden, chain_hidden)
        # parameter steps: biases from column sums, weights from the one stacked product
        for j in range(n_visible):
            total = zero
            for i in range(batch):
                total += data[i, j] - negative_v[i, j]
            visible_step[j] = mu * visible_step[j] + scale * total
            visible_bias[j] += visible_step[j]
        for j in range(n_hidden):
            total = zero
            for i in range(batch):
                total += positive_h[i, j] - negative_h[i, j]
                negative_h[i, j] = -negative_h[i, j]
            hidden_step[j] = mu * hidden_step[j] + scale * total
            hidden_bias[j] += hidden_step[j]
        np.dot(stacked_h.T, stacked_v, gradient)
        for i in range(n_hidden):
            for j in range(n_visible):
                step_value = mu * weight_step[i, j] + scale * gradient[i, j] - decay * weight[i, j]
                weight_step[i, j] = step_value
                weight[i, j] += step_value
    return n_batches


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def free_energies(v, weight, visible_bias, hidden_bias, gaussian, hidden_buffer, out, linear_hidden=False):
    """F(v) for each row of v (see the module docstring for the formula; linear hidden units
    with unit variance contribute −½x_j² instead of −softplus(x_j), up to a constant)."""
    np.dot(v, weight.T, hidden_buffer)
    for i in range(v.shape[0]):
        visible_term = 0.0
        for j in range(v.shape[1]):
            if gaussian:
                d = v[i, j] - visible_bias[j]
                visible_term += 0.5 * d * d
            else:
                visible_term -= visible_bias[j] * v[i, j]
        hidden_term = 0.0
        for j in range(hidden_buffer.shape[1]):
            x = hidden_buffer[i, j] + hidden_bias[j]
            hidden_term += 0.5 * x * x if linear_hidden else softplus(x)
        out[i] = visible_term - hidden_term


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def reconstruction_errors(v, weight, visible_bias, hidden_bias, gaussian, hidden_buffer, out, linear_hidden=False):
    """Sums over the rows of v of the squared error and (Bernoulli units) the cross-entropy of
    one deterministic up-down pass, v → p(h | v) → E[v | h]; ``out`` receives the reconstructions."""
    hidden_probabilities(v, weight, hidden_bias, linear_hidden, hidden_buffer)
    visible_means(hidden_buffer, weight, visible_bias, gaussian, out)
    squared = 0.0
    cross_entropy = 0.0
    tiny = 1e-7
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            d = v[i, j] - out[i, j]
            squared += d * d
            if not gaussian:
                p = min(max(float(out[i, j]), tiny), 1.0 - tiny)
                cross_entropy -= v[i, j] * np.log(p) + (1.0 - v[i, j]) * np.log(1.0 - p)
    return squared, cross_entropy


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def pseudo_likelihood(v, weight, visible_bias, hidden_bias, hidden_buffer, flipped, energies, flipped_energies):
    """The stochastic pseudo-likelihood estimate of binarised rows of v, summed over rows.

    log PL(v) = Σ_i log p(v_i | v_−i) ≈ V · log σ(F(ṽ) − F(v)), where ṽ is v with one
    randomly chosen bit flipped (the estimate of the deeplearning.net tutorial): the exact
    sum needs V free energies per example, one random term is unbiased and cheap.
    """
    n_visible = v.shape[1]
    half = like(v, 0.5)
    for i in range(v.shape[0]):
        for j in range(n_visible):
            flipped[i, j] = like(v, 1.0) if v[i, j] > half else like(v, 0.0)
    free_energies(flipped, weight, visible_bias, hidden_bias, False, hidden_buffer, energies)
    for i in range(v.shape[0]):
        bit = np.random.randint(0, n_visible)
        flipped[i, bit] = like(v, 1.0) - flipped[i, bit]
    free_energies(flipped, weight, visible_bias, hidden_bias, False, hidden_buffer, flipped_energies)
    total = 0.0
    for i in range(v.shape[0]):
        total -= n_visible * softplus(-(flipped_energies[i] - energies[i]))  # log σ(x) = −softplus(−x)
    return total


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def gibbs_chains(
    v,
    weight,
    visible_bias,
    hidden_bias,
    gaussian,
    steps,
    clamped,
    hidden_buffer,
    hidden_sample,
    means,
    linear_hidden=False,
):
    """Run ``steps`` alternating Gibbs steps from the rows of v, in place.

    Where ``clamped`` is nonzero the visible unit keeps its value in v: that is how an RBM
    fills in missing pixels, sampling only the unknown ones given the known.  On return v
    holds the last visible sample and ``means`` the expected visible values of the last
    step (with the clamped units copied in), which is what a view shows: a sample of
    binary pixels is noisy, its expectation is the picture.
    """
    one, zero = like(v, 1.0), like(v, 0.0)
    for _ in range(steps):
        hidden_probabilities(v, weight, hidden_bias, linear_hidden, hidden_buffer)
        sample_units(hidden_buffer, linear_hidden, hidden_sample)
        visible_means(hidden_sample, weight, visible_bias, gaussian, means)
        for i in range(v.shape[0]):
            for j in range(v.shape[1]):
                if clamped[i, j] != 0:
                    means[i, j] = v[i, j]
                elif gaussian:
                    v[i, j] = means[i, j] + np.random.standard_normal()
                else:
                    v[i, j] = one if np.random.random() < means[i, j] else zero


# --- the layer-level operations the trainer and the views call ------------------------------
def _parameters(layer):
    return layer.params["weight"], layer.params["visible_bias"], layer.params["bias"]


def _as_rows(layer, v) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(v).reshape(len(v), layer.n_visible), dtype=layer.dtype)


def free_energy(layer, v) -> np.ndarray:
    """F(v) of each example under the RBM ``layer``."""
    rows = _as_rows(layer, v)
    out = np.empty(len(rows), np.float64)
    free_energies(
        rows,
        *_parameters(layer),
        layer.gaussian,
        np.empty((len(rows), layer.config.units), layer.dtype),
        out,
        layer.linear_hidden,
    )
    return out


def reconstruct(layer, v) -> tuple[np.ndarray, float, float]:
    """One deterministic up-down pass: (reconstructions, mean squared error per example,
    mean cross-entropy per example; NaN for Gaussian units, whose values are not probabilities)."""
    rows = _as_rows(layer, v)
    out = np.empty_like(rows)
    squared, cross_entropy = reconstruction_errors(
        rows,
        *_parameters(layer),
        layer.gaussian,
        np.empty((len(rows), layer.config.units), layer.dtype),
        out,
        layer.linear_hidden,
    )
    n = max(len(rows), 1)
    return out, squared / n, (float("nan") if layer.gaussian else cross_entropy / n)


def mean_pseudo_likelihood(layer, v) -> float:
    """The stochastic log pseudo-likelihood per example (Bernoulli units; NaN for Gaussian
    visible or linear hidden units)."""
    if layer.gaussian or layer.linear_hidden or len(v) == 0:
        return float("nan")
    rows = _as_rows(layer, v)
    n = len(rows)
    return (
        pseudo_likelihood(
            rows,
            *_parameters(layer),
            np.empty((n, layer.config.units), layer.dtype),
            np.empty_like(rows),
            np.empty(n),
            np.empty(n),
        )
        / n
    )


def hidden_means(layer, v) -> np.ndarray:
    """p(h = 1 | v) (linear units: E[h | v]): the features the next RBM of a stack is trained on."""
    rows = _as_rows(layer, v)
    out = np.empty((len(rows), layer.config.units), layer.dtype)
    hidden_probabilities(rows, layer.params["weight"], layer.params["bias"], layer.linear_hidden, out)
    return out


def gibbs(layer, v, steps: int, clamped=None) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` Gibbs steps from the rows of v (not changed); units where ``clamped`` is
    true keep their values.  Returns (last visible sample, its expected values)."""
    state = _as_rows(layer, v).copy()
    mask = (
        np.zeros(state.shape, np.uint8)
        if clamped is None
        else np.ascontiguousarray(np.asarray(clamped).reshape(state.shape), dtype=np.uint8)
    )
    hidden = np.empty((len(state), layer.config.units), layer.dtype)
    means = state.copy()
    gibbs_chains(
        state,
        *_parameters(layer),
        layer.gaussian,
        int(steps),
        mask,
        hidden,
        np.empty_like(hidden),
        means,
        layer.linear_hidden,
    )
    return state, means


class CDRunner:
    """Trains one RBM layer by CD-k or persistent CD, in chunks of mini-batches.

    Every work array (the stacked visible and hidden phases, the gradient, the momentum
    steps, the persistent chains) is allocated here once, so a chunk allocates nothing.
    """

    def __init__(self, layer, batch_size: int):
        self.layer = layer
        self.batch_size = batch_size
        n_visible, n_hidden, dtype = layer.n_visible, layer.config.units, layer.dtype
        self.stacked_v = np.zeros((2 * batch_size, n_visible), dtype)
        self.stacked_h = np.zeros((2 * batch_size, n_hidden), dtype)
        self.hidden_sample = np.zeros((batch_size, n_hidden), dtype)
        self.gradient = np.zeros((n_hidden, n_visible), dtype)
        self.steps = {name: np.zeros_like(value) for name, value in layer.params.items()}
        self.chain_hidden = np.zeros((batch_size, n_hidden), dtype)
        self.squared_errors = np.zeros(0)
        self.persistent = layer.config.method == "pcd"

    def start_chains(self, v) -> None:
        """Persistent chains begin at hidden samples of real examples, not at noise."""
        sample_units(hidden_means(self.layer, v[: self.batch_size]), self.layer.linear_hidden, self.chain_hidden)

    def run(self, inputs, order, first_batch: int, n_batches: int, control, momentum: float) -> np.ndarray:
        """Train ``n_batches`` from ``first_batch`` of ``order``; returns each batch's reconstruction error."""
        if len(self.squared_errors) < n_batches:
            self.squared_errors = np.zeros(n_batches)
        config = self.layer.config
        weight, visible_bias, hidden_bias = _parameters(self.layer)
        done = cd_batches(
            inputs,
            order,
            first_batch,
            n_batches,
            weight,
            visible_bias,
            hidden_bias,
            self.steps["weight"],
            self.steps["visible_bias"],
            self.steps["bias"],
            self.stacked_v,
            self.stacked_h,
            self.hidden_sample,
            self.gradient,
            self.chain_hidden,
            self.persistent,
            config.cd_k,
            self.layer.gaussian,
            self.layer.linear_hidden,
            config.learning_rate,
            momentum,
            config.weight_cost,
            control,
            self.squared_errors,
        )
        return self.squared_errors[:done].copy()


def complete(layer, v, known, steps: int = 10, chains: int = 10, fill=None) -> np.ndarray:
    """Fill in the unknown units of v: the known ones are clamped, the rest Gibbs-sampled.

    Each example runs ``chains`` independent chains of ``steps`` steps, all starting from
    ``fill`` (a value or a row, e.g. the training mean image; 0 by default).  The result is
    the average over chains and steps of the expected visible values: a Monte-Carlo
    estimate of E[v_unknown | v_known], the completion with the least expected squared
    error.  One chain alone is a noisy guess; the average is a clear picture.
    """
    rows = _as_rows(layer, v)
    n = len(rows)
    mask = np.tile(np.ascontiguousarray(np.asarray(known).reshape(rows.shape), dtype=bool), (chains, 1))
    state = np.tile(rows, (chains, 1))
    start = np.zeros(rows.shape[1], layer.dtype) if fill is None else np.asarray(fill, layer.dtype)
    state[~mask] = np.broadcast_to(start, state.shape)[~mask]
    total = np.zeros_like(state, dtype=np.float64)
    for _ in range(steps):
        state, means = gibbs(layer, state, 1, mask)
        total += means
    return (total.reshape(chains, n, -1).sum(axis=0) / (steps * chains)).astype(layer.dtype)
