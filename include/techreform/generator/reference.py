"""The real province the generator imitates: counties, industry divisions, sizes and seasons of Gansu.

Code lists come from the package's reference files (GB/T 2260 divisions of Gansu, GB/T 4754-2011
divisions of sections B, C, D). The weights are rough shapes of the province's economy: Lanzhou holds
about a third of the enterprises; Jiayuguan (JISCO steel), Jinchang (Jinchuan nickel), Baiyin (nonferrous),
Qingyang (oil) have few but very large firms; metallurgy, petrochemicals and energy dominate output."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from techreform import reference
from techreform.periods import Period
from techreform.reference import Division


@dataclass(frozen=True)
class Prefecture:
    code: str
    name: str
    short: str  # 兰州, 嘉峪关, 临夏 ... for enterprise names
    enterprise_weight: float  # share of enterprises
    size_factor: float  # typical firm size relative to the province
    signature_divisions: tuple[str, ...]  # industries the prefecture is known for


# code: (short name, enterprise weight, size factor, signature industry divisions)
_PREFECTURE_PROFILE: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "620100": ("兰州", 30, 1.5, ("25", "26", "35", "38")),
    "620200": ("嘉峪关", 3, 5.0, ("31",)),
    "620300": ("金昌", 3, 5.0, ("32", "09", "26")),
    "620400": ("白银", 8, 1.6, ("32", "06", "26")),
    "620500": ("天水", 9, 0.8, ("34", "38", "39")),
    "620600": ("武威", 6, 0.7, ("13", "15", "30")),
    "620700": ("张掖", 6, 0.7, ("13", "44", "30")),
    "620800": ("平凉", 5, 0.9, ("06", "44", "13")),
    "620900": ("酒泉", 7, 1.4, ("44", "31", "38")),
    "621000": ("庆阳", 6, 1.5, ("07", "25", "06")),
    "621100": ("定西", 4, 0.5, ("27", "13", "30")),
    "621200": ("陇南", 3, 0.5, ("09", "13", "30")),
    "622900": ("临夏", 4, 0.4, ("13", "14", "18")),
    "623000": ("甘南", 2, 0.4, ("09", "15", "44")),
}

# division: (weight in the count of enterprises, size factor)
_DIVISION_PROFILE: dict[str, tuple[float, float]] = {
    "06": (4, 2.0),
    "07": (1, 6.0),
    "08": (2, 1.0),
    "09": (3, 1.5),
    "10": (2, 0.6),
    "11": (0.5, 1.0),
    "13": (7, 0.7),
    "14": (4, 0.6),
    "15": (4, 0.8),
    "16": (0.3, 5.0),
    "17": (1, 0.5),
    "18": (0.8, 0.4),
    "19": (0.5, 0.4),
    "20": (0.8, 0.4),
    "21": (0.5, 0.4),
    "22": (1, 0.5),
    "23": (0.8, 0.4),
    "24": (0.4, 0.4),
    "25": (2, 8.0),
    "26": (8, 1.2),
    "27": (4, 0.8),
    "28": (0.3, 1.0),
    "29": (2, 0.5),
    "30": (9, 0.7),
    "31": (3, 5.0),
    "32": (5, 4.5),
    "33": (3, 0.5),
    "34": (3, 0.7),
    "35": (3, 0.8),
    "36": (1, 1.0),
    "37": (0.6, 1.0),
    "38": (3, 1.0),
    "39": (1, 0.8),
    "40": (0.6, 0.6),
    "41": (0.5, 0.4),
    "42": (0.8, 0.5),
    "43": (0.3, 0.4),
    "44": (6, 3.0),
    "45": (1, 0.8),
    "46": (1.5, 0.4),
}

# Monthly shares (1..12) of a year: industrial output dips at the Spring Festival and peaks in December;
# investment is low in winter (frozen ground) and high at the year's end.
OUTPUT_SEASON = np.array([0.075, 0.065, 0.083, 0.083, 0.085, 0.088, 0.082, 0.083, 0.087, 0.085, 0.089, 0.095])
OUTPUT_SEASON = OUTPUT_SEASON / OUTPUT_SEASON.sum()
INVESTMENT_SEASON = np.array([0.04, 0.03, 0.07, 0.08, 0.09, 0.10, 0.09, 0.09, 0.10, 0.10, 0.10, 0.13])
INVESTMENT_SEASON = INVESTMENT_SEASON / INVESTMENT_SEASON.sum()

REFERENCE_ENTERPRISES = 2000
"""Province totals below are for this many enterprises; other sizes scale them proportionally."""

_VALUE_ADDED_YI = {2010: 1650.0, 2011: 1850.0, 2012: 2030.0, 2013: 2190.0, 2014: 2300.0, 2015: 2250.0}
"""Industrial value added of the above-scale enterprises, 亿元 a year (real province: low thousands)."""


def value_added_total(year: int) -> float:
    """Province value added of ``year`` at reference size, in 万元 (1亿 = 10,000万)."""
    if year in _VALUE_ADDED_YI:
        return _VALUE_ADDED_YI[year] * 1e4
    edge = 2010 if year < 2010 else 2015
    return _VALUE_ADDED_YI[edge] * 1e4 * 1.06 ** (year - edge)


def techreform_total(year: int) -> float:
    """Province technical-transformation investment of ``year`` at reference size, in 万元: ~420亿 in 2010,
    growing ~30 % a year."""
    return 420.0 * 1e4 * 1.3 ** (year - 2010)


SECTOR_ENERGY_INTENSITY = {"能源": 1.2, "冶金有色": 1.0, "石油化工": 0.8, "新型建材": 1.5}
"""Tonnes of standard coal per 万元 of output by sector group; others 0.15."""
SECTOR_WASTE_INTENSITY = {"能源": 1.2, "冶金有色": 1.5, "新型建材": 0.6, "石油化工": 0.2}
"""Tonnes of general industrial solid waste per 万元 of output; others 0.02."""


@lru_cache(maxsize=1)
def counties() -> tuple[Division, ...]:
    """Every county-level division of Gansu in the reference list (with its validity)."""
    return tuple(reference.counties().values())


@lru_cache(maxsize=1)
def prefectures() -> tuple[Prefecture, ...]:
    """The 14 prefectures (市州) with their profiles, in code order."""
    out = []
    for code, name in sorted(reference.prefectures().items()):
        short, weight, size, sig = _PREFECTURE_PROFILE[code]
        out.append(Prefecture(code, name, short, weight, size, sig))
    return tuple(out)


@lru_cache(maxsize=1)
def industry_divisions() -> dict[str, tuple[str, str, str]]:
    """division → (section, name, sector group) for sections B, C, D."""
    return {d: (r["section"], r["name"], r["sector_group"]) for d, r in reference.industry_divisions().items()}


def division_profile(division: str) -> tuple[float, float]:
    """(count weight, size factor) of an industry division."""
    return _DIVISION_PROFILE.get(division, (0.5, 0.5))


def counties_valid_throughout(prefecture_code: str, first: str, last: str) -> list[Division]:
    """Counties of a prefecture valid in every period from ``first`` to ``last``."""
    return [c for c in counties() if c.prefecture_code == prefecture_code and c.valid_in(first) and c.valid_in(last)]


def county_by_code() -> dict[str, Division]:
    return {c.code: c for c in counties()}


def period_index(period: str | Period) -> int:
    """Months since year 0: differences of indexes are month distances."""
    return Period.parse(period).index


def period_of_index(index: int) -> str:
    return str(Period.of_index(index))
