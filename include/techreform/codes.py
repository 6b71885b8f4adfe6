"""Codes of the contract: the unified social credit code (统一社会信用代码, GB 32100-2015) and e-mail
addresses (S1 and R1 contacts)."""

from __future__ import annotations

import re

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
"""One plain address ``local@domain.tld``: no display name, spaces, control characters or second ``@``."""

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015, in value order 0–30 (no I, O, S, V, Z)."""

USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
"""Weights of positions 1–17: 3^(i−1) mod 31 = 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28."""

_VALUES = {ch: i for i, ch in enumerate(USCC_ALPHABET)}


def uscc_check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a USCC.

    Raises ``ValueError`` if ``first17`` is not 17 characters of the GB 32100-2015 alphabet."""
    if len(first17) != 17:
        raise ValueError(f"{first17!r} is not 17 characters long")
    try:
        total = sum(_VALUES[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a character of GB 32100-2015") from None
    value = (31 - total % 31) % 31
    return USCC_ALPHABET[value]


def uscc_problem(code: object) -> str | None:
    """Why ``code`` is not a valid USCC, in Chinese for the reporting unit, or ``None`` if it is."""
    if code is None or (isinstance(code, float) and code != code):
        return "统一社会信用代码为空"
    text = str(code)
    if len(text) != 18:
        return f"统一社会信用代码应为18位，实为{len(text)}位"
    bad = sorted({ch for ch in text if ch not in _VALUES})
    if bad:
        return f"统一社会信用代码含非法字符：{''.join(bad)}"
    expected = uscc_check_character(text[:17])
    if text[17] != expected:
        return f"统一社会信用代码校验位错误（应为{expected}）"
    return None


def is_valid_uscc(code: object) -> bool:
    """True if ``code`` is 18 characters of the alphabet with a correct check character."""
    return uscc_problem(code) is None


def make_uscc(first17: str) -> str:
    """Complete 17 characters with their check character."""
    return first17 + uscc_check_character(first17)


def valid_address(address: str | None) -> bool:
    """One plain e-mail address (``local@domain.tld``) with no spaces, control characters or extra ``@``;
    the one test of an address, for S1 rule S1-H02 and for every recipient the mailer addresses."""
    return bool(EMAIL_RE.fullmatch(address or ""))  # fullmatch: "$" alone would let a final newline through
