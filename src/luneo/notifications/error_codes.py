"""Notifications error codes (email templates and addresses) and their HTTP statuses, read only
by the API edge. Shared codes (`not_found`, …) are `CommonErrorCode`."""

from __future__ import annotations

from enum import StrEnum

from luneo.platform.domain_errors import register_http_statuses


class NotificationsErrorCode(StrEnum):
    UNKNOWN_EMAIL_TEMPLATE = "unknown_email_template"
    EMAIL_TEMPLATE_WITHOUT_SUBJECT = "email_template_without_subject"
    INVALID_EMAIL = "invalid_email"


HTTP_STATUS: dict[NotificationsErrorCode, int] = {
    NotificationsErrorCode.UNKNOWN_EMAIL_TEMPLATE: 422,
    NotificationsErrorCode.EMAIL_TEMPLATE_WITHOUT_SUBJECT: 422,
    NotificationsErrorCode.INVALID_EMAIL: 422,
}

register_http_statuses(NotificationsErrorCode, HTTP_STATUS)
