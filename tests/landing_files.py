"""Small hand-made deliveries for tests of ingestion and load (the generator makes whole provinces)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from techreform.codes import make_uscc
from techreform.forms import Form


def uscc_for(county: str, serial: int) -> str:
    """A valid USCC registered in ``county`` (positions 3–8), distinct per serial."""
    return make_uscc(f"91{county}MA{serial:07d}"[:17])


def e1_row(uscc: str, period: str, region: str = "620102", **overrides) -> dict[str, object]:
    row: dict[str, object] = {
        "统一社会信用代码": uscc, "企业名称": "兰州测试化工有限公司", "行政区划代码": region, "行业代码": "2614",
        "报告期": period, "工业总产值": "1,200.5", "工业增加值": "300", "主营业务收入": "1100", "利润总额": "-20",
        "从业人员平均人数": "150", "研究与试验发展经费支出": "-", "新产品产值": "", "技术改造投资完成额": "80",
        "综合能源消费量": "５００", "工业用水量": "1000", "一般工业固体废物产生量": "20", "一般工业固体废物综合利用量": "10",
        "采购总额": "400", "电子商务采购额": "40", "电子商务销售额": "50",
    }
    row.update(overrides)
    return row


def write_delivery(landing: Path, form: Form, period: str, name: str, rows: list[dict[str, object]],
                   encoding: str = "utf-8", headers: list[str] | None = None) -> Path:
    """Write a CSV delivery to ``landing/<form>/<period>/<name>``."""
    folder = landing / form.name / period
    folder.mkdir(parents=True, exist_ok=True)
    headers = headers or list(rows[0].keys())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    path = folder / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
