"""The monitoring view 技改监测 as a person sees it: a real ``airflow api-server`` with the plugin loaded,
on a warehouse the pipeline built from a small generated province; Debian's Chromium (headless, through
Playwright) opens every page, the numbers shown are checked against the warehouse (queried here,
independently of the view), no request leaves the machine, and each page is saved as a screenshot under
the test's tmp dir. Without a request's session or token the view answers 401 or the login page."""

from __future__ import annotations

import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from monitoring_fixtures import DEMO_PERIODS, build_demo_warehouse, start_api_server

pytestmark = [pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PERIOD = DEMO_PERIODS[-1]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("monitoring")
    settings_env = build_demo_warehouse(root)
    running = start_api_server(root, settings_env)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def warehouse(server):
    engine = sa.create_engine(server.settings_env["TECHREFORM_WAREHOUSE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("no browser on this machine: Debian's chromium is not installed (make system installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        yield browser
        browser.close()


class Visit:
    """A signed-in browser context that records every request it makes."""

    def __init__(self, browser, server, user: str, shots: Path) -> None:
        self.server = server
        self.shots = shots
        self.requests: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        host = urlsplit(server.url).hostname
        self.context.add_cookies([{"name": "_token", "value": server.token(user), "domain": host, "path": "/"}])
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)

    def open(self, path: str, shot: str) -> int:
        response = self.page.goto(self.server.url + path, wait_until="networkidle")
        self.page.screenshot(path=str(self.shots / f"{shot}.png"), full_page=True)
        return response.status

    def cells(self, selector: str, attributes: list[str]) -> list[dict]:
        return self.page.eval_on_selector_all(
            selector,
            "(nodes, attrs) => nodes.map(n => Object.fromEntries(attrs.map(a => [a, a === 'text' ? "
            "n.textContent.trim() : (n.closest('[' + a + ']') || n).getAttribute(a)])))",
            attributes,
        )

    def non_local(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "about:", "blob:")) and urlsplit(url).hostname not in LOCAL_HOSTS
        ]


