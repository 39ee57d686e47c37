"""Hygiene: `credits.low_balance` has its subscriber in notifications (one email per crossing)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from luneo.platform.events import handlers_for, publish
from luneo.platform.tenancy import bind_system, bind_tenant


def _load_domains() -> None:
    from luneo.domains import load_domain_modules

    load_domain_modules()


def _add_member(brand_id: str, email: str, role: str) -> None:
    from luneo.platform.database import get_db
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=email, password="correct horse battery")
        bind_tenant(s, brand_id)
        service.add_member(s, brand_id=brand_id, user_id=user.id, role=role)


def _low_credit_emails(db: Any, brand_id: str) -> list[str]:
    from luneo.notifications.models import EmailMessage

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        rows = s.execute(
            select(EmailMessage.to)
            .where(EmailMessage.template == "low_credits")
            .order_by(EmailMessage.created_at, EmailMessage.to)
        )
        return list(rows.scalars())


def _debit(db: Any, brand_id: str, amount: int, ref: str) -> None:
    from luneo.credits import service

    with db.transaction() as s:
        bind_tenant(s, brand_id)
        service.debit(s, brand_id, amount, "ai.generate", ref, "usr_x")


def test_low_balance_event_is_handled_by_notifications(db: Any) -> None:
    _load_domains()
    modules = {h.__module__ for h in handlers_for("credits.low_balance")}
    assert modules == {"luneo.notifications.handlers", "luneo.webhooks.handlers"}  # email + webhook


def test_owners_and_admins_get_one_email_per_crossing(db: Any, brand_a: Any) -> None:
    _load_domains()
    _add_member(brand_a.id, "admin@alpha.example", "admin")
    _add_member(brand_a.id, "editor@alpha.example", "editor")  # not told about billing
    people = sorted([brand_a.owner_email, "admin@alpha.example"])

    _debit(db, brand_a.id, 40, "u1")  # 10 left of 50 granted: 20 %, not below
    assert _low_credit_emails(db, brand_a.id) == []
    _debit(db, brand_a.id, 1, "u2")  # 9: the crossing
    assert sorted(_low_credit_emails(db, brand_a.id)) == people
    _debit(db, brand_a.id, 1, "u3")  # still below: no new email
    _debit(db, brand_a.id, 1, "u4")
    assert len(_low_credit_emails(db, brand_a.id)) == 2

    from tests.integration.test_credits import _checkout_payload

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "payment.checkout_completed", _checkout_payload(brand_a.id))  # +100: above again
    _debit(db, brand_a.id, 87, "u5")  # 20 left = 20 % of 100: not below
    assert len(_low_credit_emails(db, brand_a.id)) == 2
    _debit(db, brand_a.id, 1, "u6")  # the second crossing
    assert len(_low_credit_emails(db, brand_a.id)) == 4


def test_a_failing_email_never_fails_the_debit(db: Any, brand_a: Any, monkeypatch: Any) -> None:
    _load_domains()
    from luneo.notifications import handlers

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("template exploded")

    monkeypatch.setattr(handlers, "queue_email", broken)
    _debit(db, brand_a.id, 45, "u1")  # crossing: the email fails, the debit stands
    from luneo.credits import service

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        assert service.get_balance(s, brand_a.id) == 5
        account = service.get_account(s, brand_a.id)
        assert account is not None and account.low_balance_flag
