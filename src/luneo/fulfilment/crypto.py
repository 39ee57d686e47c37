"""Secrets at rest (Printful token, webhook secret, hand-off signing secret): Fernet keyed from
`LUNEO_SECRET_KEY` under a label of this domain (the same scheme as the Shopify integration)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from luneo.platform.config import Settings

_LABEL = b"luneo.fulfilment.secrets.v1"


@lru_cache(maxsize=8)
def _fernet(secret: str) -> Fernet:
    key = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(settings: Settings, plaintext: str) -> str:
    return _fernet(settings.secret_key.get_secret_value()).encrypt(plaintext.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    """ValueError when the token was not made with this server's key or was altered."""
    try:
        return _fernet(settings.secret_key.get_secret_value()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("secret cannot be decrypted with this server's key") from None
