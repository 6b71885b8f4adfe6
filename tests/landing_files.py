"""Small hand-made deliveries for tests of ingestion and load (the generator makes whole provinces)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from techreform.codes import make_uscc
from techreform.forms import Form


def slice_tables(form: Form) -> tuple[str, ...]:
    """The tables a parsed slice of a ``form`` file is written to: the form's staging table, and on SQLite
    first the connection's TEMP table (``techreform.ingest.STAGED_ASIDE``). A test that has the database
    refuse a file's rows refuses them in either."""
    from techreform.ingest import STAGED_ASIDE

    return (form.staging_table, STAGED_ASIDE[0])


def uscc_for(county: str, serial: int) -> str:
    """A valid USCC registered in ``county`` (positions 3–8), distinct per serial."""
    return make_uscc(f"91{county}MA{serial:07d}"[:17])


def e1_row(uscc: str, period: str, region: str = "620102", **overrides) -> dict[str, object]:
    row: dict[str, object] = {
        "统一社会信用代码": uscc,
        "企业名称": "兰州测试化工有限公司",
        "行政区划代码": region,
        "行业代码": "2614",
        "报告期": period,
        "工业总产值": "1,200.5",
        "工业增加值": "300",
        "主营业务收入": "1100",
        "利润总额": "-20",
        "从业人员平均人数": "150",
        "研究与试验发展经费支出": "-",
        "新产品产值": "",
        "技术改造投资完成额": "80",
        "综合能源消费量": "５００",
        "工业用水量": "1000",
        "一般工业固体废物产生量": "20",
        "一般工业固体废物综合利用量": "10",
        "采购总额": "400",
        "电子商务采购额": "40",
        "电子商务销售额": "50",
    }
    row.update(overrides)
    return row


def write_delivery(
    landing: Path,
    form: Form,
    period: str,
    name: str,
    rows: list[dict[str, object]],
    encoding: str = "utf-8",
    headers: list[str] | None = None,
) -> Path:
    """Write a CSV delivery to ``landing/<form>/<period>/<name>``."""
    folder = landing / form.name / period
    folder.mkdir(parents=True, exist_ok=True)
    headers = headers or list(rows[0].keys())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return land_bytes(landing, form, period, name, buffer.getvalue().encode(encoding))


def land_bytes(landing: Path, form: Form, period: str, name: str, data: bytes, mtime: int | None = None) -> Path:
    """Put ``data`` at ``landing/<form>/<period>/<name>``; ``mtime`` (seconds) sets its arrival order."""
    folder = landing / form.name / period
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def p1_row(project: int, period: str | None, region: str = "620102", **overrides) -> dict[str, object]:
    """A P1 row with Chinese headers that passes every hard rule; ``period=None`` leaves out 报告期 (the
    contract's P1 table has no period column: the file takes its folder's)."""
    row: dict[str, object] = {
        "项目代码": f"2013-{region}-26-03-{project:06d}",
        "项目名称": f"测试技改项目{project}",
        "项目单位统一社会信用代码": uscc_for(region, project),
        "建设地点行政区划代码": region,
        "行业代码": "2614",
        "是否省列重点项目": "否",
        "计划总投资": "5,000",
        "计划开工年月": "2013-01",
        "计划竣工年月": "2014-12",
        "实际开工年月": "2013年2月",
        "实际竣工年月": "",
        "本年计划投资": "2000",
        "本年累计完成投资": "150",
        "自开工累计完成投资": "800",
        "项目状态": "在建",
        "本年到位财政资金(贴息、以奖代补)": "0",
        "存在问题及说明": "",
    }
    if period is not None:
        row["报告期"] = period
    row.update(overrides)
    return row
