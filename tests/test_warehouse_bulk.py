"""The bulk load of ``warehouse.insert_rows`` (PostgreSQL COPY, SQLite executemany) on both engines: the
same values back as the rows and frames given, nulls for missing values, integers for integer columns,
and database errors as SQLAlchemy's."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _read_as_pandas_infers(engine, tmp_path, monkeypatch, sql: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``read_frame`` of ``sql`` beside the frame pandas infers from the driver's rows of the same query."""
    from techreform import warehouse

    (tmp_path / "sql").mkdir(exist_ok=True)
    (tmp_path / "sql" / "kinds.sql").write_text(sql, encoding="utf-8")
    monkeypatch.setattr(warehouse, "SQL_DIR", tmp_path / "sql")
    with engine.connect() as conn:
        got = warehouse.read_frame(conn, "kinds")
        result = conn.exec_driver_sql(sql)
        keys, rows = list(result.keys()), result.fetchall()
    return got, pd.DataFrame({k: pd.Series(list(v)) for k, v in zip(keys, zip(*rows))}, columns=keys)


def test_read_frame_types_every_column_as_pandas_infers_it_from_the_drivers_values(engine, tmp_path, monkeypatch):
    """Text, whole numbers and floats are inferred in pyarrow; each column, whatever its values, has the
    dtype and the values pandas gives the same values (read_frame's promise; docs/performance.md)."""
    big = 2**62
    sql = (
        "select 'a' as text, 1 as whole, 1.5 as real_number, cast(null as text) as nulls, 1 as whole_then_null, "
        f"'中文' as text_then_null, 2.0 as whole_real, {big} as big, 1 as whole_then_real, 1 = 1 as truth "
        "union all select null, 2, -0.25, null, null, null, 3.0, 5, 2.5, 1 = 0 "
        "union all select 'c', 3, null, null, null, null, null, 6, null, null"
    )
    if engine.dialect.name == "postgresql":  # its literals 1.5 are numeric: decimals, left to pandas
        sql = sql.replace("1.5 as real_number", "cast(1.5 as double precision) as real_number")
        sql = sql.replace("2.5,", "cast(2.5 as double precision),").replace(
            "1 as whole_then_real", "1.0 as whole_then_real"
        )
    got, expected = _read_as_pandas_infers(engine, tmp_path, monkeypatch, sql + " order by 2")
    pd.testing.assert_frame_equal(got, expected)
    assert str(got["text"].dtype) == "str" and got["text"].isna().tolist() == [False, True, False]
    assert str(got["whole"].dtype) == "int64" and str(got["whole_then_null"].dtype) == "float64"
    assert got["big"].tolist() == [big, 5, 6]


def test_read_frame_leaves_mixed_and_unusual_values_to_pandas(engine, tmp_path, monkeypatch):
    """Values pyarrow would refuse or type otherwise (text beside numbers in SQLite's loose columns,
    bytes; decimals, dates, booleans with a null and a number past 64 bits on PostgreSQL) come out as
    pandas makes them."""
    if engine.dialect.name == "sqlite":
        sql = (
            "select * from (select 'a' as mixed, x'00ff' as bytes, 1 as n union all select 7, x'01', 2 "
            "union all select 2.5, null, 3) order by n"
        )
        kept_to_pandas = ["mixed", "bytes"]
    else:
        sql = (
            "select 1.5 as decimal_number, date '2013-06-30' as day, cast(99999999999999999999 as numeric) as huge, "
            "true as truth union all select 2.25, date '2013-07-31', 1, null order by 1"
        )
        kept_to_pandas = ["decimal_number", "day", "huge", "truth"]
    got, expected = _read_as_pandas_infers(engine, tmp_path, monkeypatch, sql)
    pd.testing.assert_frame_equal(got, expected)
    assert [str(got[c].dtype) for c in kept_to_pandas] == ["object"] * len(kept_to_pandas)


