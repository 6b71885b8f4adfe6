"""Public tables with disclosure control (统计法: no individual enterprise's figure may be inferable).

For each additive measure (enterprises, gross output, value added, revenue, profit, tech-reform
investment) a prefecture × sector-group table with its margins: row totals (合计, all sector groups of a
prefecture), column totals (620000, the province, per sector group) and the grand total. Interior
cells and margins are all cells: each is checked and may be suppressed.

1. **Primary suppression** of a cell with at least one enterprise and fewer than ``min_enterprises``,
   or whose ``dominance_top`` largest contributions hold more than ``dominance_share`` of it (the (n, k)
   dominance rule). Shares are of absolute values, so that a negative profit is a contribution like
   any other (a loss of one enterprise can dominate a cell just as a profit can).
2. **Secondary suppression** so that no suppressed cell can be recomputed from the published cells
   and margins: a cell is determined when it is the only suppressed cell of a row or column equation
   (row: Σ cells = row total; column: Σ cells = column total), or, more generally, when the published
   values fix it as a linear combination. The algorithm first completes every equation that holds
   exactly one suppressed cell with a further suppression (the cheapest: an interior cell before a
   margin, one whose other equation already has a suppression, then the smallest value that can
   still protect) — and likewise every equation whose only two suppressed cells are single-enterprise
   cells (the singleton problem) — then **audits** every suppressed cell with linear programs (scipy ``linprog``:
   minimum and maximum of the cell subject to the published equations and, for measures that cannot
   be negative, non-negativity). A primary cell must admit values at least ``protection_ratio`` × |v|
   below and above its true value; every suppressed cell must not be a single point. A cell that
   fails gets a further suppression in its row or column, and both steps repeat until the audit
   passes (it terminates: each round suppresses one more cell).

Cells with no enterprise (structural zeros) are published as 0 and never suppressed: everyone knows
them (the enterprises table publishes the counts). Amounts are added in fen (0.01 万元) as integers, so
the published cells and margins add up exactly. Profit may be negative: its cells are free variables
in the audit (no lower bound), so protection there rests on the equations alone; see docs/extracts.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from sqlalchemy.engine import Connection

from techreform.extracts.options import ExtractOptions
from techreform.periods import Period
from techreform.reference import PROVINCE_CODE, province
from techreform.warehouse import read_frame

ALL_GROUPS = "合计"


@dataclass(frozen=True)
class Measure:
    name: str
    name_zh: str
    unit: str
    signed: bool = False
    """May be negative: no lower bound in the audit."""
    scale: int = 100
    """Contributions are added as integers: value × scale (fen for amounts in 万元)."""


MEASURES: tuple[Measure, ...] = (
    Measure("enterprises", "企业单位数", "家", scale=1),
    Measure("gross_output", "工业总产值", "万元"),
    Measure("value_added", "工业增加值", "万元"),
    Measure("revenue", "主营业务收入", "万元"),
    Measure("profit", "利润总额", "万元", signed=True),
    Measure("techreform_investment", "技术改造投资完成额", "万元"),
)


@dataclass
class Grid:
    """A table with margins: rows = prefectures + the province, columns = sector groups + 合计; the last
    row and column are the margins. ``value`` in integer units (fen or enterprises)."""

    rows: list[str]
    cols: list[str]
    value: np.ndarray
    count: np.ndarray
    top: np.ndarray
    """Sum of the ``dominance_top`` largest absolute contributions."""
    abs_total: np.ndarray
    primary: np.ndarray = field(init=False)
    suppressed: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.primary = np.zeros(self.value.shape, dtype=bool)
        self.suppressed = np.zeros(self.value.shape, dtype=bool)


def table_equations(n_rows: int, n_cols: int) -> list[list[tuple[tuple[int, int], int]]]:
    """The additivity equations of a table with margins in its last row and column, as lists of
    (cell, coefficient) summing to zero: each row's cells minus its total, each column's likewise."""
    equations = []
    for r in range(n_rows):
        equations.append([((r, c), 1) for c in range(n_cols - 1)] + [((r, n_cols - 1), -1)])
    for c in range(n_cols):
        equations.append([((r, c), 1) for r in range(n_rows - 1)] + [((n_rows - 1, c), -1)])
    return equations


def cell_bounds(
    value: np.ndarray, suppressed: np.ndarray, signed: bool, cells: Sequence[tuple[int, int]] | None = None
) -> dict[tuple[int, int], tuple[float, float]]:
    """For each suppressed cell (or each of ``cells``), the least and greatest value it can take given
    the published cells and the table's equations (and non-negativity unless ``signed``):
    ``linprog`` min and max; ±inf when unbounded. ``value`` is read only where not suppressed."""
    index = {cell: k for k, cell in enumerate(zip(*np.nonzero(suppressed), strict=True))}
    index = {(int(r), int(c)): k for (r, c), k in index.items()}
    if not index:
        return {}
    published = np.where(suppressed, 0.0, value.astype(float))
    scale = max(float(np.abs(published).max()), 1.0)
    a_rows, b = [], []
    for equation in table_equations(*value.shape):
        row = np.zeros(len(index))
        rhs = 0.0
        for cell, coefficient in equation:
            if cell in index:
                row[index[cell]] += coefficient
            else:
                rhs -= coefficient * published[cell] / scale
        if row.any():
            a_rows.append(row)
            b.append(rhs)
    a_eq = np.array(a_rows) if a_rows else None
    b_eq = np.array(b) if b else None
    bound = (None, None) if signed else (0, None)
    out = {}
    for cell in cells if cells is not None else index:
        k = index[cell]
        c = np.zeros(len(index))
        result = []
        for sign in (1.0, -1.0):
            c[k] = sign
            res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=[bound] * len(index), method="highs")
            if res.status == 3:  # unbounded
                result.append(-sign * np.inf)
            elif res.status != 0:
                raise RuntimeError(f"disclosure audit: the linear program failed ({res.message})")
            else:
                result.append(sign * res.fun * scale)
        out[cell] = (result[0], result[1])
    return out


def _grid(contributions: pd.DataFrame, measure: Measure, rows: list[str], cols: list[str], top_k: int) -> Grid:
    """Sum, count and dominance figures of every cell (interior and margins) of one measure."""
    n_r, n_c = len(rows) + 1, len(cols) + 1
    value = np.zeros((n_r, n_c), dtype=np.int64)
    count = np.zeros((n_r, n_c), dtype=np.int64)
    top = np.zeros((n_r, n_c), dtype=np.int64)
    abs_total = np.zeros((n_r, n_c), dtype=np.int64)
    r_of = {code: i for i, code in enumerate(rows)}
    c_of = {g: j for j, g in enumerate(cols)}
    if measure.name == "enterprises":
        units = np.ones(len(contributions), dtype=np.int64)
    else:
        raw = pd.to_numeric(contributions[measure.name], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        units = np.rint(raw * measure.scale).astype(np.int64)
    members: dict[tuple[int, int], list[int]] = {}
    for x, p, g in zip(units, contributions["prefecture_code"], contributions["sector_group"], strict=True):
        if p not in r_of or g not in c_of:
            continue
        r, c = r_of[p], c_of[g]
        for cell in ((r, c), (r, n_c - 1), (n_r - 1, c), (n_r - 1, n_c - 1)):
            members.setdefault(cell, []).append(int(x))
    for cell, xs in members.items():
        value[cell] = sum(xs)
        count[cell] = len(xs)
        absolute = sorted((abs(x) for x in xs), reverse=True)
        top[cell] = sum(absolute[:top_k])
        abs_total[cell] = sum(absolute)
    return Grid(
        rows=[*rows, PROVINCE_CODE], cols=[*cols, ALL_GROUPS], value=value, count=count, top=top, abs_total=abs_total
    )


def primary_cells(grid: Grid, options: ExtractOptions) -> np.ndarray:
    """Cells with 1 ≤ enterprises < min_enterprises, or whose top contributions hold > dominance_share."""
    few = (grid.count >= 1) & (grid.count < options.min_enterprises)
    dominated = (grid.count >= 1) & (grid.abs_total > 0) & (grid.top > options.dominance_share * grid.abs_total)
    return few | dominated


def _needed(grid: Grid, cell: tuple[int, int], ratio: float) -> float:
    return ratio * abs(float(grid.value[cell])) if grid.primary[cell] else 0.0


def _pick(grid: Grid, candidates: list[tuple[int, int]], need: float) -> tuple[int, int] | None:
    """The cheapest cell to suppress in addition: interior before margins, then one whose equations
    already hold a suppression (closing a rectangle), then the smallest value at least ``need``."""
    last_r, last_c = grid.value.shape[0] - 1, grid.value.shape[1] - 1

    def cost(cell: tuple[int, int]) -> tuple:
        r, c = cell
        margin = r == last_r or c == last_c
        partnered = grid.suppressed[r, :].any() and grid.suppressed[:, c].any()
        size = abs(float(grid.value[cell]))
        return (margin, not partnered, size < need, size, cell)

    usable = [cell for cell in candidates if not grid.suppressed[cell] and grid.count[cell] > 0]
    return min(usable, key=cost) if usable else None


def _complete_equations(grid: Grid, ratio: float) -> None:
    """Suppress further cells until no equation holds exactly one suppressed cell, nor exactly two that
    are both single-enterprise primary cells (the singleton problem: each of the two enterprises knows
    its own figure and would learn the other's from the equation)."""
    equations = [[cell for cell, _ in eq] for eq in table_equations(*grid.value.shape)]
    changed = True
    while changed:
        changed = False
        for cells in equations:
            hidden = [cell for cell in cells if grid.suppressed[cell]]
            singletons = len(hidden) == 2 and all(grid.primary[c] and grid.count[c] == 1 for c in hidden)
            if len(hidden) != 1 and not singletons:
                continue
            need = max(_needed(grid, c, ratio) for c in hidden)
            choice = _pick(grid, [c for c in cells if c not in hidden], need)
            if choice is not None:
                grid.suppressed[choice] = True
                changed = True


def audit(grid: Grid, measure: Measure, ratio: float) -> list[tuple[int, int]]:
    """Suppressed cells that the published cells and margins fix too closely (see the module doc)."""
    failing = []
    for cell, (lo, hi) in cell_bounds(grid.value, grid.suppressed, measure.signed).items():
        v = float(grid.value[cell])
        need = _needed(grid, cell, ratio)
        tolerance = 1e-6 * max(abs(v), 1.0)
        if hi - lo <= tolerance or hi < v + need - tolerance or lo > v - need + tolerance:
            failing.append(cell)
    return failing


def protect(grid: Grid, measure: Measure, options: ExtractOptions) -> Grid:
    """Primary then secondary suppression of one measure's table (in place); returns the grid."""
    grid.primary = primary_cells(grid, options)
    grid.suppressed = grid.primary.copy()
    ratio = options.protection_ratio
    while True:
        _complete_equations(grid, ratio)
        failing = audit(grid, measure, ratio)
        if not failing:
            return grid
        added = False
        for cell in failing:
            r, c = cell
            line = [(r, j) for j in range(grid.value.shape[1])] + [(i, c) for i in range(grid.value.shape[0])]
            choice = _pick(grid, line, _needed(grid, cell, ratio))
            if choice is None:  # its row and column are all suppressed: widen anywhere
                choice = _pick(grid, list(zip(*np.nonzero(~grid.suppressed), strict=True)), 0.0)
            if choice is not None:
                grid.suppressed[(int(choice[0]), int(choice[1]))] = True
                added = True
                break  # re-audit after each addition: one cell often protects several
        if not added:
            raise RuntimeError(f"disclosure control of {measure.name}: cannot protect cells {failing}")


def public_tables(
    contributions: pd.DataFrame,
    prefectures: pd.DataFrame,
    sector_groups: Sequence[str],
    options: ExtractOptions,
    period: Period | str,
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """The long-format public table (every measure × prefecture × sector group, with margins) and, per
    measure, how many cells were suppressed as primary and secondary."""
    rows = list(prefectures["code"])
    names = dict(zip(prefectures["code"], prefectures["name"], strict=True)) | dict([province()])
    cols = list(sector_groups)
    records, stats = [], {}
    for measure in MEASURES:
        grid = protect(_grid(contributions, measure, rows, cols, options.dominance_top), measure, options)
        stats[measure.name] = {
            "primary": int(grid.primary.sum()),
            "secondary": int((grid.suppressed & ~grid.primary).sum()),
        }
        for i, code in enumerate(grid.rows):
            for j, group in enumerate(grid.cols):
                flag = "primary" if grid.primary[i, j] else "secondary" if grid.suppressed[i, j] else ""
                value = (
                    None
                    if flag
                    else (
                        int(grid.value[i, j]) if measure.scale == 1 else round(int(grid.value[i, j]) / measure.scale, 2)
                    )
                )
                records.append(
                    {
                        "period": str(period),
                        "measure": measure.name,
                        "measure_zh": measure.name_zh,
                        "unit": measure.unit,
                        "prefecture_code": code,
                        "prefecture_name": names.get(code, ""),
                        "sector_group": group,
                        "value": value,
                        "suppressed": flag,
                    }
                )
    return pd.DataFrame(records), stats


def build_public(
    conn: Connection, period: Period, options: ExtractOptions
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """The public table of a period from the warehouse (see :func:`public_tables`)."""
    contributions = read_frame(conn, "marts/extracts/public_contributions", period=str(period))
    prefectures = read_frame(conn, "staging/reference/prefectures")
    groups = list(read_frame(conn, "staging/reference/sector_groups")["sector_group"])
    return public_tables(contributions, prefectures, groups, options, period)
