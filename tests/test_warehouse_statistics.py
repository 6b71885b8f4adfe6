"""The planner's statistics after a load (``warehouse.refresh_statistics``): on PostgreSQL the tables a load
wrote are analysed inside its transaction when it changed enough of them, and a table another transaction is
analysing is skipped, not waited for; on SQLite nothing is gathered."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from landing_files import e1_row, p1_row, uscc_for, write_delivery
from techreform.config import Settings
from techreform.forms import ENTERPRISE_MONTHLY as E1
from techreform.periods import Period
from techreform.pipeline import prepare_warehouse, process_form
from techreform.warehouse import engine_for, refresh_statistics

LOADED_TABLES = (E1.staging_table, "etl_row_outcome", "quarantine", E1.target_table)


def _deliver_and_load(settings):
    engine = prepare_warehouse(settings)
    rows = [e1_row(uscc_for("620102", n), "2013-06") for n in range(1, 8)]
    rows.append(e1_row(uscc_for("620102", 8), "2013-06", **{"主营业务收入": "12,3a4"}))  # quarantined: E1-H00
    write_delivery(settings.landing_dir, E1, "2013-06", "E1_620100_2013-06.csv", rows)
    load = process_form(engine, settings, "E1", Period(2013, 6))["load"]
    assert (load["accepted"], load["quarantined"]) == (7, 1)
    return engine


@pytest.mark.postgres
def test_a_load_leaves_postgresql_statistics_of_the_tables_it_wrote(tmp_path, pg_url):
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": pg_url})
    engine = _deliver_and_load(settings)
    with engine.connect() as conn:
        for table in LOADED_TABLES:
            counted = conn.execute(sa.text(f"select count(*) from {table}")).scalar_one()
            # -1 until a table is first analysed (PostgreSQL 14 and later); a small table's sample is all of it
            estimated = conn.execute(
                sa.text("select reltuples from pg_class where relname = :t and relkind = 'r'"), {"t": table}
            ).scalar_one()
            assert counted > 0 and estimated == counted, table
        untouched = conn.execute(
            sa.text("select reltuples from pg_class where relname = 'fct_product_output' and relkind = 'r'")
        ).scalar_one()
    assert untouched == -1  # a table no load wrote is left as it was


@pytest.mark.postgres
def test_a_table_another_transaction_is_analysing_is_skipped_not_waited_for(pg_url):
    engine = engine_for(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("create table stats_t (id integer primary key)")
        conn.exec_driver_sql("insert into stats_t select generate_series(1, 100)")
    with engine.connect() as holder, engine.connect() as other:
        holder_tx = holder.begin()
        holder.exec_driver_sql("analyze stats_t")  # holds the table's analyse lock to its end
        with other.begin():
            other.exec_driver_sql("set local lock_timeout = '3s'")  # a wait would fail here, not hang
            other.exec_driver_sql("insert into stats_t select generate_series(101, 150)")
            refresh_statistics(other, "stats_t")
            skipped = other.exec_driver_sql("select reltuples from pg_class where relname = 'stats_t'").scalar_one()
        holder_tx.rollback()
        assert skipped == 100  # the holder's count (pg_class is updated in place): the table was skipped
        with other.begin():
            refresh_statistics(other, "stats_t")
            taken = other.exec_driver_sql("select reltuples from pg_class where relname = 'stats_t'").scalar_one()
    assert taken == 150


def _reltuples(conn, table: str) -> float:
    return conn.execute(sa.text("select reltuples from pg_class where relname = :t"), {"t": table}).scalar_one()


@pytest.mark.postgres
def test_a_table_is_analysed_when_the_rows_the_transaction_changed_are_enough(pg_url, monkeypatch):
    """Autovacuum's rule (50 rows and a tenth of the table at the server's defaults) or ANALYSE_ROWS_AT_MOST
    rows whatever the table's size; a table never analysed always; without a count always."""
    from techreform import warehouse

    engine = engine_for(pg_url)
    with engine.begin() as conn:
        # autovacuum kept out of the way: its own ANALYZE would change the counts read here
        for table in ("stats_big", "stats_new"):
            conn.exec_driver_sql(f"create table {table} (id integer primary key) with (autovacuum_enabled = false)")
        conn.exec_driver_sql("insert into stats_big select generate_series(1, 1000)")
        conn.exec_driver_sql("analyze stats_big")
    with engine.begin() as conn:
        conn.exec_driver_sql("insert into stats_big select generate_series(1001, 1149)")
        conn.exec_driver_sql("insert into stats_new values (1)")
        refresh_statistics(conn, "stats_big", "stats_new", changed_rows=149)  # 149 < 50 + 100
        assert _reltuples(conn, "stats_big") == 1000  # left as it was
        assert _reltuples(conn, "stats_new") == 1  # never analysed before
        refresh_statistics(conn, "stats_big", changed_rows=150)
        assert _reltuples(conn, "stats_big") == 1149
    with engine.begin() as conn:
        conn.exec_driver_sql("insert into stats_big select generate_series(1150, 1160)")
        refresh_statistics(conn, "stats_big", changed_rows=0)
        assert _reltuples(conn, "stats_big") == 1149
        refresh_statistics(conn, "stats_big")  # rows other transactions committed: analysed whatever changed
        assert _reltuples(conn, "stats_big") == 1160
    monkeypatch.setattr(warehouse, "ANALYSE_ROWS_AT_MOST", 20)  # a table large beside what a load changes
    with engine.begin() as conn:
        conn.exec_driver_sql("insert into stats_big select generate_series(1161, 1180)")
        refresh_statistics(conn, "stats_big", changed_rows=19)
        assert _reltuples(conn, "stats_big") == 1160
        refresh_statistics(conn, "stats_big", changed_rows=20)
        assert _reltuples(conn, "stats_big") == 1180


@pytest.mark.postgres
def test_a_small_form_loaded_after_a_large_one_leaves_the_outcomes_statistics_as_they_were(tmp_path, pg_url):
    """E1's eight rows are loaded, then analysed (a table never analysed); a second form's one row is not
    enough to sample the outcomes again, and its own facts table (never analysed) is."""
    from techreform.forms import PROJECT_MONTHLY as P1

    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_WAREHOUSE_URL": pg_url})
    engine = _deliver_and_load(settings)
    with engine.begin() as conn:
        conn.exec_driver_sql("alter table etl_row_outcome set (autovacuum_enabled = false)")
        conn.exec_driver_sql("analyze etl_row_outcome")
        before = _reltuples(conn, "etl_row_outcome")
    assert before == 8
    write_delivery(settings.landing_dir, P1, "2013-06", "P1_620100_2013-06.csv", [p1_row(1, "2013-06")])
    process_form(engine, settings, "P1", Period(2013, 6))
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from etl_row_outcome")).scalar_one() == 9
        assert _reltuples(conn, "etl_row_outcome") == before  # one row: not sampled again
        assert _reltuples(conn, P1.target_table) >= 0  # analysed: never before


def test_names_that_are_not_plain_tables_are_refused(warehouse_url):
    with engine_for(warehouse_url).connect() as conn, pytest.raises(ValueError, match="not a plain table"):
        refresh_statistics(conn, "etl_row_outcome", "quarantine; drop table etl_row_outcome")


def test_sqlite_gathers_no_statistics(sqlite_settings):
    engine = _deliver_and_load(sqlite_settings)
    with engine.connect() as conn:
        stat_tables = conn.exec_driver_sql("select name from sqlite_master where name like 'sqlite_stat%'").fetchall()
    assert stat_tables == []
