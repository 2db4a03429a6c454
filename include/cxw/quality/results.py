"""GX validation results -> `cxw_meta.quality_results` rows, offending-row samples, summaries.

GX's SUMMARY result format gives the offending *values* of one column (useless for a null
check: `[None, None]`), so for a failed row-level expectation we fetch up to 5 whole offending
rows ourselves, with the same condition the expectation tests, from the same batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

SAMPLE_ROWS = 5
_OBSERVED_KEYS = (
    "observed_value",
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "partial_unexpected_list",
    "details",
)


@dataclass
class ResultRow:
    """One expectation result of one batch (a row of cxw_meta.quality_results)."""

    checkpoint: str
    suite: str
    data_asset: str
    batch_id: str | None
    expectation: str
    column: str | None
    success: bool
    observed: dict[str, Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    check: str | None = None
    sample_rows: list[dict[str, Any]] | None = None

    def describe(self, key_columns: Sequence[str] = ()) -> str:
        """`raw_crm.contacts expect_..._not_be_null(email) — 3 rows, e.g. {...}`."""
        head = f"{self.suite} {self.expectation}" + (f"({self.column})" if self.column else "")
        obs = self.observed
        if self.check in ("mart_exists", "mart_registered"):
            return str(obs.get("exception"))
        if "exception" in obs:
            return f"{head} — error: {obs['exception']}"
        if self.check == "reconciliation":
            return f"{head} — {self.kwargs.get('description', '')}: " + _sample_text(
                self.sample_rows, ()
            )
        if obs.get("unexpected_count") is not None:
            n = obs["unexpected_count"]
            text = f"{head} — {n} row{'' if n == 1 else 's'}"
            sample = _sample_text(self.sample_rows, [*key_columns, *self._columns()])
            return f"{text}, e.g. {sample}" if sample else text
        if self.check == "schema":
            missing = (obs.get("details") or {}).get("mismatched", {}).get("missing")
            return f"{head} — missing columns {missing}" if missing else head
        bounds = _bounds(self.kwargs)
        extra = obs.get("volume") or {}
        z = f", z={extra['z']}" if extra.get("z") is not None else ""
        hist = f" vs {extra['history']} earlier batches" if extra.get("history") else ""
        return f"{head} — observed {obs.get('observed_value')!s}, expected {bounds}{z}{hist}"

    def _columns(self) -> list[str]:
        if self.kwargs.get("column"):
            return [self.kwargs["column"]]
        return list(self.kwargs.get("column_list") or [])


def _bounds(kwargs: dict[str, Any]) -> str:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    return f"{'' if lo is None else lo}..{'' if hi is None else hi}"


def _sample_text(rows: list[dict[str, Any]] | None, columns: Sequence[str]) -> str:
    """The first sample row, cut to the columns that identify and explain it (no raw PII in
    alert text beyond the offending column itself)."""
    if not rows:
        return ""
    row = rows[0]
    keep = [c for c in dict.fromkeys([*columns, "_cxw_locator"]) if c in row] or list(row)
    return json.dumps({c: row[c] for c in keep}, default=str)


def _json_safe(value: Any) -> Any:
    """Plain JSON for jsonb: datetimes as text, NaN and infinities (invalid in jsonb) as null."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return clean(json.loads(json.dumps(value, default=str)))


def collect(
    checkpoint_result: Any, checkpoint: str, batch_ids: dict[str, str | None]
) -> list[ResultRow]:
    """One ResultRow per expectation result of the suites named in `batch_ids`."""
    rows: list[ResultRow] = []
    for vr in checkpoint_result.run_results.values():
        suite = vr.suite_name
        if suite not in batch_ids:
            continue
        for er in vr.results:
            cfg = er.expectation_config
            kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
            if cfg.description:
                kwargs["description"] = cfg.description
            column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or None
            observed = {k: er.result[k] for k in _OBSERVED_KEYS if k in (er.result or {})}
            info = er.exception_info or {}
            if info.get("raised_exception"):
                message = str(info.get("exception_message") or "").strip().splitlines()
                observed["exception"] = message[0] if message else "expectation raised"
            rows.append(
                ResultRow(
                    checkpoint=checkpoint,
                    suite=suite,
                    data_asset=suite,
                    batch_id=batch_ids[suite],
                    expectation=cfg.type,
                    column=column,
                    success=bool(er.success),
                    observed=_json_safe(observed),
                    kwargs=_json_safe(kwargs),
                    check=(cfg.meta or {}).get("check"),
                )
            )
    return rows


