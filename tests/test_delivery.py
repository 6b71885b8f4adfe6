"""Instant review on delivery (docs/delivery.md), on SQLite and PostgreSQL, with a real SMTP server:
a landed file gets its receipt, the same bytes again nothing, a corrected file a correction naming what
changed, a hostile file a refusal and nothing else affected; the month's load reuses a check of the
same rows against the same warehouse and checks again when what they were checked against changed."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from delivery_fixtures import PERIOD, generate_province
from techreform.config import Settings
from techreform.periods import Period

E1_FOLDER = Path("enterprise_monthly") / PERIOD
LANZHOU, JIAYUGUAN = "620100", "620200"


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    return generate_province(tmp_path_factory.mktemp("delivery_province"), defect_rate=0.08)


def held_file(province: Path, form_folder: str, name: str) -> Path:
    return province / "landing" / form_folder / PERIOD / name


@pytest.fixture
def warehouse(settings, province, tmp_path):
    """A warehouse holding the register and the statistics contacts of 2013-01 (loaded by the month's
    steps), and an empty landing zone for 2013-02."""
    from dataclasses import replace

    from techreform.pipeline import prepare_warehouse, process_form

    landing = tmp_path / "landing"
    for folder in ("enterprise_register", "supervisors"):
        shutil.copytree(province / "landing" / folder / "2013-01", landing / folder / "2013-01")
    settings = replace(settings, landing_dir=landing).with_options(
        email={"retry_delay_seconds": 0, "send_attempts": 1},
        validation={"data_docs": False},
        delivery={"settle_seconds": 0},  # files written aside and renamed here: whole at once
    )
    engine = prepare_warehouse(settings)
    for code in ("R1", "S1"):
        process_form(engine, settings, code, Period.parse("2013-01"))
    return settings, engine


def land(settings: Settings, source: Path | bytes, name: str, folder: Path = E1_FOLDER) -> Path:
    """A file lands in the local store's landing zone (written aside, then moved into place)."""
    target = settings.landing_dir / folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.with_name("." + name)
    aside.write_bytes(source if isinstance(source, bytes) else source.read_bytes())
    os.replace(aside, target)
    return target


def rows_of(path: Path) -> list[list[str]]:
    """The data rows of a generated CSV (row 2 of the file is the first)."""
    return list(csv.reader(path.read_bytes().decode("utf-8-sig").splitlines()))[1:]


def with_bad_revenue(path: Path, source_row: int) -> bytes:
    """The CSV with 主营业务收入 of row ``source_row`` not a number (rule E1-H00)."""
    rows = list(csv.reader(path.read_bytes().decode("utf-8-sig").splitlines()))
    rows[source_row - 1][rows[0].index("revenue")] = "12,3a4"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def receipt_rows(message, sheet: str = "需更正（强制性审核）") -> list[list]:
    """The rows to correct (or, with ``sheet`` 需说明（核实性审核）, to explain) of a receipt e-mail's
    spreadsheet (报表, 文件, 行号, code, ..., rule, ...)."""
    for part in message.iter_attachments():
        if part.get_filename().endswith(".xlsx"):
            book = openpyxl.load_workbook(io.BytesIO(part.get_content()))
            return [list(r) for r in book[sheet].iter_rows(min_row=3, values_only=True)]
    return []


def staged_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select f.file_name, count(s.source_row) from etl_file_log f left join stg_enterprise_monthly s "
                "on s.file_sha256 = f.file_sha256 where f.form = 'E1' group by f.file_name"
            )
        ).fetchall()
    return {name: int(n) for name, n in rows}


