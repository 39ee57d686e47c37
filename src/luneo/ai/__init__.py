"""AI design tools: local offline algorithms and remote providers, metered by credits."""
