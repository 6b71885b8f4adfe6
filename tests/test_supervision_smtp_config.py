"""The SMTP server comes from the Airflow connection ``techreform_smtp``; without one, e-mails go to the
outbox."""

from __future__ import annotations

from airflow.sdk import Connection

from techreform.supervision import SmtpConfig, smtp_config_from_airflow
from techreform.supervision.mailer import smtp_config_from_connection

URI = "smtp://jigai%40example.org:s3cret-pass@mail.example.org:587?starttls=true&from=jigai%40example.org&timeout=20"


def test_a_connection_uri_gives_host_port_login_starttls_and_sender():
    config = smtp_config_from_connection(Connection.from_uri(URI, conn_id="techreform_smtp"))
    assert config == SmtpConfig(
        host="mail.example.org",
        port=587,
        username="jigai@example.org",
        password="s3cret-pass",
        use_starttls=True,
        use_ssl=False,
        sender="jigai@example.org",
        timeout=20.0,
    )
    assert "s3cret" not in repr(config)


def test_implicit_tls_defaults_to_port_465_and_plain_smtp_to_25():
    ssl = smtp_config_from_connection(Connection.from_uri("smtp://mail.example.org?ssl=true", conn_id="x"))
    assert (ssl.port, ssl.use_ssl, ssl.use_starttls) == (465, True, False)
    plain = smtp_config_from_connection(Connection.from_uri("smtp://relay.local", conn_id="x"))
    assert (plain.port, plain.use_ssl, plain.use_starttls, plain.username, plain.sender) == (
        25,
        False,
        False,
        None,
        None,
    )


def test_the_airflow_connection_is_read_from_the_environment_and_absent_means_none(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TECHREFORM_SMTP", URI)
    config = smtp_config_from_airflow()
    assert (config.host, config.port, config.use_starttls) == ("mail.example.org", 587, True)
    assert smtp_config_from_airflow("techreform_smtp_not_defined") is None
