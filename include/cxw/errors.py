"""User-facing errors: one line that says what is wrong and what to do."""

from __future__ import annotations


class CxwError(Exception):
    """An expected failure the CLI prints as one line (no traceback) and exits non-zero."""

    exit_code = 1


class ConfigError(CxwError):
    """Bad configuration or arguments."""

    exit_code = 2


class WarehouseError(CxwError):
    """The warehouse server cannot be started, reached or migrated."""


class DataQualityError(CxwError):
    """A batch or build failed its quality gate."""
