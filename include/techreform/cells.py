"""Normalising cells as real submissions write them (单元格规范化).

Seen in deliveries: thousands separators (``1,234.5``), full-width digits and punctuation (``１２３．５``),
surrounding spaces, ``-``, ``—`` or empty for "not reported", booleans as 是/否, Y/N, 1/0, months as
``2013-06``, ``2013-6``, ``2013年6月``, ``201306`` or an Excel date. Each parser returns the clean value or
``None`` for null, and raises :class:`CellError` with a Chinese reason when the cell cannot be read.

Numbers are exact to the cent or refused: infinity, NaN and values beyond a double's range are parse
errors naming the value, and so is a number written with more than 15 significant digits (a double keeps
15 exactly; more would be rounded silently). Numbers that XLSX stores as doubles are taken at Excel's own
15-digit precision. ``-0`` is stored as 0, so that SQLite and PostgreSQL hold the same value."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

from techreform.forms import Field

NULL_MARKERS = frozenset({"", "-", "—", "–", "－", "——", "--", "/", "null", "NULL", "None", "nan", "NaN", "N/A", "n/a"})
TRUE_MARKERS = frozenset({"是", "Y", "y", "YES", "Yes", "yes", "1", "TRUE", "True", "true", "√"})
FALSE_MARKERS = frozenset({"否", "N", "n", "NO", "No", "no", "0", "FALSE", "False", "false", "×"})

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", re.ASCII)  # ASCII: no other digits
_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$", re.ASCII)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII),
    re.compile(r"^(\d{4})/(\d{1,2})$", re.ASCII),
    re.compile(r"^(\d{4})\.(\d{1,2})$", re.ASCII),
    re.compile(r"^(\d{4})年(\d{1,2})月?$", re.ASCII),
    re.compile(r"^(\d{4})(\d{2})$", re.ASCII),
    re.compile(r"^(\d{4})-(\d{1,2})-\d{1,2}(?:T?00:00(?::00)?)?$", re.ASCII),  # a date written as text: its month
    # (spaces are removed before matching: "2013-06-01 00:00:00" is matched as "2013-06-0100:00:00")
    re.compile(r"^(\d{4})/(\d{1,2})/\d{1,2}(?:T?00:00(?::00)?)?$", re.ASCII),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_SIGNIFICANT_DIGITS = 15  # what a double holds exactly (DBL_DIG), and Excel's precision
_NOT_FINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan"})


class CellError(ValueError):
    """A cell that cannot be read as its field's type; ``reason`` is Chinese, for the reporting unit."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def clean_text(value: Any) -> str | None:
    """NFKC-normalise (full-width → half-width), strip, and map null markers to ``None``.

    Numbers from spreadsheets come back as text without a trailing ``.0`` (620102.0 → ``620102``)."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = text.replace("\u3000", " ").strip()
    if text in NULL_MARKERS:
        return None
    return text


def _shown(text: str, limit: int = 40) -> str:
    """A cell as a message quotes it: at most ``limit`` characters, one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _finite(value: float, shown: str) -> float:
    """``value`` as a finite double with ``-0`` made 0; raises :class:`CellError` for inf/NaN."""
    if not math.isfinite(value):
        raise CellError(f"“{_shown(shown)}”不是有限的数字（无穷大、NaN 或超出范围） / not a finite number")
    return value + 0.0  # -0.0 + 0.0 == 0.0: SQLite and PostgreSQL store the same zero


def _exact_decimal(text: str, shown: str) -> float:
    """A decimal numeral as a double, refused when a double cannot hold it exactly to 15 digits."""
    number = Decimal(text)
    # significant digits as written (``normalize`` would round to the context's 28 first)
    digits = len("".join(map(str, number.as_tuple().digits)).strip("0")) or 1
    if digits > MAX_SIGNIFICANT_DIGITS:
        raise CellError(
            f"“{_shown(shown)}”有 {digits} 位有效数字，超过 {MAX_SIGNIFICANT_DIGITS} 位，无法精确保存 / "
            f"more than {MAX_SIGNIFICANT_DIGITS} significant digits"
        )
    value = float(number)
    if value == 0 and number != 0:  # below the smallest double: it would be read as 0
        raise CellError(f"“{_shown(shown)}”太接近 0，超出可保存的范围 / underflows to zero")
    return _finite(value, shown)


