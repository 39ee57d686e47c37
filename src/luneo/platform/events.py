"""Domain events: a tiny in-process publisher.

`publish(session, "order.paid", {...})` calls every subscriber inside the publisher's
transaction (so reactions commit or roll back with the cause). Subscribers that do slow
work enqueue a job from their handler. Domains never import each other's internals to
react: they subscribe to an event name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, dict[str, Any]], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str) -> Callable[[Handler], Handler]:
    """Decorator: run `fn(session, payload)` whenever `event` is published."""

    def register(fn: Handler) -> Handler:
        if fn not in _handlers[event]:
            _handlers[event].append(fn)
        return fn

    return register


def publish(session: Session, event: str, payload: dict[str, Any]) -> int:
    """Run the event's handlers in this session's transaction; returns how many ran."""
    handlers = list(_handlers.get(event, ()))
    for handler in handlers:
        handler(session, payload)
    return len(handlers)


def handlers_for(event: str) -> list[Handler]:
    return list(_handlers.get(event, ()))