# ---- offending rows -------------------------------------------------------------------------
def _condition(expectation: str, kwargs: dict[str, Any], relation: sql.Composable):
    """SQL (and params) selecting the rows a failed row-level expectation objects to."""
    col = sql.Identifier(kwargs["column"]) if kwargs.get("column") else None
    if expectation == "expect_column_values_to_not_be_null":
        return sql.SQL("{} is null").format(col), {}
    if expectation == "expect_column_values_to_be_in_set":
        cond = sql.SQL("{c} is not null and {c}::text <> all(%(values)s::text[])").format(c=col)
        return cond, {"values": [str(v) for v in kwargs.get("value_set") or []]}
    if expectation == "expect_column_values_to_be_between":
        parts, params = [], {}
        if kwargs.get("min_value") is not None:
            op = "<=" if kwargs.get("strict_min") else "<"
            parts.append(sql.SQL("{} " + op + " %(lo)s").format(col))
            params["lo"] = kwargs["min_value"]
        if kwargs.get("max_value") is not None:
            op = ">=" if kwargs.get("strict_max") else ">"
            parts.append(sql.SQL("{} " + op + " %(hi)s").format(col))
            params["hi"] = kwargs["max_value"]
        return sql.SQL("(") + sql.SQL(" or ").join(parts) + sql.SQL(")"), params
    if expectation in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        cols = [kwargs["column"]] if col is not None else list(kwargs["column_list"])
        idents = sql.SQL(", ").join(map(sql.Identifier, cols))
        cond = sql.SQL(
            "({c}) in (select {c} from {r} as d group by {c} having count(*) > 1)"
        ).format(c=idents, r=relation)
        return cond, {}
    return None


def sample_rows(
    conn: psycopg.Connection,
    relation: sql.Composable,
    row: ResultRow,
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]] | None:
    """Up to 5 offending rows of a failed expectation over `relation` (None: not row-level)."""
    if row.success or "exception" in row.observed:
        return None
    params = dict(params or {})
    if row.expectation == "unexpected_rows_expectation":
        # the query is trusted committed SQL; escape its braces, then put the batch in
        parts = [
            p.replace("{", "{{").replace("}", "}}")
            for p in row.kwargs["unexpected_rows_query"].split("{batch}")
        ]
        batch = "(select * from {} as src) as batch"
        query = sql.SQL(batch.join(parts)).format(*[relation] * (len(parts) - 1))
        stmt = sql.SQL("select to_jsonb(u) from ({}) as u limit {}").format(
            query, sql.Literal(SAMPLE_ROWS)
        )
    else:
        found = _condition(row.expectation, row.kwargs, relation)
        if found is None:
            return None
        cond, extra = found
        params.update(extra)
        stmt = sql.SQL("select to_jsonb(t) - '_extra' from {r} as t where {c} limit {n}").format(
            r=relation, c=cond, n=sql.Literal(SAMPLE_ROWS)
        )
    try:
        with conn.transaction():
            return [r[0] for r in conn.execute(stmt, params or None)]
    except psycopg.Error as exc:  # a sample is a courtesy: never fail the gate over it
        return [{"sample_error": str(exc).splitlines()[0]}]


def record(conn: psycopg.Connection, run_id: str, checkpoint: str, rows: Iterable[ResultRow]):
    """Replace this run's results of this checkpoint (a retried task records once)."""
    with conn.transaction():
        conn.execute(
            "delete from cxw_meta.quality_results where run_id = %s and checkpoint = %s",
            (run_id, checkpoint),
        )
        with conn.cursor() as cur:
            cur.executemany(
                """insert into cxw_meta.quality_results (run_id, checkpoint, suite, data_asset,
                       batch_id, expectation, column_name, success, observed, sample_rows)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (
                        run_id,
                        r.checkpoint,
                        r.suite,
                        r.data_asset,
                        r.batch_id,
                        r.expectation,
                        r.column,
                        r.success,
                        json.dumps(r.observed, default=str),
                        None if r.sample_rows is None else json.dumps(r.sample_rows, default=str),
                    )
                    for r in rows
                ],
            )


def summary_line(prefix: str, failures: Sequence[str], limit: int = 5) -> str:
    shown = "; ".join(failures[:limit])
    more = f" (and {len(failures) - limit} more)" if len(failures) > limit else ""
    return f"{prefix}: {shown}{more}"