def test_a_landed_file_gets_its_receipt_once_a_correction_names_the_changes_and_a_hostile_file_a_refusal(
    warehouse, province, smtp_server
):
    from techreform.delivery.review import review_deliveries

    settings, engine = warehouse
    handler, smtp = smtp_server
    name = f"E1_{LANZHOU}_{PERIOD}.csv"
    original = held_file(province, "enterprise_monthly", name)

    # a file lands (the generated one, with one more cell that is not a number in its last row)
    last = len(rows_of(original))
    land(settings, with_bad_revenue(original, last), name)
    result = review_deliveries(engine, settings, smtp)
    # R1 and S1 of 2013-01, which the month's steps loaded, are only recorded as reviewed
    assert [(r["form"], r["receipts"]) for r in result["reviewed"]] == [("R1", 0), ("S1", 0), ("E1", 1)]
    # its receipt reaches the prefecture's statistics contact, nobody else
    assert [rcpts for rcpts, _ in handler.messages] == [[f"tongji{LANZHOU}@gsgxw.example"]]
    first = handler.messages[0][1]
    assert first["Subject"].startswith("【审核回执】2013年2月 兰州市（E1 ")
    assert "缺报" not in first["Subject"]
    text = first.get_body(("plain",)).get_content()
    assert "截止日期：2013年3月16日" in text and "重新报送" in text
    # nothing is loaded at delivery: the receipt says what the month's run will do, not what it did
    assert "月度汇总时不会入库" in text and "未入库" not in text and "已入库" not in text
    to_correct = receipt_rows(first)
    assert all(row[1] == name for row in to_correct)
    assert [last, "E1-H00"] in [[row[2], row[5]] for row in to_correct]

    # nothing pending: nothing done; the same bytes landing again (a new modification time): nothing sent
    assert review_deliveries(engine, settings, smtp)["pending"] == 0
    land(settings, with_bad_revenue(original, last), name)
    again = review_deliveries(engine, settings, smtp)
    assert again["pending"] == 1 and len(handler.messages) == 1

    # a corrected file: the last row fixed, another row broken
    flagged = {row[2] for row in to_correct}
    other = next(i for i in range(2, last) if i not in flagged)
    land(settings, with_bad_revenue(original, other), name)
    review_deliveries(engine, settings, smtp)
    assert len(handler.messages) == 2
    correction = handler.messages[1][1]
    assert "【更正】" in correction["Subject"]
    text = correction.get_body(("plain",)).get_content()
    codes = {i: row[0] for i, row in enumerate(rows_of(original), start=2)}
    fixed = next(line for line in text.splitlines() if "已更正" in line)
    added = next(line for line in text.splitlines() if "新出现" in line)
    assert "已更正 1 项" in fixed and codes[last] in fixed and "E1-H00" in fixed
    assert f"{codes[other]}  E1-H00" in added  # (a row that now parses may show what it hid: new too)
    rows_now = {(row[2], row[5]) for row in receipt_rows(correction)}
    assert (other, "E1-H00") in rows_now and (last, "E1-H00") not in rows_now
    assert {(row[2], row[5]) for row in to_correct if row[2] != last} <= rows_now  # still open

    # a hostile file of another prefecture: a refusal to its contact; nothing else changes
    before = staged_counts(engine)
    land(settings, b"uscc,enterprise_name\n\x00\x00\x00binary\x00junk\n", f"E1_{JIAYUGUAN}_{PERIOD}.csv")
    review_deliveries(engine, settings, smtp)
    assert len(handler.messages) == 3
    rcpts, refusal = handler.messages[2]
    assert rcpts == [f"tongji{JIAYUGUAN}@gsgxw.example"]
    assert "未被接收" in refusal["Subject"]
    refusal_text = refusal.get_body(("plain",)).get_content()
    assert "原因：" in refusal_text and "于2013年3月16日前重新报送" in refusal_text  # the receipts' deadline
    assert "嘉峪关市" in refusal["Subject"] + refusal_text  # the prefecture by its name
    after = staged_counts(engine)
    assert {k: v for k, v in after.items() if k in before} == before
    assert after[f"E1_{JIAYUGUAN}_{PERIOD}.csv"] == 0
    with engine.connect() as conn:
        facts = conn.execute(sa.text("select count(*) from fct_enterprise_monthly")).scalar_one()
    assert facts == 0  # only the month's run writes facts
    # and nothing more is sent for any of it
    land(settings, with_bad_revenue(original, last), name)  # the first version again: received before
    review_deliveries(engine, settings, smtp)
    assert review_deliveries(engine, settings, smtp)["pending"] == 0
    assert len(handler.messages) == 3
    # the hostile file copied in once more: refused before, so no second refusal
    land(settings, b"uscc,enterprise_name\n\x00\x00\x00binary\x00junk\n", f"E1_{JIAYUGUAN}_{PERIOD}.csv")
    review_deliveries(engine, settings, smtp)
    assert review_deliveries(engine, settings, smtp)["pending"] == 0
    assert len(handler.messages) == 3


