"""Checks of form S1 (督办联系人): who may be e-mailed. S1 is outside the GX suites because its rules are
few and its rows few; the rule ids are this project's additions to the contract:

- ``S1-H01`` region_code is a prefecture of Gansu or 620000 (the province);
- ``S1-H02`` email is one valid address (no spaces, no CR/LF, one ``@``, a dotted domain);
- ``S1-H03`` name is not blank;
- ``S1-H04`` (region_code, email) is unique within the delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from techreform.codes import valid_address
from techreform.reference import PROVINCE_CODE, prefectures

FAILURE_COLUMNS = ["file_sha256", "source_row", "rule_id", "severity", "field", "message", "explained"]


@dataclass(frozen=True)
class SupervisorCheckResult:
    failures: pd.DataFrame
    rule_counts: pd.DataFrame


def validate_supervisors(staged: pd.DataFrame) -> SupervisorCheckResult:
    allowed = set(prefectures()) | {PROVINCE_CODE}
    failures: list[dict] = []

    def fail(row, rule: str, field: str, message: str) -> None:
        failures.append(
            {
                "file_sha256": row.file_sha256,
                "source_row": int(row.source_row),
                "rule_id": rule,
                "severity": "hard",
                "field": field,
                "message": message,
                "explained": False,
            }
        )

    duplicated = staged.assign(_email=staged["email"].fillna("").str.strip().str.lower()).duplicated(
        ["file_sha256", "region_code", "_email"], keep=False
    )
    for row, dup in zip(staged.itertuples(index=False), duplicated):
        if row.region_code not in allowed:
            fail(row, "S1-H01", "region_code", f"行政区划代码“{row.region_code}”不是甘肃省的市州代码或620000")
        email = (row.email or "").strip()
        if not valid_address(email):
            fail(row, "S1-H02", "email", f"邮箱“{row.email}”不是有效的电子邮件地址")
        if not (row.name or "").strip():
            fail(row, "S1-H03", "name", "姓名为空")
        if dup:
            fail(row, "S1-H04", "region_code,email", f"（{row.region_code}，{email}）在同一文件中重复")
    frame = pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    counts = pd.DataFrame(
        [
            {"rule_id": r, "severity": "hard", "evaluated": len(staged), "failed": int((frame["rule_id"] == r).sum())}
            for r in ("S1-H01", "S1-H02", "S1-H03", "S1-H04")
        ]
    )
    return SupervisorCheckResult(frame, counts)
