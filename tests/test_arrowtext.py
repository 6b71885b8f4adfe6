"""A text column as pyarrow holds it, and its values' bytes as stored (techreform.arrowtext): what the
USCC check, the alignment of keys, the completeness and the checks' fingerprint read instead of a Python
string per value."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from techreform.arrowtext import text_array, text_bytes


def test_a_column_becomes_one_large_string_array_whatever_its_chunks_and_nulls():
    chunked = pa.chunked_array([pa.array(["甲", None]), pa.array(["", "乙丙"])])
    for values in (
        pd.Series(pd.arrays.ArrowStringArray(chunked)),
        pd.Series(["甲", None, "", "乙丙"], dtype="str"),
        pd.Series(["甲", None, "", "乙丙"], dtype=object),
    ):
        array = text_array(values)
        assert array.type == pa.large_string() and isinstance(array, pa.Array)
        assert array.to_pylist() == ["甲", None, "", "乙丙"]


def test_the_bytes_of_a_slice_are_its_own_values_with_ends_counted_from_its_first():
    whole = pa.array(["ab", "c", "def", "", "gh"], type=pa.large_string())
    ends, content = text_bytes(whole.slice(1, 3))
    assert ends.tolist() == [0, 1, 4, 4]
    assert bytes(content) == b"cdef"
    ends, content = text_bytes(whole.slice(0, 0))
    assert ends.tolist() == [0] and bytes(content) == b""
