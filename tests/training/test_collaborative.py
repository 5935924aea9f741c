"""The collaborative-filtering RBM: it must beat the item-mean baseline, repeat exactly when
seeded, and its free energy and conditionals must be those of the softmax-visible RBM."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from playground.cli import main
from playground.datasets.ratings import Ratings, synthetic_ratings
from playground.training import TrainingControl
from playground.training.collaborative import (
    RatingsEpoch,
    RatingsRBM,
    RatingsRBMSettings,
    RatingsRBMTrainer,
    item_mean_predictions,
    rmse,
    train_ratings_rbm,
)


@pytest.fixture(scope="module")
def example() -> Ratings:
    return synthetic_ratings()


def test_the_rbm_beats_the_item_mean_baseline_by_a_real_margin(example):
    records = list(train_ratings_rbm(example))
    last = records[-1]
    assert [r.epoch for r in records] == list(range(1, RatingsRBMSettings().epochs + 1))
    assert last.item_mean_rmse < last.global_mean_rmse  # the baselines are what they claim to be
    assert last.item_mean_rmse == pytest.approx(
        rmse(item_mean_predictions(example, example.heldout_items), example.heldout_values)
    )
    # measured with the defaults (seed 0): RBM 0.756, item mean 1.039, global mean 1.129
    assert last.heldout_rmse < 0.85 * last.item_mean_rmse
    assert last.train_rmse < records[0].train_rmse


def test_a_seeded_run_reproduces_exactly_and_another_seed_differs(example):
    settings = RatingsRBMSettings(epochs=10)

    def run(seed):
        trainer = RatingsRBMTrainer(example, dataclasses.replace(settings, seed=seed))
        return [
            (r.train_rmse, r.heldout_rmse) for r in trainer.run() if isinstance(r, RatingsEpoch)
        ], trainer.model.weight.copy()

    (first, weight), (again, weight_again), (other, other_weight) = run(7), run(7), run(8)
    assert first == again
    np.testing.assert_array_equal(weight, weight_again)
    assert other != first and not np.array_equal(weight, other_weight)


def test_stop_ends_the_run_between_epochs(example):
    control = TrainingControl(0.05)
    records = []
    for record in train_ratings_rbm(example, RatingsRBMSettings(epochs=5), control):
        records.append(record)
        control.stop()
    assert len(records) == 1


def _tiny(seed=0):
    """3 items with 3 rating levels, 3 hidden units, two users: small enough to enumerate every h."""
    rng = np.random.default_rng(seed)
    ratings = Ratings(
        "tiny",
        np.array([0, 0, 1]),
        np.array([0, 2, 1]),
        np.array([3, 1, 2]),
        np.array([0]),
        np.array([1]),
        np.array([2]),
        ["a", "b"],
        ["x", "y", "z"],
        1,
        3,
        "hand-made",
    )
    model = RatingsRBM(3, 3, 3, rng)
    model.weight[...] = rng.normal(0, 1.0, model.weight.shape)
    model.visible_bias[...] = rng.normal(0, 1.0, model.visible_bias.shape)
    model.hidden_bias[...] = rng.normal(0, 1.0, model.hidden_bias.shape)
    return ratings, model


def _energy(model, rated, h):
    """E(V, h) for ``rated`` = {item: level}, straight from the definition."""
    return -sum(model.visible_bias[i, k] + model.weight[i, k] @ h for i, k in rated.items()) - model.hidden_bias @ h


def _all_hidden_states(n):
    return [np.array(bits, float) for bits in itertools.product([0, 1], repeat=n)]


def test_free_energy_and_hidden_probabilities_match_exact_enumeration():
    ratings, model = _tiny()
    users = {0: {0: 2, 2: 0}, 1: {1: 1}}  # training ratings as levels (rating − 1)
    energies = model.free_energies(ratings)
    hidden = model.hidden_probabilities(ratings)
    for user, rated in users.items():
        weights = np.array([np.exp(-_energy(model, rated, h)) for h in _all_hidden_states(3)])
        assert energies[user] == pytest.approx(-np.log(weights.sum()), rel=1e-12)
        exact_hidden = sum(w * h for w, h in zip(weights, _all_hidden_states(3))) / weights.sum()
        np.testing.assert_allclose(hidden[user], exact_hidden, rtol=1e-12)


def test_the_predicted_rating_is_the_expectation_of_the_visible_softmax():
    """For a hidden state h, p(v_q = k | h) ∝ exp(−E(V ∪ {q: k}, h)) by enumeration of k; the
    prediction given p̂ = p(h | V) is Σ_k r_k p(v_q = k | p̂)."""
    ratings, model = _tiny(1)
    rated = {0: 2, 2: 0}
    for h in _all_hidden_states(3):
        weights = np.array([np.exp(-_energy(model, {**rated, 1: k}, h)) for k in range(3)])
        exact = (weights / weights.sum()) @ np.array([1.0, 2.0, 3.0])
        predicted = model.predict(ratings, np.array([0]), np.array([1]), hidden=np.array([h, h]))
        assert predicted[0] == pytest.approx(exact, rel=1e-12)
    mean_field = model.hidden_probabilities(ratings)[0]
    logits = model.visible_bias[1] + model.weight[1] @ mean_field
    expected = np.exp(logits) / np.exp(logits).sum() @ np.array([1.0, 2.0, 3.0])
    assert model.predict(ratings, np.array([0]), np.array([1]))[0] == pytest.approx(expected, rel=1e-12)


def test_the_command_prints_each_epoch_and_the_comparison(capsys, tmp_path):
    assert main(["ratings", "--epochs", "2", "--hidden", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("epoch   1/2  train RMSE") and out[1].startswith("epoch   2/2")
    assert out[-1].startswith("held-out RMSE: RBM ") and "item mean" in out[-1] and "global mean" in out[-1]
    good = tmp_path / "good.csv"
    good.write_text(
        "user,item,rating\n" + "".join(f"u{u},i{i},{1 + (u * i) % 5}\n" for u in range(8) for i in range(6))
    )
    assert main(["ratings", "--data-file", str(good), "--epochs", "1"]) == 0
    assert "held-out RMSE: RBM" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("u,i,3\nu,j,six\n")
    assert main(["ratings", "--data-file", str(bad)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "bad.csv line 2" in error[0] and "six" in error[0]
