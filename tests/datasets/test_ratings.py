"""Ratings for collaborative filtering: the seeded generator and the CSV loader."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets import DatasetError
from playground.datasets.ratings import (
    HELDOUT_FRACTION,
    load_ratings_csv,
    synthetic_ratings,
)


def _arrays(ratings):
    return [
        ratings.train_users,
        ratings.train_items,
        ratings.train_values,
        ratings.heldout_users,
        ratings.heldout_items,
        ratings.heldout_values,
    ]


def test_the_generator_is_seeded_and_reproducible():
    first, again, other = synthetic_ratings(seed=4), synthetic_ratings(seed=4), synthetic_ratings(seed=5)
    for a, b in zip(_arrays(first), _arrays(again)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.train_values, other.train_values)


def test_most_ratings_are_missing_and_the_held_out_share_is_disjoint():
    ratings = synthetic_ratings(n_users=500, n_items=80, observed=0.07, seed=1)
    assert 0.06 < ratings.observed_fraction < 0.08
    n_observed = len(ratings.train_values) + len(ratings.heldout_values)
    assert abs(len(ratings.heldout_values) - HELDOUT_FRACTION * n_observed) <= 1
    train_pairs = set(zip(ratings.train_users.tolist(), ratings.train_items.tolist()))
    heldout_pairs = set(zip(ratings.heldout_users.tolist(), ratings.heldout_items.tolist()))
    assert len(train_pairs) == len(ratings.train_values) and not train_pairs & heldout_pairs
    assert set(np.unique(ratings.train_values)) == {1, 2, 3, 4, 5}
    assert np.all(np.diff(ratings.train_users) >= 0)  # each user's ratings are one contiguous run
    starts = ratings.user_starts
    assert starts[0] == 0 and starts[-1] == len(ratings.train_values)
    assert np.all(ratings.train_users[starts[7] : starts[8]] == 7)


def test_ratings_carry_the_users_tastes():
    """Two users' ratings of the items they share agree more often than chance would make them:
    the structure a collaborative filter can use."""
    dense = synthetic_ratings(n_users=60, n_items=40, observed=1.0, noise=0.1, seed=2)
    table = np.zeros((60, 40))
    table[dense.train_users, dense.train_items] = dense.train_values
    table[dense.heldout_users, dense.heldout_items] = dense.heldout_values
    centred = table - table.mean(axis=0)
    correlations = np.corrcoef(centred)[np.triu_indices(60, 1)]
    assert np.mean(np.abs(correlations)) > 0.3


def test_a_good_csv_file_loads_with_any_ids(tmp_path):
    path = tmp_path / "ratings.csv"
    lines = ["user,item,rating"] + [f"u{u},film {i},{1 + (u + i) % 5}" for u in range(6) for i in range(5)]
    lines.insert(5, "")  # blank lines are skipped
    path.write_text("\n".join(lines) + "\n")
    ratings = load_ratings_csv(path, seed=3)
    assert ratings.n_users == 6 and ratings.n_items == 5 and ratings.levels == 5
    assert len(ratings.train_values) + len(ratings.heldout_values) == 30 and len(ratings.heldout_values) == 3
    assert ratings.user_names[0] == "u0" and ratings.item_names[4] == "film 4"
    u, i = ratings.heldout_users[0], ratings.heldout_items[0]
    user, item = int(ratings.user_names[u][1:]), int(ratings.item_names[i].split()[1])
    assert ratings.heldout_values[0] == 1 + (user + item) % 5


def test_a_file_without_a_header_and_with_another_rating_range_loads(tmp_path):
    path = tmp_path / "stars.csv"
    path.write_text("a,x,0\na,y,10\nb,x,7\n")
    ratings = load_ratings_csv(path, min_rating=0, max_rating=10)
    assert ratings.levels == 11 and ratings.n_users == 2
    assert sorted(np.concatenate([ratings.train_values, ratings.heldout_values]).tolist()) == [0, 7, 10]


def test_bad_lines_are_reported_together_with_their_line_numbers(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating\nann,a,5\nann,b,x\nbob,a,9\nbob\n,a,3\nann,a,4\nbob,b,2\n")
    with pytest.raises(DatasetError) as caught:
        load_ratings_csv(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("ratings.csv has 5 bad rows")
    for expected in (
        'line 3: the rating "x" is not a whole number',
        "line 4: the rating 9 is outside 1–5",
        "line 5: expected 3 values",
        "line 6: the user id is empty",
        'line 7: user "ann" rates item "a" again (first on line 2)',
    ):
        assert expected in message
    assert "line 8" not in message


def test_an_empty_file_and_a_header_alone_are_refused_clearly(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("\n  \n")
    with pytest.raises(DatasetError, match="empty.csv is empty; expected lines of user,item,rating"):
        load_ratings_csv(empty)
    header = tmp_path / "header.csv"
    header.write_text("user,item,rating\n")
    with pytest.raises(DatasetError, match="holds 0 rating"):
        load_ratings_csv(header)
    with pytest.raises(DatasetError, match="cannot read ratings file"):
        load_ratings_csv(tmp_path / "missing.csv")


def test_limits_are_enforced_with_a_message(tmp_path, monkeypatch):
    from playground import budgets as module

    path = tmp_path / "many.csv"
    path.write_text("".join(f"u,i{i},3\n" for i in range(12)))
    monkeypatch.setattr(module, "MAX_ITEMS", 10)
    with pytest.raises(DatasetError, match="12 items, more than the budget MAX_ITEMS = 10"):
        load_ratings_csv(path)
    monkeypatch.setattr(module, "MAX_RATINGS", 5)
    with pytest.raises(DatasetError, match="at least 6 ratings, more than the budget MAX_RATINGS = 5"):
        load_ratings_csv(path)
    with pytest.raises(DatasetError, match="rating range"):
        load_ratings_csv(path, min_rating=5, max_rating=1)
