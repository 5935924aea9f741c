"""The time loops of the recurrent layers (SimpleRNN and LSTM), forward and backward through time.

**The batch in parts.**  The sequences of a batch never look at each other, so the batch
is split into P equal parts (``parts.batch_parts``: as many as numba runs threads, 2 on
these machines) and each part runs everything, its input projection, its whole time loop
with its products, its share of the weight gradients, in one call of a part kernel
(``lstm_forward_part`` …), the parts side by side on the cores (``parts.run_parts``).  There
is no barrier inside the time loop; the parts' weight gradients are added up at the end.  On
the ``lstm`` benchmark this took a training step from 4.5 ms to about 2.6 ms (batch 32,
H = 128, T = 20).  The kernels below work on one part: "B" in them is the part's B/P sequences.

Both layers keep their per-step arrays *time-major*, as 2D arrays whose rows
``t·B … (t+1)·B`` are time step t of a batch of B sequences:

- ``xt`` (T·B, I): the input, copied from the batch-major (B, T, I) layout once per batch;
- ``xp`` (T·B, G): the input projection x_t·W_ihᵀ + b for *all* steps, computed by one GEMM
  before the time loop, because it does not depend on the recurrence;
- ``hs`` (T·B + B, H): h_{-1} (the initial state) in the first B rows, then h_0 … h_{T-1}.

Only the product with W_hh has to wait for the previous step; that is one small GEMM per
step (np.dot inside numba goes to scipy's BLAS), followed by one fused element-wise pass
for the gates.  Backward mirrors it: one GEMM per step sends the error to h_{t-1}, and
the weight gradients of all steps are summed by one GEMM each after the loop
(∂C/∂W_hh = Σ_t δ_tᵀ·h_{t-1} is a single (G, T·B)·(T·B, H) product).  The products
take about three quarters of an LSTM step.

The LSTM keeps its per-step arrays *feature-major* instead, as (units, B) blocks (``xp``,
the gates and ``deltas`` as (T·4H, B)), so each step's product has the tall weight matrix
on the left: W_hh·h_{t−1} took 41 µs where h_{t−1}·W_hhᵀ took 51 µs (H = 128, B = 32, one
thread), W_hhᵀ·δ_t 45 µs against 52, and the LSTM's kernels about 5% less in all,
measured against the batch-major version in one process.  Its all-steps GEMMs read
(4H, T·B) copies of those blocks (``spread_steps``), and its per-step products go to
the BLAS in row blocks small enough to skip its packing (``product_in_row_blocks``).

Truncated BPTT (``truncate`` = k > 0): the error travels through the recurrence only
inside blocks of k steps counted from the first input, [0, k), [k, 2k), …; at a block
boundary the gradient into the previous block's state is cut.  That is exactly PyTorch's
usual truncated BPTT: run the sequence chunk by chunk, ``detach()`` the (h, c) carried
into each chunk, sum the losses and call ``backward()`` once.  The initial state belongs
to the first block, so ∂C/∂h_{-1} still arrives when k ≥ 1.

``lengths`` (B,) int64 gives each sequence's number of valid steps: the final state is
read at step lengths[b] − 1 and its gradient enters there.  Padding after a sequence is
still run through (its outputs are simply not read), which keeps the loops branch-free.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from .numeric import FAST_MATH, like, squash
from .parts import copy_into, sum_over_parts

#: the largest product (M·N·K) OpenBLAS hands to its small-matrix kernels (see product_in_row_blocks)
SMALL_PRODUCT = 100**3


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def product_in_row_blocks(a, b, out):
    """out = a·b, computed in blocks of a's rows each at most ``SMALL_PRODUCT`` (M·N·K).

    OpenBLAS multiplies products up to 100³ by its "small matrix" kernels, which skip the
    packing of both operands into its panel layout; above that it repacks the whole weight
    matrix at every call.  A step's W_hh·h_{t−1} for half a batch (512×128 by 128×16, just
    over 100³) took 24.8 µs in one call and 16.6 µs as two blocks of 256 rows; W_hhᵀ·δ_t
    (128×512 by 512×16) 26.5 µs and 18.9 µs as two of 64.  Where the BLAS has no such
    kernels the blocks cost one call each, a microsecond or so."""
    rows, inner = a.shape
    per_block = max(1, SMALL_PRODUCT // max(1, inner * b.shape[1]))
    blocks = (rows + per_block - 1) // per_block
    per_block = (rows + blocks - 1) // blocks  # the same number of blocks, evened out
    for start in range(0, rows, per_block):
        stop = min(start + per_block, rows)
        np.dot(a[start:stop], b, out[start:stop])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def spread_steps(blocks, spread, batch):
    """Per-step blocks (T·G, B), block t = step t's (G, B), copied into ``spread`` (G, T·B):
    the layout in which a sum over all steps is one GEMM."""
    width = spread.shape[0]
    steps = spread.shape[1] // batch
    for t in range(steps):
        block = blocks[t * width : (t + 1) * width]
        for k in range(width):
            row = spread[k, t * batch : (t + 1) * batch]
            for b in range(batch):
                row[b] = block[k, b]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def project_inputs(x, weight_ih, bias, xt, xp, spread, feature_major):
    """xt = x in time-major rows; xp = the projection x·W_ihᵀ + bias of every step at once (one GEMM):
    (T·B, G) rows, or with ``feature_major`` per-step (G, B) blocks (T·G, B), the LSTM's layout,
    computed into ``spread`` (G, T·B) first (unused otherwise)."""
    batch, steps, features = x.shape
    for t in range(steps):
        for b in range(batch):
            row = t * batch + b
            for k in range(features):
                xt[row, k] = x[b, t, k]
    if feature_major:
        np.dot(weight_ih, xt.T, spread)
        width = spread.shape[0]
        for t in range(steps):
            block = xp[t * width : (t + 1) * width]
            for k in range(width):
                row, shift = spread[k, t * batch : (t + 1) * batch], bias[k]
                for b in range(batch):
                    block[k, b] = row[b] + shift
    else:
        np.dot(xt, weight_ih.T, xp)
        for r in range(xp.shape[0]):
            for j in range(xp.shape[1]):
                xp[r, j] += bias[j]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def rnn_forward(xp, weight_hh, hs, batch):
    """h_t = tanh(xp_t + h_{t-1}·W_hhᵀ), written into rows B(t+1) … B(t+2) of ``hs``."""
    hidden = weight_hh.shape[0]
    steps = xp.shape[0] // batch
    for t in range(steps):
        now = hs[(t + 1) * batch : (t + 2) * batch]
        np.dot(hs[t * batch : (t + 1) * batch], weight_hh.T, now)
        for b in range(batch):
            row = t * batch + b
            for j in range(hidden):
                now[b, j] = squash(now[b, j] + xp[row, j])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def lstm_forward(xp, weight_hh, hs, c0, h_now, cells, acts, tanh_c, batch):
    """One LSTM pass over all steps, *feature-major*: every per-step array is (units, B).

    Gates in PyTorch's order (i, f, g, o): i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o),
    c_t = f ⊙ c_{t-1} + i ⊙ g and h_t = o ⊙ tanh(c_t).  Step t's gate block
    ``acts[4H·t : 4H·(t+1)]`` (4H, B) is W_hh·h_{t−1} (one GEMM with the tall matrix on the
    left: a fifth faster than the batch-major h·W_hhᵀ here), then the four activations;
    ``tanh_c`` keeps tanh(c_t), ``cells`` c_{t−1} in block t (c0 (B, H), the initial cell
    state, in block 0), which is all backward needs.  ``xp`` holds the projections in the
    same (T·4H, B) blocks; ``h_now`` (H, B) is h_{t−1}.  h is also written batch-major into
    ``hs`` (T·B + B, H), whose first B rows hold the initial state, for the output, the final
    state and ∂C/∂W_hh.
    """
    hidden = weight_hh.shape[1]
    width = 4 * hidden
    steps = xp.shape[0] // width
    half = like(xp, 0.5)
    for b in range(batch):
        for j in range(hidden):
            h_now[j, b] = hs[b, j]
            cells[j, b] = c0[b, j]
    for t in range(steps):
        z = acts[t * width : (t + 1) * width]
        product_in_row_blocks(weight_hh, h_now, z)
        # each gate's (H, B) block is H·B contiguous values: flat loops from 0 over views
        # made once per step vectorise (an index like 2H + j needs numba's negative-index
        # test at every access, which keeps a loop scalar)
        units = hidden * batch
        gates, projected = z.reshape(width * batch), xp[t * width : (t + 1) * width].reshape(width * batch)
        sigmoids, candidate, output = gates[: 2 * units], gates[2 * units : 3 * units], gates[3 * units :]
        for k in range(2 * units):
            # σ(v) = (1 + tanh(v/2))/2: one squash, and no overflow for any v
            sigmoids[k] = half + half * squash(half * (sigmoids[k] + projected[k]))
        candidate_in, output_in = projected[2 * units : 3 * units], projected[3 * units :]
        for k in range(units):
            candidate[k] = squash(candidate[k] + candidate_in[k])
            output[k] = half + half * squash(half * (output[k] + output_in[k]))
        write, forget = gates[:units], gates[units : 2 * units]
        c_old = cells[t * hidden : (t + 1) * hidden].reshape(units)
        c_new = cells[(t + 1) * hidden : (t + 2) * hidden].reshape(units)
        tanh_now, h_flat = tanh_c[t * hidden : (t + 1) * hidden].reshape(units), h_now.reshape(units)
        for k in range(units):
            c = forget[k] * c_old[k] + write[k] * candidate[k]
            tc = squash(c)
            c_new[k] = c
            tanh_now[k] = tc
            h_flat[k] = output[k] * tc
        for b in range(batch):
            h_out = hs[(t + 1) * batch + b]
            for j in range(hidden):
                h_out[j] = h_now[j, b]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def _add_output_gradient(dh, dy, sequences, t, lengths, d_final, batch):
    """dh += ∂C/∂y_t (every step, or only where the final state was read) + the final-state gradient."""
    hidden = dh.shape[1]
    for b in range(batch):
        if sequences:
            for j in range(hidden):
                dh[b, j] += dy[b, t, j]
        if lengths[b] - 1 == t:
            if not sequences:
                for j in range(hidden):
                    dh[b, j] += dy[b, 0, j]
            for j in range(hidden):
                dh[b, j] += d_final[b, j]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def _norm(array):
    total = 0.0
    for b in range(array.shape[0]):
        for j in range(array.shape[1]):
            total += array[b, j] * array[b, j]
    return np.sqrt(total)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def rnn_backward(dy, sequences, hs, weight_hh, lengths, dh_final, truncate, dh, deltas, norms):
    """BPTT for the SimpleRNN: δ_t = (∂C/∂h_t) ⊙ (1 − h_t²) into ``deltas`` (T·B, H).

    ``dh`` (B, H) carries ∂C/∂h from step t+1 down to t; at the end it holds ∂C/∂h_{-1}.
    ``norms[t]`` = ‖∂C/∂h_t‖ over the batch, the figure the gradient-over-time view plots.
    """
    batch, hidden = dh.shape
    steps = deltas.shape[0] // batch
    zero = like(dh, 0.0)
    one = like(dh, 1.0)
    dh[:] = zero
    for t in range(steps - 1, -1, -1):
        _add_output_gradient(dh, dy, sequences, t, lengths, dh_final, batch)
        norms[t] = _norm(dh)
        delta = deltas[t * batch : (t + 1) * batch]
        for b in range(batch):
            for j in range(hidden):
                h = hs[(t + 1) * batch + b, j]
                delta[b, j] = dh[b, j] * (one - h * h)
        if truncate > 0 and t > 0 and t % truncate == 0:
            dh[:] = zero
        else:
            np.dot(delta, weight_hh, dh)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def lstm_backward(
    dy,
    sequences,
    cells,
    acts,
    tanh_c,
    weight_hh_t,
    lengths,
    dh_final,
    dc_final,
    truncate,
    dh,
    dc,
    dh_now,
    dc_now,
    deltas,
    norms,
):
    """BPTT for the LSTM: δ_t = ∂C/∂z_t for the four gates' inputs, into ``deltas`` (T·4H, B).

    With dh = ∂C/∂h_t and dc the cell's error: ∂C/∂c_t = dc + dh ⊙ o ⊙ (1 − tanh²c_t), then
    δ_i = dc·g·i(1−i), δ_f = dc·c_{t−1}·f(1−f), δ_g = dc·i·(1−g²), δ_o = dh·tanh c_t·o(1−o).
    The cell's error reaches c_{t−1} multiplied by f alone: with f ≈ 1 it passes through many
    steps undiminished, which is why the LSTM remembers where the SimpleRNN forgets.
    Feature-major like ``lstm_forward``: the step's errors ``dh_now``, ``dc_now`` (H, B) and
    δ_t (4H, B), so ∂C/∂h_{t−1} = W_hhᵀ·δ_t is again a tall GEMM, read from ``weight_hh_t``,
    a contiguous copy of W_hhᵀ (the transposed view as operand was 10% slower); ``dh``,
    ``dc`` (B, H) receive ∂C/∂h_{−1} and ∂C/∂c_{−1} at the end.
    """
    batch, hidden = dh.shape
    width = 4 * hidden
    steps = deltas.shape[0] // width
    zero = like(dh, 0.0)
    one = like(dh, 1.0)
    dh_now[:] = zero
    dc_now[:] = zero
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            if sequences:
                for j in range(hidden):
                    dh_now[j, b] += dy[b, t, j]
            if lengths[b] - 1 == t:
                for j in range(hidden):
                    dh_now[j, b] += dh_final[b, j] + (zero if sequences else dy[b, 0, j])
                    dc_now[j, b] += dc_final[b, j]
        norms[t] = _norm(dh_now)
        # flat views over each gate's H·B values, as in lstm_forward
        units = hidden * batch
        gates = acts[t * width : (t + 1) * width].reshape(width * batch)
        i, f, g, o = gates[:units], gates[units : 2 * units], gates[2 * units : 3 * units], gates[3 * units :]
        delta = deltas[t * width : (t + 1) * width]
        flat = delta.reshape(width * batch)
        d_i, d_f, d_g, d_o = flat[:units], flat[units : 2 * units], flat[2 * units : 3 * units], flat[3 * units :]
        tc = tanh_c[t * hidden : (t + 1) * hidden].reshape(units)
        c_old = cells[t * hidden : (t + 1) * hidden].reshape(units)
        dh_flat, dc_flat = dh_now.reshape(units), dc_now.reshape(units)
        cut = truncate > 0 and t > 0 and t % truncate == 0
        for k in range(units):
            dcell = dc_flat[k] + dh_flat[k] * o[k] * (one - tc[k] * tc[k])
            d_i[k] = dcell * g[k] * i[k] * (one - i[k])
            d_f[k] = dcell * c_old[k] * f[k] * (one - f[k])
            d_g[k] = dcell * i[k] * (one - g[k] * g[k])
            d_o[k] = dh_flat[k] * tc[k] * o[k] * (one - o[k])
            dc_flat[k] = zero if cut else dcell * f[k]
        if cut:
            dh_now[:] = zero
        else:
            product_in_row_blocks(weight_hh_t, delta, dh_now)
    for b in range(batch):
        for j in range(hidden):
            dh[b, j] = dh_now[j, b]
            dc[b, j] = dc_now[j, b]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def recurrent_weight_gradients(
    deltas, spread, xt, hs, weight_ih, feature_major, grad_ih, grad_hh, grad_bias, dxt, want_dx
):
    """Sum the gradients of all steps with one GEMM each: ∂C/∂W_ih = Σ_t δ_tᵀ·x_t,
    ∂C/∂W_hh = Σ_t δ_tᵀ·h_{t−1}, ∂C/∂b = Σ_t Σ_b δ_t; and ∂C/∂x_t = δ_t·W_ih for all steps.
    ``deltas`` is (T·B, G), or with ``feature_major`` per-step blocks (T·G, B), first
    copied into ``spread`` (G, T·B) so that each sum over the steps is one GEMM."""
    if feature_major:
        spread_steps(deltas, spread, deltas.shape[1])
        rows = spread.shape[1]
        np.dot(spread, xt, grad_ih)
        np.dot(spread, hs[:rows], grad_hh)
        for j in range(grad_bias.shape[0]):
            total = like(grad_bias, 0.0)
            for r in range(rows):
                total += spread[j, r]
            grad_bias[j] = total
        if want_dx:
            np.dot(spread.T, weight_ih, dxt)
        return
    rows = deltas.shape[0]
    np.dot(deltas.T, xt, grad_ih)
    np.dot(deltas.T, hs[:rows], grad_hh)
    for j in range(grad_bias.shape[0]):
        grad_bias[j] = 0.0
    for r in range(rows):
        for j in range(deltas.shape[1]):
            grad_bias[j] += deltas[r, j]
    if want_dx:
        np.dot(deltas, weight_ih, dxt)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def to_batch_major(rows, batch, out):
    """Copy time-major rows (T·B, F) into a batch-major (B, T, F) array."""
    steps = out.shape[1]
    for b in range(batch):
        for t in range(steps):
            for k in range(out.shape[2]):
                out[b, t, k] = rows[t * batch + b, k]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def gather_final_cells(cells, lengths, out):
    """out[b] = c at step lengths[b] − 1 of sequence b, from the LSTM's feature-major ``cells``
    (block t + 1 holds c_t)."""
    hidden = out.shape[1]
    for b in range(out.shape[0]):
        block = cells[lengths[b] * hidden : (lengths[b] + 1) * hidden]
        for j in range(hidden):
            out[b, j] = block[j, b]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def gather_final(rows, batch, lengths, out):
    """out[b] = the row of step lengths[b] − 1 of sequence b in ``rows`` (which start with the initial state)."""
    for b in range(batch):
        r = lengths[b] * batch + b
        for k in range(out.shape[1]):
            out[b, k] = rows[r, k]


# --- the batch in parts, one thread each ---------------------------------------------------
# Each part of a step is one call of a ``*_part`` kernel; ``parts.run_parts`` makes those calls
# in turn, or side by side through the ``*_parts`` driver, whose ``prange`` makes the same calls
# (see parts.py for why both).  The drivers pass ``np.int64(p)``, not ``p``: numba types a
# ``prange`` body twice, with p an int64 (the loop as written) and a uint64 (the parallel loop it
# outlines), and would compile the part kernel under both signatures.

#: A recurrent layer's work arrays for one (batch, T), each stacked over the P parts of the
#: batch: part p works in ``array[p]`` alone, laid out as the kernels above expect for a
#: batch of B/P.  ``norms``, ``grad_*`` hold each part's ‖∂C/∂h_t‖ and weight gradients,
#: which ``combine_parts`` adds up.  (``spread`` is ``xp`` itself where not feature-major.)
RecurrentWork = namedtuple("RecurrentWork", "xt xp spread hs deltas dxt norms grad_ih grad_hh grad_bias")
#: The LSTM's own per-part arrays, feature-major: h_{t−1}, c of every step, gate activations,
#: tanh(c_t) and the step's errors (see lstm_forward, lstm_backward).
LSTMWork = namedtuple("LSTMWork", "h_now cells acts tanh_c dh_now dc_now")

# The three helpers below only pick a part's arrays and call kernels: inlined into the part
# kernels (whose fastmath and error model are theirs), so they are not libraries of their own.
# numba links every callee's code into each caller's library and optimises and emits it again
# there; a helper as a library of its own cost a further copy of everything below it, 1.5 s of
# an LSTM lesson's cold start.


@njit(nogil=True, cache=True, inline="always")
def _start_part(x, p, weight_ih, bias, work, feature_major, h0):
    """Part p's input projection of every step, and its initial state h_{−1}."""
    project_inputs(x[p], weight_ih, bias, work.xt[p], work.xp[p], work.spread[p], feature_major)
    copy_into(work.hs[p], h0[p])


