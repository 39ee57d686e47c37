"""AI credits: per-brand balance, append-only ledger, packs, operation costs and metering."""
