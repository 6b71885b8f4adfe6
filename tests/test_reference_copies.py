"""The package ships copies of the contract's code lists and indicator catalogue (a deployment must not
depend on ../shared). They must not drift from the contract."""

from pathlib import Path

import pytest

from techreform.config import REFERENCE_DIR
from techreform.reference import counties, divisions, industry_divisions, prefectures

SHARED = Path(__file__).resolve().parents[2] / "shared"
COPIES = {
    "gansu_divisions.csv": "reference/gansu_divisions.csv",
    "industry_divisions_gbt4754_2011.csv": "reference/industry_divisions_gbt4754_2011.csv",
    "indicators.csv": "spec/indicators.csv",
}


@pytest.mark.parametrize(("copy", "original"), COPIES.items())
def test_shipped_reference_files_equal_the_contract(copy, original):
    source = SHARED / original
    if not source.exists():
        pytest.skip(f"{source} is not beside this checkout")
    assert (REFERENCE_DIR / copy).read_bytes() == source.read_bytes()


def test_the_code_lists_hold_gansu_as_the_contract_describes_it():
    assert len(prefectures()) == 14
    assert prefectures()["620100"] == "兰州市"
    assert len(divisions()) == 1 + 14 + len(counties())
    assert counties()["620171"].valid_in("2012-08") and not counties()["620171"].valid_in("2012-07")
    assert not counties()["620824"].valid_in("2018-06") and counties()["620881"].valid_in("2018-06")
    assert {d["section"] for d in industry_divisions().values()} == {"B", "C", "D"}
