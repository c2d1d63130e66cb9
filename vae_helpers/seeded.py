"""Seeded standard normal draws that the page can reproduce: the same uniforms in Python and in JavaScript, and normal
draws that agree to within 2 units in the last place (the two sides' log and cos round differently).

torch's generator cannot be run in a browser, so the explorers whose page draws random numbers (01's Monte Carlo
samples, 04's gradient estimates) use this one in both places (page_plot.js `seededNormals`): a counter-based hash
(lowbias32, by Chris Wellons) of the seed and the draw's index gives two 32-bit uniforms, and the Box-Muller
transform turns them into one standard normal draw. Draw i does not depend on how many are drawn, so a longer run
extends a shorter one. tests/test_seeded.py checks the draws' moments and tails; tests/test_page_figures.py checks
that the page draws the same numbers.
"""

import math

import numpy as np
import torch

_MASK = np.uint64(0xFFFFFFFF)


def _hash32(x):
    """lowbias32 of uint64 arrays holding 32-bit values (the products wrap modulo 2^64; the mask keeps 32 bits)."""
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & _MASK
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & _MASK
    return x ^ (x >> np.uint64(16))


def uniforms(seed, count):
    """`count` numbers in (0, 1): (hash + 1/2) / 2^32, one per index, for a seed (an integer, 0 <= seed < 2^32)."""
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer from 0 to 2**32 - 1, got {seed}")
    key = _hash32(np.array([seed ^ 0x9E3779B9], dtype=np.uint64))
    bits = _hash32(_hash32(np.arange(count, dtype=np.uint64)) ^ key)
    return (bits.astype(np.float64) + 0.5) / 2.0**32


def standard_normal(seed, shape):
    """float64 tensor of `shape` with N(0, 1) draws; element i (in row-major order) uses uniforms 2i and 2i + 1."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    count = math.prod(shape)
    u = uniforms(seed, 2 * count)
    draws = np.sqrt(-2.0 * np.log(u[0::2])) * np.cos(2.0 * math.pi * u[1::2])
    return torch.from_numpy(draws).reshape(shape)
