"""The mart quality registry: `expectations/marts.yml`, one entry per mart table.

Adding a mart to the gate = adding an entry (then `python -m cxw.quality.suites` regenerates
its GX suite and the `analytics_candidate` checkpoint). Every table in `analytics_candidate`
must have an entry: the gate fails on unregistered tables, so nothing reaches BI unaudited.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cxw.errors import ConfigError

REGISTRY_FILE = "marts.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Freshness(_Strict):
    """The newest value of `column` is at most `max_age_days` older than the data's "now"
    (the end of the latest committed raw batch)."""

    column: str
    max_age_days: float = Field(default=2.0, gt=0)


class Reconciliation(_Strict):
    """A mart total that must match the same total computed from raw data.

    `mart_value` is an aggregate over the mart (`sum(order_total)`); `raw_sql` is a query
    returning one row with one value. They must agree within `tolerance`, relative to the raw
    value (absolute when the raw value is below 1).
    """

    name: str
    mart_value: str
    raw_sql: str
    tolerance: float = Field(default=0.0, ge=0)


class Volume(_Strict):
    """Row-count anomaly check against previous publishes (cxw_meta.publish_log.row_counts)."""

    history: int = Field(default=14, ge=2)
    min_history: int = Field(default=5, ge=2)
    max_z: float = Field(default=4.0, gt=0)


class Mart(_Strict):
    """Checks for one mart. Column lists may be empty; `key` may not."""

    description: str = ""
    key: tuple[str, ...] = Field(min_length=1)
    not_null: tuple[str, ...] = ()
    ranges: dict[str, tuple[float | None, float | None]] = {}
    rates: tuple[str, ...] = ()  # shares and probabilities: in [0, 1]
    non_negative: tuple[str, ...] = ()  # money, durations, counts
    accepted_values: dict[str, tuple[str, ...]] = {}
    freshness: Freshness | None = None
    reconcile: tuple[Reconciliation, ...] = ()
    min_rows: int | None = Field(default=None, ge=0)

    @field_validator("ranges")
    @classmethod
    def _range_has_a_bound(cls, value: dict) -> dict:
        for column, (lo, hi) in value.items():
            if lo is None and hi is None:
                raise ValueError(f"range for {column!r} needs a lower or an upper bound")
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"range for {column!r}: {lo} > {hi}")
        return value

    def columns(self) -> list[str]:
        """Every column an expectation refers to, in a stable order."""
        names = [
            *self.key,
            *self.not_null,
            *self.ranges,
            *self.rates,
            *self.non_negative,
            *self.accepted_values,
            *([self.freshness.column] if self.freshness else []),
        ]
        return list(dict.fromkeys(names))


class Registry(_Strict):
    schema_name: str = Field(default="analytics_candidate", alias="schema")
    min_rows: int = Field(default=1, ge=0)
    volume: Volume = Volume()
    marts: dict[str, Mart] = {}

    def min_rows_for(self, mart: str) -> int:
        entry = self.marts[mart]
        return self.min_rows if entry.min_rows is None else entry.min_rows

    def asset(self, mart: str) -> str:
        return f"{self.schema_name}.{mart}"


def load_registry(path: Path) -> Registry:
    """Read and validate the registry; a mistake is reported as one line naming the field."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"the mart quality registry {path} is missing") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    try:
        return Registry.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