def test_the_warehouse_sessions_have_their_engines_settings(warehouse_url):
    """What ``engine_for`` sets on every new connection, read back from the server: SQLite's WAL journal,
    ``synchronous=normal`` and 64 MiB page cache; PostgreSQL's session name and no JIT compilation (it
    cost the widest indicator query a third of its time, docs/performance.md), also on a connection
    the pool opens again after the first was closed."""
    engine = engine_for(warehouse_url)
    engine.dispose()
    for _ in range(2):
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("pragma synchronous").scalar() == 1  # normal
                assert conn.exec_driver_sql("pragma cache_size").scalar() == -65536
            else:
                assert conn.exec_driver_sql("show jit").scalar() == "off"
                assert conn.exec_driver_sql("show application_name").scalar() == "techreform"
        engine.dispose()


# ------------------------------------------------------------------ columns to COPY as CSV (PostgreSQL)

TEXTS = ["", None, '甲,\t"乙"\n', "a\r\nb", "\\.", "\\N", "NULL", " lead and trail ", "x" * 3000, "é\u3000\u200b"]
FLOATS = [0.1, None, -0.0, 5e-324, 1.7976931348623157e308, 1 / 3, 1e20, -123456.789, 2.5, 3.5]
INTEGERS = [0, None, -1, 2**62, 7, 2**31, -(2**40), 12, 1, 2]


def _load_both_ways(engine, columns: dict[str, list]) -> tuple[list, list, list[bool]]:
    """The rows of ``columns`` loaded by ``insert_columns`` and by ``insert_tuples`` into two copies of
    ``bulk_t``, read back; and, per call, whether the CSV path was taken."""
    from techreform import warehouse

    taken: list[bool] = []
    copy_csv = warehouse._copy_csv

    def spy(*args):
        taken.append(True)
        return copy_csv(*args)

    names = list(columns)
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL.replace("bulk_t", "bulk_rows"))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(warehouse, "_copy_csv", spy)
            warehouse.insert_columns(conn, "bulk_t", names, list(columns.values()))
        warehouse.insert_tuples(conn, "bulk_rows", names, list(zip(*columns.values())))
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql("select * from bulk_rows order by id")]
    return _rows(engine), rows, taken


def _nan_as_text(rows: list[tuple]) -> list[tuple]:
    """Rows with NaN as the text ``NaN`` (NaN equals nothing, itself included)."""
    return [tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in row) for row in rows]


def test_columns_load_the_values_their_rows_load(engine):
    ids = list(range(1, 11))
    got, expected, taken = _load_both_ways(
        engine, {"id": ids, "name": TEXTS, "amount": FLOATS, "headcount": INTEGERS, "flag": [1] * 10}
    )
    assert got == expected
    assert [type(v) for row in got for v in row] == [type(v) for row in expected for v in row]
    assert got[0][1] == "" and got[1][1] is None and got[4][1] == "\\."
    assert taken == ([True] if engine.dialect.name == "postgresql" else [])


def test_floats_go_into_integer_columns_rounded_half_to_even(engine):
    got, expected, taken = _load_both_ways(
        engine, {"id": [1.0, 2.0, 3.0, 4.0], "headcount": [0.5, 1.5, 2.5, None], "flag": [True, False, True, None]}
    )
    assert got == expected
    if engine.dialect.name == "postgresql":  # SQLite keeps 0.5 as it is (an integer column's affinity)
        assert [(r[3], r[4]) for r in got] == [(0, 1), (2, 0), (2, 1), (None, None)] and taken == [True]


@pytest.mark.parametrize(
    "columns",
    [
        {"id": [1, 2], "amount": [math.nan, 1.0]},  # NaN: 'NaN' by the tuples, not null
        {"id": [1, 2], "amount": [math.inf, 1.0]},
        {"id": [1, 2], "name": ["a", 5]},  # a mixed list
        {"id": [1, 2], "name": [5, 6]},  # numbers for a text column
        {"id": [1, 2], "amount": ["1.5", "2"]},  # text for a number column
        {"id": [1, 2], "headcount": [1e300, 1.0]},  # past 64 bits
    ],
    ids=["nan", "infinity", "mixed", "numbers as text", "text as numbers", "past 64 bits"],
)
def test_columns_pyarrow_cannot_write_exactly_go_as_rows(engine, columns):
    from techreform import warehouse

    try:
        got, expected, taken = _load_both_ways(engine, columns)
    except sa.exc.DBAPIError:  # refused by the database whichever way it goes (past 64 bits)
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            warehouse.insert_tuples(conn, "bulk_t", list(columns), list(zip(*columns.values())))
        return
    assert _nan_as_text(got) == _nan_as_text(expected) and taken == []
    kinds = {"name": "text", "amount": "float", "headcount": "integer"}  # bulk_t's columns
    assert all(warehouse._copy_array(values, kinds[name]) is None for name, values in columns.items() if name != "id")


