"""GX Data Docs of each (form, period) validation, under ``settings.output_dir / "data_docs"``.

Each validation keeps its GX result as JSON (``data_docs/results/<YYYY-MM>/<form>.json``, without the
per-row lists). :func:`build_data_docs` then puts the period's results into a file-backed GX project in
the outputs folder (never in the repository), ``<output_dir>/data_docs/gx/``, under the run name
``<form>_<YYYY-MM>`` with a run time fixed to the period's first day, so re-running a period replaces
its page instead of adding one, and rebuilds the static site:
``<output_dir>/data_docs/gx/uncommitted/data_docs/local_site/index.html``.

GX's site needs the network (Bootstrap, jQuery, font-awesome, vega from CDNs). The pages people read are
rendered next to it by :func:`build_offline_pages` (:mod:`techreform.validation.datadocs_pages`):
self-contained, soft rules as warnings, values in their fields, rules in Chinese —
``<output_dir>/data_docs/site/index.html`` and ``site/<YYYY-MM>/<form>.html``, served by the monitoring
view in Airflow (数据质量 page) and readable from the folder as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from techreform.config import Settings
from techreform.files import write_text
from techreform.forms import FORMS, Form
from techreform.periods import Period
from techreform.validation import suites

if TYPE_CHECKING:  # pragma: no cover
    from techreform.validation import ValidationResult

_BULKY = ("unexpected_list", "unexpected_index_list", "partial_unexpected_index_list", "unexpected_index_query")


def data_docs_root(settings: Settings) -> Path:
    return Path(settings.output_dir) / "data_docs"


def index_path(settings: Settings) -> Path:
    return data_docs_root(settings) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def site_dir(settings: Settings) -> Path:
    """The self-contained Data Docs (:func:`build_offline_pages`)."""
    return data_docs_root(settings) / "site"


def results_dir(settings: Settings, period: Period) -> Path:
    return data_docs_root(settings) / "results" / str(Period.parse(period))


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
    folder = results_dir(settings, period)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{form.code}.json"
    document = gx_result.to_json_dict()
    document["meta"] = {**(document.get("meta") or {}), "form": form.code, "period": str(period)}
    return write_text(path, json.dumps(document, ensure_ascii=False, default=str))


def build_data_docs(engine: Engine | None, settings: Settings, period: Period) -> Path:
    """Build the GX Data Docs site with the period's validation results; returns the site's index.

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
    root = data_docs_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    first_day = period.first_day()
    run_time = dt.datetime(first_day.year, first_day.month, 1, tzinfo=dt.UTC)
    schema = ExpectationSuiteValidationResultSchema()
    keys: list = []
    for path in sorted(results_dir(settings, period).glob("*.json")):
        form = FORMS[path.stem]
        spec = suites.suite_dict(form)
        suite = ExpectationSuite(
            name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta"), notes=spec.get("notes")
        )
        if context.suites.all() and any(s.name == spec["name"] for s in context.suites.all()):
            context.suites.delete(spec["name"])
        context.suites.add(suite)
        document = json.loads(path.read_text(encoding="utf-8"))
        run_id = RunIdentifier(run_name=f"{form.code}_{period}", run_time=run_time)
        document["meta"] = {**(document.get("meta") or {}), "run_id": run_id.to_json_dict()}
        gx_result = schema.load(document)
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=spec["name"]), run_id, f"{form.name}_{period}")
        context.validation_results_store.set(key, gx_result)
        keys += [key, ExpectationSuiteIdentifier(name=spec["name"])]
    # only this period's pages (and the index): a backfill does not rebuild every earlier period
    context.build_data_docs(resource_identifiers=keys or None)
    return build_offline_pages(settings, period)


def build_offline_pages(settings: Settings, period: Period) -> Path:
    """Render the period's self-contained Data Docs pages (``site/<YYYY-MM>/<form>.html``) from the kept
    results and rewrite the site's index over every period kept; returns the index."""
    from techreform.validation.datadocs_pages import index_page, validation_page, verdict_of

    period = Period.parse(period)
    site = site_dir(settings)
    for path in sorted(results_dir(settings, period).glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        write_text(site / str(period) / f"{path.stem}.html", validation_page(document))
    entries = []
    for path in sorted((data_docs_root(settings) / "results").glob("*/*.json")):
        page = site / path.parent.name / f"{path.stem}.html"
        if page.exists():
            verdict = verdict_of(json.loads(path.read_text(encoding="utf-8")))
            entries.append((path.parent.name, path.stem, verdict, f"{path.parent.name}/{path.stem}.html"))
    return write_text(site / "index.html", index_page(entries))


def period_pages(settings: Settings, period: Period) -> list[tuple[str, str]]:
    """The period's Data Docs pages as ``(label, path relative to the site)``, the index last."""
    period = Period.parse(period)
    site = site_dir(settings)
    out = [
        (f"{FORMS[p.stem].title_zh}（{p.stem}）", f"{period}/{p.name}")
        for p in sorted((site / str(period)).glob("*.html"))
        if p.stem in FORMS
    ]
    if (site / "index.html").exists():
        out.append(("全部报告期", "index.html"))
    return out


def site_file(settings: Settings, relative: str) -> Path | None:
    """The file ``relative`` of the self-contained site, or ``None`` if it is not one (no path outside)."""
    site = site_dir(settings).resolve()
    path = (site / relative).resolve()
    if not path.is_relative_to(site) or not path.is_file():
        return None
    return path
