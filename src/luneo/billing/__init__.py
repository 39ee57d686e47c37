"""Billing: plans, subscriptions, monthly credit grants and usage limits."""
