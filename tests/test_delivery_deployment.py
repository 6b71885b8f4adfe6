"""Instant review on the real multi-worker deployment (issue 15, docs/delivery.md): a prefecture's E1 file
of about 1,000 rows lands in the store's ``landing/enterprise_monthly/<period>/`` while ``techreform_delivery``
is unpaused and its asset watcher runs in the triggerer; its receipt (审核回执) must reach the SMTP server
(the connection ``techreform_smtp``), addressed to that prefecture's statistics contact (统计联络员) from S1,
in Chinese, naming every planted hard error (row and rule) and the planted soft queries' rules.

The deployment (``deployment_harness.running_deployment``): PostgreSQL metadata and warehouse, Redis,
scheduler, dag-processor, api-server, triggerer and two Celery workers, the store on a moto S3 server, an
aiosmtpd server. The warehouse holds what the month's runs of earlier periods leave (the register and S1
in force, May's E1), loaded through the package's steps before the deployment watches the store.

The seconds from the upload to the receipt's arrival are printed with where they went; there is no timing
assertion (``scripts/measure_delivery.py`` measures, best of N), only a generous bound against hanging."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from deployment_harness import (
    databases,  # noqa: F401 (fixture)
    deliver,
    load_earlier_months,
    redis_db,  # noqa: F401 (fixture)
    running_deployment,
    statistics_contacts,
    wait_for_watchers,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.airflow]

DAG_ID = "techreform_delivery"
PERIOD, EARLIER = "2013-06", "2013-05"
PREFECTURE = "620100"  # 兰州市, the largest prefecture: 1,001 E1 rows with 3,260 enterprises
ENTERPRISES = 3260
RECEIPT_TIMEOUT = 10 * 60  # a bound against hanging, not a goal (the goal, two minutes, is measured)
RULE_ID = re.compile(r"\b[A-Z]\d-[HS]\d\d\b")


def generate_province(out: Path, enterprises: int = ENTERPRISES) -> Path:
    """R1, S1 and E1 for May and June 2013 with the generator's planted defects (1 % of rows)."""
    from techreform.generator import GeneratorConfig, generate

    generate(
        out,
        GeneratorConfig(
            enterprises=enterprises,
            projects=0,
            forms=("R1", "S1", "E1"),
            first_period=EARLIER,
            last_period=PERIOD,
            defect_rate=0.01,
        ),
    )
    return out


def prefecture_file(province: Path, code: str = PREFECTURE, period: str = PERIOD) -> tuple[Path, dict, pd.DataFrame]:
    """The prefecture's E1 file of ``period``, its row of the ground truth's ``files.csv`` and its planted
    defects (``defects.csv``)."""
    files = pd.read_csv(province / "ground_truth" / "files.csv", dtype=str)
    row = files[(files["form"] == "E1") & (files["period"] == period) & files["file_name"].str.contains(f"_{code}_")]
    assert len(row) == 1, row
    info = row.iloc[0].to_dict()
    defects = pd.read_csv(province / "ground_truth" / "defects.csv", dtype=str)
    planted = defects[defects["file_name"] == info["file_name"]]
    return province / "landing" / "enterprise_monthly" / period / info["file_name"], info, planted


def message_text(message) -> str:
    """Subject, body and every text attachment (the receipt's HTML) of a message, decoded."""
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def receipt_rows(text: str, file_name: str) -> set[tuple[int, str]]:
    """(row, rule id) of every table row of the receipt's HTML naming ``file_name``."""
    out = set()
    for row in re.findall(r"<tr>(.*?)</tr>", text, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        if file_name not in cells:
            continue
        numbers = [int(c.replace(",", "")) for c in cells if re.fullmatch(r"\d[\d,]*", c)]
        rules = [c for c in cells if RULE_ID.fullmatch(c)]
        if numbers and rules:
            out.add((numbers[0], rules[0]))
    return out


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    return generate_province(tmp_path_factory.mktemp("delivery_province"))


def test_a_prefecture_file_landing_in_the_store_gets_its_receipt_by_email_from_the_deployment(
    tmp_path, province, databases, redis_db, s3_server, local_smtp
):
    from techreform.options import DeliveryOptions

    source, info, planted = prefecture_file(province)
    hard = planted[planted["severity"] == "hard"]
    soft = planted[planted["severity"] == "soft"]
    assert len(hard) and len(soft), "the generator planted no errors in the file"

    with running_deployment(
        tmp_path,
        meta_url=databases["meta"],
        warehouse_url=databases["wh"],
        broker_url=redis_db,
        s3=s3_server,
        smtp=local_smtp,
        job_schedule=True,  # runs raised by asset events
    ) as deployment:
        load_earlier_months(deployment, province / "landing", {"R1": PERIOD, "S1": PERIOD, "E1": EARLIER})
        contacts = statistics_contacts(deployment, PERIOD)[PREFECTURE]
        assert [c["email"] for c in contacts] == [f"tongji{PREFECTURE}@gsgxw.example"], contacts
        poll = DeliveryOptions().poll_seconds  # the deployment's: no configuration file sets it
        wait_for_watchers(deployment, DAG_ID, settle=poll + 5)  # polling in its steady state

        message, spent = deliver(deployment, source, "E1", PERIOD, contacts[0]["email"], DAG_ID, RECEIPT_TIMEOUT)

    print(
        f"\n{info['file_name']} ({info['rows']} rows, {info['format']}; planted: {len(hard)} hard errors in "
        f"{hard['source_row'].nunique()} rows, {len(soft)} soft): landing → receipt at SMTP {spent.total:.1f} s\n"
        f"{spent.format()}"
    )
    assert spent.run_id, "no run of the delivery DAG after the landing"

    # To the prefecture's statistics contact, in Chinese ...
    assert contacts[0]["email"] in str(message["To"])
    text = message_text(message)
    assert "审核回执" in str(message["Subject"]) and "需更正" in text, text[:2000]
    # ... naming every planted hard error by row and rule, and the rules of the planted soft queries.
    rows = receipt_rows(text, info["file_name"])
    planted_hard = {(int(r.source_row), r.rule_id) for r in hard.itertuples()}
    assert planted_hard <= rows, sorted(planted_hard - rows)
    named = set(RULE_ID.findall(text))
    assert set(soft["rule_id"]) <= named, sorted(set(soft["rule_id"]) - named)
    assert {r for _, r in rows if r[3] == "H"} == set(hard["rule_id"])  # no hard error that was not planted
