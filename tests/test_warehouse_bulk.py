"""The bulk load of ``warehouse.insert_rows`` (PostgreSQL COPY, SQLite executemany) on both engines: the
same values back as the rows and frames given, nulls for missing values, integers for integer columns,
and database errors as SQLAlchemy's."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sqlalchemy as sa

from techreform.warehouse import create_schema, engine_for, insert_rows

DDL = (
    "create table bulk_t (id integer primary key, name text, amount double precision, headcount bigint, flag smallint)"
)


@pytest.fixture
def engine(warehouse_url):
    engine = engine_for(warehouse_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL)
    return engine


def _rows(engine):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("select * from bulk_t order by id")]


def test_dicts_and_frames_load_the_same_values(engine):
    with engine.begin() as conn:
        assert insert_rows(conn, "bulk_t", [{"id": 1, "name": '甲,\t"乙"\n', "amount": 0.1}, {"id": 2}]) == 2
        frame = pd.DataFrame(
            {
                "id": [3, 4],
                "name": ["\\N", None],
                "amount": [1234567.891, math.nan],
                "headcount": pd.array([12, None], dtype="Int64"),
                "flag": [True, False],
            }
        )
        assert insert_rows(conn, "bulk_t", frame) == 2
    assert _rows(engine) == [
        (1, '甲,\t"乙"\n', 0.1, None, None),
        (2, None, None, None, None),
        (3, "\\N", 1234567.891, 12, 1),
        (4, None, None, None, 0),
    ]


def test_whole_floats_go_into_integer_columns_as_integers(engine):
    with engine.begin() as conn:  # a frame's integer column with a gap is float64 (COPY refuses "50.0")
        insert_rows(conn, "bulk_t", pd.DataFrame({"id": [1.0, 2.0], "headcount": [50.0, math.nan]}))
    rows = [(r[0], r[3]) for r in _rows(engine)]
    assert rows == [(1, 50), (2, None)]
    assert type(rows[0][1]) is int


def test_a_refused_row_raises_sqlalchemys_integrity_error_and_loads_nothing(engine):
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        insert_rows(conn, "bulk_t", [{"id": 1}, {"id": 1}])
    assert _rows(engine) == []


def test_an_empty_frame_or_list_inserts_nothing(engine):
    with engine.begin() as conn:
        assert insert_rows(conn, "bulk_t", []) == 0
        assert insert_rows(conn, "bulk_t", pd.DataFrame({"id": []})) == 0
    assert _rows(engine) == []


def test_an_integer_column_added_by_create_schema_after_a_load_gets_integers(warehouse_url):
    """An older warehouse (``sup_email_log`` without ``claim_pid``) loaded once, then brought up to date
    by ``create_schema``: the column types remembered for the bulk load are those of the table now."""
    engine = engine_for(warehouse_url)
    create_schema(engine)
    row = {
        "period": "2013-06",
        "recipient": "a@example.org",
        "kind": "alert",
        "region_code": "620100",
        "version": 1,
        "digest": "d",
        "subject": "s",
        "content_json": "{}",
        "status": "sent",
        "attempts": 1.0,
        "last_error": "",
        "message_id": "<m@x>",
        "updated_at": "2013-07-01T00:00:00",
    }
    with engine.begin() as conn:
        conn.exec_driver_sql("alter table sup_email_log drop column claim_pid")
        insert_rows(conn, "sup_email_log", [row])
    create_schema(engine)
    with engine.begin() as conn:
        insert_rows(conn, "sup_email_log", [{**row, "recipient": "b@example.org", "claim_pid": 4242.0}])
        got = conn.exec_driver_sql("select claim_pid from sup_email_log where recipient = 'b@example.org'")
        assert got.scalar_one() == 4242
