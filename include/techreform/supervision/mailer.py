"""Getting a message out: through an SMTP server (``SmtpConfig``, e.g. from the Airflow connection
``techreform_smtp``) or, with no server configured, as an ``.eml`` file in the outbox folder.

A message counts as sent only when the server accepted it: :func:`send_smtp` returns only then and
raises otherwise (refused recipients, a 5xx after DATA, a connection error)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from techreform.files import write_bytes

DEFAULT_CONN_ID = "techreform_smtp"
_TRUE = {"1", "true", "yes", "y", "on"}


class EmailDeliveryFailed(RuntimeError):
    """Some messages of a period are not delivered: not accepted by the SMTP server (they stay ``unsent``
    in ``sup_email_log`` and go out on the next run) or still being sent by another run (not confirmed);
    the Airflow task fails so that it retries."""

    def __init__(self, period: str, failures: list[tuple[str, str]]):
        self.period = period
        self.failures = failures
        detail = "; ".join(f"{recipient}: {error}" for recipient, error in failures[:10])
        super().__init__(
            f"{len(failures)} e-mail(s) of {period} not delivered (not accepted by the SMTP server "
            f"or still in flight): {detail} — 邮件未全部送达"
        )


@dataclass(frozen=True)
class SmtpConfig:
    """An SMTP server to send through."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_starttls: bool = False
    use_ssl: bool = False
    sender: str | None = None
    timeout: float = 30.0
    retry_limit: int | None = None
    """Retries of a message the server did not accept (the connection's ``retry_limit``); ``None``:
    ``email.send_attempts`` attempts."""

    def __repr__(self) -> str:  # never show the password in logs
        return (
            f"SmtpConfig(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"use_starttls={self.use_starttls}, use_ssl={self.use_ssl}, sender={self.sender!r})"
        )


def _flag(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


PROVIDER_FORM_KEYS = ("disable_tls", "disable_ssl")
"""Extras that Airflow's SMTP provider form always fills: their presence means the provider's meaning."""


def smtp_config_from_connection(conn: Any) -> SmtpConfig:
    """An :class:`SmtpConfig` from an Airflow connection: ``host``, ``port``, ``login``, ``password`` and
    the extras as Airflow's SMTP provider form fills them — ``from_email`` (sender), ``disable_ssl``
    (default false: implicit TLS, port 465), ``disable_tls`` (default false: STARTTLS), ``timeout``
    (seconds, 30), ``retry_limit`` (retries of a message) — read with the provider's meaning whenever
    ``disable_ssl`` or ``disable_tls`` is given. A connection without them (a URI written by hand) keeps
    this project's short forms: ``ssl``, ``starttls`` (default: on port 587 only), ``from``::

        AIRFLOW_CONN_TECHREFORM_SMTP='smtp://user:pass@mail.example.org:587?starttls=true&from=jigai%40example.org'
        AIRFLOW_CONN_TECHREFORM_SMTP='{"conn_type": "smtp", "host": "mail.example.org", "port": 465,
            "extra": {"from_email": "jigai@example.org", "disable_tls": false, "disable_ssl": false,
                      "timeout": 30, "retry_limit": 5}}'
    """
    extra = dict(getattr(conn, "extra_dejson", None) or {})
    if any(key in extra for key in PROVIDER_FORM_KEYS):  # the provider's form: SSL and STARTTLS unless disabled
        use_ssl = not _flag(extra.get("disable_ssl"))
        port = int(conn.port) if getattr(conn, "port", None) else (465 if use_ssl else 25)
        use_starttls = not use_ssl and not _flag(extra.get("disable_tls"))
    else:
        use_ssl = _flag(extra.get("ssl", extra.get("use_ssl")))
        port = int(conn.port) if getattr(conn, "port", None) else (465 if use_ssl else 25)
        use_starttls = _flag(extra.get("starttls", extra.get("use_starttls")), port == 587 and not use_ssl)
    retry_limit = extra.get("retry_limit")
    return SmtpConfig(
        host=conn.host or "localhost",
        port=port,
        username=conn.login or None,
        password=conn.password or None,
        use_starttls=use_starttls,
        use_ssl=use_ssl,
        sender=extra.get("from_email")
        or extra.get("from")
        or extra.get("sender")
        or (conn.login if conn.login and "@" in conn.login else None),
        timeout=float(extra.get("timeout") or 30),
        retry_limit=None if retry_limit in (None, "") else max(int(retry_limit), 0),
    )


def smtp_config_from_airflow(conn_id: str = DEFAULT_CONN_ID) -> SmtpConfig | None:
    """The SMTP server of the Airflow connection ``conn_id``, or ``None`` when it is not defined (then
    the e-mails are written to the outbox)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        from airflow.sdk import Connection

        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    if conn is None:
        return None
    return smtp_config_from_connection(conn)


def send_smtp(config: SmtpConfig, message: EmailMessage, sender: str, recipients: list[str]) -> None:
    """Send ``message`` to ``recipients``; returns only when the server accepted it for every one."""
    context = ssl.create_default_context()
    if config.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        client.ehlo()
        if config.use_starttls and not config.use_ssl:
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
        refused = client.send_message(message, from_addr=sender, to_addrs=recipients)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


def write_eml(folder: Any, name: str, message: EmailMessage) -> Any:
    """Write ``message`` as ``folder/name`` (a folder of the store, :mod:`techreform.store`) complete or
    absent (written aside then moved into place; on an object store one PUT)."""
    return write_bytes(folder / name, message.as_bytes())
