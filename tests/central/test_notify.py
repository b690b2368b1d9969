"""The notification outbox drained through real gateways: files, HTTP SMS, SMTP e-mail."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from central.cli import app as hub_cli
from central.db import NotificationOutbox
from central.db.enums import NotificationChannel, NotificationStatus
from central.notify.dispatch import MAX_ATTEMPTS, backoff, dispatch
from central.notify.gateways import FolderGateway, HttpSmsGateway, SmtpEmailGateway
from central.services.context import Hub
from central.settings import HubSettings
from domain.clock import FixedClock
from domain.ids import uuid7

NOW = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)
EMAIL_BODY = "Subject: Vaš termin za vakcinaciju\n\nPoštovana Ljubice,\n\nimate termin."


@pytest.fixture
def hub(migrated_url: str) -> Iterator[Hub]:
    opened = Hub.open(HubSettings(database_url=migrated_url), clock=FixedClock(NOW))
    yield opened
    opened.close()


def _queue(hub: Hub, channel: NotificationChannel, recipient: str, body: str) -> Any:
    row_id = uuid7()
    with hub.sessions() as session, session.begin():
        session.add(
            NotificationOutbox(
                id=row_id,
                channel=channel.value,
                recipient=recipient,
                body=body,
                citizen_id=None,
                status=NotificationStatus.PENDING.value,
                attempts=0,
                next_attempt_at=None,
                sent_at=None,
                last_error=None,
                updated_at=NOW,
                created_at=NOW,
                created_by="scheduler:test",
            )
        )
    return row_id


def _row(hub: Hub, row_id: Any) -> NotificationOutbox:
    with hub.read_sessions() as session:
        row = session.get(NotificationOutbox, row_id)
        assert row is not None
        return row


class _SmsProvider(BaseHTTPRequestHandler):
    """An SMS provider on loopback: 400 for numbers it refuses, 503 once when told."""

    received: ClassVar[list[dict[str, Any]]] = []
    fail_once: ClassVar[set[str]] = set()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body["authorization"] = self.headers.get("Authorization")
        status = 200
        if body["to"].startswith("+000"):
            status = 400
        elif body["to"] in self.fail_once:
            self.fail_once.discard(body["to"])
            status = 503
        else:
            self.received.append(body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sms_url() -> Iterator[str]:
    _SmsProvider.received.clear()
    _SmsProvider.fail_once.clear()
    server = HTTPServer(("127.0.0.1", 0), _SmsProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/send"
    server.shutdown()
    server.server_close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Enough SMTP to accept mail: EHLO, MAIL, RCPT (550 for 'refused@'), DATA, QUIT."""

    mails: ClassVar[list[bytes]] = []

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 test SMTP")
        while line := self.rfile.readline():
            verb = line.strip().split(b" ")[0].upper().split(b":")[0]
            if verb in (b"EHLO", b"HELO"):
                self._say("250 test")
            elif verb == b"RCPT" and b"refused@" in line:
                self._say("550 no such user")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self._say("250 OK")
            elif verb == b"DATA":
                self._say("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                self.mails.append(data)
                self._say("250 queued")
            elif verb == b"QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not here")


@pytest.fixture
def smtp_port() -> Iterator[int]:
    _SmtpHandler.mails.clear()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_messages_are_written_to_the_folder_and_marked_sent(hub: Hub, tmp_path: Path) -> None:
    sms = _queue(hub, NotificationChannel.SMS, "+381641234567", "Termin 2021-06-02 u 09:00")
    mail = _queue(hub, NotificationChannel.EMAIL, "ljubica@example.rs", EMAIL_BODY)
    gateways = {c: FolderGateway(tmp_path, c) for c in NotificationChannel}

    report = dispatch(hub, gateways)

    assert (report.sent, report.retry_later, report.failed) == (2, 0, 0)
    assert (
        (tmp_path / "sms" / f"{sms}.txt")
        .read_text(encoding="utf-8")
        .startswith("To: +381641234567\n\nTermin")
    )
    assert "Poštovana" in (tmp_path / "email" / f"{mail}.txt").read_text(encoding="utf-8")
    assert _row(hub, sms).status == NotificationStatus.SENT
    assert _row(hub, sms).sent_at == NOW
    assert dispatch(hub, gateways).claimed == 0  # nothing is sent twice


