"""Credentials: argon2 password hashes, access JWTs, API keys and opaque tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from luneo.platform.clock import utcnow
from luneo.platform.config import Settings

_hashers: dict[tuple[int, int], PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (default: OWASP's 19 MiB, t=2, p=1)."""
    from luneo.platform.config import get_settings

    s = get_settings()
    key = (s.argon2_time_cost, s.argon2_memory_kib)
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=1)
    return _hashers[key]


ACCESS_AUDIENCE = "luneo-api"
ACCESS_ISSUER = "luneo"


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()


def new_api_key(kind: str) -> str:
    """A new key: `pk_live_…` or `sk_live_…` with 192 bits of randomness."""
    prefix = "pk" if kind == "publishable" else "sk"
    return f"{prefix}_live_{secrets.token_urlsafe(24)}"


def new_opaque_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def create_access_token(settings: Settings, *, user_id: str, brand_id: str | None, session_id: str) -> str:
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": user_id,
        "brand": brand_id,
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.access_token_ttl_s)).timestamp()),
        "iss": ACCESS_ISSUER,
        "aud": ACCESS_AUDIENCE,
        "typ": "access",
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


CLOCK_SKEW_S = 60


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """Claims of a valid access token; raises `jwt.PyJWTError` otherwise.

    Beyond the signature, audience, issuer and expiry: `typ` must be `access` (no other token
    signed with the secret passes as one), `sid` must name a session (checked for revocation by
    `luneo.platform.auth`), and `exp` may lie at most one access-token lifetime (+ clock skew)
    ahead, so a token minted with a far expiry is refused.
    """
    claims: dict[str, Any] = jwt.decode(
        token,
        settings.secret_key.get_secret_value(),
        algorithms=["HS256"],
        audience=ACCESS_AUDIENCE,
        issuer=ACCESS_ISSUER,
        options={"require": ["exp", "sub", "iat"]},
    )
    if claims.get("typ") != "access":
        raise jwt.InvalidTokenError("not an access token")
    if not isinstance(claims.get("sid"), str) or not claims["sid"]:
        raise jwt.InvalidTokenError("no session id")
    now = utcnow().timestamp()
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(iat, int | float) or iat > now + CLOCK_SKEW_S:
        raise jwt.InvalidTokenError("issued in the future")
    if exp - now > settings.access_token_ttl_s + CLOCK_SKEW_S or exp - iat > settings.access_token_ttl_s + 1:
        raise jwt.InvalidTokenError("expiry too far")
    return claims


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def decode_idp_token(settings: Settings, token: str) -> dict[str, Any]:
    """Verify an external identity-provider token (Supabase: HS256 secret, or RS/ES via JWKS)."""
    header = jwt.get_unverified_header(token)
    alg = header.get("alg", "")
    options = {"require": ["exp", "sub"], "verify_aud": settings.idp_audience is not None}
    kwargs: dict[str, Any] = {"audience": settings.idp_audience, "options": options}
    if settings.idp_issuer:
        kwargs["issuer"] = settings.idp_issuer
    if alg == "HS256" and settings.idp_jwt_secret is not None:
        return jwt.decode(token, settings.idp_jwt_secret.get_secret_value(), algorithms=["HS256"], **kwargs)
    if alg in {"RS256", "ES256", "EdDSA", "PS256"} and settings.idp_jwks_url:
        client = _jwks_clients.get(settings.idp_jwks_url)
        if client is None:
            client = _jwks_clients[settings.idp_jwks_url] = jwt.PyJWKClient(
                settings.idp_jwks_url, cache_keys=True
            )
        key = client.get_signing_key_from_jwt(token)
        return jwt.decode(token, key.key, algorithms=[alg], **kwargs)
    raise jwt.InvalidTokenError("token algorithm not accepted")


def sign(secret: str, message: str) -> str:
    """Hex HMAC-SHA256."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
