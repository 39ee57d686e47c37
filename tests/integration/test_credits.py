"""Credit ledger: atomic debits under concurrency, idempotent purchases, metering, low balance, verify."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text, update

import luneo.billing.models
import luneo.credits.models  # noqa: F401  (registers credits subscribers)
from luneo.credits import service
from luneo.credits.metering import metered, refund_usage
from luneo.credits.models import CreditAccount, CreditTransaction
from luneo.platform.errors import problem_from
from luneo.platform.events import publish
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.factories.credits import assert_ledger_consistent


def _balance(db, brand_id: str) -> int:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return service.get_balance(s, brand_id)


def _ledger(db, brand_id: str) -> list[CreditTransaction]:
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(s.execute(select(CreditTransaction).order_by(CreditTransaction.id)).scalars())


def _checkout_payload(brand_id: str, reference: str = "cbuy_test1", **extra) -> dict:
    payload = {
        "provider": "dev",
        "event_id": "evt_1",
        "reference": reference,
        "kind": "credits",
        "brand_id": brand_id,
        "metadata": {
            "kind": "credits",
            "pack_id": "pack_100",
            "brand_id": brand_id,
            "credits": "100",
            "price_cents": "1900",
        },
        "amount": 1900,
        "currency": "EUR",
        "payment_ref": "pi_1",
        "raw_type": "checkout.session.completed",
        "payment_status": "paid",
    }
    payload.update(extra)
    return payload


def test_signup_grant_is_50_once(db, brand_a):
    assert _balance(db, brand_a.id) == 50
    with db.transaction() as s:
        bind_system(s)
        publish(s, "brand.created", {"brand_id": brand_a.id})  # a replayed event grants nothing more
    rows = _ledger(db, brand_a.id)
    assert [(r.type, r.amount, r.reference) for r in rows] == [("grant", 50, f"grant:signup:{brand_a.id}")]
    assert_ledger_consistent(db)


def test_debit_credit_refund_adjust(db, brand_a):
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        t1 = service.debit(s, brand_a.id, 5, "ai.generate", "usage:one", "usr_x")
        assert (t1.type, t1.amount, t1.balance_after, t1.actor) == ("usage", -5, 45, "usr_x")
        again = service.debit(s, brand_a.id, 5, "ai.generate", "usage:one", "usr_x")
        assert again.id == t1.id  # idempotent on reference
        r = service.refund(s, brand_a.id, "usage:one")
        assert (r.type, r.amount, r.balance_after, r.reference) == ("refund", 5, 50, "refund:usage:one")
        assert service.refund(s, brand_a.id, "usage:one").id == r.id
        a = service.adjust(s, brand_a.id, -20, "adj:1", actor="ops", reason="goodwill reversal")
        assert a.balance_after == 30
        with pytest.raises(Exception) as exc:
            service.adjust(s, brand_a.id, -31, "adj:2", actor="ops")
        assert getattr(exc.value, "code", None) == "balance_would_go_negative"
    assert _balance(db, brand_a.id) == 30
    assert_ledger_consistent(db)


def test_insufficient_credits_problem_and_no_partial_write(db, brand_a):
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        with pytest.raises(service.InsufficientCredits) as exc:
            service.debit(s, brand_a.id, 51, "ai.generate", "usage:big", "usr_x")
    body = problem_from(exc.value).body()  # the problem the API answers for it
    assert body["status"] == 402 and body["code"] == "insufficient_credits"
    assert (body["balance"], body["cost"], body["operation"], body["buy_url"]) == (
        50,
        51,
        "ai.generate",
        "/api/v1/credits/packs",
    )
    assert _balance(db, brand_a.id) == 50
    assert len(_ledger(db, brand_a.id)) == 1
    assert_ledger_consistent(db)


def test_balance_check_constraint_refuses_negative(db, brand_a):
    with pytest.raises(Exception), db.transaction() as s:  # noqa: B017 - IntegrityError, dialect-specific class
        bind_system(s)
        s.execute(update(CreditAccount).where(CreditAccount.brand_id == brand_a.id).values(balance=-1))
    assert _balance(db, brand_a.id) == 50


def test_ledger_is_append_only(db, brand_a):
    with pytest.raises(Exception), db.transaction() as s:  # noqa: B017
        bind_system(s)
        s.execute(text("update credit_transactions set amount = 500"))
    with pytest.raises(Exception), db.transaction() as s:  # noqa: B017
        bind_system(s)
        s.execute(text("delete from credit_transactions"))
    assert len(_ledger(db, brand_a.id)) == 1


def test_100_concurrent_debits_never_overspend(db, brand_a):
    """Balance 50, 100 threads each debit 1 in their own transaction: exactly 50 succeed."""
    barrier = threading.Barrier(100)

    def one(i: int) -> bool:
        barrier.wait()
        try:
            with db.transaction() as s:
                bind_tenant(s, brand_a.id)
                service.debit(s, brand_a.id, 1, "ai.chat", f"usage:c{i}", "usr_x")
            return True
        except service.InsufficientCredits:
            return False

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one, range(100)))
    assert results.count(True) == 50
    assert _balance(db, brand_a.id) == 0
    rows = _ledger(db, brand_a.id)
    assert sum(1 for r in rows if r.type == "usage") == 50
    assert sorted(r.balance_after for r in rows if r.type == "usage") == list(range(50))
    assert_ledger_consistent(db)


def test_purchase_webhook_replayed_20_times_credits_once(db, brand_a):
    for _ in range(20):
        with db.transaction() as s:
            bind_tenant(s, brand_a.id)
            publish(s, "payment.checkout_completed", _checkout_payload(brand_a.id))
    # the capture announcement of the same purchase is a no-op too
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "payment.succeeded", _checkout_payload(brand_a.id, raw_type="payment_intent.succeeded"))
    assert _balance(db, brand_a.id) == 150
    purchases = [r for r in _ledger(db, brand_a.id) if r.type == "purchase"]
    assert len(purchases) == 1
    assert purchases[0].reference == "purchase:cbuy_test1"
    assert purchases[0].meta["pack_id"] == "pack_100"
    assert_ledger_consistent(db)


def test_purchase_webhook_replayed_concurrently_credits_once(db, brand_a):
    barrier = threading.Barrier(20)

    def one(_: int) -> None:
        barrier.wait()
        with db.transaction() as s:
            bind_system(s)  # as payments does before it knows the brand
            publish(s, "payment.checkout_completed", _checkout_payload(brand_a.id, reference="cbuy_conc"))

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(one, range(20)))
    assert _balance(db, brand_a.id) == 150
    assert sum(1 for r in _ledger(db, brand_a.id) if r.type == "purchase") == 1
    assert_ledger_consistent(db)


def test_purchase_not_credited_before_payment_or_when_underpaid(db, brand_a):
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "payment.checkout_completed", _checkout_payload(brand_a.id, payment_status="unpaid"))
        publish(
            s, "payment.checkout_completed", _checkout_payload(brand_a.id, reference="cbuy_low", amount=100)
        )
        publish(
            s,
            "payment.checkout_completed",
            _checkout_payload(brand_a.id, reference="cbuy_o", kind="order", metadata={}),
        )
    assert _balance(db, brand_a.id) == 50
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "payment.succeeded", _checkout_payload(brand_a.id, payment_status="succeeded"))
    assert _balance(db, brand_a.id) == 150
    assert_ledger_consistent(db)


def test_metered_operation_refunds_on_failure(db, brand_a):
    with pytest.raises(RuntimeError), metered(brand_a.id, "ai.generate", "usr_x") as usage:
        assert usage.cost == 5
        assert _balance(db, brand_a.id) == 45  # the reservation is committed and visible at once
        raise RuntimeError("provider down")
    assert _balance(db, brand_a.id) == 50
    kinds = [(r.type, r.amount) for r in _ledger(db, brand_a.id)]
    assert kinds == [("grant", 50), ("usage", -5), ("refund", 5)]
    refund = _ledger(db, brand_a.id)[-1]
    assert refund.reference == f"refund:{usage.reference}" and refund.meta["reason"] == "RuntimeError"

    with metered(brand_a.id, "render.highres", "usr_x") as ok:
        pass
    assert _balance(db, brand_a.id) == 42
    refund_usage(ok)  # a job that fails later gives it back, once
    refund_usage(ok)
    assert _balance(db, brand_a.id) == 50
    with pytest.raises(service.InsufficientCredits), metered(brand_a.id, "ai.generate", "usr_x", cost=51):
        pytest.fail("must not run without credits")
    assert_ledger_consistent(db)


def test_cost_override_applies_to_metering(db, brand_a):
    from luneo.credits import costs

    with db.transaction() as s:
        bind_system(s)
        costs.set_cost(s, "ai.generate", 7, "ops")
    with metered(brand_a.id, "ai.generate", "usr_x") as usage:
        assert usage.cost == 7
    assert _balance(db, brand_a.id) == 43
    assert_ledger_consistent(db)


def test_low_balance_flag_and_one_event_per_crossing(db, brand_a, monkeypatch):
    from luneo.platform import events

    sent: list[dict] = []
    monkeypatch.setitem(events._handlers, "credits.low_balance", [lambda _s, payload: sent.append(payload)])

    def debit(n: int, ref: str) -> None:
        with db.transaction() as s:
            bind_tenant(s, brand_a.id)
            service.debit(s, brand_a.id, n, "ai.generate", ref, "usr_x")

    def flagged() -> bool:
        with db.transaction(write=False) as s:
            bind_tenant(s, brand_a.id)
            acc = service.get_account(s, brand_a.id)
            return bool(acc and acc.low_balance_flag)

    debit(40, "u1")  # 10 left: 20 % of the 50 granted is 10, not below it
    assert not flagged() and sent == []
    debit(1, "u2")  # 9 < 10: crossing
    assert flagged() and len(sent) == 1
    assert sent[0]["brand_id"] == brand_a.id and (sent[0]["balance"], sent[0]["threshold"]) == (9, 10)
    debit(1, "u3")
    assert len(sent) == 1  # still low: no second email
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "payment.checkout_completed", _checkout_payload(brand_a.id))  # +100 → 108, baseline 100
    assert not flagged()
    debit(88, "u4")  # 20 left = 20 % of 100: not below
    assert len(sent) == 1
    debit(1, "u5")  # 19 < 20: second crossing
    assert flagged() and len(sent) == 2
    assert_ledger_consistent(db)


def test_low_balance_email_goes_to_production_email_and_outbox(db, brand_a):
    from luneo.domains import load_domain_modules
    from luneo.notifications.handlers import low_balance_recipients
    from luneo.tenancy.models import Brand

    load_domain_modules()  # the notifications subscriber

    with db.transaction() as s:
        bind_system(s)
        s.get(Brand, brand_a.id).production_email = "prod@alpha.example"
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        assert low_balance_recipients(s, brand_a.id) == ["prod@alpha.example"]
        service.debit(s, brand_a.id, 45, "ai.generate", "u1", "usr_x")  # 5 left: crossing
    from luneo.notifications.models import EmailMessage

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        rows = list(s.execute(select(EmailMessage).where(EmailMessage.template == "low_credits")).scalars())
    assert [m.to for m in rows] == ["prod@alpha.example"]
    assert "5 AI credits left" in rows[0].subject
    assert_ledger_consistent(db)


def test_verify_cli_reports_differences(db, brand_a, brand_b):
    import typer
    from typer.testing import CliRunner

    from luneo.credits.cli import credits_app

    root = typer.Typer()
    root.add_typer(credits_app, name="credits")  # as the lead mounts it on `luneo`
    runner = CliRunner()
    ok = runner.invoke(root, ["credits", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "ledger consistent: 2 account(s)" in ok.output
    with db.transaction() as s:
        bind_system(s)
        s.execute(update(CreditAccount).where(CreditAccount.brand_id == brand_b.id).values(balance=57))
    bad = runner.invoke(root, ["credits", "verify"])
    assert bad.exit_code == 1
    assert brand_b.id in bad.output and "+7" in bad.output and brand_a.id not in bad.output


def test_account_count_matches_brands(db, brand_a, brand_b):
    with db.transaction(write=False) as s:
        bind_system(s)
        assert s.execute(select(func.count()).select_from(CreditAccount)).scalar() == 2
    assert_ledger_consistent(db)


def test_refunded_purchase_takes_back_unspent_credits_once(db, brand_a):
    """Half refunded → half the pack back; fully refunded → the rest, limited to what is unspent."""
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        publish(s, "payment.checkout_completed", _checkout_payload(brand_a.id))
    assert _balance(db, brand_a.id) == 150

    def refund(total: int, status: str) -> None:
        payload = _checkout_payload(
            brand_a.id, raw_type="charge.refunded", amount=total, amount_refunded=total, payment_status=status
        )
        with db.transaction() as s:
            bind_tenant(s, brand_a.id)
            publish(s, "payment.refunded", payload)

    refund(950, "partially_refunded")
    refund(950, "partially_refunded")  # replay: nothing more
    assert _balance(db, brand_a.id) == 100
    with db.transaction() as s:  # spend most of what is left
        bind_tenant(s, brand_a.id)
        service.debit(s, brand_a.id, 90, "ai.generate", "usage:spent", "usr_x")
    refund(1900, "refunded")
    assert _balance(db, brand_a.id) == 0  # 50 were due, 10 were left: taken, 40 short
    lines = [r for r in _ledger(db, brand_a.id) if r.type == "adjustment"]
    assert [r.amount for r in lines] == [-50, -10] and lines[-1].meta["shortfall"] == 40
    assert_ledger_consistent(db)
