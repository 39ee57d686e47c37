"""Email outbox: templates with brand colours, outbox .eml files, SMTP (aiosmtpd), SendGrid
(a local HTTP server), retries and permanent failures."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from luneo.notifications import service
from luneo.notifications.models import EmailMessage
from luneo.notifications.schemas import EmailMessageOut
from luneo.notifications.senders import SendGridSender, SmtpConfig
from luneo.platform import jobs
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.database import Base, Database
from luneo.platform.domain_errors import DomainError
from luneo.platform.jobs_runtime import InProcessRuntime
from luneo.platform.models import Job
from luneo.platform.tenancy import TenantScopeError, bind_system, bind_tenant
from luneo.tenancy.models import Brand


def make_db(tmp_path: Path, **settings: Any) -> Database:
    base: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": None,
        "redis_url": None,
        "smtp_url": None,
        "sendgrid_api_key": None,
        "email_from": "Luneo <no-reply@mail.luneo.test>",
    }
    db = Database(Settings(**{**base, **settings}))
    Base.metadata.create_all(db.engine)
    return db


def make_brand(db: Database, **settings: Any) -> str:
    with db.transaction() as s:
        brand = Brand(
            slug="acme-" + str(time.monotonic_ns()),
            name="Acme Ateliers",
            settings={"primary_color": "#ff5500", **settings},
        )
        s.add(brand)
        s.flush()
        return brand.id


def queue(
    db: Database,
    brand_id: str,
    template: str = "welcome",
    to: str = "Jane@Example.com",
    context: dict[str, Any] | None = None,
) -> EmailMessage:
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        return service.queue_email(
            s, brand_id, to, template, context if context is not None else {"name": "Jane"}
        )


def message_row(db: Database, message_id: str) -> EmailMessage:
    with db.transaction(write=False) as s:
        bind_system(s)
        row = s.get(EmailMessage, message_id)
        assert row is not None
        return row


def job_for(db: Database, message_id: str) -> Job:
    with db.transaction(write=False) as s:
        bind_system(s)
        return s.execute(sa.select(Job).where(Job.key == f"send_email:{message_id}")).scalar_one()


def run_job_now(db: Database, job_id: str) -> str:
    """Run the job in this thread, skipping any backoff wait."""
    with db.transaction() as s:
        bind_system(s)
        s.execute(sa.update(Job).where(Job.id == job_id).values(next_run_at=utcnow() - timedelta(seconds=1)))
    return jobs.execute(db, job_id, worker_id="test")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = make_db(tmp_path)
    yield database
    database.dispose()


# -- rendering and queueing


def test_templates_render_brand_name_and_colours(db: Database) -> None:
    brand_id = make_brand(db)
    with db.transaction() as s:
        brand = s.get(Brand, brand_id)
        assert brand is not None
        r = service.render_email(
            "welcome", {"name": "<Jane>", "dashboard_url": "https://app.example/d"}, brand
        )
    assert r.subject == "Welcome to Acme Ateliers"
    assert "Welcome, <Jane>!" in r.text and "https://app.example/d" in r.text
    assert "&lt;Jane&gt;" in r.html and "<Jane>" not in r.html  # HTML is escaped
    assert "background:#ff5500" in r.html and "color:#000000" in r.html  # dark text on orange
    assert set(service.available_templates()) >= {"welcome", "test"}


def test_bad_brand_colour_falls_back_to_default(db: Database) -> None:
    brand_id = make_brand(db, primary_color="red;background:url(x)")
    with db.transaction() as s:
        brand = s.get(Brand, brand_id)
        assert brand is not None
        theme = service.brand_theme(brand)
    assert theme["primary_color"] == service.DEFAULT_PRIMARY and theme["on_primary_color"] == "#ffffff"


def test_queue_rejects_unknown_template_and_bad_address(db: Database) -> None:
    brand_id = make_brand(db)
    with pytest.raises(DomainError) as unknown:
        queue(db, brand_id, template="nope")
    assert unknown.value.code == "unknown_email_template"
    with pytest.raises(DomainError) as bad:
        queue(db, brand_id, to="not-an-address")
    assert bad.value.code == "invalid_email"
    with pytest.raises(TenantScopeError), db.transaction() as s:  # unscoped session
        service.queue_email(s, brand_id, "a@example.com", "test", {})


def test_outbox_writes_a_parseable_multipart_eml(db: Database) -> None:
    brand_id = make_brand(db)
    rt = InProcessRuntime(db, threads=1, sweep_interval_s=60)
    jobs.set_runtime(rt)
    rt.start()
    try:
        msg = queue(db, brand_id)
        assert msg.status == "queued" and msg.id.startswith("eml_") and msg.to == "Jane@example.com"
        assert msg.subject == "Welcome to Acme Ateliers"
        deadline = time.monotonic() + 20
        while message_row(db, msg.id).status == "queued":
            assert time.monotonic() < deadline, "email not sent"
            time.sleep(0.02)
    finally:
        rt.stop(5)
        jobs.set_runtime(None)
    row = message_row(db, msg.id)
    assert (row.status, row.provider, row.attempts) == ("sent", "outbox", 1)
    assert row.sent_at is not None
    path = db.settings.outbox_dir / f"{msg.id}.eml"
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, MimeMessage)
    assert parsed["Subject"] == "Welcome to Acme Ateliers"
    assert parsed["To"] == "Jane@example.com"
    assert parsed["From"].addresses[0].display_name == "Acme Ateliers"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@mail.luneo.test"
    assert parsed["Message-ID"] == row.provider_id == f"<{msg.id}@mail.luneo.test>"
    assert parsed.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    assert "Welcome, Jane!" in text.get_content()
    assert "#ff5500" in html.get_content()
    out = EmailMessageOut.model_validate(row)
    assert out.status == "sent" and out.brand_id == brand_id


def test_sent_message_is_not_sent_twice(db: Database) -> None:
    brand_id = make_brand(db)
    msg = queue(db, brand_id, template="test", context={"message": "hello"})
    job = job_for(db, msg.id)
    assert jobs.execute(db, job.id, worker_id="t") == "success"
    path = db.settings.outbox_dir / f"{msg.id}.eml"
    path.unlink()
    again = jobs.enqueue  # a second enqueue with the same key is the same job: nothing re-sent
    with db.transaction() as s:
        bind_tenant(s, brand_id)
        same = again(s, "send_email", f"send_email:{msg.id}", {"message_id": msg.id}, brand_id=brand_id)
    assert same.id == job.id and same.status == "success"
    assert not path.exists()


# -- SMTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpCapture:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpCapture, int]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    capture = SmtpCapture()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, pw = auth_data.login.decode(), auth_data.password.decode()
            capture.logins.append((user, pw))
            return AuthResult(success=(user, pw) == ("mailer", "p@ss:word"))
        return AuthResult(success=False)

    port = free_port()
    controller = Controller(
        capture, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        yield capture, port
    finally:
        controller.stop()


def test_smtp_url_parsing() -> None:
    c = SmtpConfig.from_url("smtp+starttls://user%40x.com:p%40ss@mail.example.com")
    assert (c.host, c.port, c.username, c.password, c.security) == (
        "mail.example.com",
        587,
        "user@x.com",
        "p@ss",
        "starttls",
    )
    assert SmtpConfig.from_url("smtp://relay:2525").security == "none"
    assert SmtpConfig.from_url("smtps://relay").port == 465
    with pytest.raises(ValueError):
        SmtpConfig.from_url("http://relay")


def test_smtp_sender_delivers_with_auth(tmp_path: Path, smtp_server: tuple[SmtpCapture, int]) -> None:
    capture, port = smtp_server
    db = make_db(tmp_path, smtp_url=f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{port}")
    try:
        brand_id = make_brand(db)
        msg = queue(db, brand_id, template="test", context={"message": "Ça marche ✓"})
        assert jobs.execute(db, job_for(db, msg.id).id, worker_id="t") == "success"
        row = message_row(db, msg.id)
        assert (row.status, row.provider) == ("sent", "smtp")
        assert capture.logins == [("mailer", "p@ss:word")]
        [(mail_from, rcpts, content)] = capture.messages
        assert mail_from == "no-reply@mail.luneo.test" and rcpts == ["Jane@example.com"]
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert parsed["Subject"] == "Test email from Acme Ateliers"
        body = parsed.get_body(("plain",))
        assert body is not None and "Ça marche ✓" in body.get_content()
    finally:
        db.dispose()


def test_smtp_failure_retries_then_fails(tmp_path: Path) -> None:
    db = make_db(tmp_path, smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        brand_id = make_brand(db)
        msg = queue(db, brand_id)
        job = job_for(db, msg.id)
        outcomes = [run_job_now(db, job.id) for _ in range(4)]
        assert outcomes == ["retry", "retry", "retry", "failed"]
        row = message_row(db, msg.id)
        assert row.status == "failed" and row.attempts == 4
        assert row.error is not None and "SMTP send" in row.error
    finally:
        db.dispose()


# -- SendGrid


class SendGridStub:
    """A local stand-in for api.sendgrid.com: records requests, answers scripted statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stub.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                status = stub.statuses.pop(0) if stub.statuses else 202
                payload = (
                    b""
                    if status == 202
                    else json.dumps({"errors": [{"message": f"scripted {status}"}]}).encode()
                )
                self.send_response(status)
                if status == 202:
                    self.send_header("X-Message-Id", f"sg-{len(stub.requests)}")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SendGridStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_sendgrid_request_shape_and_auth(tmp_path: Path) -> None:
    with SendGridStub([202]) as stub:
        db = make_db(tmp_path, sendgrid_api_key="SG.secret-key", sendgrid_api_base=stub.base)
        try:
            brand_id = make_brand(db, reply_to="support@acme.example")
            msg = queue(db, brand_id)
            assert jobs.execute(db, job_for(db, msg.id).id, worker_id="t") == "success"
            row = message_row(db, msg.id)
            assert (row.status, row.provider, row.provider_id) == ("sent", "sendgrid", "sg-1")
        finally:
            db.dispose()
    [req] = stub.requests
    assert req["path"] == "/v3/mail/send"
    assert req["headers"]["Authorization"] == "Bearer SG.secret-key"
    assert req["headers"]["Content-Type"] == "application/json"
    body = req["json"]
    assert body["personalizations"] == [{"to": [{"email": "Jane@example.com"}]}]
    assert body["from"] == {"email": "no-reply@mail.luneo.test", "name": "Acme Ateliers"}
    assert body["reply_to"] == {"email": "support@acme.example"}
    assert body["subject"] == "Welcome to Acme Ateliers"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "Welcome, Jane!" in body["content"][0]["value"]
    assert "#ff5500" in body["content"][1]["value"]
    assert body["custom_args"] == {"luneo_message_id": msg.id}


