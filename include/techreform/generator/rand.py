"""Deterministic random streams: one independent generator per purpose, derived from the seed.

Each part of the generator asks for its own stream by name (``rng_for(seed, "E1", "2013-06", "620100")``),
so adding a stream or changing the order of work never changes the numbers of another part."""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(*parts: object) -> int:
    """A stable 32-bit number for a tuple of names (CRC-32, unlike ``hash`` it does not change per process)."""
    return zlib.crc32("|".join(str(p) for p in parts).encode("utf-8"))


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """The random stream of ``parts`` under ``seed``."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, stream_key(*parts)])
