"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) keyed from `LUNEO_SECRET_KEY`.

The key is derived per purpose (HMAC-SHA256 of a label under the server secret), so the Shopify
tokens do not share a key with anything else signed by that secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from luneo.platform.config import Settings

_LABEL = b"luneo.integrations.shopify.secrets.v1"


@lru_cache(maxsize=8)
def _fernet(secret: str) -> Fernet:
    key = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(settings: Settings, plaintext: str) -> str:
    """The Fernet token of `plaintext` (ASCII, safe to store in a text column)."""
    return _fernet(settings.secret_key.get_secret_value()).encrypt(plaintext.encode()).decode()


def decrypt(settings: Settings, token: str, *, ttl_s: int | None = None) -> str:
    """The plaintext of a token made by `encrypt` (ValueError when it was not, was altered, or is
    older than `ttl_s` seconds)."""
    try:
        return _fernet(settings.secret_key.get_secret_value()).decrypt(token.encode(), ttl=ttl_s).decode()
    except InvalidToken:
        raise ValueError("secret cannot be decrypted with this server's key") from None
