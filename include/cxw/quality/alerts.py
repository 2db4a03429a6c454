"""Alerts for failed gates and rejected builds: always logged, plus Slack and e-mail if set up.

Delivery problems are logged, never raised: an unreachable webhook must not hide the failure
that caused the alert (the caller raises that).
"""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage

from cxw.config import Settings

log = logging.getLogger("cxw.alerts")

SMTP_DEFAULT = "localhost:25"


def smtp_address(settings: Settings) -> tuple[str, int]:
    """`host:port` from `CXW_SMTP_HOST` (default localhost:25).

    Read here because Settings has no SMTP field yet; move it into cxw.config when it does.
    """
    value = getattr(settings, "smtp_host", None) or os.environ.get("CXW_SMTP_HOST") or SMTP_DEFAULT
    host, _, port = str(value).partition(":")
    return host or "localhost", int(port or 25)


def alert(settings: Settings, title: str, text: str) -> None:
    """Log the alert; post it to the Slack webhook and e-mail it when those are configured."""
    log.error("%s: %s", title, text)
    if settings.alert_slack_webhook is not None:
        _slack(settings.alert_slack_webhook.get_secret_value(), title, text)
    if settings.alert_email:
        _email(settings, title, text)


def _slack(url: str, title: str, text: str) -> None:
    import httpx

    try:
        resp = httpx.post(url, json={"text": f"*{title}*\n{text}"}, timeout=10.0)
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("could not post the alert to Slack: %s", exc)


def _email(settings: Settings, title: str, text: str) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"[cx-warehouse] {title}"
    msg["From"] = "cx-warehouse@localhost"
    msg["To"] = settings.alert_email
    msg.set_content(text)
    host, port = smtp_address(settings)
    try:
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("could not e-mail the alert to %s: %s", settings.alert_email, exc)
