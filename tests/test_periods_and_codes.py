"""Periods and USCC check characters (GB 32100-2015)."""

import datetime as dt

import pytest

from techreform.airflow_support import period_of_run, sqlalchemy_url_from_airflow_uri
from techreform.codes import is_valid_uscc, make_uscc, uscc_check_character, uscc_problem
from techreform.periods import Period, date_zh, period_range

PUBLISHED_USCCS = ["91350100M000100Y43", "911100001000054748", "91110108551385082Q", "91440300708461136T"]


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_published_credit_codes_are_valid(code):
    assert is_valid_uscc(code)
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_every_single_character_change_of_a_valid_code_is_caught(code):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for position in range(18):
        for replacement in alphabet:
            if replacement != code[position]:
                mutated = code[:position] + replacement + code[position + 1 :]
                assert not is_valid_uscc(mutated), mutated


def test_codes_with_letters_outside_the_alphabet_or_the_wrong_length_are_refused_in_chinese():
    assert "非法字符" in uscc_problem("91350100M000100I43")
    assert "18位" in uscc_problem("91350100M000100Y4")
    assert "为空" in uscc_problem(None)


def test_make_uscc_completes_seventeen_characters():
    assert make_uscc("91350100M000100Y4") == "91350100M000100Y43"


def test_period_arithmetic_crosses_years():
    assert str(Period(2013, 1).previous) == "2012-12"
    assert str(Period(2013, 12).next) == "2014-01"
    assert Period(2013, 6).same_period_last_year == Period(2012, 6)
    assert [str(p) for p in period_range("2012-11", "2013-02")] == ["2012-11", "2012-12", "2013-01", "2013-02"]
    assert Period(2013, 6).label_zh == "2013年6月"


def test_a_day_is_written_as_people_read_it_without_leading_zeros():
    assert date_zh(dt.date(2013, 8, 5)) == "2013年8月5日"
    assert date_zh(dt.date(2013, 12, 31)) == "2013年12月31日"


def test_the_report_month_is_taken_in_shanghai_time_not_utc():
    start = dt.datetime(2013, 5, 31, 16, 0, tzinfo=dt.UTC)  # 2013-06-01 00:00 in Shanghai
    assert Period.of_datetime(start) == Period(2013, 6)
    assert period_of_run({}, start) == Period(2013, 6)
    assert period_of_run({"period": "2012-02"}, start) == Period(2012, 2)


def test_a_run_with_neither_interval_nor_period_says_what_is_missing():
    with pytest.raises(ValueError, match="period"):
        period_of_run({}, None)


def test_airflow_postgres_uris_get_the_psycopg_driver():
    assert sqlalchemy_url_from_airflow_uri("postgres://u:p@h:5432/wh") == "postgresql+psycopg://u:p@h:5432/wh"
    assert sqlalchemy_url_from_airflow_uri("sqlite:////tmp/x.sqlite") == "sqlite:////tmp/x.sqlite"
