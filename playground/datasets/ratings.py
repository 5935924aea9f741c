"""Ratings for collaborative filtering: who rated which item how, with most ratings missing.

A ratings table is not a `Dataset` of examples and targets: each user rated a few items
out of many, and the task is to guess the ratings nobody has seen.  So it has its own
plain container, `Ratings`, holding the observed (user, item, rating) triples split into
the ratings a model learns from and a held-out share it is scored on.

Two sources:

- `synthetic_ratings`: users with latent tastes and items with latent attributes (a few
  factors each); a rating is their match, plus the item's general appeal, plus noise,
  cut into the levels 1–5.  Only a small seeded share of the ratings is observed, as in
  real rating data, where a user has seen a few films out of thousands.  Because the
  tastes are real structure, a model that reads a user's other ratings can beat the
  item-mean baseline; with pure noise nothing could.
- `load_ratings_csv`: a user's own file of ``user,item,rating`` lines.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from playground import budgets
from playground.datasets.csv_import import Problems, read_csv_rows
from playground.datasets.dataset import DatasetError

#: Share of the observed ratings held out for scoring, by the generator and the CSV loader.
HELDOUT_FRACTION = 0.1

#: The most rating levels a scale may have (0–10); the budgets on files are in ``playground.budgets``.
MAX_LEVELS = 11


@dataclass
class Ratings:
    """Observed ratings as parallel arrays, training triples sorted by user.

    ``*_users`` and ``*_items`` are int64 indices into ``user_names`` and ``item_names``;
    ``*_values`` are the ratings themselves (int64, ``min_rating`` … ``max_rating``).
    Sorting the training triples by user makes each user's ratings one contiguous run,
    ``train_items[user_starts[u]:user_starts[u + 1]]``: the layout in which each user is one
    training case of the RBM.
    """

    name: str
    train_users: np.ndarray
    train_items: np.ndarray
    train_values: np.ndarray
    heldout_users: np.ndarray
    heldout_items: np.ndarray
    heldout_values: np.ndarray
    user_names: list[str]
    item_names: list[str]
    min_rating: int
    max_rating: int
    source: str

    @property
    def n_users(self) -> int:
        return len(self.user_names)

    @property
    def n_items(self) -> int:
        return len(self.item_names)

    @property
    def levels(self) -> int:
        """How many rating values there are: K, the size of each item's softmax."""
        return self.max_rating - self.min_rating + 1

    @property
    def user_starts(self) -> np.ndarray:
        """Where each user's run of training ratings begins (n_users + 1 offsets)."""
        return np.searchsorted(self.train_users, np.arange(self.n_users + 1)).astype(np.int64)

    @property
    def observed_fraction(self) -> float:
        return (len(self.train_values) + len(self.heldout_values)) / max(self.n_users * self.n_items, 1)


def _ints(array) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.int64)


def _split(users, items, values, rng, name, user_names, item_names, min_rating, max_rating, source) -> Ratings:
    """Hold out a seeded ``HELDOUT_FRACTION`` of the triples (at least one, never all)."""
    n = len(values)
    order = rng.permutation(n)
    n_heldout = min(max(1, round(n * HELDOUT_FRACTION)), n - 1)
    heldout, train = order[:n_heldout], order[n_heldout:]
    train = train[np.lexsort((items[train], users[train]))]
    heldout = heldout[np.lexsort((items[heldout], users[heldout]))]
    return Ratings(
        name,
        _ints(users[train]),
        _ints(items[train]),
        _ints(values[train]),
        _ints(users[heldout]),
        _ints(items[heldout]),
        _ints(values[heldout]),
        user_names,
        item_names,
        min_rating,
        max_rating,
        f"{source}; {n - n_heldout:,} ratings to learn from, {n_heldout:,} held out",
    )


def synthetic_ratings(
    n_users: int = 2000, n_items: int = 100, factors: int = 3, observed: float = 0.1, noise: float = 0.35, seed: int = 0
) -> Ratings:
    """Users and items with ``factors`` latent dimensions; ratings 1–5; ``observed`` of them kept.

    score(u, i) = taste_u · attributes_i / √factors + appeal_i + noise, with tastes,
    attributes and appeal drawn N(0, 1) (appeal N(0, 0.5²)), so part of every rating is
    the item's general appeal (what the item-mean baseline captures) and most is the
    match of taste and attributes (what only a model of the user can).  Scores are cut
    into five levels at fixed quantiles (10, 25, 30, 25, 10 %), so ratings use the whole
    scale whatever the parameters.
    """
    if not 0.0 < observed <= 1.0:
        raise DatasetError(f"the observed share of ratings must be in (0, 1], not {observed}")
    if n_users < 2 or n_items < 2 or factors < 1:
        raise DatasetError("a ratings example needs at least 2 users, 2 items and 1 latent factor")
    rng = np.random.default_rng(seed)
    tastes = rng.normal(size=(n_users, factors))
    attributes = rng.normal(size=(n_items, factors))
    appeal = rng.normal(0.0, 0.5, size=n_items)
    scores = tastes @ attributes.T / np.sqrt(factors) + appeal + rng.normal(0.0, noise, size=(n_users, n_items))
    cuts = np.quantile(scores, np.cumsum([0.10, 0.25, 0.30, 0.25]))
    ratings = 1 + np.searchsorted(cuts, scores)
    users, items = np.nonzero(rng.random((n_users, n_items)) < observed)
    if len(users) < 2:
        raise DatasetError(f"an observed share of {observed} leaves fewer than 2 ratings")
    source = (
        f"synthetic ratings: {n_users} users with {factors} latent tastes, {n_items} items, "
        f"{len(users):,} ratings 1–5 observed ({100 * len(users) / (n_users * n_items):.1f}%), seed {seed}"
    )
    return _split(
        users,
        items,
        ratings[users, items],
        rng,
        "synthetic ratings",
        [f"user {u}" for u in range(n_users)],
        [f"item {i}" for i in range(n_items)],
        1,
        5,
        source,
    )


