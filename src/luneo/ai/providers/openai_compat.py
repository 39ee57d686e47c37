"""OpenAI-compatible APIs through the official `openai` SDK: OpenAI, Groq, Google Gemini's
OpenAI endpoint, local vLLM or Ollama — the same client, a different base URL, key and model.

Chat: `chat.completions.create`; structured plans use JSON mode (`response_format={"type":
"json_object"}`) with the schema in the system prompt. Images: `images.generate` with
`response_format="b64_json"` (DALL·E models; gpt-image models always answer base64 and refuse
the parameter, so it is only sent to `dall-e-*`). SDK retries are off: the job runtime retries.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

import openai

from luneo.ai.providers.base import ChatMessage, ChatResult, GeneratedImage, ProviderError
from luneo.platform.http import request_id_hooks

_SIZES = {256: "256x256", 512: "512x512", 1024: "1024x1024"}


def _error(provider: str, exc: Exception) -> ProviderError:
    """Map an SDK exception to a ProviderError without the provider's free text (it may echo keys)."""
    if isinstance(exc, openai.APIStatusError):
        code = None
        body = exc.body if isinstance(exc.body, dict) else None
        err = body.get("error", body) if body else None  # the SDK may already have unwrapped "error"
        if isinstance(err, dict):
            code = str(err.get("code") or err.get("type") or "") or None
        status = exc.status_code
        return ProviderError(
            provider,
            "request failed",
            status=status,
            code=code,
            retryable=status >= 500 or status in (408, 409, 429),
        )
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError(provider, "request timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError(provider, "connection failed", retryable=True)
    return ProviderError(provider, f"unexpected {type(exc).__name__}")


class OpenAICompatProvider:
    """Chat and image generation against any OpenAI-compatible base URL."""

    def __init__(
        self,
        name: str,
        *,
        api_key: str,
        base_url: str | None,
        chat_model: str,
        image_model: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.name = name
        self.chat_model = chat_model
        self.image_model = image_model or ""
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,
            http_client=openai.DefaultHttpxClient(event_hooks=request_id_hooks()),  # X-Request-Id
        )

    def __repr__(self) -> str:  # never show the client (it holds the key)
        return f"OpenAICompatProvider(name={self.name!r}, chat_model={self.chat_model!r})"

    @property
    def supports_images(self) -> bool:
        return bool(self.image_model)

    def _messages(self, messages: Sequence[ChatMessage], system: str | None) -> list[dict[str, str]]:
        out = [{"role": "system", "content": system}] if system else []
        return out + [{"role": m.role, "content": m.content} for m in messages]

    def _complete(self, messages: list[dict[str, str]], max_tokens: int, **extra: Any) -> ChatResult:
        try:
            resp = self._client.chat.completions.create(
                model=self.chat_model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                **extra,
            )
        except openai.OpenAIError as exc:
            raise _error(self.name, exc) from None
        if not resp.choices or resp.choices[0].message.content is None:
            raise ProviderError(self.name, "empty completion")
        usage: dict[str, int] = {}
        if resp.usage is not None:
            usage = {"input_tokens": resp.usage.prompt_tokens, "output_tokens": resp.usage.completion_tokens}
        return ChatResult(resp.choices[0].message.content, resp.model or self.chat_model, usage)

    def chat(
        self, messages: Sequence[ChatMessage], *, system: str | None = None, max_tokens: int = 1024
    ) -> ChatResult:
        return self._complete(self._messages(messages, system), max_tokens)

    def structured(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any],
        name: str,
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> dict[str, Any]:
        instructions = (
            f"{system or ''}\nAnswer with one JSON object named {name} that follows this JSON "
            f"Schema, and nothing else:\n{json.dumps(schema, separators=(',', ':'))}"
        ).strip()
        result = self._complete(
            self._messages(messages, instructions), max_tokens, response_format={"type": "json_object"}
        )
        try:
            data = json.loads(result.text)
        except json.JSONDecodeError:
            raise ProviderError(self.name, "the model did not answer JSON", code="invalid_json") from None
        if not isinstance(data, dict):
            raise ProviderError(self.name, "the model did not answer a JSON object", code="invalid_json")
        return data

    def generate_image(
        self, prompt: str, *, size: int = 1024, seed: int = 0, palette: Sequence[str] = ()
    ) -> GeneratedImage:
        del seed  # the Images API has no seed
        if not self.image_model:
            raise ProviderError(self.name, "no image model is configured", code="no_image_model")
        if palette:
            prompt = f"{prompt}\nUse mainly these colours: {', '.join(palette)}."
        extra: dict[str, Any] = {}
        if self.image_model.startswith("dall-e"):
            extra["response_format"] = "b64_json"
        try:
            resp = self._client.images.generate(
                model=self.image_model,
                prompt=prompt,
                n=1,
                size=_SIZES.get(size, "1024x1024"),  # type: ignore[arg-type]
                **extra,
            )
        except openai.OpenAIError as exc:
            raise _error(self.name, exc) from None
        if not resp.data or not resp.data[0].b64_json:
            raise ProviderError(self.name, "no image in the answer", code="no_image")
        try:
            data = base64.b64decode(resp.data[0].b64_json, validate=True)
        except (binascii.Error, ValueError):
            raise ProviderError(self.name, "the image is not valid base64", code="invalid_image") from None
        return GeneratedImage(data, "image/png", resp.data[0].revised_prompt)
