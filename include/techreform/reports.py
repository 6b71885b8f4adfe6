"""What a run did, for people: rows received, accepted and quarantined per form and prefecture."""

from __future__ import annotations

import logging

import pandas as pd

from techreform.config import Settings
from techreform.periods import Period
from techreform.warehouse import engine_for, read_frame

log = logging.getLogger(__name__)


def period_counts(settings: Settings, period: Period) -> pd.DataFrame:
    """form, prefecture_code, prefecture_name, received, accepted, quarantined, queried, superseded."""
    with engine_for(settings.warehouse_url).connect() as conn:
        frame = read_frame(conn, "marts/reports/form_prefecture_counts", period=str(period))
    for column in ("received", "accepted", "quarantined", "queried", "superseded"):
        frame[column] = frame[column].astype(int)
    return frame


def rejected_files(settings: Settings, period: Period) -> pd.DataFrame:
    with engine_for(settings.warehouse_url).connect() as conn:
        return read_frame(conn, "marts/reports/rejected_files", period=str(period))


def format_counts(frame: pd.DataFrame) -> str:
    """A fixed-width table (Chinese names padded by display width) for logs and the demo's printout."""
    header = ("表", "市州", "接收 received", "入库 accepted", "隔离 quarantined", "待核实 queried")
    rows = [header] + [
        (
            r.form,
            f"{r.prefecture_code} {r.prefecture_name}",
            str(r.received),
            str(r.accepted),
            str(r.quarantined),
            str(r.queried),
        )
        for r in frame.itertuples()
    ]

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [
            cell + " " * (widths[i] - width(cell)) if i < 2 else " " * (widths[i] - width(cell)) + cell
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def quarantine_lines(settings: Settings, period: Period, limit: int | None = None) -> list[str]:
    """``E1_620100_2013-06.csv 第17行 [E1-H00] 主营业务收入 (revenue)：“12,3a4”不是数字`` — one line a row."""
    with engine_for(settings.warehouse_url).connect() as conn:
        frame = read_frame(conn, "marts/reports/quarantine_lines", period=str(period))
    rows = frame if limit is None else frame.head(limit)
    return [f"{r.file_name} 第{r.source_row}行 [{r.rule_ids}] {r.messages}" for r in rows.itertuples()]


def log_period_summary(settings: Settings, period: Period) -> list[dict]:
    counts = period_counts(settings, period)
    log.info("Period %s: rows per form and prefecture\n%s", period, format_counts(counts))
    for row in rejected_files(settings, period).itertuples():
        log.warning("Rejected file: %s", row.message)
    lines = quarantine_lines(settings, period)
    if lines:
        log.warning("%d rows quarantined in %s; the first ones:\n%s", len(lines), period, "\n".join(lines[:50]))
    return counts.to_dict(orient="records")
