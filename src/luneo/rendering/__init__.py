"""Rendering: preview and final renders of design specs (jobs, API, CLI) on one pipeline."""
