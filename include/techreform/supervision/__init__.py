"""Supervision (督促检查) of technical-transformation projects: lights, cases, escalation, e-mails.

Entry points wired into the monthly DAG after the load:

- :func:`supervise_period` – lights and cases of a period (one transaction, idempotent);
- :func:`notify_period` – e-mails to S1 supervisors, exactly once per (period, recipient, kind), sent
  through SMTP or written as ``.eml`` files to the outbox;
- :func:`smtp_config_from_airflow` – the SMTP server of the Airflow connection ``techreform_smtp``.

See ``docs/supervision.md``."""

from techreform.supervision.mailer import EmailDeliveryFailed, SmtpConfig, smtp_config_from_airflow
from techreform.supervision.notify import notify_period
from techreform.supervision.supervise import supervise_period

__all__ = ["supervise_period", "notify_period", "SmtpConfig", "smtp_config_from_airflow", "EmailDeliveryFailed"]
