"""Tenancy error codes (accounts, brands, members, invitations, keys, sessions) and their HTTP
statuses, read only by the API edge. Shared codes (`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class TenancyErrorCode(StrEnum):
    INVALID_SLUG = "invalid_slug"
    SLUG_TAKEN = "slug_taken"
    INVALID_EMAIL = "invalid_email"
    EMAIL_TAKEN = "email_taken"
    OWNER_REQUIRED = "owner_required"
    LAST_OWNER = "last_owner"
    ALREADY_MEMBER = "already_member"
    INVITATION_NOT_FOUND = "invitation_not_found"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_EMAIL_MISMATCH = "invitation_email_mismatch"
    BRAND_SUSPENDED = "brand_suspended"
    LOGIN_REQUIRED = "login_required"
    PASSWORD_REQUIRED = "password_required"
    INVALID_KEY_KIND = "invalid_key_kind"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_REFRESH_TOKEN = "invalid_refresh_token"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    IDP_LINK_REFUSED = "idp_link_refused"
    INVALID_ORIGIN = "invalid_origin"
    INVALID_BRAND_SETTINGS = "invalid_brand_settings"
    INVALID_ROLE = "invalid_role"
    WEAK_PASSWORD = "weak_password"
    INVALID_TOKEN = "invalid_token"
    TOKEN_EXPIRED = "token_expired"


HTTP_STATUS: dict[TenancyErrorCode, int] = {
    TenancyErrorCode.INVALID_SLUG: 422,
    TenancyErrorCode.SLUG_TAKEN: 409,
    TenancyErrorCode.INVALID_EMAIL: 422,
    TenancyErrorCode.EMAIL_TAKEN: 409,
    TenancyErrorCode.OWNER_REQUIRED: 403,
    TenancyErrorCode.LAST_OWNER: 409,
    TenancyErrorCode.ALREADY_MEMBER: 409,
    TenancyErrorCode.INVITATION_NOT_FOUND: 404,
    TenancyErrorCode.INVITATION_EXPIRED: 410,
    TenancyErrorCode.INVITATION_EMAIL_MISMATCH: 403,
    TenancyErrorCode.BRAND_SUSPENDED: 403,
    TenancyErrorCode.LOGIN_REQUIRED: 401,
    TenancyErrorCode.PASSWORD_REQUIRED: 422,
    TenancyErrorCode.INVALID_KEY_KIND: 422,
    TenancyErrorCode.INVALID_CREDENTIALS: 401,
    TenancyErrorCode.INVALID_REFRESH_TOKEN: 401,
    TenancyErrorCode.REFRESH_TOKEN_REUSED: 401,
    TenancyErrorCode.IDP_LINK_REFUSED: 401,
    TenancyErrorCode.INVALID_ORIGIN: 422,
    TenancyErrorCode.INVALID_BRAND_SETTINGS: 422,
    TenancyErrorCode.INVALID_ROLE: 422,
    TenancyErrorCode.WEAK_PASSWORD: 422,
    TenancyErrorCode.INVALID_TOKEN: 404,
    TenancyErrorCode.TOKEN_EXPIRED: 410,
}

HTTP_HEADERS = {TenancyErrorCode.LOGIN_REQUIRED: {"WWW-Authenticate": 'Bearer realm="luneo"'}}

register_http_statuses(TenancyErrorCode, HTTP_STATUS, HTTP_HEADERS)
