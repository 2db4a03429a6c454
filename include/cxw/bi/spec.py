"""Load and validate the dashboards-as-code spec (include/dashboards/cx_dashboards.yml).

One spec feeds Metabase, Superset and the HTML report, so it is checked once, here: every
problem is a one-line `SpecError` that names the dashboard and chart it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cxw.config import PROJECT_ROOT
from cxw.errors import ConfigError

DEFAULT_SPEC = PROJECT_ROOT / "include" / "dashboards" / "cx_dashboards.yml"
CHART_TYPES = ("line", "bar", "area", "table", "number", "heatmap", "funnel")
FILTER_TYPES = ("text", "number", "date")
PUBLISHED_SCHEMA = "analytics"

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)
# Functions whose argument syntax uses FROM without naming a table: extract(epoch from x) ...
_FROM_FUNCTIONS = frozenset({"extract", "substring", "trim", "overlay", "position"})


class SpecError(ConfigError):
    """The dashboards spec is malformed; the message names the dashboard/chart."""


@dataclass(frozen=True)
class Filter:
    """A dashboard filter: a native-SQL parameter `{{id}}` used in `[[ ... ]]` clauses."""

    id: str
    title: str
    type: str = "text"


@dataclass(frozen=True)
class Chart:
    """One chart: a SQL query over `analytics` and how to draw its result."""

    id: str
    title: str
    type: str
    sql: str
    x: str | None = None
    y: list[str] = field(default_factory=list)  # measures; a table's columns
    series: str | None = None
    unit: str | None = None
    definition: str | None = None
    width: int | None = None  # in twelfths of the dashboard width; None = by chart type

    @property
    def parameters(self) -> tuple[str, ...]:
        """The `{{name}}` parameters the SQL uses, in order of first use."""
        return tuple(dict.fromkeys(_PARAM.findall(self.sql)))


@dataclass(frozen=True)
class Dashboard:
    id: str
    title: str
    charts: tuple[Chart, ...]
    description: str = ""
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Spec:
    dashboards: tuple[Dashboard, ...]
    path: Path | None = field(default=None, compare=False)

    def charts(self) -> list[tuple[Dashboard, Chart]]:
        return [(d, c) for d in self.dashboards for c in d.charts]


# ---- SQL helpers -----------------------------------------------------------------------------


def strip_optional_clauses(sql: str) -> str:
    """The SQL with every `[[ ... ]]` optional clause removed (all parameters unset)."""
    return _OPTIONAL.sub("", sql)


def _strip_literals_and_comments(sql: str) -> str:
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return _PARAM.sub("null", sql)


_TOKEN = re.compile(r'"(?:[^"]|"")*"|[A-Za-z_][\w$]*|\(|\)|\.|,|::|[^\sA-Za-z_(),.:]+|:')


def _unquote(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()


_CLAUSE_END = frozenset(
    {
        "where", "group", "order", "limit", "offset", "having", "window", "union", "intersect",
        "except", "join", "inner", "left", "right", "full", "cross", "natural", "on", "using",
        "fetch", "for", "returning", "select", "into", "tablesample",
    }
)  # fmt: skip


def _dotted_name(tokens: list[str], j: int) -> tuple[str, int]:
    """The (possibly schema-qualified) name starting at tokens[j], and the index after it."""
    name = _unquote(tokens[j])
    j += 1
    while j + 1 < len(tokens) and tokens[j] == ".":
        name += "." + _unquote(tokens[j + 1])
        j += 2
    return name, j


def _skip_parens(tokens: list[str], j: int) -> int:
    """Index just after the parenthesised group opening at tokens[j]."""
    depth = 0
    for k in range(j, len(tokens)):
        depth += tokens[k] == "("
        depth -= tokens[k] == ")"
        if depth == 0:
            return k + 1
    return len(tokens)


def _from_items(tokens: list[str], j: int) -> list[str]:
    """Relations named in one FROM/JOIN list starting at tokens[j] (comma-separated items)."""
    names = []
    while j < len(tokens):
        if tokens[j].lower() == "lateral":
            j += 1
        if j >= len(tokens):
            break
        if tokens[j] == "(":
            j = _skip_parens(tokens, j)  # a subquery: its own FROMs are found by the main scan
        elif re.match(r'[A-Za-z_"]', tokens[j]):
            name, j = _dotted_name(tokens, j)
            if j < len(tokens) and tokens[j] == "(":  # a set-returning function, not a relation
                j = _skip_parens(tokens, j)
            else:
                names.append(name)
        # skip an alias and column aliases up to the next item or the end of the list
        while (
            j < len(tokens) and tokens[j] not in (",", ")") and tokens[j].lower() not in _CLAUSE_END
        ):
            j = _skip_parens(tokens, j) if tokens[j] == "(" else j + 1
        if j < len(tokens) and tokens[j] == ",":
            j += 1
            continue
        break
    return names


def table_references(sql: str) -> tuple[set[str], set[str]]:
    """(relations read after FROM/JOIN, CTE names defined) in a query, lower-cased.

    A small tokenizer, not a parser: enough to tell `analytics.x` from `raw_crm.x` or a CTE,
    and to skip FROM inside extract()/substring()/trim().
    """
    tokens = _TOKEN.findall(_strip_literals_and_comments(strip_optional_clauses(sql)))
    reads: set[str] = set()
    ctes: set[str] = set()
    stack: list[str] = []
    prev = ""
    for i, tok in enumerate(tokens):
        low = tok.lower()
        if tok == "(":
            stack.append(prev.lower())
        elif tok == ")":
            if stack:
                stack.pop()
        elif low in ("from", "join") and not (stack and stack[-1] in _FROM_FUNCTIONS):
            reads.update(_from_items(tokens, i + 1))
        elif low == "as" and prev:
            j = i + 1
            while j < len(tokens) and tokens[j].lower() in ("not", "materialized"):
                j += 1
            if j < len(tokens) and tokens[j] == "(":
                ctes.add(_unquote(prev))
        prev = tok
    return reads, ctes


def _item_name(item: list[str]) -> str | None:
    """The output name of one select-list item, as Postgres names it; None if unclear."""
    while len(item) >= 2 and item[-2] == "::":  # a trailing cast keeps the column's name
        item = item[:-2]
    if not item or item[-1] == "*":
        return None
    lowered = [t.lower() for t in item]
    if "as" in lowered:
        j = len(lowered) - 1 - lowered[::-1].index("as")
        return _unquote(item[j + 1]) if j + 1 < len(item) else None
    ident = re.compile(r'"|[A-Za-z_]')
    if all(ident.match(t) or t == "." for t in item) and len(item) % 2 == 1:
        return _unquote(item[-1])  # col or tbl.col
    if len(item) >= 2 and ident.match(item[-1]) and (item[-2] == ")" or ident.match(item[-2])):
        return _unquote(item[-1])  # an alias without AS: count(*) n
    return None


def output_columns(sql: str) -> tuple[str, ...] | None:
    """The column names the query returns, read from its top-level select list.

    None when they cannot be read without running it (e.g. `select *`).
    """
    tokens = _TOKEN.findall(_strip_literals_and_comments(strip_optional_clauses(sql)))
    depth, start = 0, None
    for i, tok in enumerate(tokens):
        depth += tok == "("
        depth -= tok == ")"
        if depth == 0 and tok.lower() == "select":
            start = i + 1
            break
    if start is None:
        return None
    if start < len(tokens) and tokens[start].lower() in ("distinct", "all"):
        start += 1
        if start < len(tokens) and tokens[start].lower() == "on":
            start = _skip_parens(tokens, start + 1)
    items: list[list[str]] = [[]]
    depth = 0
    for tok in tokens[start:]:
        if depth == 0 and tok.lower() in ("from", "where", "group", "order", "limit", "union"):
            break
        depth += tok == "("
        depth -= tok == ")"
        if depth == 0 and tok == ",":
            items.append([])
        else:
            items[-1].append(tok)
    names = [_item_name(item) for item in items]
    if not names or any(n is None for n in names):
        return None
    return tuple(n for n in names if n is not None)


def non_analytics_reads(sql: str) -> list[str]:
    """Relations the SQL reads that are neither `analytics.<table>` nor its own CTEs."""
    reads, ctes = table_references(sql)
    bad = []
    for name in sorted(reads):
        schema, _, _table = name.rpartition(".")
        if schema == PUBLISHED_SCHEMA or (not schema and name in ctes):
            continue
        bad.append(name)
    return bad


# ---- loading -----------------------------------------------------------------------------------


def _where(dashboard: str | None, chart: str | None = None) -> str:
    if dashboard and chart:
        return f"dashboard '{dashboard}', chart '{chart}'"
    if dashboard:
        return f"dashboard '{dashboard}'"
    return "spec"


def _text(raw: dict[str, Any], key: str, where: str, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SpecError(f"{where}: missing '{key}'")
        return None
    if not isinstance(value, str | int | float):
        raise SpecError(f"{where}: '{key}' must be text, got {type(value).__name__}")
    return str(value).strip()


def _slug(raw: dict[str, Any], where: str) -> str:
    value = _text(raw, "id", where)
    assert value is not None
    if not _SLUG.match(value):
        raise SpecError(
            f"{where}: id '{value}' must be a lower-case slug (letters, digits, underscores)"
        )
    return value


def _parse_filter(raw: Any, dash_id: str) -> Filter:
    where = _where(dash_id)
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: each filter must be a mapping with id, title, type")
    fid = _slug(raw, f"{where}, a filter")
    ftype = _text(raw, "type", f"{where}, filter '{fid}'", required=False) or "text"
    if ftype not in FILTER_TYPES:
        raise SpecError(
            f"{where}, filter '{fid}': unknown type '{ftype}' (use one of {', '.join(FILTER_TYPES)})"
        )
    title = _text(raw, "title", f"{where}, filter '{fid}'")
    assert title is not None
    return Filter(id=fid, title=title, type=ftype)


def _columns(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise SpecError(f"{where}: '{key}' must be a column name or a list of column names")


def _parse_chart(raw: Any, dash_id: str) -> Chart:
    if not isinstance(raw, dict):
        raise SpecError(f"{_where(dash_id)}: each chart must be a mapping")
    cid = _slug(raw, f"{_where(dash_id)}, a chart")
    where = _where(dash_id, cid)
    title = _text(raw, "title", where)
    ctype = _text(raw, "type", where)
    sql = _text(raw, "sql", where)
    assert title and ctype and sql
    if ctype not in CHART_TYPES:
        raise SpecError(
            f"{where}: unknown chart type '{ctype}' (use one of {', '.join(CHART_TYPES)})"
        )
    x = _text(raw, "x", where, required=False)
    series = _text(raw, "series", where, required=False)
    y = _columns(raw, "y", where)
    width = raw.get("width")
    if width is not None and (not isinstance(width, int) or not 1 <= width <= 12):
        raise SpecError(f"{where}: 'width' must be a whole number of twelfths, 1 to 12")
    needs_x = ctype in ("line", "bar", "area", "heatmap", "funnel")
    if needs_x and not x:
        raise SpecError(f"{where}: a {ctype} chart needs 'x' (the column on the x axis)")
    if ctype == "table" and not y:
        y = output_columns(sql) or ()
        if not y:
            raise SpecError(
                f"{where}: cannot tell the table's columns from its SQL (e.g. select *): "
                "list them in 'y'"
            )
    if not y:
        raise SpecError(f"{where}: a {ctype} chart needs 'y' (one or more measure columns)")
    if ctype in ("number", "heatmap", "funnel") and len(y) != 1:
        raise SpecError(f"{where}: a {ctype} chart takes exactly one 'y' measure")
    if ctype == "heatmap" and not series:
        raise SpecError(f"{where}: a heatmap needs 'series' (the column for its rows)")
    bad = non_analytics_reads(sql)
    reads, _ = table_references(sql)
    if bad:
        raise SpecError(
            f"{where}: SQL reads {', '.join(bad)}; charts may read only "
            f"'{PUBLISHED_SCHEMA}.<table>' (what cxw_bi_reader can see)"
        )
    if not any(r.startswith(PUBLISHED_SCHEMA + ".") for r in reads):
        raise SpecError(f"{where}: SQL does not read from '{PUBLISHED_SCHEMA}.<table>'")
    return Chart(
        id=cid,
        title=title,
        type=ctype,
        sql=sql.rstrip() + "\n",
        x=x,
        y=list(y),
        series=series,
        unit=_text(raw, "unit", where, required=False),
        definition=_text(raw, "definition", where, required=False),
        width=width,
    )


def _parse_dashboard(raw: Any, index: int) -> Dashboard:
    if not isinstance(raw, dict):
        raise SpecError(f"spec: dashboard #{index + 1} must be a mapping")
    did = _slug(raw, f"spec: dashboard #{index + 1}")
    where = _where(did)
    title = _text(raw, "title", where)
    assert title is not None
    raw_filters = raw.get("filters") or []
    raw_charts = raw.get("charts")
    if not isinstance(raw_filters, list):
        raise SpecError(f"{where}: 'filters' must be a list")
    if not isinstance(raw_charts, list) or not raw_charts:
        raise SpecError(f"{where}: missing 'charts' (a non-empty list)")
    filters = tuple(_parse_filter(f, did) for f in raw_filters)
    _unique([f.id for f in filters], f"{where}: duplicate filter id")
    charts = tuple(_parse_chart(c, did) for c in raw_charts)
    known = {f.id for f in filters}
    for chart in charts:
        unknown = [p for p in chart.parameters if p not in known]
        if unknown:
            raise SpecError(
                f"{_where(did, chart.id)}: SQL uses {{{{{unknown[0]}}}}} but the dashboard "
                f"has no filter with id '{unknown[0]}'"
            )
    return Dashboard(
        id=did,
        title=title,
        description=_text(raw, "description", where, required=False) or "",
        filters=filters,
        charts=charts,
    )


def _unique(ids: list[str], message: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise SpecError(f"{message} '{value}'")
        seen.add(value)


def parse_spec(data: Any, path: Path | None = None) -> Spec:
    """Validate an already-parsed YAML document into a `Spec`."""
    if not isinstance(data, dict) or "dashboards" not in data:
        raise SpecError("spec: missing top-level 'dashboards' list")
    raw = data["dashboards"]
    if not isinstance(raw, list) or not raw:
        raise SpecError("spec: 'dashboards' must be a non-empty list")
    dashboards = tuple(_parse_dashboard(d, i) for i, d in enumerate(raw))
    _unique([d.id for d in dashboards], "spec: duplicate dashboard id")
    _unique([d.title for d in dashboards], "spec: duplicate dashboard title")
    chart_ids = [c.id for d in dashboards for c in d.charts]
    _unique(chart_ids, "spec: duplicate chart id (chart ids are unique across the file)")
    return Spec(dashboards=dashboards, path=path)


def load_spec(path: Path | str | None = None) -> Spec:
    """Load and validate the spec (default: include/dashboards/cx_dashboards.yml)."""
    path = Path(path) if path is not None else DEFAULT_SPEC
    if not path.is_file():
        raise SpecError(f"dashboards spec not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise SpecError(
            f"{path.name}: not valid YAML{at}: {getattr(exc, 'problem', exc)}"
        ) from None
    return parse_spec(data, path)
