"""The one seed derivation: stable, independent per part, and the same streams the datasets and
the training data pools always had."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from avici_core.data.simulate import dataset_rng
from avici_core.seeds import entropy, seed_stream
from avici_core.types import STREAMS


def test_a_name_enters_as_its_sha256_and_the_dataset_streams_are_unchanged():
    digest = int.from_bytes(hashlib.sha256(b"lin-gauss").digest()[:8], "little")
    assert entropy("lin-gauss") == digest
    before = np.random.default_rng(np.random.SeedSequence([STREAMS["test"], digest, 7]))
    np.testing.assert_array_equal(
        dataset_rng("lin-gauss", 7, "test").integers(2**31, size=8), before.integers(2**31, size=8)
    )
    np.testing.assert_array_equal(  # a bare integer seed, as the methods get it
        seed_stream(5).integers(2**31, size=4), np.random.default_rng(5).integers(2**31, size=4)
    )


@given(st.lists(st.one_of(st.integers(0, 2**40), st.text(max_size=8)), min_size=1, max_size=4))
def test_equal_parts_give_equal_streams_and_another_part_another(parts):
    a = seed_stream(*parts).integers(2**62, size=4)
    np.testing.assert_array_equal(a, seed_stream(*parts).integers(2**62, size=4))
    assert not np.array_equal(a, seed_stream(*parts, 1).integers(2**62, size=4))


def test_negative_parts_and_no_parts_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        seed_stream("x", -1)
    with pytest.raises(ValueError, match="at least one"):
        seed_stream()
