"""GX Data Docs of each (form, period) validation, in the store (``techreform.store``) under
``outputs/data_docs``.

Each validation keeps its GX result as JSON in the store (``data_docs/results/<YYYY-MM>/<form>.json``,
without the per-row lists). :func:`build_data_docs` then builds the site in the task's temporary folder:
a file-backed GX project there receives every period's results from the store (so the index lists them
all), under the run name ``<form>_<YYYY-MM>`` with a run time fixed to the period's first day, and renders
the pages of this period and the index; the site is then published to the store,
``outputs/data_docs/gx/`` (``index.html`` last, each file complete or absent). Re-running a period
replaces its pages instead of adding some; earlier periods' pages stay as they were published.

GX's site needs the network (Bootstrap, jQuery, font-awesome, vega from CDNs). The pages people read are
rendered from the same results by :func:`build_offline_pages` (:mod:`techreform.validation.datadocs_pages`):
self-contained, soft rules as warnings, values in their fields, rules in Chinese —
``outputs/data_docs/site/index.html`` and ``site/<YYYY-MM>/<form>.html`` in the store, served by the
monitoring view in Airflow (数据质量 page) and readable from a local store's folder as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.forms import FORMS, Form
from techreform.periods import Period
from techreform.store import (
    StorePath,
    exists,
    find_files,
    list_files,
    list_folders,
    read_bytes,
    scratch_dir,
    store_of,
    write_bytes,
    write_text,
)
from techreform.validation import suites

if TYPE_CHECKING:  # pragma: no cover
    from techreform.validation import ValidationResult

_BULKY = ("unexpected_list", "unexpected_index_list", "partial_unexpected_index_list", "unexpected_index_query")


SITE_IN_PROJECT = ("gx", "uncommitted", "data_docs", "local_site")
"""Where GX builds the site inside its (temporary) project folder."""


def data_docs_root(settings: Settings) -> StorePath:
    return store_of(settings).data_docs


def index_path(settings: Settings) -> StorePath:
    """The published GX site's index page in the store."""
    return store_of(settings).data_docs_gx_site / "index.html"


def site_dir(settings: Settings) -> StorePath:
    """The self-contained Data Docs (:func:`build_offline_pages`), what people read."""
    return store_of(settings).data_docs_site


def results_dir(settings: Settings, period: Period) -> StorePath:
    return store_of(settings).results_dir(str(Period.parse(period)))


def write_data_docs(settings: Settings, form: Form, period: Period, result: ValidationResult) -> Path | None:
    """Keep ``result.gx_result`` as JSON for the Data Docs: ``data_docs/results/<YYYY-MM>/<form>.json``.

    Cheap enough to run inside each validation (the site itself is built by :func:`build_data_docs`).
    The per-row lists of the GX result are dropped first (the failures are already extracted; the docs
    show counts and a sample of unexpected values), so this mutates ``result.gx_result``."""
    gx_result = result.gx_result
    if gx_result is None:
        return None
    for item in gx_result.results:
        for key in _BULKY:
            (item.result or {}).pop(key, None)
    path = results_dir(settings, period) / f"{form.code}.json"
    document = gx_result.to_json_dict()
    document["meta"] = {**(document.get("meta") or {}), "form": form.code, "period": str(period)}
    return write_text(path, json.dumps(document, ensure_ascii=False, default=str))