def test_sms_gateway_outcomes_sent_refused_and_retried_after_backoff(
    hub: Hub, sms_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = _queue(hub, NotificationChannel.SMS, "+381641111111", "a")
    bad = _queue(hub, NotificationChannel.SMS, "+000000", "b")
    flaky = _queue(hub, NotificationChannel.SMS, "+381642222222", "c")
    email = _queue(hub, NotificationChannel.EMAIL, "x@example.rs", EMAIL_BODY)
    _SmsProvider.fail_once.add("+381642222222")
    gateways = {NotificationChannel.SMS: HttpSmsGateway(sms_url, token="t0k")}

    report = dispatch(hub, gateways)

    assert (report.sent, report.retry_later, report.failed) == (1, 1, 1)
    assert _row(hub, good).status == NotificationStatus.SENT
    assert [m["to"] for m in _SmsProvider.received] == ["+381641111111"]
    assert _SmsProvider.received[0]["reference"] == str(good)
    assert _SmsProvider.received[0]["authorization"] == "Bearer t0k"
    refused = _row(hub, bad)
    assert refused.status == NotificationStatus.FAILED
    assert "400" in (refused.last_error or "")
    waiting = _row(hub, flaky)
    assert waiting.status == NotificationStatus.PENDING
    assert waiting.next_attempt_at == NOW + backoff(1)
    assert _row(hub, email).attempts == 0  # no e-mail gateway: it waits untouched

    assert dispatch(hub, gateways).claimed == 0  # not due yet
    assert isinstance(hub.clock, FixedClock)
    hub.clock.advance(timedelta(minutes=1))
    assert dispatch(hub, gateways).sent == 1
    assert _row(hub, flaky).status == NotificationStatus.SENT
    assert _row(hub, flaky).attempts == 2


def test_an_unreachable_gateway_gives_up_after_the_last_attempt(hub: Hub) -> None:
    row_id = _queue(hub, NotificationChannel.SMS, "+381643333333", "d")
    gateways = {NotificationChannel.SMS: HttpSmsGateway("http://127.0.0.1:9/", timeout_s=2)}
    assert isinstance(hub.clock, FixedClock)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = dispatch(hub, gateways)
        assert report.claimed == 1
        hub.clock.advance(backoff(attempt))

    row = _row(hub, row_id)
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == MAX_ATTEMPTS
    assert "unreachable" in (row.last_error or "")


def test_email_goes_out_over_smtp_with_its_subject(hub: Hub, smtp_port: int) -> None:
    sent = _queue(hub, NotificationChannel.EMAIL, "ljubica@example.rs", EMAIL_BODY)
    refused = _queue(hub, NotificationChannel.EMAIL, "refused@example.rs", EMAIL_BODY)
    gateway = SmtpEmailGateway("127.0.0.1", smtp_port, "imuno@batut.rs", timeout_s=5)

    report = dispatch(hub, {NotificationChannel.EMAIL: gateway})

    assert (report.sent, report.failed) == (1, 1)
    (raw,) = _SmtpHandler.mails
    mail = message_from_bytes(raw)
    assert mail["To"] == "ljubica@example.rs"
    assert mail["From"] == "imuno@batut.rs"
    assert str(make_header(decode_header(mail["Subject"]))) == "Vaš termin za vakcinaciju"
    assert mail["Message-ID"] == f"<{sent}@imuno>"
    assert _row(hub, refused).status == NotificationStatus.FAILED


def test_the_cli_sends_to_a_folder_and_counts(hub: Hub, migrated_url: str, tmp_path: Path) -> None:
    _queue(hub, NotificationChannel.SMS, "+381644444444", "e")
    _queue(hub, NotificationChannel.EMAIL, "a@example.rs", EMAIL_BODY)
    runner = CliRunner()

    nothing = runner.invoke(hub_cli, ["notify", "send", "--db", migrated_url])
    assert nothing.exit_code == 2
    result = runner.invoke(
        hub_cli,
        ["notify", "send", "--folder", str(tmp_path), "--until-empty", "--db", migrated_url],
    )
    assert result.exit_code == 0, result.output
    assert "sent 2, to retry later 0, failed for good 0" in result.output
    counted = runner.invoke(hub_cli, ["notify", "status", "--db", migrated_url])
    assert counted.exit_code == 0
    assert "email  sent     1" in counted.output
    assert "sms    sent     1" in counted.output
