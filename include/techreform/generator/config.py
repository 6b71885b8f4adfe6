"""Options of a generated province (:class:`GeneratorConfig`) and what a run produced (:class:`GenerationSummary`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

FILE_FORMATS: tuple[str, ...] = ("csv-utf8", "csv-utf8-sig", "csv-gb18030", "xlsx")
"""File formats a delivery can take: UTF-8 CSV, UTF-8 CSV with BOM, GB18030 (GBK) CSV, XLSX (first sheet)."""

RULE_IDS: dict[str, tuple[str, ...]] = {
    "E1": tuple(f"E1-H0{i}" for i in range(0, 9)) + tuple(f"E1-S{i:02d}" for i in range(1, 11)),
    "P1": tuple(f"P1-H0{i}" for i in range(0, 9)) + tuple(f"P1-S0{i}" for i in range(1, 6)),
    "R1": tuple(f"R1-H0{i}" for i in range(0, 6)),
    "A1": tuple(f"A1-H0{i}" for i in range(0, 5)) + ("A1-S01", "A1-S02"),
    "Q1": tuple(f"Q1-H0{i}" for i in range(0, 4)) + ("Q1-S01", "Q1-S02", "Q1-S03"),
    "G1": tuple(f"G1-H0{i}" for i in range(0, 5)) + ("G1-S01",),
}
"""Every rule id the generator plants defects of; ``<CODE>-H00`` = a cell that cannot be read as its type."""

NATIONAL_ENTERPRISES = 500_000
"""Enterprise count of ``--size national`` (benchmarks)."""

MAX_ENTERPRISE_MONTHS = 3_000_000
"""A run holds its E1 rows in memory (about 1.5 GB per national month): at most 6 national months a run."""


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Defaults: the Gansu sample province, 2010-01 to 2015-12."""

    seed: int = 20121211
    enterprises: int = 2000
    """Above-scale enterprises (规模以上工业企业) in the first register; entries and exits keep it about there."""
    projects: int = 1500
    """Technical-transformation projects under supervision at some time in the generated periods."""
    first_period: str = "2010-01"
    last_period: str = "2015-12"
    defect_rate: float = 0.01
    """Share of delivered rows (per form) given a defect; each rule id appears at least once when rows allow."""
    forms: tuple[str, ...] = ("R1", "S1", "E1", "P1", "A1", "Q1", "G1")
    file_formats: tuple[tuple[str, float], ...] = (
        ("csv-utf8", 0.35),
        ("csv-utf8-sig", 0.2),
        ("csv-gb18030", 0.25),
        ("xlsx", 0.2),
    )
    """Formats and their weights; each file's format is drawn from these (deterministic for the seed)."""
    canonical_header_share: float = 0.15
    """Share of files whose header row is the canonical field names instead of the Chinese headers."""
    extra_column_share: float = 0.1
    """Share of files carrying an unknown extra column (填表人) that readers must ignore."""
    quirk_share: float = 0.04
    """Share of cells written with a harmless quirk (separators, full-width digits, spaces, other month spellings)."""
    skip_january_share: float = 0.3
    """Share of enterprises skipping the optional January E1 report in a year (February then covers 1—2月)."""
    lagging_share: float = 0.08
    """Share of projects planted behind schedule, overdue, stalled, suspended or missing a report."""
    entry_rate: float = 0.06
    """Share of enterprises entering the register (or rising above scale) per year."""
    exit_rate: float = 0.04
    """Share of enterprises leaving (注销 or falling below scale) per year."""
    stop_rate: float = 0.02
    """Share of enterprises stopping production (停产) for some months per year."""

    def __post_init__(self) -> None:
        from techreform.periods import Period

        Period.parse(self.first_period)
        Period.parse(self.last_period)
        if Period.parse(self.last_period) < Period.parse(self.first_period):
            raise ValueError(f"last_period {self.last_period} is before first_period {self.first_period}")
        if self.enterprises < 20:
            raise ValueError("at least 20 enterprises are needed")
        if self.projects < 0:
            raise ValueError("projects must be >= 0")
        unknown = set(self.forms) - {"R1", "S1", "E1", "P1", "A1", "Q1", "G1"}
        if unknown:
            raise ValueError(f"unknown forms {sorted(unknown)}; known: R1, S1, E1, P1, A1, Q1, G1")
        for name, weight in self.file_formats:
            if name not in FILE_FORMATS:
                raise ValueError(f"unknown file format {name!r}; known: {', '.join(FILE_FORMATS)}")
            if weight < 0:
                raise ValueError(f"negative weight for {name}")
        if not 0 <= self.defect_rate <= 0.5:
            raise ValueError("defect_rate must be between 0 and 0.5")
        months = Period.parse(self.last_period).months_since(Period.parse(self.first_period)) + 1
        if "E1" in self.forms and self.enterprises * months > MAX_ENTERPRISE_MONTHS:
            raise ValueError(
                f"{self.enterprises:,} enterprises × {months} months is more than "
                f"{MAX_ENTERPRISE_MONTHS:,} E1 rows held in memory; generate fewer months per run"
            )

    def with_(self, **changes: Any) -> GeneratorConfig:
        """A copy with some options changed."""
        return replace(self, **changes)

    @classmethod
    def national(cls, **changes: Any) -> GeneratorConfig:
        """National size for benchmarks: 500,000 enterprises, E1 only, one month unless told otherwise."""
        base = dict(enterprises=NATIONAL_ENTERPRISES, forms=("E1",), first_period="2013-06", last_period="2013-06")
        base.update(changes)
        return cls(**base)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["forms"] = list(self.forms)
        data["file_formats"] = [list(x) for x in self.file_formats]
        return data


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`techreform.generator.generate` wrote."""

    out_dir: Path
    landing_dir: Path
    ground_truth_dir: Path
    files: int
    rows: dict[str, int] = field(default_factory=dict)
    """Delivered data rows per form."""
    defects: dict[str, int] = field(default_factory=dict)
    """Ground-truth defect rows (row, rule) per form."""
    lights: dict[str, int] = field(default_factory=dict)
    """Project-periods per light (green, yellow, red)."""
    seconds: float = 0.0
