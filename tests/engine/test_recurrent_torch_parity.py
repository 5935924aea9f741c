"""Parity with torch.nn.RNN, torch.nn.LSTM and torch.nn.Embedding: same weights (torch's layout and
gate order i, f, g, o), same outputs, final states and gradients, including truncated BPTT."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.layers import layer_class

torch = pytest.importorskip("torch")

TORCH_MODULES = {"simple_rnn": "RNN", "lstm": "LSTM"}


def twins(kind, features, hidden, steps, dtype, seed=0):
    cls = layer_class(kind)
    ours = cls("rec", cls.Config(hidden=hidden, return_sequences="yes"), (steps, features), dtype)
    ours.initialize("xavier", np.random.default_rng(seed))
    ours.params["bias_hh"][...] = np.random.default_rng(seed + 1).standard_normal(ours.params["bias_hh"].shape) * 0.3
    theirs = getattr(torch.nn, TORCH_MODULES[kind])(features, hidden, batch_first=True)
    theirs = theirs.double() if dtype == np.float64 else theirs
    with torch.no_grad():
        for name, value in ours.params.items():
            getattr(theirs, f"{name}_l0").copy_(torch.from_numpy(value))
    return ours, theirs


def torch_state(ours, state):
    tensors = [torch.tensor(s[None], requires_grad=True) for s in state]
    return tensors, (tuple(tensors) if ours.type_id == "lstm" else tensors[0])


def final_tuple(ours, final):
    return final if ours.type_id == "lstm" else (final,)


@pytest.mark.parametrize("kind", sorted(TORCH_MODULES))
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
def test_forward_backward_and_states_match_torch(kind, dtype, tol):
    rng = np.random.default_rng(1)
    batch, steps, features, hidden = 4, 7, 3, 6
    ours, theirs = twins(kind, features, hidden, steps, dtype)
    x = rng.standard_normal((batch, steps, features)).astype(dtype)
    state = tuple(rng.standard_normal((batch, hidden)).astype(dtype) for _ in ours.state_names)
    dy = rng.standard_normal((batch, steps, hidden)).astype(dtype)
    d_final = tuple(rng.standard_normal((batch, hidden)).astype(dtype) for _ in ours.state_names)

    y = ours.forward(x, True, initial_state=state).copy()
    finals = [f.copy() for f in ours.final_state]
    dx = ours.backward(dy, d_final).copy()

    tx = torch.tensor(x, requires_grad=True)
    t_state, t_initial = torch_state(ours, state)
    ty, t_final = theirs(tx, t_initial)
    t_final = final_tuple(ours, t_final)
    loss = (ty * torch.from_numpy(dy)).sum() + sum((f[0] * torch.from_numpy(d)).sum() for f, d in zip(t_final, d_final))
    loss.backward()

    assert np.allclose(y, ty.detach().numpy(), atol=tol)
    for mine, theirs_final in zip(finals, t_final):
        assert np.allclose(mine, theirs_final[0].detach().numpy(), atol=tol)
    assert np.allclose(dx, tx.grad.numpy(), atol=tol * 10)
    for mine, tensor in zip(ours.d_initial_state, t_state):
        assert np.allclose(mine, tensor.grad[0].numpy(), atol=tol * 10)
    for name, grad in ours.grads.items():
        assert np.allclose(grad, getattr(theirs, f"{name}_l0").grad.numpy(), atol=tol * 10), name


@pytest.mark.parametrize("kind", sorted(TORCH_MODULES))
def test_truncated_bptt_is_torch_chunks_with_detached_states(kind):
    """``truncate`` = k: PyTorch running k-step chunks, the state carried between chunks detached,
    the losses of all chunks summed and one backward (documented in playground/engine/recurrent.py)."""
    rng = np.random.default_rng(2)
    batch, steps, features, hidden, k = 3, 10, 2, 4, 4
    ours, theirs = twins(kind, features, hidden, steps, np.float64)
    x = rng.standard_normal((batch, steps, features))
    state = tuple(rng.standard_normal((batch, hidden)) for _ in ours.state_names)
    dy = rng.standard_normal((batch, steps, hidden))
    ours.truncate = k
    ours.forward(x, True, initial_state=state)
    dx = ours.backward(dy).copy()

    tx = torch.tensor(x, requires_grad=True)
    t_state, carried = torch_state(ours, state)
    loss = 0.0
    for start in range(0, steps, k):
        if start:
            carried = tuple(s.detach() for s in carried) if kind == "lstm" else carried.detach()
        out, carried = theirs(tx[:, start : start + k], carried)
        loss = loss + (out * torch.from_numpy(dy[:, start : start + k])).sum()
    loss.backward()
    assert np.allclose(dx, tx.grad.numpy(), atol=1e-10)
    for mine, tensor in zip(ours.d_initial_state, t_state):
        assert np.allclose(mine, tensor.grad[0].numpy(), atol=1e-10)
    for name, grad in ours.grads.items():
        assert np.allclose(grad, getattr(theirs, f"{name}_l0").grad.numpy(), atol=1e-10), name


def test_time_grad_norms_match_torch_hidden_state_gradients():
    """‖∂C/∂h_t‖ equals the norm of torch's gradient w.r.t. h_t when each h_t is fed forward by hand."""
    rng = np.random.default_rng(3)
    batch, steps, features, hidden = 2, 5, 3, 4
    ours, theirs = twins("lstm", features, hidden, steps, np.float64)
    x = rng.standard_normal((batch, steps, features))
    dy = rng.standard_normal((batch, steps, hidden))
    ours.forward(x, True)
    ours.backward(dy)
    cell = torch.nn.LSTMCell(features, hidden).double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(theirs, f"{name}_l0"))
    h = c = torch.zeros(batch, hidden, dtype=torch.float64)
    hs = []
    for t in range(steps):
        h, c = cell(torch.from_numpy(x[:, t]), (h, c))
        h.retain_grad()
        hs.append(h)
    sum((h * torch.from_numpy(dy[:, t])).sum() for t, h in enumerate(hs)).backward()
    expected = [float(h.grad.norm()) for h in hs]
    assert np.allclose(ours.time_grad_norms, expected, rtol=1e-10)


def test_embedding_matches_torch():
    rng = np.random.default_rng(4)
    cls = layer_class("embedding")
    ours = cls("emb", cls.Config(vocabulary=7, dimension=3), (5,), np.float64)
    ours.initialize("xavier", rng)
    theirs = torch.nn.Embedding(7, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.params["weight"]))
    ids = rng.integers(0, 7, (4, 5))
    dy = rng.standard_normal((4, 5, 3))
    out = ours.forward(ids, True)
    ours.backward(dy)
    t_out = theirs(torch.from_numpy(ids))
    (t_out * torch.from_numpy(dy)).sum().backward()
    assert np.allclose(out, t_out.detach().numpy())
    assert np.allclose(ours.grads["weight"], theirs.weight.grad.numpy())
