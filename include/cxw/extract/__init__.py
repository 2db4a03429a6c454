"""Extractors: read source systems as streams of (locator, record) pairs."""
