"""The monitoring view 技改监测: pages that read the warehouse, served inside Airflow by the plugin in
``plugins/techreform_monitoring.py`` (see ``docs/monitoring.md``).

* :mod:`techreform.monitoring.data` — what each page shows, read from the warehouse with the SQL of
  ``include/sql/marts/monitoring/`` (and the marts of supervision and quality);
* :mod:`techreform.monitoring.pages` — the pages as HTML (Jinja2 templates of this package, charts from
  :mod:`techreform.charts`, the vendored stylesheet ``static/monitoring.css``: nothing from the network);
* :mod:`techreform.monitoring.access` — who is signed in (Airflow's auth manager) and whether they may
  see enterprise-level rows;
* :mod:`techreform.monitoring.app` — the FastAPI application the Airflow api-server mounts.
"""