def _rating_value(text: str, min_rating: int, max_rating: int) -> int | str:
    """The rating as an int, or what is wrong with it (phrased to follow "line N: ")."""
    try:
        value = int(text)
    except ValueError:
        return f'the rating "{text}" is not a whole number'
    if not min_rating <= value <= max_rating:
        return f"the rating {value} is outside {min_rating}–{max_rating}"
    return value


def _is_header(fields: list[str]) -> bool:
    """A first line whose rating column is not a number names the columns (``user,item,rating``)."""
    if len(fields) != 3:
        return False
    try:
        int(fields[2])
    except ValueError:
        return True
    return False


def _read_lines(path: Path):
    """The rating lines as a stream (a header line dropped), refused past MAX_RATINGS as soon as
    the count passes it, so a huge file is never held in memory."""
    lines = read_csv_rows(path, "ratings file", "MAX_RATINGS_FILE_BYTES")
    first = next(lines, None)
    if first is None:
        raise DatasetError(f"{path.name} is empty; expected lines of user,item,rating")
    if not _is_header([field.strip() for field in first[1]]):
        lines = itertools.chain([first], lines)
    for count, (number, fields) in enumerate(lines, start=1):
        if count > budgets.MAX_RATINGS:
            raise DatasetError(
                f"{path.name}: " + budgets.over_budget(f"it holds at least {count:,} ratings", "MAX_RATINGS")
            )
        yield number, [field.strip() for field in fields]


def load_ratings_csv(data_file: str | Path, *, min_rating: int = 1, max_rating: int = 5, seed: int = 0) -> Ratings:
    """Read ``user,item,rating`` lines (a header line allowed) and hold out a seeded share.

    User and item ids may be any text; they are numbered in order of first appearance.
    Ratings must be whole numbers from ``min_rating`` to ``max_rating``.  Every bad line
    (wrong number of fields, empty id, a rating that is not a whole number or out of
    range, a user rating the same item twice) is collected, and the first few are
    reported together with their line numbers, so one run shows what to fix.
    """
    if not 2 <= max_rating - min_rating + 1 <= MAX_LEVELS:
        raise DatasetError(f"the rating range {min_rating}–{max_rating} must hold 2 to {MAX_LEVELS} values")
    path = Path(data_file)
    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    first_seen: dict[tuple[int, int], int] = {}
    users, items, values, problems = [], [], [], Problems()
    for line, fields in _read_lines(path):
        if len(fields) != 3:
            problems.add(f"line {line}: expected 3 values (user,item,rating) but found {len(fields)}")
            continue
        user, item, rating_text = fields
        value = _rating_value(rating_text, min_rating, max_rating)
        if not user or not item:
            problems.add(f"line {line}: the {'user' if not user else 'item'} id is empty")
            continue
        if isinstance(value, str):
            problems.add(f"line {line}: {value}")
            continue
        u = user_index.setdefault(user, len(user_index))
        i = item_index.setdefault(item, len(item_index))
        if (u, i) in first_seen:
            problems.add(f'line {line}: user "{user}" rates item "{item}" again (first on line {first_seen[u, i]})')
            continue
        first_seen[u, i] = line
        users.append(u)
        items.append(i)
        values.append(value)
    if problems:
        raise DatasetError(problems.message(path.name))
    if len(values) < 2:
        raise DatasetError(f"{path.name} holds {len(values)} rating(s); at least 2 are needed to learn and to score")
    for count, what, budget in ((len(user_index), "users", "MAX_USERS"), (len(item_index), "items", "MAX_ITEMS")):
        if count > getattr(budgets, budget):
            raise DatasetError(f"{path.name}: " + budgets.over_budget(f"it has {count:,} {what}", budget))
    source = (
        f"ratings file {path.name}: {len(user_index):,} users, {len(item_index):,} items, {len(values):,} "
        f"ratings {min_rating}–{max_rating}, held-out share drawn with seed {seed}"
    )
    return _split(
        np.array(users),
        np.array(items),
        np.array(values),
        np.random.default_rng(seed),
        path.name,
        list(user_index),
        list(item_index),
        min_rating,
        max_rating,
        source,
    )