def test_frame_columns_load_as_their_rows_did(engine):
    from techreform import warehouse

    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": pd.Series(["a", None, "b"], dtype="category"),
            "amount": [1.25, math.nan, -2.0],
            "headcount": pd.array([12, None, 3], dtype="Int64"),
            "flag": [True, False, True],
        }
    )
    taken: list[bool] = []
    copy_csv = warehouse._copy_csv
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warehouse, "_copy_csv", lambda *args: taken.append(True) or copy_csv(*args))
        with engine.begin() as conn:
            insert_rows(conn, "bulk_t", frame)
    assert _rows(engine) == [(1, "a", 1.25, 12, 1), (2, None, None, None, 0), (3, "b", -2.0, 3, 1)]
    assert taken == ([True] if engine.dialect.name == "postgresql" else [])


@pytest.mark.postgres
def test_a_refused_csv_row_raises_sqlalchemys_error_and_loads_nothing(pg_url):
    from techreform import warehouse

    engine = engine_for(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        warehouse.insert_columns(conn, "bulk_t", ["id", "name"], [[1, 1], ["a", "b"]])
    assert _rows(engine) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(max_size=12)),
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_random_columns_load_the_values_their_rows_load(engine, rows):
    rows = [
        (name.replace("\x00", ""), amount, count) if name else (name, amount, count) for name, amount, count in rows
    ]
    with engine.begin() as conn:
        conn.exec_driver_sql("delete from bulk_t")
        conn.exec_driver_sql("drop table if exists bulk_rows")
    names, amounts, counts = (list(column) for column in zip(*rows))
    got, expected, _ = _load_both_ways(
        engine, {"id": list(range(len(rows))), "name": names, "amount": amounts, "headcount": counts}
    )
    assert got == expected


def test_an_expanding_list_is_run_chunk_by_chunk_and_no_codes_runs_nothing_or_once_for_the_columns(
    warehouse_url, monkeypatch
):
    """``query_in`` and ``read_frame_in`` run a query whose ``:codes`` is an expanding list on
    ``IN_LIST_CHUNK`` codes at a time (here 2: five codes, three statements) and give every chunk's rows;
    with no codes ``query_in`` runs nothing, ``read_frame_in`` runs the query once for its columns."""
    from techreform import warehouse

    engine = engine_for(warehouse_url)
    create_schema(engine)
    common = {"project_name": "项目", "uscc": "U", "enterprise_name": "企业", "region_code": "620102"}
    common |= {"county_name": "城关区", "prefecture_code": "620100", "prefecture_name": "兰州市", "key_project": 0}
    common |= {"detail": "", "escalated": 0, "source": "accepted"}
    codes = [f"P{n}" for n in range(1, 6)]
    with engine.begin() as conn:
        insert_rows(
            conn,
            "sup_project_light",
            [{**common, "period": "2013-06", "project_code": c, "light": "green", "reasons": ""} for c in codes],
        )
    monkeypatch.setattr(warehouse, "IN_LIST_CHUNK", 2)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with engine.connect() as conn:
        rows = warehouse.query_in(conn, "marts/supervision/lights_of_projects", [*codes, "P9"])
        assert len(statements) == 3 and sorted(r.project_code for r in rows) == codes
        frame = warehouse.read_frame_in(conn, "marts/supervision/lights_of_projects", codes[:3])
        assert len(statements) == 5 and sorted(frame["project_code"]) == codes[:3]
        assert warehouse.query_in(conn, "marts/supervision/lights_of_projects", []) == []
        assert len(statements) == 5
        empty = warehouse.read_frame_in(conn, "marts/supervision/lights_of_projects", [])
        assert len(statements) == 6 and empty.empty
        assert list(empty.columns) == ["period", "project_code", "light", "reasons", "escalated"]
