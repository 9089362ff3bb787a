"""AVICI's ``max_rows`` (the size study's n): the first rows, obs:int ratio kept."""

from __future__ import annotations

import numpy as np
import pytest

from avici_core.baselines.amortized import first_rows


def data(n_obs: int, n_int: int, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Rows numbered in column 0; interventional rows after the observational ones, then shuffled."""
    rng = np.random.default_rng(0)
    x = np.zeros((n_obs + n_int, d))
    x[:, 0] = np.arange(n_obs + n_int)  # [n, d]
    mask = np.zeros((n_obs + n_int, d), dtype=np.int8)
    mask[n_obs:, 1] = 1
    order = rng.permutation(n_obs + n_int)
    return x[order], mask[order]


@pytest.mark.parametrize("max_rows, n_int", [(30, 10), (100, 33), (301, 100), (7, 2)])
def test_ratio_kept_as_floor_for_interventional_rows(max_rows: int, n_int: int):
    x, mask = data(500, 250)  # a third of the rows interventional
    x_lim, mask_lim = first_rows(x, mask, max_rows)
    assert x_lim.shape == (max_rows, 3) and mask_lim.shape == (max_rows, 3)
    assert int(mask_lim.any(axis=1).sum()) == n_int


def test_takes_the_first_rows_of_each_group_in_order():
    x, mask = data(6, 3)
    x_lim, _ = first_rows(x, mask, 3)
    is_int = mask.any(axis=1)
    expected_obs = x[~is_int][:2, 0]
    expected_int = x[is_int][:1, 0]
    assert sorted(x_lim[:, 0]) == sorted([*expected_obs, *expected_int])
    positions = [int(np.flatnonzero(x[:, 0] == v)[0]) for v in x_lim[:, 0]]
    assert positions == sorted(positions)  # data order kept


def test_observational_only_and_no_limit():
    x, mask = data(10, 0)
    x_lim, _ = first_rows(x, mask, 4)
    np.testing.assert_array_equal(x_lim, x[:4])
    x_all, mask_all = first_rows(x, mask, 50)
    assert x_all is x and mask_all is mask


def test_bad_limit_is_a_value_error():
    x, mask = data(4, 2)
    with pytest.raises(ValueError, match="max_rows"):
        first_rows(x, mask, 0)