def _status(url: str, headers: dict[str, str]) -> tuple[int, str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def test_without_a_session_the_view_answers_401_or_the_login_page(server):
    for path in ("/techreform/overview", "/techreform/quality", "/techreform/projects/x", "/techreform/"):
        assert _status(server.url + path, {})[0] == 401
        assert _status(server.url + path, {"Authorization": "Bearer not-a-token"})[0] == 401
        status, location = _status(server.url + path, {"Accept": "text/html"})
        assert status == 303 and "/auth/login" in location and "next=" in location
    expired_cookie = {"Cookie": "_token=eyJhbGciOiJIUzUxMiJ9.e30.forged"}
    assert _status(server.url + "/techreform/supervision", expired_cookie)[0] == 401
    # the vendored stylesheet is public (no data in it); the pages are not
    assert _status(server.url + "/techreform/static/monitoring.css", {})[0] == 200


def _shown_as_on_a_chart(text: str, value: float | None) -> bool:
    """The view's number rule, stated here independently of the code: grouped by commas, no decimals from
    1,000, one from 100, else two (trailing zeros dropped), ``—`` for no number."""
    if value is None:
        return text == "—"
    decimals = 0 if abs(value) >= 1000 else (1 if abs(value) >= 100 else 2)
    fraction = rf"(\.\d{{1,{decimals}}})?" if decimals else ""
    return bool(re.fullmatch(rf"-?\d{{1,3}}(,\d{{3}})*{fraction}", text)) and float(
        text.replace(",", "")
    ) == pytest.approx(value, abs=0.5 * 10**-decimals + 1e-9)


def _value(x) -> float | None:
    return None if x in (None, "") else float(x)


def test_every_page_shows_the_warehouse_numbers_offline(server, warehouse, chromium, tmp_path):
    visit = Visit(chromium, server, "admin", tmp_path)
    with warehouse.connect() as conn:
        # 总览: every headline indicator of the province, its value, targets and status as stored
        assert visit.open(f"/techreform/overview?period={PERIOD}", "overview") == 200
        stored = {
            r.indicator_code: r
            for r in conn.execute(
                sa.text(
                    "select f.indicator_code, f.value, f.target, f.target_2015, f.status from fct_indicator f "
                    "join dim_indicator d on d.code = f.indicator_code "
                    "where f.period = :p and f.level = 'province' and d.headline = 1"
                ),
                {"p": PERIOD},
            )
        }
        shown = visit.cells("#headline tbody td[data-field='value']", ["data-code", "data-value", "text"])
        assert stored and {c["data-code"] for c in shown} == set(stored)
        for cell in shown:
            value = stored[cell["data-code"]].value
            assert _value(cell["data-value"]) == pytest.approx(value) if value is not None else cell["data-value"] == ""
            assert _shown_as_on_a_chart(cell["text"], value), (cell, value)
        statuses = visit.cells("#headline [data-field='status']", ["data-code", "data-value"])
        assert {s["data-code"]: s["data-value"] for s in statuses} == {k: r.status for k, r in stored.items()}
        assert visit.page.locator("#chart-investment svg polyline").count() >= 1
        assert "5,000" in visit.page.inner_text("#chart-investment")

        # 市州: the prefecture × indicator table
        assert visit.open(f"/techreform/prefectures?period={PERIOD}", "prefectures") == 200
        rows = conn.execute(
            sa.text(
                "select area_code, indicator_code, value from fct_indicator where period = :p and level = 'prefecture'"
            ),
            {"p": PERIOD},
        ).all()
        cells = visit.cells("#prefecture-table tbody td[data-code]", ["data-prefecture", "data-code", "data-value"])
        by_key = {(c["data-prefecture"], c["data-code"]): c["data-value"] for c in cells}
        assert rows and all((r.area_code, r.indicator_code) in by_key for r in rows)
        for r in rows:
            shown_value = _value(by_key[(r.area_code, r.indicator_code)])
            assert shown_value == (pytest.approx(r.value) if r.value is not None else None)

        # a prefecture's page: its trends, this period's values
        code = rows[0].area_code
        assert visit.open(f"/techreform/prefectures/{code}?period={PERIOD}", f"prefecture_{code}") == 200
        latest = visit.cells("#prefecture-latest td[data-field='value']", ["data-code", "data-value"])
        mine = {r.indicator_code: r.value for r in rows if r.area_code == code}
        for cell in latest:
            if cell["data-code"] in mine and mine[cell["data-code"]] is not None:
                assert _value(cell["data-value"]) == pytest.approx(mine[cell["data-code"]])
        assert visit.page.locator(".charts svg").count() == len(latest)

        # 督办: lights by prefecture, the open cases, a project's history
        assert visit.open(f"/techreform/supervision?period={PERIOD}", "supervision") == 200
        lights = conn.execute(
            sa.text(
                "select prefecture_code, sum(case when light='red' then 1 else 0 end) red, "
                "sum(case when light='yellow' then 1 else 0 end) yellow, "
                "sum(case when light='green' then 1 else 0 end) green "
                "from sup_project_light where period = :p group by prefecture_code"
            ),
            {"p": PERIOD},
        ).all()
        shown_lights = {
            (c["data-prefecture"], c["data-field"]): int(c["text"])
            for c in visit.cells("#lights tbody td[data-field]", ["data-prefecture", "data-field", "text"])
        }
        assert lights
        for r in lights:
            for light in ("red", "yellow", "green"):
                assert shown_lights[(r.prefecture_code, light)] == getattr(r, light)
        open_cases = conn.execute(
            sa.text(
                "select case_id, project_code from sup_case where opened_period <= :p "
                "and (closed_period is null or closed_period > :p)"
            ),
            {"p": PERIOD},
        ).all()
        shown_cases = visit.cells("#cases tbody tr", ["data-case"])
        assert sorted(c["data-case"] for c in shown_cases) == sorted(r.case_id for r in open_cases)
        if open_cases:
            project = open_cases[0].project_code
            assert visit.open(f"/techreform/projects/{project}?period={PERIOD}", "project") == 200
            history = conn.execute(
                sa.text(
                    "select period, light from sup_project_light where project_code = :c and period <= :p order by period"
                ),
                {"c": project, "p": PERIOD},
            ).all()
            shown_history = visit.cells("#project-history tbody tr", ["data-period", "data-light"])
            assert [(h["data-period"], h["data-light"]) for h in shown_history] == [
                (h.period, h.light) for h in history
            ]

        # 数据质量: completeness, quarantine rates, the rules most broken, the Data Docs
        assert visit.open(f"/techreform/quality?period={PERIOD}", "quality") == 200
        completeness = conn.execute(
            sa.text("select prefecture_code, period, rate from dq_completeness where period <= :p"), {"p": PERIOD}
        ).all()
        shown_rates = {
            (c["data-prefecture"], c["data-period"]): _value(c["data-value"])
            for c in visit.cells("#completeness td[data-period]", ["data-prefecture", "data-period", "data-value"])
        }
        assert completeness
        for r in completeness:
            assert shown_rates[(r.prefecture_code, r.period)] == (pytest.approx(r.rate) if r.rate is not None else None)
        quarantine = conn.execute(
            sa.text(
                "select coalesce(prefecture_code, '') pc, period, count(*) n, "
                "sum(case when outcome = 'quarantined' then 1 else 0 end) q from etl_row_outcome "
                "where period <= :p group by coalesce(prefecture_code, ''), period"
            ),
            {"p": PERIOD},
        ).all()
        shown_q = {
            (c["data-prefecture"], c["data-period"]): _value(c["data-value"])
            for c in visit.cells("#quarantine td[data-period]", ["data-prefecture", "data-period", "data-value"])
        }
        for r in quarantine:
            assert shown_q[(r.pc, r.period)] == pytest.approx(r.q / r.n)
        broken = conn.execute(
            sa.text("select rule_id, failed from dq_rule_result where period = :p and failed > 0 order by failed desc"),
            {"p": PERIOD},
        ).all()
        shown_rules = visit.cells("#rules td[data-field='failed']", ["data-rule", "text"])
        assert broken and len(shown_rules) == min(15, len(broken))
        failed = {r.rule_id: r.failed for r in broken}
        assert all(int(c["text"]) == failed[c["data-rule"]] for c in shown_rules)
        assert [int(c["text"]) for c in shown_rules] == [r.failed for r in broken][: len(shown_rules)]
        docs = visit.page.locator("#documents a", has_text="数据文档")
        assert docs.count() >= 2
        receipt_links = visit.page.locator("#documents a", has_text="审核回执")
        docs.first.click()
        visit.page.wait_for_load_state("networkidle")
        visit.page.screenshot(path=str(tmp_path / "data_docs.png"), full_page=True)
        assert visit.page.locator("#verdict").count() == 1
        fields = [f["text"] for f in visit.cells("table.sample th small", ["text"])]
        assert not [f for f in fields if f.startswith("_")]  # no helper column shown
        if receipt_links.count():
            assert (
                visit.open(
                    urlsplit(visit.page.url).path.split("/data-docs/")[0] + f"/quality?period={PERIOD}", "quality_again"
                )
                == 200
            )

    # the navigation entry: the view inside the Airflow UI, signed in by the UI's session
    assert visit.open("/plugin/techreform-monitoring", "airflow_ui_entry") == 200
    frame = visit.page.frame_locator("iframe")
    frame.locator("#headline").wait_for()
    visit.page.screenshot(path=str(tmp_path / "airflow_ui_entry.png"))
    assert visit.page.get_by_text("技改监测").count() >= 1

    assert visit.non_local() == [], "requests left the machine"
    assert len(visit.requests) >= 8
    visit.context.close()
    assert {p.name for p in tmp_path.glob("*.png")} >= {
        "overview.png",
        "prefectures.png",
        "supervision.png",
        "quality.png",
    }


def test_a_viewer_sees_totals_but_no_enterprise_rows(server, chromium, tmp_path):
    visit = Visit(chromium, server, "viewer", tmp_path)
    assert visit.open(f"/techreform/supervision?period={PERIOD}", "supervision_viewer") == 200
    assert visit.page.locator("#lights tbody tr").count() >= 1
    assert visit.page.locator("#cases").count() == 0
    assert visit.page.locator("#enterprise-rows-hidden").count() == 1
    assert visit.open(f"/techreform/projects/any?period={PERIOD}", "project_viewer") == 403
    assert visit.non_local() == []
    visit.context.close()
