"""Alerts: always logged; posted to a Slack webhook and e-mailed when configured.

Real local servers capture what is sent (an HTTP server for the webhook, a minimal SMTP
server for the e-mail), so the tests see the bytes a real receiver would.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from cxw.config import Settings
from cxw.quality.alerts import alert


@pytest.fixture
def webhook():
    """A local Slack-like webhook that records each POSTed JSON body."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "json": json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/services/T0/B0/x", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_server():
    """Just enough SMTP to accept one message and keep its DATA."""
    messages: list[str] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 localhost ESMTP test\r\n")
            while line := self.rfile.readline():
                verb = line.decode().strip().upper()
                if verb.startswith(("EHLO", "HELO")):
                    self.wfile.write(b"250 localhost\r\n")
                elif verb == "DATA":
                    self.wfile.write(b"354 go ahead\r\n")
                    data = []
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data.append(chunk.decode())
                    messages.append("".join(data))
                    self.wfile.write(b"250 queued\r\n")
                elif verb == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", messages
    server.shutdown()
    server.server_close()


def test_alert_is_logged_and_posted_to_the_webhook(webhook, caplog):
    url, received = webhook
    settings = Settings(alert_slack_webhook=url)
    with caplog.at_level(logging.ERROR, logger="cxw.alerts"):
        alert(settings, "raw gate failed for crm", "raw_crm.contacts expect_x(email) — 3 rows")
    assert [r.getMessage() for r in caplog.records] == [
        "raw gate failed for crm: raw_crm.contacts expect_x(email) — 3 rows"
    ]
    assert received == [
        {
            "path": "/services/T0/B0/x",
            "json": {
                "text": "*raw gate failed for crm*\nraw_crm.contacts expect_x(email) — 3 rows"
            },
        }
    ]


def test_alert_is_emailed_when_an_address_is_set(smtp_server, monkeypatch):
    address, messages = smtp_server
    monkeypatch.setenv("CXW_SMTP_HOST", address)
    alert(Settings(alert_email="data-team@example.com"), "build b1 rejected", "BI keeps b0")
    assert len(messages) == 1
    assert "Subject: [cx-warehouse] build b1 rejected" in messages[0]
    assert "To: data-team@example.com" in messages[0]
    assert "BI keeps b0" in messages[0]


def test_an_unreachable_webhook_never_hides_the_alert(caplog):
    settings = Settings(alert_slack_webhook="http://127.0.0.1:9/unreachable")
    with caplog.at_level(logging.WARNING, logger="cxw.alerts"):
        alert(settings, "mart gate failed", "details")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "mart gate failed: details"
    assert messages[1].startswith("could not post the alert to Slack")