def test_sendgrid_server_error_is_retried_then_sent(tmp_path: Path) -> None:
    with SendGridStub([503, 202]) as stub:
        db = make_db(tmp_path, sendgrid_api_key="SG.secret-key", sendgrid_api_base=stub.base)
        try:
            msg = queue(db, make_brand(db))
            job = job_for(db, msg.id)
            assert jobs.execute(db, job.id, worker_id="t") == "retry"
            row = message_row(db, msg.id)
            assert row.status == "queued" and row.attempts == 1
            assert row.error is not None and "HTTP 503" in row.error and "SG.secret-key" not in row.error
            pending = job_for(db, msg.id)
            assert pending.status == "pending" and pending.next_run_at is not None
            assert pending.next_run_at - pending.updated_at == timedelta(seconds=2)
            assert run_job_now(db, job.id) == "success"
            row = message_row(db, msg.id)
            assert (row.status, row.attempts, row.error) == ("sent", 2, None)
        finally:
            db.dispose()
    assert len(stub.requests) == 2


def test_sendgrid_client_error_fails_without_retry(tmp_path: Path) -> None:
    with SendGridStub([400]) as stub:
        db = make_db(tmp_path, sendgrid_api_key="SG.secret-key", sendgrid_api_base=stub.base)
        try:
            msg = queue(db, make_brand(db))
            assert jobs.execute(db, job_for(db, msg.id).id, worker_id="t") == "failed"
            row = message_row(db, msg.id)
            assert row.status == "failed" and row.error is not None and "scripted 400" in row.error
        finally:
            db.dispose()
    assert len(stub.requests) == 1
    assert SendGridSender.payload.__doc__  # the documented shape lives next to the code
