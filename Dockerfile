# The image a province deploys: Airflow 3.3 with the techreform package and its pinned dependencies.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN mkdir -p /opt/techreform && chown airflow: /opt/techreform
USER airflow
WORKDIR /opt/techreform

COPY --chown=airflow: pyproject.toml constraints-3.11.txt ./
COPY --chown=airflow: include ./include
COPY --chown=airflow: expectations ./expectations
# a wheel install: SQL, GX suites and code lists travel inside the package (no source tree needed);
# the deploy extra (Celery provider, asyncpg for the PostgreSQL metadata), s3fs for the object store
RUN pip install --no-cache-dir -c constraints-3.11.txt ".[deploy,s3]"

COPY --chown=airflow: dags /opt/airflow/dags
COPY --chown=airflow: plugins /opt/airflow/plugins
