"""Outgoing HTTP calls carry the current request id (`X-Request-Id`), so a provider's logs, a
support ticket and our own logs name the same request. Every client of ours uses one of:

- `client(...)`: an `httpx.Client` whose requests get the header (an event hook);
- `request_id_hooks()`: the same hook for clients built elsewhere (the OpenAI and Anthropic
  SDKs' `DefaultHttpxClient`);
- `outgoing_headers()`: the header as a dict, for SDKs taking per-call headers (Stripe);
- `add_request_id_to_boto3(client)`: boto3 clients (S3), added after signing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from luneo.platform.context import current_request_id

REQUEST_ID_HEADER = "X-Request-Id"


def outgoing_headers() -> dict[str, str]:
    """`{"X-Request-Id": <current request id>}`, or `{}` outside a request or job."""
    rid = current_request_id()
    return {REQUEST_ID_HEADER: rid} if rid else {}


def _add_request_id(request: httpx.Request) -> None:
    rid = current_request_id()
    if rid and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = rid


def request_id_hooks() -> dict[str, list[Callable[..., Any]]]:
    """httpx `event_hooks` adding `X-Request-Id` to every request."""
    return {"request": [_add_request_id]}


def client(**kwargs: Any) -> httpx.Client:
    """An `httpx.Client` (same arguments) whose requests carry `X-Request-Id`."""
    return httpx.Client(event_hooks=request_id_hooks(), **kwargs)


def _boto3_before_send(request: Any, **_kwargs: Any) -> None:
    rid = current_request_id()
    if rid:
        request.headers[REQUEST_ID_HEADER] = rid


def add_request_id_to_boto3(boto_client: Any) -> Any:
    """Send `X-Request-Id` on every call of a boto3 client. Added after signing (`before-send`),
    so signatures and presigned URLs are unchanged. Returns the client."""
    boto_client.meta.events.register("before-send", _boto3_before_send)
    return boto_client
