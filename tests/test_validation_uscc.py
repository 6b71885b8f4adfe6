"""The GB 32100-2015 check (E1-H01, P1-H02, R1-H01) on real published codes and on their mutations, both
the scalar check of ``techreform.codes`` and the vectorised one the GX expectation uses."""

from __future__ import annotations

import pandas as pd
import pytest

from techreform.codes import USCC_ALPHABET, is_valid_uscc
from techreform.validation.expectations import uscc_valid_mask

# Unified social credit codes published by their holders (business licences, annual reports).
REAL_CODES = [
    "91350100M000100Y43",
    "911100001000054748",
    "91110108551385082Q",
    "91440300708461136T",
]


def _mutations(code: str) -> list[str]:
    """Every single-character substitution, every adjacent transposition of different characters, and
    the forbidden letters, the lower case, a dropped and an added character."""
    out = []
    for i, ch in enumerate(code):
        out += [code[:i] + other + code[i + 1 :] for other in USCC_ALPHABET if other != ch]
        out += [code[:i] + bad + code[i + 1 :] for bad in "IOSVZ"]
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            out.append(code[:i] + code[i + 1] + code[i] + code[i + 2 :])
    out += [code.lower(), code[:-1], code + "0", " " + code[:-1]]
    return [m for m in out if m != code]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_published_codes_are_valid(code):
    assert is_valid_uscc(code)
    assert uscc_valid_mask(pd.Series([code])).tolist() == [True]


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_mutation_of_a_real_code_is_invalid(code):
    mutations = _mutations(code)
    assert len(mutations) > 500
    assert not any(is_valid_uscc(m) for m in mutations)
    assert not uscc_valid_mask(pd.Series(mutations)).any()


def test_vectorised_check_agrees_with_the_scalar_check_on_mixed_values():
    values = pd.Series(
        [*REAL_CODES, None, float("nan"), "", "91350100M000100Y4", "91350100M000100Y43 ", "9135010OM000100Y43", 123]
    )
    assert uscc_valid_mask(values).tolist() == [is_valid_uscc(v) for v in values]
    assert uscc_valid_mask(values).tolist() == [True] * 4 + [False] * 7
