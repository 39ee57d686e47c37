"""Anthropic through its official SDK: `messages.create` for chat, tool use for structured plans.

A structured plan forces one tool (`tool_choice={"type": "tool", "name": …}`) whose
`input_schema` is the plan's JSON Schema; the tool call's `input` is the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anthropic

from luneo.ai.providers.base import ChatMessage, ChatResult, ProviderError
from luneo.platform.http import request_id_hooks


def _error(exc: Exception) -> ProviderError:
    if isinstance(exc, anthropic.APIStatusError):
        code = None
        body = exc.body if isinstance(exc.body, dict) else None
        err = body.get("error", body) if body else None  # the SDK may already have unwrapped "error"
        if isinstance(err, dict):
            code = str(err.get("type") or "") or None
        status = exc.status_code
        return ProviderError(
            "anthropic",
            "request failed",
            status=status,
            code=code,
            retryable=status >= 500 or status in (408, 409, 429, 529),
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError("anthropic", "request timed out", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderError("anthropic", "connection failed", retryable=True)
    return ProviderError("anthropic", f"unexpected {type(exc).__name__}")


class AnthropicProvider:
    """Chat and structured plans with Claude models."""

    name = "anthropic"

    def __init__(self, *, api_key: str, base_url: str | None, model: str, timeout_s: float = 60.0) -> None:
        self.chat_model = model
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,
            http_client=anthropic.DefaultHttpxClient(event_hooks=request_id_hooks()),  # X-Request-Id
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.chat_model!r})"

    def _create(
        self, messages: Sequence[ChatMessage], system: str | None, max_tokens: int, **extra: Any
    ) -> Any:
        kwargs: dict[str, Any] = {
            "model": self.chat_model,
            "max_tokens": max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in messages if m.role != "system"],
            **extra,
        }
        sys_parts = [system] if system else []
        sys_parts += [m.content for m in messages if m.role == "system"]
        if sys_parts:
            kwargs["system"] = "\n\n".join(sys_parts)
        try:
            return self._client.messages.create(**kwargs)
        except anthropic.AnthropicError as exc:
            raise _error(exc) from None

    @staticmethod
    def _usage(msg: Any) -> dict[str, int]:
        u = getattr(msg, "usage", None)
        return {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens} if u is not None else {}

    def chat(
        self, messages: Sequence[ChatMessage], *, system: str | None = None, max_tokens: int = 1024
    ) -> ChatResult:
        msg = self._create(messages, system, max_tokens)
        text = "".join(getattr(b, "text", "") for b in msg.content if getattr(b, "type", "") == "text")
        if not text:
            raise ProviderError("anthropic", "empty answer")
        return ChatResult(text, msg.model or self.chat_model, self._usage(msg))

    def structured(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any],
        name: str,
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> dict[str, Any]:
        tool = {"name": name, "description": f"Record the {name.replace('_', ' ')}.", "input_schema": schema}
        msg = self._create(
            messages, system, max_tokens, tools=[tool], tool_choice={"type": "tool", "name": name}
        )
        for block in msg.content:
            if getattr(block, "type", "") == "tool_use" and getattr(block, "name", "") == name:
                data = block.input
                if isinstance(data, dict):
                    return data
        raise ProviderError("anthropic", "the model did not call the tool", code="no_tool_use")
