"""The indicator system (统计指标体系) of the programme, computed on the warehouse.

- :mod:`.catalogue` – the catalogue as data (``reference/indicators.csv`` + ``computation.csv``) with
  configuration overrides of targets, loaded into ``dim_indicator``.
- :mod:`.plan` – the plan's calendar: 2010 baseline, 2011-01..2015-12, the straight path to targets.
- :mod:`.compute` – the driver: SQL families under ``include/sql/marts/indicators/`` give measures,
  ``finalise.sql`` derives values, targets and statuses into ``fct_indicator``.
- :mod:`.headline` – the province's headline indicators against their targets.

Entry points the DAG calls: :func:`compute_indicators` after the load, :func:`refresh_supervision_indicators`
after supervision. The definitions are in ``docs/indicators.md``."""

from techreform.indicators.compute import (
    compute_indicators,
    compute_indicators_range,
    periods_affected_by,
    recompute_after_correction,
    refresh_supervision_indicators,
)
from techreform.indicators.headline import headline_table

__all__ = [
    "compute_indicators",
    "compute_indicators_range",
    "headline_table",
    "periods_affected_by",
    "recompute_after_correction",
    "refresh_supervision_indicators",
]
