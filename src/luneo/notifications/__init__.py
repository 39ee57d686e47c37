"""Notifications: the email outbox (`email_messages` rows, rendered templates, pluggable senders)."""
