"""Signing secrets and signatures: `whsec_` secrets encrypted at rest, Standard Webhooks headers.

Secrets are `whsec_` + base64 of 32 random bytes (the spec allows 24–64). At rest they are Fernet
tokens keyed from `LUNEO_SECRET_KEY` under a label of their own. Signing uses the
`standardwebhooks` library: `webhook-signature` is `v1,<base64>`, and during a rotation overlap
it carries both signatures, space-separated, as the specification allows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from standardwebhooks import Webhook

from luneo.platform.config import Settings

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
_LABEL = b"luneo.webhooks.signing-secrets.v1"


def new_secret(nbytes: int = SECRET_BYTES) -> str:
    """A new signing secret: `whsec_` + base64 of `nbytes` (24–64) random bytes."""
    if not 24 <= nbytes <= 64:
        raise ValueError("a webhook secret has 24 to 64 random bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode()


@lru_cache(maxsize=8)
def _fernet(server_secret: str) -> Fernet:
    key = hmac.new(server_secret.encode(), _LABEL, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(settings: Settings, secret: str) -> str:
    """The secret as stored (a Fernet token)."""
    return _fernet(settings.secret_key.get_secret_value()).encrypt(secret.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    """The secret behind a stored token (ValueError if this server's key cannot read it)."""
    try:
        return _fernet(settings.secret_key.get_secret_value()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("webhook secret cannot be decrypted with this server's key") from None


def signature_header(secrets_: list[str], msg_id: str, timestamp: datetime, body: str) -> str:
    """`webhook-signature`: one `v1,<base64>` per secret (current first), space-separated."""
    return " ".join(Webhook(s).sign(msg_id, timestamp, body) for s in secrets_)


def signed_headers(secrets_: list[str], msg_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one message."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets_, msg_id, timestamp, body),
    }
