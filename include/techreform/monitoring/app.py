"""The FastAPI application of the monitoring view 技改监测, mounted by the Airflow api-server (the
plugin ``plugins/techreform_monitoring.py`` wires it; see ``docs/monitoring.md``).

Every page needs a signed-in Airflow user (:mod:`techreform.monitoring.access`): a browser without a
session is sent to Airflow's login page, any other client gets 401."""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.errors import one_line
from techreform.monitoring import data, pages
from techreform.monitoring.access import Viewer, viewer_of
from techreform.options import MonitoringOptions
from techreform.periods import Period
from techreform.store import StorePath, exists, is_local, list_files, read_bytes, store_of

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
URL_PREFIX = "/techreform"
"""Where the api-server mounts the view (the plugin's ``url_prefix``)."""

Authenticate = Callable[[Request, Settings], Awaitable[Viewer]]
"""Who is asking: a :class:`Viewer`, or :class:`NotSignedIn`."""

_FILE_NAME = re.compile(r"^[^/\\]+$")


class NotSignedIn(Exception):
    """The request carries no valid Airflow session or token."""


async def airflow_viewer(request: Request, settings: Settings) -> Viewer:
    """The viewer of a request in the Airflow api-server: Airflow's own ``get_user`` (Bearer token or the
    UI's session cookie) and the auth manager's decisions (:func:`techreform.monitoring.access.viewer_of`)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPBearer

    credentials = await HTTPBearer(auto_error=False)(request)
    try:
        user = await get_user(request, None, credentials)
    except HTTPException as exc:  # 401 no or expired token, 403 a token that is not Airflow's
        raise NotSignedIn(str(exc.detail)) from None
    return viewer_of(get_auth_manager(), user, settings.options_for(MonitoringOptions))


def _login_url(request: Request) -> str | None:
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager().get_url_login(next_url=str(request.url))
    except Exception:  # no Airflow auth manager (a bare app in tests): no login page to offer
        return None


def create_app(
    settings_provider: Callable[[], Settings] | None = None, authenticate: Authenticate = airflow_viewer
) -> FastAPI:
    """The monitoring application. ``settings_provider`` gives the deployment's settings (default: the
    environment and the Airflow connection ``techreform_warehouse``), read once at the first request."""

    @cache
    def settings() -> Settings:
        if settings_provider is not None:
            return settings_provider()
        from techreform.airflow_support import settings_for_server

        return settings_for_server()

    def engine() -> Engine:
        from techreform.warehouse import engine_for

        return engine_for(settings().warehouse_url)

    app = FastAPI(title="技改监测", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        login = _login_url(request)
        if login and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(login, status_code=303)
        return PlainTextResponse("401 未登录：请先登录 Airflow（Not authenticated）", status_code=401)

    async def page_context(request: Request) -> tuple[Viewer, str]:
        viewer = await authenticate(request, settings())
        if not viewer.may_view:
            raise HTTPException(status_code=403, detail="无权查看技改监测")
        return viewer, request.scope.get("root_path", "").rstrip("/")

    async def enterprise_context(request: Request) -> tuple[Viewer, str]:
        """:func:`page_context` for what shows enterprise-level rows (receipts, Data Docs pages): 403 for a
        viewer whose role may not see them."""
        viewer, base = await page_context(request)
        if not viewer.may_see_enterprises:
            raise HTTPException(status_code=403, detail="企业明细仅对有权限的角色显示")
        return viewer, base

    def window_of(period: str | None, periods: list[str]) -> data.Window | None:
        months = settings().options_for(MonitoringOptions).months_shown
        if period:
            try:
                return data.Window(Period.parse(period), months)
            except ValueError:
                raise HTTPException(status_code=400, detail=f"报告期 {period!r} 应为 YYYY-MM") from None
        return data.Window(Period.parse(periods[0]), months) if periods else None

    async def show(request: Request, current: str, period: str | None, build: Callable[..., str | None]) -> Response:
        viewer, base = await page_context(request)
        eng = engine()
        title = dict(pages.TABS).get(current, current)
        try:
            if not data.warehouse_ready(eng):
                return HTMLResponse(
                    pages.empty_page(base, current, viewer, title, "数据仓库尚未建立：流水线还没有运行过。")
                )
            periods = data.available_periods(eng)
            window = window_of(period, periods)
            if window is None:
                return HTMLResponse(pages.empty_page(base, current, viewer, title, "数据仓库中还没有任何报告期。"))
            html = build(eng, base, viewer, periods, window)
        except HTTPException:
            raise
        except Exception as exc:  # the warehouse unreachable or broken: one line, not a stack trace
            log.exception("monitoring page %s failed", current)
            return HTMLResponse(
                pages.empty_page(base, current, viewer, title, f"读取数据仓库失败：{one_line(exc)}"), status_code=503
            )
        if html is None:
            raise HTTPException(status_code=404, detail="没有这一页")
        return HTMLResponse(html)

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        await page_context(request)
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(request.scope.get("root_path", "").rstrip("/") + "/overview" + query, status_code=303)

    @app.get("/overview", response_class=HTMLResponse)
    async def overview(request: Request, period: str | None = None) -> Response:
        return await show(request, "overview", period, pages.overview)

    @app.get("/prefectures", response_class=HTMLResponse)
    async def prefectures(request: Request, period: str | None = None) -> Response:
        return await show(request, "prefectures", period, pages.prefecture_table)

    @app.get("/prefectures/{code}", response_class=HTMLResponse)
    async def prefecture(request: Request, code: str, period: str | None = None) -> Response:
        return await show(request, "prefectures", period, lambda *a: pages.prefecture_page(*a, code))

    @app.get("/supervision", response_class=HTMLResponse)
    async def supervision(request: Request, period: str | None = None) -> Response:
        return await show(request, "supervision", period, pages.supervision)

    @app.get("/projects/{project_code}", response_class=HTMLResponse)
    async def project(request: Request, project_code: str, period: str | None = None) -> Response:
        viewer, _ = await page_context(request)
        if not viewer.may_see_enterprises:
            raise HTTPException(status_code=403, detail="项目明细仅对有权限的角色显示")
        return await show(request, "supervision", period, lambda *a: pages.project_page(*a, project_code))

    @app.get("/quality", response_class=HTMLResponse)
    async def quality(request: Request, period: str | None = None) -> Response:
        def build(eng: Engine, base: str, viewer: Viewer, periods: list[str], window: data.Window) -> str:
            return pages.quality(eng, base, viewer, periods, window, documents(base, window.period, viewer))

        return await show(request, "quality", period, build)

    def receipts_dir(period: Period) -> StorePath:
        return store_of(settings()).receipts_dir(str(period))

    def documents(base: str, period: Period, viewer: Viewer) -> list[tuple[str, str]]:
        """Links to the period's receipts (审核回执) and its Data Docs pages; none for a viewer who may not
        see enterprise-level rows (both name enterprises and show their values as received)."""
        from techreform.validation.datadocs import period_pages

        out: list[tuple[str, str]] = []
        if not viewer.may_see_enterprises:
            return out
        for path in list_files(receipts_dir(period)):
            if path.suffix in (".html", ".xlsx"):
                kind = "网页" if path.suffix == ".html" else "表格"
                out.append((f"审核回执（{kind}）：{path.name}", f"{base}/receipts/{period}/{path.name}"))
        for label, relative in period_pages(settings(), period):
            out.append((f"数据文档：{label}", f"{base}/data-docs/{relative}"))
        return out

    @app.get("/receipts/{period}/{name}")
    async def receipt(request: Request, period: str, name: str) -> Response:
        await enterprise_context(request)
        try:
            folder = receipts_dir(Period.parse(period))
        except ValueError:
            raise HTTPException(status_code=404) from None
        path = folder / name
        if not _FILE_NAME.match(name) or name.startswith(".") or not exists(path):
            raise HTTPException(status_code=404, detail="没有这个回执")
        return stored_file(path)

    @app.get("/data-docs/{relative:path}")
    async def data_docs(request: Request, relative: str) -> Response:
        await enterprise_context(request)
        from techreform.validation.datadocs import site_file

        path = site_file(settings(), relative)
        if path is None:
            raise HTTPException(status_code=404, detail="没有这个数据文档")
        return stored_file(path)

    return app


def stored_file(path: StorePath) -> Response:
    """A file of the store as the response: sent from disk on a local store, read from the object store
    otherwise (receipts and Data Docs pages are small)."""
    if is_local(path):
        return FileResponse(path)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(read_bytes(path), media_type=media_type)


def airflow_plugin_apps() -> list[dict[str, Any]]:
    """The ``fastapi_apps`` entry of the Airflow plugin."""
    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "技改监测"}]


def airflow_nav_views() -> list[dict[str, Any]]:
    """The ``external_views`` entry of the Airflow plugin: 技改监测 in the UI's navigation, the view shown
    inside the Airflow UI (same origin, so the UI's session signs the pages in)."""
    return [
        {
            "name": "技改监测",
            "href": f"{URL_PREFIX}/overview",
            "icon": f"{URL_PREFIX}/static/icon.svg",
            "url_route": "techreform-monitoring",
            "destination": "nav",
            "nav_top_level": True,
        }
    ]
