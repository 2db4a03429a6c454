"""`cxw report`: the self-contained executive HTML report, read from `analytics` only.

One chart per chart of the dashboard spec (include/dashboards/cx_dashboards.yml), drawn with
plotly; its JavaScript is embedded once, so the file works offline with no CDN. Each chart
shows its unit and the definition of its metric; the header gives the period covered and the
headline figures.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxw.config import Settings

OPTIONAL = re.compile(r"\[\[.*?\]\]", re.S)
PALETTE = ["#1f4e79", "#2e86c1", "#f39c12", "#27ae60", "#c0392b", "#8e44ad", "#16a085", "#7f8c8d"]


def _query(conn, sql: str) -> tuple[list[str], list[tuple]]:
    cur = conn.execute(OPTIONAL.sub("", sql))
    cols = [d.name for d in cur.description]
    return cols, cur.fetchall()


def _num(v: Any) -> Any:
    try:
        from decimal import Decimal

        if isinstance(v, Decimal):
            return float(v)
    except ImportError:  # pragma: no cover
        pass
    return v


def figure(chart, cols: list[str], rows: list[tuple]):
    """A plotly figure for one spec chart."""
    import plotly.graph_objects as go

    data = {c: [_num(r[i]) for r in rows] for i, c in enumerate(cols)}
    ys = chart.y if isinstance(chart.y, list) else [chart.y] if chart.y else []
    fig = go.Figure()
    kind = chart.type
    if kind == "number":
        value = data[ys[0]][0] if rows else None
        fig.add_trace(
            go.Indicator(mode="number", value=value, number={"suffix": f" {chart.unit or ''}"})
        )
    elif kind == "table":
        fig.add_trace(
            go.Table(
                header={"values": cols, "fill_color": "#1f4e79", "font": {"color": "white"}},
                cells={"values": [data[c] for c in cols]},
            )
        )
    elif kind == "heatmap":
        xs = sorted(set(data[chart.x]))
        series = sorted(set(data[chart.series]))
        z = [[None] * len(xs) for _ in series]
        for x, s, v in zip(data[chart.x], data[chart.series], data[ys[0]], strict=True):
            z[series.index(s)][xs.index(x)] = v
        fig.add_trace(go.Heatmap(x=xs, y=[str(s) for s in series], z=z, colorscale="Blues"))
    elif kind == "funnel":
        fig.add_trace(go.Funnel(y=data[chart.x], x=data[ys[0]]))
    else:
        groups = sorted(set(data[chart.series])) if chart.series else [None]
        for i, g in enumerate(groups):
            idx = [k for k in range(len(rows)) if g is None or data[chart.series][k] == g]
            for y in ys:
                name = (
                    f"{g} {y}"
                    if g is not None and len(ys) > 1
                    else (str(g) if g is not None else y)
                )
                xs = [data[chart.x][k] for k in idx]
                vs = [data[y][k] for k in idx]
                color = PALETTE[(i + ys.index(y)) % len(PALETTE)]
                if kind == "bar":
                    fig.add_trace(go.Bar(x=xs, y=vs, name=name, marker_color=color))
                else:
                    fig.add_trace(
                        go.Scatter(
                            x=xs,
                            y=vs,
                            name=name,
                            mode="lines",
                            line={"color": color},
                            fill="tozeroy" if kind == "area" else None,
                        )
                    )
        fig.update_layout(yaxis_title=chart.unit or "", xaxis_title=chart.x)
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        height=320,
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def headline(settings: Settings) -> dict[str, str]:
    """The summary the demo prints: customers, merge rate, NPS, retention, CLV, gate status."""
    from cxw.warehouse import connect

    out: dict[str, str] = {}
    with connect(settings) as conn:

        def one(sql: str) -> Any:
            try:
                with conn.transaction():
                    row = conn.execute(sql).fetchone()
                return row[0] if row else None
            except Exception:
                return None

        customers = one("select count(*) from analytics.dim_customer_360")
        records = one("select count(*) from analytics.bridge_customer_identity")
        out["customers"] = f"{customers:,}" if customers is not None else "n/a"
        if customers and records:
            out["identity merge rate"] = (
                f"{1 - customers / records:.1%} ({records:,} source records -> {customers:,} customers)"
            )
        nps = one(
            "select round(100.0 * (sum(promoters) - sum(detractors)) / nullif(sum(nps_responses), 0), 1) "
            "from analytics.mart_voc_daily"
        )
        out["NPS (all time)"] = f"{nps}" if nps is not None else "n/a"
        retention = one(
            "select round(100 * avg(retention_rate), 1) from analytics.mart_retention_cohorts "
            "where months_since_first_purchase = 3"
        )
        out["3-month retention"] = f"{retention}%" if retention is not None else "n/a"
        clv = one("select round(sum(predicted_clv_12m)::numeric) from analytics.mart_customer_ltv")
        out["predicted CLV, next 12 months"] = f"${clv:,.0f}" if clv is not None else "n/a"
        gate = conn.execute(
            "select status, published_at from cxw_meta.publish_log order by published_at desc limit 1"
        ).fetchone()
        out["quality gate"] = (
            f"{gate[0]} ({gate[1]:%Y-%m-%d %H:%M} UTC)" if gate else "no publish yet"
        )
    return out


def _period(conn) -> str:
    try:
        with conn.transaction():
            row = conn.execute(
                "select min(ordered_date), max(ordered_date) from analytics.fct_orders"
            ).fetchone()
        if row and row[0]:
            return f"{row[0]:%d %b %Y} to {row[1]:%d %b %Y}"
    except Exception:
        pass
    return "n/a"


def write_report(
    settings: Settings, out: Path | None = None, spec_path: Path | None = None
) -> Path:
    """Render the report; every chart's SQL runs as the BI reader role against `analytics`."""
    import plotly.io as pio
    import psycopg

    from cxw.bi.spec import load_spec

    spec = load_spec(spec_path) if spec_path else load_spec()
    out = out or settings.report_dir / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    facts = headline(settings)
    sections: list[str] = []
    first = True
    with psycopg.connect(settings.role_url("cxw_bi_reader").replace("+psycopg", "")) as conn:
        period = _period(conn)
        for dash in spec.dashboards:
            cards = []
            for chart in dash.charts:
                try:
                    with conn.transaction():
                        cols, rows = _query(conn, chart.sql)
                    fig = figure(chart, cols, rows)
                    body = pio.to_html(
                        fig,
                        full_html=False,
                        include_plotlyjs=first,
                        config={"displaylogo": False},
                        div_id=f"chart-{chart.id}",
                    )
                    first = False
                    note = "" if rows else "<p class='empty'>No data for this period.</p>"
                except Exception as exc:  # a broken chart must not hide the others
                    body, note = (
                        "",
                        f"<p class='error'>Could not draw: {html.escape(str(exc).splitlines()[0])}</p>",
                    )
                cards.append(
                    f"<div class='card' data-chart='{chart.id}'><h3>{html.escape(chart.title)}</h3>"
                    f"{body}{note}<p class='def'><b>Definition.</b> {html.escape(chart.definition or '')}"
                    f"{' Unit: ' + html.escape(chart.unit) + '.' if chart.unit else ''}</p></div>"
                )
            sections.append(
                f"<section id='{dash.id}'><h2>{html.escape(dash.title)}</h2>"
                f"<p>{html.escape(dash.description or '')}</p><div class='grid'>{''.join(cards)}</div></section>"
            )
    facts_html = "".join(
        f"<div class='fact'><div class='v'>{html.escape(v)}</div><div class='k'>{html.escape(k)}</div></div>"
        for k, v in facts.items()
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = TEMPLATE.format(
        period=html.escape(period),
        generated=generated,
        facts=facts_html,
        toc="".join(f"<a href='#{d.id}'>{html.escape(d.title)}</a>" for d in spec.dashboards),
        sections="".join(sections),
        facts_json=html.escape(json.dumps(facts)),
    )
    out.write_text(page, encoding="utf-8")
    return out


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>CX executive report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0; color: #1b2631; background: #f4f6f8; }}
header {{ background: #1f4e79; color: white; padding: 24px 32px; }}
header h1 {{ margin: 0 0 4px 0; font-size: 26px; }}
nav {{ padding: 8px 32px; background: white; border-bottom: 1px solid #dde; }}
nav a {{ margin-right: 16px; color: #1f4e79; text-decoration: none; font-size: 14px; }}
.facts {{ display: flex; flex-wrap: wrap; gap: 12px; padding: 16px 32px; }}
.fact {{ background: white; border-radius: 8px; padding: 12px 18px; min-width: 170px; box-shadow: 0 1px 2px #0001; }}
.fact .v {{ font-size: 22px; font-weight: 600; }} .fact .k {{ font-size: 12px; color: #5d6d7e; }}
section {{ padding: 8px 32px 24px; }} section h2 {{ border-bottom: 2px solid #1f4e79; padding-bottom: 4px; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 16px; }}
.card {{ background: white; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px #0001; }}
.card h3 {{ margin: 4px 0 8px; font-size: 16px; }} .def {{ font-size: 12px; color: #5d6d7e; }}
.error {{ color: #c0392b; }} .empty {{ color: #7f8c8d; }}
</style></head><body>
<header><h1>Customer experience: executive report</h1>
<div>Period covered: {period} &middot; generated {generated} from the published <code>analytics</code> schema</div></header>
<nav>{toc}</nav>
<div class="facts" data-facts="{facts_json}">{facts}</div>
{sections}
</body></html>
"""