def parse_decimal(value: Any) -> float | None:
    """A number in any delivered spelling → a finite double exact to 15 significant digits, or ``None``."""
    if isinstance(value, bool):
        raise CellError(f"“{value}”不是数字")
    if isinstance(value, int):
        return _exact_decimal(str(value), str(value))
    if isinstance(value, float):
        if math.isnan(value):  # a missing cell as pandas holds it (the text "nan" in a file is refused below)
            return None
        if not math.isfinite(value):
            raise CellError(f"“{value}”不是有限的数字（无穷大、NaN 或超出范围） / not a finite number")
        return _finite(float(f"{value:.{MAX_SIGNIFICANT_DIGITS}g}"), str(value))
    text = clean_text(value) if not _is_not_finite_text(value) else str(value).strip()
    if text is None:
        return None
    compact = text.replace(" ", "")
    if compact.lower() in _NOT_FINITE:
        raise CellError(f"“{_shown(text)}”不是有限的数字（无穷大、NaN 或超出范围） / not a finite number")
    if _GROUPED_RE.match(compact):
        compact = compact.replace(",", "")
    if not _NUMBER_RE.match(compact):
        raise CellError(f"“{text}”不是数字")
    return _exact_decimal(compact, text)


def _is_not_finite_text(value: Any) -> bool:
    """``nan``/``inf`` written in a number cell: refused, not read as the null marker ``nan``."""
    return isinstance(value, str) and unicodedata.normalize("NFKC", value).strip().lower() in _NOT_FINITE


def parse_boolean(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    text = clean_text(value)
    if text is None:
        return None
    if text in TRUE_MARKERS:
        return 1
    if text in FALSE_MARKERS:
        return 0
    raise CellError(f"“{text}”不是有效的是/否值（应为 是/否、Y/N 或 1/0）")


def parse_month(value: Any) -> str | None:
    """A month in any of the delivered spellings → ``YYYY-MM``."""
    if isinstance(value, dt.datetime):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and value not in (float("inf"), float("-inf"))
    ):
        number = int(value)
        if 190001 <= number <= 299912 and float(value).is_integer():
            text = str(number)
        elif 1 <= number < 2958466:  # an Excel serial date that lost its format
            day = _EXCEL_EPOCH + dt.timedelta(days=number)
            return f"{day.year:04d}-{day.month:02d}"
        else:
            raise CellError(f"“{value}”不是有效的年月")
    else:
        text = clean_text(value)
        if text is None:
            return None
        text = text.replace(" ", "")
    for pattern in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            if 1 <= month <= 12 and 1900 <= year <= 2999:
                return f"{year:04d}-{month:02d}"
            break
    raise CellError(f"“{text}”不是有效的年月（应为如 2013-06、2013年6月、201306）")


def parse_text(value: Any) -> str | None:
    return clean_text(value)


_PARSERS = {
    "text": parse_text,
    "enum": parse_text,
    "decimal": parse_decimal,
    "integer": parse_decimal,  # integer-ness is a rule (E1-H07), not a parse error
    "period": parse_month,
    "boolean": parse_boolean,
}


def parse_cell(field: Field, value: Any) -> Any:
    """The clean value of ``value`` for ``field``, ``None`` for null; raises :class:`CellError`."""
    return field.canonical(_PARSERS[field.type](value))


_PLAIN_DECIMAL_RE = re.compile(r"^-?\d+(?:\.\d+)?$", re.ASCII)
_CACHED_TYPES = frozenset({"text", "enum", "period", "boolean"})
_NUMBER_NULLS = NULL_MARKERS - {"nan", "NaN"}  # "nan" in a number cell is refused, not null


def _plain_decimal(text: str) -> float | None:
    """A plain ASCII numeral of at most 15 digits (``-12345.67``) as its double, else ``None``: such a
    numeral needs none of :func:`parse_decimal`'s normalising, and a double holds it exactly."""
    if _PLAIN_DECIMAL_RE.match(text) is None:
        return None
    digits = len(text) - (text[0] == "-") - ("." in text)
    if digits > MAX_SIGNIFICANT_DIGITS:
        return None
    return float(text) + 0.0  # -0 → 0, as _finite does


