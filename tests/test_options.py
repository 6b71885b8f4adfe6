"""One typed options object per configuration section (techreform.options): unknown sections and keys
and wrong types are refused with one line naming them, the defaults are what the code used before, and
docs/configuration.md is the table generated from the dataclasses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from techreform.config import Settings
from techreform.forms import FORMS
from techreform.limits import IngestLimits
from techreform.options import (
    SECTIONS,
    AlertsOptions,
    EmailOptions,
    IndicatorsOptions,
    IngestOptions,
    SupervisionOptions,
    TargetOverride,
    ValidationOptions,
    attribute_docs,
    main,
    markdown,
    read_config,
    read_options,
)

ROOT = Path(__file__).resolve().parents[1]

# What the code used before the options were typed (limits.py, validation/__init__.py, hb.py, gate.py,
# airflow_support.py, supervision/options.py, alerts.py, indicators/catalogue.py): behaviour is unchanged.
PREVIOUS_DEFAULTS = {
    "receipts": {
        "resubmit_days": 5,
        "contact_role": "统计联络员",
        "contact_name": "省工信委技术改造统计监测办公室",
        "contact_phone": "",
        "contact_email": "",
        "email": True,
        "subject_prefix": "【审核回执】",
    },
    "ingest": {
        "max_file_bytes": 50_000_000,
        "max_cells": 500_000,
        "extra_columns": 20,
        "max_cell_chars": 10_000,
        "max_xlsx_uncompressed_bytes": 100_000_000,
        "max_xlsx_compression_ratio": 100,
        "max_xlsx_shared_strings_bytes": 20_000_000,
    },
    "validation": {
        "hard_fail_threshold": 0.20,
        "completeness_floor": 0.80,
        "required_monthly_forms": ("E1", "P1"),
        "required_snapshot_forms": ("R1", "S1"),
        "delivery_deadline_days": 10,
        "data_docs": True,
        "hb_u": 0.5,
        "hb_a": 0.05,
        "hb_c": 20.0,
        "hb_min_group": 10,
    },
    "supervision": {
        "schedule_yellow_pp": 10.0,
        "schedule_red_pp": 30.0,
        "start_yellow_months": 1,
        "start_red_months": 3,
        "stalled_reports": 3,
        "escalate_consecutive_red": 2,
        "escalate_key_projects": True,
        "all_clear_notes": False,
        "lag_decimals": 6,
    },
    "email": {
        "sender": "techreform@localhost.localdomain",
        "sender_name": "甘肃省企业技术改造统计监测",
        "subject_prefix": "【技改督办】",
        "province_code": "620000",
        "province_name": "甘肃省",
        "send_attempts": 3,
        "retry_delay_seconds": 2.0,
        "claim_minutes": 30.0,
    },
    "alerts": {"recipients": (), "subject_prefix": "【技改告警】"},
    "indicators": {
        "targets": {},
        "energy_intensity_target": None,
        "about_tolerance": 0.1,
        "revenue_threshold_yi": 1000.0,
        "headline": None,
    },
    "extracts": {
        "url": None,
        "storage_options": {},
        "min_enterprises": 3,
        "dominance_top": 2,
        "dominance_share": 0.85,
        "protection_ratio": 0.10,
        "bureau_email": (),
        "bureau_role": "统计局",
        "sender": None,
    },
    "monitoring": {"enterprise_roles": ("admin", "op"), "months_shown": 24},
    "storage": {"url": None, "storage_options": {}, "conn_id": "techreform_store"},
    "delivery": {
        "poll_seconds": 30.0,
        "recent_periods": 3,
        "settle_seconds": 10.0,
        "refire_polls": 10,
        "email": True,
    },  # new section
}

# One valid, non-default value per key (to build a typo of every key and check every type is read).
SAMPLE_VALUES = {
    "delivery": {"poll_seconds": 5.0, "recent_periods": 2, "settle_seconds": 0.0, "refire_polls": 4, "email": False},
    "receipts": {
        "resubmit_days": 7,
        "contact_role": "统计员",
        "contact_name": "技改办",
        "contact_phone": "0931-1234567",
        "contact_email": "jigai@example.gov.cn",
        "email": False,
        "subject_prefix": "【回执】",
    },
    "ingest": {
        "max_file_bytes": 1000,
        "max_cells": 10,
        "extra_columns": 2,
        "max_cell_chars": 5,
        "max_xlsx_uncompressed_bytes": 2000,
        "max_xlsx_compression_ratio": 7,
        "max_xlsx_shared_strings_bytes": 300,
    },
    "validation": {
        "hard_fail_threshold": 0.5,
        "completeness_floor": 0.0,
        "required_monthly_forms": ["E1"],
        "required_snapshot_forms": [],
        "delivery_deadline_days": 3,
        "data_docs": False,
        "hb_u": 0.3,
        "hb_a": 0.1,
        "hb_c": {"revenue": 7},
        "hb_min_group": 4,
    },
    "supervision": {
        "schedule_yellow_pp": 5,
        "schedule_red_pp": 25.5,
        "start_yellow_months": 2,
        "start_red_months": 4,
        "stalled_reports": 2,
        "escalate_consecutive_red": 3,
        "escalate_key_projects": False,
        "all_clear_notes": True,
        "lag_decimals": 3,
    },
    "email": {
        "sender": "jigai@example.gov.cn",
        "sender_name": "技改办",
        "subject_prefix": "[x]",
        "province_code": "620000",
        "province_name": "甘肃",
        "send_attempts": 1,
        "retry_delay_seconds": 0,
        "claim_minutes": 5,
    },
    "alerts": {"recipients": ["etl@example.gov.cn"], "subject_prefix": "[alert]"},
    "indicators": {
        "targets": {"RD_INTENSITY": 1.5, "VA_RATE": {"kind": "change_pp_vs_2010_at_least", "value": 3}},
        "energy_intensity_target": -16,
        "about_tolerance": 0.2,
        "revenue_threshold_yi": 500,
        "headline": ["TR_INV_CUM"],
    },
    "extracts": {
        "url": "s3://tongjiju/techreform",
        "storage_options": {"anon": False},
        "min_enterprises": 5,
        "dominance_top": 3,
        "dominance_share": 0.9,
        "protection_ratio": 0.2,
        "bureau_email": ["tongji@example.gov.cn"],
        "bureau_role": "统计处",
        "sender": "jigai@example.gov.cn",
    },
    "monitoring": {"enterprise_roles": ["admin"], "months_shown": 12},
    "storage": {
        "url": "s3://techreform/prod",
        "storage_options": {"client_kwargs": {"endpoint_url": "http://minio:9000"}},
        "conn_id": "techreform_minio",
    },
}

EVERY_KEY = [(section, key) for section, cls in SECTIONS.items() for key in (f.name for f in dataclasses.fields(cls))]


@pytest.fixture
def base() -> Settings:
    return Settings.from_env({"TECHREFORM_DATA_DIR": "/tmp/techreform-options-test"})


def _write(tmp_path: Path, config: object) -> dict[str, str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return {"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_CONFIG_FILE": str(path)}


def test_every_section_has_an_options_class_the_settings_give_typed():
    assert list(SECTIONS) == [
        "ingest",
        "validation",
        "receipts",
        "delivery",
        "supervision",
        "email",
        "alerts",
        "indicators",
        "extracts",
        "monitoring",
        "storage",
    ]
    assert SECTIONS["validation"] is ValidationOptions and SECTIONS["supervision"] is SupervisionOptions
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": "/tmp/x"})
    for name, cls in SECTIONS.items():
        assert settings.options_for(cls) == cls() == settings.section_options(name)
    with pytest.raises(KeyError, match="reports"):
        settings.section_options("reports")
    with pytest.raises(KeyError, match="TargetOverride"):
        settings.options_for(TargetOverride)


@pytest.mark.parametrize("section", list(SECTIONS))
def test_the_defaults_are_what_the_code_used_before(section):
    options = SECTIONS[section]()
    assert {f.name: getattr(options, f.name) for f in dataclasses.fields(options)} == PREVIOUS_DEFAULTS[section]
    assert IngestLimits.from_settings(None) == IngestLimits.from_settings(
        Settings.from_env({"TECHREFORM_DATA_DIR": "/tmp/x"})
    )


def test_every_key_is_read_from_the_file_with_its_type(tmp_path):
    settings = Settings.from_env(_write(tmp_path, SAMPLE_VALUES))
    validation = settings.options_for(ValidationOptions)
    assert validation.required_monthly_forms == ("E1",) and validation.required_snapshot_forms == ()
    assert validation.delivery_deadline_days == 3.0 and isinstance(validation.delivery_deadline_days, float)
    assert validation.hb_c == {"revenue": 7.0} and validation.data_docs is False
    assert settings.options_for(AlertsOptions).recipients == ("etl@example.gov.cn",)
    assert settings.options_for(EmailOptions).retry_delay_seconds == 0.0
    assert settings.options_for(SupervisionOptions).schedule_yellow_pp == 5.0
    indicators = settings.options_for(IndicatorsOptions)
    assert indicators.targets == {"RD_INTENSITY": 1.5, "VA_RATE": TargetOverride("change_pp_vs_2010_at_least", 3.0)}
    assert indicators.energy_intensity_target == -16.0 and indicators.headline == ("TR_INV_CUM",)
    assert IngestLimits.from_settings(settings).for_columns(10) == IngestLimits(
        **SAMPLE_VALUES["ingest"], max_columns=12
    )
    for name, cls in SECTIONS.items():
        options = settings.options_for(cls)
        assert all(
            getattr(options, key) != getattr(cls(), key) for key in SAMPLE_VALUES[name] if key != "province_code"
        )


@pytest.mark.parametrize("section, key", EVERY_KEY)
def test_a_typo_in_any_key_is_refused_at_load_naming_section_key_and_the_known_keys(tmp_path, section, key):
    typo = key[:-1] if len(key) > 3 else key + "s"
    env = _write(tmp_path, {section: {typo: SAMPLE_VALUES[section][key]}})
    with pytest.raises(ValueError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert "\n" not in message and env["TECHREFORM_CONFIG_FILE"] in message
    assert f"section {section}" in message and typo in message and "known: " in message and key in message


def test_the_gate_threshold_typo_of_the_issue_no_longer_passes_silently(base):
    with pytest.raises(
        ValueError, match="validation: unknown option.s. hard_fail_treshold; known: hard_fail_threshold"
    ):
        base.with_options(validation={"hard_fail_treshold": 0.1})


def test_an_unknown_section_is_refused(tmp_path, base):
    with pytest.raises(ValueError, match=r"config\.json: unknown configuration section.s. valdation; known: ingest, "):
        Settings.from_env(_write(tmp_path, {"valdation": {}}))
    with pytest.raises(ValueError, match="unknown configuration section.s. extract;"):
        base.with_options(extract={})
    with pytest.raises(ValueError, match="must be a JSON object"):
        Settings.from_env(_write(tmp_path, ["validation"]))
    with pytest.raises(ValueError, match="section email must be an object"):
        Settings.from_env(_write(tmp_path, {"email": "jigai@example.gov.cn"}))


@pytest.mark.parametrize(
    "section, values, message",
    [
        (
            "validation",
            {"hard_fail_threshold": "0.2"},
            "validation.hard_fail_threshold must be a number from 0 to 1, not '0.2'",
        ),
        (
            "validation",
            {"hard_fail_threshold": 20},
            "validation.hard_fail_threshold must be a number from 0 to 1, not 20",
        ),
        ("validation", {"data_docs": "false"}, "validation.data_docs must be true or false, not 'false'"),
        ("validation", {"data_docs": 0}, "validation.data_docs must be true or false, not 0"),
        (
            "validation",
            {"required_monthly_forms": "E1"},
            "validation.required_monthly_forms must be a list of form codes",
        ),
        (
            "validation",
            {"required_snapshot_forms": ["R1", "X9"]},
            rf"validation.required_snapshot_forms\[1\] must be a form code \({', '.join(FORMS)}\), not 'X9'",
        ),
        ("validation", {"hb_c": {"revnue": 7}}, "validation.hb_c key must be an E1 field name, not 'revnue'"),
        ("validation", {"hb_c": -1}, "validation.hb_c must be a positive number, not -1"),
        ("validation", {"hb_min_group": 2.5}, "validation.hb_min_group must be a positive integer, not 2.5"),
        ("validation", {"hb_u": float("nan")}, "validation.hb_u must be a finite number"),
        ("ingest", {"max_cells": -1}, "ingest.max_cells must be a positive integer, not -1"),
        ("ingest", {"max_cells": True}, "ingest.max_cells must be a positive integer, not True"),
        ("supervision", {"schedule_red_pp": "30"}, "supervision.schedule_red_pp must be a number, not '30'"),
        ("supervision", {"all_clear_notes": "yes"}, "supervision.all_clear_notes must be true or false, not 'yes'"),
        ("email", {"send_attempts": 0}, "email.send_attempts must be a positive integer, not 0"),
        ("email", {"sender": ["a@b.cn"]}, r"email.sender must be a string, not \['a@b.cn'\]"),
        (
            "alerts",
            {"recipients": "etl@example.gov.cn"},
            "alerts.recipients must be a list of strings, not 'etl@example.gov.cn'",
        ),
        ("alerts", {"recipients": ["etl@example.gov.cn", 7]}, r"alerts.recipients\[1\] must be a string, not 7"),
        (
            "indicators",
            {"targets": {"RD_INTENSITY": "1.5"}},
            "indicators.targets.RD_INTENSITY must be a number or object {kind, value}, not '1.5'",
        ),
        (
            "indicators",
            {"targets": {"VA_RATE": {"kind": "at_least", "valeu": 3}}},
            "section indicators.targets.VA_RATE: unknown option.s. valeu; known: kind, value",
        ),
        (
            "indicators",
            {"energy_intensity_target": [-16]},
            "indicators.energy_intensity_target must be a number or object {kind, value} or null",
        ),
        ("indicators", {"headline": "TR_INV_CUM"}, "indicators.headline must be a list of strings or null"),
    ],
)
def test_a_wrong_type_is_refused_with_one_line_naming_section_and_key(tmp_path, base, section, values, message):
    with pytest.raises(ValueError, match=message) as caught:
        base.with_options(**{section: values})
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match=message):
        Settings.from_env(_write(tmp_path, {section: values}))


def test_readers_get_the_typed_options(base):
    """Every former ``.get()`` reader now reads the typed object: a spot check per section."""
    from techreform.airflow_support import delivery_deadline
    from techreform.alerts import alert_recipients
    from techreform.indicators.catalogue import load_catalogue, revenue_threshold_yi
    from techreform.validation.hb import HBParameters

    settings = base.with_options(
        validation={"delivery_deadline_days": 0, "hb_c": {"revenue": 7}, "hb_u": 0.3},
        alerts={"recipients": ["etl@example.gov.cn", "not an address"]},
        indicators={"revenue_threshold_yi": 500, "energy_intensity_target": -16},
    )
    assert delivery_deadline(settings, "2026-12").isoformat() == "2027-01-01T00:00:00+08:00"
    assert alert_recipients(settings, env={}) == ["etl@example.gov.cn"]
    assert alert_recipients(settings, env={"TECHREFORM_ALERT_RECIPIENTS": "a@b.cn"}) == ["a@b.cn"]
    assert revenue_threshold_yi(settings) == 500.0 and revenue_threshold_yi(None) == 1000.0
    energy = next(i for i in load_catalogue(settings) if i.code == "ENERGY_INTENSITY")
    assert (energy.target_kind, energy.target_value, energy.target_source) == (
        "change_pct_vs_2010_at_most",
        -16.0,
        "configuration",
    )
    validation = settings.options_for(ValidationOptions)
    assert HBParameters.from_options(validation, "revenue") == HBParameters(0.3, 0.05, 7.0, 10)
    assert HBParameters.from_options(validation, "gross_output") == HBParameters(0.3, 0.05, 20.0, 10)
    with pytest.raises(ValueError, match="validation: unknown option.s. hb_k"):
        HBParameters.from_options({"hb_k": 3}, "revenue")


def test_read_config_gives_every_section_and_read_options_reads_one():
    config = read_config({"alerts": {"subject_prefix": "[x]"}})
    assert list(config) == list(SECTIONS) and config["alerts"] == AlertsOptions(subject_prefix="[x]")
    assert config["validation"] == ValidationOptions()
    assert read_options(IngestOptions, "ingest", None) == IngestOptions()


def test_every_option_has_a_default_and_a_docstring():
    for cls in [*SECTIONS.values(), TargetOverride]:
        assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "(")
        docs = attribute_docs(cls)
        for f in dataclasses.fields(cls):
            assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING, f.name
            assert docs.get(f.name), f"{cls.__name__}.{f.name} has no docstring"


def test_the_committed_configuration_table_is_generated_from_the_dataclasses():
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == markdown(), "docs/configuration.md is stale: run `make docs` and commit it"
    for section, key in EVERY_KEY:
        assert f"| `{section}.{key}` |" in committed


def test_the_readme_links_the_table_instead_of_repeating_the_keys():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/configuration.md" in readme
    rows = "\n".join(line for line in readme.splitlines() if line.startswith("|"))
    assert not [key for section, key in EVERY_KEY if f"`{section}.{key}`" in rows or f"| `{key}` |" in rows]


def test_the_command_prints_the_table_and_checks_a_file(tmp_path, capsys):
    assert main(["--markdown"]) == 0 and capsys.readouterr().out == markdown()
    good = _write(tmp_path, SAMPLE_VALUES)["TECHREFORM_CONFIG_FILE"]
    assert main(["--check", good]) == 0
    (tmp_path / "bad.json").write_text('{"email": {"claim_minute": 5}}', encoding="utf-8")
    assert main(["--check", str(tmp_path / "bad.json")]) == 1
    assert "email: unknown option(s) claim_minute; known: " in capsys.readouterr().err


def test_the_cli_and_the_failure_alert_stop_on_a_typo_with_one_line(tmp_path, monkeypatch, capsys):
    from techreform.airflow_support import alert_on_failure
    from techreform.cli import main as cli

    env = _write(tmp_path, {"validation": {"hard_fail_treshold": 0.1}})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TECHREFORM_WAREHOUSE_URL", raising=False)
    assert cli(["run", "--from", "2013-06", "--to", "2013-06", "--no-notify"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        f"settings: {env['TECHREFORM_CONFIG_FILE']}: configuration section validation: "
        "unknown option(s) hard_fail_treshold; known: hard_fail_threshold"
    )
    outcome = alert_on_failure({"params": {"period": "2013-06"}, "exception": ValueError("bad configuration")})
    assert outcome.startswith("not sent: the settings cannot be loaded:") and "hard_fail_treshold" in outcome


def test_the_settings_and_the_store_never_show_a_secret_when_printed(tmp_path):
    from techreform.store import store_of

    settings = dataclasses.replace(
        Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path)}),
        warehouse_url="postgresql+psycopg://etl:pg-pass-1@db.example:5432/techreform",
        storage_url="s3://AKIAKEY:s3-secret-2@techreform-bucket/gansu",
        storage_options={"key": "AKIAKEY", "secret": "s3-secret-2", "client_kwargs": {"endpoint_url": "http://x"}},
    )
    shown = repr(settings)
    assert "pg-pass-1" not in shown and "s3-secret-2" not in shown and "AKIAKEY" not in shown
    assert "etl:***@db.example:5432/techreform" in shown and "s3://techreform-bucket/gansu" in shown
    store = store_of(dataclasses.replace(settings, storage_url="s3://techreform-bucket/gansu"))
    assert store.storage_options["secret"] == "s3-secret-2"  # held, for the file system …
    assert "s3-secret-2" not in repr(store) and "techreform-bucket/gansu/landing" in repr(store)  # … not shown
