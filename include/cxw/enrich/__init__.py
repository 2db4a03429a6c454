"""Enrichment steps that add derived data (e.g. text insights) to warehouse records."""
