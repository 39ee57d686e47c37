"""Payments: provider clients (Stripe, PayPal, dev), checkout, refunds and inbound webhooks."""
