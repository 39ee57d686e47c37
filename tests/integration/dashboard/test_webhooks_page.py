"""Dashboard: outgoing webhooks — endpoints (secret shown once), validation next to the fields,
edit / enable / disable / delete, secret rotation, a test event, the delivery log with replays,
another brand's ids (404) and the roles that may not manage keys (403, no menu entry)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_system, bind_tenant
from tests.integration.webhooks.conftest import Receiver, _start, run_webhook_jobs

from .helpers import post, sign_in

PASSWORD = "correct horse battery"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{20,}")


@pytest.fixture
def receiver(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1, with the local-development switch that lets endpoints reach it."""
    monkeypatch.setattr(settings, "webhooks_allow_private", True)
    r = Receiver()
    server = _start(r)
    yield r
    server.shutdown()
    server.server_close()


@pytest.fixture
def owner(client: Any, brand_a: Any) -> str:
    return sign_in(client, brand_a.owner_email)


def _member(brand: Any, email: str, role: str) -> str:
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=email, password=PASSWORD)
        bind_tenant(s, brand.id)
        service.add_member(s, brand_id=brand.id, user_id=user.id, role=role)
    return email


def _endpoints(brand_id: str) -> list[Any]:
    from luneo.webhooks.models import WebhookEndpoint

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(s.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).scalars())


def _deliveries(brand_id: str) -> list[Any]:
    from luneo.webhooks.models import WebhookDelivery

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(s.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars())


def _create(client: Any, csrf: str, url: str, types: list[str] | None = None, **extra: Any) -> Any:
    chosen = ["order.paid"] if types is None else types
    data = {"url": url, "description": "ERP", "event_types": chosen, "enabled": "on"}
    return post(client, "/dashboard/webhooks", csrf, {**data, **extra})


def test_a_new_endpoint_shows_its_secret_once_then_never(client: Any, brand_a: Any, owner: str) -> None:
    empty = client.get("/dashboard/webhooks")
    assert empty.status_code == 200 and "No endpoint yet" in empty.text
    for t in ("order.created", "pack.ready", "credits.low_balance", "design.saved"):
        assert f'value="{t}"' in empty.text  # every type, grouped
    r = _create(client, owner, "https://hooks.alpha.example/luneo", ["order.paid", "pack.ready"])
    assert r.status_code == 201, r.text[:500]
    secret = SECRET.search(r.text.split('id="new-secret"')[1]).group(0)  # type: ignore[union-attr]
    assert "shown only once" in r.text and 'data-copy="#new-secret"' in r.text
    (endpoint,) = _endpoints(brand_a.id)
    assert endpoint.url == "https://hooks.alpha.example/luneo" and endpoint.description == "ERP"
    assert endpoint.event_types == ["order.paid", "pack.ready"] and endpoint.enabled
    listing = client.get("/dashboard/webhooks")
    detail = client.get(f"/dashboard/webhooks/{endpoint.id}")
    assert detail.status_code == 200 and "https://hooks.alpha.example/luneo" in detail.text
    for page in (listing, detail):
        assert secret not in page.text and "whsec_" not in page.text
    assert "https://hooks.alpha.example/luneo" in listing.text and "enabled" in listing.text


@pytest.mark.parametrize(
    ("url", "types", "field", "message"),
    [
        ("https://127.0.0.1/hooks", ["order.paid"], "url", "endpoint URL refused"),
        ("https://169.254.169.254/latest", ["order.paid"], "url", "endpoint URL refused"),
        ("ftp://hooks.alpha.example/x", ["order.paid"], "url", "endpoint URL refused"),
        ("https://hooks.alpha.example/x", [], "event_types", "Choose at least one event type."),
        ("https://hooks.alpha.example/x", ["order.exploded"], "event_types", "order.exploded"),
    ],
)
def test_a_refused_endpoint_answers_422_with_the_error_next_to_its_field(
    client: Any, brand_a: Any, owner: str, url: str, types: list[str], field: str, message: str
) -> None:
    r = _create(client, owner, url, types)
    assert r.status_code == 422, r.text[:300]
    error = r.text.split(f'id="f-{field}-error"')[1].split("</p>")[0]
    assert message in error.replace("&#39;", "'")
    assert f'value="{url}"' in r.text  # the form keeps what was typed
    assert _endpoints(brand_a.id) == []


