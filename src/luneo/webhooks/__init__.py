"""Outgoing webhooks (Standard Webhooks): endpoints, the event outbox, signed deliveries."""