@njit(nogil=True, cache=True, inline="always")
def _finish_part(work, p, lengths, final_h, sequences, out):
    """Part p's final state and, with ``sequences``, its h_t of every step batch-major."""
    n = lengths.shape[1]
    gather_final(work.hs[p], n, lengths[p], final_h[p])
    if sequences:
        to_batch_major(work.hs[p][n:], n, out[p])


@njit(nogil=True, cache=True, inline="always")
def _part_weight_gradients(work, p, weight_ih, feature_major, want_dx, dx):
    """Part p's share of the weight gradients and, with ``want_dx``, its ∂C/∂x batch-major."""
    recurrent_weight_gradients(
        work.deltas[p],
        work.spread[p],
        work.xt[p],
        work.hs[p],
        weight_ih,
        feature_major,
        work.grad_ih[p],
        work.grad_hh[p],
        work.grad_bias[p],
        work.dxt[p],
        want_dx,
    )
    if want_dx:
        to_batch_major(work.dxt[p], dx.shape[1], dx[p])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def combine_parts(work, grad_ih, grad_hh, grad_bias, norms):
    """After the parts' backward: the whole batch's weight gradients from the parts', and
    ‖∂C/∂h_t‖ over the whole batch."""
    sum_over_parts(work.grad_ih, grad_ih)
    sum_over_parts(work.grad_hh, grad_hh)
    sum_over_parts(work.grad_bias, grad_bias)
    for t in range(norms.shape[0]):
        total = 0.0
        for p in range(work.norms.shape[0]):
            total += work.norms[p, t] * work.norms[p, t]
        norms[t] = np.sqrt(total)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def rnn_forward_part(p, x, weight_ih, bias, weight_hh, h0, lengths, work, final_h, sequences, out):
    """Part p of the SimpleRNN forward."""
    _start_part(x, p, weight_ih, bias, work, False, h0)
    rnn_forward(work.xp[p], weight_hh, work.hs[p], x.shape[1])
    _finish_part(work, p, lengths, final_h, sequences, out)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True, fastmath=FAST_MATH, error_model="numpy")