_PLAIN_SHAPE = r"^[-－]?[0-9０-９]+(?:[.．][0-9０-９]+)?$"
"""A plain numeral in half- or full-width characters (RE2): NFKC turns it into the ASCII numeral."""
_PADDING = " \t\u3000"
"""Padding :func:`clean_text` strips in every Unicode version (NFKC makes U+3000 a space)."""


def _plain_decimals_of_text(values: list[Any] | Any) -> tuple[list[Any], list[int]] | None:
    """For a number column of text only (a CSV file's): the plain numerals read as doubles in a few passes
    of pyarrow's compute functions over the whole column, instead of a regular expression and
    :func:`parse_decimal` per cell in Python. Returns the column's values (``None`` where a cell is left
    to parse) and the positions of the cells left to :func:`parse_decimal` one by one (null markers with
    padding, thousands separators, exponents, more than 15 digits, refusals). ``None`` when the column holds
    anything but text (a workbook's numbers and dates).

    A plain numeral here is an optional minus, digits and an optional point with digits, in half- or
    full-width characters (``１２．５``, as delivered), padded with spaces, tabs or ideographic spaces,
    with at most 15 digits: for such a cell :func:`parse_decimal` strips the padding, NFKC-normalises it
    to the ASCII numeral and reads it as ``float`` would, so both give the same double. Every other cell
    goes to :func:`parse_decimal`, so the column's values are those of :func:`parse_cell` whatever this
    takes. ``values`` may be a pyarrow string array already (a columnar CSV table's column)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        text = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    else:
        try:
            text = pa.array(values, type=pa.string())
        except (pa.ArrowException, TypeError, ValueError):  # not text only (or a lone surrogate)
            return None
    trimmed = pc.utf8_trim(text, _PADDING)
    plain = pc.fill_null(pc.match_substring_regex(trimmed, _PLAIN_SHAPE), False)
    ascii_text = pc.utf8_normalize(trimmed, "NFKC")  # of a plain numeral: its ASCII digits, point and minus
    sign_and_point = pc.add(
        pc.cast(pc.starts_with(ascii_text, "-"), pa.int32()), pc.cast(pc.match_substring(ascii_text, "."), pa.int32())
    )
    digits = pc.subtract(pc.utf8_length(ascii_text), sign_and_point)
    fast = pc.and_(plain, pc.fill_null(pc.less_equal(digits, MAX_SIGNIFICANT_DIGITS), False))
    numbers = pc.add(pc.cast(pc.if_else(fast, ascii_text, pa.scalar(None, pa.string())), pa.float64()), 0.0)  # -0 → 0
    fast_mask = fast.to_numpy(zero_copy_only=False)
    column = numbers.to_numpy(zero_copy_only=False).astype(object)
    column[~fast_mask] = None
    out = column.tolist()
    left = np.flatnonzero(~fast_mask)
    # a null cell or a null marker as delivered ("", "-", "N/A" …) is None, as in parse_column's loop
    markers = pc.fill_null(pc.is_in(text, value_set=pa.array(sorted(_NUMBER_NULLS), pa.string())), True)
    return out, left[~markers.to_numpy(zero_copy_only=False)[left]].tolist()


_CELL_KINDS = {float: 1, int: 2, type(None): 3}
"""Kinds of a workbook's cells for :func:`_plain_numbers_of_cells`: a double, a whole number, empty (else 0)."""
_WHOLE_LIMIT = 10**MAX_SIGNIFICANT_DIGITS
"""Whole numbers below this in magnitude have at most 15 digits: :func:`parse_decimal` reads them as they are."""


