"""Email senders: the outbox (`.eml` files, embedded default), SMTP, and SendGrid's v3 API.

Chosen by settings: `LUNEO_SENDGRID_API_KEY` ⇒ SendGrid, else `LUNEO_SMTP_URL` ⇒ SMTP,
else the outbox under `<data_dir>/outbox`. Secrets never appear in errors or logs.
"""

from __future__ import annotations

import email.policy
import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from luneo.platform import http as outgoing
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.jobs import PermanentJobError


class SenderError(Exception):
    """Sending failed; the job retries unless it is a `PermanentSenderError`."""


class PermanentSenderError(SenderError, PermanentJobError):
    """The provider refused the message for a reason a retry cannot fix (e.g. 400)."""


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered email, ready for any sender."""

    message_id: str  # our `eml_…` id
    from_name: str
    from_addr: str
    to: str
    subject: str
    text: str
    html: str
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.from_addr.rpartition("@")[2] or "luneo.local"

    @property
    def rfc_message_id(self) -> str:
        """Stable across retries, so receiving servers can drop duplicates."""
        return f"<{self.message_id}@{self.domain}>"

    def to_mime(self) -> MimeMessage:
        """An RFC 5322 message: multipart/alternative, text/plain then text/html."""
        msg = MimeMessage(policy=email.policy.SMTP)
        msg["Message-ID"] = self.rfc_message_id
        msg["Date"] = format_datetime(utcnow())
        msg["From"] = Address(display_name=self.from_name, addr_spec=self.from_addr)
        msg["To"] = self.to
        if self.reply_to:
            msg["Reply-To"] = self.reply_to
        msg["Subject"] = self.subject
        msg["X-Luneo-Message-Id"] = self.message_id
        for name, value in self.headers.items():
            msg[name] = value
        msg.set_content(self.text, subtype="plain", charset="utf-8")
        msg.add_alternative(self.html, subtype="html", charset="utf-8")
        return msg


@dataclass(frozen=True)
class SentMessage:
    provider: str
    provider_id: str


class Sender(Protocol):
    name: str

    def send(self, mail: OutgoingEmail) -> SentMessage: ...


class OutboxSender:
    """Writes `<outbox_dir>/<message id>.eml` (atomically); nothing leaves the machine."""

    name = "outbox"

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = Path(outbox_dir)

    def send(self, mail: OutgoingEmail) -> SentMessage:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        path = self.outbox_dir / f"{mail.message_id}.eml"
        data = mail.to_mime().as_bytes(policy=email.policy.SMTP)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.outbox_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return SentMessage(self.name, mail.rfc_message_id)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    security: str  # none | starttls | tls

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """`smtp://user:pass@host:port`, `smtp+starttls://…` (STARTTLS) or `smtps://…` (TLS)."""
        parts = urlsplit(url)
        security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}.get(parts.scheme)
        if security is None or not parts.hostname:
            raise ValueError(
                "LUNEO_SMTP_URL must look like smtp[+starttls]://user:pass@host:port or smtps://…"
            )
        default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            security=security,
        )


class SmtpSender:
    """Sends through an SMTP relay (smtplib), with STARTTLS or implicit TLS when asked."""

    name = "smtp"

    def __init__(self, url: str, *, timeout_s: float = 30.0) -> None:
        self.config = SmtpConfig.from_url(url)
        self.timeout_s = timeout_s

    def send(self, mail: OutgoingEmail) -> SentMessage:
        cfg = self.config
        mime = mail.to_mime()
        try:
            smtp: smtplib.SMTP
            if cfg.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=self.timeout_s, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout_s)
            with smtp:
                smtp.ehlo()
                if cfg.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
                smtp.send_message(mime, from_addr=mail.from_addr, to_addrs=[mail.to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            err = PermanentSenderError if codes and all(500 <= c < 600 for c in codes) else SenderError
            raise err(f"SMTP recipient refused ({', '.join(map(str, codes))})") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SenderError(f"SMTP authentication failed ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise SenderError(f"SMTP send to {cfg.host}:{cfg.port} failed: {reason}") from None
        return SentMessage(self.name, mail.rfc_message_id)


class SendGridSender:
    """SendGrid v3 `POST /v3/mail/send` (answers 202; the id is the `X-Message-Id` header)."""

    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        api_base: str = "https://api.sendgrid.com",
        *,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self.api_base = api_base.rstrip("/")
        self.timeout_s = timeout_s
        self._transport = transport

    @staticmethod
    def payload(mail: OutgoingEmail) -> dict[str, Any]:
        """The documented v3 mail/send JSON body."""
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": mail.to}]}],
            "from": {"email": mail.from_addr, "name": mail.from_name},
            "subject": mail.subject,
            "content": [
                {"type": "text/plain", "value": mail.text},
                {"type": "text/html", "value": mail.html},
            ],
            "custom_args": {"luneo_message_id": mail.message_id},
        }
        if mail.reply_to:
            body["reply_to"] = {"email": mail.reply_to}
        if mail.headers:
            body["headers"] = dict(mail.headers)
        return body

    def send(self, mail: OutgoingEmail) -> SentMessage:
        try:
            with outgoing.client(timeout=self.timeout_s, transport=self._transport) as client:
                r = client.post(
                    f"{self.api_base}/v3/mail/send",
                    json=self.payload(mail),
                    headers={"Authorization": f"Bearer {self._api_key}"},
                )
        except httpx.HTTPError as exc:
            raise SenderError(f"SendGrid request failed: {type(exc).__name__}") from None
        if r.status_code in (200, 202):
            return SentMessage(self.name, r.headers.get("x-message-id") or mail.rfc_message_id)
        detail = _sendgrid_error(r)
        if 400 <= r.status_code < 500 and r.status_code not in (408, 429):
            raise PermanentSenderError(f"SendGrid refused the message: HTTP {r.status_code} {detail}")
        raise SenderError(f"SendGrid error: HTTP {r.status_code} {detail}")


def _sendgrid_error(r: httpx.Response) -> str:
    try:
        errors = r.json().get("errors") or []
        return "; ".join(str(e.get("message", "")) for e in errors)[:500]
    except ValueError:
        return ""


def sender_from_settings(settings: Settings) -> Sender:
    """SendGrid if its key is set, else SMTP if `LUNEO_SMTP_URL` is set, else the outbox."""
    if settings.sendgrid_api_key is not None:
        return SendGridSender(settings.sendgrid_api_key.get_secret_value(), settings.sendgrid_api_base)
    if settings.smtp_url:
        return SmtpSender(settings.smtp_url)
    return OutboxSender(settings.outbox_dir)


def from_address(settings: Settings) -> tuple[str, str]:
    """(display name, address) of `LUNEO_EMAIL_FROM`."""
    name, addr = parseaddr(settings.email_from)
    return name, addr or "no-reply@luneo.local"