def count_suite_runs(monkeypatch) -> list[str]:
    """Record each run of a form's GX suite (the real one runs)."""
    from recording import record_calls
    from techreform.validation import suites

    return record_calls(monkeypatch, suites, "run_suite", lambda form, *args, **kwargs: form.code)


def test_the_months_load_reuses_the_delivery_check_and_checks_again_when_the_register_changed(
    warehouse, province, monkeypatch
):
    from techreform.delivery.review import review_deliveries
    from techreform.pipeline import load_step, process_form

    settings, engine = warehouse
    settings = settings.with_options(delivery={"email": False, "settle_seconds": 0})
    for code in (LANZHOU, JIAYUGUAN):
        name = f"E1_{code}_{PERIOD}.csv"
        land(settings, held_file(province, "enterprise_monthly", name), name)
    runs = count_suite_runs(monkeypatch)
    review_deliveries(engine, settings)
    assert runs == ["E1"]  # the instant review checked the period's E1 rows once

    load_step(engine, settings, "E1", Period.parse(PERIOD))  # the month's load: same rows, same warehouse
    assert runs == ["E1"], "the month's load validated the same content a second time"
    with engine.connect() as conn:
        loaded = conn.execute(sa.text("select count(*) from etl_row_outcome where form = 'E1'")).scalar_one()
    assert loaded > 0

    # a register snapshot for 2013-02 arrives later, without one of the enterprises: checked again
    register = province / "landing" / "enterprise_register" / "2013-01"
    source = next(register.iterdir())
    lines = source.read_bytes().decode("utf-8-sig").splitlines()
    land(
        settings,
        ("\n".join([lines[0], *lines[2:]]) + "\n").encode("utf-8"),
        source.name.replace("2013-01", PERIOD),
        Path("enterprise_register") / PERIOD,
    )
    process_form(engine, settings, "R1", Period.parse(PERIOD))
    assert runs == ["E1", "R1"]
    load_step(engine, settings, "E1", Period.parse(PERIOD))
    assert runs == ["E1", "R1", "E1"], "the register changed: E1 is checked again"
    load_step(engine, settings, "E1", Period.parse(PERIOD))
    assert runs == ["E1", "R1", "E1"]