def _plain_numbers_of_cells(values: list[Any]) -> tuple[list[Any], list[int]] | None:
    """For a number column of a workbook's cells (doubles as the sheet stores them, with whole numbers,
    text and empty cells): the numbers that :func:`parse_decimal` keeps as they are, found in a few
    vectorised passes instead of a 15-digit formatting and parse of each in Python. Returns the column's
    values (``None`` where a cell is left to parse) and the positions of the non-empty cells left to
    :func:`parse_number_cell` one by one; ``None`` when the column holds no number.

    :func:`parse_decimal` takes a double ``v`` at Excel's 15 significant digits, ``float(f"{v:.15g}")``.
    When ``v``'s shortest spelling that reads back as ``v`` (Python's ``repr``, pyarrow's cast to text)
    has at most 15 significant digits, that spelling is the 15-digit decimal nearest to ``v`` (two
    15-digit decimals are further apart than a double's spacing), so the result is ``v`` itself (``-0``
    made 0, as :func:`_finite` does). A whole number of at most 15 digits is its double exactly. Every
    other number (a double of 16 or 17 digits or spelled with an exponent, infinities, a longer whole
    number; NaN, which is an empty cell, too) and every other cell is left to :func:`parse_number_cell`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    count = len(values)
    kind = np.fromiter((_CELL_KINDS.get(type(v), 0) for v in values), dtype=np.int8, count=count)
    double, whole = kind == 1, kind == 2
    if not (double.any() or whole.any()):
        return None
    numbers = np.fromiter(
        (
            v if type(v) is float else float(v) if type(v) is int and -_WHOLE_LIMIT < v < _WHOLE_LIMIT else math.nan
            for v in values
        ),
        dtype=np.float64,
        count=count,
    )
    finite = np.isfinite(numbers)
    fast = double & finite
    spelled = pa.array(numbers[fast]).cast(pa.string())  # the shortest spelling: 54194.51, 0.05, 1.5e-07
    # its digits, counted as _plain_decimals_of_text counts a numeral's (leading and trailing zeros too:
    # counting more only leaves a cell to parse_decimal); a spelling with an exponent is left to it
    sign_and_point = pc.add(
        pc.cast(pc.starts_with(spelled, "-"), pa.int32()), pc.cast(pc.match_substring(spelled, "."), pa.int32())
    )
    digits = pc.subtract(pc.utf8_length(spelled), sign_and_point)
    plain = pc.and_(pc.invert(pc.match_substring(spelled, "e")), pc.less_equal(digits, MAX_SIGNIFICANT_DIGITS))
    fast[fast] = plain.to_numpy(zero_copy_only=False)
    fast |= whole & finite
    column = (numbers + 0.0).astype(object)  # -0 → 0
    column[~fast] = None
    return column.tolist(), np.flatnonzero(~fast & (kind != 3)).tolist()


def parse_number_cell(value: Any) -> float | None:
    """:func:`parse_decimal` of one cell, a null marker and a plain ASCII numeral in text read first (the
    cells of a number column that :func:`parse_column` reads one by one)."""
    if type(value) is str:
        if value in _NUMBER_NULLS:
            return None
        fast = _plain_decimal(value)
        if fast is not None:
            return fast
    return parse_decimal(value)


DISTINCT_SAMPLE = 4096
"""Cells of a CSV's text column looked at to tell codes that repeat from distinct values (:func:`_parse_distinct`)."""


def _parse_distinct(field: Field, values: Any) -> tuple[list[Any], dict[int, str]]:
    """``field``'s parser over a pyarrow string array (a columnar CSV table's column of text, choices,
    months or yes/no), each distinct text parsed once: the column dictionary-encoded in pyarrow, the
    distinct texts parsed (text cleaned by :func:`_clean_text_column`), and each cell's value taken by its
    code, with no Python string per cell. A text column whose first :data:`DISTINCT_SAMPLE` cells are
    mostly distinct (names, credit codes, e-mail addresses) is cleaned cell by cell instead, which costs
    less than the encoding. A register's 540,900 rows: its codes', choices' and yes/no columns 0.06–0.11 →
    0.01–0.02 s each, all its columns 1.38 → 0.51 s (docs/performance.md, round 20). Null cells are
    ``None``; a cell whose text fails gets its reason, as in :func:`parse_column`'s loop."""
    import numpy as np
    import pyarrow as pa

    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    text = field.type == "text"
    sample = values.slice(0, DISTINCT_SAMPLE)
    if text and 2 * len(sample.dictionary_encode().dictionary) > len(sample):  # mostly distinct
        return _clean_text_column(values.to_pylist()), {}
    encoded = values.dictionary_encode()
    texts = encoded.dictionary.to_pylist()
    reasons: dict[int, str] = {}
    if text:
        parsed = _clean_text_column(texts)
    else:
        parsed = []
        for code, cell in enumerate(texts):
            try:
                parsed.append(_PARSERS[field.type](cell))
            except CellError as exc:
                parsed.append(None)
                reasons[code] = exc.reason
    codes = encoded.indices.fill_null(len(parsed)).to_numpy(zero_copy_only=False)
    out = np.array([*parsed, None], dtype=object)[codes].tolist()
    errors: dict[int, str] = {}
    if reasons:
        failing = np.flatnonzero(np.isin(codes, np.fromiter(reasons, dtype=codes.dtype, count=len(reasons))))
        errors = {int(position): reasons[int(codes[position])] for position in failing}
    return out, errors


