"""The province's headline indicators against their targets: what the demo prints and the provincial
supervision email may include."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Engine

from techreform.labels import INDICATOR_STATUS_ZH
from techreform.periods import Period
from techreform.warehouse import read_frame

HEADLINE_COLUMNS = ("code", "name_zh", "unit", "value", "target", "status")


def headline_table(engine: Engine, period: Period | str) -> pd.DataFrame:
    """Headline indicators of ``period`` at province level: code, name_zh, unit, value, target (the
    period's target on the straight path), status, then target_2015 and status_zh. Values rounded to 2
    decimals; empty if the period was not computed. (Same period last year and growth: ``rpt_indicator``.)"""
    with engine.connect() as conn:
        frame = read_frame(conn, "marts/indicators/headline", period=str(Period.parse(period)))
    if frame.empty:
        return pd.DataFrame(columns=[*HEADLINE_COLUMNS, "target_2015", "status_zh"])
    for column in ("value", "target", "target_2015"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").round(2)
    frame["status_zh"] = frame["status"].map(INDICATOR_STATUS_ZH)
    return frame[[*HEADLINE_COLUMNS, "target_2015", "status_zh"]]
