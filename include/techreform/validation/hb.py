"""The Hidiroglou–Berthelot (HB) outlier method for rule E1-S08 (月度增量离群值).

Hidiroglou, M.A. and Berthelot, J.-M. (1986), "Statistical editing and imputation for periodic
business surveys", Survey Methodology 12(1). For each unit i with a reference value x_i > 0 and a
current value y_i > 0:

- ratio r_i = y_i / x_i, and r_M its median over the units of the group;
- centred ratio s_i = 1 − r_M / r_i if r_i < r_M, else r_i / r_M − 1 (symmetric around 0);
- effect E_i = s_i · max(x_i, y_i)^U (U in [0, 1] gives large units more weight);
- with E_Q1, E_M, E_Q3 the quartiles of E: d_Q1 = max(E_M − E_Q1, |A·E_M|), d_Q3 = max(E_Q3 − E_M, |A·E_M|);
- i is an outlier if E_i < E_M − C·d_Q1 or E_i > E_M + C·d_Q3.

For E1-S08 (see docs/validation.md), y_i is the enterprise's own increment this month per month
((YTD − previous YTD) / months since the previous report of the same year) and x_i its average monthly
increment so far this year (previous YTD / month of the previous report). Units without a previous
report of the same year (January; a February report after a missing January), or with a zero or
negative increment (E1-S07's business), are not evaluated. Parameters: ``hb_u``, ``hb_a``, ``hb_c`` (one
number or a mapping field → C) and ``hb_min_group`` of :class:`techreform.options.ValidationOptions`
(the ``validation`` section; defaults 0.5, 0.05, 20, 10 — fewer evaluable units than ``hb_min_group``
and nobody is judged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from techreform.options import ValidationOptions, read_options


@dataclass(frozen=True)
class HBParameters:
    """U, A, C and the minimum group of one field; the defaults are the ``validation`` options'."""

    u: float = ValidationOptions.hb_u
    a: float = ValidationOptions.hb_a
    c: float = ValidationOptions.hb_c  # type: ignore[assignment]  # the default is one number
    min_group: int = ValidationOptions.hb_min_group

    @classmethod
    def from_options(cls, options: ValidationOptions | Mapping[str, Any], field: str) -> HBParameters:
        """The parameters for ``field`` from the validation options (a mapping is read as the
        ``validation`` section, strictly); ``hb_c`` may name a C per field, others keep the default."""
        if not isinstance(options, ValidationOptions):
            options = read_options(ValidationOptions, "validation", options)
        hb_c = options.hb_c
        c = hb_c.get(field, cls.c) if isinstance(hb_c, Mapping) else hb_c
        return cls(u=options.hb_u, a=options.hb_a, c=c, min_group=options.hb_min_group)


@dataclass(frozen=True)
class HBFence:
    """The fitted fence of one group: median ratio and the acceptance interval of the effects."""

    r_median: float
    lower: float
    upper: float
    u: float

    def effects(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = y / x
            s = np.where(r < self.r_median, 1.0 - self.r_median / r, r / self.r_median - 1.0)
            return s * np.power(np.maximum(x, y), self.u)

    def is_outlier(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        e = self.effects(x, y)
        return (e < self.lower) | (e > self.upper)


def evaluable(x: pd.Series, y: pd.Series) -> pd.Series:
    """Units HB can judge: both values known and positive."""
    return x.notna() & y.notna() & (x > 0) & (y > 0)


def fit(x: pd.Series, y: pd.Series, params: HBParameters) -> HBFence | None:
    """Fit the fence on the group's evaluable units; ``None`` if there are fewer than ``min_group``."""
    mask = evaluable(x, y)
    if int(mask.sum()) < max(params.min_group, 1):
        return None
    xs, ys = x[mask].to_numpy(dtype=float), y[mask].to_numpy(dtype=float)
    r_median = float(np.median(ys / xs))
    probe = HBFence(r_median, -np.inf, np.inf, params.u)
    e = probe.effects(xs, ys)
    q1, median, q3 = np.quantile(e, [0.25, 0.5, 0.75])
    d_q1 = max(median - q1, abs(params.a * median))
    d_q3 = max(q3 - median, abs(params.a * median))
    return HBFence(r_median, median - params.c * d_q1, median + params.c * d_q3, params.u)


def flags(x: pd.Series, y: pd.Series, fence: HBFence | None) -> pd.Series:
    """Per unit: 1.0 not an outlier, 0.0 outlier, NaN not evaluated."""
    out = pd.Series(np.nan, index=x.index, dtype=float)
    if fence is None:
        return out
    mask = evaluable(x, y)
    if mask.any():
        outlier = fence.is_outlier(x[mask].to_numpy(dtype=float), y[mask].to_numpy(dtype=float))
        out[mask] = np.where(outlier, 0.0, 1.0)
    return out