def _clean_text_column(values: list[Any]) -> list[str | None]:
    """:func:`clean_text` of each of ``values``, ASCII text only stripped (NFKC leaves ASCII as it is, so
    :func:`clean_text` is a strip and the null markers there). One list comprehension: a text column is
    mostly distinct values (names, codes, e-mail addresses), for which a cache of each distinct text cost
    more than it saved (a register's 540,900 names 0.47–0.51 → 0.24 s; docs/performance.md, round 20)."""
    return [
        (None if (stripped := value.strip()) in NULL_MARKERS else stripped)
        if type(value) is str and value.isascii()
        else clean_text(value)
        for value in values
    ]


def parse_column(field: Field, values: list[Any] | Any) -> tuple[list[Any], dict[int, str]]:
    """:func:`parse_cell` over a column: (clean values, ``None`` where a cell failed; {position: reason}).

    The same rules, faster at hundreds of thousands of cells: a plain numeral in a number column is read
    directly (:func:`_plain_decimal`), a workbook's doubles and whole numbers that need no rounding are
    kept as they are (:func:`_plain_numbers_of_cells`), a text column is cleaned in one pass with ASCII
    text only stripped (:func:`_clean_text_column`), and in columns of repeating values (choices, months,
    yes/no) each distinct text is parsed once.

    ``values``: a list of cells, or a pyarrow string array (a columnar CSV table's column,
    :meth:`techreform.readers.RawTable.cells`): a number column's plain numerals are then read with no
    Python string per cell, only the cells left to :func:`parse_decimal` are taken out of it."""
    out, errors = _parsed_column(field, values)
    if field.aliases:  # a choice's other spellings staged as the choice, as parse_cell does
        out = [field.canonical(v) for v in out]
    return out, errors


def _parsed_column(field: Field, values: list[Any] | Any) -> tuple[list[Any], dict[int, str]]:
    """:func:`parse_column` before a choice's other spellings are mapped to the choice."""
    parser = _PARSERS[field.type]
    number = field.type in ("decimal", "integer")
    plain_numbers = number and not field.aliases  # read in pyarrow first (:func:`_plain_decimals_of_text`)
    if field.type in _CACHED_TYPES and not isinstance(values, list):  # a CSV's column of text
        return _parse_distinct(field, values)
    if not plain_numbers and not isinstance(values, list):
        values = values.to_pylist()
    errors: dict[int, str] = {}
    vectorised = _plain_decimals_of_text(values) if plain_numbers else None
    if vectorised is None and plain_numbers and isinstance(values, list):
        vectorised = _plain_numbers_of_cells(values)  # a workbook's numbers
    if vectorised is not None:
        out, left = vectorised
        arrow = not isinstance(values, list)
        for position in left:
            try:
                out[position] = parse_number_cell(values[position].as_py() if arrow else values[position])
            except CellError as exc:
                errors[position] = exc.reason
        return out, errors
    if field.type == "text":  # cleaning text never fails: one pass, no cache
        return _clean_text_column(values), errors
    out: list[Any] = [None] * len(values)
    cache: dict[str, tuple[bool, Any]] | None = {} if field.type in _CACHED_TYPES else None
    parse_one = parse_number_cell if number else parser
    for position, value in enumerate(values):
        if value is None:
            continue
        if type(value) is str and cache is not None:
            hit = cache.get(value)
            if hit is None:
                try:
                    hit = (True, parser(value))
                except CellError as exc:
                    hit = (False, exc.reason)
                cache[value] = hit
            if hit[0]:
                out[position] = hit[1]
            else:
                errors[position] = hit[1]
            continue
        try:
            out[position] = parse_one(value)
        except CellError as exc:
            errors[position] = exc.reason
    return out, errors
