"""Declarative stream specs: the columns a raw table keeps and how each value is validated.

A record that fails a check is quarantined with its reason (`cxw_meta.rejected_rows`); unknown
fields are kept in `_extra` (schema drift); a required field missing from a file header fails
the whole batch, naming the column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


class RecordRejected(ValueError):
    """Raised by a check: the record goes to quarantine with this message as its reason."""


Parser = Callable[[Any], Any]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def as_text(value: Any) -> str | None:
    if _blank(value):
        return None
    return value if isinstance(value, str) else str(value)


def as_int(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            f = float(str(value).strip())
        except ValueError as exc:
            raise RecordRejected(f"not an integer: {value!r}") from exc
        if not f.is_integer():
            raise RecordRejected(f"not an integer: {value!r}") from None
        return int(f)


def as_number(value: Any) -> Decimal | None:
    if _blank(value):
        return None
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise RecordRejected(f"not a number: {value!r}") from exc
    if not out.is_finite():
        raise RecordRejected(f"not a finite number: {value!r}")
    return out


def as_bool(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "t", "yes", "y"}:
        return True
    if text in {"0", "false", "f", "no", "n"}:
        return False
    raise RecordRejected(f"not a boolean: {value!r}")


def as_timestamp(value: Any) -> datetime | None:
    """ISO-8601 timestamps; naive ones are taken as UTC. Impossible dates are rejected."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        ts = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            ts = datetime.fromisoformat(text)
        except ValueError as exc:
            raise RecordRejected(f"not a valid timestamp: {value!r}") from exc
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    if ts < EARLIEST:
        raise RecordRejected(f"timestamp before {EARLIEST.year}: {value!r}")
    return ts


def as_date(value: Any) -> date | None:
    if _blank(value):
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise RecordRejected(f"not a valid date: {value!r}") from exc


def as_json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError as exc:
            raise RecordRejected("not valid JSON") from exc
        return value
    return json.dumps(value, separators=(",", ":"), default=str)


PG_TYPES: dict[Parser, str] = {
    as_text: "text",
    as_int: "bigint",
    as_number: "numeric",
    as_bool: "boolean",
    as_timestamp: "timestamptz",
    as_date: "date",
    as_json: "jsonb",
}


@dataclass(frozen=True)
class Column:
    """One field of a source record, the raw column it lands in, and its checks."""

    name: str
    parse: Parser = as_text
    required: bool = False  # the value must be present (a null key is rejected)
    in_header: bool = True  # a file without this column fails the batch (when required)
    non_negative: bool = False
    choices: frozenset[str] | None = None
    source_name: str | None = None  # the field's name in the source, when it differs

    @property
    def pg_type(self) -> str:
        return PG_TYPES[self.parse]

    @property
    def field(self) -> str:
        return self.source_name or self.name

    def convert(self, raw: Any) -> Any:
        value = self.parse(raw)
        if value is None:
            if self.required:
                raise RecordRejected(f"required field {self.field!r} is missing")
            return None
        if self.non_negative and value < 0:
            raise RecordRejected(f"{self.field} is negative: {raw!r}")
        if self.choices is not None and str(value) not in self.choices:
            raise RecordRejected(f"unknown {self.field} value {raw!r}")
        return value


@dataclass(frozen=True)
class StreamSpec:
    """A source stream and the raw table it loads into."""

    source: str  # crm, shop, contact_center, survey
    stream: str  # contacts, orders, calls, ...
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # identifies a record
    version: str | None = None  # column whose value distinguishes versions of one record
    checks: tuple[Callable[[Mapping[str, Any]], None], ...] = field(default=())

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def table(self) -> str:
        return self.stream

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    def convert(self, record: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Validated values in column order, plus the unknown fields (kept in `_extra`)."""
        values = [col.convert(record.get(col.field)) for col in self.columns]
        if self.checks:
            named = {c.name: v for c, v in zip(self.columns, values, strict=True)}
            for check in self.checks:
                check(named)
        known = {c.field for c in self.columns}
        extra = {k: v for k, v in record.items() if k not in known and not k.startswith("_")}
        return values, extra

    def missing_required(self, header: list[str]) -> list[str]:
        """Required columns absent from a file header (schema drift that must fail the batch)."""
        present = set(header)
        return [
            c.field for c in self.columns if c.required and c.in_header and c.field not in present
        ]