def test_a_row_the_receipt_asks_to_explain_explained_afterwards_is_loaded_as_explained_by_the_months_run(
    warehouse, province, smtp_server, monkeypatch
):
    """What a receipt asks for works: a row listed under 需说明, explained by the prefecture after the
    review (核实说明), is loaded as explained by the month's run, which still reuses the review's check
    (explanations are applied after the suite, never part of what is reused)."""
    from techreform.delivery.review import review_deliveries
    from techreform.pipeline import load_step

    settings, engine = warehouse
    handler, smtp = smtp_server
    name = f"E1_{LANZHOU}_{PERIOD}.csv"
    land(settings, held_file(province, "enterprise_monthly", name), name)
    runs = count_suite_runs(monkeypatch)
    review_deliveries(engine, settings, smtp)
    ((_, receipt),) = handler.messages
    to_explain = receipt_rows(receipt, "需说明（核实性审核）")
    # a row to correct (quarantined) is not also asked to be explained (the generated file has one)
    to_correct = {(row[1], row[2]) for row in receipt_rows(receipt)}
    assert to_explain and not {(row[1], row[2]) for row in to_explain} & to_correct
    keys = [row[3] for row in to_explain]
    once = [row for row in to_explain if keys.count(row[3]) == 1]  # a row with one soft rule to explain
    assert once, "the generated delivery has a row with one soft rule to explain"
    key, rule = once[0][3], once[0][5]

    folder = settings.landing_dir / "explanations" / PERIOD
    folder.mkdir(parents=True)
    (folder / "核实说明_兰州.csv").write_text(
        f"统一社会信用代码,报告期,审核规则,核实说明,核实人\n{key},2013年2月,{rule},已电话核实，数据无误,张三\n",
        encoding="utf-8",
    )
    load_step(engine, settings, "E1", Period.parse(PERIOD))
    assert runs == ["E1"], "the month's load checked the reviewed rows again"
    with engine.connect() as conn:
        status = dict(
            conn.execute(
                sa.text(
                    "select record_key, review_status from etl_row_outcome "
                    "where form = 'E1' and period = :p and superseded = 0 and outcome = 'accepted'"
                ),
                {"p": PERIOD},
            ).fetchall()
        )
    # every row the receipt asked to explain is loaded: the one explained as explained, the others as queries
    assert status[key] == "explained"
    assert all(status[k] == "query" for k in set(keys) - {key})
    with engine.connect() as conn:
        both = conn.execute(
            sa.text(
                "select source_row from dq_row_failure where form = 'E1' and period = :p "
                "group by file_sha256, source_row having count(distinct severity) = 2"
            ),
            {"p": PERIOD},
        ).fetchall()
    assert both and all((name, row) in to_correct for (row,) in both)  # only to correct, as checked above


async def first_event(trigger) -> dict:
    """The trigger's first event (its ``run()`` consumed as the triggerer does; the timeout only stops a
    broken test from hanging)."""
    import asyncio

    stream = trigger.run()
    try:
        event = await asyncio.wait_for(stream.__anext__(), timeout=120)
    finally:
        await stream.aclose()
    return event.payload


@pytest.mark.parametrize("store", ["local", "s3"])
def test_the_watchers_trigger_fires_for_a_landed_file_and_once_reviewed_never_again(
    store, warehouse_url, province, tmp_path, monkeypatch, request, smtp_server
):
    import asyncio

    from techreform.airflow_support import settings_for_task
    from techreform.delivery.review import review_deliveries
    from techreform.delivery.trigger import LandingTrigger
    from techreform.pipeline import prepare_warehouse, process_form
    from techreform.store import store_of, write_bytes

    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", warehouse_url)
    options = tmp_path / "options.json"  # the trigger reads its options as a task does: from the file
    options.write_text('{"delivery": {"settle_seconds": 0}}', encoding="utf-8")
    monkeypatch.setenv("TECHREFORM_CONFIG_FILE", str(options))
    if store == "s3":
        for key, value in request.getfixturevalue("s3_server").env().items():  # the Airflow connection
            monkeypatch.setenv(key, value)
    # the settings of a task and of the trigger (the store's credentials from the connection)
    settings = settings_for_task().with_options(email={"retry_delay_seconds": 0, "send_attempts": 1})
    handler, smtp = smtp_server

    def land_in_store(form_folder: str, period: str, name: str, data: bytes) -> None:
        write_bytes(store_of(settings).delivery_folder(form_folder, period) / name, data)  # one PUT on S3

    for folder in ("enterprise_register", "supervisors"):
        for path in (province / "landing" / folder / "2013-01").iterdir():
            land_in_store(folder, "2013-01", path.name, path.read_bytes())
    engine = prepare_warehouse(settings)
    for code in ("R1", "S1"):
        process_form(engine, settings, code, Period.parse("2013-01"))
    review_deliveries(engine, settings, smtp)  # the month's files recorded as reviewed: nothing sent
    assert handler.messages == []

    first, second = (f"E1_{code}_{PERIOD}.csv" for code in (LANZHOU, JIAYUGUAN))
    land_in_store("enterprise_monthly", PERIOD, first, held_file(province, "enterprise_monthly", first).read_bytes())
    event = asyncio.run(first_event(LandingTrigger(poll_seconds=0.2)))
    assert event["entries"] == [f"E1/{PERIOD}/{first}"] and event["new"] == 1

    review_deliveries(engine, settings, smtp)  # what the event's DAG run does
    assert [rcpts for rcpts, _ in handler.messages] == [[f"tongji{LANZHOU}@gsgxw.example"]]
    assert review_deliveries(engine, settings, smtp)["pending"] == 0  # a re-fired event: nothing to do

    # a trigger created again (triggerer restart) announces only what is not reviewed yet
    land_in_store("enterprise_monthly", PERIOD, second, held_file(province, "enterprise_monthly", second).read_bytes())
    event = asyncio.run(first_event(LandingTrigger(poll_seconds=0.2)))
    assert event["entries"] == [f"E1/{PERIOD}/{second}"]
    review_deliveries(engine, settings, smtp)
    assert [rcpts for rcpts, _ in handler.messages][1:] == [[f"tongji{JIAYUGUAN}@gsgxw.example"]]


