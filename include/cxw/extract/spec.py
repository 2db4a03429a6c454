"""Declarative stream specs: the columns a raw table keeps and how each value is validated.

Extractors hand the loader values as received (strings, numbers, nested JSON); the loader COPYs
them into a temporary table and validates and casts them in SQL, set-based: a record that fails
a check is quarantined in `cxw_meta.rejected_rows` with the first failed check as its reason.
Unknown fields are kept in `_extra` (schema drift); a required field missing from a file header
fails the whole batch, naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TYPES = {"text", "bigint", "numeric", "boolean", "timestamptz", "date", "jsonb"}
EARLIEST = "1990-01-01"


@dataclass(frozen=True)
class Column:
    """One field of a source record, the raw column it lands in, and its checks."""

    name: str
    type: str = "text"
    required: bool = False  # the value must be present (a null key is rejected)
    in_header: bool = True  # a file without this column fails the batch (when required)
    non_negative: bool = False
    choices: frozenset[str] | None = None
    source_name: str | None = None  # the field's name in the source, when it differs

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")

    @property
    def field(self) -> str:
        return self.source_name or self.name

    def typed_expr(self, ref: str, careful: bool) -> str:
        """SQL for the typed value of the received text `ref` (NULL when absent).

        The fast path casts directly (an invalid value raises, and the loader retries
        carefully); the careful path yields NULL for a value that does not cast.
        """
        pg_type = "numeric" if self.type == "bigint" else self.type
        if pg_type == "text":
            return ref
        cast = f"{ref}::{pg_type}"
        if not careful:
            return cast
        return f"case when pg_input_is_valid({ref}, '{pg_type}') then {cast} end"

    def checks(self, text: str, typed: str) -> list[tuple[str, str]]:
        """(SQL condition that holds for a valid value, reason when it does not), in order,
        over the received text and its typed value."""
        label = self.field.replace("'", "''")
        out: list[tuple[str, str]] = []
        if self.required:
            out.append((f"{text} is not null", f"required field {label} is missing"))
        kind = {
            "bigint": "an integer",
            "numeric": "a number",
            "boolean": "a boolean",
            "timestamptz": "a valid timestamp",
            "date": "a valid date",
            "jsonb": "JSON",
        }.get(self.type)
        if kind:
            out.append((f"{text} is null or {typed} is not null", f"{label} is not {kind}"))
        if self.type == "bigint":
            out.append(
                (
                    f"{typed} is null or ({typed} = trunc({typed}) and abs({typed}) < 9e18)",
                    f"{label} is not an integer",
                )
            )
        if self.type in ("bigint", "numeric"):
            out.append(
                (
                    f"{typed} is null or {typed} not in ('NaN', 'Infinity', '-Infinity')",
                    f"{label} is not a number",
                )
            )
        if self.type in ("timestamptz", "date"):
            out.append((f"{typed} is null or {typed} >= '{EARLIEST}'", f"{label} is not {kind}"))
        if self.non_negative:
            out.append((f"{typed} is null or {typed} >= 0", f"{label} is negative"))
        if self.choices is not None:
            values = ", ".join("'" + c.replace("'", "''") + "'" for c in sorted(self.choices))
            out.append((f"{typed} is null or {typed} in ({values})", f"unknown {label} value"))
        return out

    def loaded_checks(self, ref: str) -> list[str]:
        """The same checks as `checks`, as SQL conditions over a value already stored in its
        column type (the fast path COPYs typed values; a value that does not cast never gets
        there). For text, also that the careful path would store the value unchanged."""
        out = [f"{ref} is not null"] if self.required else []
        rules = []
        if self.type == "bigint":  # `checks` allows |n| < 9e18
            rules.append(f"{ref} between -8999999999999999999 and 8999999999999999999")
        if self.type == "numeric":  # NaN sorts above Infinity
            rules.append(f"{ref} > '-Infinity' and {ref} < 'Infinity'")
        if self.type in ("timestamptz", "date"):
            rules.append(f"{ref} >= '{EARLIEST}'")
        if self.non_negative:
            rules.append(f"{ref} >= 0")
        if self.choices is not None:
            values = ", ".join("'" + c.replace("'", "''") + "'" for c in sorted(self.choices))
            rules.append(f"{ref} in ({values})")
        trimmed = self.choices is not None and all(c and c == c.strip(" ") for c in self.choices)
        if self.type == "text" and not trimmed:  # a listed value is already non-empty, trimmed
            # = btrim(): no leading or trailing space; LIKE tests it without building a string
            rules.append(f"{ref} <> '' and {ref} not like ' %' and {ref} not like '% '")
        if not rules:
            return out
        return [*out, f"{ref} is null or ({' and '.join(rules)})"]

    def final(self, typed: str) -> str:
        return f"{typed}::bigint" if self.type == "bigint" else typed


@dataclass(frozen=True)
class StreamSpec:
    """A source stream and the raw table it loads into."""

    source: str  # crm, shop, contact_center, survey
    stream: str  # contacts, orders, calls, ...
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # identifies a record
    version: str | None = None  # column whose value distinguishes versions of one record
    # extra record-level checks: (SQL condition over the typed values, `"<name>__v"`, reason)
    checks: tuple[tuple[str, str], ...] = field(default=())
    # fields that identify a person: (source field, kind) with kind "email" or "phone"; used
    # by the erasure suppression list
    identifiers: tuple[tuple[str, str], ...] = field(default=())
    # the field whose value is the version timestamp in the source (incremental cursor)
    cursor: str | None = None

    def column(self, name: str) -> Column:
        """The column named `name` (KeyError when the spec has none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.source}.{self.stream} has no column {name!r}")

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def table(self) -> str:
        return self.stream

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)

    def missing_required(self, header: list[str]) -> list[str]:
        """Required columns absent from a file header (schema drift that must fail the batch)."""
        present = set(header)
        return [
            c.field for c in self.columns if c.required and c.in_header and c.field not in present
        ]
