import numpy as np
import pytest

from playground.engine.initializers import INITIALIZERS, initial_bias, initial_weight


@pytest.mark.parametrize(
    "name,expected_std",
    [("normal", 1.0), ("normal-scaled", 1 / np.sqrt(400)), ("xavier", np.sqrt(2 / 500)), ("he", np.sqrt(2 / 400))],
)
def test_weight_scales(name, expected_std):
    weights = initial_weight(name, (100, 400), 400, 100, np.random.default_rng(0), np.float64)
    assert weights.std() == pytest.approx(expected_std, rel=0.03)


def test_biases_follow_nielsen_for_the_normal_schemes_and_are_zero_otherwise():
    rng = np.random.default_rng(0)
    assert initial_bias("normal-scaled", (2000,), rng, np.float64).std() == pytest.approx(1.0, rel=0.05)
    assert not initial_bias("he", (10,), rng, np.float64).any()


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_seeded_and_reproducible(name):
    first = initial_weight(name, (3, 4), 4, 3, np.random.default_rng(42), np.float32)
    again = initial_weight(name, (3, 4), 4, 3, np.random.default_rng(42), np.float32)
    other = initial_weight(name, (3, 4), 4, 3, np.random.default_rng(43), np.float32)
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_unknown_initialiser_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown initialiser"):
        initial_weight("glorot", (2, 2), 2, 2, np.random.default_rng(0), np.float32)