def rnn_forward_parts(x, weight_ih, bias, weight_hh, h0, lengths, work, final_h, sequences, out):
    """The SimpleRNN forward, each part of the batch (x: (P, B/P, T, I)) on its own thread."""
    for p in prange(x.shape[0]):
        rnn_forward_part(np.int64(p), x, weight_ih, bias, weight_hh, h0, lengths, work, final_h, sequences, out)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def rnn_backward_part(p, dy, sequences, weight_ih, weight_hh, lengths, dh_final, truncate, work, dh, want_dx, dx):
    """Part p of the SimpleRNN's BPTT, and its share of the weight gradients."""
    rnn_backward(
        dy[p],
        sequences,
        work.hs[p],
        weight_hh,
        lengths[p],
        dh_final[p],
        truncate,
        dh[p],
        work.deltas[p],
        work.norms[p],
    )
    _part_weight_gradients(work, p, weight_ih, False, want_dx, dx)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True, fastmath=FAST_MATH, error_model="numpy")
def rnn_backward_parts(dy, sequences, weight_ih, weight_hh, lengths, dh_final, truncate, work, dh, want_dx, dx):
    """The SimpleRNN's BPTT, each part of the batch on its own thread (``combine_parts`` follows)."""
    for p in prange(dy.shape[0]):
        rnn_backward_part(
            np.int64(p), dy, sequences, weight_ih, weight_hh, lengths, dh_final, truncate, work, dh, want_dx, dx
        )


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def lstm_forward_part(p, x, weight_ih, bias, weight_hh, h0, c0, lengths, work, cell, final_h, final_c, sequences, out):
    """Part p of the LSTM forward."""
    _start_part(x, p, weight_ih, bias, work, True, h0)
    lstm_forward(
        work.xp[p],
        weight_hh,
        work.hs[p],
        c0[p],
        cell.h_now[p],
        cell.cells[p],
        cell.acts[p],
        cell.tanh_c[p],
        x.shape[1],
    )
    _finish_part(work, p, lengths, final_h, sequences, out)
    gather_final_cells(cell.cells[p], lengths[p], final_c[p])


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True, fastmath=FAST_MATH, error_model="numpy")
def lstm_forward_parts(x, weight_ih, bias, weight_hh, h0, c0, lengths, work, cell, final_h, final_c, sequences, out):
    """The LSTM forward, each part of the batch (x: (P, B/P, T, I)) on its own thread."""
    for p in prange(x.shape[0]):
        lstm_forward_part(
            np.int64(p), x, weight_ih, bias, weight_hh, h0, c0, lengths, work, cell, final_h, final_c, sequences, out
        )


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def lstm_backward_part(
    p, dy, sequences, weight_ih, weight_hh_t, lengths, dh_final, dc_final, truncate, work, cell, dh, dc, want_dx, dx
):
    """Part p of the LSTM's BPTT, and its share of the weight gradients."""
    lstm_backward(
        dy[p],
        sequences,
        cell.cells[p],
        cell.acts[p],
        cell.tanh_c[p],
        weight_hh_t,
        lengths[p],
        dh_final[p],
        dc_final[p],
        truncate,
        dh[p],
        dc[p],
        cell.dh_now[p],
        cell.dc_now[p],
        work.deltas[p],
        work.norms[p],
    )
    _part_weight_gradients(work, p, weight_ih, True, want_dx, dx)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True, fastmath=FAST_MATH, error_model="numpy")
def lstm_backward_parts(
    dy, sequences, weight_ih, weight_hh_t, lengths, dh_final, dc_final, truncate, work, cell, dh, dc, want_dx, dx
):
    """The LSTM's BPTT, each part of the batch on its own thread (``combine_parts`` follows)."""
    for p in prange(dy.shape[0]):
        lstm_backward_part(
            np.int64(p),
            dy,
            sequences,
            weight_ih,
            weight_hh_t,
            lengths,
            dh_final,
            dc_final,
            truncate,
            work,
            cell,
            dh,
            dc,
            want_dx,
            dx,
        )
