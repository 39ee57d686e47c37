"""Catalog: products, personalization zones, brand fonts and uploaded assets."""
