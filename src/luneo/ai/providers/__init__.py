"""AI providers behind one interface per capability, chosen per configuration and per brand.

Selection (first match wins), per capability:

- chat / text-to-design: the brand's `settings["ai_provider"]` (a name, or a dict keyed by
  capability: `{"chat": "anthropic", "image": "local", "upscale": "cloudinary", ...}`) when that
  provider is configured; else `LUNEO_AI_PROVIDER` (default `auto`); `auto` tries openai
  (`LUNEO_OPENAI_API_KEY`), anthropic (`LUNEO_ANTHROPIC_API_KEY`), groq (`LUNEO_GROQ_API_KEY`),
  google (`LUNEO_GOOGLE_API_KEY`), ollama (`LUNEO_AI_OLLAMA_BASE_URL`: Ollama or vLLM). None
  configured ⇒ no chat provider (chat answers 503; text-to-design uses the local planner).
- image generation: brand choice, else `LUNEO_AI_IMAGE_PROVIDER` (`auto`: openai when its key is
  set, else local — the clipart composer).
- upscale and background removal: brand choice, else `LUNEO_AI_EDIT_PROVIDER` (`auto`: cloudinary
  when `LUNEO_CLOUDINARY_URL` is set, else local).

Keys are read from the SecretStr settings only when a client is built; no key is logged or
returned, and provider errors carry no provider free text.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from luneo.ai.providers.base import (
    BackgroundRemover,
    ChatMessage,
    ChatProvider,
    ChatResult,
    EditedImage,
    GeneratedImage,
    ImageGenerator,
    ProviderError,
    Upscaler,
)
from luneo.ai.providers.local import LocalProvider
from luneo.platform.config import Settings, get_settings

Capability = Literal["chat", "image", "upscale", "background_removal"]
CHAT_PROVIDERS = ("openai", "anthropic", "groq", "google", "ollama")
IMAGE_PROVIDERS = ("openai", "local")
EDIT_PROVIDERS = ("cloudinary", "local")


class AISettings(BaseSettings):
    """AI provider choice and models (`LUNEO_AI_*`); keys live in the main Settings."""

    model_config = SettingsConfigDict(env_prefix="LUNEO_AI_", env_file=".env", extra="ignore")

    provider: str = "auto"
    image_provider: str = "auto"
    edit_provider: str = "auto"
    openai_chat_model: str = "gpt-4o-mini"
    openai_image_model: str = "dall-e-3"
    anthropic_model: str = "claude-sonnet-4-5"
    groq_base_url: str = "https://api.groq.com/openai/v1"
    groq_model: str = "llama-3.3-70b-versatile"
    google_base_url: str = "https://generativelanguage.googleapis.com/v1beta/openai/"
    google_model: str = "gemini-2.0-flash"
    ollama_base_url: str | None = None
    ollama_model: str = "llama3.1"
    cloudinary_api_base: str = "https://api.cloudinary.com"
    timeout_s: float = 60.0
    max_tokens: int = 1024


_lock = threading.Lock()
_state: dict[str, Any] = {}


def _current() -> tuple[Settings, AISettings, dict[str, Any]]:
    """Settings, AI settings and the provider cache, rebuilt when the Settings object changes."""
    settings = get_settings()
    with _lock:
        if _state.get("settings") is not settings:
            _state.clear()
            _state.update(settings=settings, ai=AISettings(), providers={})
        return _state["settings"], _state["ai"], _state["providers"]


def reset_providers() -> None:
    """Forget cached settings and clients (tests change the environment)."""
    with _lock:
        _state.clear()


def ai_settings() -> AISettings:
    return _current()[1]


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def configured(name: str) -> bool:
    """Whether provider `name` has what it needs (never says what)."""
    s, ai, _ = _current()
    return {
        "openai": s.openai_api_key is not None,
        "anthropic": s.anthropic_api_key is not None,
        "groq": s.groq_api_key is not None,
        "google": s.google_api_key is not None,
        "ollama": bool(ai.ollama_base_url),
        "cloudinary": s.cloudinary_url is not None,
        "local": True,
    }.get(name, False)


def _build(name: str) -> Any:
    s, ai, cache = _current()
    with _lock:
        if name in cache:
            return cache[name]
    provider: Any
    if name == "local":
        provider = LocalProvider()
    elif name == "anthropic":
        from luneo.ai.providers.anthropic import AnthropicProvider

        provider = AnthropicProvider(
            api_key=_secret(s.anthropic_api_key) or "",
            base_url=s.anthropic_base_url,
            model=ai.anthropic_model,
            timeout_s=ai.timeout_s,
        )
    elif name == "cloudinary":
        from luneo.ai.providers.cloudinary import CloudinaryProvider, parse_cloudinary_url

        provider = CloudinaryProvider(
            parse_cloudinary_url(_secret(s.cloudinary_url) or ""),
            api_base=ai.cloudinary_api_base,
            timeout_s=ai.timeout_s,
        )
    else:
        from luneo.ai.providers.openai_compat import OpenAICompatProvider

        conf: dict[str, tuple[str | None, str | None, str, str | None]] = {
            "openai": (
                _secret(s.openai_api_key),
                s.openai_base_url,
                ai.openai_chat_model,
                ai.openai_image_model,
            ),
            "groq": (_secret(s.groq_api_key), ai.groq_base_url, ai.groq_model, None),
            "google": (_secret(s.google_api_key), ai.google_base_url, ai.google_model, None),
            # Ollama and vLLM ignore the key, the SDK requires one.
            "ollama": ("ollama", ai.ollama_base_url, ai.ollama_model, None),
        }
        key, base_url, chat_model, image_model = conf[name]
        provider = OpenAICompatProvider(
            name,
            api_key=key or "",
            base_url=base_url,
            chat_model=chat_model,
            image_model=image_model,
            timeout_s=ai.timeout_s,
        )
    with _lock:
        cache.setdefault(name, provider)
        return cache[name]


def _brand_choice(brand_settings: dict[str, Any] | None, capability: Capability) -> str | None:
    choice = (brand_settings or {}).get("ai_provider")
    if isinstance(choice, dict):
        choice = choice.get(capability)
    return choice.strip().lower() if isinstance(choice, str) and choice.strip() else None


def _pick(
    capability: Capability,
    brand_settings: dict[str, Any] | None,
    allowed: tuple[str, ...],
    default: str,
    auto: tuple[str, ...],
) -> str | None:
    brand = _brand_choice(brand_settings, capability)
    if brand in allowed and configured(brand):
        return brand
    default = (default or "auto").strip().lower()
    if default != "auto":
        return default if default in allowed and configured(default) else None
    return next((n for n in auto if configured(n)), None)


def chat_provider(brand_settings: dict[str, Any] | None = None) -> ChatProvider | None:
    """The chat/completion provider for a brand, or None when none is configured."""
    ai = ai_settings()
    name = _pick("chat", brand_settings, CHAT_PROVIDERS, ai.provider, CHAT_PROVIDERS)
    return _build(name) if name else None


def image_generator(brand_settings: dict[str, Any] | None = None) -> ImageGenerator:
    ai = ai_settings()
    name = _pick("image", brand_settings, IMAGE_PROVIDERS, ai.image_provider, ("openai", "local"))
    return _build(name or "local")  # type: ignore[no-any-return]


def upscaler(brand_settings: dict[str, Any] | None = None) -> Upscaler:
    ai = ai_settings()
    name = _pick("upscale", brand_settings, EDIT_PROVIDERS, ai.edit_provider, ("cloudinary", "local"))
    return _build(name or "local")  # type: ignore[no-any-return]


def background_remover(brand_settings: dict[str, Any] | None = None) -> BackgroundRemover:
    ai = ai_settings()
    name = _pick(
        "background_removal", brand_settings, EDIT_PROVIDERS, ai.edit_provider, ("cloudinary", "local")
    )
    return _build(name or "local")  # type: ignore[no-any-return]


__all__ = [
    "AISettings",
    "BackgroundRemover",
    "ChatMessage",
    "ChatProvider",
    "ChatResult",
    "EditedImage",
    "GeneratedImage",
    "ImageGenerator",
    "LocalProvider",
    "ProviderError",
    "Upscaler",
    "ai_settings",
    "background_remover",
    "chat_provider",
    "configured",
    "image_generator",
    "reset_providers",
    "upscaler",
]
