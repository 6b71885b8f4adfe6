"""The monitoring view's application (techreform.monitoring) on both engines, without a browser: the
numbers of each page are the warehouse's, indicators are read generically, enterprise-level rows only
for viewers who may see them, no session → 401; the access rules through Airflow's simple auth manager."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from techreform.config import Settings
from techreform.indicators.catalogue import load_catalogue, write_catalogue
from techreform.monitoring.access import Viewer, viewer_of
from techreform.monitoring.app import NotSignedIn, create_app
from techreform.options import MonitoringOptions
from techreform.reference import load_reference_tables
from techreform.warehouse import create_schema, dispose_engines, engine_for, insert_rows

PERIOD = "2013-06"


def indicator(code, level, area, area_name, period, value, target, status, **more):
    return {
        "period": period,
        "indicator_code": code,
        "level": level,
        "area_code": area,
        "area_name": area_name,
        "value": value,
        "target": target,
        "target_2015": more.get("target_2015"),
        "status": status,
        "growth": more.get("growth"),
        "value_rule": "sum",
    }


def light(code, prefecture, name, light_, escalated=0, period=PERIOD, lag=None):
    return {
        "period": period,
        "project_code": code,
        "project_name": f"项目{code[-3:]}",
        "uscc": "91620100MA000000X1",
        "enterprise_name": f"企业{code[-3:]}",
        "region_code": prefecture[:4] + "02",
        "county_name": "某县",
        "prefecture_code": prefecture,
        "prefecture_name": name,
        "key_project": 0,
        "annual_plan_investment": 1200.0,
        "ytd_investment": 100.0,
        "lag_pp": lag,
        "light": light_,
        "reasons": "SCHEDULE_RED" if light_ == "red" else "",
        "detail": "",
        "escalated": escalated,
        "source": "accepted",
    }


@pytest.fixture
def warehouse(settings: Settings):
    engine = engine_for(settings.warehouse_url)
    create_schema(engine)
    catalogue = load_catalogue()
    with engine.begin() as conn:
        load_reference_tables(conn)
        write_catalogue(conn, catalogue)
        # an indicator the catalogue gains later appears without a change to the view
        row = dict(conn.exec_driver_sql("select * from dim_indicator where code = 'VA_RATE'").mappings().one())
        insert_rows(
            conn, "dim_indicator", [{**row, "code": "NEW_LATER", "name_zh": "后来增加的指标", "sort_order": 999}]
        )
        insert_rows(
            conn,
            "fct_indicator",
            [
                indicator(
                    "TR_INV_CUM",
                    "province",
                    "620000",
                    "甘肃省",
                    "2013-05",
                    2400.5,
                    2416.6667,
                    "lagging",
                    target_2015=5000.0,
                ),
                indicator(
                    "TR_INV_CUM",
                    "province",
                    "620000",
                    "甘肃省",
                    PERIOD,
                    2611.4164,
                    2500.0,
                    "on_track",
                    target_2015=5000.0,
                ),
                indicator(
                    "TR_INV_GROWTH", "province", "620000", "甘肃省", PERIOD, 31.25, 30.0, "met", target_2015=30.0
                ),
                indicator("NEW_LATER", "province", "620000", "甘肃省", PERIOD, 7.5, None, "no_target"),
                indicator("VA_RATE", "prefecture", "620100", "兰州市", PERIOD, 27.96, 28.5, "lagging"),
                indicator("NEW_LATER", "prefecture", "620200", "嘉峪关市", PERIOD, 3.25, None, "no_target"),
            ],
        )
        insert_rows(
            conn,
            "sup_project_light",
            [
                light("2012-620102-32-03-000001", "620100", "兰州市", "red", escalated=1, lag=35.0),
                light("2012-620102-32-03-000001", "620100", "兰州市", "red", period="2013-05", lag=32.0),
                light("2012-620102-32-03-000002", "620100", "兰州市", "green", lag=-4.0),
                light("2012-620202-32-03-000003", "620200", "嘉峪关市", "yellow", lag=12.0),
            ],
        )
        insert_rows(
            conn, "sup_run", [{"period": PERIOD, "projects": 3, "green": 1, "yellow": 1, "red": 1, "escalated": 1}]
        )
        insert_rows(
            conn,
            "sup_case",
            [
                {
                    "case_id": "2012-620102-32-03-000001/2013-05",
                    "project_code": "2012-620102-32-03-000001",
                    "opened_period": "2013-05",
                    "last_flagged_period": PERIOD,
                    "closed_period": None,
                    "closed_reason": None,
                    "status": "open",
                    "periods": 2,
                    "worst_light": "red",
                    "escalated": 1,
                    "escalated_period": PERIOD,
                },
                {
                    "case_id": "2012-620202-32-03-000003/2013-06",
                    "project_code": "2012-620202-32-03-000003",
                    "opened_period": PERIOD,
                    "last_flagged_period": PERIOD,
                    "closed_period": None,
                    "closed_reason": None,
                    "status": "open",
                    "periods": 1,
                    "worst_light": "yellow",
                    "escalated": 0,
                    "escalated_period": None,
                },
            ],
        )
        insert_rows(
            conn,
            "sup_case_period",
            [
                {
                    "case_id": "2012-620102-32-03-000001/2013-05",
                    "period": "2013-05",
                    "project_code": "2012-620102-32-03-000001",
                    "light": "red",
                    "reasons": "SCHEDULE_RED",
                    "escalated": 0,
                    "months_open": 1,
                },
                {
                    "case_id": "2012-620102-32-03-000001/2013-05",
                    "period": PERIOD,
                    "project_code": "2012-620102-32-03-000001",
                    "light": "red",
                    "reasons": "SCHEDULE_RED",
                    "escalated": 1,
                    "months_open": 2,
                },
                {
                    "case_id": "2012-620202-32-03-000003/2013-06",
                    "period": PERIOD,
                    "project_code": "2012-620202-32-03-000003",
                    "light": "yellow",
                    "reasons": "SCHEDULE_YELLOW",
                    "escalated": 0,
                    "months_open": 1,
                },
            ],
        )
        insert_rows(
            conn,
            "dq_completeness",
            [
                {
                    "period": PERIOD,
                    "prefecture_code": "620100",
                    "prefecture_name": "兰州市",
                    "expected": 40,
                    "received": 37,
                    "missing": 3,
                    "rate": 0.925,
                },
                {
                    "period": PERIOD,
                    "prefecture_code": "620000",
                    "prefecture_name": "甘肃省",
                    "expected": 40,
                    "received": 37,
                    "missing": 3,
                    "rate": 0.925,
                },
            ],
        )
        insert_rows(
            conn,
            "dq_form_completeness",
            [
                {
                    "form": "Q1",
                    "period": PERIOD,
                    "prefecture_code": "620100",
                    "prefecture_name": "兰州市",
                    "expected": 8,
                    "received": 6,
                    "missing": 2,
                    "rate": 0.75,
                },
                {
                    "form": "Q1",
                    "period": "2013-05",
                    "prefecture_code": "620100",
                    "prefecture_name": "兰州市",
                    "expected": 8,
                    "received": 1,
                    "missing": 7,
                    "rate": 0.125,
                },
                {
                    "form": "Q1",
                    "period": PERIOD,
                    "prefecture_code": "620000",
                    "prefecture_name": "甘肃省",
                    "expected": 8,
                    "received": 6,
                    "missing": 2,
                    "rate": 0.75,
                },
            ],
        )
        insert_rows(
            conn,
            "dq_rule_result",
            [
                {"form": "E1", "period": PERIOD, "rule_id": "E1-S09", "severity": "soft", "evaluated": 40, "failed": 4},
                {"form": "E1", "period": PERIOD, "rule_id": "E1-H04", "severity": "hard", "evaluated": 40, "failed": 1},
            ],
        )
    yield engine
    dispose_engines()


def client(settings: Settings, viewer: Viewer | None) -> TestClient:
    async def authenticate(request, _settings):
        if viewer is None:
            raise NotSignedIn("Not authenticated")
        return viewer

    return TestClient(create_app(lambda: settings, authenticate), root_path="/techreform")


ADMIN = Viewer("admin", "admin", may_view=True, may_see_enterprises=True)
READER = Viewer("reader", "viewer", may_view=True, may_see_enterprises=False)


def cell(html: str, row_attr: str, field: str) -> re.Match:
    row = re.search(rf"<tr {row_attr}>(.*?)</tr>", html, re.S)
    assert row, row_attr
    found = re.search(rf'data-field="{field}" data-value="([^"]*)">([^<]*)<', row.group(1))
    assert found, (row_attr, field)
    return found


def test_overview_shows_the_warehouse_values_and_new_indicators(settings, warehouse):
    page = client(settings, ADMIN).get("/overview").text  # the latest period by default
    value = cell(page, 'data-code="TR_INV_CUM"', "value")
    assert float(value.group(1)) == 2611.4164 and value.group(2) == "2,611"
    assert cell(page, 'data-code="TR_INV_CUM"', "target_2015").group(2) == "5,000"
    assert 'data-field="status" data-value="on_track">达到序时目标' in page
    assert "后来增加的指标" in page and float(cell(page, 'data-code="NEW_LATER"', "value").group(1)) == 7.5
    assert page.count("<svg") == 2 and "5,000亿元" in page and "31.2" in page  # trajectory and growth charts
    earlier = client(settings, ADMIN).get("/overview?period=2013-05").text
    assert float(cell(earlier, 'data-code="TR_INV_CUM"', "value").group(1)) == 2400.5
    assert client(settings, ADMIN).get("/overview?period=13-5").status_code == 400


def test_prefecture_table_and_page(settings, warehouse):
    page = client(settings, ADMIN).get(f"/prefectures?period={PERIOD}").text
    assert re.search(r'<td class="num cell-lagging" data-code="VA_RATE" data-value="27.96"', page)
    assert re.search(r'data-code="NEW_LATER" data-value="3.25"', page)
    assert page.count('<tr data-prefecture="') == 14  # every prefecture in force, with or without values
    one = client(settings, ADMIN).get(f"/prefectures/620100?period={PERIOD}")
    assert one.status_code == 200 and "兰州市" in one.text and 'data-value="27.96"' in one.text
    assert client(settings, ADMIN).get(f"/prefectures/999999?period={PERIOD}").status_code == 404


def test_supervision_enterprise_rows_only_for_roles_that_may_see_them(settings, warehouse):
    page = client(settings, ADMIN).get(f"/supervision?period={PERIOD}").text
    lanzhou = re.search(r'<tr data-prefecture="620100">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'data-field="(\w+)">(\d+)<', lanzhou) == [
        ("red", "1"),
        ("yellow", "0"),
        ("green", "1"),
        ("open", "1"),
        ("escalated", "1"),
    ]
    cases = re.findall(r'<tr data-case="([^"]+)" data-escalated="(\d)">', page)
    assert cases == [("2012-620102-32-03-000001/2013-05", "1"), ("2012-620202-32-03-000003/2013-06", "0")]
    assert "企业001" in page and "序时进度严重滞后" in page
    history = client(settings, ADMIN).get(f"/projects/2012-620102-32-03-000001?period={PERIOD}").text
    assert re.findall(r'<tr data-period="([^"]+)" data-light="(\w+)">', history) == [
        ("2013-05", "red"),
        (PERIOD, "red"),
    ]

    hidden = client(settings, READER).get(f"/supervision?period={PERIOD}").text
    assert 'id="enterprise-rows-hidden"' in hidden and "企业001" not in hidden and "data-case=" not in hidden
    assert re.search(r'<tr data-prefecture="620100">', hidden)  # totals by prefecture stay
    assert client(settings, READER).get(f"/projects/2012-620102-32-03-000001?period={PERIOD}").status_code == 403
    # receipts and Data Docs pages name enterprises and show values as received: the same rule
    for path in (f"/receipts/{PERIOD}/receipt_{PERIOD}_620100.html", "/data-docs/index.html"):
        assert client(settings, READER).get(path).status_code == 403
        assert client(settings, ADMIN).get(path).status_code in (200, 404)  # allowed; 404 where not written
    listed = client(settings, READER).get(f"/quality?period={PERIOD}").text.split('id="documents"')[-1]
    assert "/receipts/" not in listed and "/data-docs/" not in listed and "仅对有权限的角色显示" in listed


def test_quality_page(settings, warehouse):
    page = client(settings, ADMIN).get(f"/quality?period={PERIOD}").text
    assert re.search(r'data-period="2013-06" data-value="0.925"[^>]*>92.5%<', page)
    rules = re.findall(r'<tr data-rule="([^"]+)">.*?data-field="failed">(\d+)<', page)
    assert rules == [("E1-S09", "4"), ("E1-H04", "1")]
    assert "核实性审核" in page and "与企业名录中的" in page  # the rule in Chinese, from the suite
    # Q1 (expected from its previous reporters): the period's own rows, the province last
    q1 = page.split('data-form="Q1"')[1].split("</table>")[0]
    assert "Q1 " in page.split('data-form="Q1"')[0].rsplit("<h2>", 1)[-1]
    assert re.findall(
        r'<tr data-prefecture="(\d+)"><th>[^<]+</th><td class="num">(\d+)</td><td class="num">(\d+)</td>'
        r'<td class="num">(\d+)</td>',
        q1,
    ) == [("620100", "8", "6", "2"), ("620000", "8", "6", "2")]
    assert 'data-value="0.75">75.0%<' in q1 and "12.5%" not in page


def test_no_session_gets_401_and_no_page(settings, warehouse, monkeypatch):
    import techreform.monitoring.app as monitoring_app

    # without an Airflow auth manager there is no login page to offer: 401 (an earlier test of the same
    # process may have left Airflow's auth manager initialised, so both cases are set here explicitly)
    monkeypatch.setattr(monitoring_app, "_login_url", lambda request: None)
    anonymous = client(settings, None)
    paths = ("/", "/overview", "/supervision", "/projects/x", "/receipts/2013-06/a.html", "/data-docs/index.html")
    for path in paths:
        response = anonymous.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 401 and "2,611" not in response.text
    # with one, a browser is sent to Airflow's login page and any other client still gets 401
    monkeypatch.setattr(monitoring_app, "_login_url", lambda request: "/auth/login?next=x")
    for path in paths:
        browser = anonymous.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert browser.status_code == 303 and browser.headers["location"] == "/auth/login?next=x"
        assert "2,611" not in browser.text
        assert anonymous.get(path, headers={"Accept": "application/json"}).status_code == 401
    assert anonymous.get("/techreform/static/monitoring.css").status_code == 200  # the full path, as served
    forbidden = client(settings, Viewer("x", None, may_view=False, may_see_enterprises=False))
    assert forbidden.get("/overview").status_code == 403


def test_an_empty_warehouse_says_so(settings):
    page = client(settings, ADMIN).get("/overview")
    assert page.status_code == 200 and "数据仓库尚未建立" in page.text


def test_simple_auth_manager_roles_decide_enterprise_rows():
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    manager = SimpleAuthManager()
    options = MonitoringOptions()
    admin = viewer_of(manager, SimpleAuthManagerUser(username="a", role="admin"), options)
    op = viewer_of(manager, SimpleAuthManagerUser(username="o", role="op"), options)
    reader = viewer_of(manager, SimpleAuthManagerUser(username="v", role="viewer"), options)
    nobody = viewer_of(manager, SimpleAuthManagerUser(username="n", role=None), options)
    assert (admin.may_view, admin.may_see_enterprises) == (True, True)
    assert (op.may_view, op.may_see_enterprises) == (True, True)
    assert (reader.may_view, reader.may_see_enterprises) == (True, False)
    assert (nobody.may_view, nobody.may_see_enterprises) == (False, False)
    widened = viewer_of(
        manager, SimpleAuthManagerUser(username="v", role="viewer"), MonitoringOptions(enterprise_roles=("viewer",))
    )
    assert widened.may_see_enterprises