def test_a_receipt_the_smtp_server_refused_keeps_its_file_pending_and_goes_out_once_when_it_accepts(
    warehouse, province, smtp_server
):
    from techreform.delivery.review import review_deliveries
    from techreform.supervision.mailer import EmailDeliveryFailed

    settings, engine = warehouse
    handler, smtp = smtp_server
    name = f"E1_{LANZHOU}_{PERIOD}.csv"
    land(settings, held_file(province, "enterprise_monthly", name), name)
    handler.refuse_with = "451 4.3.0 try again later"
    with pytest.raises(EmailDeliveryFailed):
        review_deliveries(engine, settings, smtp)  # the task fails, Airflow retries it
    assert handler.messages == [] and handler.refused == 1
    handler.refuse_with = None
    result = review_deliveries(engine, settings, smtp)  # the retry: the file was still pending
    assert [r["form"] for r in result["reviewed"]] == ["E1"]
    assert [rcpts for rcpts, _ in handler.messages] == [[f"tongji{LANZHOU}@gsgxw.example"]]
    assert review_deliveries(engine, settings, smtp)["pending"] == 0
    assert len(handler.messages) == 1


def test_a_period_a_months_run_holds_is_left_pending_and_reviewed_once_it_is_free(warehouse, province, smtp_server):
    import subprocess
    import sys

    from techreform.delivery.review import review_deliveries

    settings, engine = warehouse
    handler, smtp = smtp_server
    name = f"E1_{LANZHOU}_{PERIOD}.csv"
    land(settings, held_file(province, "enterprise_monthly", name), name)
    holder = subprocess.Popen(  # another process: the month's run of the period at work
        [
            sys.executable,
            "-c",
            "import sys; from techreform.runlock import period_lock; from techreform.warehouse import engine_for\n"
            f"with period_lock(engine_for({settings.warehouse_url!r}), {PERIOD!r}, 'techreform_monthly/manual'):\n"
            "    print('held', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = review_deliveries(engine, settings, smtp)
        assert [r.get("busy", "")[:7] for r in result["reviewed"] if r["form"] == "E1"] == [PERIOD]
        assert handler.messages == []
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    result = review_deliveries(engine, settings, smtp)  # the trigger fires again while it is pending
    assert [r["receipts"] for r in result["reviewed"]] == [1]
    assert [rcpts for rcpts, _ in handler.messages] == [[f"tongji{LANZHOU}@gsgxw.example"]]


def test_a_file_still_being_copied_into_a_local_folder_waits_until_it_settles(settings):
    """A local folder shows a file while it is being written: it is taken once unchanged for
    ``delivery.settle_seconds`` (an object store shows an upload only whole)."""
    from techreform.delivery.watch import pending_entries
    from techreform.store import store_of
    from techreform.warehouse import create_schema, engine_for

    settings = settings.with_options(delivery={"settle_seconds": 10})
    folder = store_of(settings).delivery_folder("enterprise_monthly", PERIOD)
    folder.mkdir(parents=True)
    path = folder / f"E1_{LANZHOU}_{PERIOD}.csv"
    path.write_text("统一社会信用代码,企业名称\n", encoding="utf-8")  # the first part of a copy
    engine = engine_for(settings.warehouse_url)
    create_schema(engine)
    assert pending_entries(engine, settings) == []
    written = path.stat().st_mtime_ns
    assert pending_entries(engine, settings, now_ns=written + 9 * 10**9) == []
    assert [e.name for e in pending_entries(engine, settings, now_ns=written + 10 * 10**9)] == [path.name]


def test_folders_made_ahead_for_coming_months_do_not_push_the_current_month_out_of_the_watch(settings):
    import datetime as dt

    from techreform.delivery.watch import landed_entries
    from techreform.store import store_of

    settings = settings.with_options(delivery={"recent_periods": 2})
    for period in ("2013-01", "2013-02", "2013-03", "2013-04", "2013-05"):
        folder = store_of(settings).delivery_folder("enterprise_monthly", period)
        folder.mkdir(parents=True)
        (folder / f"E1_{LANZHOU}_{period}.csv").write_text("统一社会信用代码,企业名称\n", encoding="utf-8")
    # 2013-02-28 16:30 UTC is 2013-03-01 00:30 in China: March has begun, April and May not
    now = dt.datetime(2013, 2, 28, 16, 30, tzinfo=dt.UTC)
    assert [e.period for e in landed_entries(settings, now)] == ["2013-02", "2013-03"]
    later = dt.datetime(2013, 5, 2, tzinfo=dt.UTC)
    assert [e.period for e in landed_entries(settings, later)] == ["2013-04", "2013-05"]


def test_a_review_that_fails_leaves_its_files_pending_and_the_others_are_still_answered(
    warehouse, province, smtp_server, monkeypatch
):
    from techreform.delivery import review

    settings, engine = warehouse
    handler, smtp = smtp_server
    first, second = (f"E1_{code}_{PERIOD}.csv" for code in (LANZHOU, JIAYUGUAN))
    land(settings, held_file(province, "enterprise_monthly", first), first)
    checked = review.check_period

    def check_or_break(engine_, settings_, form, period):  # the warehouse fails for E1's check only
        if form.code == "E1":
            raise RuntimeError("could not serialize access due to concurrent update")
        return checked(engine_, settings_, form, period)

    monkeypatch.setattr(review, "check_period", check_or_break)
    p1 = next((province / "landing" / "project_monthly" / PERIOD).iterdir())
    land(settings, p1, p1.name, folder=Path("project_monthly") / PERIOD)
    with pytest.raises(review.DeliveryReviewFailed, match=rf"E1 {PERIOD}: .*concurrent update"):
        review.review_deliveries(engine, settings, smtp)
    assert any("（P1 " in str(m["Subject"]) for _, m in handler.messages)  # P1 answered all the same
    assert not any("（E1 " in str(m["Subject"]) for _, m in handler.messages)
    monkeypatch.setattr(review, "check_period", checked)
    land(settings, held_file(province, "enterprise_monthly", second), second)
    result = review.review_deliveries(engine, settings, smtp)  # the retry takes E1's files again
    assert [r["form"] for r in result["reviewed"]] == ["E1"]
    e1 = sorted(r[0] for r, m in handler.messages if "（E1 " in str(m["Subject"]))
    assert e1 == sorted(f"tongji{code}@gsgxw.example" for code in (LANZHOU, JIAYUGUAN))
