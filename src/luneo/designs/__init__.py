"""Designs: hash-addressed DesignSpecs, immutable snapshots and saved designs."""
