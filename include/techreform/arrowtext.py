"""Text columns as pyarrow holds them (pandas 3's ``str`` and ``string`` dtypes): one array, and its
values' bytes as stored, without a Python object per value (a national month's text columns hold
500,000 values each; docs/performance.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def text_array(values: pd.Series) -> Any:
    """``values`` (text) as one pyarrow ``large_string`` array, missing values as nulls. A column pyarrow
    already holds (pandas 3's ``str``) is taken as its buffers, its chunks combined, with no conversion
    value by value; a column of Python objects is converted once by ``pyarrow.array``."""
    import pyarrow as pa

    array = pa.array(values.array, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if pa.types.is_large_string(array.type) else array.cast(pa.large_string())


def text_bytes(array: Any) -> tuple[np.ndarray, memoryview]:
    """The values of a ``large_string`` array as stored: each value's end offset, counted from the first
    value's start (``len(array) + 1`` of them, the first 0), and the UTF-8 bytes of all values one after
    another. A null's slot holds what Arrow left there (usually nothing)."""
    _validity, offsets, data = array.buffers()  # the offsets hold len(array) + 1 entries, also when empty
    ends = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    start, stop = int(ends[0]), int(ends[-1])
    content = memoryview(data)[start:stop] if data is not None else memoryview(b"")
    return ends - start, content