def test_edit_disable_enable_and_delete(client: Any, brand_a: Any, owner: str) -> None:
    assert _create(client, owner, "https://hooks.alpha.example/a").status_code == 201
    (e,) = _endpoints(brand_a.id)
    r = post(
        client,
        f"/dashboard/webhooks/{e.id}",
        owner,
        {"url": "https://erp.alpha.example/in", "description": "New", "event_types": ["order.shipped"]},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/dashboard/webhooks/{e.id}?saved=saved"
    (e,) = _endpoints(brand_a.id)
    assert (e.url, e.description, e.event_types) == ("https://erp.alpha.example/in", "New", ["order.shipped"])
    bad = post(
        client,
        f"/dashboard/webhooks/{e.id}",
        owner,
        {"url": "https://10.0.0.1/x", "event_types": ["order.paid"]},
    )
    assert bad.status_code == 422 and 'id="f-url-error"' in bad.text
    assert _endpoints(brand_a.id)[0].url == "https://erp.alpha.example/in"
    assert post(client, f"/dashboard/webhooks/{e.id}/enabled", owner, {"enabled": "false"}).status_code == 303
    (e,) = _endpoints(brand_a.id)
    assert not e.enabled and e.disabled_reason == "disabled by the brand"
    page = client.get("/dashboard/webhooks")
    assert "disabled by the brand" in page.text
    assert post(client, f"/dashboard/webhooks/{e.id}/test", owner).status_code == 409  # disabled
    assert post(client, f"/dashboard/webhooks/{e.id}/enabled", owner, {"enabled": "true"}).status_code == 303
    assert _endpoints(brand_a.id)[0].enabled
    confirm = client.get(f"/dashboard/webhooks/{e.id}/delete")
    assert confirm.status_code == 200 and "Delete this endpoint?" in confirm.text and _endpoints(brand_a.id)
    gone = post(client, f"/dashboard/webhooks/{e.id}/delete", owner)
    assert gone.status_code == 303 and _endpoints(brand_a.id) == []


def test_rotating_shows_the_new_secret_once_with_the_end_of_the_overlap(
    client: Any, brand_a: Any, owner: str
) -> None:
    first = _create(client, owner, "https://hooks.alpha.example/r")
    old = SECRET.search(first.text).group(0)  # type: ignore[union-attr]
    (e,) = _endpoints(brand_a.id)
    r = post(client, f"/dashboard/webhooks/{e.id}/rotate", owner, {"overlap_hours": "72"})
    assert r.status_code == 200
    new = SECRET.search(r.text.split('id="new-secret"')[1]).group(0)  # type: ignore[union-attr]
    assert new != old and old not in r.text and "previous secret keeps signing" in r.text
    (e,) = _endpoints(brand_a.id)
    assert e.previous_secret_expires_at is not None
    hours = e.previous_secret_expires_at - e.updated_at.replace(tzinfo=e.previous_secret_expires_at.tzinfo)
    assert 71 <= hours.total_seconds() / 3600 <= 73
    later = client.get(f"/dashboard/webhooks/{e.id}")
    assert new not in later.text and "whsec_" not in later.text and "Rotation overlap" in later.text


def test_a_test_event_is_delivered_signed_then_replayed(
    client: Any, brand_a: Any, owner: str, receiver: Receiver
) -> None:
    created = _create(client, owner, receiver.url, ["order.paid"])
    secret = SECRET.search(created.text).group(0)  # type: ignore[union-attr]
    (e,) = _endpoints(brand_a.id)
    r = post(client, f"/dashboard/webhooks/{e.id}/test", owner)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/dashboard/webhooks/{e.id}?saved=test")
    run_webhook_jobs(get_db())
    (got,) = receiver.requests
    payload = Webhook(secret).verify(got.body, got.headers)  # the official verifier
    assert payload["type"] == "webhook.test" and payload["data"]["endpoint_id"] == e.id
    log = client.get(f"/dashboard/webhooks/{e.id}")
    row = log.text.split('id="h-log"')[1]
    assert "webhook.test" in row and "succeeded" in row and "HTTP 200" in row and "{&#34;ok&#34;:true}" in row
    listing = client.get("/dashboard/webhooks")
    assert "succeeded" in listing.text and "HTTP 200" in listing.text
    (d,) = _deliveries(brand_a.id)
    again = post(client, f"/dashboard/webhooks/deliveries/{d.id}/replay", owner)
    assert again.status_code == 303 and "saved=replayed" in again.headers["location"]
    run_webhook_jobs(get_db())
    assert (
        len(receiver.requests) == 2
        and receiver.requests[1].headers["webhook-id"] == got.headers["webhook-id"]
    )
    assert [x.replay_of for x in _deliveries(brand_a.id)] == [None, d.id]


def test_replay_all_failed_since_a_date(client: Any, brand_a: Any, owner: str, receiver: Receiver) -> None:
    from luneo.webhooks import service

    _create(client, owner, receiver.url, ["order.paid"])
    (e,) = _endpoints(brand_a.id)
    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        service.send_test_event(s, e.id)
        service.send_test_event(s, e.id)
    with get_db().transaction() as s:  # both failed for good
        bind_tenant(s, brand_a.id)
        for d in _deliveries(brand_a.id):
            row = s.get(type(d), d.id)
            row.status, row.attempt, row.error = "failed", 8, "HTTP 500"
    bad = post(client, f"/dashboard/webhooks/{e.id}/replay-failed", owner, {"since": "yesterday"})
    assert bad.status_code == 422 and 'id="f-since-error"' in bad.text
    r = post(client, f"/dashboard/webhooks/{e.id}/replay-failed", owner, {"since": "2020-01-01"})
    assert r.status_code == 303 and "replayed=2" in r.headers["location"]
    page = client.get(r.headers["location"])
    assert "2 failed deliveries queued again." in page.text
    run_webhook_jobs(get_db())
    assert len(receiver.requests) == 2
    again = post(client, f"/dashboard/webhooks/{e.id}/replay-failed", owner, {"since": "2020-01-01"})
    assert "replayed=0" in again.headers["location"]  # each failed delivery at most once


def test_the_delivery_log_pages_with_a_cursor(client: Any, brand_a: Any, owner: str) -> None:
    from luneo.dashboard import webhooks as page_module
    from luneo.webhooks import service

    _create(client, owner, "https://hooks.alpha.example/p")
    (e,) = _endpoints(brand_a.id)
    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        for _ in range(page_module.PAGE_SIZE + 2):
            service.send_test_event(s, e.id)
    first = client.get(f"/dashboard/webhooks/{e.id}")
    assert first.text.count('<tr id="d-') == page_module.PAGE_SIZE
    nxt = re.search(r'href="(/dashboard/webhooks/[^"]+cursor=[^"]+)" rel="next"', first.text)
    assert nxt, "no next page link"
    second = client.get(nxt.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and second.text.count('<tr id="d-') == 2 and "First page" in second.text
    junk = client.get(f"/dashboard/webhooks/{e.id}?cursor=forged")
    assert junk.status_code == 422


def test_another_brands_endpoint_and_delivery_answer_404(
    client: Any, brand_a: Any, brand_b: Any, owner: str
) -> None:
    from luneo.platform.config import get_settings
    from luneo.webhooks import service

    with get_db().transaction() as s:
        bind_tenant(s, brand_b.id)
        theirs, _ = service.create_endpoint(
            s, get_settings(), brand_id=brand_b.id, url="https://b.example/hooks", event_types=["order.paid"]
        )
        delivery = service.send_test_event(s, theirs.id)
        eid, did = theirs.id, delivery.id
    for path in (f"/dashboard/webhooks/{eid}", f"/dashboard/webhooks/{eid}/delete"):
        assert client.get(path).status_code == 404, path
    for path, data in (
        (f"/dashboard/webhooks/{eid}", {"url": "https://a.example/x", "event_types": ["order.paid"]}),
        (f"/dashboard/webhooks/{eid}/enabled", {"enabled": "false"}),
        (f"/dashboard/webhooks/{eid}/rotate", {}),
        (f"/dashboard/webhooks/{eid}/test", {}),
        (f"/dashboard/webhooks/{eid}/replay-failed", {"since": "2020-01-01"}),
        (f"/dashboard/webhooks/{eid}/delete", {}),
        (f"/dashboard/webhooks/deliveries/{did}/replay", {}),
    ):
        assert post(client, path, owner, data).status_code == 404, path
    (still,) = _endpoints(brand_b.id)
    assert still.enabled and still.url == "https://b.example/hooks" and len(_deliveries(brand_b.id)) == 1
    assert "https://b.example/hooks" not in client.get("/dashboard/webhooks").text


@pytest.mark.parametrize("role", ["editor", "viewer", "production"])
def test_roles_without_keys_manage_get_403_and_no_menu_entry(client: Any, brand_a: Any, role: str) -> None:
    from luneo.platform.config import get_settings
    from luneo.webhooks import service

    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        e, _ = service.create_endpoint(
            s, get_settings(), brand_id=brand_a.id, url="https://a.example/hooks", event_types=["order.paid"]
        )
        eid = e.id
    csrf = sign_in(client, _member(brand_a, f"{role}-hooks@alpha.example", role))
    home = client.get("/dashboard/orders")
    nav = home.text.split('id="main-nav"')[1].split("</nav>")[0]
    assert home.status_code == 200 and 'href="/dashboard/webhooks"' not in nav
    for path in ("/dashboard/webhooks", f"/dashboard/webhooks/{eid}", f"/dashboard/webhooks/{eid}/delete"):
        assert client.get(path).status_code == 403, path
    for path, data in (
        ("/dashboard/webhooks", {"url": "https://a.example/y", "event_types": ["order.paid"]}),
        (f"/dashboard/webhooks/{eid}/enabled", {"enabled": "false"}),
        (f"/dashboard/webhooks/{eid}/rotate", {}),
        (f"/dashboard/webhooks/{eid}/test", {}),
        (f"/dashboard/webhooks/{eid}/delete", {}),
    ):
        assert post(client, path, csrf, data).status_code == 403, path
    (still,) = _endpoints(brand_a.id)
    assert still.enabled and _deliveries(brand_a.id) == []


def test_admins_manage_webhooks_and_see_the_menu_entry(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, _member(brand_a, "admin-hooks@alpha.example", "admin"))
    nav = client.get("/dashboard").text.split('id="main-nav"')[1].split("</nav>")[0]
    assert 'href="/dashboard/webhooks"' in nav
    assert _create(client, csrf, "https://hooks.alpha.example/adm").status_code == 201


def test_the_integrations_page_links_the_webhooks_page(client: Any, owner: str) -> None:
    page = client.get("/dashboard/integrations")
    hooks = page.text.split('id="h-webhooks"')[1].split("</section>")[0]
    assert 'href="/dashboard/webhooks"' in hooks and "issue 17" not in hooks


def test_the_list_query_count_does_not_grow_with_endpoints(client: Any, brand_a: Any, owner: str) -> None:
    from luneo.platform.config import get_settings
    from luneo.webhooks import service

    from .orders_helpers import count_queries

    def add(n: int) -> None:
        with get_db().transaction() as s:
            bind_tenant(s, brand_a.id)
            for i in range(n):
                e, _ = service.create_endpoint(
                    s,
                    get_settings(),
                    brand_id=brand_a.id,
                    url=f"https://h{i}.example/x",
                    event_types=["order.paid"],
                )
                service.send_test_event(s, e.id)

    counts = []
    client.get("/dashboard/webhooks")
    for n in (1, 12):
        add(n)
        with count_queries() as seen:
            assert client.get("/dashboard/webhooks").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1] and counts[0] <= 20, counts
