"""Gateways that deliver one message each: SMTP e-mail, an HTTP SMS gateway, a folder.

A gateway raises `DeliveryFailed` when it cannot deliver; ``permanent`` says
whether trying again could help (a refused address will stay refused, a
timeout may pass). Anything else it raises is a bug and is not caught.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Final, Protocol

import requests

from central.db.enums import NotificationChannel

DEFAULT_TIMEOUT_S: Final = 10.0
SUBJECT_PREFIX: Final = "Subject: "
DEFAULT_SUBJECT: Final = "Vakcinacija"


@dataclass(frozen=True)
class Message:
    """One outbox row to deliver."""

    id: uuid.UUID
    channel: NotificationChannel
    recipient: str
    body: str


class DeliveryFailed(Exception):
    """The gateway did not deliver the message; `permanent`: retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Gateway(Protocol):
    """Delivers messages of one channel."""

    @property
    def channel(self) -> NotificationChannel: ...

    def send(self, message: Message) -> None:
        """Deliver `message` or raise `DeliveryFailed`."""
        ...


def split_subject(body: str) -> tuple[str, str]:
    """An outbox e-mail body's subject (its ``Subject:`` first line) and text."""
    first, sep, rest = body.partition("\n")
    if sep and first.startswith(SUBJECT_PREFIX):
        return first[len(SUBJECT_PREFIX) :].strip(), rest.lstrip("\n")
    return DEFAULT_SUBJECT, body


@dataclass(frozen=True)
class SmtpEmailGateway:
    """E-mail through an SMTP server (STARTTLS and login when configured)."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def channel(self) -> NotificationChannel:
        return NotificationChannel.EMAIL

    def send(self, message: Message) -> None:
        subject, text = split_subject(message.body)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = subject
        mail["Message-ID"] = f"<{message.id}@imuno>"
        mail.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server will keep refusing this message; 4xx: try later.
            raise DeliveryFailed(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP server unreachable: {exc}", permanent=False) from exc


@dataclass(frozen=True)
class HttpSmsGateway:
    """SMS through an HTTP gateway: ``POST url`` with JSON ``{to, text, reference}``.

    The JSON shape is the common denominator of SMS providers; the bearer
    token authenticates the hub. 2xx: accepted; 429 and 5xx: try later; any
    other 4xx: the provider refuses this message for good (bad number).
    """

    url: str
    token: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def channel(self) -> NotificationChannel:
        return NotificationChannel.SMS

    def send(self, message: Message) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"to": message.recipient, "text": message.body, "reference": str(message.id)}
        try:
            response = requests.post(
                self.url, json=body, headers=headers, timeout=(self.timeout_s, self.timeout_s)
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"SMS gateway unreachable: {exc}", permanent=False) from exc
        if response.ok:
            return
        transient = response.status_code == 429 or response.status_code >= 500
        raise DeliveryFailed(
            f"SMS gateway answered {response.status_code}: {response.text[:200]}",
            permanent=not transient,
        )


@dataclass(frozen=True)
class FolderGateway:
    """Writes each message to ``<folder>/<channel>/<id>.txt`` (recipient line, blank, body)."""

    folder: Path
    for_channel: NotificationChannel

    @property
    def channel(self) -> NotificationChannel:
        return self.for_channel

    def send(self, message: Message) -> None:
        target = self.folder / self.for_channel.value
        try:
            target.mkdir(parents=True, exist_ok=True)
            path = target / f"{message.id}.txt"
            partial = path.with_suffix(".part")
            partial.write_text(f"To: {message.recipient}\n\n{message.body}\n", encoding="utf-8")
            partial.replace(path)  # whole files only, for whoever picks them up
        except OSError as exc:
            raise DeliveryFailed(f"cannot write {self.folder}: {exc}", permanent=False) from exc
