"""The forms of the contract are declared once (``techreform.forms``); the warehouse's staging and target
tables follow that declaration column for column and type for type, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from techreform.forms import FORMS
from techreform.warehouse import create_schema, engine_for

STAGING_LINEAGE = ["delivery_period", "file_sha256", "source_row", "delivery_seq", "raw_json"]
TARGET_EXTRAS = {"snapshot_period", "prefecture_code", "review_status", "soft_rule_ids", "file_sha256", "source_row"}


def _kind(column_type: sa.types.TypeEngine) -> str:
    if isinstance(column_type, sa.Float | sa.Numeric) and not isinstance(column_type, sa.Integer):
        return "number"
    if isinstance(column_type, sa.Integer):
        return "whole"
    if isinstance(column_type, sa.String | sa.Text):
        return "text"
    return type(column_type).__name__


STAGED_KIND = {
    "text": "text",
    "enum": "text",
    "period": "text",
    "decimal": "number",
    "integer": "number",
    "boolean": "whole",
}
TARGET_KIND = {**STAGED_KIND, "integer": "whole"}


@pytest.fixture
def inspector(warehouse_url):
    engine = engine_for(warehouse_url)
    create_schema(engine)
    with engine.connect() as conn:
        yield sa.inspect(conn)


@pytest.mark.parametrize("code", sorted(FORMS))
def test_each_staging_table_is_the_lineage_then_the_forms_fields_in_order(inspector, code):
    form = FORMS[code]
    columns = inspector.get_columns(form.staging_table)
    assert [c["name"] for c in columns] == [*STAGING_LINEAGE, *form.field_names]
    kinds = {c["name"]: _kind(c["type"]) for c in columns}
    assert {f.name: kinds[f.name] for f in form.fields} == {f.name: STAGED_KIND[f.type] for f in form.fields}


@pytest.mark.parametrize("code", sorted(FORMS))
def test_each_target_table_holds_every_field_of_its_form_and_only_known_extras(inspector, code):
    form = FORMS[code]
    columns = inspector.get_columns(form.target_table)
    names = [c["name"] for c in columns]
    assert set(form.field_names) <= set(names)
    # a form without a period field (A1: its year) keeps its delivery folder's period in the facts
    assert set(names) - set(form.field_names) <= TARGET_EXTRAS | {form.target_period_column}
    assert form.target_period_column in names
    kinds = {c["name"]: _kind(c["type"]) for c in columns}
    assert {f.name: kinds[f.name] for f in form.fields} == {f.name: TARGET_KIND[f.type] for f in form.fields}
    key = inspector.get_pk_constraint(form.target_table)["constrained_columns"]
    assert set(key) == {form.target_period_column, *(k for k in form.key if k != "period")}