def build_data_docs(engine: Engine | None, settings: Settings, period: Period) -> StorePath:
    """Build the GX Data Docs site with the period's validation results in a temporary folder and
    publish it to the store, then the self-contained pages (:func:`build_offline_pages`); returns the
    index of the self-contained pages.

    ``engine`` is unused (the results come from the JSON kept by :func:`write_data_docs`); it is part of
    the signature so that every review step takes the same arguments."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    import techreform.validation.expectations  # noqa: F401  (renderers need the custom types)

    period = Period.parse(period)
    with scratch_dir("techreform-datadocs-") as project:
        context = gx.get_context(mode="file", project_root_dir=str(project))
        schema = ExpectationSuiteValidationResultSchema()
        for spec in (suites.suite_dict(form) for form in FORMS.values() if form.code in suites.SUITE_FILES):
            context.suites.add(
                ExpectationSuite(
                    name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta"), notes=spec.get("notes")
                )
            )
        keys: list = []
        for folder in list_folders(data_docs_root(settings) / "results"):
            try:
                folder_period = Period.parse(folder.name)
            except ValueError:
                continue
            first_day = folder_period.first_day()
            run_time = dt.datetime(first_day.year, first_day.month, 1, tzinfo=dt.UTC)
            for path in list_files(folder, "*.json"):
                form = FORMS.get(path.stem)
                if form is None:
                    continue
                spec = suites.suite_dict(form)
                document = json.loads(path.read_bytes().decode("utf-8"))
                if folder_period != period:
                    # another period's page is not rendered again: the index reads only its success and
                    # meta, so its expectations' results are not parsed and stored again every month
                    # (December's build at 100,000 enterprises a month: 5.3 -> 3.8-4.1 s of CPU; docs/performance.md)
                    document["results"] = []
                run_id = RunIdentifier(run_name=f"{form.code}_{folder_period}", run_time=run_time)
                document["meta"] = {**(document.get("meta") or {}), "run_id": run_id.to_json_dict()}
                key = ValidationResultIdentifier(
                    ExpectationSuiteIdentifier(name=spec["name"]), run_id, f"{form.name}_{folder_period}"
                )
                context.validation_results_store.set(key, schema.load(document))
                if folder_period == period:  # only this period's pages (and the index) are rendered
                    keys += [key, ExpectationSuiteIdentifier(name=spec["name"])]
        site = project.joinpath(*SITE_IN_PROJECT)
        published = store_of(settings).data_docs_gx_site
        # GX's index lists the pages present in the site folder: the pages published before stand in
        # as empty files, so that only this period's pages are rendered and the index names them all
        for relative in find_files(published):
            if relative.endswith(".html") and relative.startswith(("validations/", "expectations/")):
                placeholder = site.joinpath(*relative.split("/"))
                placeholder.parent.mkdir(parents=True, exist_ok=True)
                placeholder.touch()
        context.build_data_docs(resource_identifiers=keys or None)
        publish_site(site, published)
    return build_offline_pages(settings, period)


def publish_site(site: Path, target: StorePath) -> StorePath:
    """Copy the built site ``site`` to ``target`` in the store: every page rendered (non-empty) complete or
    absent, the static assets only when missing, ``index.html`` last; returns the published index."""
    index = site / "index.html"
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p != index and p.stat().st_size):
        relative = path.relative_to(site).as_posix()
        destination = target.joinpath(*relative.split("/"))
        if relative.startswith("static/") and exists(destination):
            continue
        write_bytes(destination, path.read_bytes())
    return write_bytes(target / "index.html", index.read_bytes())


def build_offline_pages(settings: Settings, period: Period) -> StorePath:
    """Render the period's self-contained Data Docs pages (``site/<YYYY-MM>/<form>.html``) from the kept
    results and rewrite the site's index over every period kept; returns the index."""
    from techreform.validation.datadocs_pages import index_page, validation_page, verdict_of

    period = Period.parse(period)
    site = site_dir(settings)
    for path in list_files(results_dir(settings, period), "*.json"):
        document = json.loads(read_bytes(path).decode("utf-8"))
        write_text(site / str(period) / f"{path.stem}.html", validation_page(document))
    entries = []
    for folder in list_folders(data_docs_root(settings) / "results"):
        pages = {p.name for p in list_files(site / folder.name, "*.html")}
        for path in list_files(folder, "*.json"):
            if f"{path.stem}.html" in pages:
                verdict = verdict_of(json.loads(read_bytes(path).decode("utf-8")))
                entries.append((folder.name, path.stem, verdict, f"{folder.name}/{path.stem}.html"))
    return write_text(site / "index.html", index_page(entries))


def period_pages(settings: Settings, period: Period) -> list[tuple[str, str]]:
    """The period's Data Docs pages as ``(label, path relative to the site)``, the index last."""
    period = Period.parse(period)
    site = site_dir(settings)
    out = [
        (f"{FORMS[p.stem].title_zh}（{p.stem}）", f"{period}/{p.name}")
        for p in list_files(site / str(period), "*.html")
        if p.stem in FORMS
    ]
    if exists(site / "index.html"):
        out.append(("全部报告期", "index.html"))
    return out


def site_file(settings: Settings, relative: str) -> StorePath | None:
    """The file ``relative`` of the self-contained site, or ``None`` if it is not one (no path outside)."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    path = site_dir(settings).joinpath(*parts)
    return path if exists(path) else None
