"""One interface per AI capability, the values they exchange, and the provider error type.

Capabilities: image generation, chat/completion (with a structured "JSON plan" variant),
upscale and background removal. A provider object implements the capabilities it offers; the
registry in `luneo.ai.providers` picks one per capability from settings and the brand's choice.
Errors never carry credentials: `ProviderError` keeps the provider name, the HTTP status and the
provider's machine-readable error code, not its free-text message (OpenAI echoes key fragments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


class ProviderError(Exception):
    """A provider call failed. `retryable`: a later attempt may succeed (5xx, 429, timeouts)."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.code = code
        self.retryable = retryable

    def __str__(self) -> str:
        bits = [self.provider, self.args[0] if self.args else "error"]
        if self.status is not None:
            bits.append(f"HTTP {self.status}")
        if self.code:
            bits.append(f"code={self.code}")
        return ": ".join(bits[:2]) + (f" ({', '.join(bits[2:])})" if len(bits) > 2 else "")


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The assistant's reply, the model that produced it and token usage when reported."""

    text: str
    model: str
    usage: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes
    content_type: str = "image/png"
    revised_prompt: str | None = None
    svg: bytes | None = None  # a vector master when the generator makes one (local composer)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EditedImage:
    """Output of an image edit (upscale, background removal)."""

    data: bytes
    content_type: str = "image/png"
    details: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    name: str


@runtime_checkable
class ChatProvider(Protocol):
    name: str
    chat_model: str

    def chat(
        self, messages: Sequence[ChatMessage], *, system: str | None = None, max_tokens: int = 1024
    ) -> ChatResult: ...

    def structured(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any],
        name: str,
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> dict[str, Any]:
        """A JSON object following `schema` (JSON mode or tool use)."""


@runtime_checkable
class ImageGenerator(Protocol):
    name: str
    image_model: str

    def generate_image(
        self, prompt: str, *, size: int = 1024, seed: int = 0, palette: Sequence[str] = ()
    ) -> GeneratedImage: ...


@runtime_checkable
class Upscaler(Protocol):
    name: str
    upscale_model: str

    def upscale(self, image: bytes, factor: int, *, source_dpi: float | None = None) -> EditedImage: ...


@runtime_checkable
class BackgroundRemover(Protocol):
    name: str
    background_model: str

    def remove_background(self, image: bytes) -> EditedImage: ...
